//! The `bench` program: tensorgrad's side of the benchmark workloads in DESIGN.md, with the
//! same names as the PyTorch reference (`bench/pytorch/bench_pytorch.py`).
//!
//! `bench` runs every workload, each in a fresh child process so its peak resident memory
//! can be reported on its own, and prints one `name value` line per workload plus a
//! `name_peak_rss_mb value` line. `bench WORKLOAD...` runs only those. Timings are medians,
//! taken the way the PyTorch script takes them (warm-up runs, then the median of repeats).

mod workloads;

use std::process::Command;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, name] = args.as_slice() {
        if flag == "--child" {
            run_child(name);
            return;
        }
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: bench [WORKLOAD...]\nworkloads:");
        for w in workloads::ALL {
            println!("  {}", w.name);
        }
        return;
    }
    let selected: Vec<&workloads::Workload> = if args.is_empty() {
        workloads::ALL.iter().collect()
    } else {
        let find = |a: &String| workloads::ALL.iter().find(|w| w.name == a || w.key == a);
        if let Some(unknown) = args.iter().find(|a| find(a).is_none()) {
            eprintln!("bench: unknown workload {unknown:?}; run `bench --help` for the list");
            std::process::exit(2);
        }
        args.iter().filter_map(find).collect()
    };
    let exe = std::env::current_exe().expect("path of the running bench program");
    for w in selected {
        let out = Command::new(&exe)
            .args(["--child", w.name])
            .output()
            .expect("spawn bench child process");
        if !out.status.success() {
            eprintln!(
                "{} failed: {}",
                w.name,
                String::from_utf8_lossy(&out.stderr)
            );
            std::process::exit(1);
        }
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

/// Runs one workload in this (child) process and reports its results and peak memory.
fn run_child(name: &str) {
    let w = workloads::ALL
        .iter()
        .find(|w| w.name == name)
        .expect("known workload");
    for (key, value) in (w.run)() {
        println!("{key} {value:.6}");
    }
    if let Some(mb) = peak_rss_mb() {
        println!("{}_peak_rss_mb {mb:.1}", w.name);
    }
}

/// Peak resident set size of this process (VmHWM), Linux only.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

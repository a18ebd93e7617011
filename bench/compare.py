#!/usr/bin/env python3
"""Runs tensorgrad's `bench` program and the PyTorch reference alternately, in one go, on this
machine, and prints each workload's ratio tensorgrad / PyTorch with the target from issue #6.

Usage (from the repository root):
    python3 bench/compare.py --python /path/to/python-with-torch [--rounds 3]

The PyTorch interpreter is the one `setup-pytorch.sh` makes (torch 2.x, CPU). Without
--python only tensorgrad's numbers are printed. Each round runs both programs once, the order
alternating between rounds, and the table shows per-workload medians over the rounds.
Only the standard library is used.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Where cargo puts the release binary: $CARGO_TARGET_DIR if set, else ROOT/target.
BENCH = os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"), "release", "bench")

# key -> (target ratio, "le" if tensorgrad/PyTorch must be at most the target, "ge" at least)
TARGETS = {
    "scalar_chain_1000ops_us_per_op": (0.03, "le"),
    "seed_ex2_us": (0.03, "le"),
    "domain_cubic_10000000_ms": (0.3, "le"),
    "elementwise_chain_1e7_ms": (0.7, "le"),
    "matmul_1024_gflops": (1.0, "ge"),
    "matmul_fwdbwd_1024_ms": (1.0, "le"),
    "mlp_step_ms": (0.9, "le"),
    "hessian_rosen100_ms": (0.2, "le"),
    "domain_cubic_10000000_peak_rss_mb": (1.5, "le"),
}


def run_tensorgrad(bench):
    out = subprocess.run([bench], check=True, capture_output=True, text=True).stdout
    return {k: float(v) for k, v in (line.split() for line in out.splitlines() if line.strip())}


def run_pytorch(python):
    script = os.path.join(ROOT, "bench", "pytorch", "bench_pytorch.py")
    res = json.loads(subprocess.run([python, script], check=True, capture_output=True, text=True).stdout)
    extra = os.path.join(ROOT, "bench", "pytorch", "bench_pytorch_extra.py")
    res.update(json.loads(subprocess.run([python, extra], check=True, capture_output=True, text=True).stdout))
    mem_script = os.path.join(ROOT, "bench", "pytorch", "peak_rss.py")
    mem = subprocess.run([python, mem_script, "domain_cubic_10000000"], check=True, capture_output=True, text=True).stdout
    for line in mem.splitlines():
        k, v = line.split()
        res[k] = float(v)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", help="Python interpreter with torch installed")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bench", default=BENCH, help=f"tensorgrad's bench binary (default {BENCH})")
    ap.add_argument("--no-build", action="store_true", help="use --bench as it is, without cargo build")
    args = ap.parse_args()

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "tensorgrad-bench"], check=True, cwd=ROOT)
    ours, theirs = {}, {}
    for r in range(args.rounds):
        order = ["tg", "pt"] if r % 2 == 0 else ["pt", "tg"]
        for who in order:
            if who == "tg":
                for k, v in run_tensorgrad(args.bench).items():
                    ours.setdefault(k, []).append(v)
            elif args.python:
                for k, v in run_pytorch(args.python).items():
                    theirs.setdefault(k, []).append(v)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    med = lambda d: {k: statistics.median(v) for k, v in d.items()}
    ours, theirs = med(ours), med(theirs)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; medians of {args.rounds} rounds")
    print(f"{'workload':40} {'tensorgrad':>12} {'pytorch':>12} {'ratio':>8} {'target':>8}  ok")
    for key in sorted(ours):
        pt = theirs.get(key)
        line = f"{key:40} {ours[key]:12.4f} "
        if pt:
            ratio = ours[key] / pt
            target = TARGETS.get(key)
            ok = "" if target is None else ("yes" if (ratio <= target[0] if target[1] == "le" else ratio >= target[0]) else "NO")
            tgt = "" if target is None else ("<=" if target[1] == "le" else ">=") + f"{target[0]}"
            line += f"{pt:12.4f} {ratio:8.3f} {tgt:>8}  {ok}"
        print(line)
    if "domain_cubic_10000000_import_rss_mb" in theirs and "domain_cubic_10000000_peak_rss_mb" in ours:
        pt_workload = theirs["domain_cubic_10000000_peak_rss_mb"] - theirs["domain_cubic_10000000_import_rss_mb"]
        print(f"domain_cubic_10000000 memory above the PyTorch import baseline: PyTorch {pt_workload:.1f} MB; "
              f"tensorgrad process peak {ours['domain_cubic_10000000_peak_rss_mb']:.1f} MB "
              f"(ratio {ours['domain_cubic_10000000_peak_rss_mb'] / pt_workload:.3f})")


if __name__ == "__main__":
    main()

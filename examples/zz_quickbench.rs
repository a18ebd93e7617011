use std::time::Instant;
use tensorgrad::*;
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}
fn main() {
    let w1 = || {
        let x = tensor!(3.0).set_requires_grad(true);
        let mut y = x.clone();
        for _ in 0..500 {
            y = &y * 1.0001 + 0.5;
        }
        y.backward().unwrap();
        x.grad()
    };
    let mut ts = vec![];
    for _ in 0..50 {
        let t = Instant::now();
        w1();
        ts.push(t.elapsed().as_secs_f64());
    }
    println!(
        "scalar_chain_1000ops_us_per_op {:.4}",
        median(ts) / 1000.0 * 1e6
    );
    let w2 = || {
        let x = tensor!(3.0).set_requires_grad(true);
        let y = 6.0 * x.powi(2) + 2.0 * &x + 4.0;
        y.backward().unwrap();
        x.grad()
    };
    let mut ts = vec![];
    for _ in 0..20 {
        let t = Instant::now();
        for _ in 0..1000 {
            w2();
        }
        ts.push(t.elapsed().as_secs_f64());
    }
    println!("seed_ex2_us {:.4}", median(ts) / 1000.0 * 1e6);
    let w3 = || {
        let x = Tensor::linspace(-10.0, 10.0, 10_000_000).set_requires_grad(true);
        let y = (10.0 * x.powi(3)).sum();
        y.backward().unwrap();
        x.grad()
    };
    let mut ts = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        w3();
        ts.push(t.elapsed().as_secs_f64());
    }
    println!("domain_cubic_10000000_ms {:.3}", median(ts) * 1e3);
    let a = Tensor::randn(&[1024, 1024]);
    let b = Tensor::randn(&[1024, 1024]);
    let mut ts = vec![];
    for _ in 0..7 {
        let t = Instant::now();
        let _ = a.matmul(&b);
        ts.push(t.elapsed().as_secs_f64());
    }
    println!(
        "matmul_1024_gflops {:.1}",
        2.0 * 1024f64.powi(3) / median(ts) / 1e9
    );
}

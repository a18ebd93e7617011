//! Higher-order derivatives: repeated `grad(create_graph = true)`, and Newton's method on the
//! Rosenbrock function with `functional::hessian`.
//!
//! Run with `cargo run --release --example higher_order`.

use std::time::Instant;
use tensorgrad::{autograd, functional, DType, Result, Tensor};

/// f(x) = x⁶ − 2x³ + 1/x, whose derivatives are easy to write down.
fn f(x: &Tensor) -> Tensor {
    x.powi(6) - 2.0 * x.powi(3) + x.reciprocal()
}

/// The closed forms of f, f′, f″, f‴ and f⁗.
fn f_closed(x: f64) -> [f64; 5] {
    [
        x.powi(6) - 2.0 * x.powi(3) + 1.0 / x,
        6.0 * x.powi(5) - 6.0 * x.powi(2) - x.powi(-2),
        30.0 * x.powi(4) - 12.0 * x + 2.0 * x.powi(-3),
        120.0 * x.powi(3) - 12.0 - 6.0 * x.powi(-4),
        360.0 * x.powi(2) + 24.0 * x.powi(-5),
    ]
}

/// The n-dimensional Rosenbrock function Σ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², minimum 0 at (1, …, 1).
fn rosenbrock(x: &Tensor) -> Tensor {
    let n = x.shape()[0];
    let (next, cur) = (x.narrow(0, 1, n - 1), x.narrow(0, 0, n - 1));
    ((&next - cur.powi(2)).powi(2) * 100.0 + (1.0 - &cur).powi(2)).sum()
}

fn main() -> Result<()> {
    // ---- 1. Four derivatives by repeated grad(create_graph = true) ------------------------
    let x0 = 1.5;
    let x = Tensor::scalar(x0).set_requires_grad(true);
    let mut d = f(&x);
    let closed = f_closed(x0);
    println!("f(x) = x^6 - 2x^3 + 1/x at x = {x0}");
    println!(
        "{:>6} {:>22} {:>22} {:>10}",
        "order", "autograd", "closed form", "rel. err"
    );
    for (order, want) in closed.iter().enumerate() {
        if order > 0 {
            // Each gradient is itself a graph, so it can be differentiated again.
            d = autograd::grad(&[&d], &[&x], true)?.remove(0);
        }
        let got = d.item::<f64>();
        println!(
            "{order:>6} {got:>22.15} {want:>22.15} {:>10.1e}",
            ((got - want) / want).abs()
        );
    }

    // ---- 2. Newton's method on Rosenbrock with the exact Hessian ---------------------------
    let n = 10;
    let start: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
        .collect();
    let mut x = Tensor::from_vec(start, &[n])?;
    println!("\nNewton's method on the {n}-dimensional Rosenbrock function");
    println!(
        "{:>4} {:>14} {:>12} {:>10} {:>6}",
        "iter", "f(x)", "|grad|", "damping", "step"
    );
    for iter in 0..100 {
        let (fx, g) = functional::vjp(rosenbrock, &x, &Tensor::scalar(1.0))?;
        let g = g.to_vec::<f64>();
        let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        if gnorm < 1e-9 {
            println!(
                "{iter:>4} {:>14.6e} {gnorm:>12.3e}   converged",
                fx.item::<f64>()
            );
            break;
        }
        let h = functional::hessian(rosenbrock, &x)?.to_vec::<f64>();
        // The Newton direction solves H·d = −g. Far from the minimum H need not be positive
        // definite and d may point uphill: then solve (H + λI)·d = −g with growing λ
        // (Levenberg's damping), which bends d towards −g.
        let mut lambda = 0.0;
        let dir = loop {
            let mut damped = h.clone();
            for i in 0..n {
                damped[i * n + i] += lambda;
            }
            let dir = solve(damped, g.iter().map(|v| -v).collect());
            if dir.iter().zip(&g).map(|(d, g)| d * g).sum::<f64>() < 0.0 || lambda > 1e12 {
                break dir;
            }
            lambda = f64::max(2.0 * lambda, 1e-3);
        };
        // Backtracking line search: halve the step until f decreases enough.
        let fx = fx.item::<f64>();
        let slope: f64 = dir.iter().zip(&g).map(|(d, g)| d * g).sum();
        let xv = x.to_vec::<f64>();
        let mut step = 1.0;
        let next = loop {
            let cand = Tensor::from_vec(
                xv.iter().zip(&dir).map(|(x, d)| x + step * d).collect(),
                &[n],
            )?;
            if rosenbrock(&cand).item::<f64>() <= fx + 1e-4 * step * slope || step < 1e-10 {
                break cand;
            }
            step /= 2.0;
        };
        println!("{iter:>4} {fx:>14.6e} {gnorm:>12.3e} {lambda:>10.1e} {step:>6.3}");
        x = next;
    }
    println!(
        "x = {:?}",
        x.to_vec::<f64>()
            .iter()
            .map(|v| (v * 1e9).round() / 1e9)
            .collect::<Vec<_>>()
    );

    // ---- 3. How long the Hessian of the 100-dimensional Rosenbrock function takes ------------
    let x = Tensor::linspace_with(-1.0, 2.0, 100, DType::F64);
    let mut times: Vec<f64> = (0..50)
        .map(|_| {
            let t = Instant::now();
            let h = functional::hessian(rosenbrock, &x).expect("hessian");
            assert_eq!(h.shape(), &[100, 100]);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "\nhessian of Rosenbrock, n = 100, f64: median {:.3} ms, min {:.3} ms (50 runs)",
        times[25], times[0]
    );
    Ok(())
}

/// Solves `a·x = b` for a dense `n×n` row-major `a` by Gaussian elimination with partial
/// pivoting (the op set has no linear solver yet).
fn solve(mut a: Vec<f64>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))
            .expect("n > 0");
        for k in 0..n {
            a.swap(col * n + k, pivot * n + k);
        }
        b.swap(col, pivot);
        for row in col + 1..n {
            let factor = a[row * n + col] / a[col * n + col];
            for k in col..n {
                a[row * n + k] -= factor * a[col * n + k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row * n + k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row * n + row];
    }
    x
}

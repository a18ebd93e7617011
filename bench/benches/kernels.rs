//! Micro benchmarks of tensorgrad's kernels, with divan: element-wise add, mul and exp,
//! a full sum, a 256×256 matmul, and one scalar op with its backward (per-op overhead).
//!
//! Run with `cargo bench -p tensorgrad-bench --bench kernels` (add `-- add` to filter by name).
//! `cargo test` builds but does not run them.

use divan::{black_box, Bencher};
use tensorgrad::{tensor, Tensor};

fn main() {
    divan::main();
}

/// Element counts: one under the parallel threshold, one well above it.
const SIZES: [usize; 2] = [10_000, 1_000_000];

fn input(n: usize) -> Tensor {
    tensorgrad::manual_seed(0);
    Tensor::randn(&[n])
}

#[divan::bench(args = SIZES)]
fn add(bencher: Bencher, n: usize) {
    let (a, b) = (input(n), input(n).mul_scalar(0.5));
    bencher.bench(|| black_box(&a) + black_box(&b));
}

#[divan::bench(args = SIZES)]
fn mul(bencher: Bencher, n: usize) {
    let (a, b) = (input(n), input(n).mul_scalar(0.5));
    bencher.bench(|| black_box(&a) * black_box(&b));
}

#[divan::bench(args = SIZES)]
fn exp(bencher: Bencher, n: usize) {
    let a = input(n);
    bencher.bench(|| black_box(&a).exp());
}

#[divan::bench(args = SIZES)]
fn sin(bencher: Bencher, n: usize) {
    let a = input(n);
    bencher.bench(|| black_box(&a).sin());
}

#[divan::bench(args = SIZES)]
fn sum(bencher: Bencher, n: usize) {
    let a = input(n);
    bencher.bench(|| black_box(&a).sum());
}

#[divan::bench]
fn matmul_256(bencher: Bencher) {
    tensorgrad::manual_seed(0);
    let (a, b) = (Tensor::randn(&[256, 256]), Tensor::randn(&[256, 256]));
    bencher.bench(|| black_box(&a).matmul(black_box(&b)));
}

/// One recorded scalar multiply and its backward: the per-op overhead of a scalar graph.
#[divan::bench]
fn scalar_mul_backward(bencher: Bencher) {
    bencher.bench(|| {
        let x = tensor!(3.0).set_requires_grad(true);
        let y = black_box(&x) * 2.0;
        y.backward().expect("backward");
        x.grad()
    });
}

/// One scalar multiply under `no_grad`: the forward cost with no graph bookkeeping.
#[divan::bench]
fn scalar_mul_no_grad(bencher: Bencher) {
    let x = tensor!(3.0).set_requires_grad(true);
    bencher.bench(|| tensorgrad::no_grad(|| black_box(&x) * 2.0));
}

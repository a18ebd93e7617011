//! Micro benchmarks of tensorgrad's kernels, with divan: element-wise add, mul, exp, sin and
//! log, a full sum and a leading-dim sum, a 256×256 matmul, three losses forward and backward,
//! and one scalar op with its backward (per-op overhead).
//!
//! Run with `cargo bench -p tensorgrad-bench --bench kernels` (add `-- add` to filter by name).
//! `cargo test` builds but does not run them.

use divan::{black_box, Bencher};
use tensorgrad::nn::functional as F;
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
fn log(bencher: Bencher, n: usize) {
    let a = input(n).abs();
    bencher.bench(|| black_box(&a).log());
}

#[divan::bench(args = SIZES)]
fn sum(bencher: Bencher, n: usize) {
    let a = input(n);
    bencher.bench(|| black_box(&a).sum());
}

/// `sum(0)` of a 1000×1000 matrix: the leading-dim reduction (blocks of rows in parallel).
#[divan::bench]
fn sum_dim0_1000x1000(bencher: Bencher) {
    let a = input(1_000_000).reshape([1000, 1000]);
    bencher.bench(|| black_box(&a).sum_dim(0, false));
}

/// A loss of 1000×1000 f32 inputs (1000 classes for cross-entropy) and its backward.
fn loss_and_backward(bencher: Bencher, loss: impl Fn(&Tensor) -> Tensor + Sync) {
    let x = input(1_000_000)
        .reshape([1000, 1000])
        .set_requires_grad(true);
    bencher.bench(|| {
        loss(black_box(&x)).backward().expect("backward");
        x.zero_grad();
    });
}

#[divan::bench]
fn mse_loss_fwd_bwd(bencher: Bencher) {
    let target = input(1_000_000).reshape([1000, 1000]).mul_scalar(0.5);
    loss_and_backward(bencher, |x| F::mse_loss(x, &target).expect("same shapes"));
}

#[divan::bench]
fn bce_with_logits_fwd_bwd(bencher: Bencher) {
    let target = Tensor::rand(&[1000, 1000]);
    loss_and_backward(bencher, |x| {
        F::binary_cross_entropy_with_logits(x, &target).expect("same shapes")
    });
}

#[divan::bench]
fn cross_entropy_fwd_bwd(bencher: Bencher) {
    let labels: Vec<usize> = (0..1000).map(|i| (i * 7) % 1000).collect();
    loss_and_backward(bencher, |x| {
        F::cross_entropy(x, &labels).expect("valid labels")
    });
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

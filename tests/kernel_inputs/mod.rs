//! Inputs shared by the kernel tests (`parallel_kernels.rs`, `thread_count.rs`): deterministic
//! values, matrices of them, and bit patterns to compare results exactly.

use tensorgrad::{DType, Tensor};

/// Deterministic values of assorted signs and magnitudes.
pub fn values(n: usize, seed: u64) -> Vec<f64> {
    (0..n as u64)
        .map(|i| {
            let h = (i.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)) % 10_007;
            (h as f64 / 10_007.0 - 0.5) * (1.0 + (i % 13) as f64)
        })
        .collect()
}

/// A `rows × cols` matrix of [`values`] in `dtype`.
pub fn matrix_of(rows: usize, cols: usize, dtype: DType, seed: u64) -> Tensor {
    Tensor::from_vec(values(rows * cols, seed), &[rows, cols])
        .unwrap()
        .to_dtype(dtype)
}

/// The bits of every element, so NaN and the sign of zero compare too.
pub fn bits(t: &Tensor) -> Vec<u64> {
    t.to_vec::<f64>().iter().map(|v| v.to_bits()).collect()
}

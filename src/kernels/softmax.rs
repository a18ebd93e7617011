//! Softmax, log-softmax and logsumexp over the rows of a contiguous `[rows, n]` buffer (the
//! last dim of a contiguous tensor), and the softmaxes' backward maps: one pass per row, in place of the composite
//! rules' chain of tensor ops (max, subtract, exp, sum, divide), each of which reads and
//! writes a full-size buffer (2.8–3× PyTorch's time at 2048×1024).
//!
//! Every value is computed with the arithmetic, and every sum in the order, of the composite
//! rules in `ops/softmax.rs` (the same [`max_contiguous`]/[`sum_contiguous`] lane folds
//! `amax` and `sum_dim` use on a contiguous run, the same `exp`), so the results are the same
//! bit for bit; a test checks it.

use super::pool;
use super::reduce::{max_contiguous, sum_contiguous};
use super::{alloc, vmath, PAR_CHUNK, PAR_MIN};
use crate::element::Element;

/// The per-element functions the rows need, computed as the element-wise tensor ops compute
/// them for this type.
pub(crate) trait RowMath: Element {
    /// `dst[i] = exp(src[i] - shift)` (the subtraction rounded first).
    fn exp_shifted(src: &[Self], shift: Self, dst: &mut [Self]);
    /// `dst[i] = exp(src[i])`.
    fn exp_into(src: &[Self], dst: &mut [Self]) {
        Self::exp_shifted(src, Self::ZERO, dst);
    }
    /// The natural logarithm.
    fn ln(self) -> Self;
}

impl RowMath for f32 {
    fn exp_shifted(src: &[f32], shift: f32, dst: &mut [f32]) {
        vmath::map1_into(&vmath::ExpShifted(shift), src, dst);
    }
    fn ln(self) -> f32 {
        let mut out = [0.0];
        vmath::map1_into(&vmath::Log, &[self], &mut out);
        out[0]
    }
}

impl RowMath for f64 {
    fn exp_shifted(src: &[f64], shift: f64, dst: &mut [f64]) {
        for (o, &x) in dst.iter_mut().zip(src) {
            *o = (x - shift).exp();
        }
    }
    fn ln(self) -> f64 {
        f64::ln(self)
    }
}

/// `softmax` (or `log_softmax` when `log`) of each `n`-element row of `src`.
pub(crate) fn softmax_rows<T: RowMath>(src: &[T], n: usize, log: bool) -> Vec<T> {
    let mut out = alloc::output::<T>(src.len());
    for_row_blocks(&mut out, n, |first, out_rows| {
        for (r, out_row) in out_rows.chunks_exact_mut(n).enumerate() {
            let row = &src[(first + r) * n..][..n];
            let shift = stable_shift(row);
            T::exp_shifted(row, shift, out_row);
            // `sum_dim` folds each run into a zero accumulator: `0 + sum`.
            let sum = T::ZERO + sum_contiguous(out_row);
            if log {
                let log_sum = sum.ln();
                for (o, &x) in out_row.iter_mut().zip(row) {
                    *o = (x - shift) - log_sum;
                }
            } else {
                out_row.iter_mut().for_each(|o| *o = *o / sum);
            }
        }
    });
    out
}

/// `log(sum(exp(x)))` of each `n`-element row of `src` (`logsumexp` over the last dim), as
/// the composite `ln(Σ exp(x - shift)) + shift` computes it.
pub(crate) fn logsumexp_rows<T: RowMath>(src: &[T], n: usize) -> Vec<T> {
    let rows = src.len() / n.max(1);
    let mut out = alloc::output::<T>(rows);
    let fill = |first: usize, out: &mut [T]| {
        let mut scratch = vec![T::ZERO; n];
        for (r, o) in out.iter_mut().enumerate() {
            let row = &src[(first + r) * n..][..n];
            let shift = stable_shift(row);
            T::exp_shifted(row, shift, &mut scratch);
            *o = (T::ZERO + sum_contiguous(&scratch)).ln() + shift;
        }
    };
    if src.len() < PAR_MIN || rows < 2 {
        fill(0, &mut out);
    } else {
        let per_task = (PAR_CHUNK / n.max(1)).max(1);
        pool::for_each_chunk_mut(&mut out, per_task, |c, o| fill(c * per_task, o));
    }
    out
}

/// What the composite rules subtract: the row's max, or 0 where the max is ±inf.
fn stable_shift<T: Element>(row: &[T]) -> T {
    let max = max_contiguous(row);
    let inf = T::from_f64(f64::INFINITY);
    if max == inf || max == -inf {
        T::ZERO
    } else {
        max
    }
}

/// The gradient of `softmax` (`y·(g - Σ g·y)` per row) or of `log_softmax` (`g - exp(y)·Σ g`)
/// for the incoming gradient `g` and the saved output `y`, both `[rows, n]` and contiguous.
pub(crate) fn softmax_backward_rows<T: RowMath>(g: &[T], y: &[T], n: usize, log: bool) -> Vec<T> {
    assert_eq!(g.len(), y.len(), "softmax backward: operand lengths differ");
    let mut out = alloc::output::<T>(g.len());
    for_row_blocks(&mut out, n, |first, out_rows| {
        for (r, out_row) in out_rows.chunks_exact_mut(n).enumerate() {
            let g = &g[(first + r) * n..][..n];
            let y = &y[(first + r) * n..][..n];
            if log {
                let sum = T::ZERO + sum_contiguous(g);
                T::exp_into(y, out_row);
                for (o, &g) in out_row.iter_mut().zip(g) {
                    *o = g - *o * sum;
                }
            } else {
                for ((o, &g), &y) in out_row.iter_mut().zip(g).zip(y) {
                    *o = g * y;
                }
                let sum = T::ZERO + sum_contiguous(out_row);
                for ((o, &g), &y) in out_row.iter_mut().zip(g).zip(y) {
                    *o = y * (g - sum);
                }
            }
        }
    });
    out
}

/// Runs `rows(first_row, block)` over blocks of whole `n`-element rows of `out`: in parallel
/// (about [`PAR_CHUNK`] elements a task) for large buffers, else on this thread.
fn for_row_blocks<T: Element>(out: &mut [T], n: usize, rows: impl Fn(usize, &mut [T]) + Sync) {
    if n == 0 || out.is_empty() {
        return;
    }
    if out.len() < PAR_MIN {
        rows(0, out);
        return;
    }
    let per_task = (PAR_CHUNK / n).max(1);
    pool::for_each_chunk_mut(out, per_task * n, |c, block| rows(c * per_task, block));
}

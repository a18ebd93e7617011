//! softmax and log_softmax along a dim: primitives with stable forward passes (the maximum
//! is subtracted first, so large logits do not overflow) and PyTorch's backward formulas.
//! Along the last dim of a contiguous tensor (the usual case) forward and first backward run
//! as one pass per row (`kernels::softmax`), with the same values as the composite rules
//! written here, which run for other layouts and under `create_graph`.

use super::grads;
use crate::autograd::node::{record, rule};
use crate::autograd::saved::SavedTensor;
use crate::error::{OrPanic, Result};
use crate::forward_ad::jvp;
use crate::kernels::softmax::{softmax_backward_rows, softmax_rows};
use crate::layout::normalize_dim;
use crate::no_grad;
use crate::ops::reduce::reduced_mask;
use crate::tensor::{with_dtype, Tensor};

/// The row length when `dim` is the last dim of `t` and `t` is contiguous: the case the
/// fused row kernels take (any other layout runs the composite rule).
fn last_dim_rows(t: &Tensor, dim: isize) -> Option<usize> {
    let d = normalize_dim("softmax", dim, t.shape()).ok()?;
    let n = *t.shape().get(d)?;
    (d + 1 == t.ndim() && t.numel() > 0 && t.layout().contiguous_range().is_some()).then_some(n)
}

/// `softmax`/`log_softmax` along the last dim of a contiguous tensor in one pass per row.
fn fused_forward(t: &Tensor, dim: isize, log: bool) -> Option<Tensor> {
    let n = last_dim_rows(t, dim)?;
    Some(with_dtype!(t.dtype(), T => {
        let v = t.with_slice::<T, _>(|s, l| {
            softmax_rows(&s[l.contiguous_range().expect("checked above")], n, log)
        });
        Tensor::from_elems(v, t.shape())
    }))
}

/// Their backward in one pass per row, for a gradient and saved output that are both
/// contiguous with the output's shape; `None` otherwise (then the composite rule runs).
fn fused_backward(g: &Tensor, y: &Tensor, dim: isize, log: bool) -> Option<Tensor> {
    if g.shape() != y.shape() || g.dtype() != y.dtype() {
        return None;
    }
    let n = last_dim_rows(y, dim)?;
    let gr = g.layout().contiguous_range()?;
    let yr = y.layout().contiguous_range()?;
    Some(with_dtype!(y.dtype(), T => {
        let v = g.with_slice::<T, _>(|gs, _| {
            y.with_slice::<T, _>(|ys, _| softmax_backward_rows(&gs[gr], &ys[yr], n, log))
        });
        Tensor::from_elems(v, y.shape())
    }))
}

impl Tensor {
    /// `exp(x) / sum(exp(x))` along `dim`, like `torch.softmax(t, dim)` (grad_fn
    /// `SoftmaxBackward0`). Stable for any finite input: logits of 1000 give the same result
    /// as logits of 0.
    ///
    /// # Panics
    /// If `dim` is out of range; see [`try_softmax`](Self::try_softmax).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let p = tensor!([[1000.0, 1000.0], [0.0, 1.0]]).softmax(-1);
    /// let e = std::f32::consts::E;
    /// assert_eq!(p.to_vec::<f32>(), vec![0.5, 0.5, 1.0 / (1.0 + e), e / (1.0 + e)]);
    /// ```
    #[track_caller]
    pub fn softmax(&self, dim: isize) -> Tensor {
        self.try_softmax(dim).or_panic()
    }

    /// [`softmax`](Self::softmax) returning an error instead of panicking.
    #[track_caller]
    pub fn try_softmax(&self, dim: isize) -> Result<Tensor> {
        let mask = reduced_mask("softmax", &[dim], self.shape())?;
        // The fused row kernel computes exactly what this composite computes.
        let out = fused_forward(self, dim, false).unwrap_or_else(|| {
            no_grad(|| {
                let e = (self - self.stable_shift(&mask)).exp();
                &e / e.sum_dim([dim], true)
            })
        });
        let plain = out.clone();
        let out = record(out, "SoftmaxBackward0", &[self], |_| {
            let y = SavedTensor::output(&plain);
            rule(move |ctx, g| {
                let y = y.get(ctx)?;
                if !ctx.create_graph {
                    if let Some(d) = fused_backward(g, &y, dim, false) {
                        return Ok(grads![Some(d)]);
                    }
                }
                Ok(grads![Some(&y * (g - (g * &y).sum_dim([dim], true)))])
            })
        });
        Ok(jvp(out, &[self], |t| {
            t[0].as_ref()
                .map(|t| &plain * (t - (t * &plain).sum_dim([dim], true)))
        }))
    }

    /// `x - log(sum(exp(x)))` along `dim`, like `torch.log_softmax(t, dim)` (grad_fn
    /// `LogSoftmaxBackward0`): the log of [`softmax`](Self::softmax), computed without
    /// overflow or `log(0)` for very negative logits.
    ///
    /// # Panics
    /// If `dim` is out of range; see [`try_log_softmax`](Self::try_log_softmax).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let l = tensor!([0.0, -200.0]).log_softmax(0).to_vec::<f32>();
    /// assert_eq!(l, vec![0.0, -200.0]);      // softmax(..).log() would give -inf
    /// ```
    #[track_caller]
    pub fn log_softmax(&self, dim: isize) -> Tensor {
        self.try_log_softmax(dim).or_panic()
    }

    /// [`log_softmax`](Self::log_softmax) returning an error instead of panicking.
    #[track_caller]
    pub fn try_log_softmax(&self, dim: isize) -> Result<Tensor> {
        let mask = reduced_mask("log_softmax", &[dim], self.shape())?;
        let out = fused_forward(self, dim, true).unwrap_or_else(|| {
            no_grad(|| {
                let shifted = self - self.stable_shift(&mask);
                &shifted - shifted.exp().sum_dim([dim], true).log()
            })
        });
        let plain = out.clone();
        let out = record(out, "LogSoftmaxBackward0", &[self], |_| {
            let y = SavedTensor::output(&plain);
            rule(move |ctx, g| {
                let y = y.get(ctx)?;
                if !ctx.create_graph {
                    if let Some(d) = fused_backward(g, &y, dim, true) {
                        return Ok(grads![Some(d)]);
                    }
                }
                Ok(grads![Some(g - y.exp() * g.sum_dim([dim], true))])
            })
        });
        Ok(jvp(out, &[self], |t| {
            t[0].as_ref()
                .map(|t| t - (plain.exp() * t).sum_dim([dim], true))
        }))
    }
}

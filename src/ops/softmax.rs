//! softmax and log_softmax along a dim: primitives with stable forward passes (the maximum
//! is subtracted first, so large logits do not overflow) and PyTorch's backward formulas.

use super::grads;
use crate::autograd::node::{record, rule};
use crate::autograd::saved::SavedTensor;
use crate::error::{OrPanic, Result};
use crate::forward_ad::jvp;
use crate::no_grad;
use crate::ops::reduce::reduced_mask;
use crate::tensor::Tensor;

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
        let out = no_grad(|| {
            let e = (self - self.stable_shift(&mask)).exp();
            &e / e.sum_dim([dim], true)
        });
        let plain = out.clone();
        let out = record(out, "SoftmaxBackward0", &[self], |_| {
            let y = SavedTensor::output(&plain);
            rule(move |ctx, g| {
                let y = y.get(ctx)?;
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
        let out = no_grad(|| {
            let shifted = self - self.stable_shift(&mask);
            &shifted - shifted.exp().sum_dim([dim], true).log()
        });
        let plain = out.clone();
        let out = record(out, "LogSoftmaxBackward0", &[self], |_| {
            let y = SavedTensor::output(&plain);
            rule(move |ctx, g| Ok(grads![Some(g - y.get(ctx)?.exp() * g.sum_dim([dim], true))]))
        });
        Ok(jvp(out, &[self], |t| {
            t[0].as_ref()
                .map(|t| t - (plain.exp() * t).sum_dim([dim], true))
        }))
    }
}

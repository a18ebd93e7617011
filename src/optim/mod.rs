//! Optimizers and learning-rate schedules, like `torch.optim`.
//!
//! Each optimizer follows PyTorch's single-tensor algorithm (`foreach=False`) operation for
//! operation, with PyTorch's defaults, and updates the parameters in place (under
//! `no_grad`), so every handle to a parameter, the model's included, sees the new values.
//! Parameters whose `.grad` is `None` are skipped, as in PyTorch.
//!
//! ```
//! use tensorgrad::optim::{Optimizer, Sgd};
//! use tensorgrad::tensor;
//! let w = tensor!([1.0, -2.0]).set_requires_grad(true);
//! let mut opt = Sgd::new(vec![w.clone()], 0.1).momentum(0.5);
//! for _ in 0..100 {
//!     opt.zero_grad();
//!     w.powi(2).sum().backward()?;     // minimise |w|²
//!     opt.step()?;
//! }
//! assert!(w.to_vec::<f32>().iter().all(|v| v.abs() < 1e-3));
//! # Ok::<(), tensorgrad::Error>(())
//! ```
//!
//! One parameter group per optimizer: its hyperparameters apply to every parameter.
//! Learning-rate schedules ([`StepLR`], [`CosineAnnealingLR`], [`ExponentialLR`]) read and
//! set the rate through [`Optimizer::lr`] / [`Optimizer::set_lr`].

mod adam;
mod fused;
mod scheduler;
mod sgd;

pub use adam::{Adam, AdamW};
pub use scheduler::{CosineAnnealingLR, ExponentialLR, LrScheduler, StepLR};
pub use sgd::Sgd;

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// An optimizer: updates its parameters from their gradients, like `torch.optim.Optimizer`.
pub trait Optimizer {
    /// Performs one update of every parameter that has a gradient, like `optimizer.step()`.
    ///
    /// Errors when a hyperparameter is invalid (PyTorch's constructor checks) or a parameter
    /// cannot be written in place (an expanded view).
    fn step(&mut self) -> Result<()>;

    /// Sets every parameter's gradient to `None`, like `optimizer.zero_grad()` (whose
    /// default is `set_to_none=True`).
    fn zero_grad(&mut self) {
        for p in self.params() {
            p.zero_grad();
        }
    }

    /// The parameters being optimized.
    fn params(&self) -> &[Tensor];

    /// The learning rate, like `optimizer.param_groups[0]["lr"]`.
    fn lr(&self) -> f64;

    /// Sets the learning rate (what schedulers call).
    fn set_lr(&mut self, lr: f64);
}

/// Element types the update rules run in: f32 and f64, with the few float functions the
/// rules need beyond [`Element`].
pub(crate) trait Float: Element {
    fn sqrt(self) -> Self;
    /// `self * a + b` rounded once, as PyTorch's vectorised CPU kernels compute `add` with
    /// `alpha`, `addcmul` and `lerp` (they use FMA instructions).
    fn mul_add(self, a: Self, b: Self) -> Self;
    fn max(self, other: Self) -> Self;
    fn abs(self) -> Self;
}

macro_rules! impl_float {
    ($t:ty) => {
        impl Float for $t {
            #[inline]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }
            #[inline]
            fn max(self, other: Self) -> Self {
                // torch.maximum propagates NaN; f32::max would drop it.
                if self.is_nan() || other.is_nan() {
                    <$t>::NAN
                } else {
                    <$t>::max(self, other)
                }
            }
            #[inline]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
        }
    };
}
impl_float!(f32);
impl_float!(f64);

/// PyTorch's `lerp(start, end, weight)` for a scalar weight, as its CPU kernel computes it:
/// from `start` for small weights and from `end` otherwise, each with one fused multiply-add.
#[inline]
pub(crate) fn lerp<T: Float>(start: T, end: T, weight: T) -> T {
    if weight.abs() < T::from_f64(0.5) {
        weight.mul_add(end - start, start)
    } else {
        (weight - T::ONE).mul_add(end - start, end)
    }
}

/// `Ok` when `ok`, else PyTorch's constructor error for an invalid hyperparameter.
pub(crate) fn check_hyper(op: &'static str, name: &str, value: f64, ok: bool) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(op, format!("invalid {name}: {value}")))
    }
}

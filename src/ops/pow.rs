//! Powers with a number exponent: `powi` (integer) and `powf` (float), PyTorch's `x ** n`.

use super::{grads, map_unary};
use crate::autograd::node::{record, rule};
use crate::autograd::saved::SavedTensor;
use crate::forward_ad::jvp;
use crate::tensor::Tensor;

impl Tensor {
    /// Element-wise `self ** n` for an integer `n` (grad_fn `PowBackward0`, as `x ** 2`).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let x = tensor!(3.0).set_requires_grad(true);
    /// let y = x.powi(2);
    /// y.backward()?;
    /// assert_eq!((y.item::<f32>(), x.grad().unwrap().item::<f32>()), (9.0, 6.0));
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    #[track_caller]
    pub fn powi(&self, n: i32) -> Tensor {
        let out = match n {
            // The exact products PyTorch uses for these exponents.
            2 => map_unary!(self, |x| x * x),
            3 => map_unary!(self, |x| x * x * x),
            _ => map_unary!(self, |x| x.powi(n)),
        };
        let out = record(out, "PowBackward0", &[self], |_| {
            let x = SavedTensor::input(self);
            rule(move |ctx, g| {
                let x = x.get(ctx)?;
                Ok(grads![Some(g * powi_derivative(&x, n))])
            })
        });
        jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| t * powi_derivative(self, n))
        })
    }

    /// Element-wise `self ** e` for a float `e` (grad_fn `PowBackward0`). Negative bases with
    /// a non-integer exponent give NaN, as in PyTorch.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([4.0, 9.0]).powf(0.5).to_vec::<f32>(), vec![2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn powf(&self, e: f64) -> Tensor {
        let out = if e == 2.0 {
            map_unary!(self, |x| x * x)
        } else if e == 3.0 {
            map_unary!(self, |x| x * x * x)
        } else if e == 0.5 {
            map_unary!(self, |x| x.sqrt())
        } else if e == -1.0 {
            map_unary!(self, |x| 1.0 / x)
        } else {
            map_unary!(self, |x| x.powf(e as T))
        };
        let out = record(out, "PowBackward0", &[self], |_| {
            let x = SavedTensor::input(self);
            rule(move |ctx, g| {
                let x = x.get(ctx)?;
                Ok(grads![Some(g * powf_derivative(&x, e))])
            })
        });
        jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| t * powf_derivative(self, e))
        })
    }
}

/// d/dx xⁿ = n·xⁿ⁻¹; n = 0 gives exact zeros (not 0·x⁻¹, which is NaN at 0).
fn powi_derivative(x: &Tensor, n: i32) -> Tensor {
    if n == 0 {
        Tensor::zeros_like(x)
    } else {
        x.powi(n - 1).mul_scalar(n as f64)
    }
}

/// d/dx xᵉ = e·xᵉ⁻¹; e = 0 gives exact zeros.
fn powf_derivative(x: &Tensor, e: f64) -> Tensor {
    if e == 0.0 {
        Tensor::zeros_like(x)
    } else {
        x.powf(e - 1.0).mul_scalar(e)
    }
}

//! Powers: with a number exponent (`powi`, `powf`: PyTorch's `x ** n`), with a tensor
//! exponent (`pow`: `x ** y`), and with a number base (`rpow_scalar`: `2 ** x`).

use super::{grad_if, grads, map_binary, map_unary};
use crate::autograd::node::{record, rule};
use crate::autograd::saved::SavedTensor;
use crate::error::{OrPanic, Result};
use crate::forward_ad::{add_opt, jvp};
use crate::tensor::Tensor;

/// One element of `x.powf(e)`, exactly as the forward kernel of `powf` computes it.
macro_rules! powf_elem {
    ($x:expr, $e:expr) => {
        if $e == 2.0 {
            $x * $x
        } else if $e == 3.0 {
            $x * $x * $x
        } else if $e == 0.5 {
            $x.sqrt()
        } else if $e == -1.0 {
            1.0 / $x
        } else if $e == -0.5 {
            1.0 / $x.sqrt()
        } else {
            $x.powf($e as T)
        }
    };
}

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
                if !ctx.create_graph && n != 0 {
                    // One pass and one buffer instead of three (x^(n-1), ·n, g·): the same
                    // operations in the same order as `powi_derivative`, so the same values.
                    // (The exponent is matched outside the element loop.)
                    let nt = n as f64;
                    let d = match n - 1 {
                        2 => map_binary!("pow_backward", g, &x, |g, x| g * ((x * x) * nt as T)),
                        3 => map_binary!("pow_backward", g, &x, |g, x| g * ((x * x * x) * nt as T)),
                        k => map_binary!("pow_backward", g, &x, |g, x| g * (x.powi(k) * nt as T)),
                    };
                    if let Ok(d) = d {
                        return Ok(grads![Some(d)]);
                    }
                }
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
        } else if e == -0.5 {
            // PyTorch computes this as rsqrt, which is NaN at -inf where pow gives 0.
            map_unary!(self, |x| 1.0 / x.sqrt())
        } else {
            map_unary!(self, |x| x.powf(e as T))
        };
        let out = record(out, "PowBackward0", &[self], |_| {
            let x = SavedTensor::input(self);
            rule(move |ctx, g| {
                let x = x.get(ctx)?;
                if !ctx.create_graph && e != 0.0 {
                    // Fused as in `powi`; the same values as `powf_derivative`.
                    let k = e - 1.0;
                    if let Ok(d) = map_binary!("pow_backward", g, &x, |g, x| g
                        * (powf_elem!(x, k) * e as T))
                    {
                        return Ok(grads![Some(d)]);
                    }
                }
                Ok(grads![Some(g * powf_derivative(&x, e))])
            })
        });
        jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| t * powf_derivative(self, e))
        })
    }
}

impl Tensor {
    /// Element-wise `self ** exponent` with broadcasting, like `torch.pow(a, b)` (grad_fn
    /// `PowBackward1`). Gradients follow PyTorch at the singular points: the base gets 0
    /// where the exponent is 0, and the exponent gets 0 where the base is 0 and the exponent
    /// is non-negative (instead of `0 · log 0 = NaN`).
    ///
    /// # Panics
    /// If the shapes do not broadcast or the dtypes differ; see [`try_pow`](Self::try_pow).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let x = tensor!([2.0, 3.0]);
    /// let e = tensor!([[2.0], [0.5]]);
    /// assert_eq!(x.pow(&e).to_vec::<f32>(), vec![4.0, 9.0, 2f32.sqrt(), 3f32.sqrt()]);
    /// ```
    #[track_caller]
    pub fn pow(&self, exponent: &Tensor) -> Tensor {
        self.try_pow(exponent).or_panic()
    }

    /// [`pow`](Self::pow) returning an error instead of panicking.
    #[track_caller]
    pub fn try_pow(&self, exponent: &Tensor) -> Result<Tensor> {
        let out = map_binary!("pow", self, exponent, |x, y| x.powf(y))?;
        let (sa, sb) = (self.shape().to_vec(), exponent.shape().to_vec());
        let plain = out.clone();
        let out = record(out, "PowBackward1", &[self, exponent], |needs| {
            let a = SavedTensor::input(self);
            let b = SavedTensor::input(exponent);
            let y = needs[1].then(|| SavedTensor::output(&plain));
            rule(move |ctx, g| {
                let (a, b) = (a.get(ctx)?, b.get(ctx)?);
                Ok(grads![
                    grad_if(ctx.needs(0), || Ok(
                        (g * pow_base_derivative(&a, &b)).sum_to_shape(&sa)
                    ))?,
                    grad_if(ctx.needs(1), || Ok((g * pow_exponent_derivative(
                        &a,
                        &b,
                        &y.as_ref().expect("saved").get(ctx)?
                    ))
                    .sum_to_shape(&sb)))?,
                ])
            })
        });
        Ok(jvp(out, &[self, exponent], |t| {
            add_opt(
                t[0].as_ref()
                    .map(|ta| ta * pow_base_derivative(self, exponent)),
                t[1].as_ref()
                    .map(|tb| tb * pow_exponent_derivative(self, exponent, &plain)),
            )
        }))
    }

    /// Element-wise `base ** self` for a number `base`, like `2 ** x` or `torch.pow(2, x)`
    /// (grad_fn `PowBackward2`). With `base = 0` the gradient is 0 where `x >= 0`, as in
    /// PyTorch.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let x = tensor!([0.0, 3.0]).set_requires_grad(true);
    /// let y = x.rpow_scalar(2.0);
    /// assert_eq!(y.to_vec::<f32>(), vec![1.0, 8.0]);
    /// y.sum().backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2f32.ln(), 8.0 * 2f32.ln()]);
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    #[track_caller]
    pub fn rpow_scalar(&self, base: f64) -> Tensor {
        let out = map_unary!(self, |x| (base as T).powf(x));
        let plain = out.clone();
        let base_t = Tensor::full_with(&[], base, self.dtype());
        let out = record(out, "PowBackward2", &[self], |_| {
            let (x, y) = (SavedTensor::input(self), SavedTensor::output(&plain));
            let base_t = base_t.clone();
            rule(move |ctx, g| {
                Ok(grads![Some(
                    g * pow_exponent_derivative(&base_t, &x.get(ctx)?, &y.get(ctx)?)
                )])
            })
        });
        jvp(out, &[self], |t| {
            t[0].as_ref()
                .map(|t| t * pow_exponent_derivative(&base_t, self, &plain))
        })
    }
}

/// ∂(aᵇ)/∂a = b·aᵇ⁻¹, and 0 where b = 0 (so `0 ** 0` has gradient 0, not NaN).
fn pow_base_derivative(a: &Tensor, b: &Tensor) -> Tensor {
    let d = b * a.pow(&b.sub_scalar(1.0));
    b.eq_scalar(0.0)
        .where_cond(&Tensor::zeros_dtype(&[], d.dtype()), &d)
}

/// ∂(aᵇ)/∂b = aᵇ·ln a (with `y = aᵇ`), and 0 where a = 0 and b >= 0.
fn pow_exponent_derivative(a: &Tensor, b: &Tensor, y: &Tensor) -> Tensor {
    let d = y * a.log();
    (a.eq_scalar(0.0) * b.ge_scalar(0.0)).where_cond(&Tensor::zeros_dtype(&[], d.dtype()), &d)
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

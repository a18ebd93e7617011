//! Arithmetic: add, sub, mul, div between tensors (broadcasting) and with scalars; neg;
//! reciprocal.

use super::{grad_if, grads, map_binary, map_unary};
use crate::autograd::node::{record, rule, Ctx};
use crate::autograd::saved::SavedTensor;
use crate::error::{OrPanic, Result};
use crate::forward_ad::{add_opt, jvp};
use crate::layout::Layout;
use crate::tensor::Tensor;

/// `f(g)` for an element-wise backward rule `f` of one gradient. When no graph is recorded
/// and `g` is one value broadcast to its shape (stride 0 everywhere: the gradient of a sum
/// or mean), `f` runs on that one value and the result is broadcast the same way: the same
/// values without materialising a full-size buffer (for `(10 * x³).sum()` on 10⁷ elements
/// that is one 40 MB buffer and pass less).
fn scalar_grad(ctx: &Ctx<'_>, g: &Tensor, f: impl FnOnce(&Tensor) -> Tensor) -> Tensor {
    if !ctx.create_graph {
        if let Some(one) = g.broadcast_value() {
            let r = f(&one);
            return r.view_with(Layout {
                shape: g.layout().shape.clone(),
                strides: smallvec::smallvec![0; g.dim()],
                offset: r.layout().offset,
            });
        }
    }
    f(g)
}

impl Tensor {
    /// When every stride is 0 and there is more than one element (one value broadcast to
    /// the whole shape), that value as a 0-d view.
    pub(crate) fn broadcast_value(&self) -> Option<Tensor> {
        let l = self.layout();
        if self.numel() <= 1 || l.strides.iter().any(|&s| s != 0) {
            return None;
        }
        Some(self.view_with(Layout {
            shape: Default::default(),
            strides: Default::default(),
            offset: l.offset,
        }))
    }

    /// Element-wise `self + other` with broadcasting, like `torch.add`; an error names both
    /// shapes when they do not broadcast.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let a = tensor!([[1.0], [2.0]]);           // [2, 1]
    /// let b = tensor!([10.0, 20.0, 30.0]);       // [3]
    /// assert_eq!(a.try_add(&b)?.shape(), &[2, 3]);
    /// assert!(tensor!([1.0, 2.0]).try_add(&b).is_err());
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    #[track_caller]
    pub fn try_add(&self, other: &Tensor) -> Result<Tensor> {
        let out = map_binary!("add", self, other, |x, y| x + y)?;
        let (sa, sb) = (self.shape().to_vec(), other.shape().to_vec());
        let out = record(out, "AddBackward0", &[self, other], |_| {
            rule(move |ctx, g| {
                Ok(grads![
                    grad_if(ctx.needs(0), || Ok(g.sum_to_shape(&sa)))?,
                    grad_if(ctx.needs(1), || Ok(g.sum_to_shape(&sb)))?
                ])
            })
        });
        Ok(jvp(out, &[self, other], |t| {
            add_opt(t[0].clone(), t[1].clone())
        }))
    }

    /// Element-wise `self - other` with broadcasting.
    #[track_caller]
    pub fn try_sub(&self, other: &Tensor) -> Result<Tensor> {
        let out = map_binary!("sub", self, other, |x, y| x - y)?;
        let (sa, sb) = (self.shape().to_vec(), other.shape().to_vec());
        let out = record(out, "SubBackward0", &[self, other], |_| {
            rule(move |ctx, g| {
                Ok(grads![
                    grad_if(ctx.needs(0), || Ok(g.sum_to_shape(&sa)))?,
                    grad_if(ctx.needs(1), || Ok(g.neg().sum_to_shape(&sb)))?
                ])
            })
        });
        Ok(jvp(out, &[self, other], |t| {
            add_opt(t[0].clone(), t[1].as_ref().map(Tensor::neg))
        }))
    }

    /// Element-wise `self * other` with broadcasting.
    #[track_caller]
    pub fn try_mul(&self, other: &Tensor) -> Result<Tensor> {
        let out = map_binary!("mul", self, other, |x, y| x * y)?;
        let (sa, sb) = (self.shape().to_vec(), other.shape().to_vec());
        let out = record(out, "MulBackward0", &[self, other], |needs| {
            let a = needs[1].then(|| SavedTensor::input(self));
            let b = needs[0].then(|| SavedTensor::input(other));
            rule(move |ctx, g| {
                Ok(grads![
                    grad_if(ctx.needs(0), || Ok((g * b
                        .as_ref()
                        .expect("saved")
                        .get(ctx)?)
                    .sum_to_shape(&sa)))?,
                    grad_if(ctx.needs(1), || Ok((g * a
                        .as_ref()
                        .expect("saved")
                        .get(ctx)?)
                    .sum_to_shape(&sb)))?,
                ])
            })
        });
        Ok(jvp(out, &[self, other], |t| {
            add_opt(
                t[0].as_ref().map(|ta| ta * other),
                t[1].as_ref().map(|tb| self * tb),
            )
        }))
    }

    /// Element-wise `self / other` with broadcasting (IEEE: `x / 0` is ±inf or NaN).
    #[track_caller]
    pub fn try_div(&self, other: &Tensor) -> Result<Tensor> {
        let out = map_binary!("div", self, other, |x, y| x / y)?;
        let (sa, sb) = (self.shape().to_vec(), other.shape().to_vec());
        let out = record(out, "DivBackward0", &[self, other], |needs| {
            let a = needs[1].then(|| SavedTensor::input(self));
            let b = SavedTensor::input(other);
            rule(move |ctx, g| {
                let b = b.get(ctx)?;
                Ok(grads![
                    grad_if(ctx.needs(0), || Ok((g / &b).sum_to_shape(&sa)))?,
                    grad_if(ctx.needs(1), || {
                        let a = a.as_ref().expect("saved").get(ctx)?;
                        Ok((-(g * &a) / (&b * &b)).sum_to_shape(&sb))
                    })?,
                ])
            })
        });
        Ok(jvp(out, &[self, other], |t| {
            add_opt(
                t[0].as_ref().map(|ta| ta / other),
                t[1].as_ref().map(|tb| -(self * tb) / (other * other)),
            )
        }))
    }

    /// `self + other` with broadcasting.
    ///
    /// # Panics
    /// If the shapes do not broadcast or the dtypes differ; [`try_add`](Self::try_add) returns
    /// the error instead. The same holds for every operator (`+ - * /`) between tensors.
    #[track_caller]
    pub fn add(&self, other: &Tensor) -> Tensor {
        self.try_add(other).or_panic()
    }

    /// `self - other` with broadcasting.
    ///
    /// # Panics
    /// As [`add`](Self::add); see [`try_sub`](Self::try_sub).
    #[track_caller]
    pub fn sub(&self, other: &Tensor) -> Tensor {
        self.try_sub(other).or_panic()
    }

    /// `self * other` with broadcasting.
    ///
    /// # Panics
    /// As [`add`](Self::add); see [`try_mul`](Self::try_mul).
    #[track_caller]
    pub fn mul(&self, other: &Tensor) -> Tensor {
        self.try_mul(other).or_panic()
    }

    /// `self / other` with broadcasting.
    ///
    /// # Panics
    /// As [`add`](Self::add); see [`try_div`](Self::try_div).
    #[track_caller]
    pub fn div(&self, other: &Tensor) -> Tensor {
        self.try_div(other).or_panic()
    }

    /// `self + s` for a number `s` (the `AddBackward0` of `x + 2`).
    #[track_caller]
    pub fn add_scalar(&self, s: f64) -> Tensor {
        let out = map_unary!(self, |x| x + s as T);
        let out = record(out, "AddBackward0", &[self], |_| {
            rule(|_, g| Ok(grads![Some(g.clone())]))
        });
        jvp(out, &[self], |t| t[0].clone())
    }

    /// `self - s` for a number `s`.
    #[track_caller]
    pub fn sub_scalar(&self, s: f64) -> Tensor {
        let out = map_unary!(self, |x| x - s as T);
        let out = record(out, "SubBackward0", &[self], |_| {
            rule(|_, g| Ok(grads![Some(g.clone())]))
        });
        jvp(out, &[self], |t| t[0].clone())
    }

    /// `s - self` for a number `s` (PyTorch's `RsubBackward1`, as in `2 - x`).
    #[track_caller]
    pub fn rsub_scalar(&self, s: f64) -> Tensor {
        let out = map_unary!(self, |x| s as T - x);
        let out = record(out, "RsubBackward1", &[self], |_| {
            rule(|ctx, g| Ok(grads![Some(scalar_grad(ctx, g, Tensor::neg))]))
        });
        jvp(out, &[self], |t| t[0].as_ref().map(Tensor::neg))
    }

    /// `self * s` for a number `s`.
    #[track_caller]
    pub fn mul_scalar(&self, s: f64) -> Tensor {
        let out = map_unary!(self, |x| x * s as T);
        let out = record(out, "MulBackward0", &[self], |_| {
            rule(move |ctx, g| Ok(grads![Some(scalar_grad(ctx, g, |g| g.mul_scalar(s)))]))
        });
        jvp(out, &[self], |t| t[0].as_ref().map(|t| t.mul_scalar(s)))
    }

    /// `self / s` for a number `s`.
    #[track_caller]
    pub fn div_scalar(&self, s: f64) -> Tensor {
        let out = map_unary!(self, |x| x / s as T);
        let out = record(out, "DivBackward0", &[self], |_| {
            rule(move |ctx, g| Ok(grads![Some(scalar_grad(ctx, g, |g| g.div_scalar(s)))]))
        });
        jvp(out, &[self], |t| t[0].as_ref().map(|t| t.div_scalar(s)))
    }

    /// `s / self` for a number `s`; like PyTorch, computed as `self.reciprocal() * s`.
    #[track_caller]
    pub fn rdiv_scalar(&self, s: f64) -> Tensor {
        self.reciprocal().mul_scalar(s)
    }

    /// Element-wise `-self`, like `torch.neg`.
    #[track_caller]
    pub fn neg(&self) -> Tensor {
        let out = map_unary!(self, |x| -x);
        let out = record(out, "NegBackward0", &[self], |_| {
            rule(|ctx, g| Ok(grads![Some(scalar_grad(ctx, g, Tensor::neg))]))
        });
        jvp(out, &[self], |t| t[0].as_ref().map(Tensor::neg))
    }

    /// Element-wise `1 / self`, like `torch.reciprocal`.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([2.0, 4.0]).reciprocal().to_vec::<f32>(), vec![0.5, 0.25]);
    /// ```
    #[track_caller]
    pub fn reciprocal(&self) -> Tensor {
        let out = map_unary!(self, |x| 1.0 / x);
        let out = record(out.clone(), "ReciprocalBackward0", &[self], |_| {
            let out = SavedTensor::output(&out);
            rule(move |ctx, g| {
                let r = out.get(ctx)?;
                Ok(grads![Some(-(g * &r * &r))])
            })
        });
        jvp(out.clone(), &[self], |t| {
            t[0].as_ref().map(|t| -(t * &out * &out))
        })
    }
}

//! Choosing between values: `where_cond` (PyTorch's `torch.where(cond, a, b)`), `maximum`,
//! `minimum`, and `clamp`. Their gradients flow to whichever input was chosen, with PyTorch's
//! conventions at ties and boundaries.

use super::{check_same_dtype, grad_if, grads, map_binary, map_unary};
use crate::autograd::node::{record, rule};
use crate::autograd::saved::SavedTensor;
use crate::error::{OrPanic, Result};
use crate::forward_ad::{add_opt, jvp};
use crate::kernels::elementwise::ternary;
use crate::layout::try_broadcast;
use crate::tensor::{with_dtype, Tensor};

impl Tensor {
    /// Picks `a` where this condition mask is non-zero and `b` elsewhere, all three
    /// broadcasting together: PyTorch's `torch.where(cond, a, b)` (grad_fn `WhereBackward0`).
    /// Named `where_cond` because `where` is a Rust keyword; call it as
    /// `Tensor::where_cond(&cond, &a, &b)` or `cond.where_cond(&a, &b)`.
    ///
    /// The condition is usually a mask from a comparison ([`gt`](Self::gt), ...); any tensor
    /// works (non-zero, including NaN, counts as true, as in a cast to bool) and it never
    /// receives a gradient. `a` and `b` must share a dtype; the result has it.
    ///
    /// # Panics
    /// If the shapes do not broadcast or `a` and `b` have different dtypes; see
    /// [`try_where_cond`](Self::try_where_cond).
    ///
    /// ```
    /// use tensorgrad::{tensor, Tensor};
    /// let x = tensor!([-2.0, 0.5, 3.0]).set_requires_grad(true);
    /// let y = Tensor::where_cond(&x.gt_scalar(0.0), &x, &(&x * 0.1));   // leaky relu
    /// assert_eq!(y.to_vec::<f32>(), vec![-0.2, 0.5, 3.0]);
    /// y.sum().backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.1, 1.0, 1.0]);
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    #[track_caller]
    pub fn where_cond(&self, a: &Tensor, b: &Tensor) -> Tensor {
        self.try_where_cond(a, b).or_panic()
    }

    /// [`where_cond`](Self::where_cond) returning an error instead of panicking.
    #[track_caller]
    pub fn try_where_cond(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        const OP: &str = "where_cond";
        check_same_dtype(OP, a, b)?;
        let values = try_broadcast(OP, a.shape(), b.shape())?;
        let shape = try_broadcast(OP, self.shape(), &values)?;
        // The condition is data, not an input: cut it from the graph before converting.
        let cond = self.detach().to_dtype(a.dtype());
        let out = with_dtype!(a.dtype(), T => {
            let layout = |t: &Tensor| t.layout().broadcast_to(&shape).expect("broadcast shape is valid");
            let v = cond.with_slice::<T, _>(|c, _| a.with_slice::<T, _>(|x, _| b.with_slice::<T, _>(|y, _| {
                ternary([(c, &layout(&cond)), (x, &layout(a)), (y, &layout(b))], &shape, |c, x, y| if c != 0.0 { x } else { y })
            })));
            Tensor::from_elems(v, &shape)
        });
        let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
        let out = record(out, "WhereBackward0", &[a, b], |_| {
            let c = SavedTensor::input(&cond);
            rule(move |ctx, g| {
                let (c, zero) = (c.get(ctx)?, Tensor::zeros_dtype(&[], g.dtype()));
                Ok(grads![
                    grad_if(ctx.needs(0), || Ok(c
                        .try_where_cond(g, &zero)?
                        .sum_to_shape(&sa)))?,
                    grad_if(ctx.needs(1), || Ok(c
                        .try_where_cond(&zero, g)?
                        .sum_to_shape(&sb)))?,
                ])
            })
        });
        Ok(jvp(out, &[a, b], |t| {
            let zero = || Tensor::zeros_dtype(&[], a.dtype());
            let (ta, tb) = (
                t[0].clone().unwrap_or_else(zero),
                t[1].clone().unwrap_or_else(zero),
            );
            Some(cond.where_cond(&ta, &tb))
        }))
    }

    /// Element-wise larger of `self` and `other` with broadcasting, like `torch.maximum`
    /// (grad_fn `MaximumBackward0`). NaN wins. At ties the gradient is split equally between
    /// the two inputs, as in PyTorch.
    ///
    /// # Panics
    /// If the shapes do not broadcast or the dtypes differ; see [`try_maximum`](Self::try_maximum).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let a = tensor!([1.0, 5.0, 3.0]).set_requires_grad(true);
    /// let b = tensor!([4.0, 2.0, 3.0]).set_requires_grad(true);
    /// let m = a.maximum(&b);
    /// assert_eq!(m.to_vec::<f32>(), vec![4.0, 5.0, 3.0]);
    /// m.sum().backward()?;
    /// assert_eq!(a.grad().unwrap().to_vec::<f32>(), vec![0.0, 1.0, 0.5]);
    /// assert_eq!(b.grad().unwrap().to_vec::<f32>(), vec![1.0, 0.0, 0.5]);
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    #[track_caller]
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        self.try_maximum(other).or_panic()
    }

    /// [`maximum`](Self::maximum) returning an error instead of panicking.
    #[track_caller]
    pub fn try_maximum(&self, other: &Tensor) -> Result<Tensor> {
        let out = map_binary!("maximum", self, other, |x, y| if x.is_nan() || x > y {
            x
        } else {
            y
        })?;
        Ok(self.extremum_grad(other, out, "MaximumBackward0", true))
    }

    /// Element-wise smaller of `self` and `other` with broadcasting, like `torch.minimum`
    /// (grad_fn `MinimumBackward0`). NaN wins; ties split the gradient equally.
    ///
    /// # Panics
    /// If the shapes do not broadcast or the dtypes differ; see [`try_minimum`](Self::try_minimum).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([1.0, 5.0]).minimum(&tensor!(2.0)).to_vec::<f32>(), vec![1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn minimum(&self, other: &Tensor) -> Tensor {
        self.try_minimum(other).or_panic()
    }

    /// [`minimum`](Self::minimum) returning an error instead of panicking.
    #[track_caller]
    pub fn try_minimum(&self, other: &Tensor) -> Result<Tensor> {
        let out = map_binary!("minimum", self, other, |x, y| if x.is_nan() || x < y {
            x
        } else {
            y
        })?;
        Ok(self.extremum_grad(other, out, "MinimumBackward0", false))
    }

    /// Records maximum (`is_max`) or minimum. PyTorch's rule: an input gets the gradient
    /// unless it lost, and half of it at a tie; so with a NaN both inputs get all of it.
    #[track_caller]
    fn extremum_grad(
        &self,
        other: &Tensor,
        out: Tensor,
        name: &'static str,
        is_max: bool,
    ) -> Tensor {
        // The share of the gradient each input gets; masks, so constant in the graph.
        let shares = move |a: &Tensor, b: &Tensor| {
            let half_tie = a.eq(b).mul_scalar(0.5);
            let (a_lost, b_lost) = if is_max {
                (a.lt(b), a.gt(b))
            } else {
                (a.gt(b), a.lt(b))
            };
            (
                (a_lost + &half_tie).rsub_scalar(1.0),
                (b_lost + &half_tie).rsub_scalar(1.0),
            )
        };
        let (sa, sb) = (self.shape().to_vec(), other.shape().to_vec());
        let out = record(out, name, &[self, other], |_| {
            let (a, b) = (SavedTensor::input(self), SavedTensor::input(other));
            rule(move |ctx, g| {
                let (wa, wb) = shares(&a.get(ctx)?, &b.get(ctx)?);
                Ok(grads![
                    grad_if(ctx.needs(0), || Ok((g * wa).sum_to_shape(&sa)))?,
                    grad_if(ctx.needs(1), || Ok((g * wb).sum_to_shape(&sb)))?
                ])
            })
        });
        jvp(out, &[self, other], |t| {
            let (wa, wb) = shares(self, other);
            add_opt(
                t[0].as_ref().map(|ta| ta * wa),
                t[1].as_ref().map(|tb| tb * wb),
            )
        })
    }

    /// Limits every element to `[min, max]`, like `torch.clamp(t, min, max)` (grad_fn
    /// `ClampBackward1`). NaN stays NaN; if `min > max` every element becomes `max`, as in
    /// PyTorch. The gradient is 1 strictly inside `(min, max)` and 0 elsewhere, the
    /// boundaries included, as in PyTorch 2. Pass `f64::INFINITY` / `f64::NEG_INFINITY` for a
    /// one-sided clamp, or use [`clamp_min`](Self::clamp_min) / [`clamp_max`](Self::clamp_max).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let x = tensor!([-2.0, 0.5, 1.0, 3.0]).set_requires_grad(true);
    /// let y = x.clamp(-1.0, 1.0);
    /// assert_eq!(y.to_vec::<f32>(), vec![-1.0, 0.5, 1.0, 1.0]);
    /// y.sum().backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.0, 1.0, 0.0, 0.0]);
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    #[track_caller]
    pub fn clamp(&self, min: f64, max: f64) -> Tensor {
        self.clamp_op(min, max, "ClampBackward1")
    }

    /// Element-wise `max(x, min)`, like `torch.clamp_min` (grad_fn `ClampMinBackward0`;
    /// gradient 1 where `x > min`).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([-2.0, 3.0]).clamp_min(0.0).to_vec::<f32>(), vec![0.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn clamp_min(&self, min: f64) -> Tensor {
        self.clamp_op(min, f64::INFINITY, "ClampMinBackward0")
    }

    /// Element-wise `min(x, max)`, like `torch.clamp_max` (grad_fn `ClampMaxBackward0`;
    /// gradient 1 where `x < max`).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([-2.0, 3.0]).clamp_max(0.0).to_vec::<f32>(), vec![-2.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn clamp_max(&self, max: f64) -> Tensor {
        self.clamp_op(f64::NEG_INFINITY, max, "ClampMaxBackward0")
    }

    #[track_caller]
    fn clamp_op(&self, min: f64, max: f64, name: &'static str) -> Tensor {
        // Comparisons, not f32::max/min: those would turn NaN into the bound.
        let out = map_unary!(self, |x| {
            let y = if x < min as T { min as T } else { x };
            if y > max as T {
                max as T
            } else {
                y
            }
        });
        // Where the output follows the input. An infinite bound checks nothing, so an
        // infinite input passes a one-sided clamp.
        let pass = move |x: &Tensor| match (min == f64::NEG_INFINITY, max == f64::INFINITY) {
            (true, true) => Tensor::ones_like(x),
            (false, true) => x.gt_scalar(min),
            (true, false) => x.lt_scalar(max),
            (false, false) => x.gt_scalar(min) * x.lt_scalar(max),
        };
        let out = record(out, name, &[self], |_| {
            let x = SavedTensor::input(self);
            rule(move |ctx, g| Ok(grads![Some(g * pass(&x.get(ctx)?))]))
        });
        jvp(out, &[self], |t| t[0].as_ref().map(|t| t * pass(self)))
    }
}

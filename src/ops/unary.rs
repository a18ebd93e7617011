//! Element-wise functions of one tensor: exp, log, log1p, sqrt, sin, cos, tan, tanh, sigmoid,
//! relu, gelu, erf, erfc, abs, sign. (neg and reciprocal live with arithmetic, powers in `pow`.)
//!
//! Each is a primitive with PyTorch's grad_fn name. All share one rule shape: the gradient
//! (and the tangent) is the incoming tensor times f'(x), where f'(x) is computed from the
//! saved input or, where cheaper and as PyTorch does, from the saved output.

use super::{grads, map_binary, map_unary};
use crate::autograd::node::{record, rule};
use crate::autograd::saved::SavedTensor;
use crate::forward_ad::jvp;
use crate::kernels::elementwise;
use crate::kernels::vmath::{self, Func1, Func2};
use crate::tensor::Tensor;
use crate::DType;
use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};

/// Which tensor the derivative is computed from.
#[derive(Clone, Copy)]
enum SavedFrom {
    Input,
    Output,
}

/// `1 / sqrt(2π)`, the standard normal density at 0.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// Φ(x), the standard normal CDF, as `erfc(-x/√2)/2` (accurate in both tails).
fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// A backward map fused into one pass, used when the gradient records no graph; `None`
/// where it does not apply (then the composite rule runs). It must give the same values as
/// the composite rule, up to rounding.
type FusedGrad = fn(&Tensor, &Tensor) -> Option<Tensor>;

/// `f(x)` element-wise with the vectorised f32 kernel (any layout: a non-contiguous input is
/// made contiguous first, so results never depend on the layout), or `f64_fn` for f64.
fn map_vector<F: Func1>(t: &Tensor, f: F, f64_fn: fn(f64) -> f64) -> Tensor {
    match t.dtype() {
        DType::F32 => {
            let v = t.with_slice::<f32, _>(|s, l| match l.contiguous_range() {
                Some(r) => vmath::map1(&f, &s[r]),
                None => vmath::map1(&f, &elementwise::to_contiguous(s, l)),
            });
            Tensor::from_elems(v, t.shape())
        }
        DType::F64 => {
            let v = t.with_slice::<f64, _>(|s, l| elementwise::unary(s, l, f64_fn));
            Tensor::from_elems(v, t.shape())
        }
    }
}

/// `f(a, b)` element-wise in one pass of the vectorised f32 kernel, where `a` and `b` are f32
/// tensors of one shape, `b` contiguous and `a` contiguous or one broadcast value (the
/// gradient of a sum); `None` otherwise.
pub(crate) fn map2_f32<F: Func2>(f: &F, a: &Tensor, b: &Tensor) -> Option<Tensor> {
    if a.shape() != b.shape() || a.dtype() != DType::F32 || b.dtype() != DType::F32 {
        return None;
    }
    let br = b.layout().contiguous_range()?;
    let al = a.layout();
    let v = a.with_slice::<f32, _>(|a_all, _| {
        let lhs = if let Some(r) = al.contiguous_range() {
            vmath::Lhs::Slice(&a_all[r])
        } else if al.strides.iter().all(|&s| s == 0) {
            vmath::Lhs::Splat(a_all[al.offset])
        } else {
            return None;
        };
        Some(b.with_slice::<f32, _>(|b_all, _| vmath::map2(f, lhs, &b_all[br.clone()])))
    })?;
    Some(Tensor::from_elems(v, b.shape()))
}

/// `f(g, x)` element-wise in one pass, for a backward rule: f32 through [`map2_f32`], f64
/// through `f64_fn` for any layouts; `None` otherwise.
fn fused_vector<F: Func2>(
    g: &Tensor,
    x: &Tensor,
    f: F,
    f64_fn: fn(f64, f64) -> f64,
) -> Option<Tensor> {
    if g.shape() != x.shape() || g.dtype() != x.dtype() {
        return None;
    }
    match x.dtype() {
        DType::F32 => map2_f32(&f, g, x),
        DType::F64 => {
            let (lg, lx, shape) = super::broadcast_pair("backward", g, x).ok()?;
            let v = g.with_slice::<f64, _>(|gs, _| {
                x.with_slice::<f64, _>(|xs, _| {
                    elementwise::binary(gs, &lg, xs, &lx, &shape, f64_fn)
                })
            });
            Some(Tensor::from_elems(v, &shape))
        }
    }
}

impl Tensor {
    /// Records the element-wise primitive `out = f(self)` under `name`. `chain(g, s)` maps an
    /// incoming gradient (or tangent) `g` to `g · f'(x)`, with `s` the saved input or output
    /// as `from` says. It is written with tensor ops, so it differentiates again.
    #[track_caller]
    fn unary_op(
        &self,
        out: Tensor,
        name: &'static str,
        from: SavedFrom,
        chain: fn(&Tensor, &Tensor) -> Tensor,
    ) -> Tensor {
        self.unary_op_fused(out, name, from, chain, None)
    }

    /// [`unary_op`](Self::unary_op) with a fused single-pass backward for when the gradient
    /// records no graph (`create_graph` off): one output buffer instead of one per tensor op
    /// of `chain`. Under `create_graph` the composite `chain` runs, so it differentiates again.
    #[track_caller]
    fn unary_op_fused(
        &self,
        out: Tensor,
        name: &'static str,
        from: SavedFrom,
        chain: fn(&Tensor, &Tensor) -> Tensor,
        fused: Option<FusedGrad>,
    ) -> Tensor {
        let plain = out.clone();
        let out = record(out, name, &[self], |_| {
            let saved = match from {
                SavedFrom::Input => SavedTensor::input(self),
                SavedFrom::Output => SavedTensor::output(&plain),
            };
            rule(move |ctx, g| {
                let s = saved.get(ctx)?;
                if !ctx.create_graph {
                    if let Some(d) = fused.and_then(|f| f(g, &s)) {
                        return Ok(grads![Some(d)]);
                    }
                }
                Ok(grads![Some(chain(g, &s))])
            })
        });
        let basis = match from {
            SavedFrom::Input => self,
            SavedFrom::Output => &plain,
        };
        jvp(out, &[self], |t| t[0].as_ref().map(|t| chain(t, basis)))
    }

    /// Element-wise `eˣ`, like `torch.exp` (grad_fn `ExpBackward0`).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([0.0, 1.0]).exp().to_vec::<f32>(), vec![1.0, std::f32::consts::E]);
    /// ```
    #[track_caller]
    pub fn exp(&self) -> Tensor {
        self.unary_op(
            map_vector(self, vmath::Exp, f64::exp),
            "ExpBackward0",
            SavedFrom::Output,
            |g, y| g * y,
        )
    }

    /// Element-wise natural logarithm, like `torch.log` (grad_fn `LogBackward0`); `log(0)` is
    /// `-inf` and negative inputs give NaN.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([1.0, 0.0]).log().to_vec::<f32>(), vec![0.0, f32::NEG_INFINITY]);
    /// ```
    #[track_caller]
    pub fn log(&self) -> Tensor {
        self.unary_op(
            map_vector(self, vmath::Log, f64::ln),
            "LogBackward0",
            SavedFrom::Input,
            |g, x| g / x,
        )
    }

    /// Element-wise `ln(1 + x)`, accurate for small `x`, like `torch.log1p` (grad_fn
    /// `Log1PBackward0`).
    ///
    /// ```
    /// use tensorgrad::{tensor, DType};
    /// assert_eq!(tensor!([1e-10], DType::F64).log1p().to_vec::<f64>(), vec![1e-10 - 5e-21]);
    /// ```
    #[track_caller]
    pub fn log1p(&self) -> Tensor {
        self.unary_op(
            map_vector(self, vmath::Log1p, f64::ln_1p),
            "Log1PBackward0",
            SavedFrom::Input,
            |g, x| g / x.add_scalar(1.0),
        )
    }

    /// Element-wise square root, like `torch.sqrt` (grad_fn `SqrtBackward0`); negative inputs
    /// give NaN, and the gradient at 0 is `inf`.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([4.0, 9.0]).sqrt().to_vec::<f32>(), vec![2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn sqrt(&self) -> Tensor {
        self.unary_op(
            map_unary!(self, |x| x.sqrt()),
            "SqrtBackward0",
            SavedFrom::Output,
            |g, y| g / y.mul_scalar(2.0),
        )
    }

    /// Element-wise sine (radians), like `torch.sin` (grad_fn `SinBackward0`).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([0.0]).sin().to_vec::<f32>(), vec![0.0]);
    /// ```
    #[track_caller]
    pub fn sin(&self) -> Tensor {
        self.unary_op_fused(
            map_vector(self, vmath::Sin, f64::sin),
            "SinBackward0",
            SavedFrom::Input,
            |g, x| g * x.cos(),
            Some(|g, x| fused_vector(g, x, vmath::MulCos, |g, x| g * x.cos())),
        )
    }

    /// Element-wise cosine (radians), like `torch.cos` (grad_fn `CosBackward0`).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([0.0]).cos().to_vec::<f32>(), vec![1.0]);
    /// ```
    #[track_caller]
    pub fn cos(&self) -> Tensor {
        self.unary_op_fused(
            map_vector(self, vmath::Cos, f64::cos),
            "CosBackward0",
            SavedFrom::Input,
            |g, x| g * x.sin().neg(),
            Some(|g, x| fused_vector(g, x, vmath::MulNegSin, |g, x| g * -x.sin())),
        )
    }

    /// Element-wise tangent (radians), like `torch.tan` (grad_fn `TanBackward0`).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([0.0]).tan().to_vec::<f32>(), vec![0.0]);
    /// ```
    #[track_caller]
    pub fn tan(&self) -> Tensor {
        self.unary_op(
            map_unary!(self, |x| x.tan()),
            "TanBackward0",
            SavedFrom::Output,
            |g, y| g * (y * y).add_scalar(1.0),
        )
    }

    /// Element-wise hyperbolic tangent, like `torch.tanh` (grad_fn `TanhBackward0`, which
    /// saves the output: `d tanh = 1 - tanh²`).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([0.0, 100.0]).tanh().to_vec::<f32>(), vec![0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn tanh(&self) -> Tensor {
        self.unary_op_fused(
            map_vector(self, vmath::Tanh, f64::tanh),
            "TanhBackward0",
            SavedFrom::Output,
            |g, y| g * (y * y).rsub_scalar(1.0),
            Some(|g, y| map_binary!("tanh_backward", g, y, |g, y| g * (1.0 - y * y)).ok()),
        )
    }

    /// Element-wise logistic function `1 / (1 + e⁻ˣ)`, like `torch.sigmoid` (grad_fn
    /// `SigmoidBackward0`, which saves the output: `dσ = σ(1 - σ)`). Does not overflow for
    /// large `|x|`.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([0.0, -1000.0, 1000.0]).sigmoid().to_vec::<f32>(), vec![0.5, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn sigmoid(&self) -> Tensor {
        // e⁻ˣ overflows to inf for very negative x, giving 1/inf = 0: the right limit.
        self.unary_op_fused(
            map_vector(self, vmath::Sigmoid, |x| 1.0 / (1.0 + (-x).exp())),
            "SigmoidBackward0",
            SavedFrom::Output,
            |g, y| g * (y.rsub_scalar(1.0) * y),
            Some(|g, y| map_binary!("sigmoid_backward", g, y, |g, y| g * ((1.0 - y) * y)).ok()),
        )
    }

    /// Element-wise `max(x, 0)`, like `torch.relu` (grad_fn `ReluBackward0`). The gradient is
    /// 1 where the output is positive and 0 elsewhere, including at `x = 0`, as in PyTorch.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([-1.0, 0.0, 2.0]).relu().to_vec::<f32>(), vec![0.0, 0.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn relu(&self) -> Tensor {
        // `x > 0 ? x : 0` keeps NaN as NaN (PyTorch does too); `max(x, 0)` would drop it.
        let out = map_unary!(self, |x| if x > 0.0 || x.is_nan() { x } else { 0.0 });
        self.unary_op_fused(
            out,
            "ReluBackward0",
            SavedFrom::Output,
            |g, y| g * y.gt_scalar(0.0),
            // The same products as the composite (g · 1 or g · 0, so NaN/inf stay as they are).
            Some(|g, y| {
                map_binary!("relu_backward", g, y, |g, y| g * if y > 0.0 {
                    1.0
                } else {
                    0.0
                })
                .ok()
            }),
        )
    }

    /// Element-wise GELU in its exact form `x · Φ(x)`, with Φ the standard normal CDF, like
    /// `torch.nn.functional.gelu` (grad_fn `GeluBackward0`). Φ is computed from `erfc`, so
    /// the lower tail keeps its relative accuracy (PyTorch's `0.5·x·(1 + erf(x/√2))` gives 0
    /// at x = -8 in f32 and at x = -10 in f64).
    ///
    /// ```
    /// use tensorgrad::{tensor, DType};
    /// let y = tensor!([0.0, 1.0, -10.0], DType::F64).gelu().to_vec::<f64>();
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.841_344_746_068_542_9).abs() < 1e-15);
    /// assert!((y[2] / -7.619_853_024_160_527e-23 - 1.0).abs() < 1e-12);
    /// ```
    #[track_caller]
    pub fn gelu(&self) -> Tensor {
        self.unary_op_fused(
            map_vector(self, vmath::Gelu, |x| x * normal_cdf(x)),
            "GeluBackward0",
            SavedFrom::Input,
            // d/dx xΦ(x) = Φ(x) + x·φ(x), written with erfc and exp so it differentiates again.
            |g, x| {
                let cdf = x.mul_scalar(-FRAC_1_SQRT_2).erfc().mul_scalar(0.5);
                let pdf = (x * x).mul_scalar(-0.5).exp().mul_scalar(FRAC_1_SQRT_2PI);
                g * (cdf + x * pdf)
            },
            Some(|g, x| {
                fused_vector(g, x, vmath::MulGeluGrad, |g, x| {
                    g * (normal_cdf(x) + x * (FRAC_1_SQRT_2PI * (-0.5 * x * x).exp()))
                })
            }),
        )
    }

    /// Element-wise error function, like `torch.erf` (grad_fn `ErfBackward0`).
    ///
    /// ```
    /// use tensorgrad::{tensor, DType};
    /// assert_eq!(tensor!([0.0, 10.0], DType::F64).erf().to_vec::<f64>(), vec![0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn erf(&self) -> Tensor {
        self.unary_op_fused(
            map_vector(self, vmath::Erf, libm::erf),
            "ErfBackward0",
            SavedFrom::Input,
            |g, x| g * (x * x).neg().exp().mul_scalar(FRAC_2_SQRT_PI),
            Some(|g, x| {
                fused_vector(g, x, vmath::MulErfGrad, |g, x| {
                    g * (FRAC_2_SQRT_PI * (-x * x).exp())
                })
            }),
        )
    }

    /// Element-wise complementary error function `1 - erf x`, like `torch.erfc` (grad_fn
    /// `ErfcBackward0`). Computed directly, so it keeps its relative accuracy for large `x`
    /// where `1 - erf x` would round to 0.
    ///
    /// ```
    /// use tensorgrad::{tensor, DType};
    /// let y = tensor!([0.0, 5.0], DType::F64).erfc().to_vec::<f64>();
    /// assert_eq!(y[0], 1.0);
    /// assert!((y[1] / 1.537_459_794_428_034_8e-12 - 1.0).abs() < 1e-14);
    /// ```
    #[track_caller]
    pub fn erfc(&self) -> Tensor {
        self.unary_op_fused(
            map_vector(self, vmath::Erfc, libm::erfc),
            "ErfcBackward0",
            SavedFrom::Input,
            |g, x| g * (x * x).neg().exp().mul_scalar(-FRAC_2_SQRT_PI),
            Some(|g, x| {
                fused_vector(g, x, vmath::MulErfcGrad, |g, x| {
                    g * (-FRAC_2_SQRT_PI * (-x * x).exp())
                })
            }),
        )
    }

    /// Element-wise absolute value, like `torch.abs` (grad_fn `AbsBackward0`; the gradient is
    /// `sign(x)`, so 0 at `x = 0`).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([-2.0, 3.0]).abs().to_vec::<f32>(), vec![2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn abs(&self) -> Tensor {
        self.unary_op(
            map_unary!(self, |x| x.abs()),
            "AbsBackward0",
            SavedFrom::Input,
            |g, x| g * x.sign(),
        )
    }

    /// Element-wise sign: -1, 0 or 1 (NaN stays NaN), like `torch.sign` (grad_fn
    /// `SignBackward0`; the gradient is zero everywhere).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([-2.0, 0.0, 3.0]).sign().to_vec::<f32>(), vec![-1.0, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn sign(&self) -> Tensor {
        // Not `signum`, which maps 0 to 1.
        let out = map_unary!(self, |x| if x > 0.0 {
            1.0
        } else if x < 0.0 {
            -1.0
        } else {
            x
        });
        self.unary_op(out, "SignBackward0", SavedFrom::Input, |g, _| {
            Tensor::zeros_like(g)
        })
    }
}

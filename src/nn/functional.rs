//! Layers, activations and losses as plain functions, like `torch.nn.functional`.
//!
//! Losses return `Result`: they check what PyTorch checks (shapes, class indices) and a
//! training loop propagates the error with `?`. Each loss is one graph node with PyTorch's
//! grad_fn name (`MseLossBackward0`, `NllLossBackward0`,
//! `BinaryCrossEntropyWithLogitsBackward0`) and PyTorch's backward formula, written with
//! differentiable ops so gradients of gradients work; forward-mode tangents propagate too.
//!
//! ```
//! use tensorgrad::nn::functional::{mse_loss, mse_loss_with};
//! use tensorgrad::nn::Reduction;
//! use tensorgrad::tensor;
//! let pred = tensor!([1.0, 2.0, 4.0]).set_requires_grad(true);
//! let target = tensor!([1.0, 1.0, 1.0]);
//! let loss = mse_loss(&pred, &target)?;            // (0 + 1 + 9) / 3
//! assert_eq!(loss.to_string(), "tensor(3.3333, grad_fn=<MseLossBackward0>)");
//! loss.backward()?;
//! assert_eq!(pred.grad().unwrap().to_vec::<f32>(), [0.0, 2.0 / 3.0, 2.0]);
//! assert_eq!(mse_loss_with(&pred, &target, Reduction::Sum)?.item::<f32>(), 10.0);
//! # Ok::<(), tensorgrad::Error>(())
//! ```

use crate::autograd::node::{record, rule};
use crate::autograd::saved::SavedTensor;
use crate::error::{Error, Result};
use crate::forward_ad::{add_opt, jvp};
use crate::kernels::vmath;
use crate::ops::unary::map2_f32;
use crate::ops::{grad_if, grads, map_binary};
use crate::tensor::{with_dtype, Tensor};
use crate::DType;
use std::sync::Arc;

/// How a loss combines its per-element values, like PyTorch's `reduction` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Reduction {
    /// No reduction: one loss per element (per sample for classification losses).
    None,
    /// The mean (the default, `reduction='mean'`).
    #[default]
    Mean,
    /// The sum.
    Sum,
}

impl Reduction {
    /// Applies the reduction to per-element losses.
    fn apply(self, t: &Tensor) -> Tensor {
        match self {
            Reduction::None => t.clone(),
            Reduction::Mean => t.mean(),
            Reduction::Sum => t.sum(),
        }
    }
}

// ----- layers -----

/// `input · weightᵀ + bias`, like `F.linear`: `input` is `[..., in]`, `weight` `[out, in]`,
/// `bias` `[out]`; the result is `[..., out]`.
///
/// Errors when the input's last dim is not `in`, or the dtypes differ.
pub fn linear(input: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let in_features = weight.shape().get(1).copied();
    if weight.dim() != 2 || input.dim() == 0 || input.shape().last().copied() != in_features {
        return Err(Error::shape(
            "linear",
            input.shape(),
            weight.shape(),
            "the input's last dim must equal the weight's in_features (weight is [out_features, in_features])",
        ));
    }
    crate::ops::check_same_dtype("linear", input, weight)?;
    let y = input.try_matmul(&weight.t())?;
    match bias {
        Some(b) => y.try_add(b),
        None => Ok(y),
    }
}

/// Checks a dropout probability.
pub(crate) fn check_dropout_p(p: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid(
            "dropout",
            format!("dropout probability has to be between 0 and 1, but got {p}"),
        ));
    }
    Ok(())
}

/// Inverted dropout, like `F.dropout(input, p, training)`: while `training`, zeroes each
/// element with probability `p` and multiplies the others by `1 / (1 - p)`; otherwise returns
/// `input`. The mask comes from the global generator with PyTorch's CPU algorithm (one 64-bit
/// draw per element, kept when the uniform double is below `1 - p`), so a seed drops the same
/// elements as in PyTorch. The gradient is the incoming gradient times the same mask.
///
/// Errors when `p` is outside [0, 1].
pub fn dropout(input: &Tensor, p: f64, training: bool) -> Result<Tensor> {
    check_dropout_p(p)?;
    if p == 0.0 || !training || input.numel() == 0 {
        return Ok(input.clone());
    }
    if p == 1.0 {
        // PyTorch multiplies by a zero scalar (no draws), so NaN and infinity give NaN.
        return input.try_mul(&Tensor::zeros_dtype(&[], input.dtype()));
    }
    let keep = 1.0 - p;
    let u = crate::random::uniform_f64(input.numel());
    let noise = with_dtype!(input.dtype(), T => {
        // bernoulli_(1 - p) then div_(1 - p): the kept value is 1 / (1 - p) in T.
        let scale = 1.0 / keep as T;
        let v: Vec<T> = u.iter().map(|&u| if u < keep { scale } else { 0.0 }).collect();
        Tensor::from_elems(v, input.shape())
    });
    input.try_mul(&noise)
}

// ----- losses -----

fn check_same_shape(op: &'static str, input: &Tensor, target: &Tensor) -> Result<()> {
    if input.shape() != target.shape() {
        return Err(Error::shape(
            op,
            input.shape(),
            target.shape(),
            "the target must have the input's shape (PyTorch would broadcast them with a warning, which usually hides a bug such as [N, 1] against [N])",
        ));
    }
    crate::ops::check_same_dtype(op, input, target)
}

/// Mean squared error, `mean((input - target)²)`, like `F.mse_loss(input, target)`.
///
/// Errors if the shapes or dtypes differ. See [`mse_loss_with`] for other reductions.
pub fn mse_loss(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    mse_loss_with(input, target, Reduction::Mean)
}

/// Squared error with a [`Reduction`], like `F.mse_loss(input, target, reduction=...)`
/// (grad_fn `MseLossBackward0`).
#[track_caller]
pub fn mse_loss_with(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    check_same_shape("mse_loss", input, target)?;
    // (input - target)² in one pass (the roundings of `.sub(..).powi(2)`).
    let squares = map_binary!("mse_loss", input, target, |x, y| (x - y) * (x - y))?;
    let out = crate::no_grad(|| reduction.apply(&squares));
    let n = input.numel() as f64;
    let out = record(out, "MseLossBackward0", &[input, target], |_| {
        let (x, y) = (SavedTensor::input(input), SavedTensor::input(target));
        rule(move |ctx, g| {
            // PyTorch's mse_loss_backward: (input - target) * norm * grad, norm = 2 (/ n).
            let norm = if reduction == Reduction::Mean {
                2.0 / n
            } else {
                2.0
            };
            let (x, y) = (x.get(ctx)?, y.get(ctx)?);
            let gx = if !ctx.create_graph && g.numel() == 1 {
                // One pass for a mean or sum: the composite's roundings, no graph.
                let g = g.item::<f64>();
                map_binary!("mse_loss_backward", &x, &y, |x, y| ((x - y) * norm as T)
                    * g as T)?
            } else {
                x.try_sub(&y)?.mul_scalar(norm).try_mul(g)?
            };
            let gy = grad_if(ctx.needs(1), || Ok(gx.neg()))?;
            Ok(grads![ctx.needs(0).then_some(gx), gy])
        })
    });
    Ok(jvp(out, &[input, target], |t| {
        let dt = match (&t[0], &t[1]) {
            (Some(a), Some(b)) => a - b,
            (Some(a), None) => a.clone(),
            (None, Some(b)) => b.neg(),
            (None, None) => return None,
        };
        let d = input.sub(target);
        Some(reduction.apply(&(dt * d).mul_scalar(2.0)))
    }))
}

/// Checks class-index targets against `[N, C]` scores; returns `(N, C)`.
fn check_class_targets(
    op: &'static str,
    input: &Tensor,
    targets: &[usize],
) -> Result<(usize, usize)> {
    if input.dim() != 2 {
        return Err(Error::invalid(
            op,
            format!("expected input of shape [N, C] (N samples, C classes), got shape {:?}; a single sample needs .unsqueeze(0)", input.shape()),
        ));
    }
    let (n, c) = (input.shape()[0], input.shape()[1]);
    if targets.len() != n {
        return Err(Error::shape(
            op,
            input.shape(),
            &[targets.len()],
            format!(
                "expected one class index per sample: {n} sample(s) but {} target(s)",
                targets.len()
            ),
        ));
    }
    if let Some((i, &t)) = targets.iter().enumerate().find(|(_, &t)| t >= c) {
        return Err(Error::invalid(
            op,
            format!("target {t} (sample {i}) is out of bounds for {c} classes; class indices must be in 0..{c}"),
        ));
    }
    Ok((n, c))
}

/// `[N, C]` of `dtype` with ones at `(i, targets[i])`.
fn one_hot(targets: &[usize], c: usize, dtype: DType) -> Tensor {
    with_dtype!(dtype, T => {
        let mut v = vec![0.0 as T; targets.len() * c];
        for (i, &t) in targets.iter().enumerate() {
            v[i * c + t] = 1.0;
        }
        Tensor::from_elems(v, &[targets.len(), c])
    })
}

/// Negative log-likelihood of class indices, like `F.nll_loss(log_probs, targets)`:
/// `log_probs` is `[N, C]` (log-probabilities, e.g. from `log_softmax`), `targets[i]` the
/// class of sample `i`; the result is `-mean(log_probs[i, targets[i]])`.
///
/// Errors if `log_probs` is not 2-D, `targets` has not one entry per sample, or a class
/// index is not below C.
pub fn nll_loss(log_probs: &Tensor, targets: &[usize]) -> Result<Tensor> {
    nll_loss_with(log_probs, targets, Reduction::Mean)
}

/// [`nll_loss`] with a [`Reduction`] (`None` gives one loss per sample, shape `[N]`);
/// grad_fn `NllLossBackward0`.
#[track_caller]
pub fn nll_loss_with(
    log_probs: &Tensor,
    targets: &[usize],
    reduction: Reduction,
) -> Result<Tensor> {
    let (n, c) = check_class_targets("nll_loss", log_probs, targets)?;
    let dtype = log_probs.dtype();
    // Each sample's value at its target, read in place (any layout).
    let picked = with_dtype!(dtype, T => {
        let v: Vec<T> = log_probs.with_slice::<T, _>(|lp, l| {
            let at = |i: usize, t: usize| l.offset + i * l.strides[0] + t * l.strides[1];
            targets.iter().enumerate().map(|(i, &t)| -lp[at(i, t)]).collect()
        });
        Tensor::from_elems(v, &[n])
    });
    let out = crate::no_grad(|| reduction.apply(&picked));
    let targets: Arc<[usize]> = targets.into();
    let out = record(out, "NllLossBackward0", &[log_probs], |_| {
        let targets = targets.clone();
        rule(move |ctx, g| {
            // PyTorch: -grad (/ N for the mean) at each sample's target, zero elsewhere.
            let g = match reduction {
                Reduction::None => g.unsqueeze(1),
                Reduction::Mean => g.div_scalar(n as f64),
                Reduction::Sum => g.clone(),
            };
            let grad = if ctx.create_graph {
                // Differentiable in `g`: the one-hot mask times -g.
                one_hot(&targets, c, dtype).try_mul(&g.neg())?
            } else {
                // Written directly: zeros, and -g at the targets (no mask, no product).
                with_dtype!(dtype, T => {
                    let neg_g = g.neg().to_vec::<T>();
                    let mut v = vec![0.0 as T; n * c];
                    for (i, &t) in targets.iter().enumerate() {
                        v[i * c + t] = neg_g[if neg_g.len() == 1 { 0 } else { i }];
                    }
                    Tensor::from_elems(v, &[n, c])
                })
            };
            Ok(grads![Some(grad)])
        })
    });
    Ok(jvp(out, &[log_probs], |t| {
        t[0].as_ref().map(|t| {
            let mask = one_hot(&targets, c, dtype);
            reduction.apply(&(t * &mask).sum_dim([1], false).neg())
        })
    }))
}

// ----- activations -----

/// `max(x, 0)` element-wise, like `F.relu` (grad_fn `ReluBackward0`).
pub fn relu(x: &Tensor) -> Tensor {
    x.relu()
}

/// Hyperbolic tangent, like `torch.tanh` (grad_fn `TanhBackward0`).
pub fn tanh(x: &Tensor) -> Tensor {
    x.tanh()
}

/// The logistic function, like `torch.sigmoid` (grad_fn `SigmoidBackward0`).
pub fn sigmoid(x: &Tensor) -> Tensor {
    x.sigmoid()
}

/// Exact GELU `x·Φ(x)`, like `F.gelu(x)` (grad_fn `GeluBackward0`).
pub fn gelu(x: &Tensor) -> Tensor {
    x.gelu()
}

/// GELU's tanh approximation `x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))`, like
/// `F.gelu(x, approximate='tanh')`. Composed of differentiable ops (so its grad_fn is that of
/// the last op, not PyTorch's `GeluBackward0`).
///
/// ```
/// use tensorgrad::nn::functional::gelu_tanh;
/// use tensorgrad::{tensor, DType};
/// let y = gelu_tanh(&tensor!([1.0], DType::F64)).item::<f64>();
/// assert!((y - 0.8411919906082768).abs() < 1e-15);  // F.gelu(tensor(1.), approximate='tanh')
/// ```
pub fn gelu_tanh(x: &Tensor) -> Tensor {
    // √(2/π), as PyTorch's kernel spells it: M_SQRT2 * M_2_SQRTPI * 0.5.
    let k = std::f64::consts::SQRT_2 * std::f64::consts::FRAC_2_SQRT_PI * 0.5;
    let inner = (x + &x.powi(3).mul_scalar(0.044715)).mul_scalar(k);
    x.mul_scalar(0.5) * inner.tanh().add_scalar(1.0)
}

/// Softmax along `dim`, like `F.softmax(x, dim)`.
///
/// # Panics
/// If `dim` is out of range; use [`Tensor::try_softmax`] for an error instead.
#[track_caller]
pub fn softmax(x: &Tensor, dim: isize) -> Tensor {
    x.softmax(dim)
}

/// Log-softmax along `dim`, like `F.log_softmax(x, dim)`.
///
/// # Panics
/// If `dim` is out of range; use [`Tensor::try_log_softmax`] for an error instead.
#[track_caller]
pub fn log_softmax(x: &Tensor, dim: isize) -> Tensor {
    x.log_softmax(dim)
}

// ----- classification losses -----

/// Cross entropy of class scores and class indices, like
/// `F.cross_entropy(logits, targets)`: `logits` is `[N, C]` (unnormalised scores),
/// `targets[i]` the class of sample `i`; the result is the mean over samples of
/// `-log_softmax(logits)[i, targets[i]]`. Computed as PyTorch does, as
/// `nll_loss(log_softmax(logits, 1))`, which is stable for large logits.
///
/// Errors if `logits` is not 2-D, `targets` has not one entry per sample, or a class index is
/// not below C. (PyTorch's probability targets, class weights and label smoothing are not
/// supported.)
///
/// ```
/// use tensorgrad::nn::functional::cross_entropy;
/// use tensorgrad::tensor;
/// let logits = tensor!([[2.0, 0.0, 0.0], [0.0, 1000.0, 0.0]]).set_requires_grad(true);
/// let loss = cross_entropy(&logits, &[0, 1])?;
/// assert!((loss.item::<f32>() - 0.1198).abs() < 1e-4);   // finite despite the 1000
/// assert!(cross_entropy(&logits, &[0, 3]).is_err());     // class 3 of 3
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn cross_entropy(logits: &Tensor, targets: &[usize]) -> Result<Tensor> {
    cross_entropy_with(logits, targets, Reduction::Mean)
}

/// [`cross_entropy`] with a [`Reduction`] (`None` gives one loss per sample, shape `[N]`).
#[track_caller]
pub fn cross_entropy_with(
    logits: &Tensor,
    targets: &[usize],
    reduction: Reduction,
) -> Result<Tensor> {
    check_class_targets("cross_entropy", logits, targets)?;
    nll_loss_with(&logits.try_log_softmax(1)?, targets, reduction)
}

/// Binary cross entropy of logits and targets in [0, 1], like
/// `F.binary_cross_entropy_with_logits(input, target)`: the mean of
/// `max(x, 0) − x·y + log(1 + e^−|x|)`, the form that neither overflows nor loses precision
/// for large `|x|`. The gradient is `σ(x) − y` (divided by the count for the mean), exact
/// at `x = 0` too.
///
/// Errors if the shapes or dtypes differ.
///
/// ```
/// use tensorgrad::nn::functional::binary_cross_entropy_with_logits as bce;
/// use tensorgrad::tensor;
/// let x = tensor!([0.0, 100.0]).set_requires_grad(true);
/// let loss = bce(&x, &tensor!([1.0, 1.0]))?;
/// assert!((loss.item::<f32>() - 0.3466).abs() < 1e-4);   // (ln 2 + 0) / 2
/// loss.backward()?;
/// assert_eq!(x.grad().unwrap().to_vec::<f32>(), [-0.25, 0.0]);
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn binary_cross_entropy_with_logits(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    binary_cross_entropy_with_logits_with(input, target, Reduction::Mean)
}

/// [`binary_cross_entropy_with_logits`] with a [`Reduction`] (grad_fn
/// `BinaryCrossEntropyWithLogitsBackward0`).
#[track_caller]
pub fn binary_cross_entropy_with_logits_with(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    check_same_shape("binary_cross_entropy_with_logits", input, target)?;
    let out = crate::no_grad(|| {
        let (x, y) = (input.detach(), target.detach());
        // PyTorch: (1 - y)·x - log_sigmoid(x), log_sigmoid(x) = min(x, 0) - log1p(e^-|x|):
        // in one pass for contiguous f32 (the same roundings), else op by op.
        let losses = map2_f32(&vmath::BceWithLogits, &x, &y).unwrap_or_else(|| {
            let log_sigmoid = x.clamp_max(0.0) - x.abs().neg().exp().log1p();
            y.rsub_scalar(1.0) * &x - log_sigmoid
        });
        reduction.apply(&losses)
    });
    let n = input.numel() as f64;
    let out = record(
        out,
        "BinaryCrossEntropyWithLogitsBackward0",
        &[input, target],
        |_| {
            let (x, y) = (SavedTensor::input(input), SavedTensor::input(target));
            rule(move |ctx, g| {
                let x = x.get(ctx)?;
                let scale = |t: Tensor| -> Result<Tensor> {
                    let t = t.try_mul(g)?;
                    Ok(if reduction == Reduction::Mean {
                        t.div_scalar(n)
                    } else {
                        t
                    })
                };
                let gx = grad_if(ctx.needs(0), || {
                    let y = y.get(ctx)?;
                    // One pass when no graph is recorded and `g` is one number (a mean or a
                    // sum), with the composite rule's roundings.
                    if !ctx.create_graph && g.numel() == 1 && g.dtype() == DType::F32 {
                        let n = if reduction == Reduction::Mean { n } else { 1.0 };
                        let f = vmath::BceWithLogitsGrad {
                            g: g.item::<f32>(),
                            n: n as f32,
                        };
                        if let Some(gx) = map2_f32(&f, &x, &y) {
                            return Ok(gx);
                        }
                    }
                    scale(x.sigmoid().try_sub(&y)?)
                })?;
                let gy = grad_if(ctx.needs(1), || scale(x.neg()))?;
                Ok(grads![gx, gy])
            })
        },
    );
    Ok(jvp(out, &[input, target], |t| {
        let dx = t[0].as_ref().map(|t| (input.sigmoid() - target) * t);
        let dy = t[1].as_ref().map(|t| input.neg() * t);
        add_opt(dx, dy).map(|d| reduction.apply(&d))
    }))
}

//! Parameter initialisation, like `torch.nn.init`: each function fills a tensor in place
//! (under `no_grad`, so parameters that require grad can be filled) with the formula and the
//! random draws PyTorch uses, so the same seed gives the same values.
//!
//! The fills write through the tensor handle: every clone of the tensor, and any optimizer
//! holding it, sees the new values.
//!
//! ```
//! use tensorgrad::nn::init::{self, FanMode, Nonlinearity};
//! use tensorgrad::{manual_seed, Tensor};
//! let w = Tensor::zeros(&[4, 5]).set_requires_grad(true);
//! manual_seed(0);
//! init::kaiming_uniform_(&w, FanMode::FanIn, Nonlinearity::Relu)?;   // bound √2·√3/√5
//! assert!(w.to_vec::<f32>().iter().all(|v| v.abs() <= (6.0f32 / 5.0).sqrt()));
//! init::zeros_(&w)?;
//! assert!(w.to_vec::<f32>().iter().all(|&v| v == 0.0));
//! # Ok::<(), tensorgrad::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::random;
use crate::tensor::Tensor;
use crate::DType;

/// Which fan scales [`kaiming_uniform_`] and [`kaiming_normal_`], like their `mode` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FanMode {
    /// Preserve the variance of the forward pass (`"fan_in"`, the default).
    #[default]
    FanIn,
    /// Preserve the variance of the backward pass (`"fan_out"`).
    FanOut,
}

/// A nonlinearity whose recommended gain [`calculate_gain`] returns, like its
/// `nonlinearity` argument (with `param` folded into `LeakyRelu`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nonlinearity {
    /// Linear and convolution layers: gain 1.
    Linear,
    /// Sigmoid: gain 1.
    Sigmoid,
    /// Tanh: gain 5/3.
    Tanh,
    /// ReLU: gain √2.
    Relu,
    /// Leaky ReLU with the given negative slope: gain √(2 / (1 + slope²)). PyTorch's
    /// `kaiming_*_` default is `LeakyRelu(0.0)` (its `a=0`); `nn.Linear` uses
    /// `LeakyRelu(√5)`.
    LeakyRelu(f64),
    /// SELU: gain 3/4.
    Selu,
}

/// The recommended gain for `nonlinearity`, like `torch.nn.init.calculate_gain`.
///
/// ```
/// use tensorgrad::nn::init::{calculate_gain, Nonlinearity};
/// assert_eq!(calculate_gain(Nonlinearity::Tanh), 5.0 / 3.0);
/// assert_eq!(calculate_gain(Nonlinearity::Relu), 2f64.sqrt());
/// ```
pub fn calculate_gain(nonlinearity: Nonlinearity) -> f64 {
    match nonlinearity {
        Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
        Nonlinearity::Tanh => 5.0 / 3.0,
        Nonlinearity::Relu => 2f64.sqrt(),
        // `negative_slope**2` in Python is a correctly rounded square, as `s * s` is.
        Nonlinearity::LeakyRelu(s) => (2.0 / (1.0 + s * s)).sqrt(),
        Nonlinearity::Selu => 3.0 / 4.0,
    }
}

/// `(fan_in, fan_out)` of a weight of at least 2 dims, like PyTorch's
/// `_calculate_fan_in_and_fan_out`: `shape[1]` and `shape[0]`, each times the product of the
/// remaining dims (the receptive field of a convolution kernel).
pub fn calculate_fan_in_and_fan_out(t: &Tensor) -> Result<(usize, usize)> {
    let s = t.shape();
    if s.len() < 2 {
        return Err(Error::invalid(
            "init",
            format!("fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions (shape {s:?}); use uniform_ or normal_ with explicit bounds"),
        ));
    }
    let receptive: usize = s[2..].iter().product();
    Ok((s[1] * receptive, s[0] * receptive))
}

/// Writes `values` into `t` in place, outside the graph.
fn fill_with(t: &Tensor, values: Tensor) -> Result<()> {
    crate::no_grad(|| t.try_copy_(&values))
}

/// Fills `t` with samples of U(low, high), like `nn.init.uniform_(t, low, high)`.
pub fn uniform_(t: &Tensor, low: f64, high: f64) -> Result<()> {
    fill_with(t, Tensor::uniform_like(t, low, high))
}

/// Fills `t` with samples of N(mean, std²), like `nn.init.normal_(t, mean, std)`.
///
/// Same draws as PyTorch's `normal_`: bit for bit below 16 elements (computed in f64 there
/// too); from 16 elements PyTorch evaluates Box-Muller in the tensor's precision with
/// vectorised math, so f32 values agree to float rounding.
pub fn normal_(t: &Tensor, mean: f64, std: f64) -> Result<()> {
    let n = t.numel();
    let values = match (t.dtype(), n < 16) {
        // PyTorch: one `normal_distribution<double>` per element, scaled in double.
        (DType::F32, true) => Tensor::from_elems(
            random::normal_f64(n)
                .into_iter()
                .map(|z| (z * std + mean) as f32)
                .collect(),
            t.shape(),
        ),
        (DType::F32, false) => Tensor::from_elems(
            random::normal_f32(n)
                .into_iter()
                .map(|z| z * std as f32 + mean as f32)
                .collect(),
            t.shape(),
        ),
        (DType::F64, _) => Tensor::from_elems(
            random::normal_f64(n)
                .into_iter()
                .map(|z| z * std + mean)
                .collect(),
            t.shape(),
        ),
    };
    fill_with(t, values)
}

/// Fills `t` with `value`, like `nn.init.constant_`.
pub fn constant_(t: &Tensor, value: f64) -> Result<()> {
    crate::no_grad(|| t.try_fill_(value))
}

/// Fills `t` with zeros, like `nn.init.zeros_`.
pub fn zeros_(t: &Tensor) -> Result<()> {
    constant_(t, 0.0)
}

/// Fills `t` with ones, like `nn.init.ones_`.
pub fn ones_(t: &Tensor) -> Result<()> {
    constant_(t, 1.0)
}

/// Xavier/Glorot uniform: U(-a, a) with `a = gain·√3·√(2 / (fan_in + fan_out))`, like
/// `nn.init.xavier_uniform_(t, gain)`.
pub fn xavier_uniform_(t: &Tensor, gain: f64) -> Result<()> {
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(t)?;
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    let a = 3f64.sqrt() * std;
    uniform_(t, -a, a)
}

/// Xavier/Glorot normal: N(0, std²) with `std = gain·√(2 / (fan_in + fan_out))`, like
/// `nn.init.xavier_normal_(t, gain)`.
pub fn xavier_normal_(t: &Tensor, gain: f64) -> Result<()> {
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(t)?;
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    normal_(t, 0.0, std)
}

fn kaiming_std(t: &Tensor, mode: FanMode, nonlinearity: Nonlinearity) -> Result<f64> {
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(t)?;
    let fan = match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    };
    Ok(calculate_gain(nonlinearity) / (fan as f64).sqrt())
}

/// Kaiming/He uniform: U(-b, b) with `b = √3 · gain / √fan`, like
/// `nn.init.kaiming_uniform_(t, a, mode, nonlinearity)` (PyTorch's `a` is the slope inside
/// [`Nonlinearity::LeakyRelu`]). A tensor with no elements is left as it is.
pub fn kaiming_uniform_(t: &Tensor, mode: FanMode, nonlinearity: Nonlinearity) -> Result<()> {
    if t.numel() == 0 {
        return Ok(());
    }
    // The same operations in the same order as PyTorch, so the bound is the same double.
    let bound = 3f64.sqrt() * kaiming_std(t, mode, nonlinearity)?;
    uniform_(t, -bound, bound)
}

/// Kaiming/He normal: N(0, std²) with `std = gain / √fan`, like
/// `nn.init.kaiming_normal_(t, a, mode, nonlinearity)`. A tensor with no elements is left as
/// it is.
pub fn kaiming_normal_(t: &Tensor, mode: FanMode, nonlinearity: Nonlinearity) -> Result<()> {
    if t.numel() == 0 {
        return Ok(());
    }
    let std = kaiming_std(t, mode, nonlinearity)?;
    normal_(t, 0.0, std)
}

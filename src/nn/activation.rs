//! Activation functions as modules: `ReLU`, `Tanh`, `Sigmoid`, `GELU`.

use super::{functional, Module};
use crate::error::Result;
use crate::tensor::Tensor;

macro_rules! activation {
    ($(#[$doc:meta])* $name:ident, $torch:literal, |$x:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name {
            training: bool,
        }

        impl $name {
            #[doc = concat!("The activation, like `torch.nn.", $torch, "()`.")]
            pub fn new() -> $name {
                $name { training: true }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new()
            }
        }

        impl Module for $name {
            fn try_forward(&self, $x: &Tensor) -> Result<Tensor> {
                Ok($body)
            }

            fn set_training(&mut self, training: bool) {
                self.training = training;
            }

            fn is_training(&self) -> bool {
                self.training
            }
        }
    };
}

activation!(
    /// `max(x, 0)` element-wise, like `torch.nn.ReLU` (grad_fn `ReluBackward0`).
    ///
    /// ```
    /// use tensorgrad::nn::{Module, ReLU};
    /// use tensorgrad::tensor;
    /// assert_eq!(ReLU::new().forward(&tensor!([-1.0, 2.0])).to_vec::<f32>(), [0.0, 2.0]);
    /// ```
    ReLU, "ReLU", |x| x.relu()
);

activation!(
    /// Hyperbolic tangent element-wise, like `torch.nn.Tanh` (grad_fn `TanhBackward0`).
    ///
    /// ```
    /// use tensorgrad::nn::{Module, Tanh};
    /// use tensorgrad::tensor;
    /// assert_eq!(Tanh::new().forward(&tensor!([0.0])).to_vec::<f32>(), [0.0]);
    /// ```
    Tanh, "Tanh", |x| x.tanh()
);

activation!(
    /// The logistic function `1 / (1 + e⁻ˣ)` element-wise, like `torch.nn.Sigmoid` (grad_fn
    /// `SigmoidBackward0`).
    ///
    /// ```
    /// use tensorgrad::nn::{Module, Sigmoid};
    /// use tensorgrad::tensor;
    /// assert_eq!(Sigmoid::new().forward(&tensor!([0.0])).to_vec::<f32>(), [0.5]);
    /// ```
    Sigmoid, "Sigmoid", |x| x.sigmoid()
);

/// GELU element-wise, like `torch.nn.GELU`: exact `x·Φ(x)` by default (grad_fn
/// `GeluBackward0`), or PyTorch's `approximate='tanh'` form with
/// [`tanh_approximation`](Self::tanh_approximation).
///
/// ```
/// use tensorgrad::nn::{Module, GELU};
/// use tensorgrad::tensor;
/// let y = GELU::new().forward(&tensor!([0.0, 10.0]));
/// assert_eq!(y.to_vec::<f32>(), [0.0, 10.0]);
/// ```
#[allow(clippy::upper_case_acronyms)] // PyTorch's name, kept so code ports line by line
#[derive(Clone, Debug)]
pub struct GELU {
    tanh: bool,
    training: bool,
}

impl GELU {
    /// Exact GELU, like `torch.nn.GELU()`.
    pub fn new() -> GELU {
        GELU {
            tanh: false,
            training: true,
        }
    }

    /// The tanh approximation, like `torch.nn.GELU(approximate='tanh')`.
    pub fn tanh_approximation() -> GELU {
        GELU {
            tanh: true,
            training: true,
        }
    }
}

impl Default for GELU {
    fn default() -> Self {
        GELU::new()
    }
}

impl Module for GELU {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(if self.tanh {
            functional::gelu_tanh(x)
        } else {
            x.gelu()
        })
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }
}

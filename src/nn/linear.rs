//! `Linear`: `y = x Wᵀ + b`, initialised like `torch.nn.Linear`.

use super::{functional, init, Module};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::DType;

/// A fully connected layer, `y = x Wᵀ + b`, like `torch.nn.Linear`.
///
/// `weight` has shape `[out_features, in_features]` and `bias` `[out_features]`. The input
/// may have any number of leading dims: `[..., in_features]` → `[..., out_features]`.
///
/// New layers are initialised exactly as PyTorch's: `weight` by
/// `kaiming_uniform_(a = √5)`, which is U(-1/√in, 1/√in), then `bias` by U(-1/√in, 1/√in),
/// drawn in that order from the global generator. So the same seed gives the same weights:
///
/// ```
/// use tensorgrad::{manual_seed, nn::{Linear, Module}, Tensor};
/// manual_seed(0);
/// let layer = Linear::new(3, 2);   // torch.manual_seed(0); nn.Linear(3, 2)
/// assert_eq!(layer.weight().to_vec::<f32>()[..2], [-0.004322517663240433, 0.3097158372402191]);
/// assert_eq!(layer.forward(&Tensor::zeros(&[4, 3])).shape(), &[4, 2]);
/// let names: Vec<String> = layer.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["weight", "bias"]);
/// ```
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
    training: bool,
}

impl Linear {
    /// An f32 layer with a bias, initialised like `nn.Linear(in_features, out_features)`.
    pub fn new(in_features: usize, out_features: usize) -> Linear {
        Linear::new_with(in_features, out_features, true, DType::F32)
    }

    /// A layer with or without bias, of the given dtype, initialised like
    /// `nn.Linear(in_features, out_features, bias=bias, dtype=dtype)`.
    pub fn new_with(in_features: usize, out_features: usize, bias: bool, dtype: DType) -> Linear {
        let weight = Tensor::zeros_dtype(&[out_features, in_features], dtype);
        let bias = bias.then(|| Tensor::zeros_dtype(&[out_features], dtype));
        let layer = Linear {
            weight: weight.set_requires_grad(true),
            bias: bias.map(|b| b.set_requires_grad(true)),
            training: true,
        };
        layer.reset_parameters();
        layer
    }

    /// A layer with the given weight (`[out, in]`) and optional bias (`[out]`), which become
    /// its parameters (marked as requiring grad; the layer shares their data).
    ///
    /// Errors if `weight` is not 2-D, the bias shape is not `[out]`, or the dtypes differ.
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>) -> Result<Linear> {
        if weight.dim() != 2 {
            return Err(Error::invalid(
                "Linear",
                format!(
                    "the weight must be 2-D [out_features, in_features], got shape {:?}",
                    weight.shape()
                ),
            ));
        }
        if let Some(b) = &bias {
            if b.shape() != [weight.shape()[0]] {
                return Err(Error::shape(
                    "Linear",
                    weight.shape(),
                    b.shape(),
                    "the bias must have shape [out_features], weight.shape[0]",
                ));
            }
            crate::ops::check_same_dtype("Linear", &weight, b)?;
        }
        Ok(Linear {
            weight: weight.try_set_requires_grad(true)?,
            bias: bias.map(|b| b.try_set_requires_grad(true)).transpose()?,
            training: true,
        })
    }

    /// Re-draws the weights as a new layer would, like `reset_parameters()`.
    pub fn reset_parameters(&self) {
        // Shapes are 2-D and non-empty by construction, so the fan is always defined.
        init::kaiming_uniform_(
            &self.weight,
            init::FanMode::FanIn,
            init::Nonlinearity::LeakyRelu(5f64.sqrt()),
        )
        .expect("a Linear weight is 2-D");
        if let Some(b) = &self.bias {
            let fan_in = self.in_features();
            let bound = if fan_in > 0 {
                1.0 / (fan_in as f64).sqrt()
            } else {
                0.0
            };
            init::uniform_(b, -bound, bound).expect("a Linear bias is writable");
        }
    }

    /// The weight, `[out_features, in_features]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias, `[out_features]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// Size of each input sample.
    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    /// Size of each output sample.
    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }
}

impl Module for Linear {
    fn try_forward(&self, input: &Tensor) -> Result<Tensor> {
        functional::linear(input, &self.weight, self.bias.as_ref())
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            v.push(("bias".to_string(), b.clone()));
        }
        v
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }
}

impl std::fmt::Debug for Linear {
    /// PyTorch's repr: `Linear(in_features=3, out_features=2, bias=True)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Linear(in_features={}, out_features={}, bias={})",
            self.in_features(),
            self.out_features(),
            if self.bias.is_some() { "True" } else { "False" }
        )
    }
}

//! The `Module` trait: a forward computation plus the parameters it owns and a training flag.

use super::serialize::StateDictError;
use crate::error::{OrPanic, Result};
use crate::tensor::Tensor;
use std::collections::HashMap;

/// A layer or a model, like `torch.nn.Module`.
///
/// A module computes [`try_forward`](Self::try_forward) from its input, owns parameters
/// (tensors that require grad, listed by [`named_parameters`](Self::named_parameters) with
/// PyTorch's dotted names), and has a training flag that layers such as
/// [`Dropout`](super::Dropout) read ([`train`](Self::train) / [`eval`](Self::eval)).
///
/// Parameters are [`Tensor`] handles: the tensors returned by
/// [`parameters`](Self::parameters) *are* the module's weights, so an optimizer that updates
/// them in place updates the module.
///
/// A model of your own composes modules and forwards the three required methods and the
/// parameter list to them; the names follow PyTorch's (`field.weight`):
///
/// ```
/// use tensorgrad::nn::{self, Module};
/// use tensorgrad::{Result, Tensor};
///
/// struct Mlp { hidden: nn::Linear, out: nn::Linear, training: bool }
///
/// impl Module for Mlp {
///     fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
///         self.out.try_forward(&self.hidden.try_forward(x)?.tanh())
///     }
///     fn named_parameters(&self) -> Vec<(String, Tensor)> {
///         nn::prefixed("hidden", &self.hidden).into_iter()
///             .chain(nn::prefixed("out", &self.out))
///             .collect()
///     }
///     fn set_training(&mut self, training: bool) {
///         self.training = training;
///         self.hidden.set_training(training);
///         self.out.set_training(training);
///     }
///     fn is_training(&self) -> bool { self.training }
/// }
///
/// let mlp = Mlp { hidden: nn::Linear::new(2, 8), out: nn::Linear::new(8, 1), training: true };
/// let names: Vec<String> = mlp.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]);
/// assert_eq!(mlp.forward(&Tensor::zeros(&[5, 2])).shape(), &[5, 1]);
/// ```
pub trait Module: Send + Sync {
    /// Computes the output for `input`, or an error (wrong shape or dtype for this layer).
    fn try_forward(&self, input: &Tensor) -> Result<Tensor>;

    /// Computes the output for `input`, like calling a PyTorch module.
    ///
    /// # Panics
    /// On the errors [`try_forward`](Self::try_forward) returns.
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        self.try_forward(input).or_panic()
    }

    /// The parameters with their names, in registration order, like
    /// `module.named_parameters()`: `weight`, `bias`, and `0.weight`, `2.bias`, ... inside a
    /// [`Sequential`](super::Sequential). Modules without parameters return an empty list.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// The parameters, in the order of [`named_parameters`](Self::named_parameters); what an
    /// optimizer takes.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// Sets training (`true`) or evaluation (`false`) mode on this module and every module
    /// inside it, like `module.train(mode)`.
    fn set_training(&mut self, training: bool);

    /// True in training mode (the default for new modules), like `module.training`.
    fn is_training(&self) -> bool;

    /// Training mode, like `module.train()`: [`Dropout`](super::Dropout) drops.
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Evaluation mode, like `module.eval()`: [`Dropout`](super::Dropout) passes its input
    /// through.
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// Clears every parameter's gradient (sets `.grad` to `None`), like
    /// `module.zero_grad()`.
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }

    /// The parameters by name, detached (they share data with the module's parameters but do
    /// not require grad), like `module.state_dict()`; what [`save`](super::save) takes.
    fn state_dict(&self) -> Vec<(String, Tensor)> {
        self.named_parameters()
            .into_iter()
            .map(|(n, p)| (n, p.detach()))
            .collect()
    }

    /// Copies `state` into this module's parameters in place, like
    /// `module.load_state_dict(state)` with `strict=True`: every parameter must have an entry
    /// of the same shape and dtype, and every entry must name a parameter.
    ///
    /// All checks run before anything is copied, so on error the module is unchanged. The
    /// errors are [`Error::StateDict`](crate::Error::StateDict) with
    /// [`StateDictError::KeyMismatch`] (missing or unexpected keys),
    /// [`StateDictError::Shape`] or [`StateDictError::DType`].
    ///
    /// ```
    /// use tensorgrad::nn::{self, Module};
    /// let a = nn::Linear::new(3, 2);
    /// let b = nn::Linear::new(3, 2);
    /// b.load_state_dict(&a.state_dict().into_iter().collect())?;
    /// assert_eq!(a.weight().to_vec::<f32>(), b.weight().to_vec::<f32>());
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    fn load_state_dict(&self, state: &HashMap<String, Tensor>) -> Result<()> {
        let params = self.named_parameters();
        let missing: Vec<String> = params
            .iter()
            .filter(|(n, _)| !state.contains_key(n))
            .map(|(n, _)| n.clone())
            .collect();
        let mut unexpected: Vec<String> = state
            .keys()
            .filter(|k| !params.iter().any(|(n, _)| n == *k))
            .cloned()
            .collect();
        unexpected.sort();
        if !missing.is_empty() || !unexpected.is_empty() {
            return Err(StateDictError::KeyMismatch {
                missing,
                unexpected,
            }
            .into());
        }
        for (name, p) in &params {
            let src = &state[name];
            if src.shape() != p.shape() {
                return Err(StateDictError::Shape {
                    key: name.clone(),
                    expected: p.shape().to_vec(),
                    found: src.shape().to_vec(),
                }
                .into());
            }
            if src.dtype() != p.dtype() {
                return Err(StateDictError::DType {
                    key: name.clone(),
                    expected: p.dtype(),
                    found: src.dtype(),
                }
                .into());
            }
        }
        // In place, under no_grad as PyTorch does, so optimizers and every other handle to a
        // parameter see the loaded values.
        crate::no_grad(|| {
            params
                .iter()
                .try_for_each(|(name, p)| p.try_copy_(&state[name]))
        })
    }
}

/// `module`'s named parameters with `prefix.` in front of each name, for a model that holds
/// `module` in a field called `prefix` (see [`Module`]'s example).
pub fn prefixed(prefix: &str, module: &dyn Module) -> Vec<(String, Tensor)> {
    module
        .named_parameters()
        .into_iter()
        .map(|(n, p)| (format!("{prefix}.{n}"), p))
        .collect()
}

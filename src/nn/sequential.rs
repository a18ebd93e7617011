//! `Sequential`: modules applied one after another.

use super::Module;
use crate::error::Result;
use crate::tensor::Tensor;

/// Modules applied in order, each to the previous one's output, like `torch.nn.Sequential`.
///
/// Parameters are named by position, as in PyTorch: `0.weight`, `0.bias`, `2.weight`, ...
///
/// ```
/// use tensorgrad::nn::{self, Module};
/// use tensorgrad::Tensor;
/// let model = nn::Sequential::new()
///     .add(nn::Linear::new(4, 8))
///     .add(nn::Dropout::new(0.1))
///     .add(nn::Linear::new(8, 2));
/// let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// assert_eq!(model.forward(&Tensor::zeros(&[3, 4])).shape(), &[3, 2]);
/// ```
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
    training: bool,
}

impl Sequential {
    /// An empty sequence (its forward returns the input), in training mode.
    pub fn new() -> Sequential {
        Sequential {
            layers: Vec::new(),
            training: true,
        }
    }

    /// The sequence with `module` appended; for building in one expression.
    #[allow(clippy::should_implement_trait)] // `add` reads as "add a layer", not `+`
    pub fn add(mut self, module: impl Module + 'static) -> Sequential {
        self.push(Box::new(module));
        self
    }

    /// Appends a module, like `Sequential.append`. It takes the sequence's training mode.
    pub fn push(&mut self, mut module: Box<dyn Module>) {
        module.set_training(self.training);
        self.layers.push(module);
    }

    /// Number of modules.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True when there are no modules.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The module at `index`, like `seq[index]`.
    pub fn get(&self, index: usize) -> Option<&dyn Module> {
        self.layers.get(index).map(|m| &**m)
    }

    /// The modules in order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Module> {
        self.layers.iter().map(|m| &**m)
    }
}

impl Default for Sequential {
    fn default() -> Self {
        Sequential::new()
    }
}

impl From<Vec<Box<dyn Module>>> for Sequential {
    /// A sequence of the given modules, put in training mode.
    fn from(layers: Vec<Box<dyn Module>>) -> Self {
        let mut s = Sequential::new();
        for m in layers {
            s.push(m);
        }
        s
    }
}

impl Module for Sequential {
    fn try_forward(&self, input: &Tensor) -> Result<Tensor> {
        let mut x = input.clone();
        for m in &self.layers {
            x = m.try_forward(&x)?;
        }
        Ok(x)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, m)| {
                m.named_parameters()
                    .into_iter()
                    .map(move |(n, p)| (format!("{i}.{n}"), p))
            })
            .collect()
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
        for m in &mut self.layers {
            m.set_training(training);
        }
    }

    fn is_training(&self) -> bool {
        self.training
    }
}

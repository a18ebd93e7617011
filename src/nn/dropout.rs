//! `Dropout`: zeroes random elements while training.

use super::{functional, Module};
use crate::error::{OrPanic, Result};
use crate::tensor::Tensor;

/// Randomly zeroes each element with probability `p` in training mode and scales the rest by
/// `1 / (1 - p)` (inverted dropout), like `torch.nn.Dropout`; the identity in evaluation mode.
///
/// The mask is drawn from the global generator exactly as PyTorch's CPU dropout draws it, so
/// after the same [`manual_seed`](crate::manual_seed) the same elements are dropped.
///
/// ```
/// use tensorgrad::nn::{Dropout, Module};
/// use tensorgrad::{manual_seed, Tensor};
/// let mut drop = Dropout::new(0.5);
/// let x = Tensor::ones(&[8]);
/// manual_seed(0);
/// let y = drop.forward(&x);   // torch.manual_seed(0); nn.Dropout(0.5)(torch.ones(8))
/// assert_eq!(y.to_vec::<f32>(), [0., 0., 2., 0., 0., 0., 2., 2.]);
/// drop.eval();
/// assert_eq!(drop.forward(&x).to_vec::<f32>(), x.to_vec::<f32>());
/// ```
#[derive(Debug, Clone)]
pub struct Dropout {
    p: f64,
    training: bool,
}

impl Dropout {
    /// Dropout with probability `p` of zeroing an element.
    ///
    /// # Panics
    /// If `p` is not in [0, 1]; [`try_new`](Self::try_new) returns an error instead.
    #[track_caller]
    pub fn new(p: f64) -> Dropout {
        Dropout::try_new(p).or_panic()
    }

    /// [`new`](Self::new) returning an error for a `p` outside [0, 1].
    pub fn try_new(p: f64) -> Result<Dropout> {
        functional::check_dropout_p(p)?;
        Ok(Dropout { p, training: true })
    }

    /// The probability of zeroing an element.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl Module for Dropout {
    fn try_forward(&self, input: &Tensor) -> Result<Tensor> {
        functional::dropout(input, self.p, self.training)
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }
}

//! Neural-network building blocks, like `torch.nn`: the [`Module`] trait, layers
//! ([`Linear`], [`Sequential`], activations, [`Dropout`]), losses and activations as plain
//! functions ([`functional`]), PyTorch's initialisations ([`init`]), and saving and loading
//! parameters in the safetensors format ([`save`], [`load`], [`Module::load_state_dict`]).
//!
//! Layers draw their initial weights from the same generator, in the same order and with the
//! same formulas as PyTorch, so after [`manual_seed`](crate::manual_seed) a model starts from
//! the weights the same PyTorch code would give it:
//!
//! ```
//! use tensorgrad::nn::{self, Module};
//! use tensorgrad::optim::{Adam, Optimizer};
//! use tensorgrad::{manual_seed, Tensor};
//!
//! manual_seed(0);
//! let model = nn::Sequential::new()
//!     .add(nn::Linear::new(1, 16))
//!     .add(nn::Tanh::new())
//!     .add(nn::Linear::new(16, 1));
//! let x = Tensor::linspace(-1.0, 1.0, 32).reshape([32, 1]);
//! let y = &x * &x;
//! let mut opt = Adam::new(model.parameters(), 0.01);
//! let mut first = None;
//! for _ in 0..200 {
//!     opt.zero_grad();
//!     let loss = nn::functional::mse_loss(&model.forward(&x), &y)?;
//!     first.get_or_insert(loss.item::<f32>());
//!     loss.backward()?;
//!     opt.step()?;
//! }
//! let last = nn::functional::mse_loss(&model.forward(&x), &y)?.item::<f32>();
//! assert!(last < first.unwrap() / 10.0);
//! # Ok::<(), tensorgrad::Error>(())
//! ```

mod activation;
mod dropout;
pub mod functional;
pub mod init;
mod linear;
mod module;
mod sequential;
mod serialize;

pub use activation::{ReLU, Sigmoid, Tanh, GELU};
pub use dropout::Dropout;
pub use functional::Reduction;
pub use linear::Linear;
pub use module::{prefixed, Module};
pub use sequential::Sequential;
pub use serialize::{load, save, StateDictError};

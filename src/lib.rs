//! # tensorgrad
//!
//! PyTorch-style automatic differentiation for N-dimensional tensors, in pure Rust.
//!
//! Tensors remember how they were computed; [`Tensor::backward`] fills the leaves'
//! [`grad`](Tensor::grad); gradients are ordinary tensors, so they can be differentiated again
//! ([`autograd::grad`] with `create_graph`). Names and printing follow PyTorch.
//!
//! ```
//! use tensorgrad::tensor;
//! let x = tensor!(3.0).set_requires_grad(true);
//! let y = 6.0 * x.powi(2) + 2.0 * &x + 4.0;
//! println!("{y}");                       // tensor(64., grad_fn=<AddBackward0>)
//! y.backward()?;
//! assert_eq!(x.grad().unwrap().to_string(), "tensor(38.)");
//! # Ok::<(), tensorgrad::Error>(())
//! ```

pub mod autograd;
mod create;
mod display;
pub mod dtype;
mod element;
mod error;
pub mod forward_ad;
pub mod functional;
pub mod gradcheck;
mod handle;
mod kernels;
mod layout;
pub mod nn;
mod ops;
pub mod optim;
#[cfg(feature = "plot")]
pub mod plot;
mod print;
mod random;
mod shape_arg;
mod storage;
mod tensor;
pub mod viz;

pub use autograd::{no_grad, BackwardOptions, NoGradGuard};
pub use create::NestedData;
pub use dtype::DType;
pub use element::Element;
pub use error::{Error, Result};
pub use kernels::alloc::{buffer_cache_limit, empty_buffer_cache, set_buffer_cache_limit};
pub use kernels::pool::{get_num_threads, set_num_threads, THREADS_ENV};
pub use ops::index::IntoIndex;
pub use random::manual_seed;
pub use shape_arg::IntoDims;
pub use tensor::Tensor;

/// The README's Rust examples, compiled and run as doc-tests so they stay true.
#[cfg(all(doctest, feature = "plot"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

//! tensorgrad: PyTorch-style automatic differentiation in Rust.
mod display;
pub mod dtype;
pub use dtype::DType;

//! tensorgrad: PyTorch-style automatic differentiation in Rust.
pub mod dtype;
pub use dtype::DType;

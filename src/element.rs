//! The float types a tensor can hold, as a sealed trait so kernels are written once.

use crate::storage::Buffer;
use crate::DType;
use std::fmt::{Debug, Display};
use std::ops::{Add, Div, Mul, Neg, Sub};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// An element type of a tensor: `f32` or `f64`.
///
/// Used as the type parameter of [`Tensor::from_vec`](crate::Tensor::from_vec),
/// [`Tensor::to_vec`](crate::Tensor::to_vec) and [`Tensor::item`](crate::Tensor::item).
/// This trait is sealed; it cannot be implemented outside tensorgrad.
pub trait Element:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + Debug
    + Display
    + PartialOrd
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + std::iter::Sum
    + 'static
{
    /// The dtype tag of this element type.
    const DTYPE: DType;
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// Converts from f64 (rounding to nearest for f32).
    fn from_f64(v: f64) -> Self;
    /// Converts to f64 (exact).
    fn to_f64(self) -> f64;
    #[doc(hidden)]
    fn into_buffer(v: Vec<Self>) -> Buffer;
    #[doc(hidden)]
    fn scalar_buffer(x: Self) -> Buffer;
    #[doc(hidden)]
    fn slice(b: &Buffer) -> Option<&[Self]>;
    #[doc(hidden)]
    fn slice_mut(b: &mut Buffer) -> Option<&mut [Self]>;
    #[doc(hidden)]
    fn vec_from_buffer(b: Buffer) -> Option<Vec<Self>>;
}

macro_rules! impl_float {
    ($t:ty, $dt:ident, $variant:ident, $scalar:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dt;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn into_buffer(v: Vec<Self>) -> Buffer {
                Buffer::$variant(v)
            }
            #[inline]
            fn scalar_buffer(x: Self) -> Buffer {
                Buffer::$scalar(x)
            }
            #[inline]
            fn slice(b: &Buffer) -> Option<&[Self]> {
                match b {
                    Buffer::$variant(v) => Some(v),
                    Buffer::$scalar(x) => Some(std::slice::from_ref(x)),
                    _ => None,
                }
            }
            #[inline]
            fn slice_mut(b: &mut Buffer) -> Option<&mut [Self]> {
                match b {
                    Buffer::$variant(v) => Some(v),
                    Buffer::$scalar(x) => Some(std::slice::from_mut(x)),
                    _ => None,
                }
            }
            fn vec_from_buffer(b: Buffer) -> Option<Vec<Self>> {
                match b {
                    Buffer::$variant(v) => Some(v),
                    Buffer::$scalar(x) => Some(vec![x]),
                    _ => None,
                }
            }
        }
    };
}

impl_float!(f32, F32, F32, ScalarF32);
impl_float!(f64, F64, F64, ScalarF64);

//! `+ - * /` and unary `-` for `Tensor` and `&Tensor`, with numbers (`f64` or `i32`) on
//! either side, so PyTorch expressions read the same: `6.0 * x.powi(2) + 2.0 * &x + 4.0`.
//! (Not `f32`: with two float types, a literal like `3.0` would be ambiguous and
//! `let y = 3.0 * &x; y.backward()` would not compile. Convert with `as f64`.)
//!
//! Operators between tensors panic on shape or dtype errors, with the message the `try_*`
//! method would return; use `try_add` and friends to handle the error instead.

use crate::tensor::Tensor;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// Tensor-tensor operators for every owned/borrowed combination.
macro_rules! tensor_tensor {
    ($trait:ident, $method:ident, $call:ident) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$call(self, rhs)
            }
        }
        impl $trait<Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$call(self, &rhs)
            }
        }
        impl $trait<&Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$call(&self, rhs)
            }
        }
        impl $trait<Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$call(&self, &rhs)
            }
        }
    };
}

tensor_tensor!(Add, add, add);
tensor_tensor!(Sub, sub, sub);
tensor_tensor!(Mul, mul, mul);
tensor_tensor!(Div, div, div);

/// Tensor-number operators: `$lhs_call` for `tensor op n`, `$rhs_call` for `n op tensor`.
macro_rules! tensor_scalar {
    ($trait:ident, $method:ident, $lhs_call:ident, $rhs_call:ident, $($num:ty),*) => {$(
        impl $trait<$num> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: $num) -> Tensor {
                self.$lhs_call(rhs as f64)
            }
        }
        impl $trait<$num> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: $num) -> Tensor {
                self.$lhs_call(rhs as f64)
            }
        }
        impl $trait<&Tensor> for $num {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                rhs.$rhs_call(self as f64)
            }
        }
        impl $trait<Tensor> for $num {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                rhs.$rhs_call(self as f64)
            }
        }
    )*};
}

tensor_scalar!(Add, add, add_scalar, add_scalar, f64, i32);
tensor_scalar!(Sub, sub, sub_scalar, rsub_scalar, f64, i32);
tensor_scalar!(Mul, mul, mul_scalar, mul_scalar, f64, i32);
tensor_scalar!(Div, div, div_scalar, rdiv_scalar, f64, i32);

impl Neg for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}

impl Neg for Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}

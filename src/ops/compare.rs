//! Comparisons giving masks: eq, ne, lt, le, gt, ge, between tensors (broadcasting) or with a
//! number.
//!
//! tensorgrad has no bool dtype, so a mask is a tensor of the *inputs'* dtype holding 1.0
//! where the comparison holds and 0.0 elsewhere (PyTorch returns `torch.bool`). Masks never
//! require grad: comparisons are piecewise constant, so their gradient is zero. They combine
//! with arithmetic (`&m1 * &m2` is "and"), and [`Tensor::where_cond`] and the gradient rules
//! of maximum, clamp and relu use them. Comparisons with NaN are false (so `ne` is true), as
//! in IEEE and PyTorch.

use super::{map_binary, map_unary};
use crate::error::{OrPanic, Result};
use crate::tensor::Tensor;

/// 1.0 when `c` holds, else 0.0.
macro_rules! mask {
    ($c:expr) => {
        if $c {
            1.0
        } else {
            0.0
        }
    };
}

/// For each comparison: the tensor-tensor `try_` form, the panicking form, and the scalar form.
macro_rules! comparison {
    ($($name:ident, $try_name:ident, $scalar:ident, $op:tt, $torch:literal, $what:literal;)*) => {$(
        #[doc = concat!("Mask of `self ", stringify!($op), " other` with broadcasting, like `torch.", $torch, "`: 1.0 where it")]
        #[doc = concat!("holds (", $what, "), 0.0 elsewhere. tensorgrad has no bool dtype: the mask has the inputs'")]
        /// dtype and never requires grad (a comparison's gradient is zero). Multiply masks to
        /// combine them; pass one to [`where_cond`](Self::where_cond) to select.
        ///
        /// # Panics
        #[doc = concat!("If the shapes do not broadcast or the dtypes differ; [`", stringify!($try_name), "`](Self::", stringify!($try_name), ")")]
        /// returns the error instead.
        ///
        /// ```
        /// use tensorgrad::tensor;
        /// let a = tensor!([[1.0], [2.0]]);              // [2, 1]
        /// let b = tensor!([1.0, 2.0, 3.0]);             // [3]
        #[doc = concat!("let m = a.", stringify!($name), "(&b);")]
        /// assert_eq!(m.shape(), &[2, 3]);
        /// assert!(!m.requires_grad());
        /// ```
        #[track_caller]
        pub fn $name(&self, other: &Tensor) -> Tensor {
            self.$try_name(other).or_panic()
        }

        #[doc = concat!("[`", stringify!($name), "`](Self::", stringify!($name), ") returning an error (naming both shapes) instead of panicking.")]
        pub fn $try_name(&self, other: &Tensor) -> Result<Tensor> {
            map_binary!(stringify!($name), self, other, |x, y| mask!(x $op y))
        }

        #[doc = concat!("Mask of `self ", stringify!($op), " s` for a number `s` (`torch.", $torch, "(t, s)`), in the tensor's dtype.")]
        pub fn $scalar(&self, s: f64) -> Tensor {
            map_unary!(self, |x| mask!(x $op s as T))
        }
    )*};
}

impl Tensor {
    comparison! {
        eq, try_eq, eq_scalar, ==, "eq", "equal";
        ne, try_ne, ne_scalar, !=, "ne", "not equal; true where either is NaN";
        lt, try_lt, lt_scalar, <, "lt", "less than";
        le, try_le, le_scalar, <=, "le", "less than or equal";
        gt, try_gt, gt_scalar, >, "gt", "greater than";
        ge, try_ge, ge_scalar, >=, "ge", "greater than or equal";
    }
}

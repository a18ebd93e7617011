//! Differentiable operations. Each primitive's forward kernel call, grad_fn name and backward
//! rule sit together; backward rules are written with these same ops, so gradients are
//! themselves differentiable (that is all `create_graph` needs).

pub(crate) mod arith;
pub(crate) mod compare;
pub(crate) mod index;
pub(crate) mod inplace;
pub(crate) mod join;
pub(crate) mod linalg;
pub(crate) mod operators;
pub(crate) mod pow;
pub(crate) mod reduce;
pub(crate) mod reduce_ext;
pub(crate) mod select;
pub(crate) mod softmax;
pub(crate) mod unary;
pub(crate) mod view;

use crate::error::{Error, Result};
use crate::layout::{try_broadcast, Dims};
use crate::tensor::Tensor;

/// Builds the per-input gradient list a backward rule returns.
macro_rules! grads {
    ($($g:expr),* $(,)?) => { smallvec::smallvec![$($g),*] };
}
pub(crate) use grads;

/// `Some(f()?)` when `need`, else `None`: the gradient of an input only if it is wanted.
pub(crate) fn grad_if(need: bool, f: impl FnOnce() -> Result<Tensor>) -> Result<Option<Tensor>> {
    if need {
        f().map(Some)
    } else {
        Ok(None)
    }
}

/// Applies `|x| body` to every element, giving a new tensor of the same shape and dtype.
/// In the body, `x` has the concrete element type (`f32` or `f64`), named `T`.
macro_rules! map_unary {
    ($t:expr, |$x:ident| $body:expr) => {{
        let t: &$crate::tensor::Tensor = $t;
        $crate::tensor::with_dtype!(t.dtype(), T => {
            t.with_slice::<T, _>(|s, l| {
                let f = |$x: T| $body;
                if l.numel() == 1 {
                    // One element (every scalar): no kernel, no heap block.
                    $crate::tensor::Tensor::from_scalar_elem(f(s[l.offset]), t.shape())
                } else {
                    $crate::tensor::Tensor::from_elems($crate::kernels::elementwise::unary(s, l, f), t.shape())
                }
            })
        })
    }};
}
pub(crate) use map_unary;

/// Applies `|x, y| body` element-wise over the broadcast of two tensors; errors (naming `op`)
/// on dtype mismatch or shapes that do not broadcast.
macro_rules! map_binary {
    ($op:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $body:expr) => {{
        let (a, b): (&$crate::tensor::Tensor, &$crate::tensor::Tensor) = ($a, $b);
        $crate::ops::broadcast_pair($op, a, b).map(|(la, lb, shape)| {
            $crate::tensor::with_dtype!(a.dtype(), T => {
                a.with_slice::<T, _>(|sa, _| {
                    b.with_slice::<T, _>(|sb, _| {
                        let f = |$x: T, $y: T| $body;
                        if la.numel() == 1 {
                            // One element (every scalar): no kernel, no heap block.
                            $crate::tensor::Tensor::from_scalar_elem(f(sa[la.offset], sb[lb.offset]), &shape)
                        } else {
                            $crate::tensor::Tensor::from_elems($crate::kernels::elementwise::binary(sa, &la, sb, &lb, &shape, f), &shape)
                        }
                    })
                })
            })
        })
    }};
}
pub(crate) use map_binary;

/// Checks dtypes and broadcasts two layouts to their common shape.
pub(crate) fn broadcast_pair(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
) -> Result<(crate::layout::Layout, crate::layout::Layout, Dims)> {
    check_same_dtype(op, a, b)?;
    let shape = try_broadcast(op, a.shape(), b.shape())?;
    let la = a
        .layout()
        .broadcast_to(&shape)
        .expect("broadcast shape is valid");
    let lb = b
        .layout()
        .broadcast_to(&shape)
        .expect("broadcast shape is valid");
    Ok((la, lb, shape))
}

pub(crate) fn check_same_dtype(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.dtype() != b.dtype() {
        return Err(Error::DTypeMismatch {
            op,
            lhs: a.dtype(),
            rhs: b.dtype(),
        });
    }
    Ok(())
}

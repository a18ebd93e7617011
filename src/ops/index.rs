//! Selecting by index: `index_select` and `gather`, and the scatter-add that is their
//! gradient (and the gradient of `max_dim`/`min_dim`).
//!
//! tensorgrad has no integer dtype, so indices come as [`IntoIndex`]: a list of `usize`
//! (`&[0, 2]`, `vec![..]`) for a 1-D index, or an f32/f64 tensor holding whole numbers (what
//! [`Tensor::max_dim`] and [`Tensor::argmax_dim`] return), for an index of any shape. Every
//! index is checked: a value that is not a whole number, or that is out of range for the
//! dim it indexes, is an error naming the op, never a panic or a wrong result.

use super::grads;
use crate::autograd::node::{record, rule};
use crate::error::{Error, OrPanic, Result};
use crate::forward_ad::jvp;
use crate::kernels::elementwise::to_contiguous;
use crate::kernels::index::{gather, index_add, index_select, scatter_add, spread_index};
use crate::layout::normalize_dim;
use crate::tensor::{with_dtype, Tensor};
use std::sync::Arc;

mod sealed {
    pub trait Sealed {}
}

/// An index argument: a list of integers (`&[2, 0]`, `[1usize; 3]`, `vec![..]`; 1-D), or an
/// f32/f64 `&Tensor` holding whole numbers (any shape), since tensorgrad has no integer dtype.
/// Sealed.
pub trait IntoIndex: sealed::Sealed {
    /// The index values in row-major order and the index's shape. Errors (naming `op`) if a
    /// tensor holds a value that is not a whole number.
    #[doc(hidden)]
    fn to_index(&self, op: &'static str) -> Result<(Vec<i64>, Vec<usize>)>;
}

impl sealed::Sealed for &Tensor {}
impl IntoIndex for &Tensor {
    fn to_index(&self, op: &'static str) -> Result<(Vec<i64>, Vec<usize>)> {
        let values = self
            .to_f64_vec()
            .into_iter()
            .map(|v| {
                if v.is_finite() && v.fract() == 0.0 {
                    Ok(v as i64)
                } else {
                    Err(Error::invalid(op, format!("the index tensor holds {v}, which is not a whole number; indices must be whole numbers (tensorgrad stores them as floats)")))
                }
            })
            .collect::<Result<_>>()?;
        Ok((values, self.shape().to_vec()))
    }
}

/// Lists of integers as 1-D indices. Several integer types, so a literal like `&[2, 0]`
/// (which Rust types as `i32`) works; negative values are out of range.
macro_rules! list_index {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for &[$t] {}
        impl IntoIndex for &[$t] {
            fn to_index(&self, _: &'static str) -> Result<(Vec<i64>, Vec<usize>)> {
                let values: Vec<i64> = self.iter().map(|&i| i64::try_from(i).unwrap_or(i64::MAX)).collect();
                let len = values.len();
                Ok((values, vec![len]))
            }
        }
        impl sealed::Sealed for Vec<$t> {}
        impl IntoIndex for Vec<$t> {
            fn to_index(&self, op: &'static str) -> Result<(Vec<i64>, Vec<usize>)> {
                (&self[..]).to_index(op)
            }
        }
        impl sealed::Sealed for &Vec<$t> {}
        impl IntoIndex for &Vec<$t> {
            fn to_index(&self, op: &'static str) -> Result<(Vec<i64>, Vec<usize>)> {
                (&self[..]).to_index(op)
            }
        }
        impl<const N: usize> sealed::Sealed for [$t; N] {}
        impl<const N: usize> IntoIndex for [$t; N] {
            fn to_index(&self, op: &'static str) -> Result<(Vec<i64>, Vec<usize>)> {
                (&self[..]).to_index(op)
            }
        }
        impl<const N: usize> sealed::Sealed for &[$t; N] {}
        impl<const N: usize> IntoIndex for &[$t; N] {
            fn to_index(&self, op: &'static str) -> Result<(Vec<i64>, Vec<usize>)> {
                (&self[..]).to_index(op)
            }
        }
    )*};
}
list_index!(usize, isize, i32, i64);

/// Checked indices for one dim, with the shape of the positions they fill. Cheap to clone,
/// so backward rules can keep them.
#[derive(Clone)]
pub(crate) struct Indices {
    pub values: Arc<[usize]>,
    pub shape: Vec<usize>,
}

impl Indices {
    /// Checks every value against `size`, the length of the indexed dim.
    pub(crate) fn checked(
        op: &'static str,
        values: &[i64],
        shape: Vec<usize>,
        dim: usize,
        size: usize,
    ) -> Result<Indices> {
        let values = values
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .filter(|&u| u < size)
                    .ok_or(Error::IndexOutOfRange {
                        op,
                        index: i,
                        dim,
                        size,
                    })
            })
            .collect::<Result<Arc<[usize]>>>()?;
        Ok(Indices { values, shape })
    }

    /// Indices known to be in range (from an arg-reduction).
    pub(crate) fn trusted(values: Vec<usize>, shape: Vec<usize>) -> Indices {
        Indices {
            values: values.into(),
            shape,
        }
    }
}

impl Tensor {
    /// The entries `index` names along `dim`, in that order (repeats allowed), like
    /// `torch.index_select` (grad_fn `IndexSelectBackward0`). The index is 1-D (a list or a
    /// tensor of whole numbers); the result has `self`'s shape with `dim` resized to the
    /// index's length. Gradients of repeated entries add up.
    ///
    /// # Panics
    /// If `dim` is out of range, the index is not 1-D, or an index is out of range or not a
    /// whole number; see [`try_index_select`](Self::try_index_select).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let t = tensor!([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(t.index_select(1, &[2, 0, 2]).to_vec::<f32>(), vec![3.0, 1.0, 3.0, 6.0, 4.0, 6.0]);
    /// assert!(t.try_index_select(0, &[2]).is_err());   // dim 0 has size 2
    /// ```
    #[track_caller]
    pub fn index_select(&self, dim: isize, index: impl IntoIndex) -> Tensor {
        self.try_index_select(dim, index).or_panic()
    }

    /// [`index_select`](Self::index_select) returning an error instead of panicking.
    #[track_caller]
    pub fn try_index_select(&self, dim: isize, index: impl IntoIndex) -> Result<Tensor> {
        const OP: &str = "index_select";
        let (values, shape) = index.to_index(OP)?;
        if self.dim() == 0 {
            return Err(Error::invalid(
                OP,
                "cannot index a 0-d tensor; reshape it to 1-d first",
            ));
        }
        if shape.len() > 1 {
            return Err(Error::shape(
                OP,
                self.shape(),
                &shape,
                "the index must be 1-D; use gather for an index of the input's rank",
            ));
        }
        let d = normalize_dim(OP, dim, self.shape())?;
        let picked = Indices::checked(OP, &values, vec![values.len()], d, self.shape()[d])?;
        Ok(self.index_select_by(d, &picked.values))
    }

    /// `index_select` with checked indices. The backward spreads the index over the output's
    /// shape only when it runs, and scatters through [`scatter_by`](Self::scatter_by), which
    /// records its own backward, so higher derivatives work as for `gather`.
    pub(crate) fn index_select_by(&self, d: usize, picked: &Arc<[usize]>) -> Tensor {
        let mut out_shape = self.shape().to_vec();
        out_shape[d] = picked.len();
        let out = with_dtype!(self.dtype(), T => {
            let v = self.with_slice::<T, _>(|s, l| index_select(s, l, d, picked));
            Tensor::from_elems(v, &out_shape)
        });
        let in_shape = self.shape().to_vec();
        let out = record(out, "IndexSelectBackward0", &[self], |_| {
            let picked = picked.clone();
            rule(move |ctx, g| {
                let outer: usize = in_shape[..d].iter().product();
                let inner: usize = in_shape[d + 1..].iter().product();
                if !ctx.create_graph {
                    // One pass, run by run; the same values as the recorded scatter below.
                    let grad = with_dtype!(g.dtype(), T => {
                        let v = g.with_slice::<T, _>(|s, l| {
                            let add = |g: &[T]| index_add(g, outer, in_shape[d], inner, &picked);
                            match l.contiguous_range() {
                                Some(r) => add(&s[r]),
                                None => add(&to_contiguous(s, l)),
                            }
                        });
                        Tensor::from_elems(v, &in_shape)
                    });
                    return Ok(grads![Some(grad)]);
                }
                let full =
                    Indices::trusted(spread_index(&picked, outer, inner), g.shape().to_vec());
                Ok(grads![Some(g.scatter_by(&in_shape, d, &full))])
            })
        });
        jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| t.index_select_by(d, picked))
        })
    }

    /// Picks along `dim` by an index of the same rank: `out[i][j][k] = self[index[i][j][k]][j][k]`
    /// for `dim = 0`, and so on, like `torch.gather` (grad_fn `GatherBackward0`). The result
    /// has the index's shape, which must not exceed `self`'s in the other dims. The index is
    /// an f32/f64 tensor of whole numbers (or a list, for a 1-D input).
    ///
    /// # Panics
    /// If the ranks or sizes do not fit, or an index is out of range or not a whole number;
    /// see [`try_gather`](Self::try_gather).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let t = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// let picked = t.gather(1, &tensor!([[1.0, 1.0], [0.0, 1.0]]));
    /// assert_eq!(picked.to_vec::<f32>(), vec![2.0, 2.0, 3.0, 4.0]);
    /// // max_dim's indices plug straight in:
    /// let (values, idx) = t.max_dim(1, true);
    /// assert_eq!(t.gather(1, &idx).to_vec::<f32>(), values.to_vec::<f32>());
    /// ```
    #[track_caller]
    pub fn gather(&self, dim: isize, index: impl IntoIndex) -> Tensor {
        self.try_gather(dim, index).or_panic()
    }

    /// [`gather`](Self::gather) returning an error instead of panicking.
    #[track_caller]
    pub fn try_gather(&self, dim: isize, index: impl IntoIndex) -> Result<Tensor> {
        const OP: &str = "gather";
        let (values, shape) = index.to_index(OP)?;
        if self.dim() == 0 {
            return Err(Error::invalid(
                OP,
                "cannot gather from a 0-d tensor; reshape it to 1-d first",
            ));
        }
        let d = normalize_dim(OP, dim, self.shape())?;
        if shape.len() != self.dim() {
            return Err(Error::shape(
                OP,
                self.shape(),
                &shape,
                "the index must have as many dims as the input",
            ));
        }
        if let Some(k) = (0..shape.len()).find(|&k| k != d && shape[k] > self.shape()[k]) {
            return Err(Error::shape(
                OP,
                self.shape(),
                &shape,
                format!(
                    "the index is larger than the input in dim {k}; only dim {dim} may be larger"
                ),
            ));
        }
        let idx = Indices::checked(OP, &values, shape, d, self.shape()[d])?;
        Ok(self.gather_by(d, &idx, "GatherBackward0"))
    }

    /// Gather with checked indices, recorded under `name`. Its backward scatters the gradient
    /// back (and the scatter's backward gathers), so it differentiates to any order.
    #[track_caller]
    pub(crate) fn gather_by(&self, dim: usize, idx: &Indices, name: &'static str) -> Tensor {
        let out = with_dtype!(self.dtype(), T => {
            let v = self.with_slice::<T, _>(|s, l| gather(s, l, dim, &idx.values, &idx.shape));
            Tensor::from_elems(v, &idx.shape)
        });
        let in_shape = self.shape().to_vec();
        let out = record(out, name, &[self], |_| {
            let idx = idx.clone();
            rule(move |_, g| Ok(grads![Some(g.scatter_by(&in_shape, dim, &idx))]))
        });
        jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| t.gather_by(dim, idx, name))
        })
    }

    /// Zeros of `shape` with `self` (shaped like the index) added at the indexed positions:
    /// the gradient of [`gather_by`](Self::gather_by).
    #[track_caller]
    pub(crate) fn scatter_by(&self, shape: &[usize], dim: usize, idx: &Indices) -> Tensor {
        let out = with_dtype!(self.dtype(), T => {
            let src = self.with_slice::<T, _>(crate::kernels::elementwise::to_contiguous);
            Tensor::from_elems(scatter_add(shape, dim, &idx.values, &idx.shape, &src), shape)
        });
        let out = record(out, "ScatterAddBackward0", &[self], |_| {
            let idx = idx.clone();
            rule(move |_, g| Ok(grads![Some(g.gather_by(dim, &idx, "GatherBackward0"))]))
        });
        jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| t.scatter_by(shape, dim, idx))
        })
    }
}

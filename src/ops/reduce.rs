//! Sums and means: over everything, over listed dims, and back to a broadcast input's shape.

use super::grads;
use crate::autograd::node::{record, rule};
use crate::error::{Error, OrPanic, Result};
use crate::forward_ad::jvp;
use crate::kernels::reduce::{sum_all, sum_dims};
use crate::layout::normalize_dim;
use crate::tensor::{with_dtype, Tensor};
use crate::IntoDims;
use smallvec::SmallVec;

/// Which dims of `shape` the list names (negative dims count from the end); errors on
/// out-of-range or repeated dims. An empty list means every dim, as in PyTorch.
pub(crate) fn reduced_mask(
    op: &'static str,
    dims: &[isize],
    shape: &[usize],
) -> Result<SmallVec<[bool; 4]>> {
    let mut mask: SmallVec<[bool; 4]> = SmallVec::from_elem(dims.is_empty(), shape.len());
    // A 0-d tensor has one nameable dim (0 or -1) and nothing to reduce along it.
    let mut seen: SmallVec<[bool; 4]> = SmallVec::from_elem(false, shape.len().max(1));
    for &d in dims {
        let i = normalize_dim(op, d, shape)?;
        if std::mem::replace(&mut seen[i], true) {
            return Err(Error::invalid(
                op,
                format!("dim {d} appears more than once in {dims:?}; list each dim once"),
            ));
        }
        if let Some(m) = mask.get_mut(i) {
            *m = true;
        }
    }
    Ok(mask)
}

/// Output shape after reducing `mask`'s dims.
pub(crate) fn reduced_shape(shape: &[usize], mask: &[bool], keepdim: bool) -> Vec<usize> {
    shape
        .iter()
        .zip(mask)
        .filter_map(|(&n, &r)| if r { keepdim.then_some(1) } else { Some(n) })
        .collect()
}

impl Tensor {
    /// Sum of all elements, a 0-d tensor (grad_fn `SumBackward0`).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([[1.0, 2.0], [3.0, 4.0]]).sum().item::<f32>(), 10.0);
    /// ```
    #[track_caller]
    pub fn sum(&self) -> Tensor {
        let out = with_dtype!(self.dtype(), T => {
            let s = self.with_slice::<T, _>(sum_all);
            Tensor::from_elems(vec![s], &[])
        });
        let shape = self.shape().to_vec();
        let out = record(out, "SumBackward0", &[self], |_| {
            rule(move |_, g| Ok(grads![Some(g.expand_to(&shape))]))
        });
        jvp(out, &[self], |t| t[0].as_ref().map(Tensor::sum))
    }

    /// Sum over `dims` (negative dims count from the end), keeping them as size 1 when
    /// `keepdim` (grad_fn `SumBackward1`).
    ///
    /// # Panics
    /// If a dim is out of range or repeated; see [`try_sum_dim`](Self::try_sum_dim).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let m = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(m.sum_dim(&[0], false).to_vec::<f32>(), vec![4.0, 6.0]);
    /// assert_eq!(m.sum_dim(&[-1], true).shape(), &[2, 1]);
    /// ```
    #[track_caller]
    pub fn sum_dim(&self, dims: impl IntoDims, keepdim: bool) -> Tensor {
        self.try_sum_dim(dims, keepdim).or_panic()
    }

    /// [`sum_dim`](Self::sum_dim) returning an error instead of panicking.
    #[track_caller]
    pub fn try_sum_dim(&self, dims: impl IntoDims, keepdim: bool) -> Result<Tensor> {
        let dims = dims.to_dims();
        let mask = reduced_mask("sum_dim", &dims, self.shape())?;
        let out_shape = reduced_shape(self.shape(), &mask, keepdim);
        let out = with_dtype!(self.dtype(), T => {
            let v = self.with_slice::<T, _>(|data, layout| sum_dims(data, layout, &mask));
            Tensor::from_elems(v, &out_shape)
        });
        let in_shape = self.shape().to_vec();
        let kept_shape = reduced_shape(&in_shape, &mask, true);
        let out = record(out, "SumBackward1", &[self], |_| {
            rule(move |_, g| Ok(grads![Some(g.reshape_to(&kept_shape).expand_to(&in_shape))]))
        });
        Ok(jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| t.sum_dim(&dims, keepdim))
        }))
    }

    /// Mean of all elements, a 0-d tensor (grad_fn `MeanBackward0`). NaN for an empty tensor.
    #[track_caller]
    pub fn mean(&self) -> Tensor {
        let n = self.numel() as f64;
        let out = self.sum().detach().div_scalar(n);
        let shape = self.shape().to_vec();
        let out = record(out, "MeanBackward0", &[self], |_| {
            rule(move |_, g| Ok(grads![Some(g.expand_to(&shape).div_scalar(n))]))
        });
        jvp(out, &[self], |t| t[0].as_ref().map(Tensor::mean))
    }

    /// Mean over `dims`, keeping them as size 1 when `keepdim` (grad_fn `MeanBackward1`).
    ///
    /// # Panics
    /// If a dim is out of range or repeated; see [`try_mean_dim`](Self::try_mean_dim).
    #[track_caller]
    pub fn mean_dim(&self, dims: impl IntoDims, keepdim: bool) -> Tensor {
        self.try_mean_dim(dims, keepdim).or_panic()
    }

    /// [`mean_dim`](Self::mean_dim) returning an error instead of panicking.
    #[track_caller]
    pub fn try_mean_dim(&self, dims: impl IntoDims, keepdim: bool) -> Result<Tensor> {
        let dims = dims.to_dims();
        let mask = reduced_mask("mean_dim", &dims, self.shape())?;
        let count: usize = self
            .shape()
            .iter()
            .zip(&mask)
            .filter(|(_, &r)| r)
            .map(|(&n, _)| n)
            .product();
        let n = count as f64;
        let out = crate::no_grad(|| self.try_sum_dim(&dims, keepdim))?.div_scalar(n);
        let in_shape = self.shape().to_vec();
        let kept_shape = reduced_shape(&in_shape, &mask, true);
        let out = record(out, "MeanBackward1", &[self], |_| {
            rule(move |_, g| {
                Ok(grads![Some(
                    g.reshape_to(&kept_shape).expand_to(&in_shape).div_scalar(n)
                )])
            })
        });
        Ok(jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| t.mean_dim(dims, keepdim))
        }))
    }

    /// Sums a broadcast result back to `shape` (which must broadcast to `self.shape()`): the
    /// gradient rule of every broadcasting op, like PyTorch's `sum_to_size`.
    #[track_caller]
    pub(crate) fn sum_to_shape(&self, shape: &[usize]) -> Tensor {
        if self.shape() == shape {
            return self.clone();
        }
        let lead = self.dim() - shape.len();
        let dims: Vec<isize> = (0..self.dim())
            .filter(|&d| d < lead || (shape[d - lead] == 1 && self.shape()[d] != 1))
            .map(|d| d as isize)
            .collect();
        let summed = if dims.is_empty() {
            self.clone()
        } else {
            self.sum_dim(&dims, true)
        };
        summed.reshape_to(shape)
    }
}

//! More reductions: max/min (over everything, over dims, or along one dim with indices),
//! argmax/argmin, var/std, prod, logsumexp.
//!
//! Indices (from `max_dim`, `argmax`, ...) come back as a tensor of the input's dtype holding
//! whole numbers, since tensorgrad has no integer dtype (PyTorch returns int64). They are
//! exact: f32 represents every integer up to 2²⁴, and a longer f32 dim is refused. Pass them
//! to [`gather`](Tensor::gather) or [`index_select`](Tensor::index_select), or read them
//! with `to_vec::<f64>()` and cast.

use super::grads;
use super::index::Indices;
use super::reduce::{reduced_mask, reduced_shape};
use crate::autograd::node::{record, rule};
use crate::autograd::saved::SavedTensor;
use crate::error::{Error, OrPanic, Result};
use crate::forward_ad::jvp;
use crate::kernels::index::arg_reduce;
use crate::kernels::reduce::{
    max_contiguous, min_contiguous, pick_max, pick_min, reduce_dims, reduce_dims_with,
};
use crate::kernels::softmax::logsumexp_rows;
use crate::layout::normalize_dim;
use crate::shape_arg::IntoDims;
use crate::tensor::{with_dtype, Tensor};
use crate::{no_grad, DType, Element};

/// What a reduction over some dims produces.
struct Plan {
    /// The dims as given (negative allowed; empty = all), for calling other reductions.
    dims: Vec<isize>,
    mask: smallvec::SmallVec<[bool; 4]>,
    /// Output shape with the reduced dims kept as size 1.
    kept: Vec<usize>,
    /// Output shape as asked (`keepdim` or not).
    out: Vec<usize>,
    /// Elements reduced into each output element.
    count: usize,
}

fn plan(op: &'static str, dims: Vec<isize>, shape: &[usize], keepdim: bool) -> Result<Plan> {
    let mask = reduced_mask(op, &dims, shape)?;
    let count = shape
        .iter()
        .zip(&mask)
        .filter(|(_, &r)| r)
        .map(|(&n, _)| n)
        .product();
    Ok(Plan {
        kept: reduced_shape(shape, &mask, true),
        out: reduced_shape(shape, &mask, keepdim),
        dims,
        mask,
        count,
    })
}

/// 1.0 where `x` equals its reduced extreme `y` (NaN counting as equal to NaN): the elements
/// that share the gradient of max/min/amax/amin.
fn ties(x: &Tensor, y: &Tensor) -> Tensor {
    x.eq(y) + x.ne(x) * y.ne(y)
}

/// `g / (2y)`, and 0 where `y = 0`: the chain factor of a square root (std), as in PyTorch.
fn over_twice(g: &Tensor, y: &Tensor) -> Tensor {
    y.eq_scalar(0.0).where_cond(
        &Tensor::zeros_dtype(&[], g.dtype()),
        &(g / y.mul_scalar(2.0)),
    )
}

/// `x - mean(x)` over `dims`, keeping them (the building block of var and its gradient).
fn centered(x: &Tensor, dims: &[isize]) -> Tensor {
    x - x.mean_dim(dims, true)
}

/// For each element along `d`, the product of the others along `d`, given the product `y`
/// (kept dims): `y / x` without zeros (PyTorch's formula), otherwise products of the
/// elements before and after it, which are right with any number of zeros and need no
/// division. Built from differentiable ops, so prod differentiates again.
fn product_of_others(x: &Tensor, d: usize, y: &Tensor) -> Tensor {
    if x.dim() == 0 {
        return Tensor::ones_like(x);
    }
    if !x.to_f64_vec().contains(&0.0) {
        return y / x;
    }
    exclusive_cumprod(x, d, false) * exclusive_cumprod(x, d, true)
}

/// Products of the elements strictly before (or after, `reverse`) each position along `d`:
/// shift by one filling with 1, then a log-depth (Hillis–Steele) inclusive scan.
fn exclusive_cumprod(x: &Tensor, d: usize, reverse: bool) -> Tensor {
    let n = x.shape()[d];
    let shift = |y: &Tensor, k: usize| {
        let mut shape = x.shape().to_vec();
        shape[d] = k.min(n);
        let ones = Tensor::ones_dtype(&shape, x.dtype());
        if k >= n {
            return ones;
        }
        let kept = y.narrow_as(d, if reverse { k } else { 0 }, n - k, "SliceBackward0");
        let parts = if reverse {
            [&kept, &ones]
        } else {
            [&ones, &kept]
        };
        Tensor::cat(&parts, d as isize)
    };
    let mut y = shift(x, 1);
    let mut k = 1;
    while k < n {
        y = &y * shift(&y, k);
        k *= 2;
    }
    y
}

impl Tensor {
    /// The largest (`is_max`) or smallest element over the masked dims, kept as size 1. NaN
    /// wins. Empty reductions give -inf (max) or +inf (min); callers that must refuse them do.
    pub(crate) fn extreme_values(&self, mask: &[bool], is_max: bool) -> Tensor {
        let kept = reduced_shape(self.shape(), mask, true);
        with_dtype!(self.dtype(), T => {
            let init = T::from_f64(if is_max { f64::NEG_INFINITY } else { f64::INFINITY });
            // Contiguous runs (the last dim: softmax's shift) go through lanes, which vectorise.
            let pick = move |acc: T, x: T| if is_max { pick_max(acc, x) } else { pick_min(acc, x) };
            let run: fn(&[T]) -> T = if is_max { max_contiguous } else { min_contiguous };
            let v = self.with_slice::<T, _>(|s, l| reduce_dims_with(s, l, mask, init, pick, Some(run)));
            Tensor::from_elems(v, &kept)
        })
    }

    /// max/min/amax/amin: the extreme over `dims`, the gradient shared evenly among ties
    /// (PyTorch's `evenly_distribute_backward` for max() and amax alike).
    #[track_caller]
    fn try_extreme(
        &self,
        op: &'static str,
        dims: Vec<isize>,
        keepdim: bool,
        is_max: bool,
        name: &'static str,
    ) -> Result<Tensor> {
        let p = plan(op, dims, self.shape(), keepdim)?;
        if p.count == 0 {
            return Err(Error::invalid(op, format!("cannot reduce over no elements (shape {:?}, dims {:?}); the extreme of nothing is undefined", self.shape(), p.dims)));
        }
        let out = self.extreme_values(&p.mask, is_max).reshape_to(&p.out);
        let plain = out.clone();
        let Plan {
            dims,
            kept,
            out: out_shape,
            ..
        } = p;
        let out = record(out, name, &[self], |_| {
            let (x, y) = (SavedTensor::input(self), SavedTensor::output(&plain));
            let (dims, kept) = (dims.clone(), kept.clone());
            rule(move |ctx, g| {
                let t = ties(&x.get(ctx)?, &y.get(ctx)?.reshape_to(&kept));
                Ok(grads![Some(
                    g.reshape_to(&kept) * &t / t.sum_dim(&dims, true)
                )])
            })
        });
        Ok(jvp(out, &[self], |t| {
            let w = ties(self, &plain.reshape_to(&kept));
            t[0].as_ref().map(|t| {
                ((t * &w).sum_dim(&dims, true) / w.sum_dim(&dims, true)).reshape_to(&out_shape)
            })
        }))
    }

    /// The largest element, a 0-d tensor, like `t.max()` (grad_fn `MaxBackward1`). NaN
    /// wins. If several elements tie for the maximum, the gradient is split evenly among them,
    /// as in PyTorch.
    ///
    /// # Panics
    /// If the tensor is empty; see [`try_max`](Self::try_max).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let x = tensor!([1.0, 3.0, 3.0]).set_requires_grad(true);
    /// let m = x.max();
    /// assert_eq!(m.item::<f32>(), 3.0);
    /// m.backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.0, 0.5, 0.5]);
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    #[track_caller]
    pub fn max(&self) -> Tensor {
        self.try_max().or_panic()
    }

    /// [`max`](Self::max) returning an error instead of panicking.
    #[track_caller]
    pub fn try_max(&self) -> Result<Tensor> {
        self.try_extreme("max", Vec::new(), false, true, "MaxBackward1")
    }

    /// The smallest element, a 0-d tensor, like `t.min()` (grad_fn `MinBackward1`; ties share
    /// the gradient evenly).
    ///
    /// # Panics
    /// If the tensor is empty; see [`try_min`](Self::try_min).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([[4.0, -1.0], [2.0, 8.0]]).min().item::<f32>(), -1.0);
    /// ```
    #[track_caller]
    pub fn min(&self) -> Tensor {
        self.try_min().or_panic()
    }

    /// [`min`](Self::min) returning an error instead of panicking.
    #[track_caller]
    pub fn try_min(&self) -> Result<Tensor> {
        self.try_extreme("min", Vec::new(), false, false, "MinBackward1")
    }

    /// The largest values over `dims` (empty = all), like `torch.amax` (grad_fn
    /// `AmaxBackward0`; ties share the gradient evenly). No indices; see
    /// [`max_dim`](Self::max_dim) for those.
    ///
    /// # Panics
    /// If a dim is out of range or repeated, or a reduced dim is empty; see
    /// [`try_amax`](Self::try_amax).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let t = tensor!([[1.0, 5.0], [7.0, 2.0]]);
    /// assert_eq!(t.amax(&[1], false).to_vec::<f32>(), vec![5.0, 7.0]);
    /// assert_eq!(t.amax(&[0, 1], true).shape(), &[1, 1]);
    /// ```
    #[track_caller]
    pub fn amax(&self, dims: impl IntoDims, keepdim: bool) -> Tensor {
        self.try_amax(dims, keepdim).or_panic()
    }

    /// [`amax`](Self::amax) returning an error instead of panicking.
    #[track_caller]
    pub fn try_amax(&self, dims: impl IntoDims, keepdim: bool) -> Result<Tensor> {
        self.try_extreme("amax", dims.to_dims(), keepdim, true, "AmaxBackward0")
    }

    /// The smallest values over `dims` (empty = all), like `torch.amin` (grad_fn
    /// `AminBackward0`).
    ///
    /// # Panics
    /// As [`amax`](Self::amax); see [`try_amin`](Self::try_amin).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([[1.0, 5.0], [7.0, 2.0]]).amin(&[0], false).to_vec::<f32>(), vec![1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn amin(&self, dims: impl IntoDims, keepdim: bool) -> Tensor {
        self.try_amin(dims, keepdim).or_panic()
    }

    /// [`amin`](Self::amin) returning an error instead of panicking.
    #[track_caller]
    pub fn try_amin(&self, dims: impl IntoDims, keepdim: bool) -> Result<Tensor> {
        self.try_extreme("amin", dims.to_dims(), keepdim, false, "AminBackward0")
    }

    /// The largest value along `dim` and its index, like `torch.max(t, dim, keepdim)`
    /// (grad_fn `MaxBackward0`: the gradient goes to the returned index only). The first
    /// maximum wins a tie; NaN wins over numbers. The indices are a tensor of the input's
    /// dtype holding whole numbers (tensorgrad has no integer dtype) that never requires
    /// grad; it plugs into [`gather`](Self::gather).
    ///
    /// # Panics
    /// If `dim` is out of range or has size 0, or an f32 dim is longer than 2²⁴ (its
    /// indices would not be exact); see [`try_max_dim`](Self::try_max_dim).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let t = tensor!([[1.0, 9.0, 9.0], [4.0, 2.0, 0.0]]);
    /// let (values, indices) = t.max_dim(1, false);
    /// assert_eq!(values.to_vec::<f32>(), vec![9.0, 4.0]);
    /// assert_eq!(indices.to_vec::<f32>(), vec![1.0, 0.0]);
    /// assert_eq!(t.max_dim(-1, true).0.shape(), &[2, 1]);
    /// ```
    #[track_caller]
    pub fn max_dim(&self, dim: isize, keepdim: bool) -> (Tensor, Tensor) {
        self.try_max_dim(dim, keepdim).or_panic()
    }

    /// [`max_dim`](Self::max_dim) returning an error instead of panicking.
    #[track_caller]
    pub fn try_max_dim(&self, dim: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        self.arg_extreme("max_dim", dim, keepdim, true)
    }

    /// The smallest value along `dim` and its index, like `torch.min(t, dim, keepdim)`
    /// (grad_fn `MinBackward0`); see [`max_dim`](Self::max_dim) for ties and indices.
    ///
    /// # Panics
    /// As [`max_dim`](Self::max_dim); see [`try_min_dim`](Self::try_min_dim).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let (v, i) = tensor!([3.0, 1.0, 2.0]).min_dim(0, false);
    /// assert_eq!((v.item::<f32>(), i.item::<f32>()), (1.0, 1.0));
    /// ```
    #[track_caller]
    pub fn min_dim(&self, dim: isize, keepdim: bool) -> (Tensor, Tensor) {
        self.try_min_dim(dim, keepdim).or_panic()
    }

    /// [`min_dim`](Self::min_dim) returning an error instead of panicking.
    #[track_caller]
    pub fn try_min_dim(&self, dim: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        self.arg_extreme("min_dim", dim, keepdim, false)
    }

    #[track_caller]
    fn arg_extreme(
        &self,
        op: &'static str,
        dim: isize,
        keepdim: bool,
        is_max: bool,
    ) -> Result<(Tensor, Tensor)> {
        if self.dim() == 0 {
            // PyTorch treats a 0-d tensor as one element along dim 0 or -1.
            normalize_dim(op, dim, self.shape())?;
            return self.reshape_to(&[1]).arg_extreme(op, 0, false, is_max);
        }
        let d = normalize_dim(op, dim, self.shape())?;
        let n = self.shape()[d];
        if n == 0 {
            return Err(Error::invalid(
                op,
                format!(
                    "cannot reduce dim {dim} of size 0 (shape {:?}); it has no extreme",
                    self.shape()
                ),
            ));
        }
        if self.dtype() == DType::F32 && n > 1 << 24 {
            return Err(Error::invalid(op, format!("dim {dim} has {n} entries, more than f32 indices can count exactly (2^24); convert to f64 first")));
        }
        let mut kept = self.shape().to_vec();
        kept[d] = 1;
        let out_shape: Vec<usize> = if keepdim {
            kept.clone()
        } else {
            self.shape()
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != d)
                .map(|(_, &n)| n)
                .collect()
        };
        let (values, indices) = with_dtype!(self.dtype(), T => {
            let (v, i) = self.with_slice::<T, _>(|s, l| arg_reduce(s, l, d, is_max));
            let idx: Vec<T> = i.iter().map(|&k| k as T).collect();
            (Tensor::from_elems(v, &out_shape), (Tensor::from_elems(idx, &out_shape), i))
        });
        let (index_tensor, indices) = indices;
        let idx = Indices::trusted(indices, kept.clone());
        let name = if is_max {
            "MaxBackward0"
        } else {
            "MinBackward0"
        };
        let in_shape = self.shape().to_vec();
        let values = record(values, name, &[self], |_| {
            let idx = idx.clone();
            rule(move |_, g| {
                Ok(grads![Some(
                    g.reshape_to(&kept).scatter_by(&in_shape, d, &idx)
                )])
            })
        });
        let values = jvp(values, &[self], |t| {
            t[0].as_ref()
                .map(|t| t.gather_by(d, &idx, name).reshape_to(&out_shape))
        });
        Ok((values, index_tensor))
    }

    /// The flat (row-major) index of the largest element, a 0-d tensor of the input's dtype,
    /// like `t.argmax()`. The first maximum wins a tie.
    ///
    /// # Panics
    /// If the tensor is empty; see [`try_argmax`](Self::try_argmax).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([[1.0, 9.0], [9.0, 2.0]]).argmax().item::<f32>(), 1.0);
    /// ```
    #[track_caller]
    pub fn argmax(&self) -> Tensor {
        self.try_argmax().or_panic()
    }

    /// [`argmax`](Self::argmax) returning an error instead of panicking.
    #[track_caller]
    pub fn try_argmax(&self) -> Result<Tensor> {
        no_grad(|| {
            self.reshape_to(&[self.numel()])
                .arg_extreme("argmax", 0, false, true)
        })
        .map(|(_, i)| i)
    }

    /// The flat index of the smallest element, like `t.argmin()`.
    ///
    /// # Panics
    /// If the tensor is empty; see [`try_argmin`](Self::try_argmin).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([3.0, -1.0, 2.0]).argmin().item::<f32>(), 1.0);
    /// ```
    #[track_caller]
    pub fn argmin(&self) -> Tensor {
        self.try_argmin().or_panic()
    }

    /// [`argmin`](Self::argmin) returning an error instead of panicking.
    #[track_caller]
    pub fn try_argmin(&self) -> Result<Tensor> {
        no_grad(|| {
            self.reshape_to(&[self.numel()])
                .arg_extreme("argmin", 0, false, false)
        })
        .map(|(_, i)| i)
    }

    /// Indices of the largest values along `dim`, like `torch.argmax(t, dim, keepdim)`: the
    /// indices half of [`max_dim`](Self::max_dim).
    ///
    /// # Panics
    /// As [`max_dim`](Self::max_dim); see [`try_argmax_dim`](Self::try_argmax_dim).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([[1.0, 9.0], [9.0, 2.0]]).argmax_dim(1, false).to_vec::<f32>(), vec![1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn argmax_dim(&self, dim: isize, keepdim: bool) -> Tensor {
        self.try_argmax_dim(dim, keepdim).or_panic()
    }

    /// [`argmax_dim`](Self::argmax_dim) returning an error instead of panicking.
    #[track_caller]
    pub fn try_argmax_dim(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        no_grad(|| self.arg_extreme("argmax_dim", dim, keepdim, true)).map(|(_, i)| i)
    }

    /// Indices of the smallest values along `dim`, like `torch.argmin(t, dim, keepdim)`.
    ///
    /// # Panics
    /// As [`max_dim`](Self::max_dim); see [`try_argmin_dim`](Self::try_argmin_dim).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([[1.0, 9.0], [9.0, 2.0]]).argmin_dim(0, true).to_vec::<f32>(), vec![0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn argmin_dim(&self, dim: isize, keepdim: bool) -> Tensor {
        self.try_argmin_dim(dim, keepdim).or_panic()
    }

    /// [`argmin_dim`](Self::argmin_dim) returning an error instead of panicking.
    #[track_caller]
    pub fn try_argmin_dim(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        no_grad(|| self.arg_extreme("argmin_dim", dim, keepdim, false)).map(|(_, i)| i)
    }

    /// Unbiased variance of all elements (Bessel's correction, dividing by N - 1), like
    /// `t.var()` (grad_fn `VarBackward0`). A single element gives NaN, as in PyTorch.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([1.0, 2.0, 3.0, 4.0]).var().item::<f32>(), 5.0 / 3.0);
    /// ```
    #[track_caller]
    pub fn var(&self) -> Tensor {
        // An empty dim list reduces every dim: there is no dim that could be out of range.
        self.try_var_dim(&[] as &[isize], 1, false)
            .expect("var over all dims cannot fail")
    }

    /// Variance over `dims` (empty = all) dividing by `N - correction`, like
    /// `torch.var(t, dims, correction=c, keepdim=k)`: `correction = 1` is the unbiased
    /// estimate (PyTorch's default), `0` the population variance. grad_fn `VarBackward0`.
    ///
    /// # Panics
    /// If a dim is out of range or repeated; see [`try_var_dim`](Self::try_var_dim).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let t = tensor!([[1.0, 3.0], [2.0, 2.0]]);
    /// assert_eq!(t.var_dim(&[1], 0, false).to_vec::<f32>(), vec![1.0, 0.0]);
    /// assert_eq!(t.var_dim(&[-1], 1, true).shape(), &[2, 1]);
    /// ```
    #[track_caller]
    pub fn var_dim(&self, dims: impl IntoDims, correction: usize, keepdim: bool) -> Tensor {
        self.try_var_dim(dims, correction, keepdim).or_panic()
    }

    /// [`var_dim`](Self::var_dim) returning an error instead of panicking.
    #[track_caller]
    pub fn try_var_dim(
        &self,
        dims: impl IntoDims,
        correction: usize,
        keepdim: bool,
    ) -> Result<Tensor> {
        self.var_or_std("var_dim", dims.to_dims(), correction, keepdim, false)
    }

    /// Unbiased standard deviation of all elements, like `t.std()` (grad_fn `StdBackward0`).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([2.0, 4.0]).std().item::<f32>(), 2f32.sqrt());
    /// ```
    #[track_caller]
    pub fn std(&self) -> Tensor {
        // An empty dim list reduces every dim: there is no dim that could be out of range.
        self.try_std_dim(&[] as &[isize], 1, false)
            .expect("std over all dims cannot fail")
    }

    /// Standard deviation over `dims` dividing by `N - correction` (see
    /// [`var_dim`](Self::var_dim)), like `torch.std` (grad_fn `StdBackward0`). Where the result
    /// is 0 the gradient is 0 (not NaN), as in PyTorch.
    ///
    /// # Panics
    /// If a dim is out of range or repeated; see [`try_std_dim`](Self::try_std_dim).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([[1.0, 3.0], [2.0, 2.0]]).std_dim(&[1], 0, false).to_vec::<f32>(), vec![1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn std_dim(&self, dims: impl IntoDims, correction: usize, keepdim: bool) -> Tensor {
        self.try_std_dim(dims, correction, keepdim).or_panic()
    }

    /// [`std_dim`](Self::std_dim) returning an error instead of panicking.
    #[track_caller]
    pub fn try_std_dim(
        &self,
        dims: impl IntoDims,
        correction: usize,
        keepdim: bool,
    ) -> Result<Tensor> {
        self.var_or_std("std_dim", dims.to_dims(), correction, keepdim, true)
    }

    /// var (`std = false`, grad_fn `VarBackward0`) or its square root (`StdBackward0`).
    /// Both gradients are var's, `2 (x - mean) / dof` times the incoming gradient, which std
    /// first divides by `2 std` (0 where std is 0).
    #[track_caller]
    fn var_or_std(
        &self,
        op: &'static str,
        dims: Vec<isize>,
        correction: usize,
        keepdim: bool,
        std: bool,
    ) -> Result<Tensor> {
        let p = plan(op, dims, self.shape(), keepdim)?;
        // Degrees of freedom; 0 makes the result inf or NaN, as in PyTorch.
        let dof = (p.count as f64 - correction as f64).max(0.0);
        let out = no_grad(|| {
            let c = centered(self, &p.dims);
            // Divide (not multiply by 1/dof), to round as PyTorch does.
            let var = (&c * &c)
                .sum_dim(&p.dims, true)
                .div_scalar(dof)
                .reshape_to(&p.out);
            if std {
                var.sqrt()
            } else {
                var
            }
        });
        let plain = out.clone();
        let Plan {
            dims,
            kept,
            out: out_shape,
            ..
        } = p;
        // Incoming gradient (or tangent) of the output -> of the variance, all with kept dims.
        let to_var = move |g: Tensor, y: &dyn Fn() -> Result<Tensor>| -> Result<Tensor> {
            if std {
                Ok(over_twice(&g, &y()?))
            } else {
                Ok(g)
            }
        };
        let name = if std { "StdBackward0" } else { "VarBackward0" };
        let out = record(out, name, &[self], |_| {
            let (x, y) = (
                SavedTensor::input(self),
                std.then(|| SavedTensor::output(&plain)),
            );
            let (dims, kept) = (dims.clone(), kept.clone());
            rule(move |ctx, g| {
                let y = || {
                    Ok(y.as_ref()
                        .expect("saved for std")
                        .get(ctx)?
                        .reshape_to(&kept))
                };
                let g_var = to_var(g.reshape_to(&kept), &y)?;
                Ok(grads![Some(
                    centered(&x.get(ctx)?, &dims) * g_var.mul_scalar(2.0 / dof)
                )])
            })
        });
        Ok(jvp(out, &[self], |t| {
            let t_var = (centered(self, &dims) * t[0].as_ref()?)
                .sum_dim(&dims, true)
                .mul_scalar(2.0 / dof);
            let t_out =
                to_var(t_var, &|| Ok(plain.reshape_to(&kept))).expect("no saved tensors to check");
            Some(t_out.reshape_to(&out_shape))
        }))
    }

    /// Product of all elements, a 0-d tensor, like `t.prod()` (grad_fn `ProdBackward0`). The
    /// gradient is right even when elements are zero: each element's gradient is the product
    /// of the others.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let x = tensor!([2.0, 0.0, 3.0]).set_requires_grad(true);
    /// let p = x.prod();
    /// assert_eq!(p.item::<f32>(), 0.0);
    /// p.backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.0, 6.0, 0.0]);
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    #[track_caller]
    pub fn prod(&self) -> Tensor {
        let all = vec![true; self.dim()];
        let out = self.product_values(&all).reshape_to(&[]);
        let plain = out.clone();
        let shape = self.shape().to_vec();
        let others = move |x: &Tensor, y: &Tensor| {
            product_of_others(&x.reshape_to(&[x.numel()]), 0, &y.reshape_to(&[1]))
                .reshape_to(&shape)
        };
        let others2 = others.clone();
        let out = record(out, "ProdBackward0", &[self], |_| {
            let (x, y) = (SavedTensor::input(self), SavedTensor::output(&plain));
            rule(move |ctx, g| Ok(grads![Some(g * others(&x.get(ctx)?, &y.get(ctx)?))]))
        });
        jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| (t * others2(self, &plain)).sum())
        })
    }

    /// Product along `dim`, like `torch.prod(t, dim, keepdim)` (grad_fn `ProdBackward1`);
    /// correct gradients with zeros, as [`prod`](Self::prod).
    ///
    /// # Panics
    /// If `dim` is out of range; see [`try_prod_dim`](Self::try_prod_dim).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([[1.0, 2.0], [3.0, 4.0]]).prod_dim(1, false).to_vec::<f32>(), vec![2.0, 12.0]);
    /// ```
    #[track_caller]
    pub fn prod_dim(&self, dim: isize, keepdim: bool) -> Tensor {
        self.try_prod_dim(dim, keepdim).or_panic()
    }

    /// [`prod_dim`](Self::prod_dim) returning an error instead of panicking.
    #[track_caller]
    pub fn try_prod_dim(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        let p = plan("prod_dim", vec![dim], self.shape(), keepdim)?;
        let d = p.mask.iter().position(|&r| r).unwrap_or(0);
        let out = self.product_values(&p.mask).reshape_to(&p.out);
        let plain = out.clone();
        let (kept, out_shape) = (p.kept, p.out);
        let out = record(out, "ProdBackward1", &[self], |_| {
            let (x, y) = (SavedTensor::input(self), SavedTensor::output(&plain));
            let kept = kept.clone();
            rule(move |ctx, g| {
                let y = y.get(ctx)?.reshape_to(&kept);
                Ok(grads![Some(
                    g.reshape_to(&kept) * product_of_others(&x.get(ctx)?, d, &y)
                )])
            })
        });
        Ok(jvp(out, &[self], |t| {
            let others = product_of_others(self, d, &plain.reshape_to(&kept));
            t[0].as_ref().map(|t| {
                (t * others)
                    .sum_dim([d as isize], false)
                    .reshape_to(&out_shape)
            })
        }))
    }

    /// Products over the masked dims, kept as size 1 (no history).
    fn product_values(&self, mask: &[bool]) -> Tensor {
        let kept = reduced_shape(self.shape(), mask, true);
        with_dtype!(self.dtype(), T => {
            let v = self.with_slice::<T, _>(|s, l| reduce_dims(s, l, mask, T::ONE, |a: T, b: T| a * b));
            Tensor::from_elems(v, &kept)
        })
    }

    /// `log(sum(exp(x)))` over `dims` (empty = all), computed stably (the maximum is
    /// subtracted first, so large inputs do not overflow), like `torch.logsumexp` (grad_fn
    /// `LogsumexpBackward0`; the gradient is the softmax of the inputs).
    ///
    /// # Panics
    /// If a dim is out of range or repeated; see [`try_logsumexp`](Self::try_logsumexp).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let t = tensor!([[1000.0, 1000.0], [0.0, f32::NEG_INFINITY]]);
    /// let l = t.logsumexp(&[1], false).to_vec::<f32>();
    /// assert_eq!(l, vec![1000.0 + 2f32.ln(), 0.0]);
    /// ```
    #[track_caller]
    pub fn logsumexp(&self, dims: impl IntoDims, keepdim: bool) -> Tensor {
        self.try_logsumexp(dims, keepdim).or_panic()
    }

    /// [`logsumexp`](Self::logsumexp) returning an error instead of panicking.
    #[track_caller]
    pub fn try_logsumexp(&self, dims: impl IntoDims, keepdim: bool) -> Result<Tensor> {
        let p = plan("logsumexp", dims.to_dims(), self.shape(), keepdim)?;
        let last_dim_only = p.mask.iter().rposition(|&m| m) == Some(self.dim().wrapping_sub(1))
            && p.mask.iter().filter(|&&m| m).count() == 1;
        let contiguous = self.numel() > 0 && self.layout().contiguous_range().is_some();
        let out = if last_dim_only && contiguous {
            // One pass per row, the same values as the composite below.
            let n = self.shape()[self.dim() - 1];
            with_dtype!(self.dtype(), T => {
                let v = self.with_slice::<T, _>(|s, l| {
                    logsumexp_rows(&s[l.contiguous_range().expect("checked above")], n)
                });
                Tensor::from_elems(v, &p.out)
            })
        } else {
            no_grad(|| {
                let m = self.stable_shift(&p.mask);
                ((self - &m).exp().sum_dim(&p.dims, true).log() + m).reshape_to(&p.out)
            })
        };
        let plain = out.clone();
        let Plan {
            dims,
            kept,
            out: out_shape,
            ..
        } = p;
        let out = record(out, "LogsumexpBackward0", &[self], |_| {
            let (x, y) = (SavedTensor::input(self), SavedTensor::output(&plain));
            let kept = kept.clone();
            rule(move |ctx, g| {
                Ok(grads![Some(
                    g.reshape_to(&kept) * (x.get(ctx)? - y.get(ctx)?.reshape_to(&kept)).exp()
                )])
            })
        });
        Ok(jvp(out, &[self], |t| {
            let weights = (self - plain.reshape_to(&kept)).exp();
            t[0].as_ref()
                .map(|t| (t * weights).sum_dim(&dims, true).reshape_to(&out_shape))
        }))
    }

    /// The maximum over the masked dims (kept), with infinities replaced by 0: what stable
    /// softmax and logsumexp subtract (an infinite maximum would turn `x - max` into NaN).
    pub(crate) fn stable_shift(&self, mask: &[bool]) -> Tensor {
        let m = self.extreme_values(mask, true);
        m.abs()
            .eq_scalar(f64::INFINITY)
            .where_cond(&Tensor::zeros_dtype(&[], m.dtype()), &m)
    }
}

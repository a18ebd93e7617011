//! Views and shape changes: reshape, expand, transpose, t, permute, unsqueeze, squeeze,
//! narrow, flatten, contiguous. Views share storage and cost O(1); their backward rules undo
//! the view on the gradient.

use super::grads;
use crate::autograd::node::{record, rule};
use crate::error::{Error, OrPanic, Result};
use crate::forward_ad::jvp;
use crate::layout::{normalize_dim, normalize_dim_for, Layout};
use crate::shape_arg::IntoDims;
use crate::tensor::{with_dtype, Tensor};

impl Tensor {
    /// The same elements with a new shape; one entry may be `-1` (inferred). A view when the
    /// strides allow it (grad_fn `ViewBackward0`), otherwise a copy.
    ///
    /// # Panics
    /// If the sizes do not multiply to `numel()`; see [`try_reshape`](Self::try_reshape).
    ///
    /// ```
    /// use tensorgrad::Tensor;
    /// let t = Tensor::arange(0.0, 12.0, 1.0);
    /// assert_eq!(t.reshape(&[2, 6]).shape(), &[2, 6]);
    /// assert_eq!(t.reshape(&[3, -1]).shape(), &[3, 4]);
    /// ```
    #[track_caller]
    pub fn reshape(&self, shape: impl IntoDims) -> Tensor {
        self.try_reshape(shape).or_panic()
    }

    /// [`reshape`](Self::reshape) returning an error instead of panicking.
    #[track_caller]
    pub fn try_reshape(&self, shape: impl IntoDims) -> Result<Tensor> {
        let shape = infer_shape("reshape", &shape.to_dims(), self.shape(), self.numel())?;
        Ok(self.reshape_to(&shape))
    }

    /// Reshape to a known-valid shape.
    #[track_caller]
    pub(crate) fn reshape_to(&self, shape: &[usize]) -> Tensor {
        if shape == self.shape() {
            return self.clone();
        }
        let in_shape = self.shape().to_vec();
        let back = move |_: &crate::autograd::node::Ctx<'_>, g: &Tensor| {
            Ok(grads![Some(g.reshape_to(&in_shape))])
        };
        let out = match self.layout().view(shape) {
            Some(layout) => record(self.view_with(layout), "ViewBackward0", &[self], |_| {
                rule(back)
            }),
            None => {
                let copy = self.contiguous_copy();
                record(
                    copy.view_with(Layout::contiguous(shape)),
                    "UnsafeViewBackward0",
                    &[self],
                    |_| rule(back),
                )
            }
        };
        jvp(out, &[self], |t| t[0].as_ref().map(|t| t.reshape_to(shape)))
    }

    /// Flattens dims `start..=end` into one (negative dims count from the end).
    ///
    /// # Panics
    /// If a dim is out of range or `start > end`.
    #[track_caller]
    pub fn flatten(&self, start: isize, end: isize) -> Tensor {
        self.try_flatten(start, end).or_panic()
    }

    /// [`flatten`](Self::flatten) returning an error instead of panicking.
    #[track_caller]
    pub fn try_flatten(&self, start: isize, end: isize) -> Result<Tensor> {
        let (s, e) = (
            normalize_dim("flatten", start, self.shape())?,
            normalize_dim("flatten", end, self.shape())?,
        );
        if self.dim() == 0 {
            return Ok(self.reshape_to(&[1]));
        }
        if s > e {
            return Err(Error::invalid(
                "flatten",
                format!("start dim {start} comes after end dim {end}"),
            ));
        }
        let sh = self.shape();
        let mut shape: Vec<usize> = sh[..s].to_vec();
        shape.push(sh[s..=e].iter().product());
        shape.extend_from_slice(&sh[e + 1..]);
        Ok(self.reshape_to(&shape))
    }

    /// Broadcasts to a larger shape without copying (stride 0), like `expand`; `-1` keeps a
    /// size. grad_fn `ExpandBackward0`.
    ///
    /// # Panics
    /// If a non-1 size would change; see [`try_expand`](Self::try_expand).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let row = tensor!([1.0, 2.0, 3.0]);
    /// assert_eq!(row.expand(&[4, 3]).shape(), &[4, 3]);
    /// assert_eq!(row.expand(&[2, -1]).to_vec::<f32>(), vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn expand(&self, shape: impl IntoDims) -> Tensor {
        self.try_expand(shape).or_panic()
    }

    /// [`expand`](Self::expand) returning an error instead of panicking.
    #[track_caller]
    pub fn try_expand(&self, shape: impl IntoDims) -> Result<Tensor> {
        let dims = shape.to_dims();
        // The requested shape as sizes: -1 means "keep", so show the size it keeps.
        let lead = dims.len().saturating_sub(self.dim());
        let requested: Vec<usize> = dims
            .iter()
            .enumerate()
            .map(|(i, &d)| match (d, i.checked_sub(lead)) {
                (-1, Some(j)) => self.shape()[j],
                (d, _) => d.max(0) as usize,
            })
            .collect();
        let err = |detail: String| Error::shape("expand", self.shape(), &requested, detail);
        if dims.len() < self.dim() {
            return Err(err(format!(
                "the target has {} dims but the tensor has {}; give at least as many sizes as dims",
                dims.len(),
                self.dim()
            )));
        }
        let mut target = Vec::with_capacity(dims.len());
        for (i, &d) in dims.iter().enumerate() {
            let own = (i >= lead).then(|| self.shape()[i - lead]);
            target.push(match (d, own) {
                (-1, Some(n)) => n,
                (-1, None) => {
                    // There is no size to keep, so the target cannot be shown as sizes.
                    return Err(Error::invalid(
                        "expand",
                        format!("-1 is not allowed for the new leading dim {i} of {dims:?} (tensor shape {:?}); give its size", self.shape()),
                    ));
                }
                (d, _) if d < 0 => return Err(err(format!("size {d} is invalid"))),
                (d, Some(n)) if n != 1 && n != d as usize => {
                    return Err(err(format!(
                        "the size {d} must match the existing size {n} at non-singleton dim {i}"
                    )));
                }
                (d, _) => d as usize,
            });
        }
        // The element count must fit (an empty result may have huge other sizes, as reshape
        // allows: its expanded dims have stride 0 and nothing is ever read).
        if target
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .is_none()
        {
            return Err(err(
                "the expanded shape has more elements than memory can address".into(),
            ));
        }
        Ok(self.expand_to(&target))
    }

    /// Expand to a shape known to be compatible.
    #[track_caller]
    pub(crate) fn expand_to(&self, shape: &[usize]) -> Tensor {
        if shape == self.shape() {
            return self.clone();
        }
        let layout = self
            .layout()
            .broadcast_to(shape)
            .expect("expand_to: caller checked compatibility");
        let in_shape = self.shape().to_vec();
        let out = record(self.view_with(layout), "ExpandBackward0", &[self], |_| {
            rule(move |_, g| Ok(grads![Some(g.sum_to_shape(&in_shape))]))
        });
        jvp(out, &[self], |t| t[0].as_ref().map(|t| t.expand_to(shape)))
    }

    /// Swaps two dims (a view), like `transpose(d0, d1)`; grad_fn `TransposeBackward0`.
    ///
    /// # Panics
    /// If a dim is out of range; see [`try_transpose`](Self::try_transpose).
    #[track_caller]
    pub fn transpose(&self, d0: isize, d1: isize) -> Tensor {
        self.try_transpose(d0, d1).or_panic()
    }

    /// [`transpose`](Self::transpose) returning an error instead of panicking.
    #[track_caller]
    pub fn try_transpose(&self, d0: isize, d1: isize) -> Result<Tensor> {
        if self.dim() == 0 {
            normalize_dim("transpose", d0, self.shape())?;
            normalize_dim("transpose", d1, self.shape())?;
            return Ok(self.clone());
        }
        let (a, b) = (
            normalize_dim("transpose", d0, self.shape())?,
            normalize_dim("transpose", d1, self.shape())?,
        );
        let mut perm: Vec<usize> = (0..self.dim()).collect();
        perm.swap(a, b);
        let out = self.view_with(self.layout().permute(&perm));
        let out = record(out, "TransposeBackward0", &[self], |_| {
            rule(move |_, g| Ok(grads![Some(g.transpose(d0, d1))]))
        });
        Ok(jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| t.transpose(d0, d1))
        }))
    }

    /// Transpose of a matrix (dims 0 and 1); vectors and scalars are returned as they are.
    /// grad_fn `TBackward0`.
    ///
    /// # Panics
    /// If the tensor has more than 2 dims; see [`try_t`](Self::try_t).
    #[track_caller]
    pub fn t(&self) -> Tensor {
        self.try_t().or_panic()
    }

    /// [`t`](Self::t) returning an error instead of panicking.
    #[track_caller]
    pub fn try_t(&self) -> Result<Tensor> {
        if self.dim() > 2 {
            return Err(Error::invalid("t", format!("expects a tensor with at most 2 dims, got shape {:?}; use transpose(d0, d1) or permute", self.shape())));
        }
        if self.dim() < 2 {
            let out = record(
                self.view_with(self.layout().clone()),
                "TBackward0",
                &[self],
                |_| rule(|_, g| Ok(grads![Some(g.clone())])),
            );
            return Ok(jvp(out, &[self], |t| t[0].clone()));
        }
        let out = self.view_with(self.layout().permute(&[1, 0]));
        let out = record(out, "TBackward0", &[self], |_| {
            rule(|_, g| Ok(grads![Some(g.t())]))
        });
        Ok(jvp(out, &[self], |t| t[0].as_ref().map(Tensor::t)))
    }

    /// Reorders dims (a view): output dim `i` is input dim `dims[i]`. grad_fn `PermuteBackward0`.
    ///
    /// # Panics
    /// If `dims` is not a permutation of the tensor's dims; see [`try_permute`](Self::try_permute).
    ///
    /// ```
    /// use tensorgrad::Tensor;
    /// let t = Tensor::zeros(&[2, 3, 4]);
    /// assert_eq!(t.permute(&[2, 0, 1]).shape(), &[4, 2, 3]);
    /// ```
    #[track_caller]
    pub fn permute(&self, dims: impl IntoDims) -> Tensor {
        self.try_permute(dims).or_panic()
    }

    /// [`permute`](Self::permute) returning an error instead of panicking.
    #[track_caller]
    pub fn try_permute(&self, dims: impl IntoDims) -> Result<Tensor> {
        let dims = dims.to_dims();
        if dims.len() != self.dim() {
            return Err(Error::invalid("permute", format!("got {} dims {dims:?} for a tensor with {} dims (shape {:?}); list every dim once", dims.len(), self.dim(), self.shape())));
        }
        let mut perm = Vec::with_capacity(dims.len());
        let mut seen = vec![false; dims.len()];
        for &d in &dims {
            let i = normalize_dim("permute", d, self.shape())?;
            if std::mem::replace(&mut seen[i], true) {
                return Err(Error::invalid(
                    "permute",
                    format!("dim {d} appears more than once in {dims:?}; list every dim once"),
                ));
            }
            perm.push(i);
        }
        let mut inverse = vec![0isize; perm.len()];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i as isize;
        }
        let out = self.view_with(self.layout().permute(&perm));
        let out = record(out, "PermuteBackward0", &[self], |_| {
            rule(move |_, g| Ok(grads![Some(g.permute(&inverse[..]))]))
        });
        Ok(jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| t.permute(&perm[..]))
        }))
    }

    /// Inserts a dim of size 1 at `dim` (`-1` appends), like `unsqueeze`.
    ///
    /// # Panics
    /// If `dim` is outside `-(ndim+1)..=ndim`; see [`try_unsqueeze`](Self::try_unsqueeze).
    #[track_caller]
    pub fn unsqueeze(&self, dim: isize) -> Tensor {
        self.try_unsqueeze(dim).or_panic()
    }

    /// [`unsqueeze`](Self::unsqueeze) returning an error instead of panicking.
    #[track_caller]
    pub fn try_unsqueeze(&self, dim: isize) -> Result<Tensor> {
        let d = normalize_dim_for("unsqueeze", dim, self.shape(), self.dim() + 1)?;
        let mut shape = self.shape().to_vec();
        shape.insert(d, 1);
        Ok(self.view_op(&shape, "UnsqueezeBackward0"))
    }

    /// Removes `dim` if its size is 1 (otherwise returns the tensor unchanged), like
    /// `squeeze(dim)`.
    ///
    /// # Panics
    /// If `dim` is out of range; see [`try_squeeze`](Self::try_squeeze).
    #[track_caller]
    pub fn squeeze(&self, dim: isize) -> Tensor {
        self.try_squeeze(dim).or_panic()
    }

    /// [`squeeze`](Self::squeeze) returning an error instead of panicking.
    #[track_caller]
    pub fn try_squeeze(&self, dim: isize) -> Result<Tensor> {
        let d = normalize_dim("squeeze", dim, self.shape())?;
        let mut shape = self.shape().to_vec();
        if shape.get(d) == Some(&1) {
            shape.remove(d);
        }
        Ok(self.view_op(&shape, "SqueezeBackward1"))
    }

    /// Removes every dim of size 1, like `squeeze()` with no argument.
    #[track_caller]
    pub fn squeeze_all(&self) -> Tensor {
        let shape: Vec<usize> = self.shape().iter().copied().filter(|&n| n != 1).collect();
        self.view_op(&shape, "SqueezeBackward0")
    }

    /// A view with `shape` (same element order) recorded under `name`.
    #[track_caller]
    fn view_op(&self, shape: &[usize], name: &'static str) -> Tensor {
        let layout = self
            .layout()
            .view(shape)
            .expect("view_op: only adds or drops size-1 dims");
        let in_shape = self.shape().to_vec();
        let out = record(self.view_with(layout), name, &[self], |_| {
            rule(move |_, g| Ok(grads![Some(g.reshape_to(&in_shape))]))
        });
        jvp(out, &[self], |t| t[0].as_ref().map(|t| t.reshape_to(shape)))
    }

    /// `len` entries of `dim` starting at `start` (a view), like `narrow`; grad_fn
    /// `SliceBackward0`.
    ///
    /// # Panics
    /// If the range does not fit; see [`try_narrow`](Self::try_narrow).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let t = tensor!([1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(t.narrow(0, 1, 2).to_vec::<f32>(), vec![2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn narrow(&self, dim: isize, start: usize, len: usize) -> Tensor {
        self.try_narrow(dim, start, len).or_panic()
    }

    /// [`narrow`](Self::narrow) returning an error instead of panicking.
    #[track_caller]
    pub fn try_narrow(&self, dim: isize, start: usize, len: usize) -> Result<Tensor> {
        if self.dim() == 0 {
            return Err(Error::invalid(
                "narrow",
                "cannot narrow a 0-d tensor; reshape it to 1-d first",
            ));
        }
        let d = normalize_dim("narrow", dim, self.shape())?;
        let size = self.shape()[d];
        if start.checked_add(len).is_none_or(|end| end > size) {
            return Err(Error::invalid("narrow", format!("start {start} + length {len} exceeds the size {size} of dim {dim} (shape {:?})", self.shape())));
        }
        Ok(self.narrow_as(d, start, len, "SliceBackward0"))
    }

    /// A narrow view with checked arguments, recorded under `name` (split's pieces are
    /// `SplitBackward0` in PyTorch, not `SliceBackward0`).
    #[track_caller]
    pub(crate) fn narrow_as(
        &self,
        d: usize,
        start: usize,
        len: usize,
        name: &'static str,
    ) -> Tensor {
        let out = self.view_with(self.layout().narrow(d, start, len));
        let in_shape = self.shape().to_vec();
        let out = record(out, name, &[self], |_| {
            rule(move |_, g| Ok(grads![Some(g.embed_in_zeros(&in_shape, d, start))]))
        });
        jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| t.narrow_as(d, start, len, name))
        })
    }

    /// The inverse of narrow for gradients: zeros of `shape` with `self` placed at
    /// `start..start+len` along `dim`. Differentiable (its backward narrows again).
    #[track_caller]
    pub(crate) fn embed_in_zeros(&self, shape: &[usize], dim: usize, start: usize) -> Tensor {
        let out = Tensor::zeros_dtype(shape, self.dtype());
        let window = out.layout().narrow(dim, start, self.shape()[dim]);
        with_dtype!(self.dtype(), T => {
            let mut dst = out.storage().write();
            let dst = <T as crate::element::Element>::slice_mut(&mut dst).expect("same dtype");
            self.with_slice::<T, _>(|src, ls| crate::kernels::elementwise::update_in_place(dst, &window, src, ls, |_, s| s));
        });
        let len = self.shape()[dim];
        let out = record(out, "SliceBackwardBackward0", &[self], |_| {
            rule(move |_, g| Ok(grads![Some(g.narrow(dim as isize, start, len))]))
        });
        jvp(out, &[self], |t| {
            t[0].as_ref().map(|t| t.embed_in_zeros(shape, dim, start))
        })
    }

    /// The tensor itself if contiguous, else a contiguous copy (grad_fn `CloneBackward0`).
    #[track_caller]
    pub fn contiguous(&self) -> Tensor {
        if self.is_contiguous() {
            return self.clone();
        }
        self.deep_clone()
    }

    /// A copy with its own storage, like PyTorch's `clone()` (grad_fn `CloneBackward0`).
    /// Note that Rust's `Clone` on `Tensor` copies only the handle, sharing the data.
    #[track_caller]
    pub fn deep_clone(&self) -> Tensor {
        let out = record(self.contiguous_copy(), "CloneBackward0", &[self], |_| {
            rule(|_, g| Ok(grads![Some(g.clone())]))
        });
        jvp(out, &[self], |t| t[0].clone())
    }

    /// A contiguous copy of the data, no history.
    pub(crate) fn contiguous_copy(&self) -> Tensor {
        with_dtype!(self.dtype(), T => {
            let v = self.with_slice::<T, _>(crate::kernels::elementwise::to_contiguous);
            Tensor::from_elems(v, self.shape())
        })
    }
}

/// Resolves a requested shape (with at most one `-1`) for `numel` elements.
pub(crate) fn infer_shape(
    op: &'static str,
    dims: &[isize],
    from: &[usize],
    numel: usize,
) -> Result<Vec<usize>> {
    let mut infer = None;
    let mut known = 1usize;
    let overflow = || {
        Error::invalid(
            op,
            format!("shape {dims:?} has more elements than memory can address"),
        )
    };
    for (i, &d) in dims.iter().enumerate() {
        match d {
            -1 if infer.is_none() => infer = Some(i),
            -1 => {
                return Err(Error::invalid(
                    op,
                    format!("only one dim can be -1, got {dims:?}"),
                ))
            }
            d if d < 0 => {
                return Err(Error::invalid(
                    op,
                    format!("invalid size {d} in {dims:?}; sizes must be >= 0 or -1"),
                ))
            }
            d => known = known.checked_mul(d as usize).ok_or_else(overflow)?,
        }
    }
    let mut shape: Vec<usize> = dims.iter().map(|&d| d.max(0) as usize).collect();
    let detail = format!("shape {dims:?} is invalid for a tensor of {numel} elements");
    match infer {
        // With a -1 the requested shape is not a list of sizes, so name it as given.
        Some(_) if known == 0 || !numel.is_multiple_of(known) => {
            return Err(Error::invalid(op, format!("{detail} (shape {from:?})")))
        }
        Some(i) => shape[i] = numel / known,
        None if known != numel => return Err(Error::shape(op, from, &shape, detail)),
        None => {}
    }
    Ok(shape)
}

//! In-place updates (`add_`, `sub_`, `mul_`, `div_`, `zero_`, `fill_`, `copy_`, and scalar
//! forms), for optimizers and for code that owns its buffers.
//!
//! Like PyTorch: each bumps the storage's version, so a backward that saved this tensor (or
//! a view of it) fails with a clear error instead of using changed values; and an in-place
//! change to a tensor that requires grad is refused while grad mode is on (optimizers run
//! their updates inside `no_grad`).

use crate::autograd::mode::is_grad_enabled;
use crate::element::Element;
use crate::error::{Error, OrPanic, Result};
use crate::kernels::elementwise::{map_in_place, update_in_place};
use crate::tensor::{with_dtype, Tensor};

impl Tensor {
    /// Checks that `self` may be written in place by `op`.
    fn check_writable(&self, op: &'static str, src: Option<&Tensor>) -> Result<()> {
        if is_grad_enabled() && (self.requires_grad() || src.is_some_and(Tensor::requires_grad)) {
            let what = if self.requires_grad() && self.is_leaf() {
                "a leaf tensor that requires grad"
            } else {
                "a tensor in a recorded graph"
            };
            return Err(Error::autograd(
                op,
                format!("cannot modify {what} (shape {:?}) in place while grad mode is on; do it inside no_grad(|| ...) as optimizers do, or use the out-of-place op", self.shape()),
            ));
        }
        let l = self.layout();
        if l.shape
            .iter()
            .zip(&l.strides)
            .any(|(&n, &s)| n > 1 && s == 0)
        {
            return Err(Error::invalid(op, format!("the tensor (shape {:?}) is an expanded view in which several elements share one memory location; write to a .contiguous() copy instead", self.shape())));
        }
        Ok(())
    }

    /// Writes `f(self[i], src[i])` into `self`, `src` broadcast to `self`'s shape.
    fn update_with(
        &self,
        op: &'static str,
        src: &Tensor,
        f32op: impl Fn(f32, f32) -> f32 + Sync,
        f64op: impl Fn(f64, f64) -> f64 + Sync,
    ) -> Result<()> {
        self.check_writable(op, Some(src))?;
        super::check_same_dtype(op, self, src)?;
        // A source sharing this storage is copied first, so reads never see half-written data.
        let src = if std::sync::Arc::ptr_eq(self.storage(), src.storage()) {
            src.contiguous_copy()
        } else {
            src.clone()
        };
        let ls = src.layout().broadcast_to(self.shape()).ok_or_else(|| {
            Error::shape(
                op,
                self.shape(),
                src.shape(),
                "the source must broadcast to the destination's shape",
            )
        })?;
        let mut guard = self.storage().write();
        match self.dtype() {
            crate::DType::F32 => src.with_slice::<f32, _>(|s, _| {
                update_in_place(
                    f32::slice_mut(&mut guard).expect("dtype"),
                    self.layout(),
                    s,
                    &ls,
                    f32op,
                )
            }),
            crate::DType::F64 => src.with_slice::<f64, _>(|s, _| {
                update_in_place(
                    f64::slice_mut(&mut guard).expect("dtype"),
                    self.layout(),
                    s,
                    &ls,
                    f64op,
                )
            }),
        }
        Ok(())
    }

    /// Writes `f(self[i])` into `self`.
    fn map_with(
        &self,
        op: &'static str,
        f32op: impl Fn(f32) -> f32 + Sync,
        f64op: impl Fn(f64) -> f64 + Sync,
    ) -> Result<()> {
        self.check_writable(op, None)?;
        let mut guard = self.storage().write();
        match self.dtype() {
            crate::DType::F32 => map_in_place(
                f32::slice_mut(&mut guard).expect("dtype"),
                self.layout(),
                f32op,
            ),
            crate::DType::F64 => map_in_place(
                f64::slice_mut(&mut guard).expect("dtype"),
                self.layout(),
                f64op,
            ),
        }
        Ok(())
    }

    /// `self += other` in place (other broadcast to self), like `add_`.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let w = tensor!([1.0, 2.0]);
    /// let alias = w.clone();                 // same tensor, like a second Python name
    /// w.try_add_(&tensor!([0.5, 0.5]))?;
    /// assert_eq!(alias.to_vec::<f32>(), vec![1.5, 2.5]);
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn try_add_(&self, other: &Tensor) -> Result<()> {
        self.update_with("add_", other, |a, b| a + b, |a, b| a + b)
    }

    /// `self += alpha * other` in place (other broadcast to self), like PyTorch's
    /// `self.add_(other, alpha=alpha)`: one fused multiply-add per element, the operation
    /// PyTorch's vectorised CPU kernel uses (an SGD step is `p.add_scaled_(&g, -lr)`).
    /// `alpha` is rounded to the tensor's dtype first.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let p = tensor!([1.0, 2.0]);
    /// p.try_add_scaled_(&tensor!([10.0, 20.0]), -0.5)?;
    /// assert_eq!(p.to_vec::<f32>(), vec![-4.0, -8.0]);
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn try_add_scaled_(&self, other: &Tensor, alpha: f64) -> Result<()> {
        let alpha32 = alpha as f32;
        self.update_with(
            "add_",
            other,
            move |a, b| b.mul_add(alpha32, a),
            move |a, b| b.mul_add(alpha, a),
        )
    }

    /// `self -= other` in place.
    pub fn try_sub_(&self, other: &Tensor) -> Result<()> {
        self.update_with("sub_", other, |a, b| a - b, |a, b| a - b)
    }

    /// `self *= other` in place.
    pub fn try_mul_(&self, other: &Tensor) -> Result<()> {
        self.update_with("mul_", other, |a, b| a * b, |a, b| a * b)
    }

    /// `self /= other` in place.
    pub fn try_div_(&self, other: &Tensor) -> Result<()> {
        self.update_with("div_", other, |a, b| a / b, |a, b| a / b)
    }

    /// Copies `src` (broadcast to self's shape) into `self`, like `copy_`.
    pub fn try_copy_(&self, src: &Tensor) -> Result<()> {
        self.update_with("copy_", src, |_, b| b, |_, b| b)
    }

    /// Sets every element to `value` in place, like `fill_`.
    pub fn try_fill_(&self, value: f64) -> Result<()> {
        self.map_with("fill_", |_| value as f32, |_| value)
    }

    /// `self += s` in place for a number `s`.
    pub fn try_add_scalar_(&self, s: f64) -> Result<()> {
        self.map_with("add_", |x| x + s as f32, |x| x + s)
    }

    /// `self *= s` in place for a number `s`.
    pub fn try_mul_scalar_(&self, s: f64) -> Result<()> {
        self.map_with("mul_", |x| x * s as f32, |x| x * s)
    }

    /// In-place `add_`.
    ///
    /// # Panics
    /// On the errors [`try_add_`](Self::try_add_) returns: `self` requires grad while grad
    /// mode is on, shapes that do not broadcast to `self`, dtype mismatch, expanded `self`.
    /// The same holds for the other in-place methods and their `try_` forms.
    #[track_caller]
    pub fn add_(&self, other: &Tensor) -> &Tensor {
        self.try_add_(other).or_panic();
        self
    }

    /// In-place `sub_`. # Panics: as [`add_`](Self::add_).
    #[track_caller]
    pub fn sub_(&self, other: &Tensor) -> &Tensor {
        self.try_sub_(other).or_panic();
        self
    }

    /// In-place `mul_`. # Panics: as [`add_`](Self::add_).
    #[track_caller]
    pub fn mul_(&self, other: &Tensor) -> &Tensor {
        self.try_mul_(other).or_panic();
        self
    }

    /// In-place `div_`. # Panics: as [`add_`](Self::add_).
    #[track_caller]
    pub fn div_(&self, other: &Tensor) -> &Tensor {
        self.try_div_(other).or_panic();
        self
    }

    /// In-place `add_` with a scale: `self += alpha * other`; see
    /// [`try_add_scaled_`](Self::try_add_scaled_). # Panics: as [`add_`](Self::add_).
    #[track_caller]
    pub fn add_scaled_(&self, other: &Tensor, alpha: f64) -> &Tensor {
        self.try_add_scaled_(other, alpha).or_panic();
        self
    }

    /// In-place `copy_`. # Panics: as [`add_`](Self::add_).
    #[track_caller]
    pub fn copy_(&self, src: &Tensor) -> &Tensor {
        self.try_copy_(src).or_panic();
        self
    }

    /// In-place `fill_`. # Panics: as [`add_`](Self::add_).
    #[track_caller]
    pub fn fill_(&self, value: f64) -> &Tensor {
        self.try_fill_(value).or_panic();
        self
    }

    /// Sets every element to zero in place, like `zero_`. # Panics: as [`add_`](Self::add_).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let t = tensor!([1.0, 2.0]);
    /// t.zero_();
    /// assert_eq!(t.to_vec::<f32>(), vec![0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn zero_(&self) -> &Tensor {
        self.try_fill_(0.0).or_panic();
        self
    }

    /// In-place `self += s`. # Panics: as [`add_`](Self::add_).
    #[track_caller]
    pub fn add_scalar_(&self, s: f64) -> &Tensor {
        self.try_add_scalar_(s).or_panic();
        self
    }

    /// In-place `self *= s`. # Panics: as [`add_`](Self::add_).
    #[track_caller]
    pub fn mul_scalar_(&self, s: f64) -> &Tensor {
        self.try_mul_scalar_(s).or_panic();
        self
    }

    // ----- helpers for the engine -----

    /// Gradient accumulation: `self + g`, recorded only under create_graph.
    pub(crate) fn add_for_grad(&self, g: &Tensor) -> Tensor {
        self.add(g)
    }

    /// In-place `self += g` for accumulating `.grad` (no autograd checks: `.grad` never
    /// requires grad on this path).
    pub(crate) fn add_assign_no_grad(&self, g: &Tensor) {
        // Small, contiguous, same shape, separate buffers (every scalar gradient): add the
        // slices directly, without the general path's broadcasting and grad-mode switch.
        if self.shape() == g.shape()
            && self.dtype() == g.dtype()
            && self.numel() <= 1024
            && !std::sync::Arc::ptr_eq(self.storage(), g.storage())
        {
            if let (Some(rd), Some(rs)) = (
                self.layout().contiguous_range(),
                g.layout().contiguous_range(),
            ) {
                let mut guard = self.storage().write();
                with_dtype!(self.dtype(), T => g.with_slice::<T, _>(|s, _| {
                    let d = &mut T::slice_mut(&mut guard).expect("dtype checked above")[rd];
                    for (d, &s) in d.iter_mut().zip(&s[rs]) {
                        *d += s;
                    }
                }));
                return;
            }
        }
        crate::no_grad(|| self.try_add_(g))
            .expect("accumulating a gradient of the leaf's own shape and dtype");
    }

    /// True when this handle is the only reference to the tensor and to its storage, and
    /// the tensor covers the whole storage contiguously: writing to it in place can change
    /// nothing anyone else sees.
    pub(crate) fn owns_whole_buffer(&self) -> bool {
        std::sync::Arc::strong_count(self.0.arc()) == 1
            && std::sync::Arc::strong_count(self.storage()) == 1
            && self.is_contiguous()
            && self.layout().offset == 0
            && with_dtype!(self.dtype(), T => self.with_slice::<T, _>(|s, _| s.len() == self.numel()))
    }

    /// A gradient ready to be stored as `.grad`: contiguous, detached, and not sharing storage
    /// with anything else (so in-place accumulation later cannot change another tensor).
    pub(crate) fn into_owned_grad(self) -> Tensor {
        if self.owns_whole_buffer() {
            self.detach()
        } else {
            self.contiguous_copy()
        }
    }

    /// `Some("NaN")` / `Some("infinite")` if any element is not finite.
    pub(crate) fn non_finite_kind(&self) -> Option<&'static str> {
        let v = self.to_f64_vec();
        if v.iter().any(|x| x.is_nan()) {
            Some("NaN")
        } else if v.iter().any(|x| x.is_infinite()) {
            Some("infinite")
        } else {
            None
        }
    }
}

//! Products: matmul (torch.matmul's rules), dot, cross.

use super::{grad_if, grads};
use crate::autograd::node::{record, rule};
use crate::autograd::saved::SavedTensor;
use crate::error::{Error, OrPanic, Result};
use crate::forward_ad::{add_opt, jvp};
use crate::kernels::matmul::{matmul_batch as gemm_batch, Mat};
use crate::layout::{normalize_dim, try_broadcast};
use crate::tensor::{with_dtype, Tensor};

impl Tensor {
    /// Matrix product with `torch.matmul`'s rules: 1-D·1-D is a dot product, 2-D@2-D a matrix
    /// product, a 1-D operand is treated as a row (left) or column (right) vector and that
    /// dim removed afterwards, and leading batch dims broadcast.
    ///
    /// # Panics
    /// If the inner dims differ or batch dims do not broadcast; see
    /// [`try_matmul`](Self::try_matmul).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let a = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = tensor!([[5.0], [6.0]]);
    /// assert_eq!(a.matmul(&b).to_vec::<f32>(), vec![17.0, 39.0]);
    /// ```
    #[track_caller]
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        self.try_matmul(other).or_panic()
    }

    /// [`matmul`](Self::matmul) returning an error instead of panicking.
    ///
    /// ```
    /// use tensorgrad::Tensor;
    /// let err = Tensor::zeros(&[2, 3]).try_matmul(&Tensor::zeros(&[4, 5])).unwrap_err();
    /// assert!(err.to_string().contains("[2, 3] and [4, 5]"));
    /// ```
    #[track_caller]
    pub fn try_matmul(&self, other: &Tensor) -> Result<Tensor> {
        super::check_same_dtype("matmul", self, other)?;
        let (da, db) = (self.dim(), other.dim());
        if da == 0 || db == 0 {
            return Err(Error::shape(
                "matmul",
                self.shape(),
                other.shape(),
                "both arguments need at least 1 dim; use mul for scalars",
            ));
        }
        if da == 1 && db == 1 {
            return self.try_dot(other);
        }
        let a = if da == 1 {
            self.unsqueeze(0)
        } else {
            self.clone()
        };
        let b = if db == 1 {
            other.unsqueeze(-1)
        } else {
            other.clone()
        };
        let (k1, k2) = (a.shape()[a.dim() - 1], b.shape()[b.dim() - 2]);
        if k1 != k2 {
            return Err(Error::shape("matmul", self.shape(), other.shape(), format!("the inner dims differ ({k1} vs {k2}); the last dim of the first must equal the second-to-last dim of the second")));
        }
        let batch = try_broadcast(
            "matmul",
            &a.shape()[..a.dim() - 2],
            &b.shape()[..b.dim() - 2],
        )
        .map_err(|_| {
            Error::shape(
                "matmul",
                self.shape(),
                other.shape(),
                "the batch dims (all but the last two) cannot be broadcast",
            )
        })?;
        let mut out = a.matmul_batched(&b, &batch);
        if da == 1 {
            out = out.squeeze(-2);
        }
        if db == 1 {
            out = out.squeeze(-1);
        }
        Ok(out)
    }

    /// `[..., m, k] @ [..., k, n]` with batch dims broadcast to `batch`. The one matmul
    /// primitive; its backward uses it again, so it differentiates to any order.
    #[track_caller]
    fn matmul_batched(&self, other: &Tensor, batch: &[usize]) -> Tensor {
        let (m, k, n) = (
            self.shape()[self.dim() - 2],
            self.shape()[self.dim() - 1],
            other.shape()[other.dim() - 1],
        );
        let mut a_shape = batch.to_vec();
        a_shape.extend([m, k]);
        let mut b_shape = batch.to_vec();
        b_shape.extend([k, n]);
        let la = self
            .layout()
            .broadcast_to(&a_shape)
            .expect("batch dims broadcast");
        let lb = other
            .layout()
            .broadcast_to(&b_shape)
            .expect("batch dims broadcast");
        let mut out_shape = batch.to_vec();
        out_shape.extend([m, n]);
        let nb: usize = batch.iter().product();
        let out = with_dtype!(self.dtype(), T => {
            let out = self.with_slice::<T, _>(|sa, _| other.with_slice::<T, _>(|sb, _| {
                let bd = batch.len();
                gemm_batch(nb, (m, k, n), |bi| {
                    // Offsets of this batch entry in each operand (stride 0 on broadcast dims).
                    let (mut oa, mut ob, mut rem) = (la.offset, lb.offset, bi);
                    for d in (0..bd).rev() {
                        let i = rem % batch[d];
                        rem /= batch[d];
                        oa += i * la.strides[d];
                        ob += i * lb.strides[d];
                    }
                    let ma = Mat { data: sa, offset: oa, rs: la.strides[bd], cs: la.strides[bd + 1] };
                    let mb = Mat { data: sb, offset: ob, rs: lb.strides[bd], cs: lb.strides[bd + 1] };
                    (ma, mb)
                })
            }));
            Tensor::from_elems(out, &out_shape)
        });
        let name = if batch.is_empty() {
            "MmBackward0"
        } else {
            "BmmBackward0"
        };
        let (sa, sb) = (self.shape().to_vec(), other.shape().to_vec());
        let batch_dims = batch.to_vec();
        // Like PyTorch's mm_mat1/mat2_backward: a column-major operand (a transposed view,
        // such as Linear's `weight.t()`) gets its gradient computed transposed, so the
        // gradient has the operand's layout and reaches `.grad` without a strided copy.
        let (a_col_major, b_col_major) = (
            batch.is_empty() && is_column_major(self.layout()),
            batch.is_empty() && is_column_major(other.layout()),
        );
        let out = record(out, name, &[self, other], |needs| {
            let a = needs[1].then(|| SavedTensor::input(self));
            let b = needs[0].then(|| SavedTensor::input(other));
            rule(move |ctx, g| {
                Ok(grads![
                    grad_if(ctx.needs(0), || {
                        let b = b.as_ref().expect("saved").get(ctx)?;
                        if a_col_major {
                            return Ok(b.matmul_batched(&g.t(), &[]).t());
                        }
                        let bt = b.transpose(-1, -2);
                        Ok(g.matmul_batched(&bt, &batch_dims).sum_to_shape(&sa))
                    })?,
                    grad_if(ctx.needs(1), || {
                        let a = a.as_ref().expect("saved").get(ctx)?;
                        if b_col_major {
                            return Ok(g.t().matmul_batched(&a, &[]).t());
                        }
                        let at = a.transpose(-1, -2);
                        Ok(at.matmul_batched(g, &batch_dims).sum_to_shape(&sb))
                    })?,
                ])
            })
        });
        jvp(out, &[self, other], |t| {
            add_opt(
                t[0].as_ref().map(|ta| ta.matmul_batched(other, batch)),
                t[1].as_ref().map(|tb| self.matmul_batched(tb, batch)),
            )
        })
    }

    /// Dot product of two 1-D tensors of equal length, a 0-d tensor (grad_fn `DotBackward0`).
    ///
    /// # Panics
    /// If either is not 1-D or the lengths differ; see [`try_dot`](Self::try_dot).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// assert_eq!(tensor!([1.0, 2.0, 3.0]).dot(&tensor!([4.0, 5.0, 6.0])).item::<f32>(), 32.0);
    /// ```
    #[track_caller]
    pub fn dot(&self, other: &Tensor) -> Tensor {
        self.try_dot(other).or_panic()
    }

    /// [`dot`](Self::dot) returning an error instead of panicking.
    #[track_caller]
    pub fn try_dot(&self, other: &Tensor) -> Result<Tensor> {
        super::check_same_dtype("dot", self, other)?;
        if self.dim() != 1 || other.dim() != 1 || self.numel() != other.numel() {
            return Err(Error::shape(
                "dot",
                self.shape(),
                other.shape(),
                "dot needs two 1-D tensors of the same length; use matmul or mul for other shapes",
            ));
        }
        let out = crate::no_grad(|| (self * other).sum());
        let out = record(out, "DotBackward0", &[self, other], |needs| {
            let a = needs[1].then(|| SavedTensor::input(self));
            let b = needs[0].then(|| SavedTensor::input(other));
            rule(move |ctx, g| {
                Ok(grads![
                    grad_if(ctx.needs(0), || Ok(g * b
                        .as_ref()
                        .expect("saved")
                        .get(ctx)?))?,
                    grad_if(ctx.needs(1), || Ok(g * a
                        .as_ref()
                        .expect("saved")
                        .get(ctx)?))?,
                ])
            })
        });
        Ok(jvp(out, &[self, other], |t| {
            add_opt(
                t[0].as_ref().map(|ta| ta.dot(other)),
                t[1].as_ref().map(|tb| self.dot(tb)),
            )
        }))
    }

    /// Outer product of two 1-D tensors: `out[i][j] = self[i] * other[j]`, like
    /// `torch.outer` (which PyTorch, and tensorgrad, compute as a broadcast multiply, so the
    /// grad_fn is `MulBackward0`).
    ///
    /// # Panics
    /// If either is not 1-D or the dtypes differ; see [`try_outer`](Self::try_outer).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let o = tensor!([1.0, 2.0]).outer(&tensor!([3.0, 4.0, 5.0]));
    /// assert_eq!(o.shape(), &[2, 3]);
    /// assert_eq!(o.to_vec::<f32>(), vec![3.0, 4.0, 5.0, 6.0, 8.0, 10.0]);
    /// ```
    #[track_caller]
    pub fn outer(&self, other: &Tensor) -> Tensor {
        self.try_outer(other).or_panic()
    }

    /// [`outer`](Self::outer) returning an error instead of panicking.
    #[track_caller]
    pub fn try_outer(&self, other: &Tensor) -> Result<Tensor> {
        if self.dim() != 1 || other.dim() != 1 {
            return Err(Error::shape(
                "outer",
                self.shape(),
                other.shape(),
                "outer needs two 1-D tensors; flatten them first",
            ));
        }
        self.reshape_to(&[self.numel(), 1])
            .try_mul(other)
            .map_err(|e| match e {
                Error::DTypeMismatch { lhs, rhs, .. } => Error::DTypeMismatch {
                    op: "outer",
                    lhs,
                    rhs,
                },
                e => e,
            })
    }

    /// Cross product along the last dim, which must have size 3 (`torch.linalg.cross`);
    /// other dims broadcast, so batches of vectors work. grad_fn `LinalgCrossBackward0`.
    ///
    /// # Panics
    /// If the last dims are not 3 or the shapes do not broadcast; see
    /// [`try_cross`](Self::try_cross).
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let x = tensor!([1.0, 0.0, 0.0]);
    /// let y = tensor!([0.0, 1.0, 0.0]);
    /// assert_eq!(x.cross(&y).to_vec::<f32>(), vec![0.0, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn cross(&self, other: &Tensor) -> Tensor {
        self.try_cross_dim(other, -1).or_panic()
    }

    /// [`cross`](Self::cross) returning an error instead of panicking.
    #[track_caller]
    pub fn try_cross(&self, other: &Tensor) -> Result<Tensor> {
        self.try_cross_dim(other, -1)
    }

    /// Cross product along `dim` (size 3 in both operands).
    #[track_caller]
    pub fn try_cross_dim(&self, other: &Tensor, dim: isize) -> Result<Tensor> {
        super::check_same_dtype("cross", self, other)?;
        let shape = try_broadcast("cross", self.shape(), other.shape())?;
        let d = normalize_dim("cross", dim, &shape)?;
        // The size of broadcast dim `d` in an operand with fewer dims, if it has that dim.
        let size_at = |t: &Tensor| {
            (d + t.dim())
                .checked_sub(shape.len())
                .and_then(|i| t.shape().get(i).copied())
        };
        if size_at(self) != Some(3) || size_at(other) != Some(3) {
            return Err(Error::shape(
                "cross",
                self.shape(),
                other.shape(),
                format!("dim {dim} must have size 3 in both tensors"),
            ));
        }
        let out = crate::no_grad(|| {
            let (a, b) = (self.expand_to(&shape), other.expand_to(&shape));
            let c = |t: &Tensor, i| t.narrow(d as isize, i, 1);
            let (a0, a1, a2, b0, b1, b2) =
                (c(&a, 0), c(&a, 1), c(&a, 2), c(&b, 0), c(&b, 1), c(&b, 2));
            (&a1 * &b2 - &a2 * &b1).embed_in_zeros(&shape, d, 0)
                + (&a2 * &b0 - &a0 * &b2).embed_in_zeros(&shape, d, 1)
                + (&a0 * &b1 - &a1 * &b0).embed_in_zeros(&shape, d, 2)
        });
        let (sa, sb) = (self.shape().to_vec(), other.shape().to_vec());
        let out = record(out, "LinalgCrossBackward0", &[self, other], |needs| {
            let a = needs[1].then(|| SavedTensor::input(self));
            let b = needs[0].then(|| SavedTensor::input(other));
            rule(move |ctx, g| {
                // d(a×b) = da×b + a×db, so the gradients are b×g for a and g×a for b.
                Ok(grads![
                    grad_if(ctx.needs(0), || Ok(b
                        .as_ref()
                        .expect("saved")
                        .get(ctx)?
                        .try_cross_dim(g, dim)?
                        .sum_to_shape(&sa)))?,
                    grad_if(ctx.needs(1), || Ok(g
                        .try_cross_dim(&a.as_ref().expect("saved").get(ctx)?, dim)?
                        .sum_to_shape(&sb)))?,
                ])
            })
        });
        let cross = |a: &Tensor, b: &Tensor| a.try_cross_dim(b, dim).expect("shapes checked above");
        Ok(jvp(out, &[self, other], |t| {
            add_opt(
                t[0].as_ref().map(|ta| cross(ta, other)),
                t[1].as_ref().map(|tb| cross(self, tb)),
            )
        }))
    }
}

/// A 2-D layout stored column by column (the transpose of a contiguous matrix), with both
/// dims above 1 so that the order is unambiguous.
fn is_column_major(l: &crate::layout::Layout) -> bool {
    matches!((l.shape.as_slice(), l.strides.as_slice()), ([r, c], [1, cs]) if *r > 1 && *c > 1 && cs == r)
}

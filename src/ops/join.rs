//! Joining and splitting along a dim: `cat`, `stack`, `split`, `split_sizes`, `chunk`.
//! The pieces of a split are views (narrow), so splitting copies nothing.

use super::check_same_dtype;
use crate::autograd::node::{record, rule, Grads};
use crate::error::{Error, OrPanic, Result};
use crate::forward_ad::jvp;
use crate::kernels::elementwise::update_in_place;
use crate::kernels::join::concat;
use crate::layout::{normalize_dim, normalize_dim_for, Layout};
use crate::tensor::{with_dtype, Tensor};

impl Tensor {
    /// Concatenates tensors along an existing `dim`, like `torch.cat` (grad_fn
    /// `CatBackward0`). All must have the same dtype, the same number of dims, and the same
    /// sizes except in `dim`.
    ///
    /// # Panics
    /// On an empty list, mismatched shapes or dtypes, or a bad dim; see
    /// [`try_cat`](Self::try_cat).
    ///
    /// ```
    /// use tensorgrad::{tensor, Tensor};
    /// let a = tensor!([[1.0, 2.0]]);
    /// let b = tensor!([[3.0, 4.0], [5.0, 6.0]]);
    /// assert_eq!(Tensor::cat(&[&a, &b], 0).shape(), &[3, 2]);
    /// assert_eq!(Tensor::cat(&[&b, &b], -1).shape(), &[2, 4]);
    /// ```
    #[track_caller]
    pub fn cat(tensors: &[&Tensor], dim: isize) -> Tensor {
        Tensor::try_cat(tensors, dim).or_panic()
    }

    /// [`cat`](Self::cat) returning an error instead of panicking.
    #[track_caller]
    pub fn try_cat(tensors: &[&Tensor], dim: isize) -> Result<Tensor> {
        join(tensors, dim, false)
    }

    /// Stacks tensors of one shape along a new `dim` (`0..=ndim`; negative counts from the
    /// end), like `torch.stack` (grad_fn `StackBackward0`).
    ///
    /// # Panics
    /// On an empty list, different shapes or dtypes, or a bad dim; see
    /// [`try_stack`](Self::try_stack).
    ///
    /// ```
    /// use tensorgrad::{tensor, Tensor};
    /// let a = tensor!([1.0, 2.0]);
    /// let b = tensor!([3.0, 4.0]);
    /// assert_eq!(Tensor::stack(&[&a, &b], 0).to_vec::<f32>(), vec![1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(Tensor::stack(&[&a, &b], -1).to_vec::<f32>(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn stack(tensors: &[&Tensor], dim: isize) -> Tensor {
        Tensor::try_stack(tensors, dim).or_panic()
    }

    /// [`stack`](Self::stack) returning an error instead of panicking.
    #[track_caller]
    pub fn try_stack(tensors: &[&Tensor], dim: isize) -> Result<Tensor> {
        join(tensors, dim, true)
    }

    /// Splits into views of `size` entries along `dim` (the last may be shorter), like
    /// `torch.split(t, size, dim)`; each piece has grad_fn `SplitBackward0`.
    ///
    /// # Panics
    /// If `dim` is out of range, the tensor is 0-d, or `size` is 0 for a non-empty dim; see
    /// [`try_split`](Self::try_split).
    ///
    /// ```
    /// use tensorgrad::Tensor;
    /// let parts = Tensor::arange(0.0, 5.0, 1.0).split(2, 0);
    /// let shapes: Vec<_> = parts.iter().map(|p| p.shape().to_vec()).collect();
    /// assert_eq!(shapes, vec![vec![2], vec![2], vec![1]]);
    /// ```
    #[track_caller]
    pub fn split(&self, size: usize, dim: isize) -> Vec<Tensor> {
        self.try_split(size, dim).or_panic()
    }

    /// [`split`](Self::split) returning an error instead of panicking.
    #[track_caller]
    pub fn try_split(&self, size: usize, dim: isize) -> Result<Vec<Tensor>> {
        let d = split_dim("split", self, dim)?;
        let n = self.shape()[d];
        if size == 0 && n > 0 {
            return Err(Error::invalid(
                "split",
                format!("split size 0 cannot split dim {dim} of size {n}; use a positive size"),
            ));
        }
        let pieces = if n == 0 {
            vec![0]
        } else {
            (0..n).step_by(size).map(|s| size.min(n - s)).collect()
        };
        Ok(self.pieces(d, &pieces, "SplitBackward0"))
    }

    /// Splits into views with the given sizes along `dim`, like `torch.split(t, [sizes], dim)`
    /// (grad_fn `SplitWithSizesBackward0`).
    ///
    /// # Panics
    /// If the sizes do not add up to the dim's size or `dim` is out of range; see
    /// [`try_split_sizes`](Self::try_split_sizes).
    ///
    /// ```
    /// use tensorgrad::Tensor;
    /// let parts = Tensor::zeros(&[2, 5]).split_sizes(&[1, 4], 1);
    /// assert_eq!((parts[0].shape(), parts[1].shape()), (&[2, 1][..], &[2, 4][..]));
    /// ```
    #[track_caller]
    pub fn split_sizes(&self, sizes: &[usize], dim: isize) -> Vec<Tensor> {
        self.try_split_sizes(sizes, dim).or_panic()
    }

    /// [`split_sizes`](Self::split_sizes) returning an error instead of panicking.
    #[track_caller]
    pub fn try_split_sizes(&self, sizes: &[usize], dim: isize) -> Result<Vec<Tensor>> {
        let d = split_dim("split_sizes", self, dim)?;
        let n = self.shape()[d];
        if sizes.iter().sum::<usize>() != n {
            return Err(Error::invalid("split_sizes", format!("sizes {sizes:?} add up to {}, but dim {dim} has size {n} (shape {:?}); they must add up to it", sizes.iter().sum::<usize>(), self.shape())));
        }
        Ok(self.pieces(d, sizes, "SplitWithSizesBackward0"))
    }

    /// Splits into `chunks` views of equal size along `dim` (the last may be smaller, and
    /// there may be fewer pieces), like `torch.chunk` (grad_fn `SplitBackward0`).
    ///
    /// # Panics
    /// If `chunks` is 0, the tensor is 0-d, or `dim` is out of range; see
    /// [`try_chunk`](Self::try_chunk).
    ///
    /// ```
    /// use tensorgrad::Tensor;
    /// let parts = Tensor::arange(0.0, 6.0, 1.0).chunk(4, 0);   // sizes 2, 2, 2 as in PyTorch
    /// assert_eq!(parts.len(), 3);
    /// ```
    #[track_caller]
    pub fn chunk(&self, chunks: usize, dim: isize) -> Vec<Tensor> {
        self.try_chunk(chunks, dim).or_panic()
    }

    /// [`chunk`](Self::chunk) returning an error instead of panicking.
    #[track_caller]
    pub fn try_chunk(&self, chunks: usize, dim: isize) -> Result<Vec<Tensor>> {
        if chunks == 0 {
            return Err(Error::invalid(
                "chunk",
                "the number of chunks must be at least 1",
            ));
        }
        let d = split_dim("chunk", self, dim)?;
        self.try_split(self.shape()[d].div_ceil(chunks), dim)
    }

    /// Consecutive narrow views of the given sizes along `d`, recorded under `name`.
    #[track_caller]
    fn pieces(&self, d: usize, sizes: &[usize], name: &'static str) -> Vec<Tensor> {
        let mut start = 0;
        sizes
            .iter()
            .map(|&len| {
                let piece = self.narrow_as(d, start, len, name);
                start += len;
                piece
            })
            .collect()
    }
}

/// The dim a split works on (splitting a 0-d tensor is an error, as in PyTorch).
fn split_dim(op: &'static str, t: &Tensor, dim: isize) -> Result<usize> {
    if t.dim() == 0 {
        return Err(Error::invalid(
            op,
            "cannot split a 0-d tensor; reshape it to 1-d first",
        ));
    }
    normalize_dim(op, dim, t.shape())
}

/// cat (`stack = false`) or stack: checks, copies each input into its window of one new
/// buffer, and records a rule that hands each input its window of the gradient.
#[track_caller]
fn join(tensors: &[&Tensor], dim: isize, stack: bool) -> Result<Tensor> {
    let (op, name) = if stack {
        ("stack", "StackBackward0")
    } else {
        ("cat", "CatBackward0")
    };
    let Some(&first) = tensors.first() else {
        return Err(Error::invalid(op, "needs at least one tensor"));
    };
    for &t in tensors {
        check_same_dtype(op, first, t)?;
    }
    let d = if stack {
        normalize_dim_for(op, dim, first.shape(), first.dim() + 1)?
    } else if first.dim() == 0 {
        return Err(Error::invalid(
            op,
            "cannot concatenate 0-d tensors; use stack, or unsqueeze them first",
        ));
    } else {
        normalize_dim(op, dim, first.shape())?
    };
    for (i, &t) in tensors.iter().enumerate() {
        let fits = if stack {
            t.shape() == first.shape()
        } else {
            t.dim() == first.dim()
                && t.shape()
                    .iter()
                    .zip(first.shape())
                    .enumerate()
                    .all(|(k, (a, b))| k == d || a == b)
        };
        if !fits {
            let rule = if stack {
                "every tensor must have the same shape".to_string()
            } else {
                format!("sizes must match except in dim {dim}")
            };
            return Err(Error::shape(
                op,
                first.shape(),
                t.shape(),
                format!("{rule}; tensor {i} differs from tensor 0"),
            ));
        }
    }
    // Each input as a layout of the output's rank (stack inserts the new size-1 dim).
    let layouts: Vec<_> = tensors
        .iter()
        .map(|t| {
            let mut l = t.layout().clone();
            if stack {
                l.shape.insert(d, 1);
                l.strides.insert(d, 0);
            }
            l
        })
        .collect();
    let lens: Vec<usize> = layouts.iter().map(|l| l.shape[d]).collect();
    let mut shape = layouts[0].shape.to_vec();
    shape[d] = lens.iter().sum();
    let out = join_contiguous(tensors, &layouts, d, &shape)
        .unwrap_or_else(|| join_strided(tensors, &layouts, d, &shape));
    let in_shapes: Vec<Vec<usize>> = tensors.iter().map(|t| t.shape().to_vec()).collect();
    let out = record(out, name, tensors, |_| {
        rule(move |ctx, g| {
            let mut start = 0;
            let mut grads = Grads::new();
            for (i, (len, shape)) in lens.iter().zip(&in_shapes).enumerate() {
                grads.push(ctx.needs(i).then(|| {
                    g.narrow_as(d, start, *len, "SliceBackward0")
                        .reshape_to(shape)
                }));
                start += len;
            }
            Ok(grads)
        })
    });
    Ok(jvp(out, tensors, |t| {
        let tangents: Vec<Tensor> = t
            .iter()
            .zip(tensors)
            .map(|(t, x)| t.clone().unwrap_or_else(|| Tensor::zeros_like(x)))
            .collect();
        let refs: Vec<&Tensor> = tangents.iter().collect();
        Some(join(&refs, dim, stack).expect("tangents have the inputs' shapes"))
    }))
}

/// The joined tensor in one pass when every input is contiguous (the usual case); `None`
/// otherwise. `layouts` are the inputs at the output's rank, `shape` the output's shape.
fn join_contiguous(
    tensors: &[&Tensor],
    layouts: &[Layout],
    d: usize,
    shape: &[usize],
) -> Option<Tensor> {
    if layouts.iter().any(|l| l.contiguous_range().is_none()) {
        return None;
    }
    let outer: usize = shape[..d].iter().product();
    let blocks: Vec<usize> = layouts
        .iter()
        .map(|l| l.shape[d..].iter().product())
        .collect();
    Some(with_dtype!(tensors[0].dtype(), T => {
        let guards: Vec<_> = tensors.iter().map(|t| t.storage().read()).collect();
        let parts: Vec<&[T]> = guards
            .iter()
            .zip(layouts)
            .map(|(g, l)| {
                let all = <T as crate::element::Element>::slice(g).expect("same dtype");
                &all[l.contiguous_range().expect("checked above")]
            })
            .collect();
        Tensor::from_elems(concat(&parts, &blocks, outer), shape)
    }))
}

/// The joined tensor for any layouts: a zeroed output, each input copied into its window.
fn join_strided(tensors: &[&Tensor], layouts: &[Layout], d: usize, shape: &[usize]) -> Tensor {
    let out = Tensor::zeros_dtype(shape, tensors[0].dtype());
    with_dtype!(tensors[0].dtype(), T => {
        let mut dst = out.storage().write();
        let dst = <T as crate::element::Element>::slice_mut(&mut dst).expect("same dtype");
        let mut start = 0;
        for (t, l) in tensors.iter().zip(layouts) {
            let window = out.layout().narrow(d, start, l.shape[d]);
            t.with_slice::<T, _>(|src, _| update_in_place(dst, &window, src, l, |_, s| s));
            start += l.shape[d];
        }
    });
    out
}

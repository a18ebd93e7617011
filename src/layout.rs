//! Shape, strides and offset: how a tensor's elements sit in its storage. Views (transpose,
//! permute, expand, narrow, most reshapes) only make a new `Layout`; they never copy.

use crate::error::{Error, Result};
use smallvec::SmallVec;

/// A small vector of sizes or strides; tensors up to 3-D need no heap allocation. Three, not
/// four: two inline arrays of four would make every tensor handle too big for glibc's fast
/// bins, which costs every op (see `per_op_allocations_fit_the_fast_bins` in `tensor.rs`).
pub(crate) type Dims = SmallVec<[usize; 3]>;

/// Shape, strides (in elements) and offset into the storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub shape: Dims,
    pub strides: Dims,
    pub offset: usize,
}

/// Row-major strides for `shape` (sizes 0 count as 1, as in PyTorch).
pub(crate) fn contiguous_strides(shape: &[usize]) -> Dims {
    let mut strides: Dims = SmallVec::from_elem(0, shape.len());
    let mut acc: usize = 1;
    for (s, &n) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        // Saturating: the product can only overflow for an empty tensor with huge sizes
        // (`[0]` reshaped to `[isize::MAX, 0, 3]`), whose strides are never used to read.
        acc = acc.saturating_mul(n.max(1));
    }
    strides
}

/// Number of elements of a shape (1 for a 0-d shape).
pub(crate) fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Number of elements of a shape, or `None` when the shape cannot be laid out: the product of
/// its sizes, with sizes of 0 counted as 1 (as strides count them), overflows `usize`.
/// Constructors check this, as PyTorch's do ("Stride calculation overflowed"), so a tensor's
/// `numel()` and strides never overflow, even for an empty `[0, 2^62, 4]`.
pub(crate) fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n.max(1)))?;
    Some(shape.iter().product())
}

/// The broadcast of two shapes under NumPy/PyTorch rules, or `None`.
pub(crate) fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Dims> {
    let n = a.len().max(b.len());
    let mut out: Dims = SmallVec::from_elem(0, n);
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Broadcast of two shapes, or the typed error naming `op`.
pub(crate) fn try_broadcast(op: &'static str, a: &[usize], b: &[usize]) -> Result<Dims> {
    broadcast_shapes(a, b).ok_or_else(|| Error::Broadcast {
        op,
        lhs: a.to_vec(),
        rhs: b.to_vec(),
    })
}

/// Turns a possibly negative dim into an index in `0..ndim`.
pub(crate) fn normalize_dim(op: &'static str, dim: isize, shape: &[usize]) -> Result<usize> {
    normalize_dim_for(op, dim, shape, shape.len())
}

/// Like [`normalize_dim`] but for ops (unsqueeze, stack) whose valid range is `0..=ndim`.
pub(crate) fn normalize_dim_for(
    op: &'static str,
    dim: isize,
    shape: &[usize],
    range: usize,
) -> Result<usize> {
    // PyTorch treats a 0-d tensor as having one dim for reductions and the like.
    let n = range.max(1) as isize;
    let d = if dim < 0 { dim + n } else { dim };
    if d < 0 || d >= n {
        return Err(Error::DimOutOfRange {
            op,
            dim,
            ndim: shape.len(),
            shape: shape.to_vec(),
            lo: -n,
            hi: n - 1,
        });
    }
    Ok(d as usize)
}

impl Layout {
    pub(crate) fn contiguous(shape: &[usize]) -> Self {
        if shape.is_empty() {
            // 0-d (every scalar): nothing to compute.
            return Layout {
                shape: Dims::new(),
                strides: Dims::new(),
                offset: 0,
            };
        }
        Layout {
            shape: SmallVec::from_slice(shape),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    pub(crate) fn numel(&self) -> usize {
        numel(&self.shape)
    }

    pub(crate) fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// True when elements are laid out row-major with no gaps (offset may be non-zero).
    ///
    /// A tensor with no elements is contiguous whatever its strides, as in PyTorch: there is
    /// nothing to lay out. (Without this, an empty transposed view looked strided, so kernels
    /// walked it and divided by its zero-sized dims, and `unsqueeze` of it found no view.)
    pub(crate) fn is_contiguous(&self) -> bool {
        if self.shape.contains(&0) {
            return true;
        }
        let mut expected = 1;
        for (&n, &s) in self.shape.iter().zip(&self.strides).rev() {
            if n != 1 && s != expected {
                return false;
            }
            expected *= n;
        }
        true
    }

    /// The storage range `offset..offset+numel` when contiguous.
    ///
    /// `0..0` for an empty tensor: its offset may point past the end of the storage (narrowing
    /// an empty `[4, 0]` to rows `1..2` moves the offset of a view with no elements), and
    /// nothing is read anyway.
    pub(crate) fn contiguous_range(&self) -> Option<std::ops::Range<usize>> {
        if self.shape.contains(&0) {
            return Some(0..0);
        }
        self.is_contiguous()
            .then(|| self.offset..self.offset + self.numel())
    }

    /// View with `shape` by broadcasting (stride 0 on expanded dims), or `None`.
    pub(crate) fn broadcast_to(&self, shape: &[usize]) -> Option<Layout> {
        if shape.len() < self.ndim() {
            return None;
        }
        let lead = shape.len() - self.ndim();
        let mut strides: Dims = SmallVec::from_elem(0, shape.len());
        for (i, &n) in shape.iter().enumerate() {
            if i < lead {
                continue;
            }
            let (own, st) = (self.shape[i - lead], self.strides[i - lead]);
            strides[i] = if own == n {
                st
            } else if own == 1 {
                0
            } else {
                return None;
            };
        }
        Some(Layout {
            shape: SmallVec::from_slice(shape),
            strides,
            offset: self.offset,
        })
    }

    pub(crate) fn permute(&self, perm: &[usize]) -> Layout {
        Layout {
            shape: perm.iter().map(|&p| self.shape[p]).collect(),
            strides: perm.iter().map(|&p| self.strides[p]).collect(),
            offset: self.offset,
        }
    }

    pub(crate) fn narrow(&self, dim: usize, start: usize, len: usize) -> Layout {
        let mut l = self.clone();
        l.shape[dim] = len;
        if len > 0 {
            l.offset += start * self.strides[dim];
        }
        l
    }

    /// A view of these elements with `shape`, when strides allow it without copying
    /// (PyTorch's `computeStride` rule: each run of merged dims must be contiguous).
    pub(crate) fn view(&self, shape: &[usize]) -> Option<Layout> {
        if self.is_contiguous() {
            return Some(Layout {
                shape: SmallVec::from_slice(shape),
                strides: contiguous_strides(shape),
                offset: self.offset,
            });
        }
        if self.numel() == 0 {
            return None;
        }
        let mut new_strides: Dims = SmallVec::from_elem(0, shape.len());
        let mut view_d = shape.len() as isize - 1;
        let mut chunk_base_stride = *self.strides.last().unwrap_or(&1);
        let mut tensor_numel = 1;
        let mut view_numel = 1;
        for d in (0..self.ndim()).rev() {
            tensor_numel *= self.shape[d];
            let end_of_chunk = d == 0
                || (self.shape[d - 1] != 1
                    && self.strides[d - 1] != tensor_numel * chunk_base_stride);
            if end_of_chunk {
                while view_d >= 0 && (view_numel < tensor_numel || shape[view_d as usize] == 1) {
                    new_strides[view_d as usize] = view_numel * chunk_base_stride;
                    view_numel *= shape[view_d as usize];
                    view_d -= 1;
                }
                if view_numel != tensor_numel {
                    return None;
                }
                if d > 0 {
                    chunk_base_stride = self.strides[d - 1];
                    tensor_numel = 1;
                    view_numel = 1;
                }
            }
        }
        if view_d != -1 {
            return None;
        }
        Some(Layout {
            shape: SmallVec::from_slice(shape),
            strides: new_strides,
            offset: self.offset,
        })
    }

    /// Storage offsets of every element in row-major order.
    pub(crate) fn offsets(&self) -> OffsetIter<'_> {
        OffsetIter::new(self)
    }
}

/// Iterates the storage offsets of a layout's elements in row-major order.
pub(crate) struct OffsetIter<'a> {
    layout: &'a Layout,
    index: Dims,
    next: usize,
    remaining: usize,
}

impl<'a> OffsetIter<'a> {
    fn new(layout: &'a Layout) -> Self {
        OffsetIter {
            layout,
            index: SmallVec::from_elem(0, layout.ndim()),
            next: layout.offset,
            remaining: layout.numel(),
        }
    }
}

impl Iterator for OffsetIter<'_> {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let current = self.next;
        // Advance the multi-index like an odometer, adjusting the offset incrementally.
        for d in (0..self.index.len()).rev() {
            self.index[d] += 1;
            if self.index[d] < self.layout.shape[d] {
                self.next += self.layout.strides[d];
                break;
            }
            self.next -= (self.layout.shape[d] - 1) * self.layout.strides[d];
            self.index[d] = 0;
        }
        Some(current)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for OffsetIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_rules() {
        assert_eq!(
            broadcast_shapes(&[3, 1], &[1, 4]).unwrap().as_slice(),
            &[3, 4]
        );
        assert_eq!(
            broadcast_shapes(&[2, 3, 4], &[4]).unwrap().as_slice(),
            &[2, 3, 4]
        );
        assert_eq!(broadcast_shapes(&[], &[5]).unwrap().as_slice(), &[5]);
        assert!(broadcast_shapes(&[3, 4], &[5]).is_none());
    }

    #[test]
    fn offsets_of_transpose() {
        let l = Layout::contiguous(&[2, 3]).permute(&[1, 0]);
        assert_eq!(l.offsets().collect::<Vec<_>>(), vec![0, 3, 1, 4, 2, 5]);
        assert!(!l.is_contiguous());
    }

    #[test]
    fn empty_layouts_are_contiguous_whatever_their_strides() {
        // [3, 0] transposed has strides [1, 1]: still contiguous (nothing to lay out), and
        // views of it (e.g. unsqueeze) exist.
        let l = Layout::contiguous(&[3, 0]).permute(&[1, 0]);
        assert!(l.is_contiguous());
        assert_eq!(l.contiguous_range(), Some(0..0));
        assert_eq!(l.view(&[1, 0, 3]).unwrap().shape.as_slice(), &[1, 0, 3]);
        // Rows 1..2 of an empty [4, 0]: the offset moves past the (empty) storage, but the
        // range read is still empty.
        let l = Layout::contiguous(&[4, 0]).narrow(0, 1, 1);
        assert_eq!(l.contiguous_range(), Some(0..0));
    }

    #[test]
    fn strides_of_an_empty_tensor_with_huge_sizes_do_not_overflow() {
        let l = Layout::contiguous(&[usize::MAX / 2, 0, 3]);
        assert_eq!(l.strides.as_slice(), &[3, 3, 1]);
        assert_eq!(l.numel(), 0);
    }

    #[test]
    fn checked_numel_reports_overflow() {
        assert_eq!(checked_numel(&[]), Some(1));
        assert_eq!(checked_numel(&[2, 0, 3]), Some(0));
        assert_eq!(checked_numel(&[1 << 32, 1 << 32]), None);
        // A zero does not rescue it: strides of these sizes overflow.
        assert_eq!(checked_numel(&[1 << 32, 1 << 32, 0]), None);
        assert_eq!(checked_numel(&[0, 1 << 62, 4]), None);
        assert_eq!(checked_numel(&[0, 1 << 62, 3]), Some(0));
    }

    #[test]
    fn view_of_non_contiguous() {
        // [4, 6] narrowed on dim 1 to [4, 3]: merging is impossible, splitting dim 0 is fine.
        let l = Layout::contiguous(&[4, 6]).narrow(1, 0, 3);
        assert!(l.view(&[12]).is_none());
        let v = l.view(&[2, 2, 3]).unwrap();
        assert_eq!(v.strides.as_slice(), &[12, 6, 1]);
    }
}

//! Walking N operands that share one logical shape but have their own strides (broadcast
//! inputs have stride 0). Dims that are contiguous in every operand are merged first, so the
//! common cases become one long inner loop that the compiler can vectorise.

use crate::layout::Dims;
use smallvec::SmallVec;

/// A shape and, per operand, its strides and base offset, with mergeable dims merged.
#[derive(Clone, Debug)]
pub(crate) struct Walk<const N: usize> {
    pub shape: Dims,
    pub strides: [Dims; N],
    pub offsets: [usize; N],
}

impl<const N: usize> Walk<N> {
    pub(crate) fn new(shape: &[usize], strides: [&[usize]; N], offsets: [usize; N]) -> Self {
        // Drop size-1 dims, then merge d into d+1 when every operand steps through d exactly
        // as if the two dims were one.
        let mut out_shape: Dims = SmallVec::new();
        let mut out_strides: [Dims; N] = std::array::from_fn(|_| SmallVec::new());
        if shape.contains(&0) {
            // Nothing to visit: one empty run (and no stride arithmetic, which could overflow
            // for empty tensors with huge sizes).
            out_shape.push(0);
            for s in out_strides.iter_mut() {
                s.push(0);
            }
            return Walk {
                shape: out_shape,
                strides: out_strides,
                offsets,
            };
        }
        for d in 0..shape.len() {
            if shape[d] == 1 {
                continue;
            }
            if let Some(&last) = out_shape.last() {
                let mergeable =
                    (0..N).all(|k| *out_strides[k].last().unwrap() == strides[k][d] * shape[d]);
                if mergeable {
                    *out_shape.last_mut().unwrap() = last * shape[d];
                    for k in 0..N {
                        *out_strides[k].last_mut().unwrap() = strides[k][d];
                    }
                    continue;
                }
            }
            out_shape.push(shape[d]);
            for k in 0..N {
                out_strides[k].push(strides[k][d]);
            }
        }
        if out_shape.is_empty() {
            out_shape.push(1);
            for s in out_strides.iter_mut() {
                s.push(0);
            }
        }
        Walk {
            shape: out_shape,
            strides: out_strides,
            offsets,
        }
    }

    /// Length of the innermost run.
    pub(crate) fn inner(&self) -> usize {
        *self.shape.last().unwrap()
    }

    /// Strides of the innermost run, per operand.
    pub(crate) fn inner_strides(&self) -> [usize; N] {
        std::array::from_fn(|k| *self.strides[k].last().unwrap())
    }

    /// Number of inner runs.
    pub(crate) fn rows(&self) -> usize {
        self.shape[..self.shape.len() - 1].iter().product()
    }

    /// Calls `f(row, offsets)` for rows `start..end`, with each operand's offset at the start
    /// of the row.
    pub(crate) fn for_rows(&self, start: usize, end: usize, mut f: impl FnMut(usize, [usize; N])) {
        if start >= end {
            return;
        }
        let outer = &self.shape[..self.shape.len() - 1];
        let mut index: Dims = SmallVec::from_elem(0, outer.len());
        let mut offs = self.offsets;
        // Position the odometer at `start`.
        let mut rem = start;
        for d in (0..outer.len()).rev() {
            index[d] = rem % outer[d];
            rem /= outer[d];
            for (o, s) in offs.iter_mut().zip(&self.strides) {
                *o += index[d] * s[d];
            }
        }
        for row in start..end {
            f(row, offs);
            for d in (0..outer.len()).rev() {
                index[d] += 1;
                if index[d] < outer[d] {
                    for (o, s) in offs.iter_mut().zip(&self.strides) {
                        *o += s[d];
                    }
                    break;
                }
                for (o, s) in offs.iter_mut().zip(&self.strides) {
                    *o -= (outer[d] - 1) * s[d];
                }
                index[d] = 0;
            }
        }
    }
}

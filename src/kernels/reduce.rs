//! Reductions: over all elements, or over some dims.

use super::strided::Walk;
use super::{PAR_CHUNK, PAR_MIN};
use crate::element::Element;
use crate::layout::{Dims, Layout};
use rayon::prelude::*;

/// Lanes of independent accumulators: breaks the add dependency chain so the loop vectorises
/// (a single f32 accumulator runs at a fraction of memory bandwidth), and keeps the rounding
/// error of long sums down.
const LANES: usize = 16;

fn sum_contiguous<T: Element>(xs: &[T]) -> T {
    let mut acc = [T::ZERO; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = *a + x;
        }
    }
    let mut total = chunks.remainder().iter().fold(T::ZERO, |a, &x| a + x);
    // Pairwise combination of the lanes.
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            acc[i] = acc[i] + acc[i + width];
        }
    }
    total = total + acc[0];
    total
}

/// Sum of every element.
pub(crate) fn sum_all<T: Element>(src: &[T], layout: &Layout) -> T {
    if let Some(r) = layout.contiguous_range() {
        let xs = &src[r];
        if xs.len() < PAR_MIN {
            return sum_contiguous(xs);
        }
        let partial: Vec<T> = xs.par_chunks(PAR_CHUNK).map(sum_contiguous).collect();
        return sum_contiguous(&partial);
    }
    let walk = Walk::new(&layout.shape, [&layout.strides], [layout.offset]);
    let n = walk.inner();
    let [s] = walk.inner_strides();
    let mut partial = Vec::with_capacity(walk.rows());
    walk.for_rows(0, walk.rows(), |_, [o]| {
        partial.push((0..n).map(|i| src[o + i * s]).sum::<T>())
    });
    sum_contiguous(&partial)
}

/// Folds the dims marked in `reduce` with `f`, starting from `init`; the result holds the kept
/// dims in row-major order.
pub(crate) fn reduce_dims<T: Element, F>(
    src: &[T],
    layout: &Layout,
    reduce: &[bool],
    init: T,
    f: F,
) -> Vec<T>
where
    F: Fn(T, T) -> T + Sync,
{
    let split = |keep: bool| -> (Dims, Dims) {
        let dims = (0..layout.ndim()).filter(|&d| reduce[d] != keep);
        dims.map(|d| (layout.shape[d], layout.strides[d])).unzip()
    };
    let (kept_shape, kept_strides) = split(true);
    let (red_shape, red_strides) = split(false);
    let kept = Walk::new(&kept_shape, [&kept_strides], [0]);
    let red = Walk::new(&red_shape, [&red_strides], [0]);
    let out_len: usize = kept_shape.iter().product();
    let mut out = super::alloc::filled(out_len, init);
    if out_len == 0 {
        return out;
    }
    let (kn, [ks]) = (kept.inner(), kept.inner_strides());
    let (rn, [rs]) = (red.inner(), red.inner_strides());

    if kept.rows() == 1 && ks == 1 && kn > 1 {
        // Kept dims form one contiguous run (e.g. summing a [batch, features] gradient over
        // the batch): accumulate whole rows, which vectorises.
        red.for_rows(0, red.rows(), |_, [ro]| {
            for i in 0..rn {
                let base = layout.offset + ro + i * rs;
                for (o, &x) in out.iter_mut().zip(&src[base..base + kn]) {
                    *o = f(*o, x);
                }
            }
        });
        return out;
    }

    let fold_one = |ko: usize| -> T {
        let mut acc = init;
        red.for_rows(0, red.rows(), |_, [ro]| {
            let base = layout.offset + ko + ro;
            for i in 0..rn {
                acc = f(acc, src[base + i * rs]);
            }
        });
        acc
    };
    let fill = |out: &mut [T], start_row: usize| {
        let rows = out.len() / kn;
        kept.for_rows(start_row, start_row + rows, |r, [ko]| {
            let row = &mut out[(r - start_row) * kn..(r - start_row + 1) * kn];
            for (i, o) in row.iter_mut().enumerate() {
                *o = fold_one(ko + i * ks);
            }
        });
    };
    if src.len().min(layout.numel()) < PAR_MIN || kept.rows() < 2 {
        fill(&mut out, 0);
    } else {
        let rows_per_task = (PAR_CHUNK / (kn * rn).max(1)).max(1);
        out.par_chunks_mut(rows_per_task * kn)
            .enumerate()
            .for_each(|(c, chunk)| fill(chunk, c * rows_per_task));
    }
    out
}

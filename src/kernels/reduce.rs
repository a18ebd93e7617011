//! Reductions: over all elements, or over some dims.

use super::pool;
use super::strided::Walk;
use super::{PAR_CHUNK, PAR_MIN};
use crate::element::Element;
use crate::layout::{Dims, Layout};

/// Lanes of independent accumulators: breaks the add dependency chain so the loop vectorises
/// (a single f32 accumulator runs at a fraction of memory bandwidth), and keeps the rounding
/// error of long sums down.
const LANES: usize = 16;

/// Elements per block of a leading-dim reduction's rows (see [`reduce_dims_with`]): 512 KiB
/// of f32, so the partial results add about `1/rows-per-block` to the work.
const LEADING_BLOCK: usize = PAR_CHUNK * 8;

pub(crate) fn sum_contiguous<T: Element>(xs: &[T]) -> T {
    fold_lanes(xs, T::ZERO, |a, b| a + b)
}

/// Folds `xs` with `f` into `LANES` interleaved accumulators started at `init`, combines the
/// lanes pairwise, and folds that into the remainder (itself folded from `init`): independent
/// lanes vectorise where one running value cannot. The order is [`sum_contiguous`]'s (its
/// rounding is part of every sum's result); for the exact max and min below any order gives
/// the same value, up to which of two equal zeros (+0, −0) wins.
fn fold_lanes<T: Element>(xs: &[T], init: T, f: impl Fn(T, T) -> T) -> T {
    let mut acc = [init; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = f(*a, x);
        }
    }
    let total = chunks.remainder().iter().fold(init, |a, &x| f(a, x));
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            acc[i] = f(acc[i], acc[i + width]);
        }
    }
    f(total, acc[0])
}

/// NaN is the one value not ordered against itself.
#[inline]
fn is_nan<T: Element>(x: T) -> bool {
    x.partial_cmp(&x).is_none()
}

/// `x` if it is larger than `acc` or NaN, else `acc`: folded over a run, the largest
/// element, or NaN if there is one (PyTorch's `max`).
#[inline]
pub(crate) fn pick_max<T: Element>(acc: T, x: T) -> T {
    if is_nan(x) || x > acc {
        x
    } else {
        acc
    }
}

/// `x` if it is smaller than `acc` or NaN, else `acc` (see [`pick_max`]).
#[inline]
pub(crate) fn pick_min<T: Element>(acc: T, x: T) -> T {
    if is_nan(x) || x < acc {
        x
    } else {
        acc
    }
}

/// The largest element of a contiguous run, NaN if there is one; -inf if empty.
pub(crate) fn max_contiguous<T: Element>(xs: &[T]) -> T {
    fold_lanes(xs, T::from_f64(f64::NEG_INFINITY), pick_max)
}

/// The smallest element of a contiguous run, NaN if there is one; +inf if empty.
pub(crate) fn min_contiguous<T: Element>(xs: &[T]) -> T {
    fold_lanes(xs, T::from_f64(f64::INFINITY), pick_min)
}

/// Sum of every element.
pub(crate) fn sum_all<T: Element>(src: &[T], layout: &Layout) -> T {
    if let Some(r) = layout.contiguous_range() {
        let xs = &src[r];
        if xs.len() < PAR_MIN {
            return sum_contiguous(xs);
        }
        let partial = pool::map_tasks(xs.len().div_ceil(PAR_CHUNK), |c| {
            sum_contiguous(&xs[c * PAR_CHUNK..((c + 1) * PAR_CHUNK).min(xs.len())])
        });
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
/// dims in row-major order. `init` must be an identity of `f` and `f` associative (up to
/// rounding): a large reduction over leading dims folds blocks of rows separately, each from
/// `init`, and then folds the blocks' results.
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
    reduce_dims_with(src, layout, reduce, init, f, None)
}

/// Sums the dims marked in `reduce`. A reduced run that is contiguous in memory (the last dim
/// of a row-major tensor: softmax's and `sum(-1)`'s case) is summed with several
/// accumulators, as [`sum_all`] does, instead of one long dependent chain of adds (12× slower
/// than PyTorch for `sum(1)` of 2048×1024 floats).
pub(crate) fn sum_dims<T: Element>(src: &[T], layout: &Layout, reduce: &[bool]) -> Vec<T> {
    reduce_dims_with(
        src,
        layout,
        reduce,
        T::ZERO,
        |a, b| a + b,
        Some(sum_contiguous),
    )
}

/// [`reduce_dims`], with `run` (when given) folding each contiguous reduced run at once;
/// `f(acc, run(xs))` must then equal folding `xs` into `acc` one by one, up to rounding.
pub(crate) fn reduce_dims_with<T: Element, F>(
    src: &[T],
    layout: &Layout,
    reduce: &[bool],
    init: T,
    f: F,
    run: Option<fn(&[T]) -> T>,
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
        // the batch): accumulate whole rows, which vectorises. Large inputs are cut into
        // blocks of consecutive reduced rows, each folded into its own row of partial
        // results, and the partials folded in block order: the blocks depend only on the
        // shape, so the rounding does not depend on the thread count. (Splitting the columns
        // instead, each thread reading half-rows, was slower: 2048×1024 f32 `sum(0)` 0.42–0.56
        // → 0.56–0.65 ms on the Intel machine of round 7.)
        let reduced = red.rows() * rn;
        if reduced == 0 {
            // An empty reduced dim: every output is `init`.
            return out;
        }
        // Folds the reduced rows numbered `rows` (in the walk's order) into `acc`.
        let fold_rows = |acc: &mut [T], rows: std::ops::Range<usize>| {
            red.for_rows(rows.start / rn, rows.end.div_ceil(rn), |r, [ro]| {
                let inner = rows.start.max(r * rn) - r * rn..rows.end.min((r + 1) * rn) - r * rn;
                for i in inner {
                    let base = layout.offset + ro + i * rs;
                    for (o, &x) in acc.iter_mut().zip(&src[base..base + kn]) {
                        *o = f(*o, x);
                    }
                }
            });
        };
        let block = (LEADING_BLOCK / kn).max(1);
        if reduced * kn < PAR_MIN || reduced < 2 * block {
            fold_rows(&mut out, 0..reduced);
        } else {
            let partials = pool::map_tasks(reduced.div_ceil(block), |b| {
                let mut acc = super::alloc::filled(kn, init);
                fold_rows(&mut acc, b * block..((b + 1) * block).min(reduced));
                acc
            });
            for partial in partials {
                for (o, &x) in out.iter_mut().zip(&partial) {
                    *o = f(*o, x);
                }
            }
        }
        return out;
    }

    let fold_one = |ko: usize| -> T {
        let mut acc = init;
        red.for_rows(0, red.rows(), |_, [ro]| {
            let base = layout.offset + ko + ro;
            match run {
                Some(run) if rs == 1 => acc = f(acc, run(&src[base..base + rn])),
                _ => {
                    for i in 0..rn {
                        acc = f(acc, src[base + i * rs]);
                    }
                }
            }
        });
        acc
    };
    // Fills output positions `first..first + out.len()` (row-major over the kept dims), which
    // may start or end inside a kept row: one long kept row (`sum(-1)` of a matrix keeps
    // one row of outputs) is split between threads too.
    let fill = |out: &mut [T], first: usize| {
        let end = first + out.len();
        kept.for_rows(first / kn, end.div_ceil(kn), |r, [ko]| {
            for p in (r * kn).max(first)..((r + 1) * kn).min(end) {
                out[p - first] = fold_one(ko + (p - r * kn) * ks);
            }
        });
    };
    if src.len().min(layout.numel()) < PAR_MIN || out_len < 2 {
        fill(&mut out, 0);
    } else {
        let per_task = (PAR_CHUNK / (red.rows() * rn).max(1)).max(1);
        pool::for_each_chunk_mut(&mut out, per_task, |c, chunk| fill(chunk, c * per_task));
    }
    out
}

//! Element-wise maps: unary, binary with broadcasting, and in-place updates.

use super::alloc;
use super::pool;
use super::strided::Walk;
use super::{PAR_CHUNK, PAR_MIN};
use crate::element::Element;
use crate::layout::Layout;
use std::mem::MaybeUninit;

/// `f` over every element of `src` (any layout), row-major output.
pub(crate) fn unary<T: Element, F>(src: &[T], layout: &Layout, f: F) -> Vec<T>
where
    F: Fn(T) -> T + Sync,
{
    if let Some(r) = layout.contiguous_range() {
        return map_slice(&src[r], &f);
    }
    let walk = Walk::new(&layout.shape, [&layout.strides], [layout.offset]);
    let row = |out: &mut [MaybeUninit<T>], [o]: [usize; 1], [s]: [usize; 1]| match s {
        // Unit-stride runs (a broadcast gradient being materialised, a slice of rows) as a
        // slice loop, which vectorises; a stride-0 run is one value.
        1 => {
            let run = &src[o..o + out.len()];
            for (v, &x) in out.iter_mut().zip(run) {
                v.write(f(x));
            }
        }
        0 if !out.is_empty() => out.fill(MaybeUninit::new(f(src[o]))),
        _ => {
            for (i, v) in out.iter_mut().enumerate() {
                v.write(f(src[o + i * s]));
            }
        }
    };
    // SAFETY: `row` writes every element of the run it is given.
    unsafe { collect_rows(&walk, row) }
}

/// `f(a, b)` over the broadcast of two operands whose layouts are already broadcast to
/// `shape` (stride 0 on broadcast dims).
pub(crate) fn binary<T: Element, F>(
    a: &[T],
    la: &Layout,
    b: &[T],
    lb: &Layout,
    shape: &[usize],
    f: F,
) -> Vec<T>
where
    F: Fn(T, T) -> T + Sync,
{
    let walk = Walk::new(shape, [&la.strides, &lb.strides], [la.offset, lb.offset]);
    let row = |out: &mut [MaybeUninit<T>], [oa, ob]: [usize; 2], strides: [usize; 2]| {
        // `out` is a whole inner run, or a piece of one when a long run is split across threads.
        let n = out.len();
        match strides {
            // The cases that cover nearly all real use; each is a loop the compiler vectorises.
            [1, 1] => {
                for ((o, &x), &y) in out.iter_mut().zip(&a[oa..oa + n]).zip(&b[ob..ob + n]) {
                    o.write(f(x, y));
                }
            }
            [1, 0] => {
                let y = b[ob];
                for (o, &x) in out.iter_mut().zip(&a[oa..oa + n]) {
                    o.write(f(x, y));
                }
            }
            [0, 1] => {
                let x = a[oa];
                for (o, &y) in out.iter_mut().zip(&b[ob..ob + n]) {
                    o.write(f(x, y));
                }
            }
            [sa, sb] => {
                for (i, o) in out.iter_mut().enumerate() {
                    o.write(f(a[oa + i * sa], b[ob + i * sb]));
                }
            }
        }
    };
    // SAFETY: every arm of `row` writes each of the run's `n` elements (the slices it zips
    // with are `n` long: the walk keeps each operand's run in bounds).
    unsafe { collect_rows(&walk, row) }
}

/// `f(a, b, c)` over three operands whose layouts are already broadcast to `shape` (used by
/// `where`, whose condition, then-values and else-values all broadcast).
pub(crate) fn ternary<T: Element, F>(
    [(a, la), (b, lb), (c, lc)]: [(&[T], &Layout); 3],
    shape: &[usize],
    f: F,
) -> Vec<T>
where
    F: Fn(T, T, T) -> T + Sync,
{
    let walk = Walk::new(
        shape,
        [&la.strides, &lb.strides, &lc.strides],
        [la.offset, lb.offset, lc.offset],
    );
    let row = |out: &mut [MaybeUninit<T>], [oa, ob, oc]: [usize; 3], [sa, sb, sc]: [usize; 3]| {
        for (i, o) in out.iter_mut().enumerate() {
            o.write(f(a[oa + i * sa], b[ob + i * sb], c[oc + i * sc]));
        }
    };
    // SAFETY: `row` writes every element of the run it is given.
    unsafe { collect_rows(&walk, row) }
}

/// Fills a new row-major buffer of the walk's size, calling `row(out_row, offsets, strides)`
/// for each inner run; runs in parallel for large outputs. The buffer starts uninitialised
/// (see [`alloc::output_uninit`]: no `memset` of memory about to be overwritten).
///
/// # Safety
/// `row` must write every element of the slice it is given.
unsafe fn collect_rows<T: Element, const N: usize, R>(walk: &Walk<N>, row: R) -> Vec<T>
where
    R: Fn(&mut [MaybeUninit<T>], [usize; N], [usize; N]) + Sync,
{
    let mut out = alloc::output_uninit::<T>(walk.inner() * walk.rows());
    fill_rows(walk, &mut out, row);
    // SAFETY: `fill_rows` hands every element to `row` in exactly one run, and the caller
    // guarantees `row` writes all of each run.
    unsafe { alloc::assume_init(out) }
}

/// Calls `row` on every inner run of `out` (row-major, the walk's size), in parallel for
/// large outputs.
fn fill_rows<T: Element, const N: usize, R>(walk: &Walk<N>, out: &mut [MaybeUninit<T>], row: R)
where
    R: Fn(&mut [MaybeUninit<T>], [usize; N], [usize; N]) + Sync,
{
    let inner = walk.inner();
    let rows = walk.rows();
    let total = inner * rows;
    if total == 0 {
        return;
    }
    let strides = walk.inner_strides();
    if total < PAR_MIN {
        walk.for_rows(0, rows, |r, offs| {
            row(&mut out[r * inner..(r + 1) * inner], offs, strides)
        });
        return;
    }
    if rows == 1 {
        // One long run: split it.
        pool::for_each_chunk_mut(out, PAR_CHUNK, |c, chunk| {
            let offs = std::array::from_fn(|k| walk.offsets[k] + c * PAR_CHUNK * strides[k]);
            row(chunk, offs, strides);
        });
        return;
    }
    let rows_per_task = (PAR_CHUNK / inner).max(1);
    pool::for_each_chunk_mut(out, rows_per_task * inner, |c, chunk| {
        let start = c * rows_per_task;
        let end = (start + rows_per_task).min(rows);
        walk.for_rows(start, end, |r, offs| {
            let local = (r - start) * inner;
            row(&mut chunk[local..local + inner], offs, strides);
        });
    });
}

fn map_slice<T: Element, F: Fn(T) -> T + Sync>(src: &[T], f: &F) -> Vec<T> {
    if src.len() < PAR_MIN {
        return src.iter().map(|&x| f(x)).collect();
    }
    let mut out = alloc::output_uninit::<T>(src.len());
    pool::for_each_chunk_pair(&mut out, src, PAR_CHUNK, |_, o, s| {
        for (o, &x) in o.iter_mut().zip(s) {
            o.write(f(x));
        }
    });
    // SAFETY: `out` and `src` have the same length and are cut into the same chunks, so the
    // zipped loops write every element of `out`.
    unsafe { alloc::assume_init(out) }
}

/// `dst[i] = f(dst[i], src[i])` in place, `src` broadcast to `dst`'s layout.
pub(crate) fn update_in_place<T: Element, F>(
    dst: &mut [T],
    ld: &Layout,
    src: &[T],
    ls: &Layout,
    f: F,
) where
    F: Fn(T, T) -> T + Sync,
{
    if let (Some(rd), Some(rs)) = (ld.contiguous_range(), ls.contiguous_range()) {
        if ls.shape == ld.shape {
            let (d, s) = (&mut dst[rd], &src[rs]);
            zip_chunks_mut(s, [d], |s, [d]| update_pairs(d, s, &f));
            return;
        }
    }
    let walk = Walk::new(
        &ld.shape,
        [&ld.strides, &ls.strides],
        [ld.offset, ls.offset],
    );
    let n = walk.inner();
    let [sd, ss] = walk.inner_strides();
    walk.for_rows(0, walk.rows(), |_, [od, os]| {
        if sd == 1 && ss == 1 {
            // Rows contiguous on both sides (a window of a larger tensor: `cat`, `narrow`
            // copies): a slice loop, which vectorises; the strided one below does not.
            zip_update(&mut dst[od..od + n], &src[os..os + n], &f);
            return;
        }
        for i in 0..n {
            let di = od + i * sd;
            dst[di] = f(dst[di], src[os + i * ss]);
        }
    });
}

/// `d[i] = f(d[i], s[i])` over two equal-length slices, compiled for FMA where the CPU has it
/// (see [`with_fma`]): a `mul_add` in `f` (the optimizers' `p + alpha·g`, fused as in
/// PyTorch's vectorised kernels) is then one vector instruction, not a libm call per element.
fn zip_update<T: Copy, F: Fn(T, T) -> T>(d: &mut [T], s: &[T], f: &F) {
    with_fma(
        #[inline(always)]
        || update_pairs(d, s, f),
    )
}

/// `d[i] = f(d[i], s[i])`: the loop of [`zip_update`], for callers already inside
/// [`with_fma`] ([`zip_chunks_mut`]'s chunks).
#[inline(always)]
fn update_pairs<T: Copy, F: Fn(T, T) -> T>(d: &mut [T], s: &[T], f: &F) {
    for (d, &s) in d.iter_mut().zip(s) {
        *d = f(*d, s);
    }
}

/// Runs `f` over matching chunks of one read-only slice and `S` written slices of the same
/// length (an optimizer's gradient, and its parameter and state buffers; an in-place op's
/// source and destination): in parallel chunks
/// for long slices, each compiled for FMA where the CPU has it (see [`with_fma`]), so one pass
/// over memory does a whole update instead of one pass per arithmetic step.
///
/// # Panics
/// If the slices' lengths differ (callers pass views of tensors of one shape).
pub(crate) fn zip_chunks_mut<T: Element, const S: usize, F>(
    read: &[T],
    written: [&mut [T]; S],
    f: F,
) where
    F: Fn(&[T], [&mut [T]; S]) + Sync,
{
    assert!(
        written.iter().all(|w| w.len() == read.len()),
        "zip_chunks_mut: slice lengths differ"
    );
    let run = |r: &[T], w: [&mut [T]; S]| {
        with_fma(
            #[inline(always)]
            || f(r, w),
        )
    };
    if read.len() < PAR_MIN {
        run(read, written);
        return;
    }
    let mut parts = written.map(|w| w.chunks_mut(PAR_CHUNK));
    let tasks: Vec<(&[T], [&mut [T]; S])> = read
        .chunks(PAR_CHUNK)
        .map(|r| {
            let w = std::array::from_fn(|k| parts[k].next().expect("lengths checked above"));
            (r, w)
        })
        .collect();
    pool::for_each_task(tasks, |(r, w)| run(r, w));
}

/// Runs `body` compiled for AVX2+FMA when the CPU has both (chosen at run time), otherwise as
/// is. `body` is inlined into the FMA-enabled function, so its loops vectorise with AVX2 and
/// its `mul_add`s become single instructions; without FMA they are libm calls, with the same
/// (correctly rounded) results.
#[inline(always)]
pub(crate) fn with_fma<R, F: FnOnce() -> R>(body: F) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn run_fma<R, F: FnOnce() -> R>(body: F) -> R {
            body()
        }
        if super::vmath::has_avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (checked just above), all that calling a
            // function compiled with `target_feature(enable = "avx2,fma")` requires.
            return unsafe { run_fma(body) };
        }
    }
    body()
}

/// `dst[i] = f(dst[i])` in place.
pub(crate) fn map_in_place<T: Element, F: Fn(T) -> T + Sync>(dst: &mut [T], ld: &Layout, f: F) {
    if let Some(r) = ld.contiguous_range() {
        let d = &mut dst[r];
        if d.len() >= PAR_MIN {
            pool::for_each_chunk_mut(d, PAR_CHUNK, |_, c| c.iter_mut().for_each(|x| *x = f(*x)));
        } else {
            d.iter_mut().for_each(|x| *x = f(*x));
        }
        return;
    }
    let walk = Walk::new(&ld.shape, [&ld.strides], [ld.offset]);
    let n = walk.inner();
    let [sd] = walk.inner_strides();
    walk.for_rows(0, walk.rows(), |_, [od]| {
        for i in 0..n {
            dst[od + i * sd] = f(dst[od + i * sd]);
        }
    });
}

/// A fresh `n`-element vector filled by `fill(first, chunk)`, which writes the elements whose
/// indices start at `first`; chunks run in parallel for large `n`, each compiled for FMA where
/// the CPU has it (see [`with_fma`]). Filling a whole chunk at a time lets the caller write
/// loops that vectorise (linspace).
pub(crate) fn fill_chunks<T: Element, F: Fn(usize, &mut [T]) + Sync>(n: usize, fill: F) -> Vec<T> {
    let mut out = alloc::output::<T>(n);
    if n < PAR_MIN {
        with_fma(
            #[inline(always)]
            || fill(0, &mut out),
        );
        return out;
    }
    pool::for_each_chunk_mut(&mut out, PAR_CHUNK, |c, chunk| {
        with_fma(
            #[inline(always)]
            || fill(c * PAR_CHUNK, chunk),
        )
    });
    out
}

/// Row-major copy of any layout.
pub(crate) fn to_contiguous<T: Element>(src: &[T], layout: &Layout) -> Vec<T> {
    transposed_copy(src, layout).unwrap_or_else(|| unary(src, layout, |x| x))
}

/// Side of the square tiles [`transposed_copy`] moves at a time.
const TILE: usize = 32;

/// Row-major copy of a layout whose last two dims are swapped in memory (`t()`,
/// `transpose(-2, -1)`, `permute(.., 1, 0)` of a contiguous tensor), tile by tile; `None` for
/// other layouts and small matrices. Copying one output row at a time reads the source a new
/// cache line per element; within a 32×32 tile the 32 lines one output row reads are reused
/// by the next 15 rows (`x.t().contiguous()` of 2048×1024 floats was 2.2× PyTorch's time).
fn transposed_copy<T: Element>(src: &[T], layout: &Layout) -> Option<Vec<T>> {
    let nd = layout.ndim();
    if nd < 2 || layout.strides[nd - 2] != 1 || layout.strides[nd - 1] <= 1 {
        return None;
    }
    let (rows, cols, col_stride) = (
        layout.shape[nd - 2],
        layout.shape[nd - 1],
        layout.strides[nd - 1],
    );
    let plane = rows * cols;
    if plane < 1024 {
        return None;
    }
    let lead = Layout {
        shape: layout.shape[..nd - 2].into(),
        strides: layout.strides[..nd - 2].into(),
        offset: layout.offset,
    };
    let bases: Vec<usize> = lead.offsets().collect();
    let mut out = alloc::output_uninit::<T>(bases.len() * plane);
    // One task per block of up to TILE output rows of one matrix: (source base, first row, rows).
    let copy_rows = |base: usize, row0: usize, out: &mut [MaybeUninit<T>]| {
        let n_rows = out.len() / cols;
        for j0 in (0..cols).step_by(TILE) {
            let j1 = (j0 + TILE).min(cols);
            for i in 0..n_rows {
                let first = base + row0 + i;
                for (j, o) in (j0..j1).zip(&mut out[i * cols + j0..i * cols + j1]) {
                    o.write(src[first + j * col_stride]);
                }
            }
        }
    };
    let tasks = out.chunks_mut(plane).zip(&bases).flat_map(|(m, &base)| {
        m.chunks_mut(TILE * cols)
            .enumerate()
            .map(move |(b, rows)| (base, b * TILE, rows))
    });
    if bases.len() * plane < PAR_MIN {
        tasks.for_each(|(base, row0, rows)| copy_rows(base, row0, rows));
    } else {
        pool::for_each_task(tasks.collect(), |(base, row0, rows)| {
            copy_rows(base, row0, rows)
        });
    }
    // SAFETY: the tasks cut `out` into blocks of whole output rows (every matrix, every row
    // block), and `copy_rows` writes every column of every row of its block.
    Some(unsafe { alloc::assume_init(out) })
}

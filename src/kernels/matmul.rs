//! Matrix multiply: which GEMM computes a product — our AVX2 kernel ([`super::sgemm`], which
//! splits its work between the threads itself) for large f32 products on CPUs where it is
//! the fastest we have, else the `gemm` crate (pure Rust: f64, AVX-512, small, thin and
//! matrix-vector products), whose products are split here into one panel per thread. Both
//! take strided operands, so transposed views need no copy.

use super::{alloc, SendPtr};
use crate::element::Element;
use std::any::TypeId;
use std::mem::MaybeUninit;

/// One matrix operand: its elements, offset, and row/column strides.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a, T> {
    pub data: &'a [T],
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

/// `count` products of m×k by k×n operands (`operands(i)` gives the i-th pair), as one
/// row-major buffer of `count` m×n results. The buffer is not zeroed first (see
/// [`alloc::output_uninit`]): every element is written by [`matmul`].
pub(crate) fn matmul_batch<'a, T: Element>(
    count: usize,
    (m, k, n): (usize, usize, usize),
    operands: impl Fn(usize) -> (Mat<'a, T>, Mat<'a, T>),
) -> Vec<T> {
    let mut out = alloc::output_uninit::<T>(count * m * n);
    if m * n > 0 {
        for (i, chunk) in out.chunks_exact_mut(m * n).enumerate() {
            let (a, b) = operands(i);
            matmul(a, b, chunk, m, k, n);
        }
    }
    // SAFETY: the chunks cover the whole buffer (it is empty when m·n = 0), and `matmul`
    // writes every element of its output.
    unsafe { alloc::assume_init(out) }
}

/// `out[m, n] = a[m, k] @ b[k, n]`, writing every element of a row-major `out` of length
/// `m * n` (which may start uninitialised; nothing in it is read).
pub(crate) fn matmul<T: Element>(
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    out: &mut [MaybeUninit<T>],
    m: usize,
    k: usize,
    n: usize,
) {
    assert_eq!(
        out.len(),
        m * n,
        "matmul kernel: output buffer has the wrong length"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        out.fill(MaybeUninit::new(T::ZERO));
        return;
    }
    // Bounds the unsafe call relies on: the last element each operand can touch is in range.
    let last =
        |x: &Mat<'_, T>, rows: usize, cols: usize| x.offset + (rows - 1) * x.rs + (cols - 1) * x.cs;
    assert!(
        last(&a, m, k) < a.data.len() && last(&b, k, n) < b.data.len(),
        "matmul kernel: operand out of bounds"
    );
    assert!(TypeId::of::<T>() == TypeId::of::<f32>() || TypeId::of::<T>() == TypeId::of::<f64>());
    // An operand whose rows (of `a`) or columns (of `b`) are all the same, i.e. stride 0 —
    // the broadcast gradient of `(a @ b).sum()` or `.mean()` — makes every output row (or
    // column) the same: one vector-matrix product and copies instead of a full GEMM
    // (O(n²) instead of O(n³) for the backward of `(A @ B).sum()`).
    if a.rs == 0 && m > 1 {
        let (first, rest) = out.split_at_mut(n);
        matmul(a, b, first, 1, k, n);
        for row in rest.chunks_exact_mut(n) {
            row.copy_from_slice(first);
        }
        return;
    }
    if b.cs == 0 && n > 1 {
        let mut col = vec![MaybeUninit::uninit(); m];
        matmul(a, b, &mut col, m, k, 1);
        for (row, &v) in out.chunks_exact_mut(n).zip(&col) {
            row.fill(v);
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if own_kernel_suits::<T>(m, k, n) {
        let operand = |x: Mat<'_, T>| super::sgemm::Operand {
            // SAFETY: `offset` is the operand's first element, inside `data` (checked above).
            ptr: unsafe { x.data.as_ptr().add(x.offset) }.cast::<f32>(),
            rs: x.rs,
            cs: x.cs,
        };
        // SAFETY: T is f32 (checked by `own_kernel_suits`, which also checked for AVX2 and
        // FMA), so the casts keep the element type; `out` is the whole m×n row-major output,
        // borrowed mutably; `a` and `b` were bounds-checked above; m, n, k ≥ 1.
        unsafe { super::sgemm::sgemm(m, k, n, operand(a), operand(b), out.as_mut_ptr().cast(), n) };
        return;
    }
    let threads = super::pool::get_num_threads();
    if m * n * k < PAR_MIN_MULADDS || threads < 2 {
        // SAFETY: `out` is the whole m×n row-major output, borrowed mutably; `a` and `b` were
        // bounds-checked above for these extents.
        unsafe { gemm_strided(a, b, out.as_mut_ptr().cast(), n, m, k, n) };
        return;
    }
    // Parallel: each thread computes its own panel of the output with a serial GEMM (packing
    // its own operands), instead of gemm's `Parallelism::Rayon` (that was 30–45% slower for
    // `x @ W.t()` on two threads). Row panels where there are enough rows: on the MLP
    // benchmark's eight products they took 9% less time in all than column panels (five of
    // six alternating runs, AMD EPYC, round 9), most on the weight gradients `g.t() @ x`
    // (also 4–10% faster on the Intel machine of round 7), the same at 1024². Column panels for
    // short, wide outputs.
    if m < threads * MIN_PANEL && n >= threads * MIN_PANEL {
        let panel = (n.div_ceil(threads)).next_multiple_of(16);
        let out_ptr = SendPtr(out.as_mut_ptr().cast::<T>());
        super::pool::run(n.div_ceil(panel), &|p| {
            let (j0, cols) = (p * panel, panel.min(n - p * panel));
            let b_panel = Mat {
                offset: b.offset + j0 * b.cs,
                ..b
            };
            // SAFETY: panel `p` writes only columns j0..j0+cols of the m×n row-major output
            // (row stride n), disjoint from every other panel's columns, and `out` is borrowed
            // mutably for the whole parallel loop (`j0 < n`, so the offset is in bounds); the
            // panel of `b` is a column range of the k×n operand checked above.
            unsafe { gemm_strided(a, b_panel, out_ptr.get().add(j0), n, m, k, cols) };
        });
    } else {
        let rows = if m >= threads * MIN_PANEL {
            m.div_ceil(threads).next_multiple_of(16)
        } else {
            m.div_ceil(threads)
        };
        super::pool::for_each_chunk_mut(out, rows * n, |p, out_rows| {
            let a_panel = Mat {
                offset: a.offset + p * rows * a.rs,
                ..a
            };
            let rows_here = out_rows.len() / n;
            // SAFETY: `out_rows` is this task's own rows of the output (a disjoint
            // `&mut` chunk); the panel of `a` is a row range of the m×k operand checked
            // above.
            unsafe { gemm_strided(a_panel, b, out_rows.as_mut_ptr().cast(), n, rows_here, k, n) };
        });
    }
}

/// Below this many multiply-adds a product runs on the calling thread.
const PAR_MIN_MULADDS: usize = 1 << 18;

/// The narrowest panel (rows or columns) worth a thread of its own.
const MIN_PANEL: usize = 64;

/// Whether [`super::sgemm`] computes an m×k by k×n product of T: f32 matrices (not vectors,
/// whose 6×16 tiles would be mostly padding; not small ones, where `gemm` measured faster)
/// on a CPU with AVX2 and FMA, unless the AVX-512 build of `gemm` can run (about twice the
/// AVX2 rate there). Decided for the whole product, so that how it is split between
/// threads never changes which kernel (and so which rounding) an element gets.
#[cfg(target_arch = "x86_64")]
fn own_kernel_suits<T: Element>(m: usize, k: usize, n: usize) -> bool {
    // The CPU checks last: most products are decided by type and size alone.
    let gemm_has_avx512 = || {
        #[cfg(feature = "avx512")]
        return super::vmath::has_avx512();
        #[cfg(not(feature = "avx512"))]
        false
    };
    TypeId::of::<T>() == TypeId::of::<f32>()
        && m.min(n) >= OWN_MIN_SIDE
        && m * n * k >= OWN_MIN_MULADDS
        && !gemm_has_avx512()
        && super::vmath::has_avx2_fma()
}

/// Below this many multiply-adds `gemm` computes f32 products.
#[cfg(target_arch = "x86_64")]
const OWN_MIN_MULADDS: usize = 1 << 24;

/// Outputs with fewer rows or columns than this stay with `gemm`.
#[cfg(target_arch = "x86_64")]
const OWN_MIN_SIDE: usize = 64;

/// `dst[i·row_stride + j] = (a @ b)[i, j]` for an m×n product, on this thread. Writes every
/// one of those elements and reads none before writing it (gemm's `read_dst = false`), so
/// `dst` may start uninitialised.
///
/// # Safety
/// `dst` must be valid for writes at every `i·row_stride + j` (i < m, j < n), with nobody
/// else accessing those elements during the call; `a` and `b` must hold every element of the
/// m×k and k×n extents they are read with (checked by [`matmul`]); T must be f32 or f64.
unsafe fn gemm_strided<T: Element>(
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    dst: *mut T,
    row_stride: usize,
    m: usize,
    k: usize,
    n: usize,
) {
    if m <= 1 || n <= 1 {
        // gemm's matrix-vector path views `dst` as a `&mut [T]` before writing it; give it
        // initialised memory rather than a slice of uninitialised floats. O(m + n) writes
        // against the product's O(mk + nk).
        for i in 0..m {
            for j in 0..n {
                // SAFETY: within the extent the contract makes `dst` valid for writes.
                unsafe { dst.add(i * row_stride + j).write(T::ZERO) };
            }
        }
    }
    // SAFETY: the function's contract: `dst` covers every element written (row stride
    // `row_stride`, column stride 1) without aliasing, `a` and `b` every element read, and T
    // is f32 or f64, the types gemm supports.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            row_stride as isize,
            false,
            a.data.as_ptr().add(a.offset),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr().add(b.offset),
            b.cs as isize,
            b.rs as isize,
            T::ZERO,
            T::ONE,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{matmul_batch, Mat};
    use crate::element::Element;

    /// Row-major values `a[i][j]` stored with strides (rs, cs): row-major or transposed.
    fn store(vals: &[f64], rows: usize, cols: usize, transposed: bool) -> (Vec<f64>, usize, usize) {
        let mut data = vec![0.0; rows * cols];
        let (rs, cs) = if transposed { (1, rows) } else { (cols, 1) };
        for i in 0..rows {
            for j in 0..cols {
                data[i * rs + j * cs] = vals[i * cols + j];
            }
        }
        (data, rs, cs)
    }

    /// The largest error of the kernel's product against `want`, relative to max(|want|, 1).
    fn worst_error<T: Element>(
        a: &[T],
        (ars, acs): (usize, usize),
        b: &[T],
        (brs, bcs): (usize, usize),
        (m, k, n): (usize, usize, usize),
        want: &[f64],
    ) -> f64 {
        let a = Mat {
            data: a,
            offset: 0,
            rs: ars,
            cs: acs,
        };
        let b = Mat {
            data: b,
            offset: 0,
            rs: brs,
            cs: bcs,
        };
        let got = matmul_batch(1, (m, k, n), |_| (a, b));
        got.iter()
            .zip(want)
            .map(|(g, w)| (g.to_f64() - w).abs() / w.abs().max(1.0))
            .fold(0.0, f64::max)
    }

    /// The parallel paths (row panels, uneven; column panels for short wide outputs; small
    /// row panels for short narrow ones) and the serial one agree with a plain triple loop,
    /// for every operand layout.
    #[test]
    fn every_path_and_layout_matches_the_definition() {
        // (m, k, n): serial; row panels of 160 and 140 rows; of 144 and 113 (n = 10); column
        // panels of 80 and 50 (m = 64); row panels of 10 (m and n under 128, long k); and in
        // f32 our AVX2 kernel where the CPU has one (over 2²⁴ multiply-adds).
        let shapes = [
            (5, 7, 3),
            (300, 150, 200),
            (257, 300, 10),
            (64, 1100, 130),
            (20, 1000, 30),
            (262, 250, 271),
        ];
        for &(m, k, n) in &shapes {
            let av: Vec<f64> = (0..m * k)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) / 25.0)
                .collect();
            let bv: Vec<f64> = (0..k * n)
                .map(|i| ((i * 53 % 97) as f64 - 48.0) / 24.0)
                .collect();
            let mut want = vec![0.0; m * n];
            for i in 0..m {
                for j in 0..n {
                    want[i * n + j] = (0..k).map(|p| av[i * k + p] * bv[p * n + j]).sum();
                }
            }
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let (ad, ars, acs) = store(&av, m, k, ta);
                let (bd, brs, bcs) = store(&bv, k, n, tb);
                let what = format!("{m}x{k}x{n} transposed a={ta} b={tb}");
                let worst = worst_error(&ad, (ars, acs), &bd, (brs, bcs), (m, k, n), &want);
                assert!(worst < 1e-12, "f64 {what}: error {worst:e}");
                let narrow = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
                let (af, bf) = (narrow(&ad), narrow(&bd));
                let worst = worst_error(&af, (ars, acs), &bf, (brs, bcs), (m, k, n), &want);
                assert!(worst < 1e-3, "f32 {what}: error {worst:e}");
            }
        }
    }
}

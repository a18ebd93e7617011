//! Matrix multiply through the `gemm` crate (fast, pure Rust, handles any strides, so
//! transposed operands need no copy).

use crate::element::Element;
use std::any::TypeId;

/// One matrix operand: its elements, offset, and row/column strides.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a, T> {
    pub data: &'a [T],
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

/// `out[m, n] = a[m, k] @ b[k, n]`, writing a row-major `out` of length `m * n`.
pub(crate) fn matmul<T: Element>(
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    out: &mut [T],
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
        out.fill(T::ZERO);
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
        let mut col = vec![T::ZERO; m];
        matmul(a, b, &mut col, m, k, 1);
        for (row, &v) in out.chunks_exact_mut(n).zip(&col) {
            row.fill(v);
        }
        return;
    }
    let flops = m * n * k;
    let parallelism = if flops >= 1 << 18 {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: `out` has exactly m*n elements written with row stride n and column stride 1;
    // `a` and `b` are read at offsets up to `last(..)`, checked in bounds above; T is f32 or f64
    // (checked above), the types gemm supports; `out` does not alias `a` or `b` (it is a
    // `&mut` borrow while they are shared borrows).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
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
            parallelism,
        );
    }
}

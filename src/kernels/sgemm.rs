//! f32 matrix product for AVX2+FMA CPUs: Goto/BLIS blocking around a 6×16 microkernel.
//!
//! Why our own and not only the `gemm` crate: on the AMD EPYC (Zen 3, two cores) machine the
//! benchmarks run on, a 1024² product with `gemm` on two threads (each its own half of the
//! rows) stayed behind MKL (PyTorch) in most runs: 0.63–0.95 of its GFLOP/s in round 11's.
//! This design measured faster there (`docs/performance.md`, round 12): the threads
//! pack each block of `b` once, together, and share it, where two `gemm` calls packed it
//! twice; slices of `k` have equal depth; transposed operands are packed through 8×8
//! transposes in registers; the microkernel prefetches the output tile it will add to while
//! it runs its `k` loop, four steps per iteration; the packed blocks start on cache lines.
//! `gemm` still computes f64, small or thin products (where it measured faster),
//! matrix-vector products, and everything on CPUs that run its AVX-512 build or lack AVX2.
//!
//! The loops: over `NC`-column blocks of `b`, then `KC`-deep slices of the shared dimension;
//! each `KC × NC` block of `b` is packed into 16-column micro-panels (one is reused, from L1
//! or L2, while the microkernel runs down a row block), each row block of `a` (about `MC`
//! rows) into 6-row micro-panels (in L2), and the microkernel computes one 6×16 tile of the output from one
//! micro-panel of each. The first slice of `k` writes the output; later slices add to it, so
//! the output may start uninitialised.

use super::SendPtr;
use std::arch::x86_64::*;
use std::cell::RefCell;

/// Rows of the output tile one microkernel call computes.
const MR: usize = 6;
/// Columns of that tile: two 8-lane vectors.
const NR: usize = 16;
/// Most depth of one packed slice: a 16-column micro-panel of `b` is then at most 32 KiB. Measured 3–8% faster than 256 on products 512–1024 deep (fewer passes over the
/// output, fewer parallel regions); 1024 was no better (round 12).
const KC: usize = 512;
/// About this many rows of `a` are packed at a time: `MC × KC × 4` = 144 KiB, in L2.
const MC: usize = 72;
/// Columns of `b` packed at a time: at most `KC × NC × 4` = 2 MiB (in L3); each thread that
/// calls [`sgemm`] keeps two such buffers between products.
const NC: usize = 1024;

/// A read-only matrix operand: element (i, j) is at `ptr + i·rs + j·cs`.
#[derive(Clone, Copy)]
pub(crate) struct Operand {
    pub ptr: *const f32,
    pub rs: usize,
    pub cs: usize,
}

// SAFETY: an operand is only read, by the tasks of the product it was made for, while the
// caller of [`sgemm`] keeps the memory alive and unwritten (its contract).
unsafe impl Send for Operand {}
// SAFETY: as above.
unsafe impl Sync for Operand {}

thread_local! {
    /// Packing space reused between calls on this thread, so a product does not allocate
    /// (and page-fault) its blocks each time: `a`'s blocks (one per task) and `b`'s (two per
    /// product, shared by its tasks) are kept apart because the thread that holds `b`'s also
    /// runs tasks.
    static PACKED_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static PACKED_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a 64-byte-aligned slice of at least `len` floats from `cell` (or a fresh
/// one, if `cell` is in use further up this thread's stack).
fn with_space<R>(
    cell: &'static std::thread::LocalKey<RefCell<Vec<f32>>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    cell.with(|cell| {
        let mut fresh = Vec::new();
        let mut borrowed = cell.try_borrow_mut();
        let space = match borrowed.as_deref_mut() {
            Ok(kept) => kept,
            Err(_) => &mut fresh,
        };
        // 16 floats of slack to start on a line.
        if space.len() < len + 16 {
            *space = vec![0.0; len + 16];
        }
        f(&mut line_aligned(space)[..len])
    })
}

/// `dst[i·dst_rs + j] = (a @ b)[i, j]` for an m×k by k×n product, on the pool's threads.
///
/// The threads pack each block of `b` together and share it: the output is split into row
/// blocks (and column chunks where there are fewer row blocks than threads), each task packing
/// its rows of `a` and computing its part. Packing the next block of `b` (into a second buffer)
/// runs in the same parallel region as the products with the current one, so a product with
/// `s` slices of `k` takes `s + 1` regions, each ending in a wait for the slowest thread.
/// How the work is split never changes a result: every element is the same sum in the same
/// order (the slices of `k` in order, each summed in order of `p`), so results do not depend
/// on the thread count.
///
/// # Safety
/// The CPU must have AVX2 and FMA; `a` and `b` must be valid for reads at every element of their
/// m×k and k×n extents; `dst` must be valid for writes at every `i·dst_rs + j` (i < m, j < n)
/// with nobody else accessing those elements during the call (it may start uninitialised);
/// m, n and k must be at least 1.
pub(crate) unsafe fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    a: Operand,
    b: Operand,
    dst: *mut f32,
    dst_rs: usize,
) {
    let plan = Plan::new(m, k, super::pool::get_num_threads().max(1));
    let steps: Vec<Step> = (0..n)
        .step_by(NC)
        .flat_map(|jc| {
            (0..k).step_by(plan.kc_max).map(move |pc| Step {
                jc,
                nc: NC.min(n - jc),
                pc,
                kc: plan.kc_max.min(k - pc),
            })
        })
        .collect();
    // Two buffers for packed `b`, each starting on a cache line.
    let half = (plan.kc_max * NC.min(n.next_multiple_of(NR))).next_multiple_of(16);
    with_space(&PACKED_B, 2 * half, |space| {
        let (even, odd) = space.split_at_mut(half);
        let buffers = [SendPtr(even.as_mut_ptr()), SendPtr(odd.as_mut_ptr())];
        let operands = Operands {
            a,
            b,
            dst: SendPtr(dst),
            dst_rs,
        };
        // SAFETY (all three calls): step s packs into buffer s % 2 during region s - 1 (or
        // the first region) and is computed from it in region s; a region's tasks touch
        // disjoint parts of the buffer they write and of the output, and a region ends only
        // when all its tasks have; the extents and the CPU features are this function's
        // contract.
        super::pool::run(plan.pack_tasks(&steps[0]), &|t| unsafe {
            plan.pack(&steps[0], operands, buffers[0], t)
        });
        for (s, step) in steps.iter().enumerate() {
            let next = steps.get(s + 1);
            let computes = plan.row_blocks * plan.col_chunks;
            let packs = next.map_or(0, |next| plan.pack_tasks(next));
            super::pool::run(computes + packs, &|t| match next {
                Some(next) if t >= computes => unsafe {
                    plan.pack(next, operands, buffers[(s + 1) % 2], t - computes)
                },
                _ => unsafe { plan.compute(step, operands, buffers[s % 2], t) },
            });
        }
    });
}

/// One column block of `b` and slice of `k`: columns `jc..jc+nc`, depth `pc..pc+kc`.
struct Step {
    jc: usize,
    nc: usize,
    pc: usize,
    kc: usize,
}

/// What the tasks of one product read and write.
#[derive(Clone, Copy)]
struct Operands {
    a: Operand,
    b: Operand,
    dst: SendPtr<f32>,
    dst_rs: usize,
}

/// How a product is split: slices of `k` at most `kc_max` deep, row blocks of `rows` rows
/// (a multiple of MR), each in `col_chunks` column chunks.
struct Plan {
    m: usize,
    kc_max: usize,
    rows: usize,
    row_blocks: usize,
    col_chunks: usize,
}

/// Micro-panels of `b` per packing task.
const PANELS_PER_PACK: usize = 8;

impl Plan {
    fn new(m: usize, k: usize, threads: usize) -> Plan {
        // Slices of equal depth (1100 = 3 × 367, not 2 × 512 + 76: a thin last slice would pay
        // a full pass over the output for little work).
        let kc_max = k.div_ceil(k.div_ceil(KC));
        // Row blocks of about MC rows, in a count the threads share evenly.
        let rows = m
            .div_ceil(m.div_ceil(MC).next_multiple_of(threads))
            .next_multiple_of(MR);
        let row_blocks = m.div_ceil(rows);
        let col_chunks = if row_blocks < threads { threads } else { 1 };
        Plan {
            m,
            kc_max,
            rows,
            row_blocks,
            col_chunks,
        }
    }

    fn pack_tasks(&self, step: &Step) -> usize {
        step.nc.div_ceil(NR).div_ceil(PANELS_PER_PACK)
    }

    /// Packing task `t` of `step`: its micro-panels of `b` into `buffer`.
    ///
    /// # Safety
    /// `buffer` must hold the step's packed block, nobody else touching this task's panels;
    /// the CPU must have AVX2.
    unsafe fn pack(&self, step: &Step, ops: Operands, buffer: SendPtr<f32>, t: usize) {
        let panel_len = NR * step.kc;
        let first = t * PANELS_PER_PACK;
        let count = PANELS_PER_PACK.min(step.nc.div_ceil(NR) - first);
        // SAFETY: panels first..first+count of the block, this task's alone (the contract).
        let out = unsafe {
            std::slice::from_raw_parts_mut(buffer.get().add(first * panel_len), count * panel_len)
        };
        let j0 = step.jc + first * NR;
        // SAFETY: rows pc..pc+kc and columns j0..j0+width lie inside b's extent; sgemm's
        // contract gives AVX2.
        unsafe {
            pack_b(
                ops.b,
                step.pc,
                step.kc,
                j0,
                (count * NR).min(step.jc + step.nc - j0),
                out,
            )
        };
    }

    /// Compute task `t` of `step`: its row block and column chunk of the output, from the
    /// packed block of `b` in `buffer`.
    ///
    /// # Safety
    /// `buffer` must hold the step's packed block, unwritten during the call; the output
    /// block must be nobody else's; the CPU must have AVX2 and FMA.
    unsafe fn compute(&self, step: &Step, ops: Operands, buffer: SendPtr<f32>, t: usize) {
        let chunk_cols = step.nc.div_ceil(NR).div_ceil(self.col_chunks) * NR;
        let (i0, j0) = (
            (t / self.col_chunks) * self.rows,
            (t % self.col_chunks) * chunk_cols,
        );
        if j0 >= step.nc {
            return;
        }
        let (mc, width) = (self.rows.min(self.m - i0), chunk_cols.min(step.nc - j0));
        // SAFETY: the packed block of this step (the contract), from this chunk's first panel.
        let pb = unsafe {
            std::slice::from_raw_parts(
                buffer.get().add(j0 * step.kc),
                width.next_multiple_of(NR) * step.kc,
            )
        };
        with_space(&PACKED_A, self.rows * step.kc, |pa| {
            // SAFETY: rows i0..i0+mc and columns pc..pc+kc lie inside a's extent.
            unsafe { pack_a(ops.a, i0, mc, step.pc, step.kc, pa) };
            let first = ops.dst.get().wrapping_add(i0 * ops.dst_rs + step.jc + j0);
            let dst = Out {
                ptr: first,
                ld: ops.dst_rs,
                accumulate: step.pc > 0,
            };
            // SAFETY: this task's mc×width block of the output, inside the m×n output and
            // nobody else's; the first slice of `k` writes it, later ones add to it.
            unsafe { block(mc, width, step.kc, pa, pb, dst) };
        });
    }
}

/// The part of `v` from its first 64-byte boundary on.
fn line_aligned(v: &mut [f32]) -> &mut [f32] {
    let skip = v.as_ptr().align_offset(64).min(v.len());
    &mut v[skip..]
}

/// Packs rows `i0..i0+mc`, columns `p0..p0+kc` of `a` into 6-row micro-panels: panel `r`,
/// step `p` holds rows `6r..6r+6` of column `p` (zeros past the last row).
///
/// # Safety
/// Those rows and columns must be readable through `a`.
unsafe fn pack_a(a: Operand, i0: usize, mc: usize, p0: usize, kc: usize, dst: &mut [f32]) {
    for (panel, r0) in (0..mc).step_by(MR).enumerate() {
        let out = &mut dst[panel * MR * kc..][..MR * kc];
        let rows = MR.min(mc - r0);
        // SAFETY: (i0 + r0, p0) is inside the extent the caller vouches for.
        let base = unsafe { a.ptr.add((i0 + r0) * a.rs + p0 * a.cs) };
        for (p, step) in out.chunks_exact_mut(MR).enumerate() {
            for (i, slot) in step.iter_mut().enumerate() {
                // SAFETY: row r0 + i < mc, column p < kc: inside the packed block.
                *slot = if i < rows {
                    unsafe { *base.add(i * a.rs + p * a.cs) }
                } else {
                    0.0
                };
            }
        }
    }
}

/// Packs rows `p0..p0+kc`, columns `j0..j0+nc` of `b` into 16-column micro-panels: panel
/// `c`, step `p` holds columns `16c..16c+16` of row `p` (zeros past the last column).
///
/// # Safety
/// Those rows and columns must be readable through `b`; AVX2 must be available.
unsafe fn pack_b(b: Operand, p0: usize, kc: usize, j0: usize, nc: usize, dst: &mut [f32]) {
    for (panel, c0) in (0..nc).step_by(NR).enumerate() {
        let out = &mut dst[panel * NR * kc..][..NR * kc];
        let cols = NR.min(nc - c0);
        // SAFETY: (p0, j0 + c0) is inside the extent the caller vouches for.
        let base = unsafe { b.ptr.add(p0 * b.rs + (j0 + c0) * b.cs) };
        if b.rs == 1 && b.cs != 1 && cols == NR {
            // Columns are contiguous (a transposed operand, like `x @ w.t()`): transpose 8×8
            // blocks in registers, then the last kc % 8 steps one by one.
            let whole = kc / 8 * 8;
            for p in (0..whole).step_by(8) {
                for half in [0, 8] {
                    // SAFETY: rows p..p+8 < kc and columns c0+half..c0+half+8 < nc are
                    // readable; the 8 written rows of 8 lie inside `out` (p + 8 ≤ kc); AVX2 is
                    // available (this function's contract).
                    unsafe {
                        transpose8(
                            base.add(p + half * b.cs),
                            b.cs,
                            out.as_mut_ptr().add(p * NR + half),
                            NR,
                        )
                    };
                }
            }
            for p in whole..kc {
                for (j, slot) in out[p * NR..][..NR].iter_mut().enumerate() {
                    // SAFETY: row p < kc, column c0 + j < nc.
                    *slot = unsafe { *base.add(p + j * b.cs) };
                }
            }
        } else if b.rs == 1 && b.cs != 1 {
            // Columns are contiguous, some missing: read down each column.
            for j in 0..NR {
                for p in 0..kc {
                    // SAFETY: row p < kc, column c0 + j < nc when j < cols.
                    out[p * NR + j] = if j < cols {
                        unsafe { *base.add(p + j * b.cs) }
                    } else {
                        0.0
                    };
                }
            }
        } else if b.cs == 1 && cols == NR {
            // Rows are contiguous: one 16-float copy per step.
            for (p, step) in out.chunks_exact_mut(NR).enumerate() {
                // SAFETY: row p < kc, columns c0..c0+16 all < nc.
                step.copy_from_slice(unsafe { std::slice::from_raw_parts(base.add(p * b.rs), NR) });
            }
        } else {
            for (p, step) in out.chunks_exact_mut(NR).enumerate() {
                for (j, slot) in step.iter_mut().enumerate() {
                    // SAFETY: row p < kc, column c0 + j < nc.
                    *slot = if j < cols {
                        unsafe { *base.add(p * b.rs + j * b.cs) }
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}

/// Writes the transpose of the 8×8 block at `src` (rows `src_rs` apart, columns contiguous)
/// to `dst` (rows `dst_rs` apart): `dst[q·dst_rs + j] = src[j·src_rs + q]`.
///
/// # Safety
/// AVX2 must be available; the 8 rows of 8 floats at `src` readable, those at `dst` writable.
#[target_feature(enable = "avx2")]
unsafe fn transpose8(src: *const f32, src_rs: usize, dst: *mut f32, dst_rs: usize) {
    // SAFETY: reads 8 rows of 8 floats at `src`, as the contract allows.
    let r: [__m256; 8] = std::array::from_fn(|j| unsafe { _mm256_loadu_ps(src.add(j * src_rs)) });
    // Pairs of rows interleaved: t[0] = lo(r0, r1) = [r0_0 r1_0 r0_1 r1_1 | r0_4 r1_4 r0_5 r1_5],
    // t[1] = hi(r0, r1) = [r0_2 r1_2 r0_3 r1_3 | r0_6 r1_6 r0_7 r1_7], and so on.
    let t: [__m256; 8] = std::array::from_fn(|i| {
        let (x, y) = (r[i & !1], r[i | 1]);
        if i % 2 == 0 {
            _mm256_unpacklo_ps(x, y)
        } else {
            _mm256_unpackhi_ps(x, y)
        }
    });
    let [t0, t1, t2, t3, t4, t5, t6, t7] = t;
    // Four rows' element q in one half: u0 = [r0_0 r1_0 r2_0 r3_0 | r0_4 r1_4 r2_4 r3_4].
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    // Low halves give elements 0..4, high halves 4..8.
    let out = [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ];
    for (q, row) in out.into_iter().enumerate() {
        // SAFETY: row q of the 8×8 block at `dst`, as the contract allows.
        unsafe { _mm256_storeu_ps(dst.add(q * dst_rs), row) };
    }
}

/// Where a block's results go: element (i, j) at `ptr + i·ld + j`, written by the first slice
/// of `k` and added to by later ones (`accumulate`).
#[derive(Clone, Copy)]
struct Out {
    ptr: *mut f32,
    ld: usize,
    accumulate: bool,
}

/// `out[0..mc, 0..nc] (+)= packed a (mc×kc) @ packed b (kc×nc)`, tile by tile.
///
/// # Safety
/// `out` must be writable (and, when accumulating, readable) at (i, j) for i < mc, j < nc;
/// the CPU must have AVX2 and FMA.
unsafe fn block(mc: usize, nc: usize, kc: usize, pa: &[f32], pb: &[f32], out: Out) {
    let mut edge = [0f32; MR * NR];
    for (bp, j0) in pb.chunks_exact(NR * kc).zip((0..nc).step_by(NR)) {
        let cols = NR.min(nc - j0);
        for (ap, i0) in pa.chunks_exact(MR * kc).zip((0..mc).step_by(MR)) {
            let rows = MR.min(mc - i0);
            let tile = Out {
                ptr: out.ptr.wrapping_add(i0 * out.ld + j0),
                ..out
            };
            if rows == MR && cols == NR {
                // SAFETY: a whole 6×16 tile lies inside the block; the panels hold kc steps;
                // AVX2 and FMA by this function's contract.
                unsafe { microkernel(kc, ap.as_ptr(), bp.as_ptr(), tile) };
                continue;
            }
            // A tile at the bottom or right edge: compute it whole into `edge`, copy the part
            // that exists.
            let whole = Out {
                ptr: edge.as_mut_ptr(),
                ld: NR,
                accumulate: false,
            };
            // SAFETY: `edge` is a whole 6×16 tile with row stride 16; AVX2 and FMA as above.
            unsafe { microkernel(kc, ap.as_ptr(), bp.as_ptr(), whole) };
            for i in 0..rows {
                for j in 0..cols {
                    // SAFETY: i < rows, j < cols: inside the block.
                    let dst = unsafe { &mut *tile.ptr.add(i * tile.ld + j) };
                    let value = edge[i * NR + j];
                    *dst = if tile.accumulate { *dst + value } else { value };
                }
            }
        }
    }
}

/// One 6×16 tile: `out[i][j] (+)= Σ_p a[p][i] · b[p][j]` over `kc` packed steps (6 floats of
/// `a`, 16 of `b` each), in twelve 8-lane accumulators.
///
/// # Safety
/// AVX2 and FMA must be available; `a` must hold `6·kc` floats, `b` `16·kc`; `out` must be
/// writable (and, when accumulating, readable) at (i, j) for i < 6, j < 16.
#[target_feature(enable = "avx2,fma")]
unsafe fn microkernel(kc: usize, a: *const f32, b: *const f32, out: Out) {
    // Ask for the output rows now, so they are in cache when the k loop ends and adds to them.
    for i in (0..MR).filter(|_| out.accumulate) {
        let row = out.ptr.wrapping_add(i * out.ld);
        _mm_prefetch::<_MM_HINT_T0>(row.cast());
        _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(NR - 1).cast());
    }
    let mut acc = [[_mm256_setzero_ps(); 2]; MR];
    // Step p: twelve FMAs of a's 6 values (broadcast) with b's 16.
    macro_rules! step {
        ($p:expr) => {
            // SAFETY: p < kc, so these reads are inside the panels the caller vouches for; the
            // prefetch (8 steps ahead) may point past them, which prefetching allows.
            unsafe {
                let bp = b.add($p * NR);
                let (b0, b1) = (_mm256_loadu_ps(bp), _mm256_loadu_ps(bp.add(8)));
                _mm_prefetch::<_MM_HINT_T0>(bp.wrapping_add(8 * NR).cast());
                for (i, row) in acc.iter_mut().enumerate() {
                    let x = _mm256_broadcast_ss(&*a.add($p * MR + i));
                    row[0] = _mm256_fmadd_ps(x, b0, row[0]);
                    row[1] = _mm256_fmadd_ps(x, b1, row[1]);
                }
            }
        };
    }
    // Four steps per iteration: 2-8% faster than one on this machine's products (round 12).
    let whole = kc / 4 * 4;
    for p in (0..whole).step_by(4) {
        step!(p);
        step!(p + 1);
        step!(p + 2);
        step!(p + 3);
    }
    for p in whole..kc {
        step!(p);
    }
    for (i, row) in acc.iter().enumerate() {
        // SAFETY: row i < 6, columns 0..16 of the tile the caller vouches for.
        unsafe {
            let dst = out.ptr.add(i * out.ld);
            let (mut v0, mut v1) = (row[0], row[1]);
            if out.accumulate {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(dst));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(dst.add(8)));
            }
            _mm256_storeu_ps(dst, v0);
            _mm256_storeu_ps(dst.add(8), v1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{sgemm, Operand};

    /// A matrix stored in a larger buffer with arbitrary strides.
    struct Stored {
        data: Vec<f32>,
        rs: usize,
        cs: usize,
    }

    impl Stored {
        /// `rows × cols` values from `seed`, laid out row-major, transposed, or with gaps.
        fn new(rows: usize, cols: usize, layout: &str, seed: usize) -> Stored {
            let (rs, cs, len) = match layout {
                "rows" => (cols, 1, rows * cols),
                "cols" => (1, rows, rows * cols),
                // Every other row and every third column of a bigger buffer.
                _ => (6 * cols, 3, 6 * cols * rows),
            };
            let mut data = vec![f32::NAN; len];
            for i in 0..rows {
                for j in 0..cols {
                    data[i * rs + j * cs] =
                        (((i * 31 + j * 17 + seed * 7) % 97) as f32 - 48.0) / 16.0;
                }
            }
            Stored { data, rs, cs }
        }

        fn at(&self, i: usize, j: usize) -> f32 {
            self.data[i * self.rs + j * self.cs]
        }

        fn operand(&self) -> Operand {
            Operand {
                ptr: self.data.as_ptr(),
                rs: self.rs,
                cs: self.cs,
            }
        }
    }

    /// Whether this CPU can run the kernel (the tests say so when it cannot).
    fn runnable() -> bool {
        let yes = super::super::vmath::has_avx2_fma();
        if !yes {
            eprintln!("skipped: this CPU has no AVX2+FMA");
        }
        yes
    }

    /// Runs `sgemm` into an output with row stride `n + 3` (the padding must stay untouched).
    fn product(m: usize, k: usize, n: usize, a: &Stored, b: &Stored) -> Vec<f32> {
        let ld = n + 3;
        let mut out = vec![-7.0f32; m * ld];
        // SAFETY: the test only runs where AVX2 and FMA are detected; `a` and `b` hold m×k and
        // k×n elements at their strides; `out` has m rows of `ld ≥ n` elements.
        unsafe { sgemm(m, k, n, a.operand(), b.operand(), out.as_mut_ptr(), ld) };
        for row in out.chunks_exact(ld) {
            assert!(
                row[n..].iter().all(|&x| x == -7.0),
                "wrote past the output's columns"
            );
        }
        out.chunks_exact(ld)
            .flat_map(|row| row[..n].to_vec())
            .collect()
    }

    /// Edge tiles in both directions, several slices of `k` (with and without a remainder of
    /// the 8-step transposes), three column blocks of `b`, and every operand layout, against a
    /// product in f64, within the usual k·ε bound on the sum of |terms|.
    #[test]
    fn matches_the_definition_for_every_shape_and_layout() {
        if !runnable() {
            return;
        }
        let shapes = [
            (13, 600, 37),
            (13, 1100, 37),
            (70, 101, 50),
            (7, 9, 2100),
            (64, 16, 64),
            (1, 1, 1),
            (200, 300, 160),
        ];
        for &(m, k, n) in &shapes {
            for (la, lb) in [
                ("rows", "rows"),
                ("cols", "cols"),
                ("rows", "cols"),
                ("gaps", "gaps"),
            ] {
                let (a, b) = (Stored::new(m, k, la, 1), Stored::new(k, n, lb, 2));
                let got = product(m, k, n, &a, &b);
                for i in 0..m {
                    for j in 0..n {
                        let terms = (0..k).map(|p| a.at(i, p) as f64 * b.at(p, j) as f64);
                        let want: f64 = terms.clone().sum();
                        let scale: f64 = terms.map(f64::abs).sum();
                        let err = (got[i * n + j] as f64 - want).abs();
                        assert!(
                            err <= 2.0 * k as f64 * f32::EPSILON as f64 * scale,
                            "{m}x{k}x{n} a={la} b={lb} at ({i}, {j}): {} vs {want}",
                            got[i * n + j]
                        );
                    }
                }
            }
        }
    }

    /// One thread and several give the same bits: row blocks of other sizes, and column chunks
    /// when there are more threads than row blocks.
    #[test]
    fn the_thread_count_does_not_change_any_bit() {
        if !runnable() {
            return;
        }
        let before = crate::get_num_threads();
        for &(m, k, n) in &[(150, 520, 90), (8, 300, 700), (301, 64, 47)] {
            let (a, b) = (Stored::new(m, k, "rows", 3), Stored::new(k, n, "cols", 4));
            crate::set_num_threads(1);
            let one = product(m, k, n, &a, &b);
            for threads in [2, 3, 7] {
                crate::set_num_threads(threads);
                let many = product(m, k, n, &a, &b);
                let same = one
                    .iter()
                    .zip(&many)
                    .all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{m}x{k}x{n}: {threads} threads differ from one");
            }
        }
        crate::set_num_threads(before);
    }
}

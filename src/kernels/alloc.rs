//! Where kernel outputs come from: a bounded cache of recently freed large buffers, and
//! transparent huge pages for fresh ones.
//!
//! Why: a large `Vec` (glibc serves anything over its mmap threshold, at most 32 MiB, with a
//! fresh `mmap`) costs a page fault and a kernel-side page clear for every 4 KiB on first
//! touch, and an `munmap` with TLB shootdowns when freed. On a 10⁷-element f32 op that was
//! about 30% of the time (`perf record`: `clear_page_erms`, `exc_page_fault`). Training loops
//! and benchmarks free and re-allocate buffers of the same sizes every iteration, so
//! recycling them (like PyTorch's CUDA caching allocator, but bounded and for CPU memory)
//! removes that cost in the steady state; fresh buffers get `MADV_HUGEPAGE`, so their first
//! touch takes one fault per 2 MiB instead of 512.
//!
//! The cache never holds more than the program has shown it needs: cached plus live bytes
//! of large buffers stay at or below the most live bytes seen so far (the high-water mark),
//! so the cache does not raise peak memory; it only keeps memory from being returned to the
//! system between iterations. It is further capped at [`buffer_cache_limit`] bytes (default
//! 1 GiB, or the `TENSORGRAD_BUFFER_CACHE_MB` environment variable), evicting the oldest
//! buffer first; [`empty_buffer_cache`] gives it all back.

use crate::element::Element;
use crate::storage::Buffer;
use std::collections::VecDeque;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Buffers smaller than this come from (and go back to) the system allocator: small
/// allocations are served from glibc's heap without page faults, and a cache lookup would
/// cost more than it saves.
const CACHE_MIN_BYTES: usize = 256 << 10;

/// Fresh buffers at least this large get `MADV_HUGEPAGE` on their 2 MiB-aligned interior.
#[cfg(all(target_os = "linux", not(miri)))]
const HUGEPAGE_MIN_BYTES: usize = 4 << 20;

const DEFAULT_LIMIT_BYTES: usize = 1 << 30;

/// `usize::MAX` = not yet read from the environment.
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Bytes of large buffers owned by live storages, and the most there have been.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static HIGH_WATER: AtomicUsize = AtomicUsize::new(0);

struct Cache {
    bytes: usize,
    /// Oldest first.
    bufs: VecDeque<Buffer>,
}

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    bytes: 0,
    bufs: VecDeque::new(),
});

fn cache() -> std::sync::MutexGuard<'static, Cache> {
    // A panic while holding the lock leaves the cache consistent (every update is one push or
    // pop plus the byte count), so a poisoned lock is still usable.
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

fn buffer_bytes(b: &Buffer) -> usize {
    match b {
        Buffer::F32(v) => v.capacity() * 4,
        Buffer::F64(v) => v.capacity() * 8,
        Buffer::ScalarF32(_) | Buffer::ScalarF64(_) => 0,
    }
}

/// The most bytes of freed buffers kept for reuse.
pub fn buffer_cache_limit() -> usize {
    let l = LIMIT.load(Ordering::Relaxed);
    if l != usize::MAX {
        return l;
    }
    static FROM_ENV: OnceLock<usize> = OnceLock::new();
    let l = *FROM_ENV.get_or_init(|| {
        std::env::var("TENSORGRAD_BUFFER_CACHE_MB")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .map_or(DEFAULT_LIMIT_BYTES, |mb| mb << 20)
    });
    let _ = LIMIT.compare_exchange(usize::MAX, l, Ordering::Relaxed, Ordering::Relaxed);
    LIMIT.load(Ordering::Relaxed)
}

/// Sets the most bytes of freed tensor buffers kept for reuse (0 turns the cache off), and
/// frees cached buffers above the new limit.
///
/// Large element buffers (256 KiB and up) that no tensor references any more are kept and
/// handed to the next op that needs one of about the same size: that saves the page faults
/// and page clearing of fresh memory, which otherwise dominate simple element-wise ops on
/// big tensors. The cache holds at most this many bytes, and never so much that cached plus
/// live buffers exceed the most live buffer bytes the process has had, so it does not raise
/// peak memory. The default limit is 1 GiB, or the value in MiB of the
/// `TENSORGRAD_BUFFER_CACHE_MB` environment variable.
///
/// ```
/// tensorgrad::set_buffer_cache_limit(64 << 20);
/// assert_eq!(tensorgrad::buffer_cache_limit(), 64 << 20);
/// tensorgrad::empty_buffer_cache();
/// ```
pub fn set_buffer_cache_limit(bytes: usize) {
    LIMIT.store(bytes.min(usize::MAX - 1), Ordering::Relaxed);
    let evicted = {
        let mut c = cache();
        evict_to(&mut c, bytes)
    };
    drop(evicted);
}

/// Frees every cached buffer (see [`set_buffer_cache_limit`]), like
/// `torch.cuda.empty_cache()`.
pub fn empty_buffer_cache() {
    let all = {
        let mut c = cache();
        c.bytes = 0;
        std::mem::take(&mut c.bufs)
    };
    drop(all);
}

/// Bytes currently held by the cache.
#[cfg(test)]
pub(crate) fn cached_bytes() -> usize {
    cache().bytes
}

fn evict_to(c: &mut Cache, limit: usize) -> Vec<Buffer> {
    let mut evicted = Vec::new();
    while c.bytes > limit {
        let Some(b) = c.bufs.pop_front() else { break };
        c.bytes -= buffer_bytes(&b);
        evicted.push(b);
    }
    evicted
}

/// Counts a new storage's buffer as live; returns the bytes counted (0 for small buffers).
pub(crate) fn track_live(buf: &Buffer) -> usize {
    let bytes = buffer_bytes(buf);
    if bytes < CACHE_MIN_BYTES {
        return 0;
    }
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    HIGH_WATER.fetch_max(live, Ordering::Relaxed);
    bytes
}

/// A storage's buffer is no longer referenced: uncount it and offer it to the cache.
#[inline]
pub(crate) fn release(buf: Buffer, tracked: usize) {
    // Small buffers (every scalar) were never counted: free them without touching the atomics.
    if tracked == 0 {
        if buffer_bytes(&buf) >= CACHE_MIN_BYTES {
            recycle(buf);
        }
        return;
    }
    LIVE.fetch_sub(tracked, Ordering::Relaxed);
    recycle(buf);
}

/// Offers a buffer nobody references any more to the cache.
fn recycle(buf: Buffer) {
    let bytes = buffer_bytes(&buf);
    if bytes < CACHE_MIN_BYTES {
        return;
    }
    // Room: the limit, and no more than live buffers could use without a new high-water mark.
    let room = buffer_cache_limit().min(
        HIGH_WATER
            .load(Ordering::Relaxed)
            .saturating_sub(LIVE.load(Ordering::Relaxed)),
    );
    if bytes > room {
        return;
    }
    // Freed outside the lock: `munmap` of a large block is slow.
    let evicted = {
        let mut c = cache();
        c.bytes += bytes;
        c.bufs.push_back(buf);
        evict_to(&mut c, room)
    };
    drop(evicted);
}

/// A cached buffer for `n` elements of `T` (capacity `n..=n + n/4`, most recently freed
/// first: it is the likeliest to still be in cache), with length `n` and stale contents.
fn take_cached<T: Element>(n: usize) -> Option<Vec<T>> {
    let mut c = cache();
    let max = n + n / 4;
    let pos = c.bufs.iter().rposition(|b| {
        b.dtype() == T::DTYPE && {
            let cap = buffer_bytes(b) / std::mem::size_of::<T>();
            (n..=max).contains(&cap)
        }
    })?;
    let b = c.bufs.remove(pos).expect("position found above");
    c.bytes -= buffer_bytes(&b);
    drop(c);
    let mut v = T::vec_from_buffer(b).expect("dtype checked above");
    // Stale values are valid floats; the caller overwrites every element.
    v.resize(n, T::ZERO);
    Some(v)
}

/// A vector of `n` elements for a kernel to overwrite completely: a recycled buffer (stale
/// values) when one fits, else fresh zeroed memory. Fresh large memory comes from `calloc`,
/// which maps zero pages without writing them, so nothing is written twice.
pub(crate) fn output<T: Element>(n: usize) -> Vec<T> {
    let bytes = n * std::mem::size_of::<T>();
    if bytes >= CACHE_MIN_BYTES {
        if let Some(v) = take_cached::<T>(n) {
            return v;
        }
    }
    let v = vec![T::ZERO; n];
    advise_huge_pages(&v);
    v
}

/// A buffer of `n` elements for a kernel that writes every element before anything reads
/// it, like PyTorch's `torch.empty`: a recycled buffer when one fits, else fresh memory that
/// is neither zeroed nor touched. [`output`] zeroes its fresh memory, and when glibc serves
/// it from a reused heap chunk (anything freed earlier, which the buffer cache declined) that
/// is a `memset` on the calling thread. In a training step the cache cannot hold every
/// buffer: that `memset` was 3.9% of the samples of `bench mlp_step`, all of it serial. Hand
/// the result to [`assume_init`] once every element is written.
pub(crate) fn output_uninit<T: Element>(n: usize) -> Vec<MaybeUninit<T>> {
    if n * std::mem::size_of::<T>() >= CACHE_MIN_BYTES {
        if let Some(v) = take_cached::<T>(n) {
            let mut v = ManuallyDrop::new(v);
            let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
            // SAFETY: `MaybeUninit<T>` has `T`'s size and alignment, so the allocation, length
            // and capacity of the `Vec<T>` (which is not dropped) describe a valid
            // `Vec<MaybeUninit<T>>`; every value is a valid `MaybeUninit<T>`.
            return unsafe { Vec::from_raw_parts(ptr.cast::<MaybeUninit<T>>(), len, cap) };
        }
    }
    let mut v = Vec::with_capacity(n);
    // Writes nothing: an uninitialised `MaybeUninit` is a no-op store.
    v.resize_with(n, MaybeUninit::uninit);
    advise_huge_pages(&v);
    v
}

/// The buffer of [`output_uninit`], once written.
///
/// # Safety
/// Every element of `v` must have been initialised.
pub(crate) unsafe fn assume_init<T>(v: Vec<MaybeUninit<T>>) -> Vec<T> {
    let mut v = ManuallyDrop::new(v);
    let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: same size and alignment as above, the source `Vec` is not dropped, and the
    // caller guarantees the first `len` elements are initialised `T`s.
    unsafe { Vec::from_raw_parts(ptr.cast::<T>(), len, cap) }
}

/// A vector of `n` copies of `value`.
pub(crate) fn filled<T: Element>(n: usize, value: T) -> Vec<T> {
    let mut v = output_uninit::<T>(n);
    v.fill(MaybeUninit::new(value));
    // SAFETY: `fill` just wrote every element.
    unsafe { assume_init(v) }
}

/// Asks Linux to back the 2 MiB-aligned interior of a fresh, untouched buffer with
/// transparent huge pages (THP is often in `madvise` mode, so it must be asked for). Not
/// under Miri, which cannot call `madvise` (the kernels' `unsafe` code is checked with it).
#[cfg(all(target_os = "linux", not(miri)))]
fn advise_huge_pages<T>(v: &[T]) {
    const HUGE: usize = 2 << 20;
    let bytes = std::mem::size_of_val(v);
    if bytes < HUGEPAGE_MIN_BYTES {
        return;
    }
    let begin = v.as_ptr() as usize;
    let start = (begin + HUGE - 1) & !(HUGE - 1);
    let end = (begin + bytes) & !(HUGE - 1);
    if end > start {
        // SAFETY: `start..end` lies inside the allocation behind `v` (rounded inwards to whole
        // 2 MiB pages), which this process owns. MADV_HUGEPAGE is only advice about how to back
        // those pages: it never changes their contents or whether they are mapped, so no
        // Rust-visible state changes. An error (e.g. THP off) is harmless and ignored.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(any(not(target_os = "linux"), miri))]
fn advise_huge_pages<T>(_v: &[T]) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycled_buffers_are_reused_and_bounded() {
        // An odd size (about 4 MiB of f32) that no other test asks for, so nothing else
        // takes the recycled buffer in between.
        let n = (1 << 20) + 12_345;
        empty_buffer_cache();
        // Two live buffers make a high-water mark of two; freeing one leaves room for it.
        let (a, b) = (output::<f32>(n), output::<f32>(n));
        let (ta, tb) = (Buffer::F32(a), Buffer::F32(b));
        let (ka, kb) = (track_live(&ta), track_live(&tb));
        assert_eq!(ka, n * 4);
        let p = match &ta {
            Buffer::F32(v) => v.as_ptr(),
            _ => unreachable!(),
        };
        release(ta, ka);
        // The same size comes back: the same allocation.
        let w = output::<f32>(n);
        assert_eq!(w.len(), n);
        assert_eq!(w.as_ptr(), p);
        // Another dtype or a much smaller size is not served from it.
        release(Buffer::F32(w), 0);
        assert_eq!(output::<f64>(n / 2).len(), n / 2);
        assert_eq!(output::<f32>(n / 2).len(), n / 2);
        // An uninitialised output reuses a cached buffer just like `output`.
        let v = vec![0.0f32; n];
        let q = v.as_ptr();
        release(Buffer::F32(v), 0);
        let mut u = output_uninit::<f32>(n);
        assert_eq!(u.len(), n);
        assert_eq!(u.as_ptr().cast::<f32>(), q);
        u.iter_mut().for_each(|x| {
            x.write(2.0);
        });
        // SAFETY: every element was written just above.
        assert!(unsafe { assume_init(u) }.iter().all(|&x| x == 2.0));
        // filled() overwrites stale values.
        assert!(filled::<f32>(n, 1.5).iter().all(|&x| x == 1.5));
        // Small buffers are never counted or cached.
        assert_eq!(track_live(&Buffer::F32(vec![0.0; 16])), 0);
        // A zero limit empties the cache and keeps it empty.
        let old = buffer_cache_limit();
        set_buffer_cache_limit(0);
        assert_eq!(cached_bytes(), 0);
        recycle(Buffer::F32(vec![0.0; n]));
        assert_eq!(cached_bytes(), 0);
        set_buffer_cache_limit(old);
        release(tb, kb);
    }

    /// Every kernel that fills an [`output_uninit`] buffer writes all of it: matmul (serial,
    /// `k = 0`, stride-0 operands), element-wise maps (serial and parallel, strided and
    /// broadcast), vector math and `filled`. Small enough to run under Miri, which checks
    /// that nothing uninitialised is read:
    /// `MIRIFLAGS="-Zmiri-tree-borrows -Zmiri-ignore-leaks" cargo +nightly miri test --lib uninitialised`
    /// (the kernel pool's worker threads outlive the test).
    #[test]
    fn uninitialised_outputs_are_written_everywhere() {
        use crate::kernels::matmul::{matmul_batch, Mat};
        use crate::kernels::{elementwise, vmath};
        use crate::layout::Layout;
        fn mat(data: &[f32], rs: usize, cs: usize) -> Mat<'_, f32> {
            Mat {
                data,
                offset: 0,
                rs,
                cs,
            }
        }
        let (av, bv): (Vec<f32>, Vec<f32>) = (
            (0..12).map(|i| i as f32).collect(),
            (0..20).map(|i| (i % 7) as f32).collect(),
        );
        // Two batch entries of a 3×4 @ 4×5 product, against the definition.
        let out = matmul_batch(2, (3, 4, 5), |_| (mat(&av, 4, 1), mat(&bv, 5, 1)));
        for (i, j) in (0..3).flat_map(|i| (0..5).map(move |j| (i, j))) {
            let want: f32 = (0..4).map(|p| av[i * 4 + p] * bv[p * 5 + j]).sum();
            assert_eq!((out[i * 5 + j], out[15 + i * 5 + j]), (want, want));
        }
        assert_eq!(
            matmul_batch(1, (3, 0, 4), |_| (mat(&av, 0, 1), mat(&bv, 4, 1))),
            vec![0.0; 12]
        );
        // Stride-0 rows of `a`, then stride-0 columns of `b`: the copy paths.
        let ones = vec![1.0f32; 8];
        assert_eq!(
            matmul_batch(1, (3, 4, 2), |_| (mat(&ones, 0, 1), mat(&ones, 2, 1))),
            vec![4.0; 6]
        );
        assert_eq!(
            matmul_batch(1, (2, 4, 3), |_| (mat(&ones, 4, 1), mat(&ones, 1, 0))),
            vec![4.0; 6]
        );
        // Element-wise: contiguous, transposed, broadcast; serial and (40,000 elements) parallel.
        for side in [6, 200] {
            let n = side * side;
            let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let l = Layout::contiguous(&[side, side]);
            let sum = elementwise::binary(&x, &l, &x, &l, &[side, side], |a, b| a + b);
            assert!(sum.iter().enumerate().all(|(i, &v)| v == 2.0 * i as f32));
            let t = elementwise::unary(&x, &l.permute(&[1, 0]), |a| a);
            assert!(t
                .iter()
                .enumerate()
                .all(|(i, &v)| v == ((i % side) * side + i / side) as f32));
            let row = Layout::contiguous(&[1, side])
                .broadcast_to(&[side, side])
                .unwrap();
            let diff = elementwise::binary(&x, &l, &x, &row, &[side, side], |a, b| a - b);
            assert!(diff
                .iter()
                .enumerate()
                .all(|(i, &v)| v == (i - i % side) as f32));
            let cos = vmath::map2(&vmath::MulCos, vmath::Lhs::Splat(2.0), &x);
            assert!(cos
                .iter()
                .zip(&x)
                .all(|(&c, &x)| (c - 2.0 * x.cos()).abs() <= 1e-5));
        }
        assert_eq!(vmath::map1(&vmath::Exp, &[0.0, 1.0])[0], 1.0);
        assert_eq!(filled(7, 2.5f64), vec![2.5; 7]);
    }
}

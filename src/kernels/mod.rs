//! Compute kernels on raw slices and layouts. The only place with `unsafe` (matmul, SIMD
//! dispatch, memory advice), and the only place that decides serial vs parallel.

pub(crate) mod alloc;
pub(crate) mod elementwise;
pub(crate) mod index;
pub(crate) mod join;
pub(crate) mod matmul;
pub(crate) mod pool;
pub(crate) mod reduce;
#[cfg(target_arch = "x86_64")]
mod sgemm;
pub(crate) mod softmax;
pub(crate) mod strided;
pub(crate) mod vmath;

/// Below this many elements, work runs on the calling thread: handing tasks to the pool
/// ([`pool`]) costs more than it saves.
pub(crate) const PAR_MIN: usize = 1 << 15;

/// Elements per parallel task: big enough to amortise scheduling, small enough to balance.
pub(crate) const PAR_CHUNK: usize = 1 << 14;

/// A raw pointer handed to parallel tasks that each touch their own disjoint part of what it
/// points to (a `&mut` buffer borrowed for the whole parallel call).
pub(crate) struct SendPtr<T>(pub(crate) *mut T);

// Copied whatever T is (a derive would ask for `T: Copy`): it is only a pointer.
impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SendPtr<T> {}
// SAFETY: only used to give parallel tasks disjoint regions of one buffer that the caller
// borrows mutably for the whole call (see the uses), and `T: Send`.
unsafe impl<T: Send> Send for SendPtr<T> {}
// SAFETY: as above; no element is reached through it from two tasks.
unsafe impl<T: Send> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// The pointer (a method, so closures capture the `Send` wrapper, not the raw field).
    pub(crate) fn get(self) -> *mut T {
        self.0
    }
}

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

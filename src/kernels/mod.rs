//! Compute kernels on raw slices and layouts. The only place with `unsafe` (matmul), and the
//! only place that decides serial vs parallel.

pub(crate) mod elementwise;
pub(crate) mod index;
pub(crate) mod math;
pub(crate) mod matmul;
pub(crate) mod reduce;
pub(crate) mod strided;

/// Below this many elements, work runs on the calling thread: rayon's fork/join costs more
/// than it saves.
pub(crate) const PAR_MIN: usize = 1 << 15;

/// Elements per parallel task: big enough to amortise scheduling, small enough to balance.
pub(crate) const PAR_CHUNK: usize = 1 << 14;

//! Shared, versioned element buffers. Views share one `Storage`; in-place ops bump its version
//! so backward can tell that a tensor it saved has changed (PyTorch's version counter).

use crate::DType;
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::sync::atomic::{AtomicU64, Ordering};

/// The elements of a storage, tagged by dtype.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub enum Buffer {
    /// f32 elements.
    F32(Vec<f32>),
    /// f64 elements.
    F64(Vec<f64>),
    /// One f32 element, held inline: a scalar's storage needs no heap block of its own,
    /// which is a large share of the per-op cost in scalar graphs.
    ScalarF32(f32),
    /// One f64 element, held inline.
    ScalarF64(f64),
}

impl Buffer {
    pub(crate) fn dtype(&self) -> DType {
        match self {
            Buffer::F32(_) | Buffer::ScalarF32(_) => DType::F32,
            Buffer::F64(_) | Buffer::ScalarF64(_) => DType::F64,
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Buffer::F32(v) => v.len(),
            Buffer::F64(v) => v.len(),
            Buffer::ScalarF32(_) | Buffer::ScalarF64(_) => 1,
        }
    }
}

/// One allocation of elements, shared by every view of it.
pub(crate) struct Storage {
    buf: RwLock<Buffer>,
    /// The buffer's dtype, which never changes; kept outside the lock so reading it is free.
    dtype: DType,
    version: AtomicU64,
    /// Bytes counted as live by the kernels' buffer cache (0 for small buffers).
    tracked: usize,
}

impl Storage {
    pub(crate) fn new(buf: Buffer) -> Self {
        let tracked = crate::kernels::alloc::track_live(&buf);
        Storage {
            dtype: buf.dtype(),
            buf: RwLock::new(buf),
            version: AtomicU64::new(0),
            tracked,
        }
    }

    /// Read access. Recursive so `x * x` (two reads of one storage) cannot deadlock.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Buffer> {
        self.buf.read_recursive()
    }

    /// Write access for in-place ops; bumps the version.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Buffer> {
        self.version.fetch_add(1, Ordering::Relaxed);
        self.buf.write()
    }

    pub(crate) fn dtype(&self) -> DType {
        self.dtype
    }

    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// Whether the buffer is one inline element (`Buffer::Scalar*`). Needs `&mut` (no lock).
    pub(crate) fn holds_inline_scalar(&mut self) -> bool {
        matches!(
            self.buf.get_mut(),
            Buffer::ScalarF32(_) | Buffer::ScalarF64(_)
        )
    }

    /// Makes this (unshared) storage a fresh one holding the inline element `scalar`, as
    /// `Storage::new(scalar)` would: version 0, nothing tracked by the buffer cache.
    pub(crate) fn reset_scalar(&mut self, scalar: Buffer) {
        debug_assert!(matches!(
            scalar,
            Buffer::ScalarF32(_) | Buffer::ScalarF64(_)
        ));
        debug_assert_eq!(self.tracked, 0);
        self.dtype = scalar.dtype();
        *self.buf.get_mut() = scalar;
        *self.version.get_mut() = 0;
    }
}

/// A large buffer goes back to the kernels' cache instead of the system allocator, so the
/// next op of the same size skips the page faults of fresh memory (see `kernels::alloc`).
impl Drop for Storage {
    fn drop(&mut self) {
        let buf = std::mem::replace(self.buf.get_mut(), Buffer::F32(Vec::new()));
        crate::kernels::alloc::release(buf, self.tracked);
    }
}

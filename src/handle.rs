//! The tensor handle's counted block, and a small per-thread cache that reuses the blocks of
//! dropped one-element tensors.
//!
//! Why: in a graph of scalar ops (the tutorial's kind of work, and the `scalar_chain`
//! benchmark) every op makes a tensor — one heap block for its state (`Inner`) and one for its
//! storage — and drops one soon after, and the backward pass does the same for each gradient.
//! glibc's allocator spent about a third of the instructions of such an op (callgrind:
//! `malloc`, `free`, `_int_free`). A dropped one-element tensor that nobody else references
//! keeps both blocks here, and the next one-element tensor made on this thread takes them
//! back, so the steady state of a scalar chain allocates only its graph nodes.
//!
//! Only blocks that are provably unshared are kept: the tensor's last handle is being dropped,
//! there are no weak references, its storage belongs to it alone and holds one inline element,
//! and it has no autograd state or tangent of its own. Its history (`grad_fn`) is released
//! when it is kept, as a drop would. The cache holds at most [`MAX_KEPT`] blocks per thread
//! (about 12 KiB).

use crate::layout::Layout;
use crate::storage::Buffer;
use crate::tensor::Inner;
use std::cell::RefCell;
use std::ops::Deref;
use std::sync::Arc;

/// The most blocks one thread keeps.
const MAX_KEPT: usize = 64;

thread_local! {
    static KEPT: RefCell<Vec<Arc<Inner>>> = const { RefCell::new(Vec::new()) };
}

/// A counted reference to a tensor's state.
///
/// `Option` only so that `drop` can take the block out and keep it; it is `Some` at all other
/// times.
pub(crate) struct Handle(Option<Arc<Inner>>);

impl Handle {
    /// A handle to a new block holding `inner`.
    pub(crate) fn new(inner: Inner) -> Handle {
        Handle(Some(Arc::new(inner)))
    }

    /// The counted block.
    #[inline]
    pub(crate) fn arc(&self) -> &Arc<Inner> {
        match &self.0 {
            Some(arc) => arc,
            None => unreachable!("a tensor handle is empty only while it is dropped"),
        }
    }

    /// Mutable access when this is the only reference (`Arc::get_mut`).
    #[inline]
    pub(crate) fn get_mut(&mut self) -> Option<&mut Inner> {
        Arc::get_mut(self.0.as_mut()?)
    }

    /// A handle to a one-element contiguous tensor of `shape` holding `scalar` (an inline
    /// `Buffer::Scalar*`), made from a kept block; `None` when this thread keeps none.
    pub(crate) fn reuse_scalar(scalar: &Buffer, shape: &[usize]) -> Option<Handle> {
        let mut arc = KEPT.try_with(|kept| kept.borrow_mut().pop()).ok()??;
        // Kept blocks are unshared (checked in `keep`), so both `get_mut`s succeed; if one did
        // not, the block is simply dropped and the caller allocates.
        let inner = Arc::get_mut(&mut arc)?;
        Arc::get_mut(&mut inner.storage)?.reset_scalar(scalar.clone());
        inner.layout = Layout::contiguous(shape);
        Some(Handle(Some(arc)))
    }
}

impl Deref for Handle {
    type Target = Inner;

    #[inline]
    fn deref(&self) -> &Inner {
        self.arc()
    }
}

impl Clone for Handle {
    #[inline]
    fn clone(&self) -> Handle {
        Handle(Some(self.arc().clone()))
    }
}

impl Drop for Handle {
    #[inline]
    fn drop(&mut self) {
        if let Some(arc) = self.0.take() {
            // Cheap rejects first: shared blocks and tensors of more than one element are
            // dropped as usual without looking at the thread-local cache.
            if Arc::strong_count(&arc) == 1 && arc.layout.numel() == 1 {
                keep(arc);
            }
        }
    }
}

/// Keeps `arc` for reuse if it is unshared, owns an inline one-element storage and has no
/// autograd state or tangent; otherwise (or when the cache is full) drops it.
fn keep(mut arc: Arc<Inner>) {
    let Some(inner) = Arc::get_mut(&mut arc) else {
        return;
    };
    if inner.extra.get().is_some() {
        return;
    }
    if !Arc::get_mut(&mut inner.storage).is_some_and(|storage| storage.holds_inline_scalar()) {
        return;
    }
    // Released now, as dropping the tensor would (node drops never recurse; see
    // `autograd::node`), and before the cache is borrowed: it may drop other tensors.
    inner.grad_fn = None;
    let full = KEPT.try_with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.len() < MAX_KEPT {
            kept.push(arc);
            None
        } else {
            Some(arc)
        }
    });
    // A full cache (or one already destroyed at thread exit) hands the block back; it is
    // dropped here, outside the borrow.
    drop(full);
}

#[cfg(test)]
mod tests {
    use crate::{tensor, Tensor};
    use std::sync::Arc;

    /// A one-element tensor made by an op (ops make their one-element outputs through the
    /// cache; `Tensor::scalar` and `from_vec` start from a vector and do not).
    fn op_scalar<T: crate::Element>(value: T) -> Tensor {
        &Tensor::scalar(value) * 1.0
    }

    #[test]
    fn reused_blocks_start_fresh() {
        // Drop an f32 scalar with history and a bumped version, then make an f64 one on the
        // same thread: it gets the same block, and none of the old state.
        let x = tensor!(2.0).set_requires_grad(true);
        let y = &x * 3.0;
        drop(y.storage().write());
        assert_eq!(y.storage().version(), 1);
        let block = Arc::as_ptr(y.0.arc());
        drop(y);
        let z = op_scalar(5.0f64);
        assert_eq!(Arc::as_ptr(z.0.arc()), block, "the kept block is reused");
        assert!(z.is_leaf() && z.grad_fn_name().is_none());
        assert!(!z.requires_grad());
        assert_eq!(z.storage().version(), 0);
        assert_eq!(z.dtype(), crate::DType::F64);
        assert_eq!(z.shape(), &[] as &[usize]);
        assert_eq!(z.item::<f64>(), 5.0);
        // The shape comes from the new op, not the old block.
        drop(z);
        let w = &Tensor::from_vec(vec![1.5f32], &[1, 1]).unwrap() * 1.0;
        assert_eq!(w.shape(), &[1, 1]);
        assert_eq!(w.item::<f32>(), 1.5);
    }

    #[test]
    fn shared_storage_is_not_reused() {
        // A view keeps the storage alive: dropping the base must not hand its storage to a
        // new tensor while the view still reads it.
        let base = tensor!(7.0);
        let view = base.reshape([1]);
        let block = Arc::as_ptr(base.0.arc());
        drop(base);
        let other = op_scalar(1.0f32);
        assert_ne!(Arc::as_ptr(other.0.arc()), block);
        assert_eq!(view.item::<f32>(), 7.0);
        assert_eq!(other.item::<f32>(), 1.0);
    }

    #[test]
    fn tensors_with_autograd_state_are_not_reused() {
        // A leaf's `GradMeta` lives in its block: a new tensor must not inherit it. (`* 2.0`
        // saves nothing, so `y`'s graph holds only a weak edge to `x`'s state.)
        let x = tensor!(3.0).set_requires_grad(true);
        let y = &x * 2.0;
        let block = Arc::as_ptr(x.0.arc());
        drop(x);
        let fresh = op_scalar(1.0f32);
        assert_ne!(Arc::as_ptr(fresh.0.arc()), block);
        assert!(!fresh.requires_grad());
        assert!(y.backward().is_ok());
    }
}

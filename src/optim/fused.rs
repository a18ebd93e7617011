//! One pass over a parameter, its gradient and the optimizer's state: the update of each
//! element is computed from that element alone, so the whole step (weight decay, moments,
//! the parameter change) runs as one loop over the buffers, in place, in parallel chunks.
//! What PyTorch's fused optimizers do; its default "foreach" path makes one pass per
//! arithmetic step instead.

use super::Float;
use crate::error::{Error, Result};
use crate::kernels::elementwise::zip_chunks_mut;
use crate::tensor::Tensor;
use std::sync::Arc;

/// A fresh zero state buffer for `param`: contiguous, of its shape and dtype, owned by the
/// optimizer alone (what [`update`] writes without copying).
pub(crate) fn state_zeros(param: &Tensor) -> Tensor {
    Tensor::zeros_like(param)
}

/// Runs `f(grad, [param, state...])` over every element, in place.
///
/// `written[0]` is the parameter, the rest are state buffers made by [`state_zeros`]; all are
/// updated in place (their versions bump, as `add_` and friends do in PyTorch). A parameter
/// that is not contiguous, or a gradient that is not or that shares memory with something
/// written, goes through a contiguous copy, so the result never depends on the layout.
/// Runs outside the graph: optimizers call it on leaves, and no history is recorded.
pub(crate) fn update<T: Float, const S: usize>(
    op: &'static str,
    grad: &Tensor,
    written: [&Tensor; S],
    f: impl Fn(&[T], [&mut [T]; S]) + Sync,
) -> Result<()> {
    for t in written {
        if t.shape() != grad.shape() || t.dtype() != grad.dtype() {
            return Err(Error::invalid(
                op,
                format!("the gradient ({:?}, {:?}) does not match the parameter or its state ({:?}, {:?}); a gradient set by hand must have the parameter's shape and dtype", grad.shape(), grad.dtype(), t.shape(), t.dtype()),
            ));
        }
    }
    // Which written tensors can be written directly: contiguous, and not sharing memory
    // with another written tensor. The others are updated through copies.
    let mut copies: [Option<Tensor>; S] = std::array::from_fn(|_| None);
    for i in 0..S {
        let t = written[i];
        let shared = written[..i]
            .iter()
            .any(|u| Arc::ptr_eq(u.storage(), t.storage()));
        if shared || t.layout().contiguous_range().is_none() {
            copies[i] = Some(t.contiguous_copy());
        }
    }
    let targets: [&Tensor; S] = std::array::from_fn(|i| copies[i].as_ref().unwrap_or(written[i]));
    let grad_aliases = targets
        .iter()
        .any(|t| Arc::ptr_eq(t.storage(), grad.storage()));
    let grad = if grad_aliases || grad.layout().contiguous_range().is_none() {
        grad.contiguous_copy()
    } else {
        grad.clone()
    };
    {
        let ranges = targets.map(|t| t.layout().contiguous_range().expect("contiguous"));
        let mut guards = targets.map(|t| t.storage().write());
        let mut ranges = ranges.into_iter();
        let slices = guards.each_mut().map(|g| {
            let range = ranges.next().expect("one range per target");
            &mut T::slice_mut(g).expect("dtype checked above")[range]
        });
        let range = grad.layout().contiguous_range().expect("contiguous");
        grad.with_slice::<T, _>(|g, _| zip_chunks_mut(&g[range], slices, f));
    }
    for (copy, original) in copies.iter().zip(written) {
        if let Some(copy) = copy {
            crate::no_grad(|| original.try_copy_(copy))?;
        }
    }
    Ok(())
}

//! Tensors a backward rule keeps from the forward pass.
//!
//! Saving must not create reference cycles (a leaf's `.grad` built with `create_graph` holds a
//! graph that saved the leaf; a node that saves its own output would own itself), and it must
//! notice in-place changes made after saving. So a saved tensor keeps its data, the storage
//! version at save time, and a way back to its autograd identity that cannot form a cycle.

use crate::autograd::node::{Ctx, GradMeta, NodeRef};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::cell::Cell;
use std::sync::{Arc, Weak};

thread_local! {
    /// How many tensors have been saved on this thread. `record` compares it before and after
    /// building a rule to learn whether the rule saved any tensor: only such rules are freed
    /// after backward (a rule holding just shapes can run again, as in PyTorch).
    static SAVED_COUNT: Cell<u64> = const { Cell::new(0) };
}

/// The number of tensors saved on this thread so far.
pub(crate) fn saved_count() -> u64 {
    SAVED_COUNT.with(Cell::get)
}

fn note_saved() {
    SAVED_COUNT.with(|c| c.set(c.get().wrapping_add(1)));
}

pub(crate) struct SavedTensor {
    data: Tensor,
    version: u64,
    identity: Identity,
}

enum Identity {
    /// `data` is the original handle (no grad slot that could close a cycle).
    Original,
    /// A leaf that requires grad, reached weakly.
    Leaf(Weak<GradMeta>),
    /// A non-leaf that carries a grad slot (retain_grad): keep its node, not the slot.
    NonLeaf(NodeRef),
    /// The output of the node that saved it; re-attached to that node when unpacked.
    Output,
}

impl SavedTensor {
    /// Saves an input of an op.
    pub(crate) fn input(t: &Tensor) -> Self {
        note_saved();
        let version = t.storage().version();
        let Some(meta) = t.0.meta() else {
            return SavedTensor {
                data: t.clone(),
                version,
                identity: Identity::Original,
            };
        };
        let identity = match &t.0.grad_fn {
            Some(node) => Identity::NonLeaf(node.clone()),
            None => Identity::Leaf(Arc::downgrade(meta)),
        };
        SavedTensor {
            data: t.view_with(t.layout().clone()),
            version,
            identity,
        }
    }

    /// Saves the output of the op that is saving it.
    pub(crate) fn output(t: &Tensor) -> Self {
        note_saved();
        SavedTensor {
            data: t.view_with(t.layout().clone()),
            version: t.storage().version(),
            identity: Identity::Output,
        }
    }

    /// The saved tensor, checked against in-place modification. Under `create_graph` it is
    /// re-attached to its autograd identity so the gradient computed from it is differentiable.
    pub(crate) fn get(&self, ctx: &Ctx<'_>) -> Result<Tensor> {
        let current = self.data.storage().version();
        if current != self.version {
            return Err(Error::InplaceModified {
                node: ctx.node.name,
                shape: self.data.shape().to_vec(),
                saved: self.version,
                current,
            });
        }
        if !ctx.create_graph {
            return Ok(self.data.clone());
        }
        let d = &self.data;
        Ok(match &self.identity {
            Identity::Original => d.clone(),
            Identity::Leaf(weak) => match weak.upgrade() {
                Some(meta) => {
                    let t = d.view_with(d.layout().clone());
                    t.0.meta_or_init(|| meta);
                    t
                }
                // The leaf is gone, so nobody can ask for its gradient: a constant will do.
                None => d.clone(),
            },
            Identity::NonLeaf(node) => {
                Tensor::from_parts(d.storage().clone(), d.layout().clone(), Some(node.clone()))
            }
            Identity::Output => Tensor::from_parts(
                d.storage().clone(),
                d.layout().clone(),
                Some(ctx.node.clone()),
            ),
        })
    }
}

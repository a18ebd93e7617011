//! Forward-mode automatic differentiation with dual tensors, like `torch.autograd.forward_ad`.
//!
//! A dual tensor carries a *tangent* (a direction) beside its value. Every op that sees a
//! tangent on an input computes its output's tangent with its JVP rule during the forward
//! pass, so one forward pass gives a Jacobian-vector product:
//!
//! ```
//! use tensorgrad::{forward_ad, tensor};
//! let x = forward_ad::make_dual(&tensor!([1.0, 2.0]), &tensor!([1.0, 0.0]))?;
//! let y = &x * &x * 3.0;                                   // y = 3x², dy = 6x·dx
//! let (_, dy) = forward_ad::unpack_dual(&y);
//! assert_eq!(dy.unwrap().to_vec::<f32>(), vec![6.0, 0.0]);
//! # Ok::<(), tensorgrad::Error>(())
//! ```

use crate::autograd::node::{record, rule};
use crate::error::{Error, Result};
use crate::ops::grads;
use crate::tensor::Tensor;
use std::cell::Cell;

thread_local! {
    /// Set while a JVP rule runs, so the ops inside it do not propagate tangents themselves.
    static IN_JVP_RULE: Cell<bool> = const { Cell::new(false) };
}

/// A tensor with value `primal` and tangent `tangent` (same shape and dtype). The result is
/// differentiable by reverse mode with respect to `primal`, as in PyTorch.
#[track_caller]
pub fn make_dual(primal: &Tensor, tangent: &Tensor) -> Result<Tensor> {
    if primal.shape() != tangent.shape() {
        return Err(Error::shape(
            "make_dual",
            primal.shape(),
            tangent.shape(),
            "the tangent must have the primal's shape",
        ));
    }
    if primal.dtype() != tangent.dtype() {
        return Err(Error::DTypeMismatch {
            op: "make_dual",
            lhs: primal.dtype(),
            rhs: tangent.dtype(),
        });
    }
    let alias = record(
        primal.view_with(primal.layout().clone()),
        "AliasBackward0",
        &[primal],
        |_| rule(|_, g| Ok(grads![Some(g.clone())])),
    );
    Ok(alias.with_tangent(tangent.clone()))
}

/// The value and tangent of a dual tensor (`None` for a tensor without a tangent), like
/// `unpack_dual`. The value is returned without the tangent.
pub fn unpack_dual(t: &Tensor) -> (Tensor, Option<Tensor>) {
    let tangent = t.0.tangent().cloned();
    if tangent.is_none() {
        return (t.clone(), None);
    }
    let primal = Tensor::from_parts(t.storage().clone(), t.layout().clone(), t.0.grad_fn.clone());
    (primal, tangent)
}

impl Tensor {
    /// This tensor's forward-mode tangent, if it is a dual tensor (see [`forward_ad`](crate::forward_ad)).
    pub fn tangent(&self) -> Option<Tensor> {
        self.0.tangent().cloned()
    }

    /// Sets the tangent of a freshly made output.
    pub(crate) fn with_tangent(mut self, tangent: Tensor) -> Tensor {
        match self.0.get_mut() {
            Some(inner) => {
                inner.set_tangent(tangent);
                self
            }
            None => {
                let mut t = Tensor::from_parts(
                    self.storage().clone(),
                    self.layout().clone(),
                    self.0.grad_fn.clone(),
                );
                t.0.get_mut().expect("fresh").set_tangent(tangent);
                t
            }
        }
    }
}

/// Gives `out` the tangent `rule(tangents of inputs)` when any input carries one. `rule` gets
/// one entry per input (`None` = zero tangent) and returns the output's tangent (`None` =
/// zero); it is broadcast to `out`'s shape if needed. The primal inputs the rule reads are
/// used as plain values: tangents inside the rule are not propagated further.
#[inline]
pub(crate) fn jvp<F>(out: Tensor, inputs: &[&Tensor], rule: F) -> Tensor
where
    F: FnOnce(&[Option<Tensor>]) -> Option<Tensor>,
{
    if !inputs.iter().any(|t| t.0.tangent().is_some()) || IN_JVP_RULE.with(Cell::get) {
        return out;
    }
    let tangents: Vec<Option<Tensor>> = inputs.iter().map(|t| t.0.tangent().cloned()).collect();
    IN_JVP_RULE.with(|f| f.set(true));
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_JVP_RULE.with(|f| f.set(false));
        }
    }
    let reset = Reset;
    let tangent = rule(&tangents);
    drop(reset);
    match tangent {
        Some(t) if t.shape() == out.shape() => out.with_tangent(t),
        Some(t) => {
            let t = t.expand_to(out.shape());
            out.with_tangent(t)
        }
        None => out,
    }
}

/// `a + b` for optional tangents (`None` is zero).
pub(crate) fn add_opt(a: Option<Tensor>, b: Option<Tensor>) -> Option<Tensor> {
    match (a, b) {
        (Some(a), Some(b)) => Some(&a + &b),
        (a, None) => a,
        (None, b) => b,
    }
}

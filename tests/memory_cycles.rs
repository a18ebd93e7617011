//! No reference cycles through hooks, `retain_grad` or `create_graph`: everything the graph
//! owns is freed when the last tensor handle goes.
//!
//! A hook is stored where the graph keeps the tensor's autograd state (a leaf's grad slot, or a
//! non-leaf's node), so a hook closure owning a drop counter tells exactly when that state is
//! freed. If any path led from that state back to itself (the leaf's `.grad` graph holding the
//! leaf, a retained gradient holding its node, a saved output owning its own node), the counter
//! would stay at zero after every handle is dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tensorgrad::autograd::{self, GradOptions};
use tensorgrad::{forward_ad, tensor, BackwardOptions, Tensor};

/// Counts its own drops.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Registers on `t` a hook that owns a `DropCounter`; returns the counter.
fn watch(t: &Tensor) -> Arc<AtomicUsize> {
    let count = Arc::new(AtomicUsize::new(0));
    let guard = DropCounter(count.clone());
    t.register_hook(move |_| {
        let _ = &guard; // owned by the closure, dropped with it
        None
    })
    .unwrap();
    count
}

fn dropped(c: &AtomicUsize) -> bool {
    c.load(Ordering::SeqCst) == 1
}

#[test]
fn hooks_are_dropped_with_their_tensors() {
    // Leaf: the hook lives in the leaf's grad slot.
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let on_leaf = watch(&x);
    // Non-leaf: the hook lives on the node that computed it.
    let h = &x * 3.0;
    let on_node = watch(&h);
    let y = (&h * &h).sum();
    y.backward().unwrap();
    assert!(
        !dropped(&on_leaf) && !dropped(&on_node),
        "alive while the tensors are"
    );
    drop(h);
    assert!(!dropped(&on_node), "y's graph still holds h's node");
    drop(y);
    assert!(dropped(&on_node), "the graph is freed with its last output");
    assert!(!dropped(&on_leaf));
    drop(x);
    assert!(dropped(&on_leaf));
}

#[test]
fn a_leaf_whose_grad_came_from_create_graph_is_freed() {
    // x.grad = 3x² is a graph that saved x: leaf -> .grad -> graph -> saved x. The saved
    // leaf is reached weakly, so dropping x frees it.
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let on_leaf = watch(&x);
    let y = x.powi(3).sum();
    y.backward_with(BackwardOptions::new().create_graph(true))
        .unwrap();
    let g = x.grad().unwrap();
    assert!(g.requires_grad());
    assert_eq!(g.to_vec::<f32>(), vec![3.0, 12.0]);
    drop((g, y));
    assert!(!dropped(&on_leaf));
    drop(x);
    assert!(dropped(&on_leaf), "x is kept alive by its own .grad");
}

#[test]
fn accumulating_create_graph_gradients_makes_no_cycle() {
    // Two create_graph backwards: the second sums into the first's graph (out of place).
    let x = tensor!(2.0).set_requires_grad(true);
    let on_leaf = watch(&x);
    for _ in 0..2 {
        (&x * &x * &x)
            .backward_with(BackwardOptions::new().create_graph(true))
            .unwrap();
    }
    let g = x.grad().unwrap();
    assert_eq!(g.item::<f32>(), 24.0);
    // Second order through the accumulated gradient, keeping its graph.
    let g2 = autograd::grad(&[&g], &[&x], true).unwrap().remove(0);
    assert_eq!(g2.item::<f32>(), 24.0);
    drop((g, g2));
    drop(x);
    assert!(dropped(&on_leaf));
}

#[test]
fn retain_grad_under_create_graph_makes_no_cycle() {
    // h.grad is a graph that saved h: h's node -> (retained slot, weak) and h -> .grad ->
    // graph -> h's node. The node does not own the slot, so there is no cycle.
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let h = &x * 2.0;
    h.retain_grad();
    let on_h = watch(&h);
    let y = (&h * &h * &h).sum();
    y.backward_with(BackwardOptions::new().create_graph(true))
        .unwrap();
    let hg = h.grad().unwrap();
    assert!(hg.requires_grad());
    assert_eq!(hg.to_vec::<f32>(), vec![12.0, 48.0]);
    drop((hg, y, h));
    assert!(
        !dropped(&on_h),
        "x.grad, built with create_graph, refers to h's node"
    );
    drop(x);
    assert!(
        dropped(&on_h),
        "h's node is kept alive by h's retained gradient"
    );
}

#[test]
fn saved_outputs_under_create_graph_make_no_cycle() {
    // reciprocal saves its output; under create_graph the saved output is re-attached to the
    // node that saved it, inside the gradient's graph, never inside the node itself.
    let x = tensor!([1.0, 4.0]).set_requires_grad(true);
    let r = x.reciprocal();
    let on_r = watch(&r);
    let g = autograd::grad(&[&r.sum()], &[&x], true).unwrap().remove(0);
    assert_eq!(g.to_vec::<f32>(), vec![-1.0, -0.0625]);
    let g2 = autograd::grad(&[&g.sum()], &[&x], false).unwrap().remove(0);
    assert_eq!(g2.to_vec::<f32>(), vec![2.0, 2.0 / 64.0]);
    drop(r);
    assert!(!dropped(&on_r), "g's graph refers to r's node");
    drop(g);
    assert!(
        dropped(&on_r),
        "r's node owns itself through its saved output"
    );
}

#[test]
fn gradients_from_autograd_grad_with_create_graph_are_freed() {
    let x = tensor!([1.0, 2.0, 3.0]).set_requires_grad(true);
    let w = tensor!([0.5, 0.5, 0.5]).set_requires_grad(true);
    let (on_x, on_w) = (watch(&x), watch(&w));
    let h = &x * &w;
    let on_h = watch(&h);
    let y = (&h * &h).sum();
    let grads =
        autograd::grad_with(&[&y], &[&x, &w], GradOptions::new().create_graph(true)).unwrap();
    let hessian_row =
        &autograd::grad(&[&grads[0].as_ref().unwrap().sum()], &[&w], false).unwrap()[0];
    assert_eq!(hessian_row.shape(), &[3]);
    drop((grads, y, h));
    assert!(dropped(&on_h), "the gradients' graph keeps h's node alive");
    drop((x, w));
    assert!(dropped(&on_x) && dropped(&on_w));
}

#[test]
fn a_hook_that_owns_another_tensor_releases_it() {
    // Hooks may capture tensors; the capture is released with the hook.
    let big = Tensor::ones(&[4]).set_requires_grad(true);
    let on_big = watch(&big);
    let x = tensor!([1.0, 2.0, 3.0, 4.0]).set_requires_grad(true);
    let captured = big.clone();
    x.register_hook(move |g| Some(g * &captured.detach()))
        .unwrap();
    (&x * 2.0).sum().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0; 4]);
    drop(big);
    assert!(!dropped(&on_big), "the hook on x still holds it");
    drop(x);
    assert!(dropped(&on_big));
}

#[test]
fn dual_tensors_free_their_tangents_and_graph() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let on_x = watch(&x);
    let tangent = tensor!([1.0, 0.0]).set_requires_grad(true);
    let on_tangent = watch(&tangent);
    let d = forward_ad::make_dual(&x, &tangent).unwrap();
    let y = &d * &d * 3.0;
    let (_, dy) = forward_ad::unpack_dual(&y);
    assert_eq!(dy.unwrap().to_vec::<f32>(), vec![6.0, 0.0]);
    y.sum().backward().unwrap();
    drop((d, y));
    drop((x, tangent));
    assert!(dropped(&on_x) && dropped(&on_tangent));
}

//! The backward engine: iterative, dependency-counted traversal of the graph.
//!
//! 1. Discover every node reachable from the roots and count, for each, how many edges lead
//!    into it (an explicit stack; no recursion, so million-op chains are fine).
//! 2. Run nodes whose count has dropped to zero, summing the gradients arriving along edges
//!    before a node runs, so each rule runs once with its total gradient.
//! 3. Sum gradients for each leaf and write them to `.grad` (or hand them back to
//!    `autograd::grad`), after the leaf's hooks.

use crate::autograd::mode::{is_anomaly_enabled, is_grad_enabled, GradModeGuard};
use crate::autograd::node::{Ctx, Edge, GradMeta, Grads, NodeRef};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use std::sync::Arc;

/// One backward request.
pub(crate) struct Request<'a> {
    /// Outputs and the gradients flowing into them (already shape-checked).
    pub roots: Vec<(Tensor, Tensor)>,
    /// `Some`: return the gradients of these tensors instead of accumulating into `.grad`.
    pub inputs: Option<&'a [Tensor]>,
    pub retain_graph: bool,
    pub create_graph: bool,
}

struct NodeState {
    /// Taken (moved out, no reference-count traffic) when the node runs.
    node: Option<NodeRef>,
    /// For each edge of `node`, the arena index of the node it leads to (`None` for leaves).
    children: SmallVec<[Option<usize>; 2]>,
    deps: usize,
    grad: Option<Tensor>,
    /// Whether running this node can reach a gradient anyone asked for.
    run: bool,
    /// Index into `inputs` when this node's output is one of them.
    capture: Option<usize>,
}

/// The nodes found so far, each once, with the pointer-to-index map that dedupes them and
/// the stack of those whose edges are still to be followed.
struct Arena {
    index: FxHashMap<usize, usize>,
    states: Vec<NodeState>,
    stack: Vec<usize>,
}

impl Arena {
    /// The arena index of `node`, adding it (and scheduling its edges) the first time.
    /// `via_edge`: `node` is a clone of a node's edge (not a root); the arena keeps it.
    fn intern(
        &mut self,
        node: NodeRef,
        node_targets: &FxHashMap<usize, usize>,
        via_edge: bool,
    ) -> usize {
        let key = node_key(&node);
        // A node whose only owners are the edge being followed and the clone passed in (no
        // tensor handle, no other edge, not yet in the arena, which would hold a clone)
        // cannot be reached again, so it needs no entry in the dedupe map: the common case
        // in a chain of ops whose intermediate results were dropped. Nothing else can gain a
        // reference meanwhile: nodes are never weakly referenced, and the edge holding this
        // one is borrowed here. (Roots are excluded: two roots may be handles to one
        // tensor, which holds the node once.)
        let unshared = via_edge && Arc::strong_count(&node) == 2;
        let (states, stack) = (&mut self.states, &mut self.stack);
        let add = || {
            states.push(NodeState {
                node: Some(node),
                children: SmallVec::new(),
                deps: 0,
                grad: None,
                run: true,
                capture: if node_targets.is_empty() {
                    None
                } else {
                    node_targets.get(&key).copied()
                },
            });
            stack.push(states.len() - 1);
            states.len() - 1
        };
        if unshared {
            return add();
        }
        *self.index.entry(key).or_insert_with(add)
    }
}

impl NodeState {
    /// The node, before it has run (discovery and pruning happen before execution).
    fn node(&self) -> &NodeRef {
        self.node.as_ref().expect("the node has not run yet")
    }
}

fn node_key(node: &NodeRef) -> usize {
    Arc::as_ptr(node) as usize
}

fn meta_key(meta: &Arc<GradMeta>) -> usize {
    Arc::as_ptr(meta) as usize
}

/// Sums two gradients of the same tensor. Recorded when the engine runs with create_graph.
pub(crate) fn accumulate(acc: Option<Tensor>, g: Tensor) -> Tensor {
    match acc {
        None => g,
        // With no graph to record, add into a gradient buffer that nothing else references
        // instead of allocating a third one (e.g. x's two gradients in `sin(x) * exp(x)`).
        Some(a)
            if !is_grad_enabled()
                && a.shape() == g.shape()
                && a.dtype() == g.dtype()
                && !a.requires_grad()
                && a.owns_whole_buffer() =>
        {
            a.add_assign_no_grad(&g);
            a
        }
        Some(a) => a.add_for_grad(&g),
    }
}

/// Runs backward; returns the captured gradients (empty unless `inputs` was given).
pub(crate) fn run(req: Request<'_>) -> Result<Vec<Option<Tensor>>> {
    let _mode = GradModeGuard::new(req.create_graph);

    // Where each requested input's gradient is captured.
    let mut node_targets: FxHashMap<usize, usize> = FxHashMap::default();
    let mut leaf_targets: FxHashMap<usize, usize> = FxHashMap::default();
    // An input listed again (same tensor, or same graph identity) gets a copy of the first
    // one's gradient, as in PyTorch: (input index, index of its first occurrence).
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    if let Some(inputs) = req.inputs {
        for (i, t) in inputs.iter().enumerate() {
            let (targets, key) = if let Some(node) = &t.0.grad_fn {
                (&mut node_targets, node_key(node))
            } else if let Some(meta) = t.0.meta().filter(|m| m.requires_grad()) {
                (&mut leaf_targets, meta_key(meta))
            } else {
                return Err(Error::autograd(
                    "grad",
                    format!("input {i} (shape {:?}) does not require grad, so no gradient can flow to it; call .set_requires_grad(true) on it before computing the outputs", t.shape()),
                ));
            };
            match targets.get(&key) {
                Some(&first) => repeats.push((i, first)),
                None => {
                    targets.insert(key, i);
                }
            }
        }
    }

    // 1. Discovery. Nodes live in an arena (`states`), found by pointer once per edge; the
    // later phases follow arena indices, so a pass over a small graph, run once per row of a
    // Jacobian, costs little beyond the rules themselves.
    let mut arena = Arena {
        index: FxHashMap::default(),
        // Room for a small graph without regrowing (one backward per program or Jacobian
        // row), kept under 1008 bytes (8 states of 88): glibc answers a larger request by
        // first consolidating its fast bins, merging every small block the previous graph
        // freed. Capacity 16 cost `seed_ex2` 3% more instructions (callgrind); long chains
        // regrow once more instead (+1.8% for `scalar_chain`).
        states: Vec::with_capacity(8),
        stack: Vec::with_capacity(8),
    };
    let mut leaf_grads: Vec<(Arc<GradMeta>, Tensor)> = Vec::new();
    let mut leaf_index: FxHashMap<usize, usize> = FxHashMap::default();
    let mut root_ids: Vec<usize> = Vec::new();
    for (out, grad) in &req.roots {
        match (&out.0.grad_fn, out.0.meta()) {
            (Some(node), _) => {
                let known = arena.states.len();
                let id = arena.intern(node.clone(), &node_targets, false);
                if id >= known {
                    root_ids.push(id);
                }
                let st = &mut arena.states[id];
                st.grad = Some(accumulate(st.grad.take(), grad.clone()));
            }
            (None, Some(meta)) if meta.requires_grad() => {
                add_leaf_grad(&mut leaf_grads, &mut leaf_index, meta.clone(), grad.clone())
            }
            _ => unreachable!("roots are checked to require grad"),
        }
    }
    while let Some(id) = arena.stack.pop() {
        let n_edges = arena.states[id].node().edges.len();
        let mut children: SmallVec<[Option<usize>; 2]> = SmallVec::with_capacity(n_edges);
        for e in 0..n_edges {
            let child = match &arena.states[id].node().edges[e] {
                Some(Edge::Node(child)) => child.clone(),
                _ => {
                    children.push(None);
                    continue;
                }
            };
            let c = arena.intern(child, &node_targets, true);
            arena.states[c].deps += 1;
            children.push(Some(c));
        }
        arena.states[id].children = children;
    }
    let mut states = arena.states;

    // When only some gradients are wanted, skip nodes that cannot reach any of them.
    if req.inputs.is_some() {
        prune(&mut states, &leaf_targets);
    }

    // 2. Execution.
    let mut captured: Vec<Option<Tensor>> = vec![None; req.inputs.map_or(0, <[Tensor]>::len)];
    let mut ready: Vec<usize> = root_ids
        .into_iter()
        .filter(|&id| states[id].deps == 0)
        .collect();
    let anomaly = is_anomaly_enabled();
    while let Some(id) = ready.pop() {
        let node = states[id].node.take().expect("each node runs once");
        let (grad, run, capture) = {
            let st = &mut states[id];
            (st.grad.take(), st.run, st.capture)
        };
        let grad = match grad {
            Some(g) => Some(apply_node_hooks(&node, g)?),
            None => None,
        };
        if let (Some(i), Some(g)) = (capture, &grad) {
            captured[i] = Some(accumulate(captured[i].take(), g.clone()));
        }
        let mut outputs: Grads = match (&grad, run) {
            (Some(g), true) => call_rule(&node, g, &req, anomaly)?,
            _ => Grads::new(),
        };
        let children = std::mem::take(&mut states[id].children);
        for (i, edge) in node.edges.iter().enumerate() {
            let Some(edge) = edge else { continue };
            let g = outputs.get_mut(i).and_then(Option::take);
            match edge {
                Edge::Node(_) => {
                    let c = children[i].expect("discovered");
                    let st = &mut states[c];
                    if let Some(g) = g {
                        st.grad = Some(accumulate(st.grad.take(), g));
                    }
                    st.deps -= 1;
                    if st.deps == 0 {
                        ready.push(c);
                    }
                }
                Edge::Leaf(weak) => {
                    if let (Some(g), Some(meta)) = (g, weak.upgrade()) {
                        add_leaf_grad(&mut leaf_grads, &mut leaf_index, meta, g);
                    }
                }
            }
        }
    }

    // 3. Leaves: hooks, then capture or accumulate into `.grad`.
    for (meta, g) in leaf_grads {
        let g = apply_hooks(&meta.hooks.lock().clone(), g);
        if req.inputs.is_some() {
            if let Some(&i) = leaf_targets.get(&meta_key(&meta)) {
                captured[i] = Some(g);
            }
        } else {
            accumulate_into_slot(&meta, g, req.create_graph);
        }
    }
    for (i, first) in repeats {
        captured[i] = captured[first].clone();
    }
    Ok(captured)
}

fn add_leaf_grad(
    grads: &mut Vec<(Arc<GradMeta>, Tensor)>,
    index: &mut FxHashMap<usize, usize>,
    meta: Arc<GradMeta>,
    g: Tensor,
) {
    match index.get(&meta_key(&meta)) {
        Some(&i) => {
            // Moved out (not cloned), so `accumulate` can see the gradient is not shared.
            let placeholder = g.clone();
            let acc = std::mem::replace(&mut grads[i].1, placeholder);
            grads[i].1 = accumulate(Some(acc), g);
        }
        None => {
            index.insert(meta_key(&meta), grads.len());
            grads.push((meta, g));
        }
    }
}

/// Marks which nodes must run: those from which an edge reaches a requested input.
fn prune(states: &mut [NodeState], leaf_targets: &FxHashMap<usize, usize>) {
    // Children before parents (reverse topological order), so each node sees its children's
    // final `run` flags.
    for id in topological_order(states).into_iter().rev() {
        let st = &states[id];
        let reaches = st
            .node()
            .edges
            .iter()
            .zip(&st.children)
            .any(|(edge, child)| match (edge, child) {
                (_, Some(c)) => states[*c].run || states[*c].capture.is_some(),
                (Some(Edge::Leaf(w)), None) => leaf_targets.contains_key(&(w.as_ptr() as usize)),
                _ => false,
            });
        states[id].run = reaches;
    }
}

/// Kahn's algorithm over the discovered subgraph: every node after all nodes that feed it.
fn topological_order(states: &[NodeState]) -> Vec<usize> {
    let mut deps: Vec<usize> = states.iter().map(|s| s.deps).collect();
    let mut ready: Vec<usize> = (0..states.len()).filter(|&id| deps[id] == 0).collect();
    let mut topo = Vec::with_capacity(states.len());
    while let Some(id) = ready.pop() {
        topo.push(id);
        for &c in states[id].children.iter().flatten() {
            deps[c] -= 1;
            if deps[c] == 0 {
                ready.push(c);
            }
        }
    }
    topo
}

fn apply_hooks(hooks: &[crate::autograd::node::Hook], mut g: Tensor) -> Tensor {
    for hook in hooks {
        if let Some(replaced) = hook(&g) {
            g = replaced;
        }
    }
    g
}

/// Tensor hooks and retain_grad of the non-leaf tensor this node produced.
fn apply_node_hooks(node: &NodeRef, g: Tensor) -> Result<Tensor> {
    let Some(hooks) = node.hooks.get() else {
        return Ok(g);
    };
    let list = hooks.hooks.lock().clone();
    let g = apply_hooks(&list, g);
    let retained = hooks
        .retained
        .lock()
        .as_ref()
        .and_then(std::sync::Weak::upgrade);
    if let Some(meta) = retained {
        let mut slot = meta.grad.lock();
        let prev = slot.take();
        *slot = Some(accumulate(prev, g.clone()));
    }
    Ok(g)
}

fn call_rule(node: &NodeRef, grad: &Tensor, req: &Request<'_>, anomaly: bool) -> Result<Grads> {
    let ctx = Ctx {
        node,
        create_graph: req.create_graph,
    };
    let mut slot = node.backward.lock();
    let Some(rule) = slot.as_ref() else {
        return Err(Error::GraphReleased { node: node.name });
    };
    let outputs = rule.apply(&ctx, grad)?;
    // Free saved tensors now unless asked to keep them. A rule that saved no tensor is
    // kept, so running it again is allowed, as in PyTorch.
    if !req.retain_graph && node.saves_tensors {
        *slot = None;
    }
    drop(slot);
    if anomaly {
        for (i, g) in outputs.iter().enumerate() {
            if let Some(what) = g.as_ref().and_then(Tensor::non_finite_kind) {
                return Err(Error::Anomaly {
                    node: node.name,
                    what,
                    input: i,
                    location: node.location.to_string(),
                });
            }
        }
    }
    Ok(outputs)
}

/// Adds `g` to a leaf's `.grad`: in place when no graph is wanted (handles to `.grad` see the
/// sum, as in PyTorch), out of place under `create_graph` so the sum stays differentiable.
fn accumulate_into_slot(meta: &GradMeta, g: Tensor, create_graph: bool) {
    let mut slot = meta.grad.lock();
    *slot = Some(match slot.take() {
        // A gradient that carries a graph is stored as it is, so it stays differentiable.
        // Any other is made an owned, contiguous copy even under create_graph: it may be an
        // expanded view (the gradient of a sum) or share storage with another tensor, and a
        // later backward without create_graph adds into `.grad` in place.
        None if create_graph && g.requires_grad() => g,
        None => g.into_owned_grad(),
        Some(prev) if !create_graph && !prev.requires_grad() => {
            prev.add_assign_no_grad(&g);
            prev
        }
        Some(prev) => prev.add_for_grad(&g),
    });
}

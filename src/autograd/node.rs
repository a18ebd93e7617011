//! Graph nodes. Every op that records history makes one `Node`: its PyTorch grad_fn name,
//! edges to where its inputs' gradients go, and the backward rule (a closure holding the
//! tensors it saved). Nodes have exactly one output, so a tensor's grad_fn *is* its identity
//! in the graph.

use crate::autograd::mode::is_grad_enabled;
use crate::autograd::saved::saved_count;
use crate::error::Result;
use crate::tensor::Tensor;
use once_cell::race::OnceBox;
use parking_lot::Mutex;
use smallvec::SmallVec;
use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

pub(crate) type NodeRef = Arc<Node>;

/// Gradients a backward rule returns, one per input (`None` = zero / not needed).
pub(crate) type Grads = SmallVec<[Option<Tensor>; 2]>;

/// A gradient hook: sees a gradient and may replace it.
pub(crate) type Hook = Arc<dyn Fn(&Tensor) -> Option<Tensor> + Send + Sync>;

/// Where the gradient for one input of a node goes.
pub(crate) enum Edge {
    /// To the node that produced the input.
    Node(NodeRef),
    /// To a leaf's gradient slot. Weak, so a leaf's `.grad` (which may itself hold a graph
    /// when built with `create_graph`) never keeps the leaf alive through a cycle.
    Leaf(Weak<GradMeta>),
}

/// What a backward rule may look at while it runs.
pub(crate) struct Ctx<'a> {
    /// The node being run (saved outputs re-attach to it under `create_graph`).
    pub node: &'a NodeRef,
    /// True when the gradients must themselves record a graph.
    pub create_graph: bool,
}

impl Ctx<'_> {
    /// Whether input `i` needs a gradient.
    #[inline]
    pub fn needs(&self, i: usize) -> bool {
        self.node.edges.get(i).is_some_and(Option::is_some)
    }
}

/// A backward rule: maps the output's gradient to one gradient per input.
pub(crate) trait Backward: Send + Sync {
    fn apply(&self, ctx: &Ctx<'_>, grad: &Tensor) -> Result<Grads>;
}

impl<F> Backward for F
where
    F: Fn(&Ctx<'_>, &Tensor) -> Result<Grads> + Send + Sync,
{
    fn apply(&self, ctx: &Ctx<'_>, grad: &Tensor) -> Result<Grads> {
        self(ctx, grad)
    }
}

/// Autograd state of a leaf (or of a non-leaf that retains its gradient).
pub(crate) struct GradMeta {
    pub requires_grad: AtomicBool,
    pub grad: Mutex<Option<Tensor>>,
    pub hooks: Mutex<Vec<Hook>>,
    /// The owning tensor's shape. Graph edges reach leaves only through a `Weak<GradMeta>`,
    /// so this is what lets a graph walk (`viz::to_dot`) say what a leaf is.
    pub shape: Box<[usize]>,
}

impl GradMeta {
    pub(crate) fn new(requires_grad: bool, shape: &[usize]) -> Self {
        GradMeta {
            requires_grad: AtomicBool::new(requires_grad),
            grad: Mutex::new(None),
            hooks: Mutex::new(Vec::new()),
            shape: shape.into(),
        }
    }

    pub(crate) fn requires_grad(&self) -> bool {
        self.requires_grad.load(Ordering::Relaxed)
    }
}

/// Hooks and retain_grad slot of a non-leaf tensor, kept on its node (the tensor's identity).
#[derive(Default)]
pub(crate) struct NodeHooks {
    pub hooks: Mutex<Vec<Hook>>,
    pub retained: Mutex<Option<Weak<GradMeta>>>,
}

/// One recorded op.
pub(crate) struct Node {
    /// PyTorch's grad_fn name, e.g. `MulBackward0`.
    pub name: &'static str,
    /// One edge per input; `None` where the input does not require grad.
    pub edges: SmallVec<[Option<Edge>; 2]>,
    /// The rule and its saved tensors; taken (freed) after backward unless the graph is retained.
    pub backward: Mutex<Option<Box<dyn Backward>>>,
    /// Whether the rule saved tensors. Only such rules are freed after backward; one that
    /// holds only shapes and numbers stays, so a second backward through it works (PyTorch
    /// errors only when saved tensors are gone).
    pub saves_tensors: bool,
    /// Where in the user's code the op was called (for anomaly mode).
    pub location: &'static Location<'static>,
    /// Boxed on first use, in one pointer: rarely used, and at 104 bytes a `Node` allocation
    /// (120 with the `Arc` counts) is served from glibc's fast bins.
    pub hooks: OnceBox<NodeHooks>,
}

impl Node {
    pub(crate) fn hooks(&self) -> &NodeHooks {
        self.hooks.get_or_init(Box::default)
    }
}

/// Pins a closure to the backward-rule signature (so its argument lifetimes are inferred as
/// higher-ranked).
pub(crate) fn rule<F>(f: F) -> F
where
    F: Fn(&Ctx<'_>, &Tensor) -> Result<Grads> + Send + Sync + 'static,
{
    f
}

/// Returns `out` with a grad_fn recording `name` and the backward rule `make(needs)`, when grad
/// mode is on and an input requires grad; otherwise returns `out` unchanged. `needs[i]` says
/// whether input `i` requires grad, so the rule can save only what it will use.
#[track_caller]
pub(crate) fn record<B, M>(out: Tensor, name: &'static str, inputs: &[&Tensor], make: M) -> Tensor
where
    B: Backward + 'static,
    M: FnOnce(&[bool]) -> B,
{
    if !is_grad_enabled() || !inputs.iter().any(|t| t.requires_grad()) {
        return out;
    }
    // Pushed one by one: `collect` into a SmallVec costs several times more for 1–2 items.
    let mut edges: SmallVec<[Option<Edge>; 2]> = SmallVec::new();
    let mut needs: SmallVec<[bool; 4]> = SmallVec::new();
    for t in inputs {
        let edge = t.edge();
        needs.push(edge.is_some());
        edges.push(edge);
    }
    let before = saved_count();
    let backward: Box<dyn Backward> = Box::new(make(&needs));
    let saves_tensors = saved_count() != before;
    let node = Arc::new(Node {
        name,
        edges,
        backward: Mutex::new(Some(backward)),
        saves_tensors,
        location: Location::caller(),
        hooks: OnceBox::new(),
    });
    out.with_grad_fn(node)
}

impl Tensor {
    /// The edge a consumer of this tensor should send its gradient along.
    pub(crate) fn edge(&self) -> Option<Edge> {
        if let Some(node) = &self.0.grad_fn {
            return Some(Edge::Node(node.clone()));
        }
        let meta = self.0.meta()?;
        meta.requires_grad()
            .then(|| Edge::Leaf(Arc::downgrade(meta)))
    }

    /// Sets the grad_fn of a freshly made output.
    pub(crate) fn with_grad_fn(mut self, node: NodeRef) -> Tensor {
        match self.0.get_mut() {
            Some(inner) => {
                inner.grad_fn = Some(node);
                self
            }
            None => Tensor::from_parts(self.0.storage.clone(), self.0.layout.clone(), Some(node)),
        }
    }
}

/// Anything whose drop could recurse down a long graph.
type Garbage = (
    SmallVec<[Option<Edge>; 2]>,
    Option<Box<dyn Backward>>,
    OnceBox<NodeHooks>,
);

thread_local! {
    /// Set while this thread's outermost node drop is draining `DROP_QUEUE`.
    static DRAINING: Cell<bool> = const { Cell::new(false) };
    static DROP_QUEUE: RefCell<Vec<Garbage>> = const { RefCell::new(Vec::new()) };
}

/// Dropping a node drops its edges and saved tensors, which may drop the next node, and so on:
/// recursion as deep as the graph. Instead the outermost drop drains a queue, so a
/// 1,000,000-op chain is freed in constant stack.
impl Drop for Node {
    fn drop(&mut self) {
        let garbage: Garbage = (
            std::mem::take(&mut self.edges),
            self.backward.get_mut().take(),
            std::mem::take(&mut self.hooks),
        );
        match DRAINING.try_with(|d| d.replace(true)) {
            // Another drop up the stack is draining the queue; it will drop this garbage.
            // (If the queue is already torn down, the garbage is dropped with the closure.)
            Ok(true) => {
                let _ = DROP_QUEUE.try_with(|q| q.borrow_mut().push(garbage));
            }
            // The outermost drop: drop this node's garbage (which may queue more), then drain.
            Ok(false) => {
                drop(garbage);
                while let Some(item) = DROP_QUEUE.with(|q| q.borrow_mut().pop()) {
                    drop(item);
                }
                DRAINING.with(|d| d.set(false));
            }
            // Thread-local storage is being torn down: drop in place (recursion is the
            // lesser evil at thread exit).
            Err(_) => drop(garbage),
        }
    }
}

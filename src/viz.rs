//! A picture of the computation graph behind a tensor, as Graphviz DOT text, drawn the way
//! [torchviz](https://github.com/szagoruyko/pytorchviz)'s `make_dot` draws PyTorch's.
//!
//! ```
//! use tensorgrad::{tensor, viz};
//! let u = tensor!(3.0).set_requires_grad(true);
//! let v = tensor!(4.0).set_requires_grad(true);
//! let f = u.powi(2) + v.powi(3) + 2.0 * &u * &v + &u + &v;
//! let dot = viz::to_dot_named(&f, &[("u", &u), ("v", &v)]);
//! assert!(dot.starts_with("digraph {"));
//! assert!(dot.contains("[label=PowBackward0]"));
//! assert!(dot.contains("[label=\"u\\n()\\nrequires_grad=True\" fillcolor=lightblue]"));
//! ```
//!
//! Write it to a file,
//!
//! ```no_run
//! # let f = tensorgrad::tensor!(1.0);
//! std::fs::write("graph.dot", tensorgrad::viz::to_dot(&f))?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! and render it with Graphviz (`apt install graphviz`, `brew install graphviz`):
//!
//! ```text
//! dot -Tpng graph.dot -o graph.png
//! dot -Tsvg graph.dot -o graph.svg
//! ```
//!
//! or paste it into any online Graphviz viewer.
//!
//! # What the picture shows
//!
//! As in torchviz, arrows point the way values flow, from inputs to the ops that consume
//! them:
//!
//! - the output tensor, green (`darkolivegreen1`), labelled with its shape;
//! - one grey box per recorded op, labelled with its grad_fn name as PyTorch names it
//!   (`MulBackward0`, `PowBackward0`, ...);
//! - for each leaf that receives a gradient, an `AccumulateGrad` box fed by a blue
//!   (`lightblue`) box for the leaf itself: its name if given, shape, and `requires_grad`.
//!   A leaf whose tensor has since been dropped shows as `dropped leaf`.
//!
//! Inputs that do not require grad have no edge in the graph and do not appear.
//!
//! Node ids (`n0`, `n1`, ...) are numbered in breadth-first order from the output, following
//! each op's inputs in argument order, so the same computation always gives the same text
//! (fit for snapshot tests and diffs). The walk is iterative, so graphs a million ops deep
//! are fine.

use crate::autograd::node::{Edge, GradMeta, Node};
use crate::tensor::Tensor;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Weak};

/// The graph behind `output` in Graphviz DOT.
///
/// ```
/// use tensorgrad::{tensor, viz};
/// let x = tensor!([1.0, 2.0]).set_requires_grad(true);
/// let y = (3.0 * &x).sum();
/// assert_eq!(viz::to_dot(&y), "\
/// digraph {
/// \tgraph [size=\"12,12\"]
/// \tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]
/// \tn0 [label=\"()\" fillcolor=darkolivegreen1]
/// \tn1 [label=SumBackward0]
/// \tn1 -> n0
/// \tn2 [label=MulBackward0]
/// \tn2 -> n1
/// \tn3 [label=AccumulateGrad]
/// \tn4 [label=\"(2)\\nrequires_grad=True\" fillcolor=lightblue]
/// \tn4 -> n3
/// \tn3 -> n2
/// }
/// ");
/// ```
pub fn to_dot(output: &Tensor) -> String {
    to_dot_named(output, &[])
}

/// [`to_dot`] with names for some tensors, shown above their shapes, like torchviz's
/// `make_dot(y, params=dict(...))`. Names apply to leaves and to the output; a name given
/// for a tensor that is not in the graph is ignored.
///
/// ```
/// use tensorgrad::{tensor, viz};
/// let w = tensor!([[1.0, 2.0], [3.0, 4.0]]).set_requires_grad(true);
/// let x = tensor!([1.0, 1.0]);
/// let y = w.matmul(&x);
/// let dot = viz::to_dot_named(&y, &[("w", &w), ("y", &y)]);
/// assert!(dot.contains("[label=\"w\\n(2, 2)\\nrequires_grad=True\" fillcolor=lightblue]"));
/// assert!(dot.contains("[label=\"y\\n(2)\" fillcolor=darkolivegreen1]"));
/// ```
pub fn to_dot_named(output: &Tensor, names: &[(&str, &Tensor)]) -> String {
    let leaf_names: FxHashMap<*const GradMeta, &str> = names
        .iter()
        .filter_map(|&(name, t)| t.0.meta().map(|m| (Arc::as_ptr(m), name)))
        .collect();
    let output_name = names
        .iter()
        .find(|(_, t)| t.same(output))
        .map(|&(name, _)| name);

    let mut dot = Dot::default();
    dot.out.push_str("digraph {\n\tgraph [size=\"12,12\"]\n\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]\n");
    let root = dot.fresh();
    let mut label = named(output_name, &shape_str(output.shape()));
    if output.is_leaf() && output.requires_grad() {
        label.push_str("\\nrequires_grad=True");
    }
    dot.node(root, &quoted(&label), Some("darkolivegreen1"));

    let Some(grad_fn) = &output.0.grad_fn else {
        dot.out.push_str("}\n");
        return dot.out;
    };
    let mut ops: FxHashMap<*const Node, usize> = FxHashMap::default();
    let mut leaves: FxHashMap<*const GradMeta, usize> = FxHashMap::default();
    let first = dot.fresh();
    ops.insert(Arc::as_ptr(grad_fn), first);
    dot.node(first, grad_fn.name, None);
    dot.edge(first, root);
    let mut queue: VecDeque<(&Node, usize)> = VecDeque::from([(&**grad_fn, first)]);
    while let Some((node, id)) = queue.pop_front() {
        for edge in node.edges.iter().flatten() {
            let from = match edge {
                Edge::Node(child) => match ops.get(&Arc::as_ptr(child)) {
                    Some(&seen) => seen,
                    None => {
                        let child_id = dot.fresh();
                        ops.insert(Arc::as_ptr(child), child_id);
                        dot.node(child_id, child.name, None);
                        // The child lives as long as `node` holds its edge, which `output`
                        // keeps alive for the whole walk.
                        queue.push_back((&**child, child_id));
                        child_id
                    }
                },
                Edge::Leaf(meta) => match leaves.get(&Weak::as_ptr(meta)) {
                    Some(&seen) => seen,
                    None => {
                        let acc = dot.fresh();
                        leaves.insert(Weak::as_ptr(meta), acc);
                        dot.node(acc, "AccumulateGrad", None);
                        let var = dot.fresh();
                        let label = match meta.upgrade() {
                            Some(m) => {
                                let name = leaf_names.get(&Arc::as_ptr(&m)).copied();
                                format!(
                                    "{}\\nrequires_grad={}",
                                    named(name, &shape_str(&m.shape)),
                                    if m.requires_grad() { "True" } else { "False" }
                                )
                            }
                            None => "dropped leaf".to_string(),
                        };
                        dot.node(var, &quoted(&label), Some("lightblue"));
                        dot.edge(var, acc);
                        acc
                    }
                },
            };
            dot.edge(from, id);
        }
    }
    dot.out.push_str("}\n");
    dot.out
}

/// DOT text being written, and the next free node id.
#[derive(Default)]
struct Dot {
    out: String,
    next: usize,
}

impl Dot {
    fn fresh(&mut self) -> usize {
        self.next += 1;
        self.next - 1
    }

    /// `label` must already be a DOT id: a bare word or a quoted string.
    fn node(&mut self, id: usize, label: &str, fill: Option<&str>) {
        let _ = match fill {
            Some(color) => writeln!(self.out, "\tn{id} [label={label} fillcolor={color}]"),
            None => writeln!(self.out, "\tn{id} [label={label}]"),
        };
    }

    fn edge(&mut self, from: usize, to: usize) {
        let _ = writeln!(self.out, "\tn{from} -> n{to}");
    }
}

/// A shape as torchviz prints it: `()`, `(3)`, `(2, 3)`.
fn shape_str(shape: &[usize]) -> String {
    format!(
        "({})",
        shape
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// `name` (escaped) on a line above `rest`, when there is a name.
fn named(name: Option<&str>, rest: &str) -> String {
    match name {
        Some(n) => format!("{}\\n{rest}", n.replace('\\', "\\\\").replace('"', "\\\"")),
        None => rest.to_string(),
    }
}

fn quoted(label: &str) -> String {
    format!("\"{label}\"")
}

//! `viz::to_dot`: the graph behind a tensor as Graphviz DOT, checked against a snapshot and
//! for structure, determinism and depth.

use std::collections::HashSet;
use tensorgrad::{tensor, viz, Tensor};

/// The tutorial's `f = u**2 + v**3 + 2*u*v + u + v`. Its edges, read in this order, are the
/// ones PyTorch's graph has when walked breadth-first through `grad_fn.next_functions`
/// (AddBackward0 <- AddBackward0, AccumulateGrad(v); AddBackward0 <- AddBackward0,
/// AccumulateGrad(u); ... MulBackward0 <- AccumulateGrad(u)), checked with PyTorch 2.
const TUTORIAL_DOT: &str = r#"digraph {
	graph [size="12,12"]
	node [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]
	n0 [label="()" fillcolor=darkolivegreen1]
	n1 [label=AddBackward0]
	n1 -> n0
	n2 [label=AddBackward0]
	n2 -> n1
	n3 [label=AccumulateGrad]
	n4 [label="v\n()\nrequires_grad=True" fillcolor=lightblue]
	n4 -> n3
	n3 -> n1
	n5 [label=AddBackward0]
	n5 -> n2
	n6 [label=AccumulateGrad]
	n7 [label="u\n()\nrequires_grad=True" fillcolor=lightblue]
	n7 -> n6
	n6 -> n2
	n8 [label=AddBackward0]
	n8 -> n5
	n9 [label=MulBackward0]
	n9 -> n5
	n10 [label=PowBackward0]
	n10 -> n8
	n11 [label=PowBackward0]
	n11 -> n8
	n12 [label=MulBackward0]
	n12 -> n9
	n3 -> n9
	n6 -> n10
	n3 -> n11
	n6 -> n12
}
"#;

fn tutorial() -> (Tensor, Tensor, Tensor) {
    let u = tensor!(3.0).set_requires_grad(true);
    let v = tensor!(4.0).set_requires_grad(true);
    let f = u.powi(2) + v.powi(3) + 2.0 * &u * &v + &u + &v;
    (u, v, f)
}

#[test]
fn tutorial_graph_matches_snapshot() {
    let (u, v, f) = tutorial();
    assert_eq!(viz::to_dot_named(&f, &[("u", &u), ("v", &v)]), TUTORIAL_DOT);
}

#[test]
fn unnamed_leaves_show_shape_only() {
    let (_u, _v, f) = tutorial();
    let expected = TUTORIAL_DOT
        .replace("\"u\\n()", "\"()")
        .replace("\"v\\n()", "\"()");
    assert_eq!(viz::to_dot(&f), expected);
}

#[test]
fn output_is_deterministic_across_separately_built_graphs() {
    // Node ids come from the walk, not from addresses, so two runs of the same computation
    // (different allocations) print the same text.
    let a = tutorial();
    let b = tutorial();
    assert_eq!(viz::to_dot(&a.2), viz::to_dot(&b.2));
}

/// Node ids declared, and edges as (from, to) pairs, parsed from DOT text.
fn parse(dot: &str) -> (Vec<String>, Vec<(String, String)>) {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for line in dot.lines().map(str::trim) {
        if let Some((from, to)) = line.split_once(" -> ") {
            edges.push((from.to_string(), to.to_string()));
        } else if line.starts_with('n') && line.contains(" [label=") {
            nodes.push(line.split(' ').next().unwrap().to_string());
        }
    }
    (nodes, edges)
}

#[test]
fn every_edge_joins_declared_nodes_and_shared_leaves_appear_once() {
    let (_u, _v, f) = tutorial();
    let dot = viz::to_dot(&f);
    let (nodes, edges) = parse(&dot);
    let declared: HashSet<&String> = nodes.iter().collect();
    assert_eq!(
        declared.len(),
        nodes.len(),
        "a node is declared twice:\n{dot}"
    );
    for (from, to) in &edges {
        assert!(
            declared.contains(from) && declared.contains(to),
            "edge {from} -> {to} names an undeclared node:\n{dot}"
        );
    }
    // u and v feed several ops each, but each has one AccumulateGrad, as in PyTorch.
    assert_eq!(dot.matches("[label=AccumulateGrad]").count(), 2);
    // 8 ops + 2 AccumulateGrad + 2 leaves + the output.
    assert_eq!(nodes.len(), 13);
    // 13 op inputs (four AddBackward0 and u*v's MulBackward0 take two; 2*u's MulBackward0 and
    // the PowBackward0s take one), 2 leaf -> AccumulateGrad edges, 1 into the output.
    assert_eq!(edges.len(), 16);
}

#[test]
fn shapes_of_leaves_and_output_are_shown() {
    let w = Tensor::from_vec(vec![1.0f32; 6], &[2, 3])
        .unwrap()
        .set_requires_grad(true);
    let x = Tensor::from_vec(vec![1.0f32; 3], &[3]).unwrap();
    let y = w.matmul(&x);
    let dot = viz::to_dot_named(&y, &[("w", &w), ("x", &x)]);
    assert!(
        dot.contains("n0 [label=\"(2)\" fillcolor=darkolivegreen1]"),
        "{dot}"
    );
    assert!(
        dot.contains("[label=\"w\\n(2, 3)\\nrequires_grad=True\" fillcolor=lightblue]"),
        "{dot}"
    );
    // x does not require grad: it has no edge in the graph, so it is not drawn.
    assert!(!dot.contains("\"x\\n"), "{dot}");
}

#[test]
fn a_tensor_without_history_is_a_single_node() {
    let leaf = tensor!([1.0, 2.0]).set_requires_grad(true);
    let expected_leaf =
        "\tn0 [label=\"p\\n(2)\\nrequires_grad=True\" fillcolor=darkolivegreen1]\n}\n";
    assert!(viz::to_dot_named(&leaf, &[("p", &leaf)]).ends_with(expected_leaf));
    let plain = tensor!([[1.0], [2.0]]);
    let dot = viz::to_dot(&plain);
    assert!(
        dot.ends_with("\tn0 [label=\"(2, 1)\" fillcolor=darkolivegreen1]\n}\n"),
        "{dot}"
    );
    assert_eq!(parse(&dot).1.len(), 0);
}

#[test]
fn a_dropped_leaf_is_labelled_as_such() {
    // The leaf is a temporary: the graph reaches it only through a weak reference.
    let y = tensor!(2.0).set_requires_grad(true).powi(2);
    let dot = viz::to_dot(&y);
    assert!(
        dot.contains("[label=\"dropped leaf\" fillcolor=lightblue]"),
        "{dot}"
    );
}

#[test]
fn the_graph_can_still_be_drawn_after_backward() {
    let (u, v, f) = tutorial();
    let before = viz::to_dot_named(&f, &[("u", &u), ("v", &v)]);
    f.backward().unwrap();
    assert_eq!(viz::to_dot_named(&f, &[("u", &u), ("v", &v)]), before);
}

#[test]
fn a_million_op_chain_is_walked_without_recursion() {
    const DEPTH: usize = 1_000_000;
    let x = tensor!(1.0).set_requires_grad(true);
    let mut y = x.clone();
    for _ in 0..DEPTH {
        y = &y * 1.0;
    }
    let dot = viz::to_dot(&y);
    assert_eq!(dot.matches("[label=MulBackward0]").count(), DEPTH);
    // The last op in the walk feeds from x's AccumulateGrad.
    let acc = DEPTH + 1;
    assert!(
        dot.ends_with(&format!("\tn{acc} -> n{DEPTH}\n}}\n")),
        "{}",
        &dot[dot.len() - 200..]
    );
}

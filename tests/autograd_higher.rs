//! `autograd::grad` / `backward_with` to any order, retain_graph, hooks and retain_grad
//! without reference cycles, anomaly mode, gradcheck, and a million-op chain.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tensorgrad::autograd::{self, GradOptions};
use tensorgrad::gradcheck::{gradcheck, gradgradcheck, GradcheckOptions};
use tensorgrad::{tensor, BackwardOptions, DType, Error, Tensor};

fn f64s(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>()
}

// ----- grad / grad_with / backward_with -----------------------------------------------------

#[test]
fn mixed_partials_to_fourth_order() {
    // f(x, y) = x³y²: ∂²f/∂x² = 6xy², then ∂²/∂y² of that = 12x.
    let x = Tensor::scalar(1.5f64).set_requires_grad(true);
    let y = Tensor::scalar(-2.0f64).set_requires_grad(true);
    let f = x.powi(3) * y.powi(2);
    let fx = autograd::grad(&[&f], &[&x], true).unwrap().remove(0);
    let fxx = autograd::grad(&[&fx], &[&x], true).unwrap().remove(0);
    let fxxy = autograd::grad(&[&fxx], &[&y], true).unwrap().remove(0);
    let fxxyy = autograd::grad(&[&fxxy], &[&y], true).unwrap().remove(0);
    assert_eq!(
        [
            fx.item::<f64>(),
            fxx.item::<f64>(),
            fxxy.item::<f64>(),
            fxxyy.item::<f64>()
        ],
        [
            3.0 * 2.25 * 4.0,
            6.0 * 1.5 * 4.0,
            12.0 * 1.5 * -2.0,
            12.0 * 1.5
        ]
    );
    // Fifth order: ∂/∂x of 12x.
    let fxxyyx = autograd::grad(&[&fxxyy], &[&x], true).unwrap().remove(0);
    assert_eq!(fxxyyx.item::<f64>(), 12.0);
}

#[test]
fn backward_with_create_graph_gives_differentiable_grads() {
    let x = tensor!([1.0, -2.0], DType::F64).set_requires_grad(true);
    let y = x.powi(4).sum();
    y.backward_with(BackwardOptions::new().create_graph(true))
        .unwrap();
    let g = x.grad().unwrap(); // 4x³
    assert_eq!(f64s(&g), vec![4.0, -32.0]);
    assert!(g.requires_grad());
    let gg = autograd::grad(&[&g.sum()], &[&x], true).unwrap().remove(0); // 12x²
    let ggg = autograd::grad(&[&gg.sum()], &[&x], false)
        .unwrap()
        .remove(0); // 24x
    assert_eq!(
        (f64s(&gg), f64s(&ggg)),
        (vec![12.0, 48.0], vec![24.0, -48.0])
    );
}

#[test]
fn create_graph_grad_of_a_sum_can_be_accumulated_into_later() {
    // The gradient of a sum is an expanded view of ones; stored as .grad under create_graph it
    // must still accept the in-place accumulation of a later plain backward.
    let x = tensor!([1.0, 2.0, 3.0], DType::F64).set_requires_grad(true);
    x.sum()
        .backward_with(BackwardOptions::new().create_graph(true))
        .unwrap();
    (&x * 2.0).sum().backward().unwrap();
    assert_eq!(f64s(&x.grad().unwrap()), vec![3.0, 3.0, 3.0]);
}

#[test]
fn allow_unused() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let unused = tensor!([5.0]).set_requires_grad(true);
    let y = (&x * &x).sum();
    let err = autograd::grad_with(&[&y], &[&x, &unused], GradOptions::new().retain_graph(true))
        .unwrap_err();
    assert!(
        matches!(err, Error::Autograd { op: "grad", .. }) && err.to_string().contains("input 1"),
        "{err}"
    );
    let g =
        autograd::grad_with(&[&y], &[&x, &unused], GradOptions::new().allow_unused(true)).unwrap();
    assert_eq!(g[0].as_ref().unwrap().to_vec::<f32>(), vec![2.0, 4.0]);
    assert!(g[1].is_none());
}

#[test]
fn second_backward_through_a_freed_graph_is_an_error_naming_retain_graph() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let y = (&x * &x).sum();
    y.backward().unwrap();
    let err = y.backward().unwrap_err();
    assert_eq!(
        err,
        Error::GraphReleased {
            node: "MulBackward0"
        }
    );
    assert!(err.to_string().contains("retain_graph(true)"), "{err}");
    // The same through grad.
    let y = (&x * &x).sum();
    autograd::grad(&[&y], &[&x], false).unwrap();
    assert!(matches!(
        autograd::grad(&[&y], &[&x], false),
        Err(Error::GraphReleased { .. })
    ));

    // retain_graph keeps it: the second backward accumulates.
    x.zero_grad();
    let y = (&x * &x).sum();
    y.backward_with(BackwardOptions::new().retain_graph(true))
        .unwrap();
    y.backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![4.0, 8.0]);
    assert!(y.backward().is_err());

    // A graph whose ops saved no tensor can run again, as in PyTorch.
    x.zero_grad();
    let y = (&x + 1.0).sum();
    y.backward().unwrap();
    y.backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0, 2.0]);
}

#[test]
fn grad_with_respect_to_non_leaves_itself_and_repeated_inputs() {
    let x = tensor!([1.0, 3.0], DType::F64).set_requires_grad(true);
    let y = &x * &x; // non-leaf
    let z = y.powi(3).sum();
    // dz/dy = 3y², dz/dx = 3y²·2x = 6x⁵
    let g = autograd::grad_with(
        &[&z],
        &[&y, &x, &y, &z],
        GradOptions::new().retain_graph(true),
    )
    .unwrap();
    let g: Vec<Vec<f64>> = g.into_iter().map(|g| f64s(&g.unwrap())).collect();
    assert_eq!(
        g,
        vec![
            vec![3.0, 243.0],
            vec![6.0, 1458.0],
            vec![3.0, 243.0],
            vec![1.0]
        ]
    );
    // Of a leaf with respect to itself.
    assert_eq!(
        f64s(&autograd::grad(&[&x.sum()], &[&x], false).unwrap()[0]),
        vec![1.0, 1.0]
    );
    let xs = Tensor::scalar(2.0f64).set_requires_grad(true);
    assert_eq!(
        autograd::grad(&[&xs], &[&xs], false).unwrap()[0].item::<f64>(),
        1.0
    );
    // Of a non-leaf with respect to itself, with an explicit output gradient.
    let g = autograd::grad_with(
        &[&y],
        &[&y],
        GradOptions::new().grad_outputs(vec![tensor!([2.0, 5.0], DType::F64)]),
    )
    .unwrap();
    assert_eq!(f64s(g[0].as_ref().unwrap()), vec![2.0, 5.0]);
    assert!(x.grad().is_none(), "grad must not touch .grad");
}

#[test]
fn several_outputs_sum_their_gradients() {
    let x = tensor!([1.0, 2.0], DType::F64).set_requires_grad(true);
    let (a, b) = (x.powi(2).sum(), (&x * 3.0).sum());
    let g = autograd::grad(&[&a, &b], &[&x], false).unwrap();
    assert_eq!(f64s(&g[0]), vec![5.0, 7.0]);
    let (a, b) = (x.powi(2), &x * 3.0);
    let w = vec![
        tensor!([1.0, 0.0], DType::F64),
        tensor!([0.0, 10.0], DType::F64),
    ];
    autograd::backward(&[&a, &b], Some(&w), false, false).unwrap();
    assert_eq!(f64s(&x.grad().unwrap()), vec![2.0, 30.0]);
}

// ----- hooks, retain_grad, no reference cycles ------------------------------------------------

#[test]
fn hooks_inspect_and_replace_gradients_on_leaves_and_non_leaves() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let x = tensor!([1.0, 2.0], DType::F64).set_requires_grad(true);
    let y = &x * 3.0;
    let s = seen.clone();
    y.register_hook(move |g| {
        s.lock().unwrap().push(g.to_vec::<f64>());
        None
    })
    .unwrap();
    y.register_hook(|g| Some(g * 10.0)).unwrap(); // runs after the first, sees its output
    x.register_hook(|g| Some(g + 1.0)).unwrap();
    y.retain_grad();
    // y feeds two consumers: the hook must see the summed gradient, once.
    let z = (&y * 2.0).sum() + y.sum();
    z.backward().unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![vec![3.0, 3.0]]);
    // retain_grad stores the gradient after the hooks, as PyTorch does.
    assert_eq!(f64s(&y.grad().unwrap()), vec![30.0, 30.0]);
    assert_eq!(f64s(&x.grad().unwrap()), vec![91.0, 91.0]);
    assert!(
        tensor!([1.0]).register_hook(|_| None).is_err(),
        "a tensor without grad cannot take a hook"
    );
}

/// Counts its drops, so a test can tell whether what owns it was freed.
struct DropCounter(Arc<AtomicUsize>);
impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A hook that does nothing but own a `DropCounter`.
fn counting_hook(
    drops: &Arc<AtomicUsize>,
) -> impl Fn(&Tensor) -> Option<Tensor> + Send + Sync + 'static {
    let counter = DropCounter(drops.clone());
    move |_| {
        let _ = &counter;
        None
    }
}

#[test]
fn leaf_with_create_graph_grad_is_freed_when_dropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let x = tensor!([1.0, 2.0], DType::F64).set_requires_grad(true);
        x.register_hook(counting_hook(&drops)).unwrap();
        // x.grad = 3x² holds a graph that reads x: a cycle x → .grad → graph → x would leak.
        x.powi(3)
            .sum()
            .backward_with(BackwardOptions::new().create_graph(true))
            .unwrap();
        let g = x.grad().unwrap();
        assert!(g.requires_grad());
        // Differentiating .grad again still reaches x.
        let gg = autograd::grad(&[&g.sum()], &[&x], false).unwrap();
        assert_eq!(f64s(&gg[0]), vec![6.0, 12.0]);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
    }
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the leaf (and its hook) must be freed"
    );
}

#[test]
fn hooks_and_retain_grad_do_not_keep_graphs_alive() {
    let drops = Arc::new(AtomicUsize::new(0));
    let x = tensor!([1.0, 2.0], DType::F64).set_requires_grad(true);
    {
        let y = &x * &x;
        y.register_hook(counting_hook(&drops)).unwrap();
        y.retain_grad();
        let z = y.powi(2).sum();
        // y.grad = 2y is built with create_graph and reads y's node.
        z.backward_with(BackwardOptions::new().create_graph(true))
            .unwrap();
        assert_eq!(f64s(&y.grad().unwrap()), vec![2.0, 8.0]);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
    }
    // x.grad = 4x³ was built with create_graph from y's value, so its graph still holds y's
    // node (as in PyTorch); once x.grad goes, nothing may keep that node or its hook alive.
    assert_eq!(f64s(&x.grad().unwrap()), vec![4.0, 32.0]);
    x.zero_grad();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the non-leaf's node (and its hook) must be freed"
    );

    // A graph that is never run is freed too.
    {
        let y = x.powi(2);
        y.register_hook(counting_hook(&drops)).unwrap();
        let _z = y.sum();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn functional_transforms_leave_no_graph_behind() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let f = move |x: &Tensor| {
        let y = x.powi(3);
        if y.requires_grad() {
            y.register_hook(counting_hook(&d)).unwrap();
        }
        y.sum()
    };
    let x = tensor!([1.0, 2.0], DType::F64);
    let h = tensorgrad::functional::hessian(&f, &x).unwrap();
    assert_eq!(f64s(&h), vec![6.0, 0.0, 0.0, 12.0]);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the graph built by f must be freed with the result handed back"
    );
}

// ----- anomaly mode ----------------------------------------------------------------------------

/// Runs backward of `y.sum()` with anomaly detection on and returns the error's node name and
/// location.
fn anomaly_of(y: &Tensor) -> (&'static str, String) {
    match autograd::detect_anomaly(|| y.sum().backward()) {
        Err(Error::Anomaly { node, location, .. }) => (node, location),
        other => panic!("expected an anomaly error, got {other:?}"),
    }
}

fn here(line: u32) -> String {
    format!("{}:{line}:", file!())
}

#[test]
fn anomaly_mode_names_the_op_and_the_line_that_called_it() {
    let x = tensor!([0.0, 1.0], DType::F64).set_requires_grad(true);
    let zero = tensor!([0.0, 1.0], DType::F64).set_requires_grad(true);

    // x^0.5 at 0: the derivative 0.5·x^-0.5 is infinite.
    let (y, line) = (x.powf(0.5), line!());
    let (node, loc) = anomaly_of(&y);
    assert_eq!(node, "PowBackward0");
    assert!(
        loc.starts_with(&here(line)),
        "{loc} should be {}",
        here(line)
    );

    // Through the `/` operator: d(1/b)/db = -1/b² is infinite at 0.
    let (y, line) = (&x.add_scalar(1.0) / &zero, line!());
    let (node, loc) = anomaly_of(&y);
    assert_eq!(node, "DivBackward0");
    assert!(loc.starts_with(&here(line)), "{loc}");

    // Through `number / tensor`, which PyTorch records as reciprocal then mul.
    let (y, line) = (2.0 / &x, line!());
    let (node, loc) = anomaly_of(&y);
    assert_eq!(node, "ReciprocalBackward0");
    assert!(loc.starts_with(&here(line)), "{loc}");

    // Through `*` with an infinite factor, inside a longer expression: the op named is the
    // first whose gradient is not finite, on the line it was written.
    let inf = tensor!([f64::INFINITY, 1.0], DType::F64);
    let a = x.powi(2) + 1.0;
    let (y, line) = ((&a * &inf).mean(), line!());
    let (node, loc) = anomaly_of(&y);
    assert_eq!(node, "MulBackward0");
    assert!(loc.starts_with(&here(line)), "{loc}");

    // matmul and powi with a negative exponent, called as methods: m⁻¹ has an infinite
    // entry, so matmul's gradient for m (m⁻¹ᵀ·g) is the first to go non-finite.
    let m = tensor!([[0.0, 1.0], [1.0, 1.0]], DType::F64).set_requires_grad(true);
    let (y, line) = (m.powi(-1).matmul(&m), line!());
    let (node, loc) = anomaly_of(&y);
    assert_eq!(node, "MmBackward0");
    assert!(loc.starts_with(&here(line)), "{loc}");
    let (y, line) = (m.powi(-2), line!());
    let (node, loc) = anomaly_of(&y);
    assert_eq!(node, "PowBackward0");
    assert!(loc.starts_with(&here(line)), "{loc}");
    let (y, line) = (x.reciprocal().reshape([1, 2]), line!());
    let (node, loc) = anomaly_of(&y);
    assert_eq!(node, "ReciprocalBackward0");
    assert!(loc.starts_with(&here(line)), "{loc}");

    // The message says it all.
    let err = autograd::detect_anomaly(|| x.powf(0.5).sum().backward()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("PowBackward0") && msg.contains("infinite") && msg.contains(file!()),
        "{msg}"
    );
    // Off by default: the same backward succeeds (with an infinite gradient).
    x.powf(0.5).sum().backward().unwrap();
    assert!(x.grad().unwrap().to_vec::<f64>()[0].is_infinite());
}

#[test]
fn anomaly_mode_checks_the_backward_of_the_backward() {
    // The first derivative of x^1.5 is finite at 0, the second (0.75·x^-0.5) is not.
    let x = tensor!([0.0, 4.0], DType::F64).set_requires_grad(true);
    let (y, line) = (x.powf(1.5).sum(), line!());
    let g = autograd::detect_anomaly(|| autograd::grad(&[&y], &[&x], true))
        .unwrap()
        .remove(0);
    assert_eq!(f64s(&g), vec![0.0, 3.0]);
    let err = autograd::detect_anomaly(|| autograd::grad(&[&g.sum()], &[&x], false)).unwrap_err();
    match err {
        // The failing op is inside the recorded first backward (the library's PowBackward0
        // rule); the anomaly is found there, and reported as a PowBackward0.
        Error::Anomaly { node, .. } => assert_eq!(node, "PowBackward0", "line {line}"),
        other => panic!("{other}"),
    }
}

// ----- gradcheck ---------------------------------------------------------------------------------

#[test]
fn gradcheck_and_gradgradcheck_pass_on_composite_functions() {
    let w = Tensor::randn_with(&[3, 2], DType::F64);
    let c = tensor!([0.5, -1.0, 2.0], DType::F64);
    type F = Box<dyn Fn(&[Tensor]) -> Tensor>;
    let cases: Vec<(&str, F, Vec<Vec<usize>>)> = vec![
        (
            "rosenbrock",
            Box::new(|v: &[Tensor]| {
                let x = &v[0];
                let n = x.shape()[0];
                let (next, cur) = (x.narrow(0, 1, n - 1), x.narrow(0, 0, n - 1));
                ((&next - cur.powi(2)).powi(2) * 100.0 + (1.0 - &cur).powi(2)).sum()
            }),
            vec![vec![6]],
        ),
        (
            "matmul-div",
            Box::new(move |v: &[Tensor]| v[0].matmul(&w) / (v[1].powi(2) + 1.0)),
            vec![vec![4, 3], vec![2]],
        ),
        (
            "cross-dot",
            Box::new(move |v: &[Tensor]| v[0].cross(&c).cross(&v[1]).sum_dim([0], false).dot(&c)),
            vec![vec![2, 3], vec![2, 3]],
        ),
        (
            "powf-mean",
            Box::new(|v: &[Tensor]| (v[0].powf(1.7) * v[0].mean_dim([1], true)).reciprocal()),
            vec![vec![2, 3]],
        ),
        (
            "views",
            Box::new(|v: &[Tensor]| {
                v[0].t()
                    .reshape([-1])
                    .narrow(0, 1, 4)
                    .unsqueeze(1)
                    .expand([4, 2])
                    * v[1].squeeze(0)
            }),
            vec![vec![3, 2], vec![1, 2]],
        ),
    ];
    for (name, f, shapes) in cases {
        let inputs: Vec<Tensor> = shapes
            .iter()
            .map(|s| Tensor::rand_with(s, DType::F64) + 0.5)
            .collect();
        let report = gradcheck(&f, &inputs, GradcheckOptions::default()).unwrap();
        assert!(report.passed, "{name}: {report}");
        let report = gradgradcheck(&f, &inputs, GradcheckOptions::default()).unwrap();
        assert!(report.passed, "{name}: {report}");
    }
}

#[test]
fn gradcheck_fails_on_a_wrong_gradient_and_names_the_element() {
    // A hook scales the gradient of element 2 only: autograd is then wrong exactly there.
    let f = |v: &[Tensor]| {
        let y = v[0].powi(2);
        if y.requires_grad() {
            y.register_hook(|g| Some(g * tensor!([1.0, 1.0, 1.5, 1.0], DType::F64)))
                .unwrap();
        }
        y
    };
    let x = tensor!([0.5, -3.0, 2.0, 1.0], DType::F64);
    let report = gradcheck(f, std::slice::from_ref(&x), GradcheckOptions::default()).unwrap();
    assert!(!report.passed);
    assert_eq!(
        (report.input, report.input_element, report.output_element),
        (0, 2, 2)
    );
    assert!(
        (report.analytical - 6.0).abs() < 1e-12 && (report.numerical - 4.0).abs() < 1e-6,
        "{report}"
    );
    assert!(
        report
            .to_string()
            .starts_with("gradcheck failed: worst element is d output[2] / d input 0[2]"),
        "{report}"
    );

    // With every element wrong, the report names the largest error: element 1 (|x| = 3).
    let f = |v: &[Tensor]| {
        let y = v[0].powi(2);
        if y.requires_grad() {
            y.register_hook(|g| Some(g * 1.5)).unwrap();
        }
        y
    };
    let report = gradcheck(f, &[x], GradcheckOptions::default()).unwrap();
    assert!(!report.passed);
    assert_eq!(
        (report.input_element, report.output_element),
        (1, 1),
        "{report}"
    );
}

// ----- long chains -------------------------------------------------------------------------------

#[test]
fn million_op_chain_backward_and_drop_in_constant_stack() {
    // Runs on the default 2 MiB test thread: recursion anywhere in backward or drop would
    // overflow it long before a million nodes.
    let x = Tensor::scalar(1.0f64).set_requires_grad(true);
    let mut y = x.clone();
    for _ in 0..1_000_000 {
        y = y.mul_scalar(1.0000001);
    }
    y.backward_with(BackwardOptions::new().retain_graph(true))
        .unwrap();
    let expected = 1.0000001f64.powi(1_000_000);
    assert!((x.grad().unwrap().item::<f64>() - expected).abs() < 1e-9 * expected);
    drop(y);

    // A chain whose nodes save tensors, dropped without running backward.
    let mut y = x.clone();
    for _ in 0..1_000_000 {
        y = &y * &x;
    }
    drop(y);
}

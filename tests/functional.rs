//! `tensorgrad::functional` against PyTorch (`torch.autograd.functional`, fixtures made by
//! scripts/fixtures/functional.py), against closed forms, and forward mode against reverse.

use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use tensorgrad::functional::{self, Options};
use tensorgrad::{autograd, tensor, DType, Error, Tensor};

fn fixtures() -> Value {
    serde_json::from_str(include_str!("fixtures/functional.json")).expect("valid fixture JSON")
}

/// A `{"shape": [...], "data": [...]}` fixture entry as an f64 tensor.
fn tensor_of(v: &Value) -> Tensor {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap() as usize)
        .collect();
    let data: Vec<f64> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_f64().unwrap())
        .collect();
    Tensor::from_vec(data, &shape).unwrap()
}

/// Shape equal, and every element within `1e-10` relative (or `1e-12` absolute).
fn assert_close(got: &Tensor, want: &Tensor, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (i, (g, w)) in got
        .to_vec::<f64>()
        .iter()
        .zip(want.to_vec::<f64>())
        .enumerate()
    {
        assert!(
            (g - w).abs() <= 1e-12 + 1e-10 * w.abs(),
            "{what}: element {i} is {g}, expected {w}"
        );
    }
}

/// The Rosenbrock function, Σ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)².
fn rosenbrock(x: &Tensor) -> Tensor {
    let n = x.shape()[0];
    let (next, cur) = (x.narrow(0, 1, n - 1), x.narrow(0, 0, n - 1));
    ((&next - cur.powi(2)).powi(2) * 100.0 + (1.0 - &cur).powi(2)).sum()
}

/// The Rust twins of the functions in scripts/fixtures/functional.py, by name.
fn fixture_function(name: &str, fx: &Value) -> Box<dyn Fn(&Tensor) -> Tensor> {
    let (a, w, c) = (
        tensor_of(&fx["A"]),
        tensor_of(&fx["W"]),
        tensor_of(&fx["C"]),
    );
    match name {
        "matvec" => Box::new(move |x| a.matmul(&x.powi(2)) + x.sum() / 2.0),
        "matmul2d" => Box::new(move |x| x.matmul(&w).powi(2) / 3.0),
        "cross" => Box::new(move |x| x.cross(&c) * x),
        "broadcast" => Box::new(|x| (x.unsqueeze(1) * x.unsqueeze(0) * x).sum_dim([0], false)),
        "views" => Box::new(|x| {
            x.reshape([2, 3]).t().narrow(0, 1, 2).permute([1, 0])
                * x.narrow(0, 0, 2).reshape([2, 1])
        }),
        "rational_sum" => Box::new(|x| (x / (1.0 + x.powi(2))).sum()),
        "quartic_mean" => Box::new(|x| {
            (x.powi(4) - x.powi(2) * 3.0).mean()
                + (x.narrow(0, 0, 1) * x.narrow(0, 1, 1) * x.narrow(0, 2, 1)).sum()
        }),
        "rosen5" => Box::new(rosenbrock),
        "matrix_scalar" => Box::new(|x| x.matmul(&x.t()).powi(2).sum() / (1.0 + x.powi(2).sum())),
        other => panic!("no Rust twin for fixture function {other}"),
    }
}

fn scalar_function(name: &str) -> fn(&Tensor) -> Tensor {
    match name {
        "poly_recip" => |x| x.powi(6) - 2.0 * x.powi(3) + x.reciprocal(),
        "sqrt" => |x| x.powf(0.5),
        "rational" => |x| (x.powi(3) + 1.0) / (x.powi(2) + 1.0),
        "powf_mix" => |x| x.powf(2.5) * (3.0 - x),
        other => panic!("no Rust twin for scalar function {other}"),
    }
}

/// f, f′, …, f⁽⁵⁾ in closed form, where one is written down here.
fn closed_form(name: &str, x: f64) -> Option<Vec<f64>> {
    match name {
        "poly_recip" => Some(vec![
            x.powi(6) - 2.0 * x.powi(3) + 1.0 / x,
            6.0 * x.powi(5) - 6.0 * x.powi(2) - x.powi(-2),
            30.0 * x.powi(4) - 12.0 * x + 2.0 * x.powi(-3),
            120.0 * x.powi(3) - 12.0 - 6.0 * x.powi(-4),
            360.0 * x.powi(2) + 24.0 * x.powi(-5),
            720.0 * x - 120.0 * x.powi(-6),
        ]),
        // dᵏ/dxᵏ x^½ = ½(½ − 1)…(½ − k + 1) x^(½ − k)
        "sqrt" => Some(
            (0..6)
                .map(|k| {
                    let coeff: f64 = (0..k).map(|j| 0.5 - j as f64).product();
                    coeff * x.powf(0.5 - k as f64)
                })
                .collect(),
        ),
        _ => None,
    }
}

#[test]
fn fifth_derivatives_by_repeated_grad_match_pytorch_and_closed_forms() {
    let fx = fixtures();
    let cases = fx["derivatives"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let x0 = case["x"].as_f64().unwrap();
        let torch: Vec<f64> = case["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let x = Tensor::scalar(x0).set_requires_grad(true);
        let mut d = scalar_function(name)(&x);
        let mut ours = vec![d.item::<f64>()];
        for _ in 1..torch.len() {
            d = autograd::grad(&[&d], &[&x], true).unwrap().remove(0);
            ours.push(d.item::<f64>());
        }
        for (order, (o, t)) in ours.iter().zip(&torch).enumerate() {
            assert!(
                (o - t).abs() <= 1e-10 * t.abs().max(1.0),
                "{name} at {x0}: order {order}: ours {o}, PyTorch {t}"
            );
        }
        if let Some(closed) = closed_form(name, x0) {
            for (order, (o, c)) in ours.iter().zip(&closed).enumerate() {
                assert!(
                    (o - c).abs() <= 1e-10 * c.abs().max(1.0),
                    "{name} at {x0}: order {order}: ours {o}, closed form {c}"
                );
            }
        }
    }
}

#[test]
fn transforms_match_pytorch_functional() {
    let fx = fixtures();
    let cases = fx["functional"].as_array().unwrap();
    let mut hessians = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let f = fixture_function(name, &fx);
        let (x, v_in, v_out) = (
            tensor_of(&case["x"]),
            tensor_of(&case["v_in"]),
            tensor_of(&case["v_out"]),
        );
        let jac = tensor_of(&case["jacobian"]);
        assert_close(&f(&x), &tensor_of(&case["y"]), &format!("{name}: f(x)"));
        assert_close(
            &functional::jacobian(&f, &x).unwrap(),
            &jac,
            &format!("{name}: jacobian"),
        );
        assert_close(
            &functional::jacfwd(&f, &x).unwrap(),
            &jac,
            &format!("{name}: jacfwd"),
        );
        let (y, g) = functional::vjp(&f, &x, &v_out).unwrap();
        assert_close(&y, &tensor_of(&case["y"]), &format!("{name}: vjp's f(x)"));
        assert_close(&g, &tensor_of(&case["vjp"]), &format!("{name}: vjp"));
        let (y, t) = functional::jvp(&f, &x, &v_in).unwrap();
        assert_close(&y, &tensor_of(&case["y"]), &format!("{name}: jvp's f(x)"));
        assert_close(&t, &tensor_of(&case["jvp"]), &format!("{name}: jvp"));
        if case.get("hessian").is_some() {
            hessians += 1;
            assert_close(
                &functional::hessian(&f, &x).unwrap(),
                &tensor_of(&case["hessian"]),
                &format!("{name}: hessian"),
            );
            let (_, hv) = functional::hvp(&f, &x, &v_in).unwrap();
            assert_close(&hv, &tensor_of(&case["hvp"]), &format!("{name}: hvp"));
        }
        // Results are plain values.
        assert!(!g.requires_grad() && !t.requires_grad() && !y.requires_grad());
    }
    assert!(cases.len() >= 9 && hessians >= 4);
}

#[test]
fn multi_input_transforms_match_pytorch_functional() {
    let fx = fixtures();
    let case = &fx["multi"];
    let xs: Vec<Tensor> = case["xs"]
        .as_array()
        .unwrap()
        .iter()
        .map(tensor_of)
        .collect();
    let vs: Vec<Tensor> = case["vs"]
        .as_array()
        .unwrap()
        .iter()
        .map(tensor_of)
        .collect();
    let f = |v: &[Tensor]| v[0].matmul(&v[1]).powi(2).sum() + (&v[0] * &v[0]).sum() * v[1].sum();
    let list = |key: &str| -> Vec<Tensor> {
        case[key]
            .as_array()
            .unwrap()
            .iter()
            .map(tensor_of)
            .collect()
    };

    let jac = functional::jacobian_multi(f, &xs).unwrap();
    let jac_fwd = functional::jacfwd_multi(f, &xs).unwrap();
    for (k, want) in list("jacobian").iter().enumerate() {
        assert_close(&jac[k], want, &format!("jacobian {k}"));
        assert_close(&jac_fwd[k], want, &format!("jacfwd {k}"));
    }
    let h = functional::hessian_multi(f, &xs).unwrap();
    for (i, row) in case["hessian"].as_array().unwrap().iter().enumerate() {
        for (j, want) in row.as_array().unwrap().iter().enumerate() {
            assert_close(
                &h[i][j],
                &tensor_of(want),
                &format!("hessian block [{i}][{j}]"),
            );
        }
    }
    let (y, g) = functional::vjp_multi(f, &xs, &tensor_of(&case["v_out"])).unwrap();
    assert_close(&y, &tensor_of(&case["y"]), "f(xs)");
    for (k, want) in list("vjp").iter().enumerate() {
        assert_close(&g[k], want, &format!("vjp {k}"));
    }
    let (_, t) = functional::jvp_multi(f, &xs, &vs).unwrap();
    assert_close(&t, &tensor_of(&case["jvp"]), "jvp");
    let (_, hv) = functional::hvp_multi(f, &xs, &vs).unwrap();
    for (k, want) in list("hvp").iter().enumerate() {
        assert_close(&hv[k], want, &format!("hvp {k}"));
    }
}

/// The Rosenbrock Hessian written out: tridiagonal, with
/// H[i][i] = 1200xᵢ² − 400xᵢ₊₁ + 2 (i < n−1) + 200 (i > 0) and H[i][i+1] = −400xᵢ.
fn rosenbrock_hessian(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut h = vec![0.0; n * n];
    for i in 0..n {
        if i + 1 < n {
            h[i * n + i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
            h[i * n + i + 1] = -400.0 * x[i];
            h[(i + 1) * n + i] = -400.0 * x[i];
        }
        if i > 0 {
            h[i * n + i] += 200.0;
        }
    }
    h
}

#[test]
fn rosenbrock_hessian_matches_closed_form() {
    for n in [5usize, 100] {
        let xv: Vec<f64> = (0..n).map(|i| ((i * 7 % 11) as f64 - 5.0) / 3.0).collect();
        let x = Tensor::from_vec(xv.clone(), &[n]).unwrap();
        let want = Tensor::from_vec(rosenbrock_hessian(&xv), &[n, n]).unwrap();
        assert_close(
            &functional::hessian(rosenbrock, &x).unwrap(),
            &want,
            &format!("hessian n={n}"),
        );
        // Row by row through hvp with unit vectors, too.
        for i in [0, n / 2, n - 1] {
            let mut e = vec![0.0; n];
            e[i] = 1.0;
            let (_, hv) =
                functional::hvp(rosenbrock, &x, &Tensor::from_vec(e, &[n]).unwrap()).unwrap();
            assert_close(
                &hv,
                &want.narrow(0, i, 1).reshape([n as isize]),
                &format!("hvp row {i}, n={n}"),
            );
        }
    }
}

#[test]
fn forward_and_reverse_jacobians_agree() {
    let w = Tensor::randn_with(&[3, 4], DType::F64);
    let c = tensor!([0.3, -1.0, 2.0], DType::F64);
    type Case = (&'static str, Box<dyn Fn(&Tensor) -> Tensor>, Vec<usize>);
    let functions: Vec<Case> = vec![
        (
            "matmul",
            Box::new(move |x: &Tensor| x.matmul(&w).powi(2)),
            vec![2, 3],
        ),
        (
            "batched matmul",
            Box::new(|x: &Tensor| x.matmul(&x.transpose(-1, -2)) / 2.0),
            vec![2, 2, 3],
        ),
        (
            "cross",
            Box::new(move |x: &Tensor| x.cross(&c).cross(x)),
            vec![4, 3],
        ),
        (
            "broadcast",
            Box::new(|x: &Tensor| &x.unsqueeze(0) / (x.unsqueeze(1).powi(2) + 1.0)),
            vec![3],
        ),
        (
            "views",
            Box::new(|x: &Tensor| {
                x.permute([2, 0, 1])
                    .reshape([4, 3])
                    .narrow(0, 1, 2)
                    .t()
                    .expand([2, 3, 2])
                    * 2.0
            }),
            vec![3, 1, 4],
        ),
        (
            "reductions",
            Box::new(|x: &Tensor| x.sum_dim([1], true) * x.mean_dim([0], false) + x.mean()),
            vec![3, 2],
        ),
        ("dot", Box::new(|x: &Tensor| x.dot(&x.powf(1.5))), vec![5]),
        (
            "scalar in",
            Box::new(|x: &Tensor| Tensor::ones_dtype(&[3], DType::F64) * x.powi(3)),
            vec![],
        ),
    ];
    for (name, f, shape) in functions {
        // Positive values, so powf(1.5) is defined.
        let x = Tensor::rand_with(&shape, DType::F64) + 0.5;
        let rev = functional::jacrev(&f, &x).unwrap();
        let fwd = functional::jacfwd(&f, &x).unwrap();
        let mut expected_shape = f(&x).shape().to_vec();
        expected_shape.extend(&shape);
        assert_eq!(rev.shape(), &expected_shape[..], "{name}");
        assert_close(&fwd, &rev, name);
        // And against finite differences, so agreeing cannot hide a shared mistake.
        let report =
            tensorgrad::gradcheck::gradcheck(|v: &[Tensor]| f(&v[0]), &[x], Default::default())
                .unwrap();
        assert!(report.passed, "{name}: {report}");
    }
    // A non-contiguous input.
    let x = Tensor::rand_with(&[3, 2], DType::F64).t();
    let f = |x: &Tensor| x.powi(2).sum_dim([0], false);
    assert_close(
        &functional::jacfwd(f, &x).unwrap(),
        &functional::jacrev(f, &x).unwrap(),
        "transposed input",
    );
}

#[test]
fn jvp_is_one_forward_pass_on_a_dual_tensor() {
    let calls = AtomicUsize::new(0);
    let f = |x: &Tensor| {
        calls.fetch_add(1, Ordering::Relaxed);
        // Native forward mode: the input carries the tangent and no backward graph is built.
        assert!(x.tangent().is_some(), "jvp must pass a dual tensor");
        assert!(!x.requires_grad(), "jvp must not record a backward graph");
        x.powi(3).sum_dim([0], false)
    };
    let x = tensor!([[1.0, 2.0], [3.0, 4.0]], DType::F64);
    let v = tensor!([[1.0, 0.0], [0.0, 1.0]], DType::F64);
    let (y, t) = functional::jvp(f, &x, &v).unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    assert_eq!(y.to_vec::<f64>(), vec![28.0, 72.0]);
    assert_eq!(t.to_vec::<f64>(), vec![3.0, 48.0]); // 3x²·v
                                                    // jacfwd: one forward pass per input element.
    calls.store(0, Ordering::Relaxed);
    functional::jacfwd(f, &x).unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 4);
}

#[test]
fn wrong_shapes_and_non_scalar_outputs_are_typed_errors() {
    let x = tensor!([1.0, 2.0, 3.0], DType::F64);
    let f = |x: &Tensor| x.powi(2);
    let short = tensor!([1.0, 2.0], DType::F64);
    for (op, err) in [
        ("jvp", functional::jvp(f, &x, &short).unwrap_err()),
        ("vjp", functional::vjp(f, &x, &short).unwrap_err()),
        (
            "hvp",
            functional::hvp(|x: &Tensor| x.sum(), &x, &short).unwrap_err(),
        ),
    ] {
        match err {
            Error::ShapeMismatch {
                op: o, lhs, rhs, ..
            } => assert_eq!((o, lhs, rhs), (op, vec![2], vec![3]), "{op}"),
            other => panic!("{op}: expected ShapeMismatch, got {other}"),
        }
    }
    let f32_v = tensor!([1.0, 2.0, 3.0]);
    assert!(matches!(
        functional::jvp(f, &x, &f32_v),
        Err(Error::DTypeMismatch { op: "jvp", .. })
    ));
    for (op, err) in [
        ("hessian", functional::hessian(f, &x).unwrap_err()),
        ("hvp", functional::hvp(f, &x, &x).unwrap_err()),
    ] {
        match &err {
            Error::ShapeMismatch { op: o, lhs, .. } => assert_eq!((*o, lhs.clone()), (op, vec![3])),
            other => panic!("{op}: expected ShapeMismatch, got {other}"),
        }
        assert!(err.to_string().contains("one-element"), "{err}");
    }
    let two = [x.clone(), x.clone()];
    assert!(matches!(
        functional::jvp_multi(|v: &[Tensor]| &v[0] + &v[1], &two, std::slice::from_ref(&x)),
        Err(Error::InvalidArgument { op: "jvp", .. })
    ));
    assert!(matches!(
        functional::jacobian_multi(|v: &[Tensor]| v[0].clone(), &[]),
        Err(Error::InvalidArgument { op: "jacobian", .. })
    ));
}

#[test]
fn outputs_independent_of_the_input_give_zeros_or_a_strict_error() {
    let x = tensor!([1.0, 2.0], DType::F64);
    let constant = |_: &Tensor| tensor!([5.0, 6.0, 7.0], DType::F64);
    let zeros = |shape: &[usize]| Tensor::zeros_dtype(shape, DType::F64);
    assert_close(
        &functional::jacobian(constant, &x).unwrap(),
        &zeros(&[3, 2]),
        "jacobian of a constant",
    );
    assert_close(
        &functional::jacfwd(constant, &x).unwrap(),
        &zeros(&[3, 2]),
        "jacfwd of a constant",
    );
    assert_close(
        &functional::vjp(constant, &x, &tensor!([1.0, 1.0, 1.0], DType::F64))
            .unwrap()
            .1,
        &zeros(&[2]),
        "vjp of a constant",
    );
    assert_close(
        &functional::jvp(constant, &x, &x).unwrap().1,
        &zeros(&[3]),
        "jvp of a constant",
    );
    // Linear: the gradient is constant, so the Hessian is zero.
    let linear = |x: &Tensor| (x * 3.0).sum();
    assert_close(
        &functional::hessian(linear, &x).unwrap(),
        &zeros(&[2, 2]),
        "hessian of a linear function",
    );
    assert_close(
        &functional::hvp(linear, &x, &x).unwrap().1,
        &zeros(&[2]),
        "hvp of a linear function",
    );
    // One of two inputs unused.
    let f = |v: &[Tensor]| v[0].powi(2).sum();
    let xs = [x.clone(), tensor!([[1.0, 2.0]], DType::F64)];
    let j = functional::jacobian_multi(f, &xs).unwrap();
    assert_close(&j[1], &zeros(&[1, 2]), "jacobian w.r.t. an unused input");
    let h = functional::hessian_multi(f, &xs).unwrap();
    assert_close(
        &h[0][0],
        &tensor!([[2.0, 0.0], [0.0, 2.0]], DType::F64),
        "used block",
    );
    assert_close(&h[0][1], &zeros(&[2, 1, 2]), "mixed block");
    assert_close(&h[1][1], &zeros(&[1, 2, 1, 2]), "unused block");

    let strict = Options::new().strict(true);
    for result in [
        functional::jacobian_with(f, &xs, strict).map(|_| ()),
        functional::jacfwd_with(f, &xs, strict).map(|_| ()),
        functional::vjp_with(f, &xs, &Tensor::scalar(1.0), strict).map(|_| ()),
        functional::hessian_with(f, &xs, strict).map(|_| ()),
        functional::jvp_with(
            |v: &[Tensor]| constant(&v[0]),
            std::slice::from_ref(&x),
            std::slice::from_ref(&x),
            strict,
        )
        .map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::Autograd { .. }) && err.to_string().contains("strict"),
            "{err}"
        );
    }
}

#[test]
fn create_graph_results_can_be_differentiated_again() {
    let x = tensor!([0.5, 2.0], DType::F64).set_requires_grad(true);
    let cube = |v: &[Tensor]| v[0].powi(3).sum();
    let opts = Options::new().create_graph(true);

    // Hessian diag(6x); d/dx of its trace = 6 per element.
    let h = functional::hessian_with(cube, std::slice::from_ref(&x), opts)
        .unwrap()
        .remove(0)
        .remove(0);
    assert!(h.requires_grad());
    let d = autograd::grad(&[&h.sum()], &[&x], false).unwrap().remove(0);
    assert_eq!(d.to_vec::<f64>(), vec![6.0, 6.0]);

    // hvp(v) = 6x·v; differentiate ⟨hvp, 1⟩ w.r.t. x and v.
    let v = tensor!([1.0, -1.0], DType::F64).set_requires_grad(true);
    let (_, hv) = functional::hvp_with(
        cube,
        std::slice::from_ref(&x),
        std::slice::from_ref(&v),
        opts,
    )
    .unwrap();
    let g = autograd::grad(&[&hv[0].sum()], &[&x, &v], false).unwrap();
    assert_eq!(
        (g[0].to_vec::<f64>(), g[1].to_vec::<f64>()),
        (vec![6.0, -6.0], vec![3.0, 12.0])
    );

    // jvp = 3x²·v (forward mode under create_graph): d/dx = 6x·v, d/dv = 3x².
    let (_, t) = functional::jvp_with(
        cube,
        std::slice::from_ref(&x),
        std::slice::from_ref(&v),
        opts,
    )
    .unwrap();
    let g = autograd::grad(&[&t], &[&x, &v], false).unwrap();
    assert_eq!(
        (g[0].to_vec::<f64>(), g[1].to_vec::<f64>()),
        (vec![3.0, -12.0], vec![0.75, 12.0])
    );

    // vjp(v) = v·3x² for f(x) = x³ (element-wise): d/dv = 3x².
    let (_, g) = functional::vjp_with(
        |v: &[Tensor]| v[0].powi(3),
        std::slice::from_ref(&x),
        &v,
        opts,
    )
    .unwrap();
    let dv = autograd::grad(&[&g[0].sum()], &[&v], false)
        .unwrap()
        .remove(0);
    assert_eq!(dv.to_vec::<f64>(), vec![0.75, 12.0]);

    // jacfwd and jacobian under create_graph: the Jacobian diag(3x²) differentiates to 6x.
    for jac in [
        functional::jacobian_with(|v: &[Tensor]| v[0].powi(3), std::slice::from_ref(&x), opts),
        functional::jacfwd_with(|v: &[Tensor]| v[0].powi(3), std::slice::from_ref(&x), opts),
    ] {
        let j = jac.unwrap().remove(0);
        let d = autograd::grad(&[&j.sum()], &[&x], false).unwrap().remove(0);
        assert_eq!(d.to_vec::<f64>(), vec![3.0, 12.0]);
    }

    // Without create_graph, nothing is connected to x and x.grad is untouched.
    let h = functional::hessian(|v: &Tensor| v.powi(3).sum(), &x).unwrap();
    assert!(!h.requires_grad() && x.grad().is_none());
}

#[test]
fn transforms_work_inside_no_grad_and_in_f32() {
    let x = tensor!([1.0, 2.0]);
    let h = tensorgrad::no_grad(|| functional::hessian(|v: &Tensor| v.powi(3).sum(), &x)).unwrap();
    assert_eq!(h.dtype(), DType::F32);
    assert_eq!(h.to_vec::<f32>(), vec![6.0, 0.0, 0.0, 12.0]);
    let (_, t) = tensorgrad::no_grad(|| functional::jvp(|v: &Tensor| v.powi(2), &x, &x)).unwrap();
    assert_eq!(t.to_vec::<f32>(), vec![2.0, 8.0]);
    // 0-d input: the Hessian is 0-d too.
    let h = functional::hessian(|v: &Tensor| v.powi(4), &Tensor::scalar(2.0f64)).unwrap();
    assert_eq!((h.shape(), h.item::<f64>()), (&[][..], 48.0));
}

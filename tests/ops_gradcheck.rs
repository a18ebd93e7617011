//! Every differentiable op in f64: first derivatives against finite differences
//! (`gradcheck`), second derivatives through `create_graph` (`gradgradcheck`), and the
//! forward-mode tangent of a dual tensor against the reverse-mode Jacobian times the same
//! direction. Inputs sit away from points where an op is not differentiable (ties, kinks,
//! clamp boundaries).

use tensorgrad::autograd::{grad_with, GradOptions};
use tensorgrad::forward_ad::{make_dual, unpack_dual};
use tensorgrad::gradcheck::{gradcheck, gradgradcheck};
use tensorgrad::{manual_seed, DType, Tensor};

type OpFn = Box<dyn Fn(&[Tensor]) -> Tensor>;

struct Case {
    name: &'static str,
    inputs: Vec<Tensor>,
    f: OpFn,
}

fn case(
    name: &'static str,
    inputs: Vec<Tensor>,
    f: impl Fn(&[Tensor]) -> Tensor + 'static,
) -> Case {
    Case {
        name,
        inputs,
        f: Box::new(f),
    }
}

fn randn(shape: &[usize]) -> Tensor {
    Tensor::randn_with(shape, DType::F64)
}

/// Uniform in [lo, hi).
fn uniform(lo: f64, hi: f64, shape: &[usize]) -> Tensor {
    Tensor::rand_with(shape, DType::F64)
        .mul_scalar(hi - lo)
        .add_scalar(lo)
}

/// Distinct values (a shuffled, scaled range), so max/min/maximum have no ties.
fn distinct(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| ((i * 7919) % n) as f64 * 0.37 - 1.0 + 0.01 * i as f64)
        .collect();
    Tensor::from_vec(v, shape).unwrap()
}

fn f64s(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}

/// Values whose magnitude is in [0.3, 2), with both signs: away from kinks at 0.
fn away_from_zero(shape: &[usize]) -> Tensor {
    let mag = uniform(0.3, 2.0, shape);
    let sign = uniform(-1.0, 1.0, shape).sign();
    let sign = sign.eq_scalar(0.0).add(&sign);
    &mag * &sign
}

fn cases() -> Vec<Case> {
    manual_seed(7);
    let x34 = || randn(&[3, 4]);
    let pos34 = || uniform(0.5, 2.0, &[3, 4]);
    vec![
        // unary
        case("neg", vec![x34()], |v| v[0].neg()),
        case("abs", vec![away_from_zero(&[3, 4])], |v| v[0].abs()),
        case("exp", vec![x34()], |v| v[0].exp()),
        case("log", vec![pos34()], |v| v[0].log()),
        case("log1p", vec![uniform(-0.5, 2.0, &[3, 4])], |v| v[0].log1p()),
        case("sqrt", vec![pos34()], |v| v[0].sqrt()),
        case("sin", vec![x34()], |v| v[0].sin()),
        case("cos", vec![x34()], |v| v[0].cos()),
        case("tan", vec![uniform(-1.0, 1.0, &[3, 4])], |v| v[0].tan()),
        case("tanh", vec![x34()], |v| v[0].tanh()),
        case("sigmoid", vec![x34()], |v| v[0].sigmoid()),
        case("relu", vec![away_from_zero(&[3, 4])], |v| v[0].relu()),
        case("gelu", vec![x34()], |v| v[0].gelu()),
        case("erf", vec![x34()], |v| v[0].erf()),
        case("erfc", vec![x34()], |v| v[0].erfc()),
        case("sign", vec![away_from_zero(&[3, 4])], |v| v[0].sign()),
        case("reciprocal", vec![away_from_zero(&[3, 4])], |v| {
            v[0].reciprocal()
        }),
        // powers
        case("powi", vec![x34()], |v| v[0].powi(3)),
        case("powf", vec![pos34()], |v| v[0].powf(2.5)),
        case(
            "pow",
            vec![uniform(0.5, 2.0, &[3, 1]), randn(&[1, 4])],
            |v| v[0].pow(&v[1]),
        ),
        case("rpow_scalar", vec![x34()], |v| v[0].rpow_scalar(2.0)),
        // binary, broadcasting
        case("add", vec![randn(&[3, 1]), randn(&[1, 4])], |v| {
            &v[0] + &v[1]
        }),
        case("sub", vec![randn(&[2, 3, 4]), randn(&[4])], |v| {
            &v[0] - &v[1]
        }),
        case("mul", vec![randn(&[3, 1]), randn(&[1, 4])], |v| {
            &v[0] * &v[1]
        }),
        case("div", vec![randn(&[]), uniform(0.5, 2.0, &[3])], |v| {
            &v[0] / &v[1]
        }),
        case(
            "maximum",
            vec![
                distinct(&[3, 4]),
                distinct(&[4]).mul_scalar(1.1).add_scalar(0.05),
            ],
            |v| v[0].maximum(&v[1]),
        ),
        case(
            "minimum",
            vec![distinct(&[3, 1]).mul_scalar(0.9), distinct(&[1, 4])],
            |v| v[0].minimum(&v[1]),
        ),
        case("where_cond", vec![randn(&[1, 4]), randn(&[3, 4])], |v| {
            f64s(&[1.0, 0.0, 1.0], &[3, 1]).where_cond(&v[0], &v[1])
        }),
        case(
            "clamp",
            vec![f64s(&[-1.5, -0.7, 0.2, 0.9, 1.4], &[5])],
            |v| v[0].clamp(-1.0, 1.0),
        ),
        case(
            "clamp_min",
            vec![f64s(&[-1.5, -0.7, 0.2, 0.9], &[4])],
            |v| v[0].clamp_min(0.0),
        ),
        case(
            "clamp_max",
            vec![f64s(&[-1.5, -0.7, 0.2, 0.9], &[4])],
            |v| v[0].clamp_max(0.0),
        ),
        // reductions
        case("sum", vec![randn(&[2, 3])], |v| v[0].sum()),
        case("mean", vec![randn(&[2, 3])], |v| v[0].mean()),
        case("sum_dim", vec![randn(&[2, 3, 4])], |v| {
            v[0].sum_dim([0, -1], true)
        }),
        case("mean_dim", vec![randn(&[2, 3, 4])], |v| {
            v[0].mean_dim([1], false)
        }),
        case("max", vec![distinct(&[3, 4])], |v| v[0].max()),
        case("min", vec![distinct(&[3, 4])], |v| v[0].min()),
        case("amax", vec![distinct(&[3, 4])], |v| v[0].amax([1], false)),
        case("amin", vec![distinct(&[3, 4])], |v| v[0].amin([0], true)),
        case("max_dim", vec![distinct(&[3, 4])], |v| {
            v[0].max_dim(1, false).0
        }),
        case("min_dim", vec![distinct(&[3, 4])], |v| {
            v[0].min_dim(-2, true).0
        }),
        case("var", vec![randn(&[3, 4])], |v| v[0].var()),
        case("var_dim", vec![randn(&[3, 4])], |v| {
            v[0].var_dim([1], 0, true)
        }),
        case("std", vec![randn(&[3, 4])], |v| v[0].std()),
        case("std_dim", vec![randn(&[3, 4])], |v| {
            v[0].std_dim([0], 1, false)
        }),
        case("prod", vec![uniform(0.5, 1.5, &[2, 3])], |v| v[0].prod()),
        case(
            "prod_one_zero",
            vec![f64s(&[1.5, 0.0, -2.0, 0.7], &[4])],
            |v| v[0].prod(),
        ),
        case(
            "prod_dim_zeros",
            vec![f64s(
                &[1.5, 0.0, 0.0, 0.7, 2.0, 0.0, -1.0, 3.0, 0.5],
                &[3, 3],
            )],
            |v| v[0].prod_dim(1, false),
        ),
        case("logsumexp", vec![randn(&[3, 4])], |v| {
            v[0].logsumexp([1], false)
        }),
        // linear algebra
        case(
            "matmul_batched_bcast",
            vec![randn(&[2, 1, 2, 3]), randn(&[3, 3, 2])],
            |v| v[0].matmul(&v[1]),
        ),
        // Both operands column-major (transposed views): their gradients are computed
        // transposed, in the operands' own layout (PyTorch's mm_mat1/mat2_backward).
        case(
            "matmul_transposed_operands",
            vec![randn(&[3, 2]), randn(&[4, 3])],
            |v| v[0].t().matmul(&v[1].t()),
        ),
        case("matmul_1d_3d", vec![randn(&[3]), randn(&[2, 3, 2])], |v| {
            v[0].matmul(&v[1])
        }),
        case("matmul_2d_1d", vec![randn(&[2, 3]), randn(&[3])], |v| {
            v[0].matmul(&v[1])
        }),
        case("dot", vec![randn(&[4]), randn(&[4])], |v| v[0].dot(&v[1])),
        case("cross", vec![randn(&[2, 3]), randn(&[2, 3])], |v| {
            v[0].cross(&v[1])
        }),
        case("outer", vec![randn(&[3]), randn(&[2])], |v| {
            v[0].outer(&v[1])
        }),
        case("t", vec![randn(&[2, 3])], |v| v[0].t()),
        // shapes and views (a product after the view makes the second derivative non-trivial)
        case("reshape", vec![randn(&[3, 4])], |v| {
            v[0].t().reshape([2, -1]).powi(2)
        }),
        case("flatten", vec![randn(&[2, 3, 2])], |v| {
            v[0].flatten(1, 2).powi(2)
        }),
        case("transpose", vec![randn(&[2, 3, 2])], |v| {
            v[0].transpose(0, -1).powi(2)
        }),
        case("permute", vec![randn(&[2, 3, 2])], |v| {
            v[0].permute([2, 0, 1]).powi(2)
        }),
        case("unsqueeze", vec![randn(&[3])], |v| {
            v[0].unsqueeze(-1).powi(2)
        }),
        case("squeeze", vec![randn(&[3, 1])], |v| v[0].squeeze(1).powi(2)),
        case("expand", vec![randn(&[3, 1])], |v| {
            v[0].expand([2, -1, 4]).powi(2)
        }),
        case("narrow", vec![randn(&[3, 4])], |v| {
            v[0].narrow(1, 1, 2).powi(2)
        }),
        // indexing
        case("index_select", vec![randn(&[3, 4])], |v| {
            v[0].index_select(1, [2, 0, 2]).powi(2)
        }),
        case("gather", vec![randn(&[3, 4])], |v| {
            v[0].gather(1, &f64s(&[0.0, 3.0, 3.0, 1.0, 2.0, 2.0], &[3, 2]))
                .powi(2)
        }),
        // joining and splitting
        case("cat", vec![randn(&[2, 1]), randn(&[2, 3])], |v| {
            Tensor::cat(&[&v[0], &v[1]], -1).powi(2)
        }),
        case("stack", vec![randn(&[2, 3]), randn(&[2, 3])], |v| {
            Tensor::stack(&[&v[0], &v[1]], 1).powi(2)
        }),
        case("split", vec![randn(&[5, 2])], |v| {
            let p = v[0].split(2, 0);
            Tensor::cat(&[&p[0].mul_scalar(1.0), &p[1].powi(2), &p[2].exp()], 0)
        }),
        case("split_sizes", vec![randn(&[2, 4])], |v| {
            let p = v[0].split_sizes(&[1, 3], 1);
            &p[0] * &p[1]
        }),
        case("chunk", vec![randn(&[6])], |v| {
            let p = v[0].chunk(3, 0);
            &p[0] * &p[1] + &p[2]
        }),
        // softmax
        case("softmax", vec![randn(&[3, 4])], |v| v[0].softmax(1)),
        case("log_softmax", vec![randn(&[2, 3, 2])], |v| {
            v[0].log_softmax(-2)
        }),
    ]
}

/// Forward mode: the tangent that a dual pass produces equals J·v built from reverse-mode
/// rows of the Jacobian.
fn check_jvp(c: &Case) -> Result<(), String> {
    let tangents: Vec<Tensor> = c.inputs.iter().map(|x| randn(x.shape())).collect();
    let duals: Vec<Tensor> = c
        .inputs
        .iter()
        .zip(&tangents)
        .map(|(x, v)| make_dual(x, v).unwrap())
        .collect();
    let (_, tangent) = unpack_dual(&(c.f)(&duals));
    let leaves: Vec<Tensor> = c
        .inputs
        .iter()
        .map(|x| x.deep_clone().set_requires_grad(true))
        .collect();
    let y = (c.f)(&leaves);
    let forward = tangent.map_or_else(|| vec![0.0; y.numel()], |t| t.to_vec::<f64>());
    let refs: Vec<&Tensor> = leaves.iter().collect();
    for (k, &fwd) in forward.iter().enumerate() {
        let mut seed = vec![0.0; y.numel()];
        seed[k] = 1.0;
        let opts = GradOptions::new()
            .grad_outputs(vec![Tensor::from_vec(seed, y.shape()).unwrap()])
            .retain_graph(true)
            .allow_unused(true);
        let rows = grad_with(&[&y], &refs, opts).map_err(|e| e.to_string())?;
        let reverse: f64 = rows
            .iter()
            .zip(&tangents)
            .filter_map(|(g, v)| g.as_ref().map(|g| g.mul(v).sum().item::<f64>()))
            .sum();
        if (fwd - reverse).abs() > 1e-9 * (1.0 + reverse.abs()) {
            return Err(format!(
                "output {k}: forward-mode tangent {fwd}, reverse-mode J·v {reverse}"
            ));
        }
    }
    Ok(())
}

#[test]
fn first_and_second_derivatives_match_finite_differences() {
    let mut failures = Vec::new();
    for c in cases() {
        match gradcheck(&c.f, &c.inputs, Default::default()) {
            Ok(r) if r.passed => {}
            Ok(r) => failures.push(format!("{}: {r}", c.name)),
            Err(e) => failures.push(format!("{}: gradcheck error {e}", c.name)),
        }
        match gradgradcheck(&c.f, &c.inputs, Default::default()) {
            Ok(r) if r.passed => {}
            Ok(r) => failures.push(format!("{} (second order): {r}", c.name)),
            Err(e) => failures.push(format!("{}: gradgradcheck error {e}", c.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn forward_mode_matches_reverse_mode() {
    let failures: Vec<String> = cases()
        .iter()
        .filter_map(|c| check_jvp(c).err().map(|e| format!("{}: {e}", c.name)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The checks above are not vacuous: a wrong derivative is caught.
#[test]
fn gradcheck_catches_a_wrong_rule() {
    // d/dx of x.detach() * x is reported by autograd as x (only one factor is tracked),
    // while finite differences see 2x.
    let x = uniform(0.5, 1.0, &[3]);
    let report = gradcheck(
        |v: &[Tensor]| v[0].detach() * &v[0],
        &[x],
        Default::default(),
    )
    .unwrap();
    assert!(!report.passed, "{report}");
}

/// The element-wise ops whose first backward is one fused pass (used when the gradient
/// records no graph) give what their composite rule (used under `create_graph`, so it
/// differentiates again) gives, in f32 (the vectorised kernels) and f64, across both tails.
#[test]
fn fused_backward_maps_match_the_composite_rules() {
    type Op = fn(&Tensor) -> Tensor;
    let ops: [(&str, Op); 7] = [
        ("gelu", |x| x.gelu()),
        ("erf", |x| x.erf()),
        ("erfc", |x| x.erfc()),
        ("tanh", |x| x.tanh()),
        ("sigmoid", |x| x.sigmoid()),
        ("sin", |x| x.sin()),
        ("cos", |x| x.cos()),
    ];
    let values: Vec<f64> = (0..4001).map(|i| (i as f64 - 2000.0) * 0.006).collect();
    for dtype in [DType::F32, DType::F64] {
        let x = Tensor::from_vec(values.clone(), &[values.len()])
            .unwrap()
            .to_dtype(dtype)
            .set_requires_grad(true);
        // Random weights, so the incoming gradient is a full tensor, not a broadcast one.
        manual_seed(7);
        let w = Tensor::randn_with(&[values.len()], dtype);
        for (name, op) in ops {
            let loss = (op(&x) * &w).sum();
            let grad = |create_graph| {
                let options = GradOptions {
                    create_graph,
                    retain_graph: Some(true),
                    ..Default::default()
                };
                grad_with(&[&loss], &[&x], options).unwrap()[0]
                    .as_ref()
                    .unwrap()
                    .to_vec::<f64>()
            };
            let (fused, composite) = (grad(false), grad(true));
            let (rtol, atol) = match dtype {
                DType::F32 => (2e-6, 1e-7),
                DType::F64 => (1e-13, 1e-15),
            };
            for (i, (a, b)) in fused.iter().zip(&composite).enumerate() {
                assert!(
                    (a - b).abs() <= atol + rtol * b.abs(),
                    "{name} {dtype:?} at x = {}: fused {a:e}, composite {b:e}",
                    values[i]
                );
            }
        }
    }
}

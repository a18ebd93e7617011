//! NaN and inf propagate as in PyTorch, forward and backward, without panics: every case of
//! `tests/fixtures/numerics.json` (made by `scripts/fixtures/numerics.py` with PyTorch) is
//! replayed and compared element by element.
//!
//! Comparison: NaN matches NaN, an infinity matches the same infinity, zeros of the output
//! match with their sign (`-0.0` is what PyTorch prints as `-0.`); finite values match within
//! 4 ulp-ish relative error (1e-6 for f32, 1e-13 for f64) since operations may be ordered
//! differently. Gradient zeros are compared without sign: PyTorch's backward formulas and
//! tensorgrad's may order a product differently, which can flip the sign of an exact zero.

mod fixture_file;

use serde::Deserialize;
use tensorgrad::{BackwardOptions, DType, Tensor};

#[derive(Deserialize)]
struct Case {
    name: String,
    op: String,
    dtype: String,
    inputs: Vec<Values>,
    output: Values,
    grads: Vec<Vec<String>>,
}

#[derive(Deserialize)]
struct Values {
    shape: Vec<usize>,
    values: Vec<String>,
}

/// The op table, mirroring `OPS` in `scripts/fixtures/numerics.py`.
fn apply(op: &str, t: &[Tensor]) -> Tensor {
    match op {
        "add" => &t[0] + &t[1],
        "sub" => &t[0] - &t[1],
        "mul" => &t[0] * &t[1],
        "div" => &t[0] / &t[1],
        "div_scalar_zero" => &t[0] / 0.0,
        "rdiv_one" => 1.0 / &t[0],
        "reciprocal" => t[0].reciprocal(),
        "neg" => -&t[0],
        "powf_half" => t[0].powf(0.5),
        "powf_neg_half" => t[0].powf(-0.5),
        "powf_1_5" => t[0].powf(1.5),
        "powf_zero" => t[0].powf(0.0),
        "powi_2" => t[0].powi(2),
        "powi_3" => t[0].powi(3),
        "powi_neg1" => t[0].powi(-1),
        "powi_neg2" => t[0].powi(-2),
        "powi_0" => t[0].powi(0),
        "sum" => t[0].sum(),
        "mean" => t[0].mean(),
        "sum_dim1" => t[0].sum_dim([1], false),
        "mean_dim0" => t[0].mean_dim([0], false),
        "matmul" => t[0].matmul(&t[1]),
        "dot" => t[0].dot(&t[1]),
        "cross" => t[0].cross(&t[1]),
        "square_by_mul" => &t[0] * &t[0],
        "expand_sum" => t[0].expand([3, -1]).sum(),
        "transpose_reshape_sum" => t[0].t().reshape([-1]).sum(),
        "narrow_mul" => t[0].narrow(0, 1, 2) * 2.0,
        "chain" => (&t[0] - &t[1]).powi(2).sum() / (&t[0] * &t[1]).sum(),
        other => panic!("op {other:?} is in the fixture but not in this test's table"),
    }
}

fn parse(v: &[String]) -> Vec<f64> {
    v.iter()
        .map(|s| {
            s.parse::<f64>()
                .unwrap_or_else(|_| panic!("bad value {s:?}"))
        })
        .collect()
}

fn make(v: &Values, dtype: DType) -> Tensor {
    let values = parse(&v.values);
    match dtype {
        DType::F32 => Tensor::from_vec(values.iter().map(|&x| x as f32).collect(), &v.shape),
        DType::F64 => Tensor::from_vec(values, &v.shape),
    }
    .unwrap()
    .set_requires_grad(true)
}

/// Whether `got` matches PyTorch's `want` (see the module docs).
fn matches(got: f64, want: f64, dtype: DType, zero_sign: bool) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() || want == 0.0 {
        return got == want && (!zero_sign || got.is_sign_negative() == want.is_sign_negative());
    }
    let tol = match dtype {
        DType::F32 => 1e-6,
        DType::F64 => 1e-13,
    };
    (got - want).abs() <= tol * want.abs()
}

fn compare(what: &str, got: &Tensor, want: &[f64], dtype: DType, zero_sign: bool) -> Vec<String> {
    let got = got.to_vec::<f64>();
    if got.len() != want.len() {
        return vec![format!(
            "{what}: {} values, PyTorch has {}",
            got.len(),
            want.len()
        )];
    }
    got.iter()
        .zip(want)
        .enumerate()
        .filter(|(_, (g, w))| !matches(**g, **w, dtype, zero_sign))
        .map(|(i, (g, w))| format!("{what}[{i}]: got {g:?}, PyTorch {w:?}"))
        .collect()
}

/// Mismatches with PyTorch accepted as known differences (none at present: the last two,
/// `powf(-0.5)` at -inf and the gradient of `powf(0.5)` there, were fixed in `src/ops/pow.rs`).
/// An entry that no longer fails is reported as stale, so the list cannot rot.
const KNOWN: &[&str] = &[];

#[test]
fn nan_and_inf_propagate_like_pytorch() {
    let fixture = fixture_file::load::<Case>("numerics");
    assert!(fixture.cases.len() >= 40, "{} cases", fixture.cases.len());
    let mut failures = Vec::new();
    for case in &fixture.cases {
        let dtype = match case.dtype.as_str() {
            "f32" => DType::F32,
            "f64" => DType::F64,
            d => panic!("dtype {d}"),
        };
        let inputs: Vec<Tensor> = case.inputs.iter().map(|v| make(v, dtype)).collect();
        let out = apply(&case.op, &inputs);
        let mut problems = Vec::new();
        if out.shape() != case.output.shape {
            problems.push(format!(
                "shape {:?}, PyTorch {:?}",
                out.shape(),
                case.output.shape
            ));
        }
        problems.extend(compare(
            "output",
            &out,
            &parse(&case.output.values),
            dtype,
            true,
        ));
        // Backward must not stop at a NaN or inf either: sum(output * 1), as the script does.
        out.backward_with(BackwardOptions::new().gradient(&Tensor::ones_like(&out)))
            .unwrap();
        for (i, (x, want)) in inputs.iter().zip(&case.grads).enumerate() {
            let g = x.grad().expect("every input is used");
            problems.extend(compare(
                &format!("grad {i}"),
                &g,
                &parse(want),
                dtype,
                false,
            ));
        }
        failures.extend(
            problems
                .into_iter()
                .map(|p| format!("{} ({}): {p}", case.name, case.op)),
        );
    }
    let stale: Vec<&&str> = KNOWN
        .iter()
        .filter(|k| !failures.iter().any(|f| f == *k))
        .collect();
    assert!(stale.is_empty(), "fixed, remove from KNOWN: {stale:?}");
    failures.retain(|f| !KNOWN.contains(&f.as_str()));
    assert!(
        failures.is_empty(),
        "{} mismatch(es) with PyTorch {}:\n{}",
        failures.len(),
        fixture.torch,
        failures.join("\n")
    );
}

#[test]
fn anomaly_mode_reports_the_first_non_finite_gradient() {
    // The same numerics, with anomaly detection on, stop at the op that made the NaN.
    let x = Tensor::from_vec(vec![-1.0f32, 4.0], &[2])
        .unwrap()
        .set_requires_grad(true);
    let err = tensorgrad::autograd::detect_anomaly(|| x.powf(0.5).sum().backward()).unwrap_err();
    assert!(
        matches!(
            err,
            tensorgrad::Error::Anomaly {
                node: "PowBackward0",
                what: "NaN",
                input: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("tests/numerics.rs"), "{err}");
}

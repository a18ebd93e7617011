//! Replays `tests/fixtures/ops.json` (written by `scripts/fixtures/ops.py` with PyTorch):
//! for every case, runs the tensorgrad op on the same inputs and compares the forward values,
//! the gradients of the loss `sum_k (out_k * w_k).sum()`, and the grad_fn name. Every failing
//! case is reported by name.

mod fixture_file;

use serde::Deserialize;
use serde_json::Value;
use tensorgrad::{DType, Result, Tensor};

#[derive(Deserialize)]
struct Case {
    name: String,
    op: String,
    args: serde_json::Map<String, Value>,
    inputs: Vec<Input>,
    outputs: Vec<Output>,
    grads: Vec<Option<Vec<Num>>>,
    grad_fn: Option<String>,
}

#[derive(Deserialize)]
struct Input {
    shape: Vec<usize>,
    dtype: String,
    values: Vec<Num>,
    requires_grad: bool,
}

#[derive(Deserialize)]
struct Output {
    shape: Vec<usize>,
    values: Vec<Num>,
    weight: Option<Vec<Num>>,
}

/// A number, or "inf" / "-inf" / "nan" (JSON has no literal for them).
#[derive(Deserialize)]
#[serde(untagged)]
enum Num {
    F(f64),
    S(String),
}

impl Num {
    fn get(&self) -> f64 {
        match self {
            Num::F(v) => *v,
            Num::S(s) => match s.as_str() {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                "nan" => f64::NAN,
                other => panic!("fixture: unknown number {other:?}"),
            },
        }
    }
}

fn values(v: &[Num]) -> Vec<f64> {
    v.iter().map(Num::get).collect()
}

fn tensor(values: Vec<f64>, shape: &[usize], dtype: DType) -> Tensor {
    Tensor::from_vec(values, shape).unwrap().to_dtype(dtype)
}

/// The op's arguments, read by name.
struct Args<'a>(&'a serde_json::Map<String, Value>);

impl Args<'_> {
    fn get(&self, k: &str) -> &Value {
        self.0
            .get(k)
            .unwrap_or_else(|| panic!("fixture: missing argument {k:?}"))
    }
    fn int(&self, k: &str) -> isize {
        self.get(k).as_i64().expect("integer argument") as isize
    }
    fn uint(&self, k: &str) -> usize {
        self.get(k).as_u64().expect("non-negative integer argument") as usize
    }
    fn float(&self, k: &str) -> f64 {
        self.get(k).as_f64().expect("number argument")
    }
    fn flag(&self, k: &str) -> bool {
        self.get(k).as_bool().expect("bool argument")
    }
    fn ints(&self, k: &str) -> Vec<isize> {
        self.get(k)
            .as_array()
            .expect("list argument")
            .iter()
            .map(|v| v.as_i64().expect("integer") as isize)
            .collect()
    }
}

/// Runs the tensorgrad op named in the fixture; every op and argument spelled as a user would.
fn run(op: &str, x: &[Tensor], a: &Args<'_>) -> Result<Vec<Tensor>> {
    let one = |t: Tensor| Ok(vec![t]);
    let pair = |(v, i): (Tensor, Tensor)| Ok(vec![v, i]);
    let refs: Vec<&Tensor> = x.iter().collect();
    match op {
        "neg" => one(x[0].neg()),
        "abs" => one(x[0].abs()),
        "exp" => one(x[0].exp()),
        "log" => one(x[0].log()),
        "log1p" => one(x[0].log1p()),
        "sqrt" => one(x[0].sqrt()),
        "sin" => one(x[0].sin()),
        "cos" => one(x[0].cos()),
        "tan" => one(x[0].tan()),
        "tanh" => one(x[0].tanh()),
        "sigmoid" => one(x[0].sigmoid()),
        "relu" => one(x[0].relu()),
        "gelu" => one(x[0].gelu()),
        "erf" => one(x[0].erf()),
        "erfc" => one(x[0].erfc()),
        "sign" => one(x[0].sign()),
        "reciprocal" => one(x[0].reciprocal()),
        "powi" => one(x[0].powi(a.int("n") as i32)),
        "powf" => one(x[0].powf(a.float("e"))),
        "pow" => one(x[0].try_pow(&x[1])?),
        "rpow_scalar" => one(x[0].rpow_scalar(a.float("base"))),
        "add" => one(x[0].try_add(&x[1])?),
        "sub" => one(x[0].try_sub(&x[1])?),
        "mul" => one(x[0].try_mul(&x[1])?),
        "div" => one(x[0].try_div(&x[1])?),
        "maximum" => one(x[0].try_maximum(&x[1])?),
        "minimum" => one(x[0].try_minimum(&x[1])?),
        "add_scalar" => one(&x[0] + a.float("s")),
        "sub_scalar" => one(&x[0] - a.float("s")),
        "rsub_scalar" => one(a.float("s") - &x[0]),
        "mul_scalar" => one(&x[0] * a.float("s")),
        "div_scalar" => one(&x[0] / a.float("s")),
        "rdiv_scalar" => one(a.float("s") / &x[0]),
        "eq" => one(x[0].try_eq(&x[1])?),
        "ne" => one(x[0].try_ne(&x[1])?),
        "lt" => one(x[0].try_lt(&x[1])?),
        "le" => one(x[0].try_le(&x[1])?),
        "gt" => one(x[0].try_gt(&x[1])?),
        "ge" => one(x[0].try_ge(&x[1])?),
        "eq_scalar" => one(x[0].eq_scalar(a.float("s"))),
        "ne_scalar" => one(x[0].ne_scalar(a.float("s"))),
        "lt_scalar" => one(x[0].lt_scalar(a.float("s"))),
        "le_scalar" => one(x[0].le_scalar(a.float("s"))),
        "gt_scalar" => one(x[0].gt_scalar(a.float("s"))),
        "ge_scalar" => one(x[0].ge_scalar(a.float("s"))),
        "where_cond" => one(Tensor::try_where_cond(&x[0], &x[1], &x[2])?),
        "clamp" => one(x[0].clamp(a.float("min"), a.float("max"))),
        "clamp_min" => one(x[0].clamp_min(a.float("min"))),
        "clamp_max" => one(x[0].clamp_max(a.float("max"))),
        "sum" => one(x[0].sum()),
        "mean" => one(x[0].mean()),
        "sum_dim" => one(x[0].try_sum_dim(a.ints("dims"), a.flag("keepdim"))?),
        "mean_dim" => one(x[0].try_mean_dim(a.ints("dims"), a.flag("keepdim"))?),
        "max" => one(x[0].try_max()?),
        "min" => one(x[0].try_min()?),
        "max_dim" => pair(x[0].try_max_dim(a.int("dim"), a.flag("keepdim"))?),
        "min_dim" => pair(x[0].try_min_dim(a.int("dim"), a.flag("keepdim"))?),
        "amax" => one(x[0].try_amax(a.ints("dims"), a.flag("keepdim"))?),
        "amin" => one(x[0].try_amin(a.ints("dims"), a.flag("keepdim"))?),
        "argmax" => one(x[0].try_argmax()?),
        "argmin" => one(x[0].try_argmin()?),
        "argmax_dim" => one(x[0].try_argmax_dim(a.int("dim"), a.flag("keepdim"))?),
        "argmin_dim" => one(x[0].try_argmin_dim(a.int("dim"), a.flag("keepdim"))?),
        "var" => one(x[0].var()),
        "std" => one(x[0].std()),
        "var_dim" => {
            one(x[0].try_var_dim(a.ints("dims"), a.uint("correction"), a.flag("keepdim"))?)
        }
        "std_dim" => {
            one(x[0].try_std_dim(a.ints("dims"), a.uint("correction"), a.flag("keepdim"))?)
        }
        "prod" => one(x[0].prod()),
        "prod_dim" => one(x[0].try_prod_dim(a.int("dim"), a.flag("keepdim"))?),
        "logsumexp" => one(x[0].try_logsumexp(a.ints("dims"), a.flag("keepdim"))?),
        "matmul" => one(x[0].try_matmul(&x[1])?),
        "dot" => one(x[0].try_dot(&x[1])?),
        "cross" => one(x[0].try_cross(&x[1])?),
        "cross_dim" => one(x[0].try_cross_dim(&x[1], a.int("dim"))?),
        "outer" => one(x[0].try_outer(&x[1])?),
        "t" => one(x[0].try_t()?),
        "reshape" => one(x[0].try_reshape(a.ints("shape"))?),
        "flatten" => one(x[0].try_flatten(a.int("start"), a.int("end"))?),
        "transpose" => one(x[0].try_transpose(a.int("d0"), a.int("d1"))?),
        "permute" => one(x[0].try_permute(a.ints("dims"))?),
        "unsqueeze" => one(x[0].try_unsqueeze(a.int("dim"))?),
        "squeeze" => one(x[0].try_squeeze(a.int("dim"))?),
        "squeeze_all" => one(x[0].squeeze_all()),
        "expand" => one(x[0].try_expand(a.ints("shape"))?),
        "narrow" => one(x[0].try_narrow(a.int("dim"), a.uint("start"), a.uint("len"))?),
        "index_select" => one(x[0].try_index_select(a.int("dim"), a.ints("index"))?),
        "gather" => one(x[0].try_gather(a.int("dim"), &x[1])?),
        "cat" => one(Tensor::try_cat(&refs, a.int("dim"))?),
        "stack" => one(Tensor::try_stack(&refs, a.int("dim"))?),
        "split" => x[0].try_split(a.uint("size"), a.int("dim")),
        "split_sizes" => x[0].try_split_sizes(
            &a.ints("sizes")
                .iter()
                .map(|&s| s as usize)
                .collect::<Vec<_>>(),
            a.int("dim"),
        ),
        "chunk" => x[0].try_chunk(a.uint("chunks"), a.int("dim")),
        "softmax" => one(x[0].try_softmax(a.int("dim"))?),
        "log_softmax" => one(x[0].try_log_softmax(a.int("dim"))?),
        other => panic!("fixture: no tensorgrad op for {other:?}"),
    }
}

/// grad_fn names that differ from PyTorch's for a reason, keyed by (op, PyTorch's name).
/// torch.matmul names whichever internal view or squeeze it applies last, which depends on
/// how it folds batch dims into one `bmm`; tensorgrad runs one batched matmul primitive
/// (`MmBackward0` for plain matrices, `BmmBackward0` with batch dims) and removes a vector
/// operand's dim with a squeeze. Values and gradients are still compared.
const NAME_DIFFERENCES: &[(&str, &str, &str)] = &[
    ("matmul", "MvBackward0", "SqueezeBackward1"),
    ("matmul", "SqueezeBackward4", "SqueezeBackward1"),
    ("matmul", "UnsafeViewBackward0", "BmmBackward0"),
    ("matmul", "UnsafeViewBackward0", "SqueezeBackward1"),
    ("matmul", "CloneBackward0", "BmmBackward0"),
];

/// Tolerances `(rtol, atol)` for `|ours - torch| <= atol + rtol * |torch|`.
fn tolerance(case: &Case, dtype: DType) -> (f64, f64) {
    match dtype {
        DType::F64 => (1e-10, 1e-12),
        // Results near 1000 (large logits) carry f32 rounding of ~6e-5 absolute in both
        // libraries, computed in different orders.
        DType::F32 if case.name.contains("large") => (1e-5, 1e-4),
        DType::F32 => (1e-5, 1e-6),
    }
}

fn compare(what: &str, ours: &[f64], theirs: &[f64], (rtol, atol): (f64, f64)) -> Option<String> {
    if ours.len() != theirs.len() {
        return Some(format!(
            "{what}: {} values, PyTorch has {}",
            ours.len(),
            theirs.len()
        ));
    }
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        let same = if b.is_nan() {
            a.is_nan()
        } else if b.is_infinite() {
            a == b
        } else {
            (a - b).abs() <= atol + rtol * b.abs()
        };
        if !same {
            return Some(format!(
                "{what}[{i}]: ours {a:e}, PyTorch {b:e} (rtol {rtol:e}, atol {atol:e})"
            ));
        }
    }
    None
}

/// Runs one case; returns every mismatch found.
fn replay(case: &Case) -> Vec<String> {
    let mut problems = Vec::new();
    let dtype = |s: &str| if s == "f64" { DType::F64 } else { DType::F32 };
    let leaves: Vec<Tensor> = case
        .inputs
        .iter()
        .map(|i| {
            tensor(values(&i.values), &i.shape, dtype(&i.dtype)).set_requires_grad(i.requires_grad)
        })
        .collect();
    let mut used = leaves.clone();
    let args = Args(&case.args);
    if case.args.contains_key("transpose_input") {
        let d = args.ints("transpose_input");
        used[0] = used[0].transpose(d[0], d[1]);
    }
    let outs = match run(&case.op, &used, &args) {
        Ok(outs) => outs,
        Err(e) => return vec![format!("op failed: {e}")],
    };
    if outs.len() != case.outputs.len() {
        return vec![format!(
            "{} outputs, PyTorch has {}",
            outs.len(),
            case.outputs.len()
        )];
    }
    let tol = tolerance(case, leaves[0].dtype());
    let mut loss: Option<Tensor> = None;
    for (k, (ours, theirs)) in outs.iter().zip(&case.outputs).enumerate() {
        if ours.shape() != theirs.shape.as_slice() {
            problems.push(format!(
                "output {k}: shape {:?}, PyTorch {:?}",
                ours.shape(),
                theirs.shape
            ));
            continue;
        }
        problems.extend(compare(
            &format!("output {k}"),
            &ours.to_vec::<f64>(),
            &values(&theirs.values),
            tol,
        ));
        match (&theirs.weight, ours.requires_grad()) {
            (Some(w), true) => {
                let term = (ours * tensor(values(w), ours.shape(), ours.dtype())).sum();
                loss = Some(match loss {
                    Some(l) => l + term,
                    None => term,
                });
            }
            (Some(_), false) => problems.push(format!(
                "output {k} does not require grad, but PyTorch's does"
            )),
            (None, true) => {
                problems.push(format!("output {k} requires grad, but PyTorch's does not"))
            }
            (None, false) => {}
        }
    }
    let ours_name = outs[0].grad_fn_name();
    let expected = case.grad_fn.as_deref();
    let excused = NAME_DIFFERENCES.iter().any(|&(op, torch, mine)| {
        op == case.op && Some(torch) == expected && Some(mine) == ours_name
    });
    if ours_name != expected && !excused {
        problems.push(format!("grad_fn {ours_name:?}, PyTorch {expected:?}"));
    }
    if let Some(loss) = loss {
        if let Err(e) = loss.backward() {
            problems.push(format!("backward failed: {e}"));
            return problems;
        }
    }
    for (i, (leaf, theirs)) in leaves.iter().zip(&case.grads).enumerate() {
        match (leaf.grad(), theirs) {
            (Some(g), Some(t)) => problems.extend(compare(
                &format!("grad of input {i}"),
                &g.to_vec::<f64>(),
                &values(t),
                tol,
            )),
            (None, Some(t)) if values(t).iter().all(|&v| v == 0.0) => {}
            (None, Some(_)) => problems.push(format!("input {i} got no gradient")),
            (Some(_), None) => {
                problems.push(format!("input {i} got a gradient, PyTorch's did not"))
            }
            (None, None) => {}
        }
    }
    problems
}

#[test]
fn every_op_matches_pytorch() {
    let fixture = fixture_file::load::<Case>("ops");
    assert!(
        fixture.cases.len() > 200,
        "the fixture lost cases: {}",
        fixture.cases.len()
    );
    let failures: Vec<String> = fixture
        .cases
        .iter()
        .flat_map(|case| {
            let problems = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| replay(case)))
                .unwrap_or_else(|_| vec!["panicked".into()]);
            problems
                .into_iter()
                .map(move |p| format!("{}: {p}", case.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} mismatch(es) against PyTorch {}:\n{}",
        failures.len(),
        fixture.torch,
        failures.join("\n")
    );
}

/// Every op the generator covers has a replay arm, and the fixture covers every op family the
/// issue lists (a guard against the fixture silently shrinking).
#[test]
fn fixture_covers_the_op_set() {
    let fixture = fixture_file::load::<Case>("ops");
    let ops: std::collections::BTreeSet<&str> =
        fixture.cases.iter().map(|c| c.op.as_str()).collect();
    for op in [
        "neg",
        "abs",
        "exp",
        "log",
        "log1p",
        "sqrt",
        "sin",
        "cos",
        "tan",
        "tanh",
        "sigmoid",
        "relu",
        "gelu",
        "erf",
        "erfc",
        "sign",
        "reciprocal",
        "powi",
        "powf",
        "pow",
        "rpow_scalar",
        "add",
        "sub",
        "mul",
        "div",
        "maximum",
        "minimum",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "where_cond",
        "clamp",
        "clamp_min",
        "clamp_max",
        "sum",
        "mean",
        "sum_dim",
        "mean_dim",
        "max",
        "min",
        "max_dim",
        "min_dim",
        "argmax",
        "argmin",
        "var",
        "std",
        "prod",
        "logsumexp",
        "matmul",
        "dot",
        "cross",
        "outer",
        "t",
        "reshape",
        "flatten",
        "transpose",
        "permute",
        "unsqueeze",
        "squeeze",
        "expand",
        "narrow",
        "index_select",
        "gather",
        "cat",
        "stack",
        "split",
        "chunk",
        "softmax",
        "log_softmax",
    ] {
        assert!(ops.contains(op), "no fixture case for {op}");
    }
}

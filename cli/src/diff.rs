//! `tensorgrad diff`: an expression's value and derivatives at a point,
//! taken by the library's autograd.

use std::fmt::Write as _;

use tensorgrad::autograd::{self, GradOptions};
use tensorgrad::{DType, Tensor};

use crate::at::{parse_bindings, Binding};
use crate::errors::CliError;
use crate::eval::{eval, Value};
use crate::expr::{parse, shorten, Expr};

/// The value of `f` and its derivatives at one point, detached from the
/// graph (they print as plain values, without `grad_fn`).
#[derive(Debug, Clone)]
pub struct Derivatives {
    /// The variables: those of the expression in order of first appearance,
    /// then any given in `--at` that the expression does not use.
    pub names: Vec<String>,
    /// `f` itself.
    pub value: Tensor,
    /// `df/d names[i]`.
    pub grad: Vec<Tensor>,
    /// With `--hessian`: `hessian[i][j]` = d²f / d names[i] d names[j].
    pub hessian: Option<Vec<Vec<Tensor>>>,
    /// Names given in `--at` that the expression does not use; their
    /// derivatives are 0.
    pub unused: Vec<String>,
}

/// Evaluates `source` at the point given by the `--at` arguments and
/// differentiates it once (and twice with `hessian`).
///
/// A variable given in `--at` that the expression does not use is not an
/// error: f does not change with it, so its derivatives are 0 (PyTorch's
/// `allow_unused=True` would say `None`).
///
/// # Errors
/// A parse error, a bad `--at`, or a variable of the expression that
/// `--at` does not give (pointing at its first occurrence).
pub fn differentiate(
    source: &str,
    at: &[String],
    dtype: DType,
    hessian: bool,
) -> Result<Derivatives, CliError> {
    let expr = parse(source).map_err(|e| CliError::parse(&e, source))?;
    let bindings = parse_bindings(at)?;
    check_all_bound(&expr, source, &bindings)?;

    let vars = expr.variables();
    let unused: Vec<String> = bindings
        .iter()
        .filter(|b| !vars.contains(&b.name.as_str()))
        .map(|b| b.name.clone())
        .collect();
    let names: Vec<String> = vars
        .iter()
        .map(|v| v.to_string())
        .chain(unused.iter().cloned())
        .collect();
    let leaves: Vec<Tensor> = names
        .iter()
        .map(|name| {
            let b = bindings.iter().find(|b| &b.name == name);
            let v = b.expect("checked: every variable is bound").value;
            Tensor::full_with(&[], v, dtype).set_requires_grad(true)
        })
        .collect();
    let lookup = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .map(|i| leaves[i].clone())
    };
    let f = match eval(&expr, lookup) {
        Ok(v) => v,
        Err(u) => unreachable!("checked: every variable is bound ({})", u.name),
    };
    let f = match f {
        Value::Num(v) => Tensor::full_with(&[], v, dtype),
        Value::Tensor(t) => t,
    };

    let grad = gradients(&f, &leaves, hessian)?;
    let hessian = if hessian {
        let rows = grad
            .iter()
            .map(|g| gradients(g, &leaves, false))
            .collect::<Result<Vec<_>, _>>()?;
        Some(rows.into_iter().map(detach_all).collect())
    } else {
        None
    };
    Ok(Derivatives {
        names,
        value: f.detach(),
        grad: detach_all(grad),
        hessian,
        unused,
    })
}

/// Errors for the expression's variables that `bindings` lacks, pointing at
/// the first one's first occurrence.
fn check_all_bound(expr: &Expr, source: &str, bindings: &[Binding]) -> Result<(), CliError> {
    let missing: Vec<&str> = expr
        .variables()
        .into_iter()
        .filter(|v| !bindings.iter().any(|b| b.name == *v))
        .collect();
    let Some(first) = missing.first() else {
        return Ok(());
    };
    let quoted: Vec<String> = missing
        .iter()
        .map(|v| format!("'{}'", shorten(v)))
        .collect();
    let example: Vec<String> = missing
        .iter()
        .map(|v| format!("{}=VALUE", shorten(v)))
        .collect();
    let message = if missing.len() == 1 {
        format!(
            "variable {} has no value: give it one with --at {}",
            quoted[0], example[0]
        )
    } else {
        format!(
            "variables {} have no value: give them values with --at {}",
            quoted.join(", "),
            example.join(",")
        )
    };
    let span = expr
        .find_variable(first)
        .expect("a variable occurs in the tree");
    Err(CliError::input_at(message, source, span))
}

/// d`y`/d`x` for each leaf in `xs`: 0 for leaves `y` does not depend on
/// (or when `y` depends on none, as a constant or a first derivative that
/// no longer involves any variable). With `create_graph`, the gradients
/// can be differentiated again.
fn gradients(y: &Tensor, xs: &[Tensor], create_graph: bool) -> Result<Vec<Tensor>, CliError> {
    let zeros = || xs.iter().map(Tensor::zeros_like).collect();
    if xs.is_empty() || !y.requires_grad() {
        return Ok(zeros());
    }
    let inputs: Vec<&Tensor> = xs.iter().collect();
    // The graph is kept after each call: the Hessian's rows each run
    // backward through the same first-derivative graph.
    let opts = GradOptions::new()
        .allow_unused(true)
        .create_graph(create_graph)
        .retain_graph(true);
    let grads = autograd::grad_with(&[y], &inputs, opts)
        .map_err(|e| CliError::internal(format!("autograd failed: {e}")))?;
    Ok(grads
        .into_iter()
        .zip(xs)
        .map(|(g, x)| g.unwrap_or_else(|| Tensor::zeros_like(x)))
        .collect())
}

fn detach_all(ts: Vec<Tensor>) -> Vec<Tensor> {
    ts.iter().map(Tensor::detach).collect()
}

/// The text output: `f = tensor(64.)`, then `df/dx = tensor(38.)` for each
/// variable, then with the Hessian `d2f/dxdy = ...` for every ordered
/// pair (row by row, so `d2f/dxdy` is d/dy of df/dx). Tensors print exactly
/// as PyTorch prints them.
pub fn render_text(d: &Derivatives) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "f = {}", d.value);
    for (name, g) in d.names.iter().zip(&d.grad) {
        let _ = writeln!(out, "df/d{name} = {g}");
    }
    if let Some(rows) = &d.hessian {
        for (a, row) in d.names.iter().zip(rows) {
            for (b, h) in d.names.iter().zip(row) {
                let _ = writeln!(out, "d2f/d{a}d{b} = {h}");
            }
        }
    }
    out
}

/// Warnings for stderr: names in `--at` that the expression does not use
/// (a likely typo, though not an error).
pub fn warnings(d: &Derivatives) -> Vec<String> {
    d.unused
        .iter()
        .map(|name| {
            format!(
                "warning: '{}' is given in --at but does not appear in the expression; \
                 its derivatives are 0",
                shorten(name)
            )
        })
        .collect()
}

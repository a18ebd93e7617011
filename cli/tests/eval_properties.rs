//! Property tests of evaluation and differentiation: autograd's first and
//! second derivatives of random smooth expressions agree with finite
//! differences, and arbitrary text at arbitrary points never panics.

use proptest::prelude::*;
use proptest::sample::select;
use tensorgrad::{DType, Tensor};
use tensorgrad_cli::diff::{differentiate, render_text, Derivatives};
use tensorgrad_cli::eval::{eval, Value};
use tensorgrad_cli::expr::parse;

/// Random expressions in `x` and `y` built from smooth operations, with
/// denominators and power bases kept away from zero, so that finite
/// differences are meaningful wherever the values are moderate.
fn smooth_expr() -> impl Strategy<Value = String> {
    let leaf = select(vec!["x", "y", "0.5", "2", "3", "pi"]).prop_map(String::from);
    leaf.prop_recursive(5, 24, 2, |inner| {
        let unary = select(vec!["-", "sin", "cos", "tanh", "sigmoid", "exp", "sqrt1p"]);
        let binary = select(vec!["+", "-", "*", "/", "**2", "**3", "**e", "**t"]);
        prop_oneof![
            (unary, inner.clone()).prop_map(|(f, a)| match f {
                "-" => format!("-({a})"),
                "exp" => format!("exp(({a})/4)"),
                "sqrt1p" => format!("sqrt(1 + ({a})**2)"),
                f => format!("{f}({a})"),
            }),
            (binary, inner.clone(), inner).prop_map(|(op, a, b)| match op {
                "/" => format!("({a}) / (2 + ({b})**2)"),
                "**2" => format!("({a})**2"),
                "**3" => format!("({a})**3"),
                "**e" => format!("(1 + ({a})**2)**(({b})/4)"),
                "**t" => format!("1.5**(sin({a}))"),
                op => format!("({a}) {op} ({b})"),
            }),
        ]
    })
}

/// `src` evaluated in f64 at (`x`, `y`).
fn value_at(src: &str, x: f64, y: f64) -> f64 {
    let e = parse(src).unwrap();
    let bind = |name: &str| match name {
        "x" => Some(Tensor::scalar(x)),
        "y" => Some(Tensor::scalar(y)),
        _ => None,
    };
    match eval(&e, bind).unwrap() {
        Value::Num(v) => v,
        Value::Tensor(t) => t.item::<f64>(),
    }
}

/// Fourth-order central difference of `f` at `t`, with an estimate of its own
/// truncation error: the estimate at step `h / 2`, and how far it moved from the
/// estimate at step `h`. (The error of a fourth-order difference falls 16-fold when
/// the step halves, so the move bounds the finer estimate's error with room to spare.
/// Rapidly oscillating expressions such as `sin((x - 3)**3)` need that allowance.)
fn derivative(f: impl Fn(f64) -> f64, t: f64) -> (f64, f64) {
    let at =
        |h: f64| (-f(t + 2.0 * h) + 8.0 * f(t + h) - 8.0 * f(t - h) + f(t - 2.0 * h)) / (12.0 * h);
    let (coarse, fine) = (at(2e-3), at(1e-3));
    (fine, (fine - coarse).abs())
}

fn diff_f64(src: &str, x: f64, y: f64, hessian: bool) -> Derivatives {
    let at = [format!("x={x:?}"), format!("y={y:?}")];
    differentiate(src, &at, DType::F64, hessian).unwrap_or_else(|e| panic!("{src}: {e}"))
}

/// The gradient as `[d/dx, d/dy]`, whichever variables `src` uses (both are
/// given in --at, so both are always present, in expression order).
fn grad_xy(d: &Derivatives) -> [f64; 2] {
    let get = |n: &str| {
        let i = d.names.iter().position(|m| m == n).unwrap();
        d.grad[i].item::<f64>()
    };
    [get("x"), get("y")]
}

fn moderate(values: &[f64]) -> bool {
    values.iter().all(|v| v.is_finite() && v.abs() < 1e4)
}

proptest! {
    #[test]
    fn gradients_match_finite_differences(
        src in smooth_expr(),
        x in -2.0f64..2.0,
        y in -2.0f64..2.0,
    ) {
        let d = diff_f64(&src, x, y, false);
        let f = d.value.item::<f64>();
        let g = grad_xy(&d);
        let (fdx, ex) = derivative(|t| value_at(&src, t, y), x);
        let (fdy, ey) = derivative(|t| value_at(&src, x, t), y);
        let (fd, fd_err) = ([fdx, fdy], [ex, ey]);
        prop_assume!(moderate(&[f, g[0], g[1], fd[0], fd[1]]));
        for k in 0..2 {
            let tol = 1e-6 * (1.0 + f.abs() + g[k].abs()) + fd_err[k];
            prop_assert!((g[k] - fd[k]).abs() <= tol, "{src} at ({x}, {y}): {g:?} vs {fd:?}");
        }
    }

    #[test]
    fn hessians_match_finite_differences_of_gradients(
        src in smooth_expr(),
        x in -2.0f64..2.0,
        y in -2.0f64..2.0,
    ) {
        let d = diff_f64(&src, x, y, true);
        let hessian = d.hessian.as_ref().unwrap();
        let idx = |n: &str| d.names.iter().position(|m| m == n).unwrap();
        let g = grad_xy(&d);
        for (a, va) in ["x", "y"].into_iter().enumerate() {
            let (dx, ex) = derivative(|t| grad_xy(&diff_f64(&src, t, y, false))[a], x);
            let (dy, ey) = derivative(|t| grad_xy(&diff_f64(&src, x, t, false))[a], y);
            let h = [hessian[idx(va)][idx("x")].item::<f64>(), hessian[idx(va)][idx("y")].item::<f64>()];
            prop_assume!(moderate(&[d.value.item::<f64>(), g[a], h[0], h[1], dx, dy]));
            let tol = 1e-5 * (1.0 + g[a].abs() + h[0].abs() + h[1].abs());
            prop_assert!((h[0] - dx).abs() <= tol + ex, "{src} d2/d{va}dx: {} vs {dx}", h[0]);
            prop_assert!((h[1] - dy).abs() <= tol + ey, "{src} d2/d{va}dy: {} vs {dy}", h[1]);
        }
    }

    #[test]
    fn any_text_at_any_point_never_panics(
        src in "[-+*/()., xyz0-9e_]{0,40}|[a-z(),.*+ ]{0,40}",
        point in select(vec!["0", "-0.0", "1", "-3", "1e30", "1e-30", "inf", "-inf", "nan"]),
        dtype in select(vec![DType::F32, DType::F64]),
    ) {
        let at = [format!("x={point},y={point},z={point}")];
        match differentiate(&src, &at, dtype, true) {
            Ok(d) => {
                let n = d.names.len();
                prop_assert_eq!(d.grad.len(), n);
                prop_assert_eq!(render_text(&d).lines().count(), 1 + n + n * n);
            }
            Err(e) => {
                prop_assert_eq!(e.exit_code(), 2);
                prop_assert!(e.to_string().starts_with("error: "));
            }
        }
    }
}

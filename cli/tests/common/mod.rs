//! Helpers shared by the integration tests.
#![allow(dead_code)]

use tensorgrad_cli::expr::{Expr, ExprKind};

/// `e` with every operator node parenthesized, e.g. `(-(x ** 2))`, so tests
/// can state a tree's shape as text. Numbers print with `{:?}`, which parses
/// back to the same `f64`.
pub fn full_parens(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Num(v) => format!("{v:?}"),
        ExprKind::Var(name) => name.clone(),
        ExprKind::Const(c) => c.name().to_string(),
        ExprKind::Unary { op, operand } => format!("({}{})", op.symbol(), full_parens(operand)),
        ExprKind::Binary { op, lhs, rhs } => format!(
            "({} {} {})",
            full_parens(lhs),
            op.symbol(),
            full_parens(rhs)
        ),
        ExprKind::Call { func, arg } => format!("{}({})", func.name(), full_parens(arg)),
    }
}

/// Parses `src`, panicking with the rendered error if it fails.
pub fn parse_ok(src: &str) -> Expr {
    match tensorgrad_cli::expr::parse(src) {
        Ok(e) => e,
        Err(err) => panic!("{src:?} failed to parse:\n{}", err.render(src)),
    }
}

/// Parses `src` and returns its fully parenthesized form.
pub fn shape(src: &str) -> String {
    full_parens(&parse_ok(src))
}

/// Parses `src`, which must fail, and returns the rendered error.
pub fn rendered_error(src: &str) -> String {
    match tensorgrad_cli::expr::parse(src) {
        Ok(e) => panic!("{src:?} parsed unexpectedly as {}", full_parens(&e)),
        Err(err) => err.render(src),
    }
}

//! Successful parses: precedence, associativity, numbers, names, spans.

mod common;

use common::{parse_ok, shape};
use tensorgrad_cli::expr::{parse, BinOp, Constant, Expr, ExprKind, Func, Span, UnaryOp};

#[test]
fn power_binds_tighter_than_unary_minus_on_its_left() {
    assert_eq!(shape("-x**2"), "(-(x ** 2.0))");
    assert_eq!(shape("-2**2"), "(-(2.0 ** 2.0))");
    assert_eq!(shape("(-x)**2"), "((-x) ** 2.0)");
}

#[test]
fn power_is_right_associative() {
    assert_eq!(shape("2**3**2"), "(2.0 ** (3.0 ** 2.0))");
    assert_eq!(shape("(2**3)**2"), "((2.0 ** 3.0) ** 2.0)");
}

#[test]
fn exponent_may_carry_a_sign() {
    assert_eq!(shape("2**-1"), "(2.0 ** (-1.0))");
    assert_eq!(shape("2**+1"), "(2.0 ** (+1.0))");
    assert_eq!(shape("x**-y**z"), "(x ** (-(y ** z)))");
    assert_eq!(shape("2**--x"), "(2.0 ** (-(-x)))");
}

#[test]
fn tutorial_polynomials() {
    assert_eq!(
        shape("u**2 + v**3 + 2*u*v + u + v"),
        "(((((u ** 2.0) + (v ** 3.0)) + ((2.0 * u) * v)) + u) + v)"
    );
    assert_eq!(
        shape("6*x**2 + 2*x + 4"),
        "(((6.0 * (x ** 2.0)) + (2.0 * x)) + 4.0)"
    );
    assert_eq!(shape("10*x**3"), "(10.0 * (x ** 3.0))");
    assert_eq!(shape("3*a**3 - b**2"), "((3.0 * (a ** 3.0)) - (b ** 2.0))");
}

#[test]
fn left_associative_levels() {
    assert_eq!(shape("a - b - c"), "((a - b) - c)");
    assert_eq!(shape("a / b / c"), "((a / b) / c)");
    assert_eq!(shape("a * b / c * d"), "(((a * b) / c) * d)");
    assert_eq!(shape("a - b * c + d"), "((a - (b * c)) + d)");
    assert_eq!(shape("a - (b - c)"), "(a - (b - c))");
}

#[test]
fn unary_operators() {
    assert_eq!(shape("--x"), "(-(-x))");
    assert_eq!(shape("-+-x"), "(-(+(-x)))");
    assert_eq!(shape("2*-x"), "(2.0 * (-x))");
    assert_eq!(shape("x - -1"), "(x - (-1.0))");
    assert_eq!(shape("x--1"), "(x - (-1.0))");
    assert_eq!(shape("-x*y"), "((-x) * y)");
    assert_eq!(shape("-sin(x)**2"), "(-(sin(x) ** 2.0))");
}

#[test]
fn calls_and_constants() {
    assert_eq!(
        shape("sin(x)**2 + cos(x)**2"),
        "((sin(x) ** 2.0) + (cos(x) ** 2.0))"
    );
    for f in Func::ALL {
        let e = parse_ok(&format!("{}(x)", f.name()));
        assert!(matches!(e.kind, ExprKind::Call { func, .. } if func == f));
    }
    assert_eq!(shape("exp(-x**2/2)"), "exp(((-(x ** 2.0)) / 2.0))");
    assert_eq!(shape("2*pi*e"), "((2.0 * pi) * e)");
    assert_eq!(parse_ok("pi").kind, ExprKind::Const(Constant::Pi));
    assert_eq!(parse_ok("e").kind, ExprKind::Const(Constant::E));
    assert_eq!(parse_ok("((x))").kind, ExprKind::Var("x".into()));
    assert_eq!(shape("sigmoid(relu(abs(x)))"), "sigmoid(relu(abs(x)))");
    assert_eq!(shape("sin(x,)"), "sin(x)");
}

#[test]
fn module_prefixes() {
    assert_eq!(shape("torch.sin(x) + math.exp(y)"), "(sin(x) + exp(y))");
    assert_eq!(shape("np.sqrt(x) * numpy.tanh(x)"), "(sqrt(x) * tanh(x))");
    assert_eq!(shape("math.pi * torch.e"), "(pi * e)");
    assert_eq!(shape("torch . sin (x)"), "sin(x)");
    // A module name alone is an ordinary variable.
    assert_eq!(shape("torch + np"), "(torch + np)");
    let e = parse_ok("torch.sin(x)");
    assert_eq!(e.span, Span::new(0, 12));
}

#[test]
fn numbers() {
    let cases: &[(&str, f64)] = &[
        ("3", 3.0),
        ("2.5", 2.5),
        (".5", 0.5),
        ("3.", 3.0),
        ("1e-3", 1e-3),
        ("2.5E+4", 2.5e4),
        ("1E5", 1e5),
        ("1.e2", 100.0),
        (".5e1", 5.0),
        ("0", 0.0),
        ("00", 0.0),
        ("0.0", 0.0),
        ("007.5", 7.5),
        ("09e1", 90.0),
        ("1_000", 1000.0),
        ("1_0.2_5e1_0", 10.25e10),
        ("0x1F", 31.0),
        ("0X_ff", 255.0),
        ("0o17", 15.0),
        ("0b1010_1010", 170.0),
        ("1e308", 1e308),
        ("1e-400", 0.0),
        ("123456789012345678901234567890", 1.2345678901234568e29),
    ];
    for &(src, want) in cases {
        assert_eq!(parse_ok(src).kind, ExprKind::Num(want), "{src}");
    }
}

#[test]
fn names() {
    assert_eq!(parse_ok("_").kind, ExprKind::Var("_".into()));
    assert_eq!(parse_ok("x_1").kind, ExprKind::Var("x_1".into()));
    assert_eq!(parse_ok("Sin").kind, ExprKind::Var("Sin".into()));
    assert_eq!(parse_ok("pi2").kind, ExprKind::Var("pi2".into()));
    assert_eq!(parse_ok("e1").kind, ExprKind::Var("e1".into()));
    assert_eq!(
        parse_ok("learning_rate").kind,
        ExprKind::Var("learning_rate".into())
    );
}

#[test]
fn whitespace_is_ignored() {
    assert_eq!(shape(" \t6 *x**  2\n+ 1 "), "((6.0 * (x ** 2.0)) + 1.0)");
    // Non-breaking and ideographic spaces, as pasted from web pages.
    assert_eq!(shape("x\u{a0}+\u{3000}y"), "(x + y)");
}

#[test]
fn variables_in_order_of_first_appearance() {
    let e = parse_ok("u**2 + v**3 + 2*u*v + u + v");
    assert_eq!(e.variables(), ["u", "v"]);
    let e = parse_ok("b*a + sin(c) - a*pi*e + b");
    assert_eq!(e.variables(), ["b", "a", "c"]);
    assert!(parse_ok("2*pi + e").variables().is_empty());
    let e = parse_ok("x*y");
    assert_eq!(e.find_variable("y"), Some(Span::new(2, 3)));
    assert_eq!(e.find_variable("z"), None);
}

#[test]
fn every_node_carries_its_span() {
    let src = "6*x**2 + (x)";
    let e = parse_ok(src);
    assert_eq!(e.span, Span::new(0, 12));
    let ExprKind::Binary { op, lhs, rhs } = &e.kind else {
        panic!("not binary")
    };
    assert_eq!(*op, BinOp::Add);
    assert_eq!(lhs.span.slice(src), "6*x**2");
    // Parentheses around a leaf are not part of the leaf's span...
    assert_eq!(rhs.span.slice(src), "x");
    let ExprKind::Binary { rhs: pow, .. } = &lhs.kind else {
        panic!("not binary")
    };
    assert_eq!(pow.span.slice(src), "x**2");

    // ...but are part of the enclosing node's span.
    let src = "(x+1)*2";
    let e = parse_ok(src);
    assert_eq!(e.span.slice(src), "(x+1)*2");
    let src = "-(x)";
    assert_eq!(parse_ok(src).span.slice(src), "-(x)");
    let src = "  sin( x )  ";
    assert_eq!(parse_ok(src).span.slice(src), "sin( x )");
}

#[test]
fn spans_count_characters_not_bytes() {
    // U+3000 is three bytes in UTF-8 but one column.
    let src = "x\u{3000}*\u{3000}y";
    let e = parse_ok(src);
    assert_eq!(e.find_variable("y"), Some(Span::new(4, 5)));
    assert_eq!(e.find_variable("y").unwrap().column(), 5);
    assert_eq!(e.find_variable("y").unwrap().slice(src), "y");
}

#[test]
fn display_prints_minimal_parentheses_that_reparse() {
    let cases = [
        ("6*x**2 + 2*x + 4", "6*x**2 + 2*x + 4"),
        ("((-x))**2", "(-x)**2"),
        ("-(x**2)", "-x**2"),
        ("2**(3**2)", "2**3**2"),
        ("(2**3)**2", "(2**3)**2"),
        ("a - (b - c)", "a - (b - c)"),
        ("(a - b) - c", "a - b - c"),
        ("a / (b * c)", "a/(b*c)"),
        ("2**(-1)", "2**-1"),
        ("x - (-1)", "x - -1"),
        ("torch.sin(x)", "sin(x)"),
        ("1e-3 * 1e20 + 0.5", "0.001*1e20 + 0.5"),
        ("1e-7", "1e-7"),
    ];
    for (src, want) in cases {
        let e = parse_ok(src);
        assert_eq!(e.to_string(), want, "{src}");
        assert!(parse_ok(want).eq_ignoring_spans(&e), "{src}");
    }
}

#[test]
fn hand_built_trees_display_and_compare() {
    let num = |v| Expr::new(ExprKind::Num(v), Span::default());
    let neg_lit = Expr::new(
        ExprKind::Binary {
            op: BinOp::Pow,
            lhs: Box::new(num(-2.0)),
            rhs: Box::new(num(2.0)),
        },
        Span::default(),
    );
    assert_eq!(neg_lit.to_string(), "(-2)**2");
    let neg = Expr::new(
        ExprKind::Unary {
            op: UnaryOp::Neg,
            operand: Box::new(num(2.0)),
        },
        Span::default(),
    );
    assert!(!neg.eq_ignoring_spans(&num(-2.0)));
    assert!(neg.eq_ignoring_spans(&parse_ok("-2")));
    assert_eq!(parse_ok("-(2)").depth(), 2);
}

#[test]
fn from_str_matches_parse() {
    let e: Expr = "x**2".parse().unwrap();
    assert_eq!(e, parse("x**2").unwrap());
    assert!("x +".parse::<Expr>().is_err());
}

//! Property tests. Case counts follow proptest's default (256 per property),
//! which `PROPTEST_CASES` overrides for long runs.

mod common;

use common::full_parens;
use proptest::prelude::*;
use proptest::sample::select;
use tensorgrad_cli::expr::{
    parse, BinOp, Constant, Expr, ExprKind, Func, ParseError, Span, UnaryOp, MAX_DEPTH,
};

/// Characters of the language plus junk: multi-byte text, invisible and
/// control characters, operators Python has and this language does not.
const ALPHABET: &[char] = &[
    '0', '1', '2', '9', '.', 'e', 'E', '_', '+', '-', '*', '/', '(', ')', ',', ' ', 'x', 'y', 's',
    'i', 'n', 'p', 'o', 'b', 'a', 'c', 't', 'h', 'r', 'q', 'l', 'g', 'X', '\t', '\n', '^', '$',
    '%', '=', '[', 'é', '×', '−', '²', 'π', '\u{a0}', '\u{3000}', '\u{200b}', '\0', '🦀',
];

/// Fragments that often form valid expressions, to get deeper than random
/// characters do.
const FRAGMENTS: &[&str] = &[
    "x",
    "y",
    "_v1",
    "2",
    "0.5",
    ".5",
    "3.",
    "1e-3",
    "2.5E+4",
    "1_000",
    "0x1F",
    "pi",
    "e",
    "+",
    "-",
    "*",
    "/",
    "**",
    "(",
    ")",
    "sin(",
    "sigmoid(",
    "torch.exp(",
    "math.pi",
    ",",
    " ",
    "2x",
    "))",
    "((",
    "---",
    "e5",
    "1e",
    "sinn(",
    "np.",
    "..",
    "é",
    "\t",
];

fn arbitrary_text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(select(ALPHABET), 0..40).prop_map(String::from_iter),
        proptest::collection::vec(select(FRAGMENTS), 0..30).prop_map(|v| v.concat()),
        any::<String>(),
    ]
}

/// Checks everything a parse result promises about `src`.
fn check_result(src: &str, result: &Result<Expr, ParseError>) -> Result<(), TestCaseError> {
    let n = src.chars().count();
    match result {
        Ok(e) => {
            prop_assert!(e.depth() <= MAX_DEPTH);
            for node in e.preorder() {
                prop_assert!(node.span.start < node.span.end && node.span.end <= n);
                match &node.kind {
                    ExprKind::Var(name) => prop_assert_eq!(node.span.slice(src), name.as_str()),
                    ExprKind::Num(v) => prop_assert!(v.is_finite() && *v >= 0.0),
                    _ => {}
                }
            }
            // Printing and reparsing, in both styles, gives the same tree.
            let printed = e.to_string();
            let again = parse(&printed).map_err(|err| {
                TestCaseError::fail(format!(
                    "{printed:?} from {src:?}: {}",
                    err.render(&printed)
                ))
            })?;
            prop_assert!(again.eq_ignoring_spans(e), "{printed:?} from {src:?}");
            let full = full_parens(e);
            prop_assert!(parse(&full).unwrap().eq_ignoring_spans(e), "{full:?}");
            let vars = e.variables();
            for (i, v) in vars.iter().enumerate() {
                prop_assert!(!vars[..i].contains(v));
                prop_assert!(e.find_variable(v).is_some());
            }
        }
        Err(err) => {
            prop_assert!(err.span.start <= err.span.end && err.span.end <= n);
            let rendered = err.render(src);
            let lines: Vec<&str> = rendered.lines().collect();
            prop_assert!(lines[0].starts_with("error: "));
            prop_assert!(lines[0].chars().count() < 400, "{}", lines[0]);
            if lines.len() > 1 {
                prop_assert_eq!(lines.len(), 3);
                prop_assert!(lines[1].chars().count() <= 2 + 3 + 100 + 3);
                prop_assert!(lines[2].trim_start().chars().all(|c| c == '^'));
            }
            // Rendering against other text never panics either.
            let _ = err.render("");
            let _ = err.render("é");
        }
    }
    Ok(())
}

fn leaf() -> impl Strategy<Value = ExprKind> {
    let number = prop_oneof![
        (0u32..1000).prop_map(f64::from),
        (0.0f64..10.0),
        any::<f64>().prop_filter_map("finite", |v| v.is_finite().then_some(v.abs())),
    ];
    let reserved = |s: &String| Func::from_name(s).is_none() && Constant::from_name(s).is_none();
    prop_oneof![
        number.prop_map(ExprKind::Num),
        "[a-z_][a-z0-9_]{0,4}"
            .prop_filter("function or constant name", reserved)
            .prop_map(ExprKind::Var),
        select(Constant::ALL.to_vec()).prop_map(ExprKind::Const),
    ]
}

fn node(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

/// Random well-formed trees, up to 8 levels deep.
fn arbitrary_expr() -> impl Strategy<Value = Expr> {
    let ops = vec![BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Pow];
    leaf()
        .prop_map(node)
        .prop_recursive(8, 64, 2, move |inner| {
            prop_oneof![
                (select(vec![UnaryOp::Neg, UnaryOp::Pos]), inner.clone()).prop_map(|(op, e)| node(
                    ExprKind::Unary {
                        op,
                        operand: Box::new(e)
                    }
                )),
                (select(ops.clone()), inner.clone(), inner.clone()).prop_map(|(op, l, r)| node(
                    ExprKind::Binary {
                        op,
                        lhs: Box::new(l),
                        rhs: Box::new(r)
                    }
                )),
                (select(Func::ALL.to_vec()), inner).prop_map(|(func, arg)| node(ExprKind::Call {
                    func,
                    arg: Box::new(arg)
                })),
            ]
        })
}

proptest! {
    #[test]
    fn parse_never_panics(src in arbitrary_text()) {
        let result = parse(&src);
        check_result(&src, &result)?;
    }

    #[test]
    fn fully_parenthesized_trees_round_trip(e in arbitrary_expr()) {
        let text = full_parens(&e);
        let parsed = parse(&text).map_err(|err| TestCaseError::fail(err.render(&text)))?;
        prop_assert!(parsed.eq_ignoring_spans(&e), "{text}");
        check_result(&text, &Ok(parsed))?;
    }

    #[test]
    fn minimally_parenthesized_trees_round_trip(e in arbitrary_expr()) {
        let text = e.to_string();
        let parsed = parse(&text).map_err(|err| TestCaseError::fail(err.render(&text)))?;
        prop_assert!(parsed.eq_ignoring_spans(&e), "{text}");
    }
}

//! Hostile inputs: deep nesting, long chains and names. These run on the
//! default test thread (2 MiB of stack), so a recursion that scales with the
//! input would overflow here.

mod common;

use common::{full_parens, parse_ok};
use tensorgrad_cli::expr::{parse, ErrorKind, Expr, ExprKind, MAX_DEPTH};

const HUGE: usize = 20_000;

fn assert_too_deep(src: &str) {
    match parse(src) {
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::TooDeep { limit: MAX_DEPTH });
            let rendered = e.render(src);
            assert!(rendered.starts_with("error: expression nested too deeply at column "));
            assert!(rendered.lines().all(|l| l.chars().count() < 200));
        }
        Ok(e) => panic!("parsed a tree {} deep", e.depth()),
    }
}

/// Exercises every recursive operation on a tree that is as deep as the
/// parser allows: they must all fit comfortably on the test thread's stack.
fn exercise(src: &str) -> Expr {
    let e = parse_ok(src);
    assert!(e.depth() <= MAX_DEPTH);
    let copy = e.clone();
    assert_eq!(copy, e);
    assert!(!format!("{e:?}").is_empty());
    assert!(!full_parens(&e).is_empty());
    let printed = e.to_string();
    assert!(parse_ok(&printed).eq_ignoring_spans(&e), "{printed}");
    let _ = e.variables();
    drop(copy);
    e
}

#[test]
fn twenty_thousand_nested_parentheses() {
    // Parentheses add no tree depth: any number may nest.
    let e = exercise(&format!("{}x{}", "(".repeat(HUGE), ")".repeat(HUGE)));
    assert_eq!(e.kind, ExprKind::Var("x".into()));
    let e = exercise(&format!("{}x{}+1", "(".repeat(HUGE), ")".repeat(HUGE)));
    assert_eq!(e.depth(), 2);
    // Unclosed: the innermost '(' is reported.
    let e = parse(&format!("{}x", "(".repeat(HUGE))).unwrap_err();
    assert_eq!((&e.kind, e.column()), (&ErrorKind::UnclosedParen, HUGE));
    let e = parse(&"(".repeat(HUGE)).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::UnexpectedEnd { .. }));
    // Operators inside the parentheses do add depth.
    assert_too_deep(&format!("{}x{}", "(-".repeat(HUGE), ")".repeat(HUGE)));
    assert_too_deep(&format!("{}x{}", "x*(".repeat(HUGE), ")".repeat(HUGE)));
    assert_too_deep(&format!("{}x{}", "sin((".repeat(HUGE), "))".repeat(HUGE)));
    // Unmatched closers fail at the first one.
    assert_eq!(parse(&")".repeat(HUGE)).unwrap_err().column(), 1);
    assert_eq!(
        parse(&format!("x{}", ")".repeat(HUGE))).unwrap_err().kind,
        ErrorKind::UnmatchedCloseParen
    );
}

#[test]
fn twenty_thousand_unary_minuses() {
    assert_too_deep(&format!("{}x", "-".repeat(HUGE)));
    assert_too_deep(&format!("{}x", "+-".repeat(HUGE)));
    assert_too_deep(&format!("2**{}x", "-".repeat(HUGE)));
}

#[test]
fn twenty_thousand_exponents() {
    assert_too_deep(&format!("{}x", "x**".repeat(HUGE)));
    assert_too_deep(&format!("{}x", "x**-".repeat(HUGE)));
}

#[test]
fn twenty_thousand_calls_and_operator_chains() {
    assert_too_deep(&format!("{}x{}", "sin(".repeat(HUGE), ")".repeat(HUGE)));
    assert_too_deep(&format!("{}x", "x+".repeat(HUGE)));
    assert_too_deep(&format!("{}x", "x*".repeat(HUGE)));
    assert_too_deep(&format!("{}x", "x/-".repeat(HUGE)));
}

#[test]
fn nesting_exactly_at_the_limit_parses() {
    let n = MAX_DEPTH;
    // Each construct adds a tree level on top of the leaf.
    let cases: [(&dyn Fn(usize) -> String, &str); 6] = [
        (&|k| format!("{}x", "-".repeat(k)), "unary"),
        (&|k| format!("{}x", "x**".repeat(k)), "power"),
        (&|k| format!("{}x", "x+".repeat(k)), "sum"),
        (&|k| format!("{}x", "x/".repeat(k)), "quotient"),
        (
            &|k| format!("{}x{}", "sin(".repeat(k), ")".repeat(k)),
            "call",
        ),
        (
            &|k| format!("{}x{}", "-(".repeat(k), ")".repeat(k)),
            "negated group",
        ),
    ];
    for (make, what) in cases {
        let e = exercise(&make(n - 1));
        assert_eq!(e.depth(), n, "{what}");
        assert_too_deep(&make(n));
    }
}

#[test]
fn ten_thousand_character_identifier() {
    let name = "v".repeat(10_000);
    let e = parse_ok(&format!("{name}**2 + 2*{name}"));
    assert_eq!(e.variables(), [name.as_str()]);
    assert!(parse(&format!("{name}(x)")).is_err());
    assert!(parse(&format!("2{name}")).is_err());
    assert!(parse(&format!("{name}.sin(x)")).is_err());
    assert!(parse(&format!("torch.{name}")).is_err());
    let long_underscored = format!("_{}", "a1_".repeat(3_334));
    assert_eq!(parse_ok(&long_underscored).variables().len(), 1);
}

#[test]
fn long_flat_inputs() {
    // Long numbers: too large, tiny, or many digits after the point.
    assert!(matches!(
        parse(&"1".repeat(100_000)).unwrap_err().kind,
        ErrorKind::InvalidNumber { .. }
    ));
    parse_ok(&format!("0.{}1", "0".repeat(100_000)));
    parse_ok(&format!("1.{}", "2".repeat(100_000)));
    // Lots of whitespace around a short expression.
    let pad = " ".repeat(100_000);
    assert_eq!(
        parse_ok(&format!("{pad}x{pad}+{pad}1{pad}")).to_string(),
        "x + 1"
    );
    // Many arguments, each shallow.
    let args = vec!["x"; 10_000].join(",");
    assert!(matches!(
        parse(&format!("sin({args})")).unwrap_err().kind,
        ErrorKind::WrongArgCount { found: 10_000, .. }
    ));
    // A long sum of products, just inside the depth limit (depth 202).
    let wide = vec!["x*y*z"; 200].join(" + ");
    assert_eq!(parse_ok(&wide).variables(), ["x", "y", "z"]);
}

#[test]
fn parsing_needs_little_stack_whatever_the_input() {
    // The parser keeps its stacks on the heap: on a thread with only 64 KiB
    // of stack it handles the worst inputs, at and far past the limit.
    let n = MAX_DEPTH;
    let inputs = [
        format!("{}x{}", "(".repeat(HUGE), ")".repeat(HUGE)),
        format!("{}x{}", "sin(".repeat(n - 1), ")".repeat(n - 1)),
        format!("{}x{}", "sin(".repeat(HUGE), ")".repeat(HUGE)),
        format!("{}x", "x**".repeat(n - 1)),
        format!("{}x", "x**-".repeat(HUGE)),
        format!("{}x", "-".repeat(HUGE)),
        "(".repeat(HUGE),
    ];
    std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            for src in &inputs {
                // Parsed trees are dropped here too (at most MAX_DEPTH deep).
                let _ = parse(src).map(|e| e.depth());
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn trees_at_the_limit_leave_room_on_the_default_stack() {
    // Recursive passes over a tree at the depth limit (derived Clone,
    // Debug, PartialEq and Drop, Display) fit in 512 KiB, a quarter of the
    // default test thread's stack; later recursive stages get the rest.
    let n = MAX_DEPTH;
    let inputs = [
        format!("{}x{}", "sin(".repeat(n - 1), ")".repeat(n - 1)),
        format!("{}x", "x**".repeat(n - 1)),
        format!("{}x", "-".repeat(n - 1)),
        format!("{}x", "x/".repeat(n - 1)),
    ];
    let trees: Vec<Expr> = inputs.iter().map(|s| parse_ok(s)).collect();
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || {
            for e in trees {
                let copy = e.clone();
                assert_eq!(copy, e);
                let _ = (format!("{e:?}"), e.to_string());
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

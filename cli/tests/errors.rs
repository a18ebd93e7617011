//! Every error class: its kind, column and exact rendered message.

mod common;

use common::rendered_error;
use tensorgrad_cli::expr::{parse, ErrorKind, Func, ParseError, Span, MAX_DEPTH};

fn err(src: &str) -> ParseError {
    parse(src).expect_err(src)
}

/// Asserts that `src` fails with exactly the rendered `lines`.
fn assert_renders(src: &str, lines: &[&str]) {
    assert_eq!(rendered_error(src), lines.join("\n"), "input {src:?}");
}

#[test]
fn unexpected_character() {
    assert_renders(
        "x ^ 2",
        &[
            "error: unexpected character '^' at column 3: use '**' for powers, as in Python: x**2",
            "  x ^ 2",
            "    ^",
        ],
    );
    assert_renders(
        "x + $ )",
        &[
            "error: unexpected character '$' at column 5",
            "  x + $ )",
            "      ^",
        ],
    );
    assert_renders(
        "x × y",
        &[
            "error: unexpected character '×' at column 3: use '*' for multiplication",
            "  x × y",
            "    ^",
        ],
    );
    assert_renders(
        "y = x**2",
        &[
            "error: unexpected character '=' at column 3: enter only the expression, \
             e.g. x**2 rather than y = x**2",
            "  y = x**2",
            "    ^",
        ],
    );
    assert_renders(
        "θ + 1",
        &[
            "error: unexpected character 'θ' at column 1: names must be ASCII: \
             a letter or '_', then letters, digits or '_'",
            "  θ + 1",
            "  ^",
        ],
    );
    // Invisible characters are named by code point and shown as '?'.
    assert_renders(
        "x\u{200B}+ 1",
        &[
            "error: unexpected character U+200B at column 2",
            "  x?+ 1",
            "   ^",
        ],
    );
    assert!(matches!(
        err("x − 1").kind,
        ErrorKind::UnexpectedChar {
            ch: '−',
            hint: Some(_)
        }
    ));
}

#[test]
fn unexpected_token() {
    assert_renders(
        "6*x**2 + ) 2",
        &[
            "error: unexpected ')' at column 10: expected an operand after '+'",
            "  6*x**2 + ) 2",
            "           ^",
        ],
    );
    assert_renders(
        "x***2",
        &[
            "error: unexpected '*' at column 4: expected an operand after '**'",
            "  x***2",
            "     ^",
        ],
    );
    assert_renders(
        "sin x",
        &[
            "error: unexpected name 'x' at column 5: expected '(' after the function name 'sin'",
            "  sin x",
            "      ^",
        ],
    );
    assert_renders(
        "(x, y)",
        &[
            "error: unexpected ',' at column 3: \
             expected an operator or ')' to close the '(' at column 1",
            "  (x, y)",
            "    ^",
        ],
    );
    assert_renders(
        "1, 2",
        &[
            "error: unexpected ',' at column 2: expected an operator or the end of the input",
            "  1, 2",
            "   ^",
        ],
    );
    assert_renders(
        "x.y",
        &[
            "error: unexpected '.' at column 2: expected an operator \
             ('.' is only understood after torch, math, numpy or np)",
            "  x.y",
            "   ^",
        ],
    );
    assert_renders(
        "()",
        &[
            "error: unexpected ')' at column 2: expected an operand after '('",
            "  ()",
            "   ^",
        ],
    );
    assert_renders(
        "**x",
        &[
            "error: unexpected '**' at column 1: expected an operand",
            "  **x",
            "  ^^",
        ],
    );
    let e = err("torch.tau");
    assert_eq!(e.span, Span::new(6, 9));
    assert!(matches!(e.kind, ErrorKind::UnexpectedToken { .. }));
}

#[test]
fn unexpected_end_of_input() {
    assert_renders(
        "x +",
        &[
            "error: unexpected end of input at column 4: expected an operand after '+'",
            "  x +",
            "     ^",
        ],
    );
    assert_renders(
        "2**",
        &[
            "error: unexpected end of input at column 4: expected an operand after '**'",
            "  2**",
            "     ^",
        ],
    );
    assert_renders(
        "torch.",
        &[
            "error: unexpected end of input at column 7: \
             expected a function or constant name after 'torch.'",
            "  torch.",
            "        ^",
        ],
    );
    assert_eq!(err("-").span, Span::new(1, 1));
}

#[test]
fn unbalanced_parentheses_point_at_the_unclosed_paren() {
    assert_renders(
        "(x + 1",
        &[
            "error: unbalanced parentheses: '(' at column 1 is never closed",
            "  (x + 1",
            "  ^",
        ],
    );
    assert_renders(
        "2*(x + sin(x)",
        &[
            "error: unbalanced parentheses: '(' at column 3 is never closed",
            "  2*(x + sin(x)",
            "    ^",
        ],
    );
    assert_renders(
        "sin(x",
        &[
            "error: unbalanced parentheses: '(' at column 4 is never closed",
            "  sin(x",
            "     ^",
        ],
    );
    assert_renders(
        "x + 1)",
        &[
            "error: unbalanced parentheses: ')' at column 6 has no matching '('",
            "  x + 1)",
            "       ^",
        ],
    );
    assert_eq!(err("(x))").kind, ErrorKind::UnmatchedCloseParen);
}

#[test]
fn empty_expression() {
    for src in ["", "   ", "\t\n", "\u{3000}"] {
        assert_eq!(err(src).kind, ErrorKind::Empty);
        assert_renders(src, &["error: empty expression: nothing to parse"]);
    }
}

#[test]
fn unknown_function_lists_known_ones_and_suggests_the_closest() {
    assert_renders(
        "sinn(x)",
        &[
            "error: unknown function 'sinn' at column 1: did you mean 'sin'? \
             (known functions: sin, cos, tan, exp, log, sqrt, tanh, sigmoid, relu, abs)",
            "  sinn(x)",
            "  ^^^^",
        ],
    );
    assert_renders(
        "2*foo(x)",
        &[
            "error: unknown function 'foo' at column 3 \
             (known functions: sin, cos, tan, exp, log, sqrt, tanh, sigmoid, relu, abs; \
             to multiply, write 'foo*(...)')",
            "  2*foo(x)",
            "    ^^^",
        ],
    );
    let suggested = |src| match err(src).kind {
        ErrorKind::UnknownFunction { suggestion, .. } => suggestion,
        other => panic!("{src}: {other:?}"),
    };
    assert_eq!(suggested("ln(x)"), Some(Func::Log));
    assert_eq!(suggested("Sigmoid(x)"), Some(Func::Sigmoid));
    assert_eq!(suggested("sigmod(x)"), Some(Func::Sigmoid));
    assert_eq!(suggested("torch.sqr(x)"), Some(Func::Sqrt));
    assert_eq!(suggested("x(y+1)"), None);
    assert_eq!(suggested("pi(2)"), None);
}

#[test]
fn implicit_multiplication_suggests_the_star() {
    assert_renders(
        "2x + 1",
        &[
            "error: implicit multiplication is not supported at column 2: did you mean 2*x?",
            "  2x + 1",
            "   ^",
        ],
    );
    assert_renders(
        "(x+1)(x-1)",
        &[
            "error: implicit multiplication is not supported at column 6: \
             did you mean (x+1)*(x-1)?",
            "  (x+1)(x-1)",
            "       ^",
        ],
    );
    let hint = |src| match err(src).kind {
        ErrorKind::ImplicitMultiplication { left, right } => format!("{left}*{right}"),
        other => panic!("{src}: {other:?}"),
    };
    assert_eq!(hint("x**2y"), "x**2*y");
    assert_eq!(hint("-2 sin(x)"), "-2*sin(x)");
    assert_eq!(hint("2e"), "2*e");
    assert_eq!(hint("1e5x"), "1e5*x");
    assert_eq!(hint("3 (x"), "3*(x");
    assert_eq!(hint("x y"), "x*y");
    assert_eq!(hint("sin(x y)"), "x*y");
    assert_eq!(hint("6*x**2 + 2x + 4"), "2*x");
    // Found by proptest: a newline inside the quoted operand broke the
    // one-line message. Quoted text is now kept on one line.
    assert_eq!(hint("0(\n0"), "0*( 0");
    assert_renders(
        "0(\n0",
        &[
            "error: implicit multiplication is not supported at column 2: did you mean 0*( 0?",
            "  0( 0",
            "   ^",
        ],
    );
}

#[test]
fn invalid_numbers() {
    assert_renders(
        "1e+ 2",
        &[
            "error: invalid number '1e+' at column 1: the exponent has no digits",
            "  1e+ 2",
            "  ^^^",
        ],
    );
    assert_renders(
        "x + 1.2.3",
        &[
            "error: invalid number '1.2.3' at column 5: \
             a number has at most one '.' and no '.' in its exponent",
            "  x + 1.2.3",
            "      ^^^^^",
        ],
    );
    let reason = |src: &str| -> &'static str {
        match err(src).kind {
            ErrorKind::InvalidNumber { reason, .. } => reason,
            other => panic!("{src}: {other:?}"),
        }
    };
    assert_eq!(reason("1__0"), "'_' may only separate digits");
    assert_eq!(reason("1_"), "'_' may only separate digits");
    assert_eq!(reason("1._5"), "'_' may only separate digits");
    assert_eq!(reason("1e_5"), "'_' may only separate digits");
    assert_eq!(reason("1e-"), "the exponent has no digits");
    assert_eq!(
        reason("012"),
        "leading zeros are not allowed in integers (as in Python)"
    );
    assert_eq!(reason("1e999"), "too large for a 64-bit float");
    assert_eq!(reason(&"9".repeat(400)), "too large for a 64-bit float");
    assert_eq!(reason("0x"), "no digits after the base prefix");
    assert_eq!(reason("0b102"), "digit not valid for this base");
    assert_eq!(reason("0x1__2"), "'_' may only separate digits");
    assert_eq!(
        reason(&format!("0x{}", "f".repeat(300))),
        "too large for a 64-bit float"
    );
}

#[test]
fn wrong_number_of_arguments() {
    assert_renders(
        "sin(x, y)",
        &[
            "error: sin() takes exactly 1 argument (2 given) at column 1",
            "  sin(x, y)",
            "  ^^^^^^^^^",
        ],
    );
    assert_renders(
        "1 + exp()",
        &[
            "error: exp() takes exactly 1 argument (0 given) at column 5",
            "  1 + exp()",
            "      ^^^^^",
        ],
    );
    assert_eq!(
        err("math.log(x, 2)").kind,
        ErrorKind::WrongArgCount {
            func: Func::Log,
            found: 2
        }
    );
}

#[test]
fn too_deep() {
    // 300 '+' operators: the 256th from the end would make the tree 257
    // levels deep. Pending operators are applied innermost first.
    let src = format!("{}x", "x+".repeat(300));
    let e = err(&src);
    assert_eq!(e.kind, ErrorKind::TooDeep { limit: MAX_DEPTH });
    assert_eq!(e.column(), 2 * MAX_DEPTH);
    assert_eq!(
        e.to_string(),
        "expression nested too deeply at column 512 (limit 256)"
    );
    let src = format!("{}x", "-".repeat(300));
    assert_renders(
        &src,
        &[
            "error: expression nested too deeply at column 45 (limit 256)",
            &format!("  ...{}...", "-".repeat(80)),
            &format!("  {}^", " ".repeat(43)),
        ],
    );
}

#[test]
fn the_first_problem_in_the_input_is_reported() {
    // A token error before a bad character wins, and vice versa.
    assert_eq!(err("x + ) $").column(), 5);
    assert_eq!(err("x + $ )").column(), 5);
    assert!(matches!(
        err("2x + $").kind,
        ErrorKind::ImplicitMultiplication { .. }
    ));
    assert!(matches!(
        err("(x + 1e+").kind,
        ErrorKind::InvalidNumber { .. }
    ));
}

#[test]
fn columns_count_characters_not_bytes() {
    // Each U+3000 (ideographic space) is 3 bytes; the ')' is byte 9 but
    // character 5. Whitespace is shown as plain spaces in the snippet.
    assert_renders(
        "x\u{3000}+\u{3000})",
        &[
            "error: unexpected ')' at column 5: expected an operand after '+'",
            "  x + )",
            "      ^",
        ],
    );
    // Multi-byte characters in the error itself and before it.
    assert_renders(
        "x\u{a0}*\u{a0}é",
        &[
            "error: unexpected character 'é' at column 5: names must be ASCII: \
             a letter or '_', then letters, digits or '_'",
            "  x * é",
            "      ^",
        ],
    );
    // Tabs and newlines count as one column and are shown as spaces.
    assert_renders(
        "x\t+\n)",
        &[
            "error: unexpected ')' at column 5: expected an operand after '+'",
            "  x + )",
            "      ^",
        ],
    );
}

#[test]
fn long_input_is_shown_as_a_window_around_the_error() {
    // 160 characters of "x + ", then the bad ')'.
    let src = format!("{}) + y", "x + ".repeat(40));
    let rendered = rendered_error(&src);
    let lines: Vec<&str> = rendered.lines().collect();
    assert_eq!(
        lines[0],
        "error: unexpected ')' at column 161: expected an operand after '+'"
    );
    // The window ends at the end of the input, so only the start is cut.
    assert_eq!(lines[1], format!("  ...{}", &src[85..]));
    assert_eq!(lines[2].find('^'), lines[1].find(')'));
    assert_eq!(lines[1].chars().count(), 2 + 3 + 80);

    // An error in the middle: both ends are cut.
    let src = format!("{}2x + {}", "x + ".repeat(40), "y + ".repeat(40));
    let rendered = rendered_error(&src);
    let lines: Vec<&str> = rendered.lines().collect();
    assert!(lines[1].starts_with("  ...") && lines[1].ends_with("..."));
    assert_eq!(lines[1].chars().count(), 2 + 3 + 80 + 3);
    let caret = lines[2].find('^').unwrap();
    assert_eq!(&lines[1][caret - 1..caret + 1], "2x");
    assert_eq!(lines[2].trim(), "^");

    // Multi-byte text in a long input keeps the caret aligned by characters.
    let src = format!("{}é", "x\u{3000}+\u{3000}".repeat(50));
    let rendered = rendered_error(&src);
    let lines: Vec<&str> = rendered.lines().collect();
    let line_chars: Vec<char> = lines[1].chars().collect();
    let caret_col = lines[2].chars().position(|c| c == '^').unwrap();
    assert_eq!(line_chars[caret_col], 'é');
}

#[test]
fn long_names_are_shortened_in_messages() {
    let name = "a".repeat(10_000);
    let src = format!("{name}(x)");
    let rendered = rendered_error(&src);
    let lines: Vec<&str> = rendered.lines().collect();
    assert!(lines[0].starts_with(&format!(
        "error: unknown function '{}...' at column 1",
        "a".repeat(29)
    )));
    assert!(lines[0].len() < 250);
    assert_eq!(lines[1], format!("  {}...", "a".repeat(80)));
    assert_eq!(lines[2], format!("  {}", "^".repeat(80)));

    let e = err(&format!("2{name}"));
    assert_eq!(
        e.to_string(),
        format!(
            "implicit multiplication is not supported at column 2: did you mean 2*{}...?",
            "a".repeat(29)
        )
    );
}

#[test]
fn render_never_panics_on_other_text() {
    let e = err("(((x + 1");
    assert!(e.render("").contains("never closed"));
    assert!(e.render("é").contains("never closed"));
    let e = err(&format!("{}+", "x+".repeat(100)));
    assert!(e.render("short").ends_with('^'));
}

#[test]
fn error_kind_display_names_the_class() {
    assert_eq!(err("(x").kind.to_string(), "unbalanced parentheses");
    assert_eq!(err("x)").kind.to_string(), "unbalanced parentheses");
    assert_eq!(err("2x").kind.to_string(), "implicit multiplication");
    assert_eq!(err("").kind.to_string(), "empty expression");
}

#[test]
fn render_snippet_points_at_any_span() {
    use tensorgrad_cli::expr::render_snippet;
    let src = "u**2 + v\u{3000}* w";
    let e = tensorgrad_cli::expr::parse(src).unwrap();
    let w = e.find_variable("w").unwrap();
    assert_eq!(render_snippet(src, w), "  u**2 + v * w\n             ^");
    assert_eq!(
        render_snippet(src, e.span),
        format!("  u**2 + v * w\n  {}", "^".repeat(12))
    );
    // Past the end: the caret sits just after the input.
    assert_eq!(render_snippet("x", Span::new(7, 9)), "  x\n   ^");
    assert_eq!(render_snippet("", Span::new(0, 0)), "  \n  ^");
}

//! Every class of bad input exits with code 2, prints nothing on stdout,
//! and says what is wrong on stderr, with a caret under the bad part where
//! there is one.

mod support;

use support::{temp_dir, tensorgrad};

#[track_caller]
fn error(args: &[&str]) -> String {
    tensorgrad(args).input_error().to_string()
}

#[test]
fn parse_errors_point_at_the_column() {
    assert_eq!(
        error(&["diff", "6*x**2 + ) 2", "--at", "x=3"]),
        "error: unexpected ')' at column 10: expected an operand after '+'\n\
         \x20 6*x**2 + ) 2\n\
         \x20          ^\n"
    );
    assert_eq!(
        error(&["diff", "2x", "--at", "x=3"]),
        "error: implicit multiplication is not supported at column 2: did you mean 2*x?\n\
         \x20 2x\n\
         \x20  ^\n"
    );
}

#[test]
fn unknown_function() {
    assert_eq!(
        error(&["diff", "x + sinn(x)", "--at", "x=1"]),
        "error: unknown function 'sinn' at column 5: did you mean 'sin'? (known functions: \
         sin, cos, tan, exp, log, sqrt, tanh, sigmoid, relu, abs)\n\
         \x20 x + sinn(x)\n\
         \x20     ^^^^\n"
    );
}

#[test]
fn empty_expression() {
    assert_eq!(
        error(&["diff", ""]),
        "error: empty expression: nothing to parse\n"
    );
    assert_eq!(
        error(&["plot", "  ", "--from", "0", "--to", "1"]),
        "error: empty expression: nothing to parse\n"
    );
}

#[test]
fn variable_missing_from_at_points_at_its_first_occurrence() {
    assert_eq!(
        error(&["diff", "x*y + y", "--at", "x=1"]),
        "error: variable 'y' has no value: give it one with --at y=VALUE\n\
         \x20 x*y + y\n\
         \x20   ^\n"
    );
    assert_eq!(
        error(&["diff", "x*y + z"]),
        "error: variables 'x', 'y', 'z' have no value: give them values with \
         --at x=VALUE,y=VALUE,z=VALUE\n\
         \x20 x*y + z\n\
         \x20 ^\n"
    );
}

#[test]
fn malformed_at_points_into_the_at_argument() {
    assert_eq!(
        error(&["diff", "x*y", "--at", "x=1,y"]),
        "error: expected NAME=VALUE in --at, e.g. x=3; found 'y'\n\
         \x20 --at x=1,y\n\
         \x20          ^\n"
    );
    assert_eq!(
        error(&["diff", "x*y", "--at", "x=1", "--at", "y=abc"]),
        "error: invalid value for 'y' in --at: 'abc' is a variable; a value must be a \
         number or a constant expression such as pi/4\n\
         \x20 --at y=abc\n\
         \x20        ^^^\n"
    );
    assert_eq!(
        error(&["diff", "x", "--at", "x=1,x=2"]),
        "error: 'x' is given twice in --at (first as x=1)\n\
         \x20 --at x=1,x=2\n\
         \x20          ^\n"
    );
    assert_eq!(
        error(&["diff", "x", "--at", "x="]),
        "error: missing value for 'x' in --at\n\
         \x20 --at x=\n\
         \x20        ^\n"
    );
    assert_eq!(
        error(&["diff", "x", "--at", "x=1,,"]),
        "error: empty entry in --at: expected NAME=VALUE, e.g. x=3\n\
         \x20 --at x=1,,\n\
         \x20          ^\n"
    );
    assert_eq!(
        error(&["diff", "x", "--at", "x=1,3y=2"]),
        "error: '3y' in --at is not a variable name (letters, digits and '_', not starting \
         with a digit)\n\
         \x20 --at x=1,3y=2\n\
         \x20          ^^\n"
    );
    assert_eq!(
        error(&["diff", "x", "--at", "x=1,e=2"]),
        "error: 'e' is a constant, not a variable; it cannot be given a value\n\
         \x20 --at x=1,e=2\n\
         \x20          ^\n"
    );
    assert_eq!(
        error(&["diff", "x", "--at", "x=2**"]),
        "error: invalid value for 'x' in --at: unexpected end of input at column 11: \
         expected an operand after '**'\n\
         \x20 --at x=2**\n\
         \x20           ^\n"
    );
}

#[test]
fn clap_usage_errors_exit_2() {
    for args in [
        &["bogus"][..],
        &["diff"],
        &["diff", "x", "--at", "x=1", "--dtype", "f16"],
        &["diff", "x", "--bogus"],
        &["plot", "x", "--from", "0"],
        &["plot", "x", "--from", "0", "--to", "1", "--steps", "many"],
    ] {
        let out = tensorgrad(args);
        assert_eq!(out.code, Some(2), "{args:?}: {out:#?}");
        assert!(out.stderr.starts_with("error: "), "{args:?}: {out:#?}");
        assert_eq!(out.stdout, "");
    }
    assert!(error(&["bogus"]).contains("unrecognized subcommand 'bogus'"));
    // No subcommand: clap shows the usage, also with code 2.
    let out = tensorgrad(&[]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("Usage: tensorgrad <COMMAND>"),
        "{out:#?}"
    );
}

#[test]
fn a_mistyped_option_is_not_taken_for_the_expression() {
    assert_eq!(
        error(&["diff", "--hesian", "--at", "x=1"]),
        "error: unknown option '--hesian' (see --help); an expression that starts with \
         '--' must be written differently, e.g. -(-x)\n\
         \x20 --hesian\n\
         \x20 ^^^^^^^^\n"
    );
}

#[test]
fn plot_range_errors() {
    assert_eq!(
        error(&["plot", "x", "--from", "1", "--to", "0"]),
        "error: the range is empty: --from (1) must be less than --to (0)\n\
         \x20 --to 0\n\
         \x20      ^\n"
    );
    assert_eq!(
        error(&["plot", "x", "--from", "2", "--to", "2"]),
        "error: the range is empty: --from (2) must be less than --to (2)\n\
         \x20 --to 2\n\
         \x20      ^\n"
    );
    assert_eq!(
        error(&["plot", "x", "--from", "-inf", "--to", "2"]),
        "error: --from must be a finite number\n\
         \x20 --from -inf\n\
         \x20        ^^^^\n"
    );
    assert_eq!(
        error(&["plot", "x", "--from", "0", "--to", "2*q"]),
        "error: invalid value for --to: 'q' is a variable; a value must be a number or a \
         constant expression such as pi/4\n\
         \x20 --to 2*q\n\
         \x20        ^\n"
    );
}

#[test]
fn plot_count_errors() {
    assert_eq!(
        error(&["plot", "x", "--from", "0", "--to", "1", "--steps", "1"]),
        "error: --steps must be at least 2: a line needs two points\n\
         \x20 --steps 1\n\
         \x20         ^\n"
    );
    assert!(
        error(&["plot", "x", "--from", "0", "--to", "1", "--steps", "100001"])
            .starts_with("error: --steps may be at most 100000")
    );
    assert_eq!(
        error(&["plot", "x", "--from", "0", "--to", "1", "--order", "9"]),
        "error: --order may be at most 8: each derivative differentiates the previous \
         one's whole graph, so each order costs 3 to 4 times the one before\n\
         \x20 --order 9\n\
         \x20         ^\n"
    );
}

#[test]
fn plot_needs_one_variable() {
    assert_eq!(
        error(&["plot", "x*y + z", "--from", "0", "--to", "1"]),
        "error: plot draws functions of one variable; this expression has 3: 'x', 'y', 'z'\n\
         \x20 x*y + z\n\
         \x20   ^\n"
    );
}

#[test]
fn plot_output_errors() {
    let dir = temp_dir("output-errors");
    let d = dir.to_str().unwrap();
    let jpg = format!("{d}/out.jpg");
    assert_eq!(
        error(&["plot", "x", "--from", "0", "--to", "1", "-o", &jpg]),
        format!(
            "error: cannot write a '.jpg' file: name the output *.png or *.svg\n  -o {jpg}\n  \
             {}\n",
            " ".repeat(3) + &"^".repeat(jpg.chars().count())
        )
    );
    assert!(
        error(&["plot", "x", "--from", "0", "--to", "1", "-o", "out"])
            .starts_with("error: the output file has no extension: name it *.png or *.svg\n")
    );
    let missing = format!("{d}/no/such/dir/out.png");
    assert_eq!(
        error(&["plot", "x", "--from", "0", "--to", "1", "-o", &missing]),
        format!("error: cannot write {missing}: No such file or directory (os error 2)\n")
    );
    // Nothing was written for the rejected names.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn plot_of_a_function_with_no_finite_value() {
    let dir = temp_dir("no-finite");
    let out = dir.join("log.png");
    assert_eq!(
        error(&[
            "plot",
            "log(x)",
            "--from",
            "-2",
            "--to",
            "-1",
            "-o",
            out.to_str().unwrap()
        ]),
        "error: f(x) = log(x) has no finite value for x from -2 to -1; nothing to plot\n"
    );
    assert!(!out.exists());
}

//! Hostile command lines: deep nesting, long chains, long names. The
//! binary must answer (a result or an input error), never crash.

mod support;

use support::tensorgrad;

#[test]
fn twenty_thousand_parentheses() {
    let e = format!("{}x{}", "(".repeat(20_000), ")".repeat(20_000));
    let out = tensorgrad(&["diff", &e, "--at", "x=2", "--hessian"]);
    assert_eq!(
        out.ok(),
        "f = tensor(2.)\ndf/dx = tensor(1.)\nd2f/dxdx = tensor(0.)\n"
    );
    let unclosed = "(".repeat(20_000) + "x";
    let err = tensorgrad(&["diff", &unclosed, "--at", "x=2"]);
    assert!(err
        .input_error()
        .starts_with("error: unbalanced parentheses"));
}

#[test]
fn deepest_trees_differentiate_twice() {
    // 255 operators: the deepest tree the parser accepts.
    let chain = vec!["x"; 256].join("*");
    let out = tensorgrad(&["diff", &chain, "--at", "x=1", "--hessian"]);
    assert_eq!(
        out.ok(),
        "f = tensor(1.)\ndf/dx = tensor(256.)\nd2f/dxdx = tensor(65280.)\n"
    );
    let nested = format!("{}x{}", "sin(".repeat(255), ")".repeat(255));
    let out = tensorgrad(&["diff", &nested, "--at", "x=0", "--hessian", "--json"]);
    assert_eq!(
        out.ok(),
        "{\"value\":0.0,\"grad\":{\"x\":1.0},\"hessian\":{\"x\":{\"x\":-0.0}}}\n"
    );
    let negations = "-".repeat(255) + "x";
    let out = tensorgrad(&["diff", &negations, "--at", "x=2"]);
    assert_eq!(out.ok(), "f = tensor(-2.)\ndf/dx = tensor(-1.)\n");
}

#[test]
fn too_deep_is_an_input_error() {
    let negations = "-".repeat(256) + "x";
    let out = tensorgrad(&["diff", &negations, "--at", "x=2"]);
    assert!(out
        .input_error()
        .starts_with("error: expression nested too deeply at column 1 (limit 256)\n"));
    let out = tensorgrad(&["plot", &negations, "--from", "0", "--to", "1"]);
    out.input_error();
}

#[test]
fn ten_thousand_character_names() {
    let name = "v".repeat(10_000);
    let at = format!("{name}=3");
    let out = tensorgrad(&["diff", &format!("{name}**2"), "--at", &at, "--json"]);
    assert_eq!(
        out.ok(),
        format!("{{\"value\":9.0,\"grad\":{{\"{name}\":6.0}}}}\n")
    );
    // Messages shorten the name; snippets show a window of the input.
    let err = tensorgrad(&["diff", &format!("{name}**2")]);
    let msg = err.input_error();
    assert!(msg.lines().all(|l| l.chars().count() < 200), "{msg}");
    assert!(msg.starts_with("error: variable 'vvvvvvvvvvvvvvvvvvvvvvvvvvvvv...' has no value"));
    let err = tensorgrad(&["diff", "x", "--at", &format!("x=1,{name}")]);
    assert!(err.input_error().lines().all(|l| l.chars().count() < 200));
}

#[test]
fn huge_numbers_are_results() {
    let out = tensorgrad(&["diff", "exp(x)", "--at", "x=1e10"]);
    assert_eq!(out.ok(), "f = tensor(inf)\ndf/dx = tensor(inf)\n");
    let out = tensorgrad(&["diff", "x*0", "--at", "x=1e300"]);
    // 1e300 is inf in float32, and inf * 0 is nan.
    assert_eq!(out.ok(), "f = tensor(nan)\ndf/dx = tensor(0.)\n");
}

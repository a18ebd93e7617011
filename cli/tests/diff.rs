//! `tensorgrad diff`: the tutorial's numbers, PyTorch's printed forms, the
//! Hessian against closed forms, and the JSON output.
//!
//! Expected text was checked against PyTorch 2.x by running the same
//! expression on `torch.tensor(v, requires_grad=True)` and printing
//! `f.detach()` and `torch.autograd.grad(...)`.

mod support;

use serde_json::Value;
use support::tensorgrad;

#[test]
fn tutorial_polynomial() {
    let out = tensorgrad(&["diff", "6*x**2 + 2*x + 4", "--at", "x=3"]);
    assert_eq!(out.ok(), "f = tensor(64.)\ndf/dx = tensor(38.)\n");
}

#[test]
fn tutorial_square() {
    let out = tensorgrad(&["diff", "3*x**2", "--at", "x=3"]);
    assert_eq!(out.ok(), "f = tensor(27.)\ndf/dx = tensor(18.)\n");
}

#[test]
fn tutorial_two_variables_comma_separated_or_repeated() {
    let expected = "f = tensor(104.)\ndf/du = tensor(15.)\ndf/dv = tensor(55.)\n";
    let e = "u**2 + v**3 + 2*u*v + u + v";
    assert_eq!(tensorgrad(&["diff", e, "--at", "u=3,v=4"]).ok(), expected);
    assert_eq!(
        tensorgrad(&["diff", e, "--at", "u=3", "--at", "v=4"]).ok(),
        expected
    );
    // Order of --at does not matter: variables print in order of appearance.
    assert_eq!(tensorgrad(&["diff", e, "--at", "v=4,u=3"]).ok(), expected);
}

#[test]
fn float64_prints_its_dtype_like_pytorch() {
    let out = tensorgrad(&["diff", "6*x**2 + 2*x + 4", "--at", "x=3", "--dtype", "f64"]);
    assert_eq!(
        out.ok(),
        "f = tensor(64., dtype=torch.float64)\ndf/dx = tensor(38., dtype=torch.float64)\n"
    );
}

#[test]
fn printed_forms_match_pytorch() {
    // torch: x = torch.tensor(1.3, requires_grad=True); f = sin(x)*exp(x)/3
    let out = tensorgrad(&["diff", "sin(x)*exp(x)/3", "--at", "x=1.3"]);
    assert_eq!(out.ok(), "f = tensor(1.1785)\ndf/dx = tensor(1.5057)\n");
    let out = tensorgrad(&["diff", "1e-3*x**7", "--at", "x=12.5"]);
    assert_eq!(
        out.ok(),
        "f = tensor(47683.7188)\ndf/dx = tensor(26702.8809)\n"
    );
    let out = tensorgrad(&["diff", "x**y", "--at", "x=1.7,y=2.3", "--dtype", "f64"]);
    assert_eq!(
        out.ok(),
        "f = tensor(3.3887, dtype=torch.float64)\n\
         df/dx = tensor(4.5847, dtype=torch.float64)\n\
         df/dy = tensor(1.7981, dtype=torch.float64)\n"
    );
}

#[test]
fn non_finite_results_are_results() {
    let out = tensorgrad(&["diff", "log(x)", "--at", "x=0"]);
    assert_eq!(out.ok(), "f = tensor(-inf)\ndf/dx = tensor(inf)\n");
    let out = tensorgrad(&["diff", "sqrt(x)", "--at", "x=-1"]);
    assert_eq!(out.ok(), "f = tensor(nan)\ndf/dx = tensor(nan)\n");
    let out = tensorgrad(&["diff", "x", "--at", "x=inf"]);
    assert_eq!(out.ok(), "f = tensor(inf)\ndf/dx = tensor(1.)\n");
}

#[test]
fn constant_expressions_need_no_point() {
    assert_eq!(
        tensorgrad(&["diff", "2**10 / 4"]).ok(),
        "f = tensor(256.)\n"
    );
    assert_eq!(tensorgrad(&["diff", "pi"]).ok(), "f = tensor(3.1416)\n");
    // A variable-free expression of an --at variable still has derivative 0.
    let out = tensorgrad(&["diff", "1/3", "--at", "x=1", "--dtype", "f64"]);
    assert_eq!(out.code, Some(0));
    assert_eq!(
        out.stdout,
        "f = tensor(0.3333, dtype=torch.float64)\ndf/dx = tensor(0., dtype=torch.float64)\n"
    );
}

#[test]
fn values_may_be_constant_expressions() {
    let out = tensorgrad(&["diff", "sin(x)", "--at", "x=pi/2"]);
    assert_eq!(out.ok(), "f = tensor(1.)\ndf/dx = tensor(-4.3711e-08)\n");
}

#[test]
fn unused_variables_get_zero_and_a_warning() {
    let out = tensorgrad(&["diff", "x**2", "--at", "x=3,y=4"]);
    assert_eq!(out.code, Some(0));
    assert_eq!(
        out.stdout,
        "f = tensor(9.)\ndf/dx = tensor(6.)\ndf/dy = tensor(0.)\n"
    );
    assert_eq!(
        out.stderr,
        "warning: 'y' is given in --at but does not appear in the expression; \
         its derivatives are 0\n"
    );
}

#[test]
fn hessian_text_lists_every_pair_row_by_row() {
    let out = tensorgrad(&[
        "diff",
        "u**2 + v**3 + 2*u*v + u + v",
        "--at",
        "u=3,v=4",
        "--hessian",
    ]);
    assert_eq!(
        out.ok(),
        "f = tensor(104.)\n\
         df/du = tensor(15.)\n\
         df/dv = tensor(55.)\n\
         d2f/dudu = tensor(2.)\n\
         d2f/dudv = tensor(2.)\n\
         d2f/dvdu = tensor(2.)\n\
         d2f/dvdv = tensor(24.)\n"
    );
}

/// Runs `diff --json --dtype f64` and parses the output.
fn json(expr: &str, at: &str, extra: &[&str]) -> Value {
    let mut args = vec!["diff", expr, "--at", at, "--json", "--dtype", "f64"];
    args.extend_from_slice(extra);
    let out = tensorgrad(&args);
    let text = out.ok();
    assert_eq!(text.lines().count(), 1, "{text}");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn close(got: &Value, want: f64) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{got} is not a number"));
    assert!(
        (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
        "{got} != {want}"
    );
}

#[test]
fn hessian_matches_closed_forms() {
    // f = x³y + sin(xy) + exp(y)/x
    let (x, y) = (0.7f64, 1.9f64);
    let doc = json(
        "x**3*y + sin(x*y) + exp(y)/x",
        "x=0.7,y=1.9",
        &["--hessian"],
    );
    let c = (x * y).cos();
    let s = (x * y).sin();
    let ey = y.exp();
    close(&doc["value"], x.powi(3) * y + s + ey / x);
    close(&doc["grad"]["x"], 3.0 * x * x * y + y * c - ey / (x * x));
    close(&doc["grad"]["y"], x.powi(3) + x * c + ey / x);
    let h = &doc["hessian"];
    close(&h["x"]["x"], 6.0 * x * y - y * y * s + 2.0 * ey / x.powi(3));
    let mixed = 3.0 * x * x + c - x * y * s - ey / (x * x);
    close(&h["x"]["y"], mixed);
    close(&h["y"]["x"], mixed);
    close(&h["y"]["y"], -x * x * s + ey / x);
}

#[test]
fn hessian_of_functions_of_one_variable() {
    // d²/dx² of sigmoid, tanh and x**2.5 at x = 0.8.
    let x = 0.8f64;
    let sig = 1.0 / (1.0 + (-x).exp());
    let doc = json("sigmoid(x)", "x=0.8", &["--hessian"]);
    close(
        &doc["hessian"]["x"]["x"],
        sig * (1.0 - sig) * (1.0 - 2.0 * sig),
    );
    let doc = json("tanh(x)", "x=0.8", &["--hessian"]);
    let t = x.tanh();
    close(&doc["hessian"]["x"]["x"], -2.0 * t * (1.0 - t * t));
    let doc = json("x**2.5", "x=0.8", &["--hessian"]);
    close(&doc["hessian"]["x"]["x"], 2.5 * 1.5 * x.powf(0.5));
    // A linear function's first derivative is a constant: its Hessian is 0.
    let doc = json("3*x + 2*y", "x=1,y=2", &["--hessian"]);
    for a in ["x", "y"] {
        for b in ["x", "y"] {
            close(&doc["hessian"][a][b], 0.0);
        }
    }
}

#[test]
fn json_structure() {
    let out = tensorgrad(&["diff", "6*x**2 + 2*x + 4", "--at", "x=3", "--json"]);
    assert_eq!(out.ok(), "{\"value\":64.0,\"grad\":{\"x\":38.0}}\n");
    let out = tensorgrad(&[
        "diff",
        "6*x**2 + 2*x + 4",
        "--at",
        "x=3",
        "--json",
        "--hessian",
    ]);
    assert_eq!(
        out.ok(),
        "{\"value\":64.0,\"grad\":{\"x\":38.0},\"hessian\":{\"x\":{\"x\":12.0}}}\n"
    );
    // Keys follow the order of appearance, not alphabetical order.
    let doc = json("z + a", "a=1,z=2", &[]);
    let keys: Vec<&String> = doc["grad"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["z", "a"]);
}

#[test]
fn json_f32_numbers_are_shortest_and_non_finite_are_strings() {
    let out = tensorgrad(&["diff", "x/10", "--at", "x=1", "--json"]);
    assert_eq!(out.ok(), "{\"value\":0.1,\"grad\":{\"x\":0.1}}\n");
    let out = tensorgrad(&["diff", "log(x) + y", "--at", "x=0,y=nan", "--json"]);
    assert_eq!(
        out.ok(),
        "{\"value\":\"nan\",\"grad\":{\"x\":\"inf\",\"y\":1.0}}\n"
    );
    let out = tensorgrad(&["diff", "-1/x", "--at", "x=0", "--json"]);
    assert_eq!(out.ok(), "{\"value\":\"-inf\",\"grad\":{\"x\":\"inf\"}}\n");
}

#[test]
fn expressions_may_start_with_a_minus() {
    let out = tensorgrad(&["diff", "-x**2", "--at", "x=3"]);
    assert_eq!(out.ok(), "f = tensor(-9.)\ndf/dx = tensor(-6.)\n");
    let out = tensorgrad(&["diff", "--at", "x=-2", "-x**3"]);
    assert_eq!(out.ok(), "f = tensor(8.)\ndf/dx = tensor(-12.)\n");
}

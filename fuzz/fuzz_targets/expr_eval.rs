//! Parses arbitrary text and, when it parses, differentiates it with the
//! same code as `tensorgrad diff --hessian`, at a point picked by the first
//! input byte from values that stress the arithmetic (0, -0, ±1, huge,
//! tiny, inf, nan).
//!
//! Beyond "never panics, never overflows the stack", it checks that every
//! variable gets a gradient and a Hessian row, that the text output has one
//! line per value, and that the JSON output is an object with the
//! documented keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tensorgrad::DType;
use tensorgrad_cli::diff::{differentiate, render_text};
use tensorgrad_cli::expr::parse;
use tensorgrad_cli::json::to_json;

const POINTS: [&str; 12] = [
    "0", "-0.0", "1", "-1", "3", "0.5", "-2.5", "1e30", "-1e-30", "inf", "-inf", "nan",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let src = String::from_utf8_lossy(rest);
    let Ok(expr) = parse(&src) else {
        return;
    };
    let names: Vec<String> = expr.variables().iter().map(|v| v.to_string()).collect();
    drop(expr);
    // Each variable gets its own value, rotating through POINTS.
    let at: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n}={}", POINTS[(usize::from(selector) + i) % POINTS.len()]))
        .collect();
    let dtype = if selector & 0x80 == 0 { DType::F32 } else { DType::F64 };
    let d = match differentiate(&src, &at, dtype, true) {
        Ok(d) => d,
        Err(e) => panic!("{src:?} at {at:?} failed:\n{e}"),
    };
    assert_eq!(d.names, names);
    assert_eq!(d.grad.len(), names.len());
    let hessian = d.hessian.as_ref().expect("asked for the Hessian");
    assert!(hessian.iter().all(|row| row.len() == names.len()));
    let text = render_text(&d);
    assert_eq!(text.lines().count(), 1 + names.len() + names.len() * names.len());
    let json = to_json(&d);
    let keys: Vec<&String> = json.as_object().expect("an object").keys().collect();
    assert_eq!(keys, ["value", "grad", "hessian"]);
});

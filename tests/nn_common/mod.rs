//! Reading tests/fixtures/nn.json (written by scripts/fixtures/nn.py) and comparing tensors
//! with it. Shared by tests/nn.rs and tests/optim.rs.

#![allow(dead_code)] // each test binary uses a different subset

use serde_json::Value;
use std::sync::OnceLock;
use tensorgrad::{DType, Tensor};

/// The parsed fixture file.
pub fn fixture() -> &'static Value {
    static F: OnceLock<Value> = OnceLock::new();
    F.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/nn.json");
        let text = std::fs::read_to_string(path)
            .expect("tests/fixtures/nn.json (run scripts/fixtures/nn.py)");
        serde_json::from_str(&text).expect("valid JSON")
    })
}

pub fn dtype(v: &Value) -> DType {
    match v.as_str().expect("dtype string") {
        "f32" => DType::F32,
        "f64" => DType::F64,
        other => panic!("unknown dtype {other}"),
    }
}

pub fn shape(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("shape")
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

pub fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array of numbers")
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array of integers")
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// A tensor from a `{shape, bits, dtype}` entry: exactly PyTorch's values.
pub fn tensor(v: &Value) -> Tensor {
    let shape = shape(&v["shape"]);
    if !v["bits"].is_null() {
        return from_bits(&v["bits"], &shape, dtype(&v["dtype"]));
    }
    let values = f64s(&v["values"]);
    match dtype(&v["dtype"]) {
        DType::F32 => Tensor::from_vec(values.iter().map(|&x| x as f32).collect(), &shape).unwrap(),
        DType::F64 => Tensor::from_vec(values, &shape).unwrap(),
    }
}

/// A tensor from IEEE bit patterns (u32 for f32, u64 for f64).
pub fn from_bits(bits: &Value, shape: &[usize], dt: DType) -> Tensor {
    let b = bits
        .as_array()
        .expect("bits")
        .iter()
        .map(|x| x.as_u64().unwrap());
    match dt {
        DType::F32 => {
            Tensor::from_vec(b.map(|x| f32::from_bits(x as u32)).collect(), shape).unwrap()
        }
        DType::F64 => Tensor::from_vec(b.map(f64::from_bits).collect(), shape).unwrap(),
    }
}

/// The IEEE bit patterns of a tensor's elements, widened to u64.
pub fn bits_of(t: &Tensor) -> Vec<u64> {
    match t.dtype() {
        DType::F32 => t
            .to_vec::<f32>()
            .iter()
            .map(|x| x.to_bits() as u64)
            .collect(),
        DType::F64 => t.to_vec::<f64>().iter().map(|x| x.to_bits()).collect(),
    }
}

/// Asserts the tensor's bits equal the fixture's.
pub fn assert_bits(t: &Tensor, bits: &Value, what: &str) {
    let expected: Vec<u64> = bits
        .as_array()
        .expect("bits")
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    let actual = bits_of(t);
    assert_eq!(actual.len(), expected.len(), "{what}: element count");
    for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
        assert_eq!(
            a, e,
            "{what}: element {i} differs from PyTorch's bits (got {t:?})"
        );
    }
}

/// Largest `|a - e| / (atol + rtol |e|)` over the elements: at most 1 means within tolerance.
pub fn tolerance_ratio(actual: &[f64], expected: &[f64], rtol: f64, atol: f64) -> f64 {
    assert_eq!(actual.len(), expected.len(), "element count");
    actual
        .iter()
        .zip(expected)
        .map(|(&a, &e)| {
            if a == e || (a.is_nan() && e.is_nan()) {
                0.0
            } else {
                (a - e).abs() / (atol + rtol * e.abs())
            }
        })
        .fold(0.0, f64::max)
}

/// Asserts `actual` is within `atol + rtol·|expected|` of `expected`, element by element.
pub fn assert_close_vals(actual: &[f64], expected: &[f64], rtol: f64, atol: f64, what: &str) {
    let r = tolerance_ratio(actual, expected, rtol, atol);
    assert!(
        r <= 1.0,
        "{what}: differs from PyTorch beyond rtol {rtol}, atol {atol} (worst ratio {r})\n  got      {actual:?}\n  expected {expected:?}"
    );
}

/// [`assert_close_vals`] for a tensor against a fixture entry (shape checked too).
pub fn assert_close(t: &Tensor, expected: &Value, rtol: f64, atol: f64, what: &str) {
    assert_eq!(
        t.shape(),
        shape(&expected["shape"]).as_slice(),
        "{what}: shape"
    );
    assert_eq!(t.dtype(), dtype(&expected["dtype"]), "{what}: dtype");
    assert_close_vals(
        &t.to_vec::<f64>(),
        &f64s(&expected["values"]),
        rtol,
        atol,
        what,
    );
}

/// f32 tolerance: a few ulps of relative error, and an absolute floor for values near zero.
pub const F32_RTOL: f64 = 1e-5;
pub const F32_ATOL: f64 = 1e-6;
/// f64 tolerance.
pub const F64_RTOL: f64 = 1e-12;
pub const F64_ATOL: f64 = 1e-14;

/// The tolerance for a dtype.
pub fn tol(dt: DType) -> (f64, f64) {
    match dt {
        DType::F32 => (F32_RTOL, F32_ATOL),
        DType::F64 => (F64_RTOL, F64_ATOL),
    }
}

/// Runs `f` right after `manual_seed(seed)`, holding a lock: the generator is global and
/// the tests of one binary run on several threads.
pub fn seeded<R>(seed: u64, f: impl FnOnce() -> R) -> R {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    tensorgrad::manual_seed(seed);
    f()
}

//! `tensorgrad diff --json`: the derivatives as one line of JSON,
//!
//! ```text
//! {"value":64.0,"grad":{"x":38.0},"hessian":{"x":{"x":12.0}}}
//! ```
//!
//! `hessian` is present only with `--hessian`; `hessian[a][b]` is d²f/da db.
//! Objects list the variables in the same order as the text output.
//! JSON has no NaN or infinity, so those are the strings `"nan"`, `"inf"`
//! and `"-inf"`.

use serde_json::{Map, Value};
use tensorgrad::{DType, Tensor};

use crate::diff::Derivatives;

/// The JSON document for `d`.
pub fn to_json(d: &Derivatives) -> Value {
    let mut doc = Map::new();
    doc.insert("value".into(), number(&d.value));
    doc.insert("grad".into(), by_name(&d.names, &d.grad));
    if let Some(rows) = &d.hessian {
        let hessian = d
            .names
            .iter()
            .zip(rows)
            .map(|(name, row)| (name.clone(), by_name(&d.names, row)))
            .collect();
        doc.insert("hessian".into(), Value::Object(hessian));
    }
    Value::Object(doc)
}

fn by_name(names: &[String], values: &[Tensor]) -> Value {
    Value::Object(
        names
            .iter()
            .zip(values)
            .map(|(n, t)| (n.clone(), number(t)))
            .collect(),
    )
}

/// A one-element tensor as a JSON number. An f32 is written with the
/// fewest digits that read back as the same f32 (`0.1`, not the f64
/// expansion `0.10000000149011612`).
fn number(t: &Tensor) -> Value {
    let v: f64 = match t.dtype() {
        DType::F32 => shortest_f32(t.item::<f32>()),
        DType::F64 => t.item::<f64>(),
    };
    if v.is_nan() {
        Value::from("nan")
    } else if v.is_infinite() {
        Value::from(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        Value::from(v)
    }
}

/// The f64 whose shortest decimal form is the f32 `v`'s shortest form.
fn shortest_f32(v: f32) -> f64 {
    // Rust prints the shortest decimal that reads back as the same f32, and
    // every such decimal reads back as some f64.
    v.to_string().parse().unwrap_or(f64::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(&Tensor::scalar(0.1f32)).to_string(), "0.1");
        assert_eq!(number(&Tensor::scalar(64.0f32)).to_string(), "64.0");
        assert_eq!(number(&Tensor::scalar(1e-10f32)).to_string(), "1e-10");
        assert_eq!(number(&Tensor::scalar(0.1f64)).to_string(), "0.1");
        assert_eq!(number(&Tensor::scalar(f32::NAN)).to_string(), "\"nan\"");
        assert_eq!(
            number(&Tensor::scalar(f64::INFINITY)).to_string(),
            "\"inf\""
        );
        assert_eq!(
            number(&Tensor::scalar(f32::NEG_INFINITY)).to_string(),
            "\"-inf\""
        );
    }
}

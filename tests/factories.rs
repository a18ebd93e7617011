//! `linspace` produces PyTorch's values bit for bit, `arange` within one unit in the last
//! place: every case of `tests/fixtures/factories.json` (made by `scripts/fixtures/factories.py`
//! with PyTorch) is replayed and compared at the recorded indices, including lengths that take
//! the parallel path and the tutorial's `linspace(-10, 10, 100)`.
//!
//! Why arange is allowed one ulp: both compute `step·i + start` as one fused multiply-add, as
//! PyTorch's scalar kernel does, but PyTorch's vectorised kernel computes blocks of lanes as
//! `base + k·step` from the block's first value, which can round the other way by one ulp
//! depending on the vector width of the build and CPU.

mod fixture_file;

use serde::Deserialize;
use tensorgrad::{DType, Tensor};

#[derive(Deserialize)]
struct Case {
    #[serde(rename = "fn")]
    func: String,
    start: f64,
    end: f64,
    steps: Option<usize>,
    step: Option<f64>,
    dtype: String,
    len: usize,
    indices: Vec<usize>,
    values: Vec<String>,
}

impl Case {
    fn describe(&self) -> String {
        match self.func.as_str() {
            "linspace" => format!(
                "linspace({}, {}, {}) {}",
                self.start,
                self.end,
                self.steps.unwrap(),
                self.dtype
            ),
            _ => format!(
                "arange({}, {}, {}) {}",
                self.start,
                self.end,
                self.step.unwrap(),
                self.dtype
            ),
        }
    }

    /// How many units in the last place `got` may differ from PyTorch's value.
    fn ulps_allowed(&self) -> u64 {
        if self.func == "linspace" {
            0
        } else {
            1
        }
    }

    fn run(&self) -> Vec<f64> {
        let dtype = match self.dtype.as_str() {
            "f32" => DType::F32,
            "f64" => DType::F64,
            other => panic!("unknown dtype {other}"),
        };
        let t = match self.func.as_str() {
            "linspace" => Tensor::linspace_with(self.start, self.end, self.steps.unwrap(), dtype),
            "arange" => Tensor::arange_with(self.start, self.end, self.step.unwrap(), dtype),
            other => panic!("fixture function {other:?} is not in this test"),
        };
        assert_eq!(t.dtype(), dtype);
        t.to_vec::<f64>()
    }
}

/// Distance in units in the last place of the case's dtype (f32 values widen to f64 exactly,
/// so narrowing them back is exact); `u64::MAX` for values of different sign.
fn ulps_apart(a: f64, b: f64, dtype: &str) -> u64 {
    if a == b {
        return 0;
    }
    if a.is_sign_negative() != b.is_sign_negative() {
        return u64::MAX;
    }
    match dtype {
        "f32" => u64::from((a as f32).to_bits().abs_diff((b as f32).to_bits())),
        _ => a.to_bits().abs_diff(b.to_bits()),
    }
}

#[test]
fn linspace_and_arange_match_pytorch() {
    let fixture = fixture_file::load::<Case>("factories");
    assert!(fixture.cases.len() >= 30, "{} cases", fixture.cases.len());
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in &fixture.cases {
        let got = case.run();
        if got.len() != case.len {
            failures.push(format!(
                "{}: {} elements, PyTorch {}",
                case.describe(),
                got.len(),
                case.len
            ));
            continue;
        }
        let mut bad = 0;
        for (&i, want) in case.indices.iter().zip(&case.values) {
            let want: f64 = want.parse().unwrap();
            compared += 1;
            if ulps_apart(got[i], want, &case.dtype) > case.ulps_allowed() {
                if bad < 3 {
                    failures.push(format!(
                        "{}[{i}]: {:e}, PyTorch {:e}",
                        case.describe(),
                        got[i],
                        want
                    ));
                }
                bad += 1;
            }
        }
        if bad > 3 {
            failures.push(format!("{}: {bad} mismatches in all", case.describe()));
        }
    }
    assert!(compared > 5_000, "only {compared} values compared");
    assert!(
        failures.is_empty(),
        "differences from PyTorch {}:\n{}",
        fixture.torch,
        failures.join("\n")
    );
}

#[test]
fn ulp_distance_counts_representable_steps() {
    assert_eq!(ulps_apart(1.0, 1.0, "f64"), 0);
    assert_eq!(
        ulps_apart(1.0, f64::from_bits(1.0f64.to_bits() + 1), "f64"),
        1
    );
    let next = f32::from_bits(7.3f32.to_bits() + 1);
    assert_eq!(ulps_apart(7.3f32 as f64, next as f64, "f32"), 1);
    assert_eq!(ulps_apart(-1.0, 1.0, "f32"), u64::MAX);
}

#[test]
fn one_step_linspace_is_start_like_pytorch() {
    // PyTorch fills a one-element linspace with `start`, not `end`.
    assert_eq!(Tensor::linspace(2.0, 5.0, 1).to_vec::<f32>(), vec![2.0]);
    assert_eq!(
        Tensor::linspace_with(-1.5, 9.0, 1, DType::F64).to_vec::<f64>(),
        vec![-1.5]
    );
    assert!(Tensor::linspace(2.0, 5.0, 0).to_vec::<f32>().is_empty());
}

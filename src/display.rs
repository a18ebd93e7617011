//! Tensor printing that matches PyTorch's `str(tensor)` byte for byte.
//!
//! The rules are those of PyTorch's `torch/_tensor_str.py` with its default
//! print options, restricted to what tensorgrad has: dense CPU tensors of
//! `float32`/`float64` elements, optionally carrying autograd metadata.
//!
//! In outline, PyTorch
//! 1. picks one notation and one field width for the whole tensor from the
//!    nonzero finite values it is going to show (`_Formatter`),
//! 2. prints the elements right-aligned to that width, nested in brackets,
//!    wrapping rows at the line width and eliding the middle of long
//!    dimensions when the tensor is large (`_tensor_str_with_formatter`),
//! 3. appends `key=value` suffixes such as `dtype=torch.float64`, moving a
//!    suffix to its own line when it would overflow (`_add_suffixes`).
//!
//! Numbers are rendered as Python's `'{:.4f}'`, `'{:.4e}'` and `'{:.0f}'`
//! render a double: rounded exactly (ties to even on the exact binary value)
//! and with Python's spelling of exponents and non-finite values.

use std::ops::Range;

use crate::DType;

/// PyTorch's print options (see `torch.set_printoptions`), currently fixed at
/// PyTorch's defaults. `sci_mode` is not modelled: the notation is always
/// chosen automatically.
#[derive(Clone, Copy, Debug)]
struct PrintOptions {
    /// Digits after the decimal point in fixed and scientific notation.
    precision: usize,
    /// Tensors with more elements than this are summarised with `...`.
    threshold: usize,
    /// Items kept at each end of a summarised dimension. Must be at least 1.
    edgeitems: usize,
    /// The line width that rows of elements and suffixes are wrapped to.
    linewidth: usize,
}

impl Default for PrintOptions {
    fn default() -> Self {
        PrintOptions {
            precision: 4,
            threshold: 1000,
            edgeitems: 3,
            linewidth: 80,
        }
    }
}

/// What PyTorch prints before a plain tensor's contents. Continuation lines
/// are indented by its length.
const PREFIX: &str = "tensor(";

/// Formats a tensor exactly like PyTorch's `str()`.
///
/// `values`: the elements in row-major (C) order, already converted to f64
/// (f32 elements are converted exactly with `as f64`).
/// `shape`: the tensor's shape (`&[]` for 0-d).
/// `suffixes`: the extra `key=value` parts PyTorch appends, in PyTorch's
/// order (see [`tensor_suffixes`]).
///
/// # Panics
/// If `values.len()` is not the product of `shape`.
// The Tensor `Display` impl will call this; until then only the tests do.
pub(crate) fn format_tensor(
    values: &[f64],
    shape: &[usize],
    dtype: DType,
    suffixes: &[String],
) -> String {
    format_tensor_with(values, shape, dtype, suffixes, &PrintOptions::default())
}

fn format_tensor_with(
    values: &[f64],
    shape: &[usize],
    dtype: DType,
    suffixes: &[String],
    opts: &PrintOptions,
) -> String {
    assert_eq!(
        values.len(),
        shape.iter().product::<usize>(),
        "format_tensor: {} values do not fill shape {shape:?}",
        values.len()
    );
    // Both dtypes print identically once widened to f64; PyTorch makes every
    // decision on the double value of each element too.
    debug_assert!(
        dtype != DType::F32 || values.iter().all(|&v| v.is_nan() || v as f32 as f64 == v),
        "format_tensor: f32 tensor given values that are not f32 values"
    );

    let indent = PREFIX.len();
    let mut out = String::from(PREFIX);
    out.push_str(&contents(values, shape, indent, opts));
    add_suffixes(out, suffixes, indent, opts.linewidth)
}

/// The suffixes PyTorch appends to a float tensor's contents, in its order:
/// `size=(...)` (empty tensors that are not 1-D only), `dtype=...` (when not
/// the default `float32`), then `grad_fn=<...>`, or `requires_grad=True` for
/// a tensor that requires grad but has no `grad_fn` (a leaf).
pub(crate) fn tensor_suffixes(
    dtype: DType,
    shape: &[usize],
    requires_grad: bool,
    grad_fn: Option<&str>,
) -> Vec<String> {
    let mut suffixes = Vec::new();
    // An empty tensor prints as `[]`, so its shape is spelled out unless it
    // is 1-D (as NumPy does).
    if shape.iter().product::<usize>() == 0 && shape.len() != 1 {
        suffixes.push(format!("size={}", python_tuple(shape)));
    }
    if dtype != DType::default() {
        suffixes.push(format!("dtype={}", dtype.torch_name()));
    }
    // `grad_fn` implies `requires_grad`, so PyTorch prints only the former.
    match grad_fn {
        Some(name) => suffixes.push(format!("grad_fn=<{name}>")),
        None if requires_grad => suffixes.push("requires_grad=True".to_owned()),
        None => {}
    }
    suffixes
}

/// Python's `str(tuple(shape))`: `(3,)`, `(0, 3)`.
fn python_tuple(shape: &[usize]) -> String {
    let items: Vec<String> = shape.iter().map(usize::to_string).collect();
    match items.as_slice() {
        [one] => format!("({one},)"),
        _ => format!("({})", items.join(", ")),
    }
}

/// The bracketed contents of a tensor, as printed after `tensor(`; `indent`
/// is the column at which the opening bracket stands.
fn contents(values: &[f64], shape: &[usize], indent: usize, opts: &PrintOptions) -> String {
    if values.is_empty() {
        return "[]".to_owned();
    }
    let layout = Layout {
        summarize: values.len() > opts.threshold,
        edgeitems: opts.edgeitems,
        linewidth: opts.linewidth,
    };
    // The notation and width come from the elements actually shown: elided
    // elements of a summarised tensor play no part.
    let mut shown = Vec::new();
    layout.collect_shown(values, shape, &mut shown);
    let formatter = ElementFormatter::new(&shown, opts.precision);

    let mut out = String::new();
    layout.write(&mut out, values, shape, indent, &formatter);
    out
}

/// How elements are laid out: which are shown and where lines break.
struct Layout {
    /// Whether long dimensions are elided (the tensor exceeds `threshold`).
    summarize: bool,
    edgeitems: usize,
    linewidth: usize,
}

impl Layout {
    /// The indices of a dimension of length `len` that are printed: all of
    /// them, or, when summarising a dimension longer than `2 * edgeitems`,
    /// the first and the last `edgeitems` (an ellipsis goes between).
    fn shown(&self, len: usize) -> (Range<usize>, Option<Range<usize>>) {
        if self.summarize && len > 2 * self.edgeitems {
            (0..self.edgeitems, Some(len - self.edgeitems..len))
        } else {
            (0..len, None)
        }
    }

    /// Appends the values that will be printed, in order, to `out`.
    fn collect_shown(&self, values: &[f64], shape: &[usize], out: &mut Vec<f64>) {
        let Some((&len, inner)) = shape.split_first() else {
            out.push(values[0]);
            return;
        };
        let stride = values.len() / len;
        let (head, tail) = self.shown(len);
        for i in head.chain(tail.into_iter().flatten()) {
            self.collect_shown(&values[i * stride..(i + 1) * stride], inner, out);
        }
    }

    /// Writes a (sub)tensor whose opening bracket stands at column `indent`.
    fn write(
        &self,
        out: &mut String,
        values: &[f64],
        shape: &[usize],
        indent: usize,
        formatter: &ElementFormatter,
    ) {
        match shape {
            [] => out.push_str(&formatter.format(values[0])),
            [len] => self.write_row(out, values, *len, indent, formatter),
            [len, inner @ ..] => {
                // Sub-tensors are separated by a comma and as many line breaks
                // as they have dimensions (blank lines between matrices, two
                // between 3-D blocks, ...), then aligned under the bracket.
                let separator = format!(",{}{}", "\n".repeat(inner.len()), " ".repeat(indent + 1));
                let stride = values.len() / len;
                let (head, tail) = self.shown(*len);
                out.push('[');
                for i in head.clone() {
                    if i > 0 {
                        out.push_str(&separator);
                    }
                    let sub = &values[i * stride..(i + 1) * stride];
                    self.write(out, sub, inner, indent + 1, formatter);
                }
                if let Some(tail) = tail {
                    // The elided sub-tensors become one `...` line.
                    out.push_str(&separator);
                    out.push_str("...");
                    for i in tail {
                        out.push_str(&separator);
                        let sub = &values[i * stride..(i + 1) * stride];
                        self.write(out, sub, inner, indent + 1, formatter);
                    }
                }
                out.push(']');
            }
        }
    }

    /// Writes a 1-D row, wrapped so that each line holds as many elements as
    /// fit in the line width after the indent (at least one). Each element
    /// counts as its field width plus 2 for `", "`.
    fn write_row(
        &self,
        out: &mut String,
        values: &[f64],
        len: usize,
        indent: usize,
        formatter: &ElementFormatter,
    ) {
        let element_len = formatter.width + 2;
        let per_line = (self.linewidth.saturating_sub(indent) / element_len).max(1);

        let (head, tail) = self.shown(len);
        let mut items: Vec<String> = head.map(|i| formatter.format(values[i])).collect();
        if let Some(tail) = tail {
            // The ellipsis of a summarised row is an item of its own, written
            // with a leading space, and it counts towards the items per line.
            items.push(" ...".to_owned());
            items.extend(tail.map(|i| formatter.format(values[i])));
        }

        out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                if i % per_line == 0 {
                    out.push_str(",\n");
                    out.push_str(&" ".repeat(indent + 1));
                } else {
                    out.push_str(", ");
                }
            }
            out.push_str(item);
        }
        out.push(']');
    }
}

/// How every element of one tensor is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Notation {
    /// Every value is integral: `.0f` plus a trailing `.` (`3.`, `-0.`).
    Integer,
    /// Fixed point with `precision` decimals (`0.1250`).
    Fixed,
    /// Scientific with `precision` decimals and a signed two-digit (or more)
    /// exponent (`1.0000e-05`). Takes precedence over `Integer`.
    Scientific,
}

/// PyTorch's per-tensor element formatter: one notation and one field width
/// chosen from the values shown.
#[derive(Debug)]
struct ElementFormatter {
    notation: Notation,
    precision: usize,
    /// The field width elements are right-aligned to. Only nonzero finite
    /// values count towards it, so zeros with a sign (`-0.0000`) and `-inf`
    /// can be wider and then stick out unpadded, exactly as in PyTorch.
    width: usize,
}

impl ElementFormatter {
    fn new(shown: &[f64], precision: usize) -> Self {
        let nonzero_finite: Vec<f64> = shown
            .iter()
            .copied()
            .filter(|v| v.is_finite() && *v != 0.0)
            .collect();
        let mut formatter = ElementFormatter {
            notation: Notation::Integer,
            precision,
            width: 1,
        };
        if nonzero_finite.is_empty() {
            // Only zeros, nans and infinities: integer notation, width 1.
            return formatter;
        }

        let (min, max) = nonzero_finite
            .iter()
            .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
                (lo.min(v.abs()), hi.max(v.abs()))
            });
        let integral = nonzero_finite.iter().all(|v| v.ceil() == *v);
        // Scientific notation when the magnitudes span more than three orders
        // (max/min > 1000), or any magnitude exceeds 1e8 or is below 1e-4.
        // The comparisons are on doubles, so an f32 1e-4 (just below 1e-4 as
        // a double) is scientific while an f64 1e-4 is not.
        let scientific = max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4;
        formatter.notation = match (scientific, integral) {
            (true, _) => Notation::Scientific,
            (false, true) => Notation::Integer,
            (false, false) => Notation::Fixed,
        };
        formatter.width = nonzero_finite
            .iter()
            .map(|&v| formatter.render(v).len())
            .fold(1, usize::max);
        formatter
    }

    /// The element's text without padding.
    fn render(&self, v: f64) -> String {
        match self.notation {
            Notation::Scientific => python_exp(v, self.precision),
            Notation::Fixed => python_fixed(v, self.precision),
            // The `.` marks a float tensor; `nan`/`inf` go without it.
            Notation::Integer if v.is_finite() => python_fixed(v, 0) + ".",
            Notation::Integer => python_fixed(v, 0),
        }
    }

    /// The element right-aligned to the field width (never truncated).
    fn format(&self, v: f64) -> String {
        format!("{:>width$}", self.render(v), width = self.width)
    }
}

/// Python's spelling of a non-finite float (`nan` for any NaN).
fn python_non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("nan")
    } else if v.is_infinite() {
        Some(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        None
    }
}

/// Python's `'{:.{precision}f}'.format(v)`. Rust's fixed-precision formatting
/// is likewise exact with ties to even, and also keeps the sign of `-0.0` and
/// of negatives that round to zero (`-0.0000`).
fn python_fixed(v: f64, precision: usize) -> String {
    match python_non_finite(v) {
        Some(s) => s.to_owned(),
        None => format!("{v:.precision$}"),
    }
}

/// Python's `'{:.{precision}e}'.format(v)`: like Rust's `{:.precision$e}`
/// but the exponent always has a sign and at least two digits (`e+03`,
/// `e-05`, `e+100`).
fn python_exp(v: f64, precision: usize) -> String {
    if let Some(s) = python_non_finite(v) {
        return s.to_owned();
    }
    let rust = format!("{v:.precision$e}");
    let (mantissa, exponent) = rust
        .split_once('e')
        .expect("`{:e}` output always has an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` exponent is an integer");
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
}

/// Appends the suffixes and the closing parenthesis. A suffix goes on the
/// same line after `", "` unless that would overflow `linewidth`, in which
/// case it starts a new line indented by `indent`.
fn add_suffixes(mut out: String, suffixes: &[String], indent: usize, linewidth: usize) -> String {
    // PyTorch measures the tensor's last line as two characters longer than
    // it is (whether or not it is the first line); lines it starts for
    // suffixes are measured exactly.
    let mut last_line_len = match out.rfind('\n') {
        Some(newline) => out[newline + 1..].chars().count() + 2,
        None => out.chars().count() + 2,
    };
    for suffix in suffixes {
        let suffix_len = suffix.chars().count();
        if last_line_len + suffix_len + 2 > linewidth {
            out.push_str(",\n");
            out.push_str(&" ".repeat(indent));
            last_line_len = indent + suffix_len;
        } else {
            out.push_str(", ");
            last_line_len += suffix_len + 2;
        }
        out.push_str(suffix);
    }
    out.push(')');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::Value;

    /// One case of `tests/fixtures/printing.json`, written by
    /// `scripts/fixtures/printing.py` from real PyTorch.
    #[derive(Deserialize)]
    struct Case {
        name: String,
        dtype: String,
        shape: Vec<usize>,
        values: Vec<Value>,
        requires_grad: bool,
        grad_fn: Option<String>,
        expected: String,
    }

    impl Case {
        fn dtype(&self) -> DType {
            match self.dtype.as_str() {
                "f32" => DType::F32,
                "f64" => DType::F64,
                other => panic!("case {}: unknown dtype {other:?}", self.name),
            }
        }

        fn values(&self) -> Vec<f64> {
            self.values
                .iter()
                .map(|v| {
                    let x = match v {
                        Value::Number(n) => n.as_f64().expect("number fits f64"),
                        Value::String(s) => match s.as_str() {
                            "nan" => f64::NAN,
                            "inf" => f64::INFINITY,
                            "-inf" => f64::NEG_INFINITY,
                            other => panic!("case {}: bad value {other:?}", self.name),
                        },
                        other => panic!("case {}: bad value {other}", self.name),
                    };
                    // The generator spells each f32 value so that this
                    // round-trip gives the element exactly.
                    match self.dtype() {
                        DType::F32 => x as f32 as f64,
                        DType::F64 => x,
                    }
                })
                .collect()
        }
    }

    #[test]
    fn matches_pytorch_fixtures() {
        let cases: Vec<Case> =
            serde_json::from_str(include_str!("../tests/fixtures/printing.json"))
                .expect("printing.json parses");
        assert!(cases.len() >= 80, "only {} fixture cases", cases.len());

        let mut failures = Vec::new();
        for case in &cases {
            let suffixes = tensor_suffixes(
                case.dtype(),
                &case.shape,
                case.requires_grad,
                case.grad_fn.as_deref(),
            );
            let got = format_tensor(&case.values(), &case.shape, case.dtype(), &suffixes);
            if got != case.expected {
                failures.push(format!(
                    "case {}:\n--- expected (PyTorch)\n{}\n--- got\n{}\n",
                    case.name, case.expected, got
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} cases differ from PyTorch:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn python_number_spelling() {
        assert_eq!(python_exp(12345.678, 4), "1.2346e+04");
        assert_eq!(python_exp(1e-5, 4), "1.0000e-05");
        assert_eq!(python_exp(1e100, 4), "1.0000e+100");
        assert_eq!(python_exp(-0.0, 4), "-0.0000e+00");
        assert_eq!(python_exp(1.03125, 4), "1.0312e+00"); // exact tie: to even
        assert_eq!(python_exp(-f64::NAN, 4), "nan");
        assert_eq!(python_fixed(0.03125, 4), "0.0312"); // exact tie: to even
        assert_eq!(python_fixed(0.09375, 4), "0.0938");
        assert_eq!(python_fixed(-0.00001, 4), "-0.0000");
        assert_eq!(python_fixed(2.5, 0), "2");
        assert_eq!(python_fixed(f64::NEG_INFINITY, 0), "-inf");
    }

    #[test]
    fn suffix_order() {
        let s = |dtype, shape: &[usize], rg, gf| tensor_suffixes(dtype, shape, rg, gf);
        assert!(s(DType::F32, &[3], false, None).is_empty());
        assert_eq!(s(DType::F32, &[0], true, None), ["requires_grad=True"]);
        assert_eq!(
            s(DType::F64, &[0, 3], true, None),
            ["size=(0, 3)", "dtype=torch.float64", "requires_grad=True"]
        );
        assert_eq!(
            s(DType::F64, &[], true, Some("SumBackward0")),
            ["dtype=torch.float64", "grad_fn=<SumBackward0>"]
        );
        assert_eq!(python_tuple(&[4]), "(4,)");
    }
}

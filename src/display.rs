//! PROVISIONAL printing, replaced by the PyTorch-exact formatter from the `printing` branch.
use crate::DType;

pub(crate) fn format_tensor(
    values: &[f64],
    shape: &[usize],
    _dtype: DType,
    suffixes: &[String],
) -> String {
    let mut s = if shape.is_empty() {
        format!("tensor({}", values[0])
    } else {
        format!("tensor({values:?}")
    };
    for x in suffixes {
        s.push_str(", ");
        s.push_str(x);
    }
    s.push(')');
    s
}

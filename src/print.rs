//! `Display` for tensors: PyTorch's `str(tensor)`, exactly, for f32 (see `display`).

use crate::tensor::Tensor;
use crate::DType;

impl Tensor {
    /// The `key=value` parts PyTorch appends after the data, in its order.
    fn print_suffixes(&self) -> Vec<String> {
        let mut s = Vec::new();
        if self.dtype() != DType::F32 {
            s.push(format!("dtype={}", self.dtype().torch_name()));
        }
        if let Some(name) = self.grad_fn_name() {
            s.push(format!("grad_fn=<{name}>"));
        } else if self.requires_grad() {
            s.push("requires_grad=True".to_string());
        }
        s
    }
}

impl std::fmt::Display for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = crate::display::format_tensor(
            &self.to_f64_vec(),
            self.shape(),
            self.dtype(),
            &self.print_suffixes(),
        );
        f.write_str(&text)
    }
}

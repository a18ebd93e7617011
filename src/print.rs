//! `Display` for tensors: PyTorch's `str(tensor)`, exactly (see `display`).

use crate::display::{format_tensor, tensor_suffixes};
use crate::tensor::Tensor;

impl std::fmt::Display for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let suffixes = tensor_suffixes(
            self.dtype(),
            self.shape(),
            self.requires_grad(),
            self.grad_fn_name(),
        );
        f.write_str(&format_tensor(
            &self.to_f64_vec(),
            self.shape(),
            self.dtype(),
            &suffixes,
        ))
    }
}

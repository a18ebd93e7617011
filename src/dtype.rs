//! Element types a tensor can hold.

/// The element type of a tensor. `F32` is the default, as in PyTorch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DType {
    /// 32-bit IEEE float (`torch.float32`).
    #[default]
    F32,
    /// 64-bit IEEE float (`torch.float64`).
    F64,
}

impl DType {
    /// PyTorch's name for the dtype, as printed in `dtype=torch.float64`.
    pub fn torch_name(self) -> &'static str {
        match self {
            DType::F32 => "torch.float32",
            DType::F64 => "torch.float64",
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
        })
    }
}

//! Saving and loading named tensors in the safetensors format, the format
//! `safetensors.torch.save_file` / `load_file` read and write, so files move between
//! tensorgrad and PyTorch.

use crate::dtype::DType;
use crate::tensor::Tensor;
use safetensors::tensor::TensorView;
use std::collections::HashMap;
use std::path::Path;

/// What went wrong saving, loading or applying named parameters. Returned inside
/// [`Error::StateDict`](crate::Error::StateDict).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StateDictError {
    /// The state's keys are not the module's parameter names.
    #[error("load_state_dict: missing key(s) {missing:?}, unexpected key(s) {unexpected:?}; the state must hold exactly the module's named_parameters() (print both lists to compare)")]
    KeyMismatch {
        /// Parameters of the module that the state has no entry for.
        missing: Vec<String>,
        /// Entries of the state that name no parameter of the module.
        unexpected: Vec<String>,
    },
    /// An entry has another shape than the parameter it would be copied into.
    #[error("load_state_dict: size mismatch for {key}: the parameter has shape {expected:?} but the state holds shape {found:?}; the state was saved from a different architecture")]
    Shape {
        /// The parameter's name.
        key: String,
        /// The parameter's shape.
        expected: Vec<usize>,
        /// The entry's shape.
        found: Vec<usize>,
    },
    /// An entry has another dtype than the parameter it would be copied into.
    #[error("load_state_dict: dtype mismatch for {key}: the parameter is {expected} but the state holds {found}; convert the entry with .to_dtype(DType::{}) first", if *expected == DType::F64 { "F64" } else { "F32" })]
    DType {
        /// The parameter's name.
        key: String,
        /// The parameter's dtype.
        expected: DType,
        /// The entry's dtype.
        found: DType,
    },
    /// The same name was given twice to [`save`].
    #[error("save: the name {key:?} appears more than once; names in a state dict must be unique")]
    DuplicateKey {
        /// The repeated name.
        key: String,
    },
    /// A tensor in the file has an element type tensorgrad does not hold.
    #[error("load: {path}: tensor {key:?} has dtype {dtype}; only F32 and F64 can be loaded (convert it in PyTorch with .float() before saving)")]
    UnsupportedDType {
        /// The file.
        path: String,
        /// The tensor's name.
        key: String,
        /// The safetensors dtype, e.g. `BF16`.
        dtype: String,
    },
    /// The file could not be read or written.
    #[error("{op}: {path}: {msg}")]
    Io {
        /// `save` or `load`.
        op: &'static str,
        /// The file.
        path: String,
        /// The operating system's message.
        msg: String,
    },
    /// The file is not a valid safetensors file.
    #[error("load: {path} is not a valid safetensors file: {msg}")]
    Format {
        /// The file.
        path: String,
        /// What the safetensors reader reported.
        msg: String,
    },
}

/// Little-endian bytes of a tensor's elements in row-major order.
fn to_le_bytes(t: &Tensor) -> Vec<u8> {
    match t.dtype() {
        DType::F32 => t
            .to_vec::<f32>()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::F64 => t
            .to_vec::<f64>()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
    }
}

/// Saves named tensors to `path` in the safetensors format, like
/// `safetensors.torch.save_file(dict(named), path)`. Pass [`Module::state_dict`](super::Module::state_dict)
/// (or `named_parameters`) to save a model. The file is written to a temporary sibling and
/// renamed, so an existing file is replaced whole or not at all.
///
/// ```
/// use tensorgrad::nn::{self, Module};
/// let path = std::env::temp_dir().join("tensorgrad_doc_save.safetensors");
/// let layer = nn::Linear::new(3, 2);
/// nn::save(&path, &layer.state_dict())?;
/// let loaded = nn::load(&path)?;
/// assert_eq!(loaded["weight"].to_vec::<f32>(), layer.weight().to_vec::<f32>());
/// let fresh = nn::Linear::new(3, 2);
/// fresh.load_state_dict(&loaded)?;                // copies in place
/// assert_eq!(fresh.bias().unwrap().to_vec::<f32>(), layer.bias().unwrap().to_vec::<f32>());
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn save(path: impl AsRef<Path>, named: &[(String, Tensor)]) -> crate::Result<()> {
    let path = path.as_ref();
    let mut seen = std::collections::HashSet::new();
    for (k, _) in named {
        if !seen.insert(k.as_str()) {
            return Err(StateDictError::DuplicateKey { key: k.clone() }.into());
        }
    }
    let data: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = named
        .iter()
        .map(|(k, t)| {
            let dtype = match t.dtype() {
                DType::F32 => safetensors::Dtype::F32,
                DType::F64 => safetensors::Dtype::F64,
            };
            (k.clone(), dtype, t.shape().to_vec(), to_le_bytes(t))
        })
        .collect();
    let io_err = |msg: String| StateDictError::Io {
        op: "save",
        path: path.display().to_string(),
        msg,
    };
    let views = data
        .iter()
        .map(|(k, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|v| (k.as_str(), v))
                .map_err(|e| io_err(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize_to_file(views, None, path).map_err(|e| io_err(e.to_string()))?;
    Ok(())
}

/// Loads every tensor of a safetensors file (f32 and f64 tensors), like
/// `safetensors.torch.load_file(path)`. The tensors do not require grad; apply them to a
/// model with [`Module::load_state_dict`](super::Module::load_state_dict).
///
/// Errors with [`StateDictError::Io`] if the file cannot be read, [`StateDictError::Format`]
/// if it is not valid safetensors, and [`StateDictError::UnsupportedDType`] for other element
/// types (half precision, integers).
pub fn load(path: impl AsRef<Path>) -> crate::Result<HashMap<String, Tensor>> {
    let path = path.as_ref();
    let shown = || path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| StateDictError::Io {
        op: "load",
        path: shown(),
        msg: e.to_string(),
    })?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| StateDictError::Format {
        path: shown(),
        msg: e.to_string(),
    })?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        let data = view.data();
        let t = match view.dtype() {
            safetensors::Dtype::F32 => Tensor::from_elems(
                data.chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                    .collect(),
                view.shape(),
            ),
            safetensors::Dtype::F64 => Tensor::from_elems(
                data.chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
                    .collect(),
                view.shape(),
            ),
            other => {
                return Err(StateDictError::UnsupportedDType {
                    path: shown(),
                    key: name,
                    dtype: format!("{other:?}"),
                }
                .into())
            }
        };
        out.insert(name, t);
    }
    Ok(out)
}

//! The error type every fallible operation returns.
//!
//! Each variant names the operation that failed and carries the facts a user needs (shapes,
//! dtypes, dims) so the message says what went wrong *and* what to do about it.

use crate::DType;

/// A shape as stored in an error message; printed like `[3, 4]`.
pub type ShapeVec = Vec<usize>;

/// Everything that can go wrong in tensorgrad.
///
/// Messages follow one pattern: `op: what happened; what to do`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two shapes cannot be broadcast together.
    #[error("{op}: shapes {lhs:?} and {rhs:?} cannot be broadcast; sizes must match or be 1 in every trailing dimension (reshape or unsqueeze one operand)")]
    Broadcast {
        /// The operation.
        op: &'static str,
        /// Left operand's shape.
        lhs: ShapeVec,
        /// Right operand's shape.
        rhs: ShapeVec,
    },

    /// Shapes are individually valid but do not fit the operation.
    #[error("{op}: {detail} (shapes {lhs:?} and {rhs:?})")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// Left operand's (or input's) shape.
        lhs: ShapeVec,
        /// Right operand's (or requested) shape.
        rhs: ShapeVec,
        /// What is wrong and what to do.
        detail: String,
    },

    /// A dimension index is out of range.
    #[error("{op}: dimension {dim} is out of range for a tensor with {ndim} dimension(s) of shape {shape:?}; valid dims are {lo}..={hi} (negative dims count from the end)")]
    DimOutOfRange {
        /// The operation.
        op: &'static str,
        /// The dimension asked for.
        dim: isize,
        /// The tensor's number of dimensions.
        ndim: usize,
        /// The tensor's shape.
        shape: ShapeVec,
        /// Smallest valid dim (negative counts from the end).
        lo: isize,
        /// Largest valid dim.
        hi: isize,
    },

    /// An index is out of range for the dim it selects from.
    #[error("{op}: index {index} is out of range for dim {dim} of size {size}; indices must be in 0..{size}")]
    IndexOutOfRange {
        /// The operation.
        op: &'static str,
        /// The offending index.
        index: i64,
        /// The dim being indexed.
        dim: usize,
        /// That dim's size.
        size: usize,
    },

    /// Two tensors have different dtypes.
    #[error("{op}: dtype mismatch, {lhs} and {rhs}; convert one side with .to_dtype(DType::{}) first", if *lhs == DType::F64 || *rhs == DType::F64 { "F64" } else { "F32" })]
    DTypeMismatch {
        /// The operation.
        op: &'static str,
        /// Left operand's dtype.
        lhs: DType,
        /// Right operand's dtype.
        rhs: DType,
    },

    /// Data length does not match the shape it should fill.
    #[error("{op}: {len} element(s) cannot fill shape {shape:?}, which holds {expected}; pass exactly {expected} values or change the shape")]
    ElementCount {
        /// The operation.
        op: &'static str,
        /// Number of values given.
        len: usize,
        /// Requested shape.
        shape: ShapeVec,
        /// Elements the shape holds.
        expected: usize,
    },

    /// An argument is invalid for a reason other than shape or dtype.
    #[error("{op}: {msg}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong and what to do.
        msg: String,
    },

    /// Autograd misuse: backward on something that cannot be differentiated this way.
    #[error("{op}: {msg}")]
    Autograd {
        /// The operation (`backward`, `grad`, ...).
        op: &'static str,
        /// What is wrong and what to do.
        msg: String,
    },

    /// Backward reached a node whose saved tensors were already freed.
    #[error("backward: trying to backward through the graph a second time ({node} has already been run and its saved tensors freed); call backward_with(BackwardOptions::new().retain_graph(true)) (or autograd::grad_with with GradOptions::new().retain_graph(true)) the first time if you need to backward twice")]
    GraphReleased {
        /// The grad_fn name of the node, e.g. `MulBackward0`.
        node: &'static str,
    },

    /// A tensor saved for backward was modified in place afterwards.
    #[error("backward: one of the tensors needed for gradient computation has been modified by an in-place operation: {node} saved a tensor of shape {shape:?} at version {saved}, and it is now at version {current}; make a copy with .deep_clone() before modifying it, or modify it before it is used")]
    InplaceModified {
        /// The grad_fn name of the node that saved the tensor.
        node: &'static str,
        /// The saved tensor's shape.
        shape: ShapeVec,
        /// Version when saved.
        saved: u64,
        /// Version now.
        current: u64,
    },

    /// Anomaly mode found a non-finite gradient.
    #[error("anomaly: {node} returned a gradient with {what} values for its input {input}; the op was called at {location}")]
    Anomaly {
        /// The grad_fn name of the node.
        node: &'static str,
        /// "NaN" or "infinite".
        what: &'static str,
        /// Which input (0-based) received it.
        input: usize,
        /// `file:line:column` where the op was called.
        location: String,
    },

    /// Saving, loading or applying named parameters (a state dict) failed; the inner error
    /// says which key and why.
    #[error(transparent)]
    StateDict(#[from] crate::nn::StateDictError),

    /// A colour name that plotting does not know.
    #[error("unknown colour {name:?}; use one of: {known}; or \"#rrggbb\", or an (r, g, b) tuple")]
    UnknownColor {
        /// The name as given.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },

    /// A figure was asked to be saved in a format chosen by a file extension it cannot write.
    #[error("save {path:?}: cannot write a {extension:?} file; name the file *.png or *.svg")]
    UnsupportedFormat {
        /// The path as given.
        path: String,
        /// Its extension (`""` when it has none).
        extension: String,
    },

    /// Reading or writing a file failed.
    #[error("{op} {path:?}: {msg}")]
    Io {
        /// What was being done (`save`, ...).
        op: &'static str,
        /// The file.
        path: String,
        /// The operating system's message.
        msg: String,
    },
}

/// `Result` with tensorgrad's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::InvalidArgument {
            op,
            msg: msg.into(),
        }
    }

    pub(crate) fn autograd(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Autograd {
            op,
            msg: msg.into(),
        }
    }

    pub(crate) fn shape(
        op: &'static str,
        lhs: &[usize],
        rhs: &[usize],
        detail: impl Into<String>,
    ) -> Self {
        Error::ShapeMismatch {
            op,
            lhs: lhs.to_vec(),
            rhs: rhs.to_vec(),
            detail: detail.into(),
        }
    }
}

/// Unwraps an operator's result, panicking with the error's message. Used by the panicking
/// forms of ops (operators and plain methods), whose docs say they panic.
pub(crate) trait OrPanic<T> {
    fn or_panic(self) -> T;
}

impl<T> OrPanic<T> for Result<T> {
    #[track_caller]
    fn or_panic(self) -> T {
        match self {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }
}

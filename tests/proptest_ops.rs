//! Random op sequences through the fallible (`try_*`) API, with random and often invalid
//! arguments: shapes with zero sizes, 0-d tensors, negative and out-of-range dims, sizes that
//! do not fit, mixed dtypes, in-place updates inside and outside `no_grad`, dual tensors.
//!
//! What must hold for every call:
//! - it returns `Ok` or a typed `Err` whose message starts with the op's name; never a panic;
//! - `Ok` or `Err` is what PyTorch would do, and an `Ok` result has PyTorch's shape (a small
//!   model of PyTorch's shape rules below decides; it was checked against PyTorch 2.x);
//! - an `Ok` result is internally consistent: `numel` is the product of the shape, `to_vec`
//!   has `numel` values, the dtype and `requires_grad` are right, a tangent has its shape;
//! - at the end, `sum().backward()` succeeds (unless a saved tensor was modified in place,
//!   which must then be the typed `InplaceModified` error) and every leaf that requires grad
//!   gets a gradient of its own shape and dtype; with `create_graph`, backward through that
//!   gradient works too.
//!
//! Case count: 1024 by default (about a second), `PROPTEST_CASES` for long runs, e.g.
//! `PROPTEST_CASES=200000 cargo test --release --test proptest_ops`.
//!
//! The bugs this suite found are fixed and kept as regression tests in
//! `tests/robustness_regressions.rs`; no case is exempt.

use proptest::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use tensorgrad::{forward_ad, no_grad, BackwardOptions, DType, Error, Tensor};

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// How the second operand's shape is made from the current tensor's shape, so that binary ops
/// are valid often enough to go on, and invalid often enough to test the errors.
#[derive(Clone, Debug)]
enum OtherShape {
    Same,
    /// The last `k` dims: broadcasts.
    Suffix(usize),
    /// Size 1 where bit `i` is set: broadcasts.
    OnesAt(u8),
    /// `[..batch, k, n]` where `k` is the current last dim: matmul-compatible.
    MatmulRhs(usize),
    /// Anything.
    Random(Vec<usize>),
}

#[derive(Clone, Debug)]
struct Operand {
    shape: OtherShape,
    /// The other dtype than the current tensor's (a dtype mismatch).
    flip_dtype: bool,
    requires_grad: bool,
    seed: u8,
}

#[derive(Clone, Copy, Debug)]
enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Matmul,
    Dot,
    Cross(isize),
}

#[derive(Clone, Copy, Debug)]
enum InPlace {
    Add,
    Sub,
    Mul,
    Div,
    Copy,
}

#[derive(Clone, Copy, Debug)]
enum ValidOp {
    Reshape,
    Expand,
    Permute,
    Narrow,
}

#[derive(Clone, Debug)]
enum Op {
    Binary(Binary, Operand),
    Reshape(Vec<isize>),
    Expand(Vec<isize>),
    Transpose(isize, isize),
    T,
    Permute(Vec<isize>),
    Narrow(isize, usize, usize),
    /// Arguments made valid for the current shape at run time (random arguments are mostly
    /// invalid for these ops, which would leave their success paths untested); the number picks
    /// the variant.
    Valid(ValidOp, u8),
    Unsqueeze(isize),
    Squeeze(isize),
    SqueezeAll,
    Flatten(isize, isize),
    SumDim(Vec<isize>, bool),
    MeanDim(Vec<isize>, bool),
    Sum,
    Mean,
    Powi(i32),
    Powf(f64),
    Neg,
    Reciprocal,
    AddScalar(f64),
    MulScalar(f64),
    Contiguous,
    DeepClone,
    Detach,
    ToDtype(bool),
    InPlace(InPlace, Operand, bool),
    Fill(f64, bool),
}

fn dim() -> impl Strategy<Value = isize> + Clone {
    prop_oneof![4 => -4isize..4, 1 => -9isize..9]
}

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0usize), 2 => Just(1usize), 5 => 2usize..5]
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(size(), 0..5)
}

/// Requested sizes for reshape/expand: mostly small, sometimes -1 or invalid, rarely huge
/// (to test overflow).
fn sizes() -> impl Strategy<Value = Vec<isize>> {
    let entry = prop_oneof![
        12 => 0isize..6,
        3 => Just(-1isize),
        1 => -3isize..-1,
        1 => prop::sample::select(vec![1isize << 20, 1 << 31, 1 << 33, isize::MAX]),
    ];
    prop::collection::vec(entry, 0..6)
}

fn operand() -> impl Strategy<Value = Operand> {
    let shape = prop_oneof![
        4 => Just(OtherShape::Same),
        2 => (0usize..4).prop_map(OtherShape::Suffix),
        2 => any::<u8>().prop_map(OtherShape::OnesAt),
        3 => (0usize..4).prop_map(OtherShape::MatmulRhs),
        2 => shape().prop_map(OtherShape::Random),
    ];
    (shape, prop::bool::weighted(0.1), any::<bool>(), any::<u8>()).prop_map(
        |(shape, flip_dtype, requires_grad, seed)| Operand {
            shape,
            flip_dtype,
            requires_grad,
            seed,
        },
    )
}

fn op() -> impl Strategy<Value = Op> {
    let binary = prop_oneof![
        Just(Binary::Add),
        Just(Binary::Sub),
        Just(Binary::Mul),
        Just(Binary::Div),
        Just(Binary::Matmul),
        Just(Binary::Dot),
        dim().prop_map(Binary::Cross),
    ];
    let in_place = prop_oneof![
        Just(InPlace::Add),
        Just(InPlace::Sub),
        Just(InPlace::Mul),
        Just(InPlace::Div),
        Just(InPlace::Copy),
    ];
    let dims = prop::collection::vec(dim(), 0..4);
    prop_oneof![
        8 => (binary, operand()).prop_map(|(b, o)| Op::Binary(b, o)),
        3 => sizes().prop_map(Op::Reshape),
        3 => sizes().prop_map(Op::Expand),
        2 => (dim(), dim()).prop_map(|(a, b)| Op::Transpose(a, b)),
        1 => Just(Op::T),
        2 => dims.clone().prop_map(Op::Permute),
        4 => (prop_oneof![
            Just(ValidOp::Reshape),
            Just(ValidOp::Expand),
            Just(ValidOp::Permute),
            Just(ValidOp::Narrow)
        ], any::<u8>())
            .prop_map(|(v, n)| Op::Valid(v, n)),
        2 => (dim(), 0usize..5, 0usize..5).prop_map(|(d, s, l)| Op::Narrow(d, s, l)),
        2 => dim().prop_map(Op::Unsqueeze),
        2 => dim().prop_map(Op::Squeeze),
        1 => Just(Op::SqueezeAll),
        2 => (dim(), dim()).prop_map(|(a, b)| Op::Flatten(a, b)),
        2 => (dims.clone(), any::<bool>()).prop_map(|(d, k)| Op::SumDim(d, k)),
        2 => (dims, any::<bool>()).prop_map(|(d, k)| Op::MeanDim(d, k)),
        1 => Just(Op::Sum),
        1 => Just(Op::Mean),
        1 => (-3i32..4).prop_map(Op::Powi),
        1 => prop::sample::select(vec![0.0, 0.5, -0.5, 1.5, 2.0, 3.0, -1.0]).prop_map(Op::Powf),
        1 => Just(Op::Neg),
        1 => Just(Op::Reciprocal),
        1 => (-2.0f64..2.0).prop_map(Op::AddScalar),
        1 => (-2.0f64..2.0).prop_map(Op::MulScalar),
        1 => Just(Op::Contiguous),
        1 => Just(Op::DeepClone),
        1 => Just(Op::Detach),
        1 => any::<bool>().prop_map(Op::ToDtype),
        2 => (in_place, operand(), any::<bool>()).prop_map(|(k, o, ng)| Op::InPlace(k, o, ng)),
        1 => (-2.0f64..2.0, any::<bool>()).prop_map(|(v, ng)| Op::Fill(v, ng)),
    ]
}

#[derive(Clone, Debug)]
struct Start {
    shape: Vec<usize>,
    f64: bool,
    requires_grad: bool,
    dual: bool,
    seed: u8,
}

fn start() -> impl Strategy<Value = Start> {
    (
        shape(),
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.15),
        any::<u8>(),
    )
        .prop_map(|(shape, f64, requires_grad, dual, seed)| Start {
            shape,
            f64,
            requires_grad,
            dual,
            seed,
        })
}

/// How the sequence ends: backward, backward with `create_graph` and a second backward
/// through the gradient, or nothing.
#[derive(Clone, Copy, Debug)]
enum Finish {
    Backward,
    CreateGraph,
    Nothing,
}

fn finish() -> impl Strategy<Value = Finish> {
    prop_oneof![
        4 => Just(Finish::Backward),
        2 => Just(Finish::CreateGraph),
        1 => Just(Finish::Nothing),
    ]
}

// ---------------------------------------------------------------------------------------------
// PyTorch's shape rules (the oracle)
// ---------------------------------------------------------------------------------------------

/// What a call should do.
#[derive(Debug, PartialEq)]
enum Expect {
    Shape(Vec<usize>),
    Error,
}

/// PyTorch's dim wrapping: `range` dims (a 0-d tensor counts as having one).
fn wrap(dim: isize, range: usize) -> Option<usize> {
    let n = range.max(1) as isize;
    let d = if dim < 0 { dim + n } else { dim };
    (0..n).contains(&d).then_some(d as usize)
}

fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            let x = (i + a.len()).checked_sub(n).map_or(1, |j| a[j]);
            let y = (i + b.len()).checked_sub(n).map_or(1, |j| b[j]);
            match (x, y) {
                (x, y) if x == y => Some(x),
                (1, y) => Some(y),
                (x, 1) => Some(x),
                _ => None,
            }
        })
        .collect()
}

fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |a, &n| a.checked_mul(n))
}

fn expect_binary(kind: Binary, a: &[usize], b: &[usize]) -> Expect {
    use Expect::*;
    let shape = match kind {
        Binary::Add | Binary::Sub | Binary::Mul | Binary::Div => broadcast(a, b),
        Binary::Dot => (a.len() == 1 && b.len() == 1 && a == b).then(Vec::new),
        Binary::Matmul => matmul_shape(a, b),
        Binary::Cross(dim) => broadcast(a, b).and_then(|s| {
            // tensorgrad broadcasts all dims (torch.cross's rule; linalg.cross wants equal
            // ndim); the dim must have size 3 in both operands.
            let d = wrap(dim, s.len())?;
            let size_at = |t: &[usize]| {
                (d + t.len())
                    .checked_sub(s.len())
                    .and_then(|i| t.get(i).copied())
            };
            (size_at(a) == Some(3) && size_at(b) == Some(3)).then_some(s)
        }),
    };
    shape.map_or(Error, Shape)
}

fn matmul_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    if a.len() == 1 && b.len() == 1 {
        return (a == b).then(Vec::new);
    }
    let a2: Vec<usize> = if a.len() == 1 {
        vec![1, a[0]]
    } else {
        a.to_vec()
    };
    let b2: Vec<usize> = if b.len() == 1 {
        vec![b[0], 1]
    } else {
        b.to_vec()
    };
    let (ra, rb) = (a2.len(), b2.len());
    if a2[ra - 1] != b2[rb - 2] {
        return None;
    }
    let mut out = broadcast(&a2[..ra - 2], &b2[..rb - 2])?;
    if a.len() > 1 {
        out.push(a2[ra - 2]);
    }
    if b.len() > 1 {
        out.push(b2[rb - 1]);
    }
    Some(out)
}

fn expect_reshape(dims: &[isize], from: &[usize]) -> Expect {
    use Expect::*;
    let numel: usize = from.iter().product();
    // In the order tensorgrad checks, so that the overflow bug is recognised where it panics.
    let mut known = 1usize;
    for (i, &d) in dims.iter().enumerate() {
        if d < -1 || (d == -1 && dims[..i].contains(&-1)) {
            return Error;
        }
        if d >= 0 {
            match known.checked_mul(d as usize) {
                Some(k) => known = k,
                None => return Error,
            }
        }
    }
    let inferred = match dims.iter().position(|&d| d == -1) {
        Some(_) if known == 0 || !numel.is_multiple_of(known) => return Error,
        Some(_) => Some(numel / known),
        None if known != numel => return Error,
        None => None,
    };
    Shape(
        dims.iter()
            .map(|&d| {
                if d == -1 {
                    inferred.unwrap()
                } else {
                    d as usize
                }
            })
            .collect(),
    )
}

fn expect_expand(dims: &[isize], from: &[usize]) -> Expect {
    use Expect::*;
    if dims.len() < from.len() {
        return Error;
    }
    let lead = dims.len() - from.len();
    let mut out = Vec::new();
    for (i, &d) in dims.iter().enumerate() {
        let own = (i >= lead).then(|| from[i - lead]);
        out.push(match (d, own) {
            (-1, Some(n)) => n,
            (d, _) if d < 0 => return Error,
            (d, Some(n)) if n != 1 && n != d as usize => return Error,
            (d, _) => d as usize,
        });
    }
    if checked_numel(&out).is_none() {
        return Error;
    }
    Shape(out)
}

fn expect_reduce(dims: &[isize], keepdim: bool, from: &[usize]) -> Expect {
    use Expect::*;
    let mut mask = vec![dims.is_empty(); from.len()];
    let mut seen = Vec::new();
    for &d in dims {
        let Some(i) = wrap(d, from.len()) else {
            return Error;
        };
        if seen.contains(&i) {
            return Error;
        }
        seen.push(i);
        if !from.is_empty() {
            mask[i] = true;
        }
    }
    Shape(
        from.iter()
            .zip(&mask)
            .filter_map(|(&n, &r)| if r { keepdim.then_some(1) } else { Some(n) })
            .collect(),
    )
}

/// The shape a unary-ish op gives, per PyTorch.
fn expect_op(op: &Op, s: &[usize]) -> Expect {
    use Expect::*;
    let nd = s.len();
    match op {
        Op::Binary(..) | Op::InPlace(..) | Op::Fill(..) | Op::Valid(..) => {
            unreachable!("handled in step")
        }
        Op::Reshape(d) => expect_reshape(d, s),
        Op::Expand(d) => expect_expand(d, s),
        Op::Transpose(a, b) => match (wrap(*a, nd), wrap(*b, nd)) {
            (Some(_), Some(_)) if nd == 0 => Shape(vec![]),
            (Some(a), Some(b)) => {
                let mut out = s.to_vec();
                out.swap(a, b);
                Shape(out)
            }
            _ => Error,
        },
        Op::T if nd > 2 => Error,
        Op::T => Shape(s.iter().rev().copied().collect()),
        Op::Permute(dims) => {
            if dims.len() != nd {
                return Error;
            }
            let perm: Option<Vec<usize>> = dims.iter().map(|&d| wrap(d, nd)).collect();
            match perm {
                Some(p) if (0..nd).all(|i| p.contains(&i)) => {
                    Shape(p.iter().map(|&i| s[i]).collect())
                }
                _ => Error,
            }
        }
        Op::Narrow(d, start, len) => match wrap(*d, nd) {
            Some(i) if nd > 0 && start + len <= s[i] => {
                let mut out = s.to_vec();
                out[i] = *len;
                Shape(out)
            }
            _ => Error,
        },
        Op::Unsqueeze(d) => match wrap(*d, nd + 1) {
            Some(i) => {
                let mut out = s.to_vec();
                out.insert(i, 1);
                Shape(out)
            }
            None => Error,
        },
        Op::Squeeze(d) => match wrap(*d, nd) {
            Some(i) if nd > 0 && s[i] == 1 => {
                let mut out = s.to_vec();
                out.remove(i);
                Shape(out)
            }
            Some(_) => Shape(s.to_vec()),
            None => Error,
        },
        Op::SqueezeAll => Shape(s.iter().copied().filter(|&n| n != 1).collect()),
        Op::Flatten(a, b) => match (wrap(*a, nd), wrap(*b, nd)) {
            _ if nd == 0 && (wrap(*a, 0).is_none() || wrap(*b, 0).is_none()) => Error,
            (Some(_), Some(_)) if nd == 0 => Shape(vec![1]),
            (Some(a), Some(b)) if a <= b => {
                let mut out = s[..a].to_vec();
                out.push(s[a..=b].iter().product());
                out.extend_from_slice(&s[b + 1..]);
                Shape(out)
            }
            _ => Error,
        },
        Op::SumDim(d, k) | Op::MeanDim(d, k) => expect_reduce(d, *k, s),
        Op::Sum | Op::Mean => Shape(vec![]),
        Op::Powi(_)
        | Op::Powf(_)
        | Op::Neg
        | Op::Reciprocal
        | Op::AddScalar(_)
        | Op::MulScalar(_)
        | Op::Contiguous
        | Op::DeepClone
        | Op::Detach
        | Op::ToDtype(_) => Shape(s.to_vec()),
    }
}

// ---------------------------------------------------------------------------------------------
// Running a sequence
// ---------------------------------------------------------------------------------------------

fn other_dtype(d: DType) -> DType {
    match d {
        DType::F32 => DType::F64,
        DType::F64 => DType::F32,
    }
}

/// Small values with zeros among them (so `div`, `reciprocal` and `powf` make inf and NaN),
/// deterministic in `seed`.
fn make(shape: &[usize], dtype: DType, seed: u8, requires_grad: bool) -> Tensor {
    let n: usize = shape.iter().product();
    let values: Vec<f64> = (0..n)
        .map(|i| ((i * 7 + seed as usize) % 11) as f64 * 0.5 - 2.5)
        .collect();
    let t = match dtype {
        DType::F32 => Tensor::from_vec(values.iter().map(|&v| v as f32).collect(), shape),
        DType::F64 => Tensor::from_vec(values, shape),
    }
    .expect("the length matches the shape");
    t.set_requires_grad(requires_grad)
}

fn operand_shape(o: &OtherShape, cur: &[usize]) -> Vec<usize> {
    match o {
        OtherShape::Same => cur.to_vec(),
        OtherShape::Suffix(k) => cur[cur.len().saturating_sub(*k)..].to_vec(),
        OtherShape::OnesAt(bits) => cur
            .iter()
            .enumerate()
            .map(|(i, &n)| if bits >> (i % 8) & 1 == 1 { 1 } else { n })
            .collect(),
        OtherShape::MatmulRhs(n) => {
            let mut s: Vec<usize> = cur[..cur.len().saturating_sub(2)].to_vec();
            s.push(cur.last().copied().unwrap_or(2));
            s.push(*n);
            s
        }
        OtherShape::Random(s) => s.clone(),
    }
}

/// The panic message of a caught panic.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "<non-string panic>".into())
}

/// Runs `f`, turning a panic into `Err(message)`.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(&*p))
}

/// The op name an error message must start with.
fn op_name(op: &Op) -> &'static [&'static str] {
    match op {
        Op::Binary(Binary::Add, _) => &["add"],
        Op::Binary(Binary::Sub, _) => &["sub"],
        Op::Binary(Binary::Mul, _) => &["mul"],
        Op::Binary(Binary::Div, _) => &["div"],
        // matmul of two vectors is a dot product and reports as one.
        Op::Binary(Binary::Matmul, _) => &["matmul", "dot"],
        Op::Binary(Binary::Dot, _) => &["dot"],
        Op::Binary(Binary::Cross(_), _) => &["cross"],
        Op::Reshape(_) => &["reshape"],
        Op::Expand(_) => &["expand"],
        Op::Transpose(..) => &["transpose"],
        Op::T => &["t"],
        Op::Permute(_) => &["permute"],
        Op::Narrow(..) => &["narrow"],
        Op::Unsqueeze(_) => &["unsqueeze"],
        Op::Squeeze(_) => &["squeeze"],
        Op::Flatten(..) => &["flatten"],
        Op::SumDim(..) => &["sum_dim"],
        Op::MeanDim(..) => &["mean_dim"],
        Op::InPlace(InPlace::Add, ..) => &["add_"],
        Op::InPlace(InPlace::Sub, ..) => &["sub_"],
        Op::InPlace(InPlace::Mul, ..) => &["mul_"],
        Op::InPlace(InPlace::Div, ..) => &["div_"],
        Op::InPlace(InPlace::Copy, ..) => &["copy_"],
        Op::Fill(..) => &["fill_"],
        _ => &[],
    }
}

struct State {
    cur: Tensor,
    /// Leaves that require grad and that `cur` may depend on.
    leaves: Vec<Tensor>,
    /// An in-place op succeeded, so backward may rightly fail with `InplaceModified`.
    modified: bool,
}

/// Outcome of one step.
enum Step {
    Continue,
    /// A known bug was hit, or the result is too big to compute with: stop here.
    Stop,
}

/// Beyond this many elements a result is only checked, never computed with (an expand can
/// make a view of 2^60 elements).
const MAX_NUMEL: usize = 1 << 16;

fn check_ok(
    op: &Op,
    out: &Tensor,
    want: &[usize],
    inputs: &[&Tensor],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(out.shape(), want, "{:?}", op);
    let numel = checked_numel(out.shape());
    prop_assert_eq!(numel, Some(out.numel()), "{:?}: numel", op);
    if out.numel() <= MAX_NUMEL {
        prop_assert_eq!(out.to_vec::<f64>().len(), out.numel());
    }
    let expect_dtype = match op {
        Op::ToDtype(true) => other_dtype(inputs[0].dtype()),
        _ => inputs[0].dtype(),
    };
    prop_assert_eq!(out.dtype(), expect_dtype, "{:?}", op);
    let tracked = !matches!(op, Op::Detach)
        && tensorgrad::autograd::is_grad_enabled()
        && inputs.iter().any(|t| t.requires_grad());
    prop_assert_eq!(out.requires_grad(), tracked, "{:?}: requires_grad", op);
    if let Some(tangent) = out.tangent() {
        prop_assert_eq!(tangent.shape(), out.shape(), "{:?}: tangent shape", op);
        prop_assert_eq!(tangent.dtype(), out.dtype(), "{:?}: tangent dtype", op);
    }
    Ok(())
}

fn check_err(op: &Op, e: &Error) -> Result<(), TestCaseError> {
    let msg = e.to_string();
    let names = op_name(op);
    prop_assert!(
        names.is_empty() || names.iter().any(|n| msg.starts_with(&format!("{n}: "))),
        "{:?}: the message should start with the op's name: {}",
        op,
        msg
    );
    Ok(())
}

/// The op with valid arguments for shape `s` that `Op::Valid(v, n)` stands for.
fn make_valid(v: ValidOp, n: u8, s: &[usize]) -> Op {
    let nd = s.len();
    let n = n as usize;
    // Dims are sometimes given in their negative form.
    let signed = |d: usize, k: usize| {
        if (k + d) % 2 == 1 {
            d as isize - nd as isize
        } else {
            d as isize
        }
    };
    match v {
        ValidOp::Reshape => {
            let numel: usize = s.iter().product();
            let as_isize = |v: &[usize]| v.iter().map(|&d| d as isize).collect::<Vec<_>>();
            Op::Reshape(match n % 5 {
                0 => vec![-1],
                1 => vec![numel as isize],
                2 => as_isize(&s.iter().rev().copied().collect::<Vec<_>>()),
                3 => {
                    let mut d = as_isize(s);
                    d.insert(n % (nd + 1), 1);
                    d
                }
                _ => {
                    // One size inferred (ambiguous, so an error, when some size is 0).
                    let mut d = as_isize(s);
                    if nd > 0 {
                        d[n % nd] = -1;
                    }
                    d
                }
            })
        }
        ValidOp::Expand => {
            let mut d: Vec<isize> = s
                .iter()
                .enumerate()
                .map(|(i, &k)| match (k, (n >> i) & 1) {
                    (1, 1) => 3,
                    (_, 1) => -1,
                    (k, _) => k as isize,
                })
                .collect();
            for _ in 0..n % 3 {
                d.insert(0, 2);
            }
            Op::Expand(d)
        }
        ValidOp::Permute => {
            let mut p: Vec<usize> = (0..nd).collect();
            if nd > 0 {
                p.rotate_left(n % nd);
            }
            if n & 8 != 0 {
                p.reverse();
            }
            Op::Permute(p.iter().map(|&d| signed(d, n)).collect())
        }
        ValidOp::Narrow => {
            if nd == 0 {
                return Op::Narrow(0, 0, 1);
            }
            let d = n % nd;
            let start = (n / 7) % (s[d] + 1);
            let len = (n / 3) % (s[d] - start + 1);
            Op::Narrow(signed(d, n), start, len)
        }
    }
}

fn step(st: &mut State, op: &Op) -> Result<Step, TestCaseError> {
    if let Op::Valid(v, n) = op {
        let op = make_valid(*v, *n, st.cur.shape());
        return step(st, &op);
    }
    let cur = st.cur.clone();
    let s = cur.shape().to_vec();
    match op {
        Op::Binary(kind, o) => {
            let dtype = if o.flip_dtype {
                other_dtype(cur.dtype())
            } else {
                cur.dtype()
            };
            let other = make(&operand_shape(&o.shape, &s), dtype, o.seed, o.requires_grad);
            let want = if o.flip_dtype {
                Expect::Error
            } else {
                expect_binary(*kind, &s, other.shape())
            };
            let got = guarded(|| match kind {
                Binary::Add => cur.try_add(&other),
                Binary::Sub => cur.try_sub(&other),
                Binary::Mul => cur.try_mul(&other),
                Binary::Div => cur.try_div(&other),
                Binary::Matmul => cur.try_matmul(&other),
                Binary::Dot => cur.try_dot(&other),
                Binary::Cross(d) => cur.try_cross_dim(&other, *d),
            });
            let r = settle(op, want, got, &[&cur, &other])?;
            if let Some(out) = r.0 {
                if o.requires_grad {
                    st.leaves.push(other);
                }
                st.cur = out;
            }
            Ok(r.1)
        }
        Op::InPlace(kind, o, in_no_grad) => {
            let dtype = if o.flip_dtype {
                other_dtype(cur.dtype())
            } else {
                cur.dtype()
            };
            let src = make(&operand_shape(&o.shape, &s), dtype, o.seed, o.requires_grad);
            let grad_on = !in_no_grad;
            let expanded = cur
                .shape()
                .iter()
                .zip(cur.strides())
                .any(|(&n, &st)| n > 1 && st == 0);
            let fits = broadcast(&s, src.shape()).as_deref() == Some(&s[..]);
            let ok = !(grad_on && (cur.requires_grad() || src.requires_grad()))
                && !expanded
                && !o.flip_dtype
                && fits;
            let got = guarded(|| {
                let run = || match kind {
                    InPlace::Add => cur.try_add_(&src),
                    InPlace::Sub => cur.try_sub_(&src),
                    InPlace::Mul => cur.try_mul_(&src),
                    InPlace::Div => cur.try_div_(&src),
                    InPlace::Copy => cur.try_copy_(&src),
                };
                if *in_no_grad {
                    no_grad(run)
                } else {
                    run()
                }
            });
            settle_in_place(st, op, ok, got)
        }
        Op::Fill(v, in_no_grad) => {
            let expanded = cur
                .shape()
                .iter()
                .zip(cur.strides())
                .any(|(&n, &st)| n > 1 && st == 0);
            let ok = (*in_no_grad || !cur.requires_grad()) && !expanded;
            let got = guarded(|| {
                if *in_no_grad {
                    no_grad(|| cur.try_fill_(*v))
                } else {
                    cur.try_fill_(*v)
                }
            });
            settle_in_place(st, op, ok, got)
        }
        _ => {
            let want = expect_op(op, &s);
            let got = guarded(|| -> Result<Tensor, Error> {
                Ok(match op {
                    Op::Reshape(d) => cur.try_reshape(&d[..])?,
                    Op::Expand(d) => cur.try_expand(&d[..])?,
                    Op::Transpose(a, b) => cur.try_transpose(*a, *b)?,
                    Op::T => cur.try_t()?,
                    Op::Permute(d) => cur.try_permute(&d[..])?,
                    Op::Narrow(d, s, l) => cur.try_narrow(*d, *s, *l)?,
                    Op::Unsqueeze(d) => cur.try_unsqueeze(*d)?,
                    Op::Squeeze(d) => cur.try_squeeze(*d)?,
                    Op::SqueezeAll => cur.squeeze_all(),
                    Op::Flatten(a, b) => cur.try_flatten(*a, *b)?,
                    Op::SumDim(d, k) => cur.try_sum_dim(d, *k)?,
                    Op::MeanDim(d, k) => cur.try_mean_dim(d, *k)?,
                    Op::Sum => cur.sum(),
                    Op::Mean => cur.mean(),
                    Op::Powi(n) => cur.powi(*n),
                    Op::Powf(e) => cur.powf(*e),
                    Op::Neg => cur.neg(),
                    Op::Reciprocal => cur.reciprocal(),
                    Op::AddScalar(v) => cur.add_scalar(*v),
                    Op::MulScalar(v) => cur.mul_scalar(*v),
                    Op::Contiguous => cur.contiguous(),
                    Op::DeepClone => cur.deep_clone(),
                    Op::Detach => cur.detach(),
                    Op::ToDtype(flip) => cur.to_dtype(if *flip {
                        other_dtype(cur.dtype())
                    } else {
                        cur.dtype()
                    }),
                    _ => unreachable!(),
                })
            });
            let r = settle(op, want, got, &[&cur])?;
            if let Some(out) = r.0 {
                if matches!(op, Op::Detach) {
                    st.leaves.clear();
                }
                st.cur = out;
            }
            Ok(r.1)
        }
    }
}

/// Compares an out-of-place call's outcome with the oracle.
fn settle(
    op: &Op,
    want: Expect,
    got: Result<Result<Tensor, Error>, String>,
    inputs: &[&Tensor],
) -> Result<(Option<Tensor>, Step), TestCaseError> {
    match (want, got) {
        (_, Err(panic)) => Err(TestCaseError::fail(format!("{op:?} panicked: {panic}"))),
        (Expect::Shape(s), Ok(Ok(out))) => {
            check_ok(op, &out, &s, inputs)?;
            // Sizes of an empty tensor can be huge too ([0] reshaped to [2^62, 0]): what
            // counts is what a later op could be asked to allocate.
            let nonzero: Vec<usize> = out.shape().iter().map(|&n| n.max(1)).collect();
            let step = match checked_numel(&nonzero) {
                Some(n) if n <= MAX_NUMEL => Step::Continue,
                _ => Step::Stop,
            };
            Ok((Some(out), step))
        }
        (Expect::Error, Ok(Err(e))) => {
            check_err(op, &e)?;
            Ok((None, Step::Continue))
        }
        (Expect::Shape(s), Ok(Err(e))) => Err(TestCaseError::fail(format!(
            "{op:?} on {:?}: expected shape {s:?}, got error: {e}",
            inputs
                .iter()
                .map(|t| t.shape().to_vec())
                .collect::<Vec<_>>()
        ))),
        (Expect::Error, Ok(Ok(out))) => Err(TestCaseError::fail(format!(
            "{op:?} on {:?}: expected an error, got shape {:?}",
            inputs
                .iter()
                .map(|t| t.shape().to_vec())
                .collect::<Vec<_>>(),
            out.shape()
        ))),
    }
}

fn settle_in_place(
    st: &mut State,
    op: &Op,
    ok: bool,
    got: Result<Result<(), Error>, String>,
) -> Result<Step, TestCaseError> {
    match got {
        Err(panic) => Err(TestCaseError::fail(format!("{op:?} panicked: {panic}"))),
        Ok(Ok(())) if ok => {
            st.modified = true;
            Ok(Step::Continue)
        }
        Ok(Err(e)) if !ok => {
            check_err(op, &e)?;
            Ok(Step::Continue)
        }
        Ok(r) => Err(TestCaseError::fail(format!(
            "{op:?} on shape {:?} (requires_grad {}): expected ok={ok}, got {r:?}",
            st.cur.shape(),
            st.cur.requires_grad()
        ))),
    }
}

fn finish_backward(st: &State, how: Finish) -> Result<(), TestCaseError> {
    if matches!(how, Finish::Nothing) || !st.cur.requires_grad() {
        return Ok(());
    }
    let create = matches!(how, Finish::CreateGraph);
    let loss = st.cur.sum();
    let r = guarded(|| loss.backward_with(BackwardOptions::new().create_graph(create)));
    match r {
        Err(panic) => return Err(TestCaseError::fail(format!("backward panicked: {panic}"))),
        Ok(Err(Error::InplaceModified { .. })) if st.modified => return Ok(()),
        Ok(Err(e)) => return Err(TestCaseError::fail(format!("backward failed: {e}"))),
        Ok(Ok(())) => {}
    }
    for leaf in &st.leaves {
        let g = leaf.grad();
        prop_assert!(
            g.is_some(),
            "leaf of shape {:?} got no gradient",
            leaf.shape()
        );
        let g = g.unwrap();
        prop_assert_eq!(g.shape(), leaf.shape());
        prop_assert_eq!(g.dtype(), leaf.dtype());
        prop_assert_eq!(g.to_vec::<f64>().len(), leaf.numel());
        if create && g.requires_grad() {
            // Second order: differentiate the gradient again.
            let r = guarded(|| g.sum().backward());
            match r {
                Err(panic) => {
                    return Err(TestCaseError::fail(format!(
                        "double backward panicked: {panic}"
                    )))
                }
                Ok(Err(Error::InplaceModified { .. })) if st.modified => {}
                Ok(Err(Error::GraphReleased { .. })) => {
                    // Two leaves' gradients can share a node freed by the first double
                    // backward; PyTorch refuses that too.
                }
                Ok(Err(e)) => {
                    return Err(TestCaseError::fail(format!("double backward failed: {e}")))
                }
                Ok(Ok(())) => {}
            }
        }
    }
    Ok(())
}

fn run(start: &Start, ops: &[Op], how: Finish) -> Result<(), TestCaseError> {
    let dtype = if start.f64 { DType::F64 } else { DType::F32 };
    let leaf = make(&start.shape, dtype, start.seed, start.requires_grad);
    let mut cur = leaf.clone();
    if start.dual {
        let tangent = Tensor::ones_like(&leaf);
        cur = forward_ad::make_dual(&leaf, &tangent)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    let mut st = State {
        cur,
        leaves: if start.requires_grad {
            vec![leaf]
        } else {
            vec![]
        },
        modified: false,
    };
    for op in ops {
        if let Step::Stop = step(&mut st, op)? {
            return Ok(());
        }
    }
    finish_backward(&st, how)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        // Panics are the failures this suite hunts; shrinking them is what makes them readable.
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_op_sequences_never_panic_and_follow_pytorch_shapes(
        start in start(),
        ops in prop::collection::vec(op(), 1..8),
        how in finish(),
    ) {
        run(&start, &ops, how)?;
    }
}

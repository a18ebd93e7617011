//! A tensor and a sequence of shape changes with arbitrary arguments (reshape, expand,
//! permute, transpose, t, narrow, squeeze, unsqueeze, flatten, contiguous) through the `try_`
//! forms, then `to_vec` and `sum().backward()`.
//!
//! Beyond "no panic", a reference model checks every value: the leaf holds 0, 1, 2, ..., each
//! op is replayed on a plain row-major `Vec` of those indices, and the tensor must read back
//! the same indices in the same order. The gradient of `sum()` must then count, for each leaf
//! element, how often it appears in the final view (an expanded element appears many times).
//! This checks the strides of every view, views of views, and the backward rule of each.
//!
//! Sizes whose product overflows `usize` and chains through empty tensors are exercised too:
//! both were finds of this fuzzer, now fixed (`tests/robustness_regressions.rs`).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tensorgrad::{DType, Tensor};

/// Views above this many elements are checked for shape only (an expand makes huge views for
/// free; reading them back would only spend the fuzzer's time and memory).
const MAX_NUMEL: usize = 1 << 14;

#[derive(Arbitrary, Debug)]
struct Input {
    shape: Vec<u8>,
    f64: bool,
    requires_grad: bool,
    ops: Vec<ViewOp>,
}

#[derive(Arbitrary, Debug)]
enum ViewOp {
    Reshape(Vec<i64>),
    /// Small sizes, so valid reshapes are common.
    ReshapeSmall(Vec<i8>),
    Expand(Vec<i64>),
    ExpandSmall(Vec<i8>),
    Permute(Vec<i8>),
    Transpose(i8, i8),
    T,
    Narrow(i8, u16, u16),
    Squeeze(i8),
    SqueezeAll,
    Unsqueeze(i8),
    Flatten(i8, i8),
    Contiguous,
}

/// The model: the leaf indices a tensor holds, row-major.
#[derive(Clone, Debug)]
struct Model {
    shape: Vec<usize>,
    data: Vec<usize>,
}

fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

impl Model {
    /// `out[i] = self[src(i)]`, where `src` maps an output multi-index to an input one.
    fn gather(&self, shape: &[usize], src: impl Fn(&[usize]) -> Vec<usize>) -> Model {
        let n: usize = shape.iter().product();
        let in_strides = strides(&self.shape);
        let mut idx = vec![0; shape.len()];
        let mut data = Vec::with_capacity(n);
        for _ in 0..n {
            let from = src(&idx);
            let flat: usize = from.iter().zip(&in_strides).map(|(i, s)| i * s).sum();
            data.push(self.data[flat]);
            for d in (0..shape.len()).rev() {
                idx[d] += 1;
                if idx[d] < shape[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        Model {
            shape: shape.to_vec(),
            data,
        }
    }

    fn permute(&self, perm: &[usize]) -> Model {
        let shape: Vec<usize> = perm.iter().map(|&p| self.shape[p]).collect();
        self.gather(&shape, |i| {
            let mut from = vec![0; perm.len()];
            for (o, &p) in perm.iter().enumerate() {
                from[p] = i[o];
            }
            from
        })
    }

    fn same_order(&self, shape: &[usize]) -> Model {
        Model {
            shape: shape.to_vec(),
            data: self.data.clone(),
        }
    }
}

/// PyTorch's dim wrapping (a 0-d tensor counts as having one dim).
fn wrap(d: i8, ndim: usize) -> Option<usize> {
    let n = ndim.max(1) as isize;
    let d = d as isize;
    let d = if d < 0 { d + n } else { d };
    (0..n).contains(&d).then_some(d as usize)
}

fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |a, &n| a.checked_mul(n))
}

/// Applies `op` to the tensor and, when it succeeds, to the model; when it fails, checks the
/// error names the op and leaves both unchanged.
fn apply(t: &Tensor, m: &Model, op: &ViewOp) -> (Tensor, Model) {
    let nd = t.dim();
    let check_err = |e: tensorgrad::Error, name: &str| {
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("{name}: ")), "{op:?}: {msg}");
    };
    macro_rules! attempt {
        ($name:expr, $call:expr, |$out:ident| $model:expr) => {
            match $call {
                Ok($out) => {
                    let m2: Model = $model;
                    ($out, m2)
                }
                Err(e) => {
                    check_err(e, $name);
                    (t.clone(), m.clone())
                }
            }
        };
    }
    match op {
        ViewOp::Reshape(sizes) => {
            attempt!("reshape", t.try_reshape(&sizes[..]), |out| m
                .same_order(out.shape()))
        }
        ViewOp::ReshapeSmall(sizes) => {
            let sizes: Vec<i64> = sizes.iter().map(|&s| s as i64 % 8).collect();
            // 28 sizes of 5 overflow `usize` (the fuzzer's first find): an error, not a panic.
            attempt!("reshape", t.try_reshape(&sizes[..]), |out| m
                .same_order(out.shape()))
        }
        ViewOp::Expand(_) | ViewOp::ExpandSmall(_) => {
            let sizes: Vec<i64> = match op {
                ViewOp::Expand(s) => s.clone(),
                ViewOp::ExpandSmall(s) => s.iter().map(|&s| s as i64 % 6).collect(),
                _ => unreachable!(),
            };
            // Overflowing sizes are errors (the fuzzer found 45 sizes of 5, then
            // `[-1, -1, -1, -1, 2964441502886920191]` of a `[2, 3, 3, 3, 1]`).
            attempt!("expand", t.try_expand(&sizes[..]), |out| {
                let lead = out.dim() - nd;
                let own = m.shape.clone();
                match checked_numel(out.shape()) {
                    Some(n) if n <= MAX_NUMEL => m.gather(out.shape(), |i| {
                        (0..own.len())
                            .map(|d| if own[d] == 1 { 0 } else { i[d + lead] })
                            .collect()
                    }),
                    // Too big to model: the sequence stops after this op (see below).
                    _ => Model {
                        shape: out.shape().to_vec(),
                        data: Vec::new(),
                    },
                }
            })
        }
        ViewOp::Permute(dims) => attempt!(
            "permute",
            t.try_permute(dims.iter().map(|&d| d as i64).collect::<Vec<_>>()),
            |out| {
                let perm: Vec<usize> = dims.iter().map(|&d| wrap(d, nd).unwrap()).collect();
                let r = m.permute(&perm);
                assert_eq!(r.shape, out.shape());
                r
            }
        ),
        ViewOp::Transpose(a, b) => {
            attempt!(
                "transpose",
                t.try_transpose(*a as isize, *b as isize),
                |out| {
                    if nd == 0 {
                        m.clone()
                    } else {
                        let mut perm: Vec<usize> = (0..nd).collect();
                        perm.swap(wrap(*a, nd).unwrap(), wrap(*b, nd).unwrap());
                        let r = m.permute(&perm);
                        assert_eq!(r.shape, out.shape());
                        r
                    }
                }
            )
        }
        ViewOp::T => attempt!("t", t.try_t(), |out| {
            let perm: Vec<usize> = (0..nd).rev().collect();
            let r = m.permute(&perm);
            assert_eq!(r.shape, out.shape());
            r
        }),
        ViewOp::Narrow(d, start, len) => {
            let (start, len) = (*start as usize, *len as usize);
            attempt!("narrow", t.try_narrow(*d as isize, start, len), |out| {
                let dim = wrap(*d, nd).unwrap();
                m.gather(out.shape(), |i| {
                    let mut from = i.to_vec();
                    from[dim] += start;
                    from
                })
            })
        }
        ViewOp::Squeeze(d) => {
            attempt!("squeeze", t.try_squeeze(*d as isize), |out| m
                .same_order(out.shape()))
        }
        ViewOp::SqueezeAll => (
            t.squeeze_all(),
            m.same_order(&t.squeeze_all().shape().to_vec()),
        ),
        ViewOp::Unsqueeze(d) => {
            attempt!("unsqueeze", t.try_unsqueeze(*d as isize), |out| m
                .same_order(out.shape()))
        }
        ViewOp::Flatten(a, b) => {
            attempt!("flatten", t.try_flatten(*a as isize, *b as isize), |out| m
                .same_order(out.shape()))
        }
        ViewOp::Contiguous => {
            let out = t.contiguous();
            assert!(out.is_contiguous());
            (out, m.clone())
        }
    }
}

fuzz_target!(|input: Input| {
    let shape: Vec<usize> = input
        .shape
        .iter()
        .take(6)
        .map(|&n| n as usize % 6)
        .collect();
    let n: usize = shape.iter().product();
    // Indices are exact in f32 up to 2^24, far above MAX_NUMEL.
    let leaf = match input.f64 {
        true => Tensor::from_vec((0..n).map(|i| i as f64).collect(), &shape),
        false => Tensor::from_vec((0..n).map(|i| i as f32).collect(), &shape),
    }
    .unwrap()
    .set_requires_grad(input.requires_grad);
    let dtype = if input.f64 { DType::F64 } else { DType::F32 };
    let mut t = leaf.clone();
    let mut m = Model {
        shape: shape.clone(),
        data: (0..n).collect(),
    };
    for op in input.ops.iter().take(16) {
        (t, m) = apply(&t, &m, op);
        // Invariants of every result.
        assert_eq!(t.shape(), &m.shape[..], "{op:?}");
        assert_eq!(checked_numel(t.shape()), Some(t.numel()), "{op:?}");
        assert_eq!(t.dtype(), dtype);
        assert_eq!(t.requires_grad(), input.requires_grad);
        assert_eq!(t.strides().len(), t.dim());
        let nonzero: Vec<usize> = t.shape().iter().map(|&n| n.max(1)).collect();
        if checked_numel(&nonzero).is_none_or(|n| n > MAX_NUMEL) {
            return; // a huge view: shape-checked above, not read
        }
        let got: Vec<usize> = t.to_vec::<f64>().iter().map(|&v| v as usize).collect();
        assert_eq!(got, m.data, "{op:?} on the way to shape {:?}", t.shape());
    }
    if !input.requires_grad {
        return;
    }
    t.sum().backward().expect("backward of sum()");
    let g = leaf.grad().expect("the leaf gets a gradient");
    assert_eq!(g.shape(), leaf.shape());
    let mut counts = vec![0.0f64; n];
    for &i in &m.data {
        counts[i] += 1.0;
    }
    assert_eq!(g.to_vec::<f64>(), counts);
});

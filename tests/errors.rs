//! Every misuse is a typed error whose message names the op, the shapes or dtypes involved,
//! and what to do; the panicking forms (operators, plain methods) panic with exactly the
//! message the `try_*` form returns; and every public function that can panic says so under
//! `# Panics` in its docs.
//!
//! The engine-level basics (non-scalar backward, nothing requiring grad, a released graph, an
//! in-place change to a saved tensor) have a first test in `autograd_core.rs`; here each gets
//! its full message and variant checked, plus the variations those tests do not reach.

use std::panic::{catch_unwind, AssertUnwindSafe};
use tensorgrad::autograd::{self, GradOptions};
use tensorgrad::{no_grad, tensor, BackwardOptions, DType, Error, Tensor};

/// Asserts that `msg` contains every one of `parts`.
#[track_caller]
fn assert_mentions(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "message lacks {p:?}: {msg}");
    }
}

/// The message of the panic `f` raises.
#[track_caller]
fn panic_message<R>(f: impl FnOnce() -> R) -> String {
    let payload = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(p) => p,
    };
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .expect("a string payload")
}

fn f64_tensor(t: &Tensor) -> Tensor {
    t.to_dtype(DType::F64)
}

// ----- autograd misuse -----

#[test]
fn backward_on_a_non_scalar_without_an_output_gradient() {
    let x = Tensor::ones(&[2, 3]).set_requires_grad(true);
    let err = (&x * 2.0).backward().unwrap_err();
    assert!(
        matches!(err, Error::Autograd { op: "backward", .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.starts_with("backward: "), "{msg}");
    assert_mentions(
        &msg,
        &[
            "one-element",
            "[2, 3]",
            ".sum()",
            "BackwardOptions::gradient",
        ],
    );
    // The same through autograd::grad, under its own name.
    let err = autograd::grad(&[&(&x * 2.0)], &[&x], false).unwrap_err();
    assert!(matches!(err, Error::Autograd { op: "grad", .. }), "{err:?}");
    assert_mentions(&err.to_string(), &["[2, 3]", ".sum()"]);
}

#[test]
fn backward_when_nothing_requires_grad_suggests_set_requires_grad() {
    let x = tensor!([1.0, 2.0]);
    let err = (&x * 2.0).sum().backward().unwrap_err();
    assert!(
        matches!(err, Error::Autograd { op: "backward", .. }),
        "{err:?}"
    );
    assert_mentions(
        &err.to_string(),
        &[
            "does not require grad",
            ".set_requires_grad(true)",
            "no_grad",
        ],
    );
    // Computed inside no_grad from a tensor that does require grad: same error.
    let w = tensor!([1.0, 2.0]).set_requires_grad(true);
    let err = no_grad(|| w.sum()).backward().unwrap_err();
    assert_mentions(&err.to_string(), &["does not require grad", "no_grad"]);
    // autograd::grad with an input that does not require grad.
    let y = (&w * &x).sum();
    let err = autograd::grad(&[&y], &[&x], false).unwrap_err();
    assert!(matches!(err, Error::Autograd { op: "grad", .. }), "{err:?}");
    assert_mentions(
        &err.to_string(),
        &["input 0", "[2]", ".set_requires_grad(true)"],
    );
}

#[test]
fn second_backward_through_a_released_graph_says_to_retain_it() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let w = tensor!([3.0, 4.0]);
    let y = (&x * &w).sum();
    y.backward().unwrap();
    let err = y.backward().unwrap_err();
    // The first node whose saved state was freed (here the sum, which kept its input shape).
    let Error::GraphReleased { node } = err else {
        panic!("{err:?}")
    };
    let msg = err.to_string();
    assert!(msg.starts_with("backward: "), "{msg}");
    assert_mentions(
        &msg,
        &[
            "second time",
            node,
            "retain_graph(true)",
            "autograd::grad_with",
        ],
    );
    // autograd::grad frees the graph too (retain_graph defaults to create_graph).
    let y = (&x * &w).sum();
    autograd::grad(&[&y], &[&x], false).unwrap();
    assert!(matches!(
        autograd::grad(&[&y], &[&x], false),
        Err(Error::GraphReleased { .. })
    ));
    // With the graph retained, the second call works.
    let y = (&x * &w).sum();
    autograd::grad_with(&[&y], &[&x], GradOptions::new().retain_graph(true)).unwrap();
    autograd::grad(&[&y], &[&x], false).unwrap();
}

#[test]
fn backward_after_an_in_place_change_to_a_saved_tensor_names_node_shape_and_versions() {
    // The saved tensor is changed through a view that shares its storage.
    let x = Tensor::ones(&[2, 3]).set_requires_grad(true);
    let w = Tensor::full(&[2, 3], 2.0);
    let y = (&x * &w).sum(); // MulBackward0 saves w
    w.narrow(1, 0, 1).add_scalar_(1.0);
    let err = y.backward().unwrap_err();
    assert_eq!(
        err,
        Error::InplaceModified {
            node: "MulBackward0",
            shape: vec![2, 3],
            saved: 0,
            current: 1
        }
    );
    assert_mentions(
        &err.to_string(),
        &[
            "in-place",
            "MulBackward0",
            "[2, 3]",
            "version 0",
            "version 1",
            ".deep_clone()",
        ],
    );
    // A leaf changed under no_grad after PowBackward0 saved it.
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let y = x.powi(2).sum();
    no_grad(|| x.add_scalar_(1.0));
    let err = y.backward().unwrap_err();
    assert!(
        matches!(
            err,
            Error::InplaceModified {
                node: "PowBackward0",
                ..
            }
        ),
        "{err:?}"
    );
    // A .deep_clone() taken before the change is not affected.
    let w = tensor!([2.0, 2.0]);
    let y = (&x * &w.deep_clone()).sum();
    w.add_scalar_(1.0);
    y.backward().unwrap();
}

#[test]
fn wrong_output_gradients_are_typed_errors() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let y = &x * 2.0;
    let err = y
        .backward_with(BackwardOptions::new().gradient(&f64_tensor(&tensor!([1.0, 1.0]))))
        .unwrap_err();
    assert_eq!(
        err,
        Error::DTypeMismatch {
            op: "backward",
            lhs: DType::F64,
            rhs: DType::F32
        }
    );
    let err =
        autograd::backward(&[&y, &y], Some(&[tensor!([1.0, 1.0])]), false, false).unwrap_err();
    assert!(
        matches!(err, Error::Autograd { op: "backward", .. }),
        "{err:?}"
    );
    assert_mentions(&err.to_string(), &["1 output gradient(s) for 2 output(s)"]);
}

#[test]
fn other_autograd_misuse_explains_the_fix() {
    let x = tensor!(1.0).set_requires_grad(true);
    let y = &x * 2.0;
    let err = y.try_set_requires_grad(false).unwrap_err();
    assert!(matches!(
        err,
        Error::Autograd {
            op: "set_requires_grad",
            ..
        }
    ));
    assert_mentions(&err.to_string(), &["MulBackward0", ".detach()"]);

    let err = tensor!(1.0).register_hook(|_| None).unwrap_err();
    assert!(matches!(
        err,
        Error::Autograd {
            op: "register_hook",
            ..
        }
    ));
    assert_mentions(&err.to_string(), &[".set_requires_grad(true)"]);

    let unused = tensor!(2.0).set_requires_grad(true);
    let err = autograd::grad(&[&y], &[&unused], false).unwrap_err();
    assert!(matches!(err, Error::Autograd { op: "grad", .. }));
    assert_mentions(&err.to_string(), &["not used", "allow_unused(true)"]);

    let err = tensor!([1.0])
        .set_requires_grad(true)
        .try_add_(&tensor!([1.0]))
        .unwrap_err();
    assert!(matches!(err, Error::Autograd { op: "add_", .. }));
    assert_mentions(&err.to_string(), &["leaf", "[1]", "no_grad"]);
}

// ----- dtypes -----

#[test]
fn dtype_mismatches_name_the_op_and_both_dtypes() {
    let a = tensor!([1.0, 2.0, 3.0]);
    let b = f64_tensor(&a);
    type Call = fn(&Tensor, &Tensor) -> Result<Tensor, Error>;
    let cases: [(&str, Call); 7] = [
        ("add", |a, b| a.try_add(b)),
        ("sub", |a, b| a.try_sub(b)),
        ("mul", |a, b| a.try_mul(b)),
        ("div", |a, b| a.try_div(b)),
        ("matmul", |a, b| a.try_matmul(b)),
        ("dot", |a, b| a.try_dot(b)),
        ("cross", |a, b| a.try_cross(b)),
    ];
    for (op, call) in cases {
        let err = call(&a, &b).unwrap_err();
        assert_eq!(
            err,
            Error::DTypeMismatch {
                op,
                lhs: DType::F32,
                rhs: DType::F64
            }
        );
        assert_eq!(
            err.to_string(),
            format!("{op}: dtype mismatch, f32 and f64; convert one side with .to_dtype(DType::F64) first")
        );
    }
    let err = a.try_copy_(&b).unwrap_err();
    assert!(matches!(err, Error::DTypeMismatch { op: "copy_", .. }));
}

// ----- shapes -----

#[test]
fn shapes_that_cannot_broadcast() {
    type Call = fn(&Tensor, &Tensor) -> Result<Tensor, Error>;
    let cases: [(&str, Call); 4] = [
        ("add", |a, b| a.try_add(b)),
        ("sub", |a, b| a.try_sub(b)),
        ("mul", |a, b| a.try_mul(b)),
        ("div", |a, b| a.try_div(b)),
    ];
    for (op, call) in cases {
        let err = call(&Tensor::zeros(&[3, 4]), &Tensor::zeros(&[5])).unwrap_err();
        assert_eq!(
            err,
            Error::Broadcast {
                op,
                lhs: vec![3, 4],
                rhs: vec![5]
            }
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{op}: shapes [3, 4] and [5] cannot be broadcast")),
            "{msg}"
        );
        assert_mentions(&msg, &["must match or be 1", "reshape or unsqueeze"]);
    }
    // The exact prefix the issue asks for.
    let msg = Tensor::zeros(&[3, 4])
        .try_add(&Tensor::zeros(&[5]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg.split(';').next().unwrap(),
        "add: shapes [3, 4] and [5] cannot be broadcast"
    );
    // An in-place source must broadcast to the destination.
    let err = Tensor::zeros(&[3])
        .try_add_(&Tensor::zeros(&[2, 3]))
        .unwrap_err();
    assert!(
        matches!(err, Error::ShapeMismatch { op: "add_", .. }),
        "{err:?}"
    );
    assert_mentions(&err.to_string(), &["[3]", "[2, 3]", "broadcast"]);
}

#[test]
fn every_op_taking_a_dim_reports_it_out_of_range() {
    let t = Tensor::zeros(&[2, 3]);
    let other = Tensor::zeros(&[2, 3]);
    type Call = Box<dyn Fn(&Tensor) -> Result<Tensor, Error>>;
    // (op, call with dim 5, the range that op accepts)
    let cases: Vec<(&str, Call, &str)> = vec![
        ("transpose", Box::new(|t| t.try_transpose(0, 5)), "-2..=1"),
        ("permute", Box::new(|t| t.try_permute([0, 5])), "-2..=1"),
        ("unsqueeze", Box::new(|t| t.try_unsqueeze(5)), "-3..=2"),
        ("squeeze", Box::new(|t| t.try_squeeze(5)), "-2..=1"),
        ("narrow", Box::new(|t| t.try_narrow(5, 0, 1)), "-2..=1"),
        ("flatten", Box::new(|t| t.try_flatten(0, 5)), "-2..=1"),
        ("sum_dim", Box::new(|t| t.try_sum_dim([5], false)), "-2..=1"),
        (
            "mean_dim",
            Box::new(|t| t.try_mean_dim([5], true)),
            "-2..=1",
        ),
        (
            "cross",
            Box::new(move |t| t.try_cross_dim(&other, 5)),
            "-2..=1",
        ),
    ];
    for (op, call, range) in cases {
        let err = call(&t).unwrap_err();
        assert!(
            matches!(&err, Error::DimOutOfRange { op: o, dim: 5, ndim: 2, shape, .. } if *o == op && shape == &[2, 3]),
            "{op}: {err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("{op}: dimension 5 is out of range for a tensor with 2 dimension(s) of shape [2, 3]; valid dims are {range} (negative dims count from the end)"),
        );
    }
    // Negative dims too, and a 0-d tensor, which counts as having one dim as in PyTorch.
    let err = t.try_sum_dim([-3], false).unwrap_err();
    assert!(matches!(
        err,
        Error::DimOutOfRange {
            dim: -3,
            lo: -2,
            hi: 1,
            ..
        }
    ));
    let err = tensor!(1.0).try_squeeze(1).unwrap_err();
    assert_mentions(&err.to_string(), &["0 dimension(s)", "shape []", "-1..=0"]);
}

#[test]
fn repeated_or_invalid_dims_are_typed_errors() {
    let t = Tensor::zeros(&[2, 3]);
    let err = t.try_sum_dim([0, -2], false).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { op: "sum_dim", .. }));
    assert_mentions(&err.to_string(), &["more than once", "[0, -2]"]);
    let err = t.try_permute([1, 1]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { op: "permute", .. }));
    let err = t.try_permute([0]).unwrap_err();
    assert_mentions(
        &err.to_string(),
        &["permute: ", "1 dims", "[2, 3]", "every dim once"],
    );
    let err = t.try_flatten(1, 0).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { op: "flatten", .. }));
    let err = Tensor::zeros(&[2, 3, 4]).try_t().unwrap_err();
    assert_mentions(&err.to_string(), &["t: ", "[2, 3, 4]", "transpose(d0, d1)"]);
}

#[test]
fn from_vec_with_the_wrong_length_or_an_overflowing_shape() {
    let err = Tensor::from_vec(vec![1.0f64; 5], &[2, 3]).unwrap_err();
    assert_eq!(
        err,
        Error::ElementCount {
            op: "from_vec",
            len: 5,
            shape: vec![2, 3],
            expected: 6
        }
    );
    assert_eq!(
        err.to_string(),
        "from_vec: 5 element(s) cannot fill shape [2, 3], which holds 6; pass exactly 6 values or change the shape"
    );
    // Before the fix, the size product overflowed: a panic in debug builds, and in release a
    // wrapped count of 0 that let an empty vector "fill" a shape of 2^64 elements.
    let err = Tensor::from_vec(Vec::<f32>::new(), &[1 << 32, 1 << 32]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { op: "from_vec", .. }));
    assert_mentions(&err.to_string(), &["[4294967296, 4294967296]", "overflows"]);
}

#[test]
fn reshape_to_an_invalid_shape() {
    let t = Tensor::zeros(&[3, 4]);
    let err = t.try_reshape([5, 3]).unwrap_err();
    assert_eq!(
        err,
        Error::ShapeMismatch {
            op: "reshape",
            lhs: vec![3, 4],
            rhs: vec![5, 3],
            detail: "shape [5, 3] is invalid for a tensor of 12 elements".into()
        }
    );
    assert!(err
        .to_string()
        .starts_with("reshape: shape [5, 3] is invalid for a tensor of 12 elements"));
    let err = t.try_reshape([-1, -1]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { op: "reshape", .. }));
    assert_mentions(&err.to_string(), &["only one dim can be -1", "[-1, -1]"]);
    let err = t.try_reshape([-2, 6]).unwrap_err();
    assert_mentions(
        &err.to_string(),
        &["reshape: ", "invalid size -2", ">= 0 or -1"],
    );
    // 0 elements with an inferred size is ambiguous, as in PyTorch.
    assert!(Tensor::zeros(&[0]).try_reshape([0, -1]).is_err());
    // flatten and other reshapes of a known-valid shape never fail.
    assert_eq!(t.flatten(0, -1).shape(), &[12]);
}

#[test]
fn expand_incompatibly() {
    let t = Tensor::zeros(&[2, 3]);
    let err = t.try_expand([2, 5]).unwrap_err();
    assert!(
        matches!(err, Error::ShapeMismatch { op: "expand", .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "expand: the size 5 must match the existing size 3 at non-singleton dim 1 (shapes [2, 3] and [2, 5])"
    );
    let err = t.try_expand([3]).unwrap_err();
    assert_mentions(
        &err.to_string(),
        &["expand: ", "1 dims", "has 2", "at least as many"],
    );
    let err = t.try_expand([2, -3]).unwrap_err();
    assert_mentions(&err.to_string(), &["expand: ", "size -3 is invalid"]);
}

#[test]
fn narrow_out_of_range() {
    let t = Tensor::zeros(&[3, 4]);
    let err = t.try_narrow(1, 3, 2).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { op: "narrow", .. }));
    assert_eq!(
        err.to_string(),
        "narrow: start 3 + length 2 exceeds the size 4 of dim 1 (shape [3, 4])"
    );
    // start + len overflowing usize is the same error, not an overflow panic.
    let err = t.try_narrow(0, usize::MAX, 2).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { op: "narrow", .. }));
    // An empty slice at the end is fine, as in PyTorch.
    assert_eq!(t.narrow(1, 4, 0).shape(), &[3, 0]);
    let err = tensor!(1.0).try_narrow(0, 0, 1).unwrap_err();
    assert_mentions(&err.to_string(), &["narrow: ", "0-d", "reshape it to 1-d"]);
}

#[test]
fn matmul_inner_dim_mismatch() {
    let err = Tensor::zeros(&[2, 3])
        .try_matmul(&Tensor::zeros(&[4, 5]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "matmul: the inner dims differ (3 vs 4); the last dim of the first must equal the second-to-last dim of the second (shapes [2, 3] and [4, 5])"
    );
    assert!(matches!(err, Error::ShapeMismatch { op: "matmul", .. }));
    // Vector operands name the original shapes, not the unsqueezed ones.
    let err = Tensor::zeros(&[3])
        .try_matmul(&Tensor::zeros(&[4, 5]))
        .unwrap_err();
    assert_mentions(&err.to_string(), &["(3 vs 4)", "shapes [3] and [4, 5]"]);
    let err = Tensor::zeros(&[2, 2, 3])
        .try_matmul(&Tensor::zeros(&[3, 3, 4]))
        .unwrap_err();
    assert_mentions(
        &err.to_string(),
        &["matmul: ", "batch dims", "[2, 2, 3] and [3, 3, 4]"],
    );
    let err = tensor!(1.0).try_matmul(&Tensor::zeros(&[3])).unwrap_err();
    assert_mentions(&err.to_string(), &["matmul: ", "at least 1 dim", "use mul"]);
    let err = Tensor::zeros(&[3])
        .try_dot(&Tensor::zeros(&[4]))
        .unwrap_err();
    assert_mentions(&err.to_string(), &["dot: ", "[3] and [4]", "same length"]);
    let err = Tensor::zeros(&[2])
        .try_cross(&Tensor::zeros(&[2]))
        .unwrap_err();
    assert_mentions(&err.to_string(), &["cross: ", "size 3"]);
}

#[test]
fn item_on_a_multi_element_tensor() {
    let err = Tensor::zeros(&[2, 3]).try_item::<f32>().unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { op: "item", .. }));
    assert_eq!(
        err.to_string(),
        "item: a tensor with 6 elements (shape [2, 3]) cannot be converted to a scalar; index or reduce it to one element first"
    );
    let err = Tensor::zeros(&[0]).try_item::<f64>().unwrap_err();
    assert_mentions(&err.to_string(), &["0 elements", "[0]"]);
    // One element of any shape is fine.
    assert_eq!(Tensor::ones(&[1, 1, 1]).item::<f32>(), 1.0);
}

#[test]
fn in_place_into_an_expanded_view_is_refused() {
    let t = Tensor::zeros(&[3]).expand([2, 3]);
    let err = no_grad(|| t.try_add_scalar_(1.0)).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { op: "add_", .. }));
    assert_mentions(&err.to_string(), &["expanded", "[2, 3]", ".contiguous()"]);
}

#[test]
fn constructors_with_invalid_arguments() {
    for (start, end, step, what) in [
        (0.0, 1.0, 0.0, "non-zero step"),
        (0.0, 1.0, -1.0, "sign of end - start"),
        (0.0, f64::INFINITY, 1.0, "must be finite"),
        (0.0, 1.0, f64::NAN, "must be finite"),
        (-1e308, 1e308, 1e-300, "more than fit in memory"),
    ] {
        let err = Tensor::try_arange(start, end, step).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { op: "arange", .. }));
        assert_mentions(&err.to_string(), &[what]);
    }
    let err = Tensor::try_full_with(&[usize::MAX, 2], 0.0, DType::F32).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { op: "full", .. }));
    assert_mentions(&err.to_string(), &["overflows"]);
}

// ----- panicking forms panic with the try_ form's message -----

#[test]
fn panicking_forms_panic_with_the_try_forms_message() {
    let a = Tensor::zeros(&[3, 4]);
    let b = Tensor::zeros(&[5]);
    let d = f64_tensor(&a);
    let leaf = tensor!([1.0]).set_requires_grad(true);
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Box<dyn Fn() -> Error>, Box<dyn Fn()>)> = vec![
        (
            "+",
            Box::new(|| a.try_add(&b).unwrap_err()),
            Box::new(|| {
                let _ = &a + &b;
            }),
        ),
        (
            "-",
            Box::new(|| a.try_sub(&b).unwrap_err()),
            Box::new(|| {
                let _ = &a - &b;
            }),
        ),
        (
            "*",
            Box::new(|| a.try_mul(&d).unwrap_err()),
            Box::new(|| {
                let _ = &a * &d;
            }),
        ),
        (
            "/",
            Box::new(|| a.try_div(&b).unwrap_err()),
            Box::new(|| {
                let _ = a.clone() / b.clone();
            }),
        ),
        (
            "matmul",
            Box::new(|| a.try_matmul(&a).unwrap_err()),
            Box::new(|| {
                let _ = a.matmul(&a);
            }),
        ),
        (
            "dot",
            Box::new(|| a.try_dot(&b).unwrap_err()),
            Box::new(|| {
                let _ = a.dot(&b);
            }),
        ),
        (
            "cross",
            Box::new(|| a.try_cross(&b).unwrap_err()),
            Box::new(|| {
                let _ = a.cross(&b);
            }),
        ),
        (
            "reshape",
            Box::new(|| a.try_reshape([5]).unwrap_err()),
            Box::new(|| {
                let _ = a.reshape([5]);
            }),
        ),
        (
            "expand",
            Box::new(|| a.try_expand([5]).unwrap_err()),
            Box::new(|| {
                let _ = a.expand([5]);
            }),
        ),
        (
            "transpose",
            Box::new(|| a.try_transpose(0, 2).unwrap_err()),
            Box::new(|| {
                let _ = a.transpose(0, 2);
            }),
        ),
        (
            "t",
            Box::new(|| a.unsqueeze(0).try_t().unwrap_err()),
            Box::new(|| {
                let _ = a.unsqueeze(0).t();
            }),
        ),
        (
            "permute",
            Box::new(|| a.try_permute([0]).unwrap_err()),
            Box::new(|| {
                let _ = a.permute([0]);
            }),
        ),
        (
            "unsqueeze",
            Box::new(|| a.try_unsqueeze(3).unwrap_err()),
            Box::new(|| {
                let _ = a.unsqueeze(3);
            }),
        ),
        (
            "squeeze",
            Box::new(|| a.try_squeeze(2).unwrap_err()),
            Box::new(|| {
                let _ = a.squeeze(2);
            }),
        ),
        (
            "narrow",
            Box::new(|| a.try_narrow(0, 2, 2).unwrap_err()),
            Box::new(|| {
                let _ = a.narrow(0, 2, 2);
            }),
        ),
        (
            "flatten",
            Box::new(|| a.try_flatten(1, 0).unwrap_err()),
            Box::new(|| {
                let _ = a.flatten(1, 0);
            }),
        ),
        (
            "sum_dim",
            Box::new(|| a.try_sum_dim([2], false).unwrap_err()),
            Box::new(|| {
                let _ = a.sum_dim([2], false);
            }),
        ),
        (
            "mean_dim",
            Box::new(|| a.try_mean_dim([2], false).unwrap_err()),
            Box::new(|| {
                let _ = a.mean_dim([2], false);
            }),
        ),
        (
            "item",
            Box::new(|| a.try_item::<f32>().unwrap_err()),
            Box::new(|| {
                let _ = a.item::<f32>();
            }),
        ),
        (
            "add_",
            Box::new(|| leaf.try_add_(&leaf).unwrap_err()),
            Box::new(|| {
                let _ = leaf.add_(&leaf);
            }),
        ),
        (
            "fill_",
            Box::new(|| leaf.try_fill_(0.0).unwrap_err()),
            Box::new(|| {
                let _ = leaf.fill_(0.0);
            }),
        ),
        (
            "set_requires_grad",
            Box::new(|| (&leaf * 2.0).try_set_requires_grad(false).unwrap_err()),
            Box::new(|| {
                let _ = (&leaf * 2.0).set_requires_grad(false);
            }),
        ),
        (
            "arange",
            Box::new(|| Tensor::try_arange(0.0, 1.0, 0.0).unwrap_err()),
            Box::new(|| {
                let _ = Tensor::arange(0.0, 1.0, 0.0);
            }),
        ),
        (
            "full",
            Box::new(|| Tensor::try_full_with(&[usize::MAX, 2], 0.0, DType::F32).unwrap_err()),
            Box::new(|| {
                let _ = Tensor::zeros(&[usize::MAX, 2]);
            }),
        ),
    ];
    for (name, try_form, panicking) in cases {
        let expected = try_form().to_string();
        assert_eq!(panic_message(panicking), expected, "{name}");
    }
}

#[test]
#[should_panic(expected = "add: shapes [3, 4] and [5] cannot be broadcast")]
fn add_operator_panics_with_the_broadcast_message() {
    let _ = &Tensor::zeros(&[3, 4]) + &Tensor::zeros(&[5]);
}

#[test]
#[should_panic(expected = "mul: dtype mismatch, f32 and f64")]
fn mul_operator_panics_with_the_dtype_message() {
    let _ = tensor!([1.0]) * tensor!([1.0], DType::F64);
}

#[test]
#[should_panic(expected = "matmul: the inner dims differ (3 vs 4)")]
fn matmul_panics_with_the_inner_dim_message() {
    let _ = Tensor::zeros(&[2, 3]).matmul(&Tensor::zeros(&[4, 5]));
}

#[test]
#[should_panic(expected = "reshape: shape [5, 3] is invalid for a tensor of 12 elements")]
fn reshape_panics_with_the_shape_message() {
    let _ = Tensor::zeros(&[3, 4]).reshape([5, 3]);
}

#[test]
#[should_panic(expected = "item: a tensor with 6 elements (shape [2, 3]) cannot be converted")]
fn item_panics_with_the_element_count() {
    let _ = Tensor::zeros(&[2, 3]).item::<f32>();
}

#[test]
#[should_panic(expected = "narrow: start 3 + length 2 exceeds the size 4 of dim 1")]
fn narrow_panics_with_the_range_message() {
    let _ = Tensor::zeros(&[3, 4]).narrow(1, 3, 2);
}

#[test]
#[should_panic(expected = "transpose: dimension 5 is out of range")]
fn transpose_panics_with_the_dim_message() {
    let _ = Tensor::zeros(&[3, 4]).transpose(0, 5);
}

#[test]
#[should_panic(expected = "arange: step 0 cannot go from 0 to 1")]
fn arange_panics_with_the_step_message() {
    let _ = Tensor::arange(0.0, 1.0, 0.0);
}

// ----- docs -----

/// Every `pub fn` whose body panics on purpose (`or_panic()`, `panic!`, `assert!`) has a
/// `# Panics` section in its doc comment. Found by reading the sources, so a new panicking
/// method without the section fails here.
#[test]
fn panicking_public_functions_document_panics() {
    let mut missing = Vec::new();
    let mut checked = 0;
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let src = std::fs::read_to_string(&path).unwrap();
                for (name, doc, body) in public_fns(&src) {
                    let panics = ["or_panic()", "panic!(", "assert!("]
                        .iter()
                        .any(|p| body.contains(p));
                    if panics {
                        checked += 1;
                        if !doc.contains("# Panics") {
                            missing.push(format!("{}: {name}", path.display()));
                        }
                    }
                }
            }
        }
    }
    assert!(
        checked >= 20,
        "the scan found only {checked} panicking functions"
    );
    assert!(missing.is_empty(), "no `# Panics` section: {missing:#?}");
}

/// `(name, doc comment, body)` of each `pub fn` in `src`: the doc is the `///` lines above it
/// (attributes in between are skipped), the body runs to the next `fn` or the end.
fn public_fns(src: &str) -> Vec<(String, String, String)> {
    let lines: Vec<&str> = src.lines().collect();
    let is_fn = |l: &str| {
        let l = l.trim_start();
        l.starts_with("pub fn ") || l.starts_with("fn ") || l.starts_with("pub(crate) fn ")
    };
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.trim_start().starts_with("pub fn ") {
            continue;
        }
        let name = line.trim_start()["pub fn ".len()..]
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .next()
            .unwrap()
            .to_string();
        let mut doc = Vec::new();
        for l in lines[..i].iter().rev() {
            let t = l.trim_start();
            if t.starts_with("///") {
                doc.push(t);
            } else if !t.starts_with("#[") {
                break;
            }
        }
        let end = lines[i + 1..]
            .iter()
            .position(|l| is_fn(l))
            .map_or(lines.len(), |p| i + 1 + p);
        // Comment lines are left out: the next function's doc examples contain `assert!`.
        let body: Vec<&str> = lines[i..end]
            .iter()
            .copied()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        out.push((name, doc.join("\n"), body.join("\n")));
    }
    out
}

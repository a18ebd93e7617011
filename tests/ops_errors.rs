//! Shape errors from each op family name the op and both shapes; index and dim errors are
//! typed and say what is wrong. Everything goes through the `try_` forms, and the plain
//! forms panic with the same message.

use tensorgrad::{tensor, DType, Error, Tensor};

fn z(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape)
}

/// The message starts with the op and names both shapes.
fn names_op_and_shapes(err: &Error, op: &str, a: &[usize], b: &[usize]) {
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{op}:")),
        "{msg:?} does not start with {op:?}"
    );
    assert!(
        msg.contains(&format!("{a:?}")) && msg.contains(&format!("{b:?}")),
        "{msg:?} does not name {a:?} and {b:?}"
    );
}

#[test]
fn elementwise_families_name_op_and_shapes() {
    let (a, b) = (z(&[2, 3]), z(&[4]));
    for (op, err) in [
        ("add", a.try_add(&b).unwrap_err()),
        ("mul", a.try_mul(&b).unwrap_err()),
        ("pow", a.try_pow(&b).unwrap_err()),
        ("maximum", a.try_maximum(&b).unwrap_err()),
        ("minimum", a.try_minimum(&b).unwrap_err()),
        ("eq", a.try_eq(&b).unwrap_err()),
        ("ge", a.try_ge(&b).unwrap_err()),
        (
            "where_cond",
            Tensor::try_where_cond(&z(&[2, 1]), &a, &b).unwrap_err(),
        ),
    ] {
        assert!(matches!(err, Error::Broadcast { .. }), "{op}: {err:?}");
        names_op_and_shapes(&err, op, &[2, 3], &[4]);
    }
    // where_cond: a condition that does not broadcast with the values.
    let err = Tensor::try_where_cond(&z(&[5]), &a, &a).unwrap_err();
    names_op_and_shapes(&err, "where_cond", &[5], &[2, 3]);
}

#[test]
fn linalg_family_names_op_and_shapes() {
    names_op_and_shapes(
        &z(&[2, 3]).try_matmul(&z(&[4, 5])).unwrap_err(),
        "matmul",
        &[2, 3],
        &[4, 5],
    );
    names_op_and_shapes(
        &z(&[2, 2, 3]).try_matmul(&z(&[3, 3, 1])).unwrap_err(),
        "matmul",
        &[2, 2, 3],
        &[3, 3, 1],
    );
    names_op_and_shapes(&z(&[3]).try_dot(&z(&[4])).unwrap_err(), "dot", &[3], &[4]);
    names_op_and_shapes(
        &z(&[2, 3]).try_cross(&z(&[2, 4])).unwrap_err(),
        "cross",
        &[2, 3],
        &[2, 4],
    );
    names_op_and_shapes(
        &z(&[2, 3]).try_outer(&z(&[4])).unwrap_err(),
        "outer",
        &[2, 3],
        &[4],
    );
}

#[test]
fn join_family_names_op_and_shapes() {
    names_op_and_shapes(
        &Tensor::try_cat(&[&z(&[2, 3]), &z(&[2, 4])], 0).unwrap_err(),
        "cat",
        &[2, 3],
        &[2, 4],
    );
    names_op_and_shapes(
        &Tensor::try_cat(&[&z(&[2, 3]), &z(&[3])], 0).unwrap_err(),
        "cat",
        &[2, 3],
        &[3],
    );
    names_op_and_shapes(
        &Tensor::try_stack(&[&z(&[2, 3]), &z(&[3, 2])], 0).unwrap_err(),
        "stack",
        &[2, 3],
        &[3, 2],
    );
    assert!(Tensor::try_cat(&[], 0)
        .unwrap_err()
        .to_string()
        .starts_with("cat:"));
    assert!(matches!(
        Tensor::try_stack(&[&z(&[2])], 2).unwrap_err(),
        Error::DimOutOfRange { op: "stack", .. }
    ));
    let err = Tensor::try_cat(&[&z(&[2]), &Tensor::zeros_dtype(&[2], DType::F64)], 0).unwrap_err();
    assert!(
        matches!(err, Error::DTypeMismatch { op: "cat", .. }),
        "{err:?}"
    );
    let err = z(&[2, 5]).try_split_sizes(&[1, 3], 1).unwrap_err();
    assert!(
        err.to_string().starts_with("split_sizes:") && err.to_string().contains("[2, 5]"),
        "{err}"
    );
    assert!(z(&[4]).try_split(0, 0).is_err());
    assert!(z(&[4]).try_chunk(0, 0).is_err());
}

#[test]
fn index_family_checks_every_index() {
    let t = z(&[2, 3]);
    match t.try_index_select(1, [0, 3]).unwrap_err() {
        Error::IndexOutOfRange {
            op: "index_select",
            index: 3,
            dim: 1,
            size: 3,
        } => {}
        other => panic!("{other:?}"),
    }
    match t.try_index_select(0, [-1]).unwrap_err() {
        Error::IndexOutOfRange { index: -1, .. } => {}
        other => panic!("{other:?}"),
    }
    let err = t.try_gather(1, &tensor!([[0.0], [1.5]])).unwrap_err();
    assert!(
        err.to_string().starts_with("gather:") && err.to_string().contains("1.5"),
        "{err}"
    );
    let err = t.try_gather(1, &tensor!([[0.0], [3.0]])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::IndexOutOfRange {
                op: "gather",
                index: 3,
                dim: 1,
                size: 3
            }
        ),
        "{err:?}"
    );
    // Index of the wrong rank, or larger than the input in a non-indexed dim.
    names_op_and_shapes(
        &t.try_gather(1, &z(&[2])).unwrap_err(),
        "gather",
        &[2, 3],
        &[2],
    );
    names_op_and_shapes(
        &t.try_gather(1, &z(&[3, 1])).unwrap_err(),
        "gather",
        &[2, 3],
        &[3, 1],
    );
    names_op_and_shapes(
        &t.try_index_select(1, &z(&[2, 2])).unwrap_err(),
        "index_select",
        &[2, 3],
        &[2, 2],
    );
    // Message of the plain form is the same as the try_ form's.
    let msg = std::panic::catch_unwind(|| z(&[2, 3]).index_select(1, [7])).unwrap_err();
    let text = msg.downcast_ref::<String>().expect("panic message");
    assert_eq!(
        text,
        &z(&[2, 3]).try_index_select(1, [7]).unwrap_err().to_string()
    );
}

#[test]
fn reductions_and_views_report_dims_and_shapes() {
    let t = z(&[2, 3]);
    for (op, err) in [
        ("max_dim", t.try_max_dim(2, false).unwrap_err()),
        ("argmax_dim", t.try_argmax_dim(-3, false).unwrap_err()),
        ("var_dim", t.try_var_dim([5], 1, false).unwrap_err()),
        ("prod_dim", t.try_prod_dim(2, false).unwrap_err()),
        ("logsumexp", t.try_logsumexp([2], false).unwrap_err()),
        ("softmax", t.try_softmax(2).unwrap_err()),
        ("log_softmax", t.try_log_softmax(-3).unwrap_err()),
        ("amax", t.try_amax([2], false).unwrap_err()),
    ] {
        assert!(matches!(err, Error::DimOutOfRange { .. }), "{op}: {err:?}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{op}:")) && msg.contains("[2, 3]"),
            "{msg}"
        );
    }
    assert!(z(&[0, 3])
        .try_max()
        .unwrap_err()
        .to_string()
        .starts_with("max:"));
    assert!(z(&[0, 3])
        .try_max_dim(0, false)
        .unwrap_err()
        .to_string()
        .starts_with("max_dim:"));
    names_op_and_shapes(
        &t.try_reshape([4, 2]).unwrap_err(),
        "reshape",
        &[2, 3],
        &[4, 2],
    );
    names_op_and_shapes(
        &t.try_expand([4, 4]).unwrap_err(),
        "expand",
        &[2, 3],
        &[4, 4],
    );
}

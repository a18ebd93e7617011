//! In-place updates against saved tensors: modifying a tensor that backward saved (directly or
//! through a view) makes backward fail with a clear error naming the node, and modifying one
//! that nothing saved is fine. Optimizer-style updates under `no_grad` work.

use tensorgrad::{no_grad, tensor, Error, Tensor};

fn expect_inplace_error(result: tensorgrad::Result<()>, node: &str) {
    match result {
        Err(e @ Error::InplaceModified { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(node) && msg.contains("in-place"), "{msg}");
        }
        other => panic!("expected InplaceModified from {node}, got {other:?}"),
    }
}

#[test]
fn modifying_a_saved_input_fails_backward() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let w = tensor!([3.0, 4.0]);
    let y = (&x * &w).sum(); // MulBackward0 saved w
    w.add_(&tensor!([1.0, 1.0]));
    expect_inplace_error(y.backward(), "MulBackward0");
}

#[test]
fn modifying_a_saved_output_fails_backward() {
    for (name, f) in [
        ("ExpBackward0", Tensor::exp as fn(&Tensor) -> Tensor),
        ("TanhBackward0", Tensor::tanh),
        ("SigmoidBackward0", Tensor::sigmoid),
        ("SqrtBackward0", Tensor::sqrt),
    ] {
        let x = tensor!([0.5, 1.5]).set_requires_grad(true);
        let y = f(&x);
        no_grad(|| y.mul_scalar_(2.0));
        expect_inplace_error(y.sum().backward(), name);
    }
}

#[test]
fn modifying_through_a_view_is_seen() {
    let x = tensor!([1.0, 2.0, 3.0]).set_requires_grad(true);
    let w = tensor!([1.0, 2.0, 3.0, 4.0]);
    let y = (&x * w.narrow(0, 0, 3)).sum();
    w.narrow(0, 3, 1).fill_(0.0); // another view of the same storage
    expect_inplace_error(y.backward(), "MulBackward0");
}

#[test]
fn new_ops_check_their_saved_tensors() {
    // A few of the new primitives that save inputs: where (the condition), maximum, pow,
    // gather (nothing: indices are copied), softmax (its output).
    let x = tensor!([1.0, -2.0, 3.0]).set_requires_grad(true);
    let cond = tensor!([1.0, 0.0, 1.0]);
    let y = cond.where_cond(&x, &Tensor::zeros(&[])).sum();
    cond.zero_();
    expect_inplace_error(y.backward(), "WhereBackward0");

    let b = tensor!([0.0, 0.0, 5.0]);
    let y = x.maximum(&b).sum();
    b.fill_(1.0);
    expect_inplace_error(y.backward(), "MaximumBackward0");

    let e = tensor!([2.0, 2.0, 2.0]);
    let y = x.abs().pow(&e).sum();
    e.fill_(3.0);
    expect_inplace_error(y.backward(), "PowBackward1");

    let s = x.softmax(0);
    let y = (&s * &tensor!([1.0, 2.0, 3.0])).sum();
    no_grad(|| s.zero_());
    expect_inplace_error(y.backward(), "SoftmaxBackward0");
}

#[test]
fn modifying_what_nothing_saved_is_fine() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let w = tensor!([3.0, 4.0]);
    let y = (&x + &w).sum(); // AddBackward0 saves nothing
    w.mul_scalar_(10.0);
    y.backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![1.0, 1.0]);
}

#[test]
fn leaf_that_requires_grad_is_protected_outside_no_grad() {
    let w = tensor!([1.0, 2.0]).set_requires_grad(true);
    let err = w.try_add_(&tensor!([1.0, 1.0])).unwrap_err();
    assert!(matches!(err, Error::Autograd { op: "add_", .. }), "{err:?}");
    assert_eq!(
        w.to_vec::<f32>(),
        vec![1.0, 2.0],
        "a refused update must not write"
    );
}

#[test]
fn optimizer_step_under_no_grad() {
    // Two SGD steps on (w - 3)²: the update bumps w's version, and the next forward pass
    // saves the new version, so backward works again.
    let w = tensor!([0.0]).set_requires_grad(true);
    for _ in 0..2 {
        let loss = (&w - 3.0).powi(2).sum();
        loss.backward().unwrap();
        let g = w.grad().unwrap();
        no_grad(|| w.sub_(&(&g * 0.25)));
        w.zero_grad();
    }
    // w: 0 -> 1.5 -> 2.25
    assert_eq!(w.to_vec::<f32>(), vec![2.25]);
}

#[test]
fn expanded_views_cannot_be_written() {
    let e = tensor!([1.0]).expand([3]);
    let err = e.try_add_(&tensor!([1.0, 2.0, 3.0])).unwrap_err();
    assert!(
        err.to_string().starts_with("add_:") && err.to_string().contains("expanded"),
        "{err}"
    );
}

#[test]
fn add_scaled_is_a_fused_multiply_add_like_pytorch() {
    // PyTorch: p.add_(g, alpha=a) computes fma(g, a, p) in its vectorised CPU kernel, with
    // alpha rounded to the tensor's dtype first.
    let p = tensor!([1.0, -2.0, 3.5]);
    let g = tensor!([0.1, 0.2, -0.3]);
    let alpha = -0.01;
    let expect: Vec<f32> = [1.0f32, -2.0, 3.5]
        .iter()
        .zip([0.1f32, 0.2, -0.3])
        .map(|(&p, g)| g.mul_add(alpha as f32, p))
        .collect();
    p.add_scaled_(&g, alpha);
    assert_eq!(p.to_vec::<f32>(), expect);
    // Broadcast source, strided destination.
    let m = Tensor::zeros(&[2, 3]);
    m.t().try_add_scaled_(&tensor!([1.0, 2.0]), 2.0).unwrap();
    assert_eq!(m.to_vec::<f32>(), vec![2.0, 2.0, 2.0, 4.0, 4.0, 4.0]);
    // The usual in-place rules apply.
    let leaf = tensor!([1.0]).set_requires_grad(true);
    assert!(leaf.try_add_scaled_(&tensor!([1.0]), 1.0).is_err());
    no_grad(|| leaf.add_scaled_(&tensor!([1.0]), -0.5));
    assert_eq!(leaf.to_vec::<f32>(), vec![0.5]);
}

#[test]
fn one_element_results_share_storage_with_their_views() {
    // Scalars keep their element inline in the storage; views must still share it.
    let s = tensor!(2.0) * 3.0;
    let v = s.reshape([1, 1]);
    v.add_(&tensor!(1.0));
    assert_eq!(s.item::<f32>(), 7.0);
    let d = tensor!(2.0f64) + tensor!(0.5f64);
    d.mul_scalar_(2.0);
    assert_eq!(d.item::<f64>(), 5.0);
}

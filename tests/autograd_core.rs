//! The autograd engine's contract: accumulation, graph release, retain_graph, no_grad, detach,
//! in-place version checks, error messages, threads, and very deep graphs.

use tensorgrad::{autograd, no_grad, tensor, BackwardOptions, Error, NoGradGuard, Tensor};

fn scalar(t: &Tensor) -> f32 {
    t.item::<f32>()
}

#[test]
fn tutorial_derivatives() {
    let x = tensor!(3.0).set_requires_grad(true);
    let y = 3.0 * x.powi(2);
    y.backward().unwrap();
    assert_eq!(scalar(&y), 27.0);
    assert_eq!(scalar(&x.grad().unwrap()), 18.0);

    let u = tensor!(3.0).set_requires_grad(true);
    let v = tensor!(4.0).set_requires_grad(true);
    let f = u.powi(2) + v.powi(3) + 2.0 * &u * &v + &u + &v;
    f.backward().unwrap();
    assert_eq!(
        (
            scalar(&f),
            scalar(&u.grad().unwrap()),
            scalar(&v.grad().unwrap())
        ),
        (104.0, 15.0, 55.0)
    );
}

#[test]
fn gradients_accumulate_across_backward_calls_until_zeroed() {
    let x = tensor!(2.0).set_requires_grad(true);
    for expected in [4.0, 8.0, 12.0] {
        x.powi(2).backward().unwrap();
        assert_eq!(scalar(&x.grad().unwrap()), expected);
    }
    x.zero_grad();
    assert!(x.grad().is_none());
    x.powi(2).backward().unwrap();
    assert_eq!(scalar(&x.grad().unwrap()), 4.0);
}

#[test]
fn accumulation_is_visible_through_an_earlier_grad_handle() {
    // PyTorch accumulates into the existing .grad tensor in place.
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    (&x * 3.0).sum().backward().unwrap();
    let g = x.grad().unwrap();
    (&x * 3.0).sum().backward().unwrap();
    assert_eq!(g.to_vec::<f32>(), vec![6.0, 6.0]);
}

#[test]
fn a_tensor_used_twice_gets_both_contributions() {
    let x = tensor!(3.0).set_requires_grad(true);
    let y = &x * &x + &x; // 2x + 1 = 7
    y.backward().unwrap();
    assert_eq!(scalar(&x.grad().unwrap()), 7.0);
}

#[test]
fn broadcast_gradients_are_summed_back_to_input_shapes() {
    let a = Tensor::ones(&[3, 1]).set_requires_grad(true);
    let b = Tensor::ones(&[1, 4]).set_requires_grad(true);
    (&a * &b).sum().backward().unwrap();
    assert_eq!(a.grad().unwrap().shape(), &[3, 1]);
    assert_eq!(a.grad().unwrap().to_vec::<f32>(), vec![4.0; 3]);
    assert_eq!(b.grad().unwrap().to_vec::<f32>(), vec![3.0; 4]);
}

#[test]
fn second_backward_through_freed_graph_is_an_error_that_says_to_retain() {
    let x = tensor!(3.0).set_requires_grad(true);
    let y = x.powi(2);
    y.backward().unwrap();
    let err = y.backward().unwrap_err();
    assert!(
        matches!(
            err,
            Error::GraphReleased {
                node: "PowBackward0"
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("retain_graph(true)"), "{err}");
}

#[test]
fn retained_graph_can_backward_twice() {
    let x = tensor!(3.0).set_requires_grad(true);
    let y = x.powi(2);
    y.backward_with(BackwardOptions::new().retain_graph(true))
        .unwrap();
    y.backward().unwrap();
    assert_eq!(scalar(&x.grad().unwrap()), 12.0);
}

#[test]
fn explicit_output_gradient_for_non_scalar_outputs() {
    let x = tensor!([1.0, 2.0, 3.0]).set_requires_grad(true);
    let y = &x * &x;
    y.backward_with(BackwardOptions::new().gradient(&tensor!([1.0, 0.5, 0.0])))
        .unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0, 2.0, 0.0]);
}

#[test]
fn backward_on_non_scalar_without_gradient_explains_what_to_do() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let err = (&x * 2.0).backward().unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("[2]") && msg.contains(".sum()") && msg.contains("gradient"),
        "{msg}"
    );
}

#[test]
fn backward_when_nothing_requires_grad_names_the_fix() {
    let x = tensor!(1.0);
    let msg = (&x * 2.0).backward().unwrap_err().to_string();
    assert!(
        msg.contains("does not require grad") && msg.contains("set_requires_grad(true)"),
        "{msg}"
    );
}

#[test]
fn gradient_with_wrong_shape_is_rejected() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let err = (&x * 2.0)
        .backward_with(BackwardOptions::new().gradient(&tensor!([1.0, 2.0, 3.0])))
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err:?}");
}

#[test]
fn no_grad_closure_and_guard_stop_recording_on_this_thread_only() {
    let x = tensor!(1.0).set_requires_grad(true);
    assert!(!no_grad(|| &x * 2.0).requires_grad());
    {
        let _guard = NoGradGuard::new();
        assert!(!(&x * 2.0).requires_grad());
        // Another thread has its own grad mode.
        let x2 = x.clone();
        assert!(std::thread::spawn(move || (&x2 * 2.0).requires_grad())
            .join()
            .unwrap());
    }
    assert!((&x * 2.0).requires_grad());
}

#[test]
fn detach_shares_data_but_not_history() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let y = &x * 2.0;
    let d = y.detach();
    assert!(!d.requires_grad() && d.is_leaf());
    assert_eq!(d.to_vec::<f32>(), vec![2.0, 4.0]);
    no_grad(|| y.add_scalar_(1.0));
    assert_eq!(
        d.to_vec::<f32>(),
        vec![3.0, 5.0],
        "detach shares storage, as in PyTorch"
    );
}

#[test]
fn in_place_change_to_a_saved_tensor_fails_backward_with_versions() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let w = tensor!([3.0, 4.0]);
    let y = (&x * &w).sum(); // MulBackward0 saved w
    w.add_scalar_(1.0);
    let err = y.backward().unwrap_err();
    match &err {
        Error::InplaceModified {
            node,
            saved,
            current,
            shape,
        } => {
            assert_eq!(
                (*node, *saved, *current, shape.as_slice()),
                ("MulBackward0", 0, 1, &[2][..])
            );
        }
        other => panic!("expected InplaceModified, got {other:?}"),
    }
}

#[test]
fn in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad() {
    let w = tensor!([1.0]).set_requires_grad(true);
    let err = w.try_add_(&tensor!([1.0])).unwrap_err();
    assert!(err.to_string().contains("no_grad"), "{err}");
    no_grad(|| w.add_(&tensor!([1.0])));
    assert_eq!(w.to_vec::<f32>(), vec![2.0]);
}

#[test]
fn set_requires_grad_false_on_non_leaf_is_an_error() {
    let x = tensor!(1.0).set_requires_grad(true);
    let y = &x * 2.0;
    assert!(y.try_set_requires_grad(false).is_err());
    assert!(y.try_set_requires_grad(true).is_ok());
}

#[test]
fn grad_fn_names_match_pytorch() {
    let x = tensor!(3.0).set_requires_grad(true);
    let cases: Vec<(Tensor, &str)> = vec![
        (&x * 2.0, "MulBackward0"),
        (&x + 1.0, "AddBackward0"),
        (&x - 1.0, "SubBackward0"),
        (2.0 - &x, "RsubBackward1"),
        (&x / 2.0, "DivBackward0"),
        (1.0 / &x, "MulBackward0"),
        (-&x, "NegBackward0"),
        (x.powi(2), "PowBackward0"),
        (x.sum(), "SumBackward0"),
        (x.reshape([1]), "ViewBackward0"),
        (x.unsqueeze(0), "UnsqueezeBackward0"),
    ];
    for (t, name) in cases {
        assert_eq!(t.grad_fn_name(), Some(name));
    }
    assert_eq!(x.grad_fn_name(), None);
}

#[test]
fn independent_graphs_backpropagate_on_several_threads() {
    let handles: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let x = Tensor::full(&[100], i as f64).set_requires_grad(true);
                for _ in 0..50 {
                    (&x * &x).sum().backward().unwrap();
                }
                x.grad().unwrap().to_vec::<f32>()
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), vec![100.0 * i as f32; 100]);
    }
}

#[test]
fn shared_leaf_backpropagated_from_several_threads_accumulates_everything() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let x = x.clone();
            std::thread::spawn(move || (&x * 3.0).sum().backward().unwrap())
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![12.0, 12.0]);
}

#[test]
fn million_op_chain_backpropagates_and_drops_without_stack_overflow() {
    // Runs on the default test thread (2 MiB stack): both backward and drop must be iterative.
    let x = tensor!(1.0).set_requires_grad(true);
    let mut y = x.clone();
    for _ in 0..1_000_000 {
        y = &y * 1.0 + 0.0;
    }
    y.backward().unwrap();
    assert_eq!(scalar(&x.grad().unwrap()), 1.0);
    drop(y);
    // An un-backpropagated chain must drop iteratively too.
    let mut z = x.clone();
    for _ in 0..1_000_000 {
        z = &z * &x;
    }
    drop(z);
}

#[test]
fn second_derivative_by_create_graph() {
    let x = tensor!(2.0).set_requires_grad(true);
    let y = x.powi(3); // 3x² = 12, 6x = 12, 6
    let g1 = &autograd::grad(&[&y], &[&x], true).unwrap()[0];
    let g2 = &autograd::grad(&[g1], &[&x], true).unwrap()[0];
    let g3 = &autograd::grad(&[g2], &[&x], false).unwrap()[0];
    assert_eq!((scalar(g1), scalar(g2), scalar(g3)), (12.0, 12.0, 6.0));
    assert!(x.grad().is_none(), "autograd::grad must not touch .grad");
}

#[test]
fn backward_with_create_graph_makes_grad_differentiable() {
    let x = tensor!(2.0).set_requires_grad(true);
    x.powi(3)
        .backward_with(BackwardOptions::new().create_graph(true))
        .unwrap();
    let g = x.grad().unwrap();
    assert!(g.requires_grad());
    let g2 = &autograd::grad(&[&g], &[&x], false).unwrap()[0];
    assert_eq!(scalar(g2), 12.0);
}

#[test]
fn from_vec_with_wrong_length_is_a_typed_error() {
    let err = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[2, 2]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ElementCount {
                len: 3,
                expected: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("[2, 2]"));
}

#[test]
fn broadcast_error_names_op_and_shapes() {
    let err = Tensor::zeros(&[3, 4])
        .try_add(&Tensor::zeros(&[5]))
        .unwrap_err();
    assert_eq!(
        err.to_string().split(';').next().unwrap(),
        "add: shapes [3, 4] and [5] cannot be broadcast"
    );
}

#[test]
fn dtype_mismatch_is_a_typed_error() {
    let a = tensor!([1.0]);
    let b = a.to_dtype(tensorgrad::DType::F64);
    let err = a.try_mul(&b).unwrap_err();
    assert!(
        matches!(err, Error::DTypeMismatch { op: "mul", .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("to_dtype"));
}

#[test]
#[should_panic(expected = "add: shapes [3, 4] and [5] cannot be broadcast")]
fn operators_panic_with_the_same_message() {
    let _ = Tensor::zeros(&[3, 4]) + Tensor::zeros(&[5]);
}

#[test]
fn weight_gradient_of_a_transposed_operand_is_contiguous() {
    // `x @ w.t()` (what Linear does): w's gradient comes out in w's own row-major layout,
    // equal to g^T @ x, so `.grad` is stored without a strided copy. `autograd::grad` hands
    // the gradient back as the engine made it, so its layout is visible.
    let x = Tensor::from_vec((0..6).map(f64::from).collect::<Vec<_>>(), &[3, 2]).unwrap();
    let w = Tensor::from_vec(vec![1.0f64, -1.0, 0.5, 2.0], &[2, 2])
        .unwrap()
        .set_requires_grad(true);
    let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
    let y = (x.matmul(&w.t()) * &g).sum();
    let dw = autograd::grad(&[&y], &[&w], false).unwrap().remove(0);
    assert!(dw.is_contiguous());
    assert_eq!(dw.to_vec::<f64>(), g.t().matmul(&x).to_vec::<f64>());
    // The same through a column-major left operand: `w.t() @ x.t()`.
    // d/dw sum((wᵀ xᵀ) ⊙ gᵀ) = xᵀ g.
    let y = (w.t().matmul(&x.t()) * g.t()).sum();
    let dw = autograd::grad(&[&y], &[&w], false).unwrap().remove(0);
    assert!(dw.is_contiguous());
    assert_eq!(dw.to_vec::<f64>(), x.t().matmul(&g).to_vec::<f64>());
}

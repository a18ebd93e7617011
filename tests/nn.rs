//! `tensorgrad::nn` against PyTorch: initialisation bit for bit, dropout masks, Linear
//! forward and backward, losses and their gradients (values from tests/fixtures/nn.json,
//! written by scripts/fixtures/nn.py), and saving and loading parameters.

mod nn_common;

use nn_common::*;
use std::collections::HashMap;
use tensorgrad::nn::functional as F;
use tensorgrad::nn::init::{self, FanMode, Nonlinearity};
use tensorgrad::nn::{self, Module, Reduction, StateDictError};
use tensorgrad::{gradcheck, BackwardOptions, DType, Error, Tensor};

// ----- initialisation -----

#[test]
fn linear_init_matches_pytorch_bit_for_bit() {
    let cases = fixture()["linear_init"]["cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for c in cases {
        let seed = c["seed"].as_u64().unwrap();
        let (fin, fout) = (
            c["in"].as_u64().unwrap() as usize,
            c["out"].as_u64().unwrap() as usize,
        );
        let bias = c["bias"].as_bool().unwrap();
        let dt = dtype(&c["dtype"]);
        let layer = seeded(seed, || nn::Linear::new_with(fin, fout, bias, dt));
        let what = format!("Linear({fin}, {fout}, bias={bias}, {dt}) seed {seed}");
        assert_eq!(layer.weight().shape(), &[fout, fin]);
        assert_bits(layer.weight(), &c["weight_bits"], &format!("{what} weight"));
        match layer.bias() {
            Some(b) => assert_bits(b, &c["bias_bits"], &format!("{what} bias")),
            None => assert!(c["bias_bits"].is_null(), "{what}: bias expected"),
        }
        assert!(layer.weight().requires_grad() && layer.weight().is_leaf());
    }
}

#[test]
fn linear_new_is_f32_with_bias() {
    let case = &fixture()["linear_init"]["cases"][0];
    assert_eq!(
        (case["in"].as_u64(), case["out"].as_u64()),
        (Some(3), Some(2))
    );
    let layer = seeded(case["seed"].as_u64().unwrap(), || nn::Linear::new(3, 2));
    assert_eq!(layer.weight().dtype(), DType::F32);
    assert_bits(
        layer.weight(),
        &case["weight_bits"],
        "Linear::new(3, 2) weight",
    );
    assert_bits(
        layer.bias().unwrap(),
        &case["bias_bits"],
        "Linear::new(3, 2) bias",
    );
    assert_eq!(
        format!("{layer:?}"),
        "Linear(in_features=3, out_features=2, bias=True)"
    );
}

fn run_init(name: &str, t: &Tensor) {
    let r = match name {
        "uniform" => init::uniform_(t, -0.5, 1.5),
        "uniform_f64" => init::uniform_(t, -2.0, 3.0),
        "kaiming_uniform_default" => {
            init::kaiming_uniform_(t, FanMode::FanIn, Nonlinearity::LeakyRelu(0.0))
        }
        "kaiming_uniform_fan_out_relu" => {
            init::kaiming_uniform_(t, FanMode::FanOut, Nonlinearity::Relu)
        }
        "kaiming_uniform_leaky" => {
            init::kaiming_uniform_(t, FanMode::FanIn, Nonlinearity::LeakyRelu(0.2))
        }
        "xavier_uniform_gain" => init::xavier_uniform_(t, 2.0),
        "xavier_uniform_tanh" => init::xavier_uniform_(t, init::calculate_gain(Nonlinearity::Tanh)),
        "normal_small" | "normal_large" => init::normal_(t, 1.0, 2.0),
        "normal_small_f64" => init::normal_(t, -1.0, 0.5),
        "normal_large_f64" => init::normal_(t, 0.5, 3.0),
        "kaiming_normal_small" => {
            init::kaiming_normal_(t, FanMode::FanIn, Nonlinearity::LeakyRelu(0.0))
        }
        "kaiming_normal_fan_out" => init::kaiming_normal_(t, FanMode::FanOut, Nonlinearity::Relu),
        "xavier_normal_small" => init::xavier_normal_(t, 1.0),
        "xavier_normal_large" => init::xavier_normal_(t, 0.5),
        other => panic!("no init case {other}"),
    };
    r.unwrap_or_else(|e| panic!("{name}: {e}"));
}

#[test]
fn sequential_mlp_init_matches_pytorch_draw_order() {
    let seq = &fixture()["linear_init"]["sequential"];
    let model = seeded(seq["seed"].as_u64().unwrap(), || {
        nn::Sequential::new()
            .add(nn::Linear::new(1, 32))
            .add(nn::Tanh::new())
            .add(nn::Linear::new(32, 32))
            .add(nn::Tanh::new())
            .add(nn::Linear::new(32, 1))
    });
    let params = model.named_parameters();
    let expected = seq["params"].as_array().unwrap();
    assert_eq!(params.len(), expected.len());
    for ((name, p), e) in params.iter().zip(expected) {
        assert_eq!(name, e["name"].as_str().unwrap());
        assert_eq!(p.shape(), shape(&e["shape"]).as_slice(), "{name}");
        assert_bits(p, &e["bits"], name);
    }
}

#[test]
fn init_functions_match_pytorch() {
    let cases = fixture()["init"].as_array().unwrap();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let dt = dtype(&c["dtype"]);
        // A parameter (requires grad): the fill must happen in place, outside the graph.
        let t = Tensor::zeros_dtype(&shape(&c["shape"]), dt).set_requires_grad(true);
        let alias = t.clone();
        seeded(c["seed"].as_u64().unwrap(), || run_init(name, &t));
        if c["exact"].as_bool().unwrap() {
            assert_bits(&alias, &c["bits"], name);
        } else {
            // PyTorch's vectorised Box-Muller works in the tensor's precision.
            let (rtol, atol) = match dt {
                DType::F32 => (1e-5, 1e-5),
                DType::F64 => (1e-12, 1e-12),
            };
            assert_close_vals(
                &alias.to_vec::<f64>(),
                &f64s(&c["values"]),
                rtol,
                atol,
                name,
            );
        }
        assert!(
            alias.is_leaf() && alias.requires_grad(),
            "{name}: still a parameter"
        );
    }
}

#[test]
fn init_errors_and_constants() {
    let v = Tensor::zeros(&[3]);
    let err = init::kaiming_uniform_(&v, FanMode::FanIn, Nonlinearity::Relu).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    assert!(init::xavier_normal_(&v, 1.0).is_err());
    // An empty weight is left alone, as in PyTorch (no fan needed, nothing drawn).
    assert!(
        init::kaiming_uniform_(&Tensor::zeros(&[0, 3]), FanMode::FanIn, Nonlinearity::Relu).is_ok()
    );
    let w = Tensor::zeros(&[2, 2]).set_requires_grad(true);
    init::ones_(&w).unwrap();
    assert_eq!(w.to_vec::<f32>(), [1.0; 4]);
    init::constant_(&w, 0.25).unwrap();
    assert_eq!(w.to_vec::<f32>(), [0.25; 4]);
    init::zeros_(&w).unwrap();
    assert_eq!(w.to_vec::<f32>(), [0.0; 4]);
    assert_eq!(
        init::calculate_fan_in_and_fan_out(&Tensor::zeros(&[6, 3, 2])).unwrap(),
        (6, 12)
    );
    // PyTorch: calculate_gain('leaky_relu', math.sqrt(5)) and ('selu').
    assert_eq!(
        init::calculate_gain(Nonlinearity::LeakyRelu(5f64.sqrt())),
        0.5773502691896257
    );
    assert_eq!(init::calculate_gain(Nonlinearity::Selu), 0.75);
}

// ----- dropout -----

#[test]
fn dropout_masks_and_gradients_match_pytorch() {
    for c in fixture()["dropout"].as_array().unwrap() {
        let p = c["p"].as_f64().unwrap();
        let x = tensor(&c["x"]).set_requires_grad(true);
        let what = format!("dropout p={p} seed {}", c["seed"]);
        let y = seeded(c["seed"].as_u64().unwrap(), || {
            F::dropout(&x, p, true).unwrap()
        });
        assert_bits(&y, &c["out_bits"], &what);
        assert_eq!(y.grad_fn_name(), c["grad_fn"].as_str(), "{what}: grad_fn");
        y.backward_with(BackwardOptions::new().gradient(&tensor(&c["grad_out"])))
            .unwrap();
        assert_bits(
            &x.grad().unwrap(),
            &c["grad_bits"],
            &format!("{what} gradient"),
        );
    }
}

#[test]
fn dropout_module_follows_train_and_eval() {
    let c = &fixture()["dropout"][0];
    let x = tensor(&c["x"]);
    let mut d = nn::Dropout::new(c["p"].as_f64().unwrap());
    assert!(d.is_training());
    let y = seeded(c["seed"].as_u64().unwrap(), || d.forward(&x));
    assert_bits(&y, &c["out_bits"], "Dropout module");
    d.eval();
    assert!(!d.is_training());
    assert_eq!(
        bits_of(&d.forward(&x)),
        bits_of(&x),
        "eval mode is the identity"
    );
    // Inside a Sequential, eval reaches the dropout layer.
    let mut seq = nn::Sequential::new().add(nn::Dropout::new(0.5));
    seq.eval();
    assert_eq!(bits_of(&seq.forward(&x)), bits_of(&x));
    seq.train();
    let y = seeded(c["seed"].as_u64().unwrap(), || seq.forward(&x));
    assert_bits(
        &y,
        &c["out_bits"],
        "Dropout in a Sequential back in training mode",
    );
}

#[test]
fn dropout_edge_probabilities() {
    let x = Tensor::from_vec(vec![1.0f32, -2.0, f32::INFINITY], &[3]).unwrap();
    assert_eq!(bits_of(&F::dropout(&x, 0.0, true).unwrap()), bits_of(&x));
    let zero = F::dropout(&x, 1.0, true).unwrap().to_vec::<f32>();
    assert_eq!(zero[..2], [0.0, -0.0]);
    assert!(
        zero[2].is_nan(),
        "PyTorch multiplies by zero: inf gives NaN"
    );
    for bad in [-0.1, 1.5, f64::NAN] {
        assert!(
            matches!(
                F::dropout(&x, bad, true),
                Err(Error::InvalidArgument { .. })
            ),
            "p = {bad}"
        );
        assert!(nn::Dropout::try_new(bad).is_err());
    }
}

// ----- Linear -----

#[test]
fn linear_forward_and_backward_match_pytorch() {
    for c in fixture()["linear"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let layer = nn::Linear::from_tensors(
            tensor(&c["weight"]),
            (!c["bias"].is_null()).then(|| tensor(&c["bias"])),
        )
        .unwrap();
        let x = tensor(&c["x"]).set_requires_grad(true);
        let y = layer.forward(&x);
        assert_close(&y, &c["y"], F32_RTOL, F32_ATOL, &format!("{name}: y"));
        y.backward_with(BackwardOptions::new().gradient(&tensor(&c["grad_out"])))
            .unwrap();
        assert_close(
            &x.grad().unwrap(),
            &c["grad_x"],
            F32_RTOL,
            F32_ATOL,
            &format!("{name}: grad x"),
        );
        assert_close(
            &layer.weight().grad().unwrap(),
            &c["grad_weight"],
            F32_RTOL,
            F32_ATOL,
            &format!("{name}: grad W"),
        );
        if let Some(b) = layer.bias() {
            assert_close(
                &b.grad().unwrap(),
                &c["grad_bias"],
                F32_RTOL,
                F32_ATOL,
                &format!("{name}: grad b"),
            );
        }
    }
}

#[test]
fn linear_errors() {
    // Draws from the global generator: under the lock, so concurrent seeded tests keep
    // their sequences.
    seeded(0, || {
        let layer = nn::Linear::new(3, 2);
        let err = layer.try_forward(&Tensor::zeros(&[4, 5])).unwrap_err();
        assert!(
            matches!(err, Error::ShapeMismatch { op: "linear", .. }),
            "{err}"
        );
        assert!(matches!(
            layer.try_forward(&Tensor::zeros_dtype(&[4, 3], DType::F64)),
            Err(Error::DTypeMismatch { .. })
        ));
        assert!(layer.try_forward(&Tensor::scalar(1.0f32)).is_err());
        assert!(nn::Linear::from_tensors(Tensor::zeros(&[3]), None).is_err());
        assert!(
            nn::Linear::from_tensors(Tensor::zeros(&[2, 3]), Some(Tensor::zeros(&[3]))).is_err()
        );
        assert!(nn::Linear::from_tensors(
            Tensor::zeros(&[2, 3]),
            Some(Tensor::zeros_dtype(&[2], DType::F64))
        )
        .is_err());
    })
}

// ----- Module and Sequential -----

#[test]
fn sequential_names_parameters_like_pytorch_and_shares_them() {
    // Draws from the global generator: under the lock, so concurrent seeded tests keep
    // their sequences.
    seeded(0, || {
        let model = nn::Sequential::new()
            .add(nn::Linear::new(2, 4))
            .add(nn::Dropout::new(0.1))
            .add(nn::Linear::new_with(4, 3, false, DType::F32))
            .add(nn::Linear::new(3, 1));
        let names: Vec<String> = model
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            names,
            ["0.weight", "0.bias", "2.weight", "3.weight", "3.bias"]
        );
        assert_eq!(model.len(), 4);
        // parameters() are the model's own tensors: an in-place change shows through the model.
        let params = model.parameters();
        assert!(params[0].same(&model.get(0).unwrap().parameters()[0]));
        tensorgrad::no_grad(|| params[1].fill_(0.0));
        let x = Tensor::zeros(&[1, 2]);
        let out0 = model.get(0).unwrap().forward(&x);
        assert_eq!(out0.to_vec::<f32>(), [0.0; 4]);
        // zero_grad clears every parameter's gradient.
        model
            .forward(&Tensor::ones(&[5, 2]))
            .sum()
            .backward()
            .unwrap();
        assert!(model.parameters().iter().all(|p| p.grad().is_some()));
        model.zero_grad();
        assert!(model.parameters().iter().all(|p| p.grad().is_none()));
    })
}

#[test]
fn train_and_eval_propagate() {
    // Draws from the global generator: under the lock, so concurrent seeded tests keep
    // their sequences.
    seeded(0, || {
        let mut model = nn::Sequential::new()
            .add(nn::Linear::new(2, 2))
            .add(nn::Sequential::new().add(nn::Dropout::new(0.5)));
        assert!(model.is_training());
        model.eval();
        assert!(!model.is_training());
        assert!(model.iter().all(|m| !m.is_training()));
        let mut inner_pushed = nn::Sequential::new();
        inner_pushed.eval();
        inner_pushed.push(Box::new(nn::Dropout::new(0.5)));
        assert!(
            !inner_pushed.get(0).unwrap().is_training(),
            "a pushed module takes the sequence's mode"
        );
        model.train();
        assert!(model.iter().all(|m| m.is_training()));
    })
}

// ----- losses -----

fn reduction(v: &serde_json::Value) -> Reduction {
    match v.as_str().unwrap() {
        "none" => Reduction::None,
        "mean" => Reduction::Mean,
        "sum" => Reduction::Sum,
        other => panic!("reduction {other}"),
    }
}

fn loss_cases(kind: &str) -> Vec<&'static serde_json::Value> {
    let v: Vec<_> = fixture()["losses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["loss"] == kind)
        .collect();
    assert!(!v.is_empty(), "no {kind} cases");
    v
}

/// Runs every fixture case of `kind` through `loss(input, target, class_targets, reduction)`
/// and compares the value, the grad_fn and the gradients (input, and target where PyTorch
/// has one) with PyTorch's.
fn check_loss_cases(kind: &str, loss: impl Fn(&Tensor, &Tensor, &[usize], Reduction) -> Tensor) {
    for c in loss_cases(kind) {
        let red = reduction(&c["reduction"]);
        let x = tensor(&c["input"]).set_requires_grad(true);
        let y = (!c["target"].is_null()).then(|| tensor(&c["target"]).set_requires_grad(true));
        let targets = if c["targets"].is_null() {
            vec![]
        } else {
            usizes(&c["targets"])
        };
        let (rtol, atol) = tol(x.dtype());
        let what = format!("{kind} {} {red:?} {}", c["name"], x.dtype());
        let out = loss(&x, y.as_ref().unwrap_or(&x), &targets, red);
        assert!(
            out.to_vec::<f64>().iter().all(|v| v.is_finite()),
            "{what}: {out:?}"
        );
        assert_close(&out, &c["out"], rtol, atol, &what);
        assert_eq!(out.grad_fn_name(), c["grad_fn"].as_str(), "{what}");
        out.backward_with(BackwardOptions::new().gradient(&tensor(&c["grad_out"])))
            .unwrap();
        assert_close(
            &x.grad().unwrap(),
            &c["grad_input"],
            rtol,
            atol,
            &format!("{what} grad input"),
        );
        if let Some(y) = y {
            assert_close(
                &y.grad().unwrap(),
                &c["grad_target"],
                rtol,
                atol,
                &format!("{what} grad target"),
            );
        }
    }
}

#[test]
fn mse_loss_matches_pytorch() {
    check_loss_cases("mse", |x, y, _, red| F::mse_loss_with(x, y, red).unwrap());
}

#[test]
fn nll_loss_matches_pytorch() {
    check_loss_cases("nll", |x, _, t, red| F::nll_loss_with(x, t, red).unwrap());
}

/// `nll_loss` reads each sample's target value in place, from any layout, and its backward
/// without `create_graph` writes the gradient directly: the same numbers as the recorded
/// (mask-times-gradient) rule, which keeps it differentiable in the upstream gradient.
#[test]
fn nll_loss_direct_paths_match_the_recorded_rule() {
    let (n, c) = (37, 11);
    let values: Vec<f64> = (0..n * c)
        .map(|i| ((i * 7919) % 101) as f64 / 10.0 - 5.0)
        .collect();
    let targets: Vec<usize> = (0..n).map(|i| (i * 5) % c).collect();
    for dtype in [DType::F32, DType::F64] {
        let base = Tensor::from_vec(values.clone(), &[c, n])
            .unwrap()
            .to_dtype(dtype);
        for transposed in [false, true] {
            let lp = if transposed {
                base.t()
            } else {
                base.reshape([n as isize, c as isize])
            };
            let lp = lp.set_requires_grad(true);
            let lv = lp.to_vec::<f64>();
            let picked: Vec<f64> = (0..n).map(|i| -lv[i * c + targets[i]]).collect();
            for red in [Reduction::None, Reduction::Mean, Reduction::Sum] {
                let what = format!("{dtype:?} transposed={transposed} {red:?}");
                let loss = F::nll_loss_with(&lp, &targets, red).unwrap();
                let want = match red {
                    Reduction::None => picked.clone(),
                    Reduction::Mean => vec![picked.iter().sum::<f64>() / n as f64],
                    Reduction::Sum => vec![picked.iter().sum::<f64>()],
                };
                for (got, want) in loss.to_vec::<f64>().iter().zip(&want) {
                    assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "{what}");
                }
                // One upstream value per sample for `None` (1.5, 2.5, ...), else one number.
                let ups: Vec<f64> = (0..loss.numel()).map(|i| 1.5 + i as f64).collect();
                let upstream = Tensor::from_vec(ups.clone(), loss.shape())
                    .unwrap()
                    .to_dtype(dtype);
                let grad = |create_graph: bool| {
                    let options = tensorgrad::autograd::GradOptions {
                        create_graph,
                        retain_graph: Some(true),
                        grad_outputs: Some(vec![upstream.clone()]),
                        ..Default::default()
                    };
                    tensorgrad::autograd::grad_with(&[&loss], &[&lp], options).unwrap()[0]
                        .clone()
                        .unwrap()
                        .to_vec::<f64>()
                };
                assert_eq!(grad(false), grad(true), "{what}");
                let direct = grad(false);
                let scale = if red == Reduction::Mean {
                    n as f64
                } else {
                    1.0
                };
                for i in 0..n {
                    for j in 0..c {
                        let up = ups[if ups.len() == 1 { 0 } else { i }];
                        let want = if j == targets[i] { -up / scale } else { 0.0 };
                        assert!((direct[i * c + j] - want).abs() < 1e-6, "{what} ({i}, {j})");
                    }
                }
            }
        }
    }
}

#[test]
fn cross_entropy_matches_pytorch_and_is_stable() {
    check_loss_cases("cross_entropy", |x, _, t, red| {
        F::cross_entropy_with(x, t, red).unwrap()
    });
}

#[test]
fn bce_with_logits_matches_pytorch_including_zero_and_large_logits() {
    check_loss_cases("bce_with_logits", |x, y, _, red| {
        F::binary_cross_entropy_with_logits_with(x, y, red).unwrap()
    });
}

#[test]
fn gelu_tanh_matches_pytorch() {
    for c in fixture()["gelu_tanh"].as_array().unwrap() {
        let x = tensor(&c["x"]).set_requires_grad(true);
        let (rtol, atol) = tol(x.dtype());
        for y in [F::gelu_tanh(&x), nn::GELU::tanh_approximation().forward(&x)] {
            assert_close(&y, &c["y"], rtol, atol, "gelu tanh");
            x.zero_grad();
            y.backward_with(BackwardOptions::new().gradient(&tensor(&c["grad_out"])))
                .unwrap();
            assert_close(
                &x.grad().unwrap(),
                &c["grad_x"],
                rtol,
                atol,
                "gelu tanh grad",
            );
        }
    }
}

#[test]
fn activation_modules_are_the_tensor_ops() {
    let x = Tensor::from_vec(vec![-2.0f64, -0.5, 0.0, 0.7, 3.0], &[5]).unwrap();
    let cases: [(Box<dyn Module>, Tensor, &str); 4] = [
        (Box::new(nn::ReLU::new()), x.relu(), "ReluBackward0"),
        (Box::new(nn::Tanh::new()), x.tanh(), "TanhBackward0"),
        (
            Box::new(nn::Sigmoid::new()),
            x.sigmoid(),
            "SigmoidBackward0",
        ),
        (Box::new(nn::GELU::new()), x.gelu(), "GeluBackward0"),
    ];
    let xg = x.set_requires_grad(true);
    for (m, expected, grad_fn) in cases {
        let y = m.forward(&xg);
        assert_eq!(bits_of(&y), bits_of(&expected), "{grad_fn}");
        assert_eq!(y.grad_fn_name(), Some(grad_fn));
        assert!(m.named_parameters().is_empty());
    }
    assert_eq!(bits_of(&F::relu(&xg)), bits_of(&xg.relu()));
    assert_eq!(bits_of(&F::softmax(&xg, 0)), bits_of(&xg.softmax(0)));
    assert_eq!(
        bits_of(&F::log_softmax(&xg, 0)),
        bits_of(&xg.log_softmax(0))
    );
}

#[test]
fn class_index_losses_report_bad_targets() {
    let logp = Tensor::zeros(&[3, 4]);
    let err = F::nll_loss(&logp, &[0, 1]).unwrap_err();
    assert!(
        matches!(err, Error::ShapeMismatch { op: "nll_loss", .. }),
        "{err}"
    );
    let err = F::nll_loss(&logp, &[0, 4, 1]).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { op: "nll_loss", .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("target 4 (sample 1) is out of bounds for 4 classes"),
        "{err}"
    );
    assert!(
        F::nll_loss(&Tensor::zeros(&[4]), &[0]).is_err(),
        "1-D input needs unsqueeze(0)"
    );
}

#[test]
fn mse_loss_rejects_mismatched_shapes() {
    let err = F::mse_loss(&Tensor::zeros(&[4, 1]), &Tensor::zeros(&[4])).unwrap_err();
    assert!(
        matches!(err, Error::ShapeMismatch { op: "mse_loss", .. }),
        "{err}"
    );
    let err =
        F::mse_loss(&Tensor::zeros(&[4]), &Tensor::zeros_dtype(&[4], DType::F64)).unwrap_err();
    assert!(matches!(err, Error::DTypeMismatch { .. }), "{err}");
}

fn f64_tensor(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}

#[test]
fn loss_gradients_pass_gradcheck_and_gradgradcheck() {
    let x = f64_tensor(&[0.3, -1.2, 2.0, 0.7, -0.1, 0.0], &[2, 3]);
    let y = f64_tensor(&[0.1, 0.4, -2.0, 1.0, 0.0, 0.5], &[2, 3]);
    for red in [Reduction::None, Reduction::Mean, Reduction::Sum] {
        let f = |v: &[Tensor]| F::mse_loss_with(&v[0], &v[1], red).unwrap();
        let r = gradcheck::gradcheck(f, &[x.clone(), y.clone()], Default::default()).unwrap();
        assert!(r.passed, "mse {red:?}: {r}");
        let r = gradcheck::gradgradcheck(f, &[x.clone(), y.clone()], Default::default()).unwrap();
        assert!(r.passed, "mse {red:?} second order: {r}");
        let f = |v: &[Tensor]| F::nll_loss_with(&v[0], &[2, 0], red).unwrap();
        let r = gradcheck::gradcheck(f, std::slice::from_ref(&x), Default::default()).unwrap();
        assert!(r.passed, "nll {red:?}: {r}");
        let f = |v: &[Tensor]| F::cross_entropy_with(&v[0], &[2, 0], red).unwrap();
        let r = gradcheck::gradgradcheck(f, std::slice::from_ref(&x), Default::default()).unwrap();
        assert!(r.passed, "cross_entropy {red:?} second order: {r}");
        // Targets in [0, 1]; x has an exact 0, where |x| has its kink.
        let t = f64_tensor(&[0.0, 1.0, 0.3, 0.5, 1.0, 0.9], &[2, 3]);
        let f = |v: &[Tensor]| F::binary_cross_entropy_with_logits_with(&v[0], &v[1], red).unwrap();
        let r = gradcheck::gradcheck(f, &[x.clone(), t.clone()], Default::default()).unwrap();
        assert!(r.passed, "bce {red:?}: {r}");
        let r = gradcheck::gradgradcheck(f, &[x.clone(), t.clone()], Default::default()).unwrap();
        assert!(r.passed, "bce {red:?} second order: {r}");
    }
}

#[test]
fn losses_propagate_forward_mode_tangents() {
    use tensorgrad::{autograd, forward_ad};
    let x = f64_tensor(&[0.3, -1.2, 2.0, 0.7, -0.1, 0.0], &[2, 3]);
    let y = f64_tensor(&[0.0, 1.0, 0.3, 0.5, 1.0, 0.9], &[2, 3]);
    let v = f64_tensor(&[1.0, -0.5, 0.25, 2.0, -1.0, 0.5], &[2, 3]);
    type Loss = fn(&Tensor, &Tensor) -> Tensor;
    let losses: [(&str, Loss); 4] = [
        ("mse", |a, b| F::mse_loss(a, b).unwrap()),
        ("bce", |a, b| {
            F::binary_cross_entropy_with_logits(a, b).unwrap()
        }),
        ("cross_entropy", |a, _| {
            F::cross_entropy(a, &[1, 2]).unwrap()
        }),
        ("nll", |a, _| {
            F::nll_loss_with(a, &[0, 2], Reduction::Sum).unwrap()
        }),
    ];
    for (name, loss) in losses {
        // Tangent along v on the input, against the reverse-mode gradient dotted with v.
        let out = loss(&forward_ad::make_dual(&x, &v).unwrap(), &y);
        let (_, tangent) = forward_ad::unpack_dual(&out);
        let xr = x.detach().set_requires_grad(true);
        let g = &autograd::grad(&[&loss(&xr, &y)], &[&xr], false).unwrap()[0];
        let expected = (g * &v).sum().item::<f64>();
        let got = tangent
            .unwrap_or_else(|| panic!("{name}: no tangent"))
            .item::<f64>();
        assert!(
            (got - expected).abs() < 1e-12,
            "{name}: jvp {got} vs vjp·v {expected}"
        );
    }
    for (name, loss) in &losses[..2] {
        // And on the target.
        let out = loss(&x, &forward_ad::make_dual(&y, &v).unwrap());
        let yr = y.detach().set_requires_grad(true);
        let g = &autograd::grad(&[&loss(&x, &yr)], &[&yr], false).unwrap()[0];
        let got = forward_ad::unpack_dual(&out).1.unwrap().item::<f64>();
        assert!(
            (got - (g * &v).sum().item::<f64>()).abs() < 1e-12,
            "{name}: target tangent"
        );
    }
}

// ----- saving and loading -----

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "tensorgrad_nn_test_{}_{name}.safetensors",
        std::process::id()
    ))
}

#[test]
fn save_load_round_trip_restores_a_model_in_place() {
    let make = || {
        nn::Sequential::new()
            .add(nn::Linear::new(3, 4))
            .add(nn::Dropout::new(0.2))
            .add(nn::Linear::new_with(4, 2, true, DType::F64))
    };
    let (a, b) = seeded(5, || (make(), make()));
    let path = temp_path("round_trip");
    nn::save(&path, &a.state_dict()).unwrap();
    let loaded = nn::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.len(), 4);
    for (name, p) in a.named_parameters() {
        assert_eq!(bits_of(&loaded[&name]), bits_of(&p), "{name}");
        assert_eq!(loaded[&name].dtype(), p.dtype(), "{name}");
        assert!(!loaded[&name].requires_grad());
    }
    // Loading copies into b's existing parameters: handles taken before see the values.
    let b_params = b.parameters();
    assert_ne!(bits_of(&b_params[0]), bits_of(&a.parameters()[0]));
    b.load_state_dict(&loaded).unwrap();
    for (pa, pb) in a.parameters().iter().zip(&b_params) {
        assert_eq!(bits_of(pa), bits_of(pb));
        assert!(pb.requires_grad() && pb.is_leaf());
    }
    let x = Tensor::ones(&[2, 3]);
    let (mut a, mut b) = (a, b);
    a.eval();
    b.eval();
    let xa = a.get(0).unwrap().forward(&x);
    assert_eq!(bits_of(&xa), bits_of(&b.get(0).unwrap().forward(&x)));
}

#[test]
fn load_reads_a_file_written_by_pytorch() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/nn_torch.safetensors"
    );
    let loaded = nn::load(path).unwrap();
    let expected = fixture()["torch_safetensors"].as_object().unwrap();
    assert_eq!(loaded.len(), expected.len());
    for (name, e) in expected {
        let t = &loaded[name];
        assert_eq!(t.shape(), shape(&e["shape"]).as_slice(), "{name}");
        assert_eq!(t.dtype(), dtype(&e["dtype"]), "{name}");
        assert_bits(t, &e["bits"], name);
    }
}

#[test]
fn load_state_dict_errors_leave_the_module_unchanged() {
    // Draws from the global generator: under the lock, so concurrent seeded tests keep
    // their sequences.
    seeded(0, || {
        let layer = nn::Linear::new(3, 2);
        let before = bits_of(layer.weight());
        let good: HashMap<String, Tensor> =
            nn::Linear::new(3, 2).state_dict().into_iter().collect();

        let mut missing = good.clone();
        missing.remove("bias");
        missing.insert("extra".into(), Tensor::zeros(&[1]));
        match layer.load_state_dict(&missing).unwrap_err() {
            Error::StateDict(StateDictError::KeyMismatch {
                missing,
                unexpected,
            }) => {
                assert_eq!(missing, ["bias"]);
                assert_eq!(unexpected, ["extra"]);
            }
            e => panic!("expected KeyMismatch, got {e}"),
        }
        let mut wrong_shape = good.clone();
        wrong_shape.insert("bias".into(), Tensor::zeros(&[3]));
        let err = layer.load_state_dict(&wrong_shape).unwrap_err();
        assert!(
            matches!(&err, Error::StateDict(StateDictError::Shape { key, expected, found }) if key == "bias" && expected == &[2] && found == &[3]),
            "{err}"
        );
        let mut wrong_dtype = good.clone();
        wrong_dtype.insert("weight".into(), Tensor::zeros_dtype(&[2, 3], DType::F64));
        let err = layer.load_state_dict(&wrong_dtype).unwrap_err();
        assert!(
            matches!(&err, Error::StateDict(StateDictError::DType { key, .. }) if key == "weight"),
            "{err}"
        );
        assert!(
            err.to_string().contains("dtype mismatch for weight"),
            "{err}"
        );
        assert_eq!(
            bits_of(layer.weight()),
            before,
            "a failed load changes nothing"
        );
        layer.load_state_dict(&good).unwrap();
        assert_eq!(bits_of(layer.weight()), bits_of(&good["weight"]));
    })
}

#[test]
fn save_and_load_report_io_format_and_dtype_errors() {
    let t = Tensor::zeros(&[2]);
    let err = nn::save(
        temp_path("dup"),
        &[("a".into(), t.clone()), ("a".into(), t.clone())],
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::StateDict(StateDictError::DuplicateKey { .. })),
        "{err}"
    );
    let err = nn::load("/nonexistent/dir/model.safetensors").unwrap_err();
    assert!(
        matches!(err, Error::StateDict(StateDictError::Io { op: "load", .. })),
        "{err}"
    );
    let err = nn::save("/nonexistent/dir/model.safetensors", &[("a".into(), t)]).unwrap_err();
    assert!(
        matches!(err, Error::StateDict(StateDictError::Io { op: "save", .. })),
        "{err}"
    );

    let garbage = temp_path("garbage");
    std::fs::write(&garbage, b"definitely not safetensors").unwrap();
    let err = nn::load(&garbage).unwrap_err();
    std::fs::remove_file(&garbage).unwrap();
    assert!(
        matches!(err, Error::StateDict(StateDictError::Format { .. })),
        "{err}"
    );

    // A half-precision tensor, written with the safetensors crate itself.
    let half = temp_path("half");
    let bytes = [0u8, 60, 0, 64]; // f16 1.0 and 2.0
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F16, vec![2], &bytes).unwrap();
    safetensors::serialize_to_file([("h", view)], None, &half).unwrap();
    let err = nn::load(&half).unwrap_err();
    std::fs::remove_file(&half).unwrap();
    assert!(
        matches!(&err, Error::StateDict(StateDictError::UnsupportedDType { key, dtype, .. }) if key == "h" && dtype == "F16"),
        "{err}"
    );
}

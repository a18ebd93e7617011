//! `tensorgrad::optim` against PyTorch: 50-step trajectories of every optimizer option on a
//! small linear regression, learning-rate schedules bit for bit, and the in-place update
//! contract (values from tests/fixtures/nn.json, written by scripts/fixtures/nn.py).

mod nn_common;

use nn_common::*;
use serde_json::Value;
use tensorgrad::nn::functional as F;
use tensorgrad::optim::{
    Adam, AdamW, CosineAnnealingLR, ExponentialLR, LrScheduler, Optimizer, Sgd, StepLR,
};
use tensorgrad::{tensor, DType, Error, Tensor};

fn opt_f64(o: &Value, key: &str) -> Option<f64> {
    o.get(key).and_then(Value::as_f64)
}

fn opt_bool(o: &Value, key: &str) -> bool {
    o.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The optimizer a fixture run describes, built with tensorgrad's builder API.
fn make_optimizer(kind: &str, o: &Value, params: Vec<Tensor>) -> Box<dyn Optimizer> {
    let lr = o["lr"].as_f64().unwrap();
    match kind {
        "sgd" => {
            let mut s = Sgd::new(params, lr)
                .nesterov(opt_bool(o, "nesterov"))
                .maximize(opt_bool(o, "maximize"));
            if let Some(m) = opt_f64(o, "momentum") {
                s = s.momentum(m);
            }
            if let Some(d) = opt_f64(o, "dampening") {
                s = s.dampening(d);
            }
            if let Some(w) = opt_f64(o, "weight_decay") {
                s = s.weight_decay(w);
            }
            Box::new(s)
        }
        "adam" | "adamw" => {
            let betas = o
                .get("betas")
                .map(|b| (b[0].as_f64().unwrap(), b[1].as_f64().unwrap()));
            macro_rules! configure {
                ($opt:expr) => {{
                    let mut a = $opt.amsgrad(opt_bool(o, "amsgrad"));
                    if let Some((b1, b2)) = betas {
                        a = a.betas(b1, b2);
                    }
                    if let Some(e) = opt_f64(o, "eps") {
                        a = a.eps(e);
                    }
                    if let Some(w) = opt_f64(o, "weight_decay") {
                        a = a.weight_decay(w);
                    }
                    Box::new(a) as Box<dyn Optimizer>
                }};
            }
            if kind == "adam" {
                configure!(Adam::new(params, lr))
            } else {
                configure!(AdamW::new(params, lr))
            }
        }
        other => panic!("unknown optimizer {other}"),
    }
}

fn to_dtype(t: Tensor, dt: DType) -> Tensor {
    t.to_dtype(dt)
}

/// Losses, parameters after each step, and scheduled rates of one fixture run.
struct Trajectory {
    losses: Vec<f64>,
    params: Vec<Vec<f64>>,
    lrs: Vec<f64>,
}

fn run(r: &Value) -> Trajectory {
    let problem = &fixture()["optim"]["problem"];
    let dt = dtype(&r["dtype"]);
    let x = to_dtype(tensor(&problem["X"]), dt);
    let y = to_dtype(tensor(&problem["Y"]), dt);
    let w = to_dtype(tensor(&problem["W0"]), dt).set_requires_grad(true);
    let b = to_dtype(tensor(&problem["b0"]), dt).set_requires_grad(true);
    let u = to_dtype(tensor(&problem["u0"]), dt).set_requires_grad(true);
    let opts = &r["options"];
    let mut opt = make_optimizer(
        r["kind"].as_str().unwrap(),
        opts,
        vec![w.clone(), b.clone(), u.clone()],
    );
    let mut sched: Option<Box<dyn LrScheduler>> =
        r.get("schedule")
            .map(|s| match s["kind"].as_str().unwrap() {
                "step" => Box::new(StepLR::new(
                    opt.as_mut(),
                    s["step_size"].as_u64().unwrap() as usize,
                    s["gamma"].as_f64().unwrap(),
                )) as Box<dyn LrScheduler>,
                "cosine" => Box::new(CosineAnnealingLR::new(
                    opt.as_mut(),
                    s["t_max"].as_u64().unwrap() as usize,
                    s["eta_min"].as_f64().unwrap(),
                )),
                other => panic!("schedule {other}"),
            });
    let sign = if opt_bool(opts, "maximize") {
        -1.0
    } else {
        1.0
    };
    let steps = fixture()["optim"]["steps"].as_u64().unwrap();
    let mut t = Trajectory {
        losses: vec![],
        params: vec![],
        lrs: vec![],
    };
    for _ in 0..steps {
        opt.zero_grad();
        let loss = F::mse_loss(&F::linear(&x, &w, Some(&b)).unwrap(), &y)
            .unwrap()
            .mul_scalar(sign);
        loss.backward().unwrap();
        opt.step().unwrap();
        if let Some(s) = sched.as_mut() {
            s.step(opt.as_mut());
            t.lrs.push(s.get_last_lr());
        }
        t.losses.push(loss.item::<f64>());
        let mut p = w.to_vec::<f64>();
        p.extend(b.to_vec::<f64>());
        p.extend(u.to_vec::<f64>());
        t.params.push(p);
    }
    assert!(
        u.grad().is_none(),
        "the unused parameter never gets a gradient"
    );
    t
}

/// Tolerance for whole trajectories: the usual f32 (or f64) tolerance. PyTorch's and our
/// sums in the forward and backward passes round differently (and PyTorch's vectorised sqrt
/// may be an ulp off), so after 50 dependent steps a few ulps of difference remain.
fn trajectory_tol(dt: DType) -> (f64, f64) {
    tol(dt)
}

#[test]
fn optimizer_trajectories_match_pytorch() {
    let runs = fixture()["optim"]["runs"].as_array().unwrap();
    assert!(runs.len() >= 13);
    let u0 = f64s(&fixture()["optim"]["problem"]["u0"]["values"]);
    for r in runs {
        let name = r["name"].as_str().unwrap();
        let dt = dtype(&r["dtype"]);
        let (rtol, atol) = trajectory_tol(dt);
        let t = run(r);
        let expected_params = r["params"].as_array().unwrap();
        let expected_losses = f64s(&r["losses"]);
        assert_eq!(t.params.len(), expected_params.len(), "{name}: steps");
        let mut worst: f64 = 0.0;
        for (step, (got, want)) in t.params.iter().zip(expected_params).enumerate() {
            let want = f64s(want);
            let ratio = tolerance_ratio(got, &want, rtol, atol);
            worst = worst.max(ratio);
            assert!(ratio <= 1.0, "{name}: parameters after step {} differ from PyTorch (ratio {ratio})\n  got      {got:?}\n  expected {want:?}", step + 1);
            // The last two entries are the unused parameter: never updated.
            assert_eq!(
                got[got.len() - 2..],
                u0[..],
                "{name}: a parameter without grad was updated"
            );
        }
        assert_close_vals(
            &t.losses,
            &expected_losses,
            rtol,
            atol,
            &format!("{name}: losses"),
        );
        let lr_bits: Vec<u64> = t.lrs.iter().map(|x| x.to_bits()).collect();
        let want: Vec<u64> = r["lr_bits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(lr_bits, want, "{name}: scheduled rates {:?}", t.lrs);
        // The run must have moved: a trajectory that stayed put would pass trivially.
        assert_ne!(t.params[0], t.params[t.params.len() - 1], "{name}");
        eprintln!("{name}: worst tolerance ratio {worst:.3}");
    }
}

fn scheduled_rates(kind: &str, o: &Value, lr: f64, steps: usize) -> Vec<f64> {
    let mut opt = Sgd::new(vec![tensor!([0.0]).set_requires_grad(true)], lr);
    let mut s: Box<dyn LrScheduler> = match kind {
        "step" => Box::new(StepLR::new(
            &mut opt,
            o["step_size"].as_u64().unwrap() as usize,
            o["gamma"].as_f64().unwrap(),
        )),
        "cosine" => Box::new(CosineAnnealingLR::new(
            &mut opt,
            o["T_max"].as_u64().unwrap() as usize,
            o["eta_min"].as_f64().unwrap(),
        )),
        "exponential" => Box::new(ExponentialLR::new(&mut opt, o["gamma"].as_f64().unwrap())),
        other => panic!("scheduler {other}"),
    };
    let mut lrs = vec![s.get_last_lr()];
    for i in 0..steps {
        opt.step().unwrap();
        s.step(&mut opt);
        assert_eq!(s.last_epoch(), i + 1);
        assert_eq!(
            opt.lr(),
            s.get_last_lr(),
            "the scheduler sets the optimizer's rate"
        );
        lrs.push(s.get_last_lr());
    }
    lrs
}

#[test]
fn schedulers_match_pytorch_bit_for_bit() {
    for c in fixture()["schedulers"].as_array().unwrap() {
        let kind = c["kind"].as_str().unwrap();
        let lrs = scheduled_rates(
            kind,
            &c["options"],
            c["lr"].as_f64().unwrap(),
            c["steps"].as_u64().unwrap() as usize,
        );
        let got: Vec<u64> = lrs.iter().map(|x| x.to_bits()).collect();
        let want: Vec<u64> = c["lr_bits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(got, want, "{kind} {:?}: rates {lrs:?}", c["options"]);
    }
}

#[test]
fn updates_are_in_place_and_seen_through_every_handle() {
    let model = tensorgrad::nn::Linear::new(2, 1);
    let w = model.weight().clone();
    let before = w.to_vec::<f32>();
    let mut opt = Adam::new(tensorgrad::nn::Module::parameters(&model), 0.1);
    let x = tensor!([[1.0, 2.0]]);
    tensorgrad::nn::Module::forward(&model, &x)
        .sum()
        .backward()
        .unwrap();
    opt.step().unwrap();
    assert_ne!(w.to_vec::<f32>(), before);
    assert_eq!(model.weight().to_vec::<f32>(), w.to_vec::<f32>());
    assert!(
        w.is_leaf() && w.requires_grad(),
        "still a parameter after the update"
    );
    assert_eq!(opt.step_count(0), 1);
    opt.zero_grad();
    assert!(w.grad().is_none(), "zero_grad sets grads to None");
    // A step with every grad None changes nothing and advances no state.
    let now = w.to_vec::<f32>();
    opt.step().unwrap();
    assert_eq!(w.to_vec::<f32>(), now);
    assert_eq!(opt.step_count(0), 1);
}

#[test]
fn invalid_hyperparameters_are_errors() {
    let p = || vec![tensor!([1.0]).set_requires_grad(true)];
    let cases: Vec<(&str, Box<dyn Optimizer>)> = vec![
        ("negative lr", Box::new(Sgd::new(p(), -0.1))),
        (
            "negative momentum",
            Box::new(Sgd::new(p(), 0.1).momentum(-0.5)),
        ),
        (
            "negative weight decay",
            Box::new(Sgd::new(p(), 0.1).weight_decay(-1.0)),
        ),
        (
            "nesterov without momentum",
            Box::new(Sgd::new(p(), 0.1).nesterov(true)),
        ),
        (
            "nesterov with dampening",
            Box::new(
                Sgd::new(p(), 0.1)
                    .momentum(0.9)
                    .dampening(0.1)
                    .nesterov(true),
            ),
        ),
        ("beta1 = 1", Box::new(Adam::new(p(), 0.1).betas(1.0, 0.999))),
        (
            "negative beta2",
            Box::new(Adam::new(p(), 0.1).betas(0.9, -0.1)),
        ),
        ("negative eps", Box::new(AdamW::new(p(), 0.1).eps(-1e-8))),
        ("negative lr (AdamW)", Box::new(AdamW::new(p(), -1.0))),
    ];
    for (what, mut opt) in cases {
        assert!(
            matches!(opt.step(), Err(Error::InvalidArgument { .. })),
            "{what}"
        );
    }
}

#[test]
fn adam_steps_count_per_parameter() {
    let a = tensor!([1.0]).set_requires_grad(true);
    let b = tensor!([1.0]).set_requires_grad(true);
    let mut opt = Adam::new(vec![a.clone(), b.clone()], 0.1);
    for i in 0..3 {
        opt.zero_grad();
        // b only takes part in the first step.
        let loss = if i == 0 { (&a * &b).sum() } else { a.sum() };
        loss.backward().unwrap();
        opt.step().unwrap();
    }
    assert_eq!((opt.step_count(0), opt.step_count(1)), (3, 1));
}

/// The optimizers' configurations the layout tests below run (every branch of the fused
/// update: maximize, both weight decays, AMSGrad, momentum with dampening and Nesterov).
fn layout_test_optimizers(params: Vec<Tensor>) -> Vec<(&'static str, Box<dyn Optimizer>)> {
    vec![
        ("adam", Box::new(Adam::new(params.clone(), 0.01))),
        (
            "adam_l2_amsgrad_maximize",
            Box::new(
                Adam::new(params.clone(), 0.01)
                    .weight_decay(0.1)
                    .amsgrad(true)
                    .maximize(true),
            ),
        ),
        (
            "adamw_amsgrad",
            Box::new(AdamW::new(params.clone(), 0.01).amsgrad(true)),
        ),
        (
            "sgd_nesterov_wd",
            Box::new(
                Sgd::new(params.clone(), 0.01)
                    .momentum(0.9)
                    .nesterov(true)
                    .weight_decay(0.1),
            ),
        ),
        (
            "sgd_dampening_maximize",
            Box::new(
                Sgd::new(params.clone(), 0.01)
                    .momentum(0.5)
                    .dampening(0.3)
                    .maximize(true),
            ),
        ),
        ("sgd_wd", Box::new(Sgd::new(params, 0.01).weight_decay(0.1))),
    ]
}

/// Values with a spread of magnitudes and signs, deterministic.
fn wavy(n: usize, phase: f64) -> Vec<f32> {
    (0..n)
        .map(|i| ((i as f64 * 0.37 + phase).sin() * (1.0 + (i % 7) as f64)) as f32)
        .collect()
}

#[test]
fn large_parameters_update_exactly_as_small_ones() {
    // 100,003 elements go through the parallel chunked update (above 32,768 elements); the
    // same values cut into 1,000-element parameters go through the serial one. Each
    // element's update depends only on that element, so the results must agree bit for bit.
    let n = 100_003;
    let piece = 1_000;
    for (name, _) in layout_test_optimizers(vec![]) {
        let big = Tensor::from_vec(wavy(n, 0.0), &[n])
            .unwrap()
            .set_requires_grad(true);
        let pieces: Vec<Tensor> = wavy(n, 0.0)
            .chunks(piece)
            .map(|c| {
                Tensor::from_vec(c.to_vec(), &[c.len()])
                    .unwrap()
                    .set_requires_grad(true)
            })
            .collect();
        let mut big_opt = layout_test_optimizers(vec![big.clone()])
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1;
        let mut piece_opt = layout_test_optimizers(pieces.clone())
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1;
        for step in 0..3 {
            let grad = wavy(n, 1.0 + step as f64);
            big.set_grad(Some(Tensor::from_vec(grad.clone(), &[n]).unwrap()));
            for (p, g) in pieces.iter().zip(grad.chunks(piece)) {
                p.set_grad(Some(Tensor::from_vec(g.to_vec(), &[g.len()]).unwrap()));
            }
            big_opt.step().unwrap();
            piece_opt.step().unwrap();
        }
        let joined: Vec<f32> = pieces.iter().flat_map(|p| p.to_vec::<f32>()).collect();
        let got = big.to_vec::<f32>();
        assert_ne!(got, wavy(n, 0.0), "{name}: the parameter moved");
        assert!(
            got.iter()
                .zip(&joined)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{name}: the parallel update differs from the serial one"
        );
    }
}

#[test]
fn strided_parameters_and_gradients_update_like_contiguous_ones() {
    // A parameter that is a transposed view, with a transposed gradient, goes through
    // contiguous copies; it must end where a contiguous parameter with the same values does.
    let (r, c) = (30, 40);
    for (name, _) in layout_test_optimizers(vec![]) {
        let strided = Tensor::from_vec(wavy(r * c, 0.0), &[r, c])
            .unwrap()
            .t()
            .set_requires_grad(true);
        assert!(!strided.is_contiguous());
        let plain = strided.contiguous().detach().set_requires_grad(true);
        let initial = plain.to_vec::<f32>();
        let pick = |params: Vec<Tensor>| {
            layout_test_optimizers(params)
                .into_iter()
                .find(|(n, _)| *n == name)
                .unwrap()
                .1
        };
        let (mut opt_s, mut opt_p) = (pick(vec![strided.clone()]), pick(vec![plain.clone()]));
        for step in 0..3 {
            let g = Tensor::from_vec(wavy(r * c, 2.0 + step as f64), &[r, c]).unwrap();
            strided.set_grad(Some(g.t()));
            plain.set_grad(Some(g.t().contiguous()));
            opt_s.step().unwrap();
            opt_p.step().unwrap();
        }
        assert!(strided.is_leaf() && !strided.is_contiguous(), "{name}");
        assert_ne!(
            plain.to_vec::<f32>(),
            initial,
            "{name}: the parameter moved"
        );
        assert_eq!(strided.to_vec::<f32>(), plain.to_vec::<f32>(), "{name}");
        // The values in memory order differ from those in logical order, so an update that
        // mixed the two up would have failed the comparison above.
        assert_ne!(strided.to_vec::<f32>(), strided.t().to_vec::<f32>());
    }
}

//! The workloads, written as a PyTorch user would write them with tensorgrad.

use std::hint::black_box;
use std::time::Instant;
use tensorgrad::nn::functional::cross_entropy;
use tensorgrad::nn::{Linear, Module, ReLU, Sequential};
use tensorgrad::optim::{Adam, AdamW, Optimizer, Sgd};
use tensorgrad::{functional, manual_seed, tensor, DType, Tensor};

/// One workload: a process-level name and the `name value` results it produces.
pub struct Workload {
    /// Name used on the command line and for the peak-memory line.
    pub name: &'static str,
    /// The main result key (same as the PyTorch script's).
    pub key: &'static str,
    /// Runs the workload and returns `(key, value)` pairs.
    pub run: fn() -> Vec<(String, f64)>,
}

pub const ALL: &[Workload] = &[
    Workload {
        name: "scalar_chain",
        key: "scalar_chain_1000ops_us_per_op",
        run: scalar_chain,
    },
    Workload {
        name: "seed_ex2",
        key: "seed_ex2_us",
        run: seed_ex2,
    },
    Workload {
        name: "domain_cubic_1000000",
        key: "domain_cubic_1000000_ms",
        run: || domain_cubic(1_000_000),
    },
    Workload {
        name: "domain_cubic_10000000",
        key: "domain_cubic_10000000_ms",
        run: || domain_cubic(10_000_000),
    },
    Workload {
        name: "elementwise_chain",
        key: "elementwise_chain_1e7_ms",
        run: elementwise_chain,
    },
    Workload {
        name: "matmul_256",
        key: "matmul_256_gflops",
        run: || matmul(256),
    },
    Workload {
        name: "matmul_1024",
        key: "matmul_1024_gflops",
        run: || matmul(1024),
    },
    Workload {
        name: "mlp_step",
        key: "mlp_step_ms",
        run: mlp_step,
    },
    Workload {
        name: "optim_steps",
        key: "adam_step_mlp_params_ms",
        run: optim_steps,
    },
    Workload {
        name: "mlp_adam_step",
        key: "mlp_adam_step_ms",
        run: mlp_adam_step,
    },
    Workload {
        name: "hessian_rosen100",
        key: "hessian_rosen100_ms",
        run: hessian_rosen100,
    },
];

/// Median seconds of `reps` timed runs after `warm` untimed ones (the PyTorch script's rule).
fn bench(reps: usize, warm: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..warm {
        f();
    }
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn one(key: &str, value: f64) -> Vec<(String, f64)> {
    vec![(key.to_string(), value)]
}

/// `y = y*1.0001 + 0.5` 500 times from a scalar, then backward; microseconds per op.
fn scalar_chain() -> Vec<(String, f64)> {
    let t = bench(5, 1, || {
        let x = tensor!(3.0).set_requires_grad(true);
        let mut y = x.clone();
        for _ in 0..500 {
            y = &y * 1.0001 + 0.5;
        }
        y.backward().expect("backward");
        black_box(x.grad());
    });
    one("scalar_chain_1000ops_us_per_op", t / 1000.0 * 1e6)
}

/// The tutorial's example 2 as a whole program, 1000 times; microseconds per program.
fn seed_ex2() -> Vec<(String, f64)> {
    let t = bench(5, 1, || {
        for _ in 0..1000 {
            let x = tensor!(3.0).set_requires_grad(true);
            let y = 6.0 * x.powi(2) + 2.0 * &x + 4.0;
            y.backward().expect("backward");
            black_box(x.grad());
        }
    });
    one("seed_ex2_us", t / 1000.0 * 1e6)
}

/// The tutorial's domain example at size n: `(10 x³).sum().backward()`; milliseconds.
fn domain_cubic(n: usize) -> Vec<(String, f64)> {
    let t = bench(5, 1, || {
        let x = Tensor::linspace(-10.0, 10.0, n).set_requires_grad(true);
        let big_y = 10.0 * x.powi(3);
        big_y.sum().backward().expect("backward");
        black_box(x.grad());
    });
    one(&format!("domain_cubic_{n}_ms"), t * 1e3)
}

/// `tanh(sin(x)·exp(x)).sum().backward()` on 1e7 normal samples; milliseconds.
fn elementwise_chain() -> Vec<(String, f64)> {
    manual_seed(0);
    let xd = Tensor::randn(&[10_000_000]);
    let t = bench(5, 1, || {
        let x = xd.deep_clone().set_requires_grad(true);
        (x.sin() * x.exp())
            .tanh()
            .sum()
            .backward()
            .expect("backward");
        black_box(x.grad());
    });
    one("elementwise_chain_1e7_ms", t * 1e3)
}

/// f32 n×n matmul without grad (GFLOP/s), and `(A@B).sum().backward()` (ms).
fn matmul(n: usize) -> Vec<(String, f64)> {
    manual_seed(0);
    let (a, b) = (Tensor::randn(&[n, n]), Tensor::randn(&[n, n]));
    let t = bench(7, 1, || {
        black_box(a.matmul(&b));
    });
    let gflops = 2.0 * (n as f64).powi(3) / t / 1e9;
    let t2 = bench(5, 1, || {
        let (a, b) = (
            a.deep_clone().set_requires_grad(true),
            b.deep_clone().set_requires_grad(true),
        );
        a.matmul(&b).sum().backward().expect("backward");
        black_box((a.grad(), b.grad()));
    });
    vec![
        (format!("matmul_{n}_gflops"), gflops),
        (format!("matmul_fwdbwd_{n}_ms"), t2 * 1e3),
    ]
}

/// The MLP benchmark's model: 784-512-512-10 with ReLU.
fn mlp() -> Sequential {
    Sequential::new()
        .add(Linear::new(784, 512))
        .add(ReLU::new())
        .add(Linear::new(512, 512))
        .add(ReLU::new())
        .add(Linear::new(512, 10))
}

/// A batch of 256 inputs and labels for [`mlp`].
fn mlp_batch() -> (Tensor, Vec<usize>) {
    let x = Tensor::randn(&[256, 784]);
    let labels: Vec<usize> = Tensor::rand(&[256])
        .to_vec::<f64>()
        .iter()
        .map(|u| (u * 10.0) as usize)
        .collect();
    (x, labels)
}

/// Median milliseconds of one MLP training step (zero_grad, forward, cross-entropy,
/// backward, optimizer step) with the optimizer `make` builds over the model's parameters.
fn mlp_training_step_ms(make: impl FnOnce(Vec<Tensor>) -> Box<dyn Optimizer>) -> f64 {
    manual_seed(0);
    let model = mlp();
    let mut opt = make(model.parameters());
    let (x, labels) = mlp_batch();
    let t = bench(20, 3, || {
        opt.zero_grad();
        let loss = cross_entropy(&model.forward(&x), &labels).expect("valid labels");
        loss.backward().expect("backward");
        opt.step().expect("optimizer step");
    });
    t * 1e3
}

/// One training step of a 784-512-512-10 ReLU MLP on a batch of 256: cross-entropy,
/// backward, SGD (lr 0.01); milliseconds.
fn mlp_step() -> Vec<(String, f64)> {
    let ms = mlp_training_step_ms(|params| Box::new(Sgd::new(params, 0.01)));
    one("mlp_step_ms", ms)
}

/// Beyond DESIGN.md's list: `opt.step()` alone (gradients already set) on the MLP's
/// parameters for Adam, AdamW and SGD with momentum 0.9; milliseconds.
fn optim_steps() -> Vec<(String, f64)> {
    manual_seed(0);
    let model = mlp();
    let (x, labels) = mlp_batch();
    let loss = cross_entropy(&model.forward(&x), &labels).expect("valid labels");
    loss.backward().expect("backward");
    let optimizers: [(&str, Box<dyn Optimizer>); 3] = [
        ("adam", Box::new(Adam::new(model.parameters(), 1e-3))),
        ("adamw", Box::new(AdamW::new(model.parameters(), 1e-3))),
        (
            "sgd_momentum",
            Box::new(Sgd::new(model.parameters(), 1e-3).momentum(0.9)),
        ),
    ];
    optimizers
        .into_iter()
        .map(|(name, mut opt)| {
            let t = bench(20, 3, || opt.step().expect("optimizer step"));
            (format!("{name}_step_mlp_params_ms"), t * 1e3)
        })
        .collect()
}

/// Beyond DESIGN.md's list: the MLP training step with Adam (lr 1e-3); milliseconds.
fn mlp_adam_step() -> Vec<(String, f64)> {
    let ms = mlp_training_step_ms(|params| Box::new(Adam::new(params, 1e-3)));
    one("mlp_adam_step_ms", ms)
}

/// The Rosenbrock function, as the PyTorch script writes it.
fn rosenbrock(x: &Tensor) -> Tensor {
    let n = x.numel();
    let (head, tail) = (x.narrow(0, 0, n - 1), x.narrow(0, 1, n - 1));
    ((&tail - head.powi(2)).powi(2) * 100.0 + (1.0 - &head).powi(2)).sum()
}

/// The Hessian of Rosenbrock at a random point, n = 100, f64; milliseconds.
fn hessian_rosen100() -> Vec<(String, f64)> {
    manual_seed(0);
    let x0 = Tensor::randn_with(&[100], DType::F64);
    let t = bench(3, 1, || {
        black_box(functional::hessian(rosenbrock, &x0).expect("hessian"));
    });
    one("hessian_rosen100_ms", t * 1e3)
}

//! Threads: `Tensor` is `Send + Sync` (a compile-time assertion in `src/tensor.rs`, repeated
//! here for the types users hold), independent graphs backpropagate on many threads at once
//! with the results of a single-threaded run, shared leaves accumulate every contribution,
//! graphs can be built on one thread and differentiated or dropped on another, grad mode and
//! anomaly mode are per thread, and kernels stay exact while threads share the kernel pool and
//! the thread count changes.

use std::sync::{Arc, Barrier};
use std::thread;
use tensorgrad::autograd::{self, is_anomaly_enabled, is_grad_enabled};
use tensorgrad::{no_grad, tensor, BackwardOptions, DType, NoGradGuard, Tensor};

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Tensor>();
    send_sync::<tensorgrad::Error>();
    send_sync::<BackwardOptions>();
    send_sync::<autograd::GradOptions>();
};

/// Deterministic values in [-1, 1) for `shape`, different for each `seed`.
fn values(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| (((i * 37 + seed * 101) % 200) as f64 - 100.0) / 100.0)
        .collect();
    Tensor::from_vec(v, shape).unwrap()
}

/// A few SGD steps of a 3-layer MLP with batched matmuls; returns the final parameters and
/// their last gradients, flattened. Everything is f64 and deterministic in `seed`.
fn train(seed: usize, steps: usize) -> Vec<Vec<f64>> {
    let x = values(&[64, 32], seed);
    let y = values(&[64, 8], seed + 1);
    let params: Vec<Tensor> = [[32, 48], [48, 48], [48, 8]]
        .iter()
        .enumerate()
        .map(|(i, s)| (values(s, seed + 2 + i) * 0.2).set_requires_grad(true))
        .collect();
    let mut grads = Vec::new();
    for _ in 0..steps {
        let mut h = x.clone();
        for (i, w) in params.iter().enumerate() {
            h = h.matmul(w);
            if i + 1 < params.len() {
                h = &h * &h * 0.5 + &h; // a smooth nonlinearity from mul and add
            }
        }
        let loss = (h - &y).powi(2).mean();
        loss.backward().unwrap();
        grads = params
            .iter()
            .map(|p| p.grad().unwrap().to_vec::<f64>())
            .collect();
        no_grad(|| {
            for p in &params {
                p.sub_(&(p.grad().unwrap() * 0.05));
                p.zero_grad();
            }
        });
    }
    params
        .iter()
        .map(|p| p.to_vec::<f64>())
        .chain(grads)
        .collect()
}

#[test]
fn independent_mlps_train_on_many_threads_with_single_thread_results() {
    const THREADS: usize = 8;
    const STEPS: usize = 5;
    let expected: Vec<_> = (0..THREADS).map(|s| train(s, STEPS)).collect();
    // All threads start together so their backward passes overlap.
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|seed| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                train(seed, STEPS)
            })
        })
        .collect();
    for (seed, h) in handles.into_iter().enumerate() {
        let got = h.join().expect("a training thread panicked");
        // Same ops on the same data: identical to the single-threaded run.
        assert_eq!(got, expected[seed], "seed {seed}");
    }
}

#[test]
fn a_shared_leaf_accumulates_every_threads_contribution() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 25;
    // w is shared (Sync); every thread builds its own graph through it and backpropagates
    // into its one .grad concurrently.
    let w = values(&[16, 16], 7).set_requires_grad(true);
    let x = values(&[4, 16], 3);
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (w, x, barrier) = (w.clone(), x.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                for _ in 0..ROUNDS {
                    x.matmul(&w).sum().backward().unwrap();
                }
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    // d/dw sum(x @ w) = xᵀ·1: column sums of x in every column.
    let x_rows = x.sum_dim([0], false).to_vec::<f64>();
    let total = (THREADS * ROUNDS) as f64;
    let got = w.grad().unwrap().to_vec::<f64>();
    for (i, g) in got.iter().enumerate() {
        let want = x_rows[i / 16] * total;
        assert!(
            (g - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{i}: {g} vs {want}"
        );
    }
}

#[test]
fn graphs_cross_threads_for_backward_and_drop() {
    // Built here, differentiated there.
    let x = tensor!([1.0, 2.0, 3.0]).set_requires_grad(true);
    let y = (&x * &x).sum();
    let g = thread::spawn(move || {
        y.backward().unwrap();
    });
    g.join().unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0, 4.0, 6.0]);

    // A long chain built here and dropped on another thread (whose stack is smaller than the
    // main thread's): the drop is iterative there too.
    let mut z = x.clone();
    for _ in 0..200_000 {
        z = &z * 1.0;
    }
    thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || drop(z))
        .unwrap()
        .join()
        .unwrap();

    // Gradients computed on a thread are ordinary tensors on return.
    let x2 = x.clone();
    let grads = thread::spawn(move || autograd::grad(&[&x2.powi(3).sum()], &[&x2], true).unwrap())
        .join()
        .unwrap();
    assert!(grads[0].requires_grad());
    assert_eq!(grads[0].to_vec::<f32>(), vec![3.0, 12.0, 27.0]);
}

#[test]
fn grad_mode_is_per_thread_while_threads_run_concurrently() {
    let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    // Both threads set their mode, meet, check, then meet again before restoring, so each
    // check runs while the other thread's setting is in force.
    let barrier = Arc::new(Barrier::new(2));
    let spawn = |off: bool| {
        let (x, barrier) = (x.clone(), barrier.clone());
        thread::spawn(move || {
            let _guard = off.then(NoGradGuard::new);
            barrier.wait();
            let tracked = (&x * 2.0).requires_grad();
            let enabled = is_grad_enabled();
            barrier.wait();
            (tracked, enabled)
        })
    };
    let (off, on) = (spawn(true), spawn(false));
    assert_eq!(off.join().unwrap(), (false, false));
    assert_eq!(on.join().unwrap(), (true, true));
    // And a new thread starts with grad mode on even when its parent has it off.
    let _guard = NoGradGuard::new();
    assert!(!is_grad_enabled());
    assert!(thread::spawn(is_grad_enabled).join().unwrap());
}

#[test]
fn anomaly_mode_is_per_thread() {
    let barrier = Arc::new(Barrier::new(2));
    let b = barrier.clone();
    let watcher = thread::spawn(move || {
        autograd::detect_anomaly(|| {
            b.wait();
            let x = tensor!([0.0]).set_requires_grad(true);
            let err = x.powf(0.5).sum().backward().unwrap_err();
            b.wait();
            (is_anomaly_enabled(), err)
        })
    });
    barrier.wait();
    // Meanwhile, here, anomaly mode is off: the same NaN-free-but-infinite gradient is fine.
    assert!(!is_anomaly_enabled());
    let x = tensor!([0.0]).set_requires_grad(true);
    x.powf(0.5).sum().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![f32::INFINITY]);
    barrier.wait();
    let (enabled, err) = watcher.join().unwrap();
    assert!(enabled);
    assert!(
        matches!(
            err,
            tensorgrad::Error::Anomaly {
                node: "PowBackward0",
                what: "infinite",
                ..
            }
        ),
        "{err:?}"
    );
}

/// Several threads run parallel kernels at once (one of them holds the kernel pool, the others
/// run serially) while another keeps changing the thread count; every result keeps the bits
/// of a quiet single-threaded run.
#[test]
fn kernels_stay_exact_under_concurrent_callers_and_thread_count_changes() {
    let x = values(&[256, 300], 1); // 76,800 elements: above the parallel threshold
    let w = values(&[300, 200], 2);
    // An f32 product over 2²⁴ multiply-adds: our AVX2 GEMM where the CPU has one.
    let (x32, w32) = (
        x.to_dtype(DType::F32),
        values(&[300, 256], 3).to_dtype(DType::F32),
    );
    let compute = |x: &Tensor, w: &Tensor| -> Vec<u64> {
        let y = x.matmul(w).relu();
        let s = (&y * 0.5 + 1.0).exp().sum_dim(0, false);
        let z = x.softmax(1).sum();
        let p = x32.matmul(&w32);
        s.to_vec::<f64>()
            .into_iter()
            .chain(z.to_vec::<f64>())
            .chain(p.to_vec::<f32>().into_iter().map(f64::from))
            .map(f64::to_bits)
            .collect()
    };
    let before = tensorgrad::get_num_threads();
    tensorgrad::set_num_threads(1);
    let want = compute(&x, &w);
    tensorgrad::set_num_threads(before);
    let done = std::sync::atomic::AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            let mut n = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                tensorgrad::set_num_threads(1 + n % 3);
                n += 1;
                thread::sleep(std::time::Duration::from_micros(300));
            }
        });
        let workers: Vec<_> = (0..3)
            .map(|_| s.spawn(|| (0..15).all(|_| compute(&x, &w) == want)))
            .collect();
        // Join every caller (a panic counts as a failure) before stopping the changer.
        let exact: Vec<bool> = workers
            .into_iter()
            .map(|h| h.join().unwrap_or(false))
            .collect();
        let all_exact = exact.iter().all(|&e| e);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(all_exact, "a result changed under concurrent use");
    });
    tensorgrad::set_num_threads(before);
}

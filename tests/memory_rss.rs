//! Resident memory (VmRSS from `/proc/self/status`) over long training runs, and the release
//! of saved tensors after backward. Linux only; elsewhere the tests say they skipped.
//!
//! RSS is per process and the test harness runs tests on parallel threads, so the tests of
//! this file (its own test binary) take a lock and run one at a time, and nothing else
//! allocates meanwhile.
//!
//! Steps of the training loop: `TENSORGRAD_MEMORY_STEPS` if set; else 200,000 in optimised
//! builds without debug assertions (`cargo test --release`) and 40,000 under the default test
//! profile (`opt-level = 1` with debug assertions, a few seconds), which is what CI runs.

use std::sync::Mutex;
use tensorgrad::{no_grad, BackwardOptions, Tensor};

/// One test at a time: RSS is shared by the whole process.
static SERIAL: Mutex<()> = Mutex::new(());

/// Takes the one-test-at-a-time lock.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const MIB: i64 = 1 << 20;

/// Resident set size in bytes, or `None` where `/proc/self/status` does not exist.
///
/// Large buffers that no tensor references any more may be parked in tensorgrad's buffer
/// cache for reuse (`tensorgrad::set_buffer_cache_limit`); they are handed back to the system
/// first, so RSS counts only memory that something still owns. A buffer a graph still
/// references is not in the cache and stays resident.
fn rss() -> Option<i64> {
    tensorgrad::empty_buffer_cache();
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn skip_unless_linux(test: &str) -> bool {
    if rss().is_none() {
        eprintln!("{test}: skipped, no /proc/self/status to read resident memory from (not Linux)");
        return true;
    }
    false
}

fn steps() -> usize {
    match std::env::var("TENSORGRAD_MEMORY_STEPS") {
        Ok(v) => v.parse().expect("TENSORGRAD_MEMORY_STEPS must be a number"),
        Err(_) if cfg!(debug_assertions) => 40_000,
        Err(_) => 200_000,
    }
}

/// A 2-layer MLP `4 -> 16 -> 1` on a fixed batch of 8, trained with plain SGD.
struct Mlp {
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
}

impl Mlp {
    fn new() -> Mlp {
        tensorgrad::manual_seed(0);
        let p =
            |shape: &[usize], scale: f64| (Tensor::randn(shape) * scale).set_requires_grad(true);
        Mlp {
            w1: p(&[4, 16], 0.5),
            b1: p(&[16], 0.1),
            w2: p(&[16, 1], 0.25),
            b2: p(&[1], 0.1),
        }
    }

    fn params(&self) -> [&Tensor; 4] {
        [&self.w1, &self.b1, &self.w2, &self.b2]
    }

    /// One forward + backward + update; returns the loss.
    fn step(&self, x: &Tensor, mask: &Tensor, y: &Tensor) -> f32 {
        // A fixed mask stands in for a ReLU pattern: matmul, add, mul, powi and sum, no ops
        // beyond those on main.
        let h = (x.matmul(&self.w1) + &self.b1) * mask;
        let out = h.matmul(&self.w2) + &self.b2;
        let loss = (out - y).powi(2).sum() * (1.0 / 8.0);
        loss.backward().expect("backward");
        no_grad(|| {
            for p in self.params() {
                let g = p.grad().expect("every parameter is used");
                p.sub_(&(g * 0.01));
                p.zero_grad();
            }
        });
        loss.item::<f32>()
    }
}

#[test]
fn training_loop_memory_stays_flat() {
    let _serial = serial();
    if skip_unless_linux("training_loop_memory_stays_flat") {
        return;
    }
    let steps = steps();
    let warmup = (steps / 20).max(500);
    tensorgrad::manual_seed(1);
    let x = Tensor::randn(&[8, 4]);
    let y = Tensor::randn(&[8, 1]);
    let mask = Tensor::from_vec(
        (0..8 * 16)
            .map(|i| ((i * 7) % 3 != 0) as u8 as f32)
            .collect(),
        &[8, 16],
    )
    .unwrap();
    let mlp = Mlp::new();
    let mut first_loss = 0.0;
    for i in 0..warmup {
        let l = mlp.step(&x, &mask, &y);
        if i == 0 {
            first_loss = l;
        }
    }
    let after_warmup = rss().unwrap();
    let mut peak = after_warmup;
    let mut last_loss = 0.0;
    for i in warmup..steps {
        last_loss = mlp.step(&x, &mask, &y);
        if i % 1000 == 0 {
            peak = peak.max(rss().unwrap());
        }
    }
    let end = rss().unwrap();
    let growth = end.max(peak) - after_warmup;
    eprintln!(
        "{steps} steps: RSS {:.1} MiB after {warmup} warm-up steps, {:.1} MiB at the end, peak growth {:.2} MiB; loss {first_loss:.4} -> {last_loss:.4}",
        after_warmup as f64 / MIB as f64,
        end as f64 / MIB as f64,
        growth as f64 / MIB as f64,
    );
    // The model trains (so the loop did real work) ...
    assert!(
        last_loss.is_finite() && last_loss < first_loss,
        "{first_loss} -> {last_loss}"
    );
    // ... and memory does not grow with the number of steps: 2 MiB of slack is far below
    // what leaking even one small tensor or graph node per step would cost over 40,000 steps.
    assert!(
        growth <= 2 * MIB,
        "resident memory grew by {:.2} MiB over {} steps",
        growth as f64 / MIB as f64,
        steps - warmup
    );
}

/// 64 MiB of f32: above glibc's largest dynamic mmap threshold (32 MiB), so the buffer is its
/// own mapping and freeing it returns the pages to the OS at once, where RSS sees it.
const BIG: usize = 16 << 20;

/// `x * big`, summed: `MulBackward0` saves `big` (to compute `x`'s gradient), and once the
/// caller's handle is dropped the saved copy is the only owner of those 64 MiB.
fn graph_saving_a_big_tensor() -> (Tensor, Tensor) {
    let x = Tensor::scalar(2.0f32).set_requires_grad(true);
    let big = Tensor::ones(&[BIG]);
    let y = (&x * &big).sum();
    (x, y)
}

#[test]
fn backward_frees_saved_tensors_while_the_output_lives() {
    let _serial = serial();
    if skip_unless_linux("backward_frees_saved_tensors_while_the_output_lives") {
        return;
    }
    let size = (BIG * 4) as i64;

    // Control: with retain_graph the saved tensor stays, so the measurement can see it.
    let base = rss().unwrap();
    let (x, y) = graph_saving_a_big_tensor();
    let held = rss().unwrap();
    assert!(
        held - base >= size * 3 / 4,
        "the saved tensor is resident: {} MiB",
        (held - base) / MIB
    );
    y.backward_with(BackwardOptions::new().retain_graph(true))
        .unwrap();
    let retained = rss().unwrap();
    assert!(
        retained - base >= size * 3 / 4,
        "retain_graph keeps the saved tensor: {} MiB",
        (retained - base) / MIB
    );
    assert_eq!(x.grad().unwrap().item::<f32>(), BIG as f32);
    // Dropping the output frees the whole graph, saved tensor included.
    drop(y);
    let dropped = rss().unwrap();
    assert!(
        held - dropped >= size * 3 / 4,
        "dropping the output freed {} MiB",
        (held - dropped) / MIB
    );

    // The guarantee: a plain backward frees the saved tensor although `y` is still alive.
    let base = rss().unwrap();
    let (x, y) = graph_saving_a_big_tensor();
    let held = rss().unwrap();
    assert!(held - base >= size * 3 / 4);
    y.backward().unwrap();
    let after = rss().unwrap();
    eprintln!(
        "saved tensor of {} MiB: resident before backward +{} MiB, after +{} MiB",
        size / MIB,
        (held - base) / MIB,
        (after - base) / MIB
    );
    assert!(
        held - after >= size * 3 / 4,
        "backward freed only {} MiB of a {} MiB saved tensor",
        (held - after) / MIB,
        size / MIB
    );
    assert_eq!(x.grad().unwrap().item::<f32>(), BIG as f32);
    drop(y);
}

#[test]
fn create_graph_gradients_do_not_keep_their_leaf_alive() {
    let _serial = serial();
    if skip_unless_linux("create_graph_gradients_do_not_keep_their_leaf_alive") {
        return;
    }
    // x.grad, built with create_graph, is a graph that saved x: if that graph held x strongly
    // (x -> .grad -> graph -> x), x and its gradient would never be freed.
    let base = rss().unwrap();
    {
        let x = Tensor::ones(&[BIG]).set_requires_grad(true);
        let y = (&x * &x * &x).sum();
        y.backward_with(BackwardOptions::new().create_graph(true))
            .unwrap();
        let g = x.grad().unwrap();
        assert!(g.requires_grad());
        assert_eq!(g.narrow(0, 0, 2).to_vec::<f32>(), vec![3.0, 3.0]);
    }
    let after = rss().unwrap();
    eprintln!(
        "create_graph on a {} MiB leaf: +{} MiB left after dropping it",
        (BIG * 4) >> 20,
        (after - base) / MIB
    );
    assert!(
        after - base <= 4 * MIB,
        "{} MiB still resident",
        (after - base) / MIB
    );
}

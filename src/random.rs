//! The random number generator behind `rand`, `randn` and friends: a Mersenne Twister
//! (MT19937, from the `rand_mt` crate) seeded and consumed exactly as PyTorch's CPU generator,
//! so `manual_seed(0); Tensor::rand(&[3])` gives the numbers `torch.manual_seed(0);
//! torch.rand(3)` does.

use parking_lot::Mutex;
use rand_mt::Mt;

/// PyTorch's default CPU seed, used until [`manual_seed`] is called.
const DEFAULT_SEED: u64 = 67_280_421_310_721;

struct Generator {
    mt: Mt,
    /// Box-Muller makes two normals; PyTorch keeps the second for the next draw.
    next_normal: Option<f64>,
}

static GENERATOR: Mutex<Option<Generator>> = Mutex::new(None);

fn with_gen<R>(f: impl FnOnce(&mut Generator) -> R) -> R {
    let mut guard = GENERATOR.lock();
    let gen = guard.get_or_insert_with(|| Generator {
        mt: Mt::new(DEFAULT_SEED as u32),
        next_normal: None,
    });
    f(gen)
}

/// Seeds the global generator, like `torch.manual_seed`.
///
/// ```
/// use tensorgrad::{manual_seed, Tensor};
/// manual_seed(0);
/// let a = Tensor::rand(&[3]).to_vec::<f32>();
/// manual_seed(0);
/// assert_eq!(a, Tensor::rand(&[3]).to_vec::<f32>());
/// assert_eq!(a[0], 0.49625659);   // torch.manual_seed(0); torch.rand(3)[0]
/// ```
pub fn manual_seed(seed: u64) {
    // PyTorch's mt19937 takes the low 32 bits of the seed.
    *GENERATOR.lock() = Some(Generator {
        mt: Mt::new(seed as u32),
        next_normal: None,
    });
}

impl Generator {
    fn uniform_f32(&mut self) -> f32 {
        (self.mt.next_u32() & ((1 << 24) - 1)) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    fn uniform_f64(&mut self) -> f64 {
        let hi = self.mt.next_u32() as u64;
        let lo = self.mt.next_u32() as u64;
        (((hi << 32) | lo) & ((1u64 << 53) - 1)) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// One standard normal by Box-Muller in f64, caching the second value, as PyTorch's
    /// `normal_distribution<double>` does for tensors under 16 elements.
    fn normal_f64(&mut self) -> f64 {
        if let Some(v) = self.next_normal.take() {
            return v;
        }
        let u1 = self.uniform_f64();
        let u2 = self.uniform_f64();
        let r = (-2.0 * (-u2).ln_1p()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u1;
        self.next_normal = Some(r * theta.sin());
        r * theta.cos()
    }
}

/// `n` uniform samples in [0, 1) as f32.
pub(crate) fn uniform_f32(n: usize) -> Vec<f32> {
    with_gen(|g| (0..n).map(|_| g.uniform_f32()).collect())
}

/// `n` uniform samples in [0, 1) as f64.
pub(crate) fn uniform_f64(n: usize) -> Vec<f64> {
    with_gen(|g| (0..n).map(|_| g.uniform_f64()).collect())
}

/// `n` uniform samples in [low, high) as f32, like `tensor.uniform_(low, high)`: PyTorch casts
/// the bounds to the element type and computes `u * (high - low) + low` with one rounding
/// (its CPU kernels are built with FMA contraction), so a fused multiply-add is what gives
/// the same bits.
pub(crate) fn uniform_range_f32(n: usize, low: f64, high: f64) -> Vec<f32> {
    let (lo, hi) = (low as f32, high as f32);
    with_gen(|g| {
        (0..n)
            .map(|_| g.uniform_f32().mul_add(hi - lo, lo))
            .collect()
    })
}

/// [`uniform_range_f32`] for f64.
pub(crate) fn uniform_range_f64(n: usize, low: f64, high: f64) -> Vec<f64> {
    with_gen(|g| {
        (0..n)
            .map(|_| g.uniform_f64().mul_add(high - low, low))
            .collect()
    })
}

/// Box-Muller on blocks of 16 uniforms (first 8 with last 8), PyTorch's `normal_fill` for
/// tensors of 16 or more elements; the tail is redone on the last 16 positions.
fn normal_fill<T: Copy>(
    data: &mut [T],
    uniform: impl Fn(&mut Generator) -> T,
    to_f64: impl Fn(T) -> f64,
    from_f64: impl Fn(f64) -> T,
) {
    let n = data.len();
    let fill16 = |d: &mut [T]| {
        for j in 0..8 {
            let u1 = 1.0 - to_f64(d[j]);
            let u2 = to_f64(d[j + 8]);
            let radius = (-2.0 * u1.ln()).sqrt();
            let theta = 2.0 * std::f64::consts::PI * u2;
            d[j] = from_f64(radius * theta.cos());
            d[j + 8] = from_f64(radius * theta.sin());
        }
    };
    with_gen(|g| {
        for x in data.iter_mut() {
            *x = uniform(g);
        }
        let mut i = 0;
        while i + 16 <= n {
            fill16(&mut data[i..i + 16]);
            i += 16;
        }
        if !n.is_multiple_of(16) {
            let tail = &mut data[n - 16..];
            for x in tail.iter_mut() {
                *x = uniform(g);
            }
            fill16(tail);
        }
    });
}

/// `n` standard normal samples as f32.
pub(crate) fn normal_f32(n: usize) -> Vec<f32> {
    if n >= 16 {
        let mut v = vec![0f32; n];
        normal_fill(&mut v, Generator::uniform_f32, |x| x as f64, |x| x as f32);
        return v;
    }
    with_gen(|g| (0..n).map(|_| g.normal_f64() as f32).collect())
}

/// `n` standard normal samples as f64.
pub(crate) fn normal_f64(n: usize) -> Vec<f64> {
    if n >= 16 {
        let mut v = vec![0f64; n];
        normal_fill(&mut v, Generator::uniform_f64, |x| x, |x| x);
        return v;
    }
    with_gen(|g| (0..n).map(|_| g.normal_f64()).collect())
}

//! Vectorised f32 math: `exp`, `log`, `log1p`, `sin`, `cos`, `tanh`, `sigmoid`, and the fused
//! backward maps that use them.
//!
//! Why: the standard library's `f32::sin` & co. are scalar calls into libm (~20–50 ns per
//! element), which made `sin`/`exp`/`tanh` on 10⁷ elements compute-bound at several times
//! PyTorch's time (PyTorch uses SLEEF's vectorised functions). Each function here is written
//! once as branch-free scalar code (selects instead of branches, bit tricks instead of
//! `ldexp`, a magic-constant rounding instead of a `rint` call), so LLVM vectorises the loops
//! over slices; the loops are compiled twice, for AVX2+FMA (picked at run time) and for the
//! baseline target. No crate offered this on stable Rust with known accuracy: `wide` has no
//! `tanh` and builds for the compile-time target only, `sleef` needs nightly `portable_simd`,
//! and `fast-math` trades accuracy away.
//!
//! Accuracy (checked over dense sweeps of all f32 exponents against f64 references in the
//! tests below): `exp` within 2 ULP, `log` within 1, `log1p` within 2, `sin`/`cos` within 1
//! (arguments beyond 10⁸ are recomputed with libm's exact reduction), `tanh` and `sigmoid`
//! within 3 ULP — the range of SLEEF's `_u10` functions that PyTorch uses. ±0, ±inf, NaN and
//! subnormals follow IEEE/libm.
//!
//! The polynomial and reduction constants are written with the digits of their sources
//! (SLEEF, musl, fdlibm), which is more than f32/f64 hold; they round to the intended values.
#![allow(clippy::excessive_precision)]

mod normal;

use super::alloc;
use super::pool;
use super::{PAR_CHUNK, PAR_MIN};
use std::mem::MaybeUninit;

/// How the kernels evaluate `a * b + c`: fused (AVX2+FMA on x86-64, always on aarch64) or
/// as a separate multiply and add (the portable fallback, where `f32::mul_add` would be a
/// slow library call).
pub(crate) trait Fma {
    fn fma(a: f32, b: f32, c: f32) -> f32;
    /// `x²` as `(hi, lo)` with `hi = fl(x·x)` and `hi + lo = x·x` exactly, for |x| between
    /// about 2⁻⁵⁰ and 2⁶³ (where neither part overflows or leaves the normal range; the
    /// callers clamp |x| to 20, and below 2⁻⁵⁰ the error is far under their rounding).
    fn square(x: f32) -> (f32, f32);
}

/// Fused multiply-add (one rounding).
pub(crate) struct Fused;
/// Multiply, then add (two roundings).
// On aarch64 (which always has FMA) only the tests use it.
#[cfg_attr(target_arch = "aarch64", allow(dead_code))]
pub(crate) struct Separate;

impl Fma for Fused {
    #[inline(always)]
    fn fma(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    fn square(x: f32) -> (f32, f32) {
        let hi = x * x;
        // The FMA computes x·x - hi before rounding: the product's exact error.
        (hi, x.mul_add(x, -hi))
    }
}

impl Fma for Separate {
    #[inline(always)]
    fn fma(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
    #[inline(always)]
    fn square(x: f32) -> (f32, f32) {
        // Dekker's product without FMA: split x into two 12-bit halves (Veltkamp), whose
        // partial products are exact.
        let hi = x * x;
        let c = x * 4097.0;
        let x_hi = c - (c - x);
        let x_lo = x - x_hi;
        (hi, ((x_hi * x_hi - hi) + 2.0 * x_hi * x_lo) + x_lo * x_lo)
    }
}

/// 1.5·2²³: `(x + M) - M` rounds |x| < 2²² to the nearest integer (ties to even) in two
/// vectorisable adds, where `round_ties_even` needs SSE4.1 or a library call; the low
/// mantissa bits of `x + M` are that integer.
const ROUND32: f32 = 12_582_912.0;
/// 1.5·2⁵², the same for f64 and |x| < 2⁵¹.
const ROUND64: f64 = 6_755_399_441_055_744.0;

/// `eˣ` (SLEEF's `expf_u10` algorithm: Cody–Waite reduction by ln 2, degree-6 polynomial,
/// scaling by 2ᵏ in two steps so subnormal results are rounded once).
#[inline(always)]
pub(crate) fn exp<M: Fma>(x: f32) -> f32 {
    // Beyond ±104 the result is 0 or inf anyway; clamping keeps 2ᵏ's exponent in range.
    let xc = x.clamp(-104.0, 104.0);
    exp_reduced::<M>(x, xc, |q| M::fma(q, -L2L, M::fma(q, -L2U, xc)))
}

/// `e^(a + b)` where `a + b` is not exactly an f32 (an exponent carried as a rounded value
/// and its error, |b| at most a few units): `b` joins after the reduction by ln 2, so the
/// result keeps the accuracy of [`exp`] where `e^(fl(a + b))` would be off by |a|·2⁻²⁴
/// relative (20 ULP at a = -80).
#[inline(always)]
pub(crate) fn exp_sum<M: Fma>(a: f32, b: f32) -> f32 {
    let x = a + b;
    let xc = x.clamp(-104.0, 104.0);
    // Outside ±104 the reduced argument is meaningless, but the result is replaced then.
    exp_reduced::<M>(x, xc, |q| M::fma(q, -L2L, M::fma(q, -L2U, a)) + b)
}

/// ln 2 in two parts for the Cody–Waite reduction (the upper part has trailing zeros, so
/// `q·L2U` is exact).
const L2U: f32 = 0.693_145_751_953_125;
const L2L: f32 = 1.428_606_765_330_187_045e-6;

/// The body of [`exp`]: `q = round(xc·log₂e)`, the polynomial on `reduce(q) = x - q·ln 2`,
/// scaling by 2^q; 0, inf and NaN for `x` beyond the range or NaN.
#[inline(always)]
fn exp_reduced<M: Fma>(x: f32, xc: f32, reduce: impl Fn(f32) -> f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // q = round(xc·log₂e), and as an integer read from the bits of `t` (its low mantissa bits
    // hold q: `as i32` would be a saturating conversion, which does not vectorise).
    let t = xc * LOG2E + ROUND32;
    let q = t - ROUND32;
    let qi = t.to_bits() as i32 - ROUND32.to_bits() as i32;
    let s = reduce(q);
    let mut u = 0.000_198_527_62_f32;
    u = M::fma(u, s, 0.001_393_043_6);
    u = M::fma(u, s, 0.008_333_361);
    u = M::fma(u, s, 0.041_666_485);
    u = M::fma(u, s, 0.166_666_67);
    u = M::fma(u, s, 0.5);
    u = M::fma(s * s, u, s + 1.0);
    // 2^q as two powers of two, each a normal number for |q| <= 151.
    let h = qi >> 1;
    let p1 = f32::from_bits(((h + 127) as u32) << 23);
    let p2 = f32::from_bits(((qi - h + 127) as u32) << 23);
    let r = u * p1 * p2;
    let r = if x < -104.0 { 0.0 } else { r };
    let r = if x > 104.0 { f32::INFINITY } else { r };
    // `clamp` turned NaN into a number; give NaN back.
    if x.is_nan() {
        x
    } else {
        r
    }
}

/// Largest |x| the vector sin/cos reduce themselves (musl's "medium" range is 2²⁸·π/2);
/// beyond it, [`fix_large_sincos`] recomputes with libm.
const SINCOS_VECTOR_MAX: f32 = 1.0e8;

/// sin and cos of the reduced argument of `x` (|r| <= π/4, computed in f64 with musl's
/// `__rem_pio2f` medium-range reduction and `__sindf`/`__cosdf` polynomials), and the
/// quadrant `n mod 4`. Plain f64 arithmetic: the result is the same with or without FMA.
#[inline(always)]
fn sincos_reduced(x: f32) -> (f64, f64, i32) {
    const INV_PIO2: f64 = std::f64::consts::FRAC_2_PI;
    const PIO2_1: f64 = 1.570_796_310_901_641_845_70;
    const PIO2_1T: f64 = 1.589_325_477_352_819_669_16e-8;
    const S1: f64 = -0.166_666_666_416_265_235_595;
    const S2: f64 = 0.008_333_329_385_889_463_175_6;
    const S3: f64 = -0.000_198_393_348_360_966_317_347;
    const S4: f64 = 0.000_002_718_311_493_989_821_906_4;
    const C0: f64 = -0.499_999_997_251_031_003_120;
    const C1: f64 = 0.041_666_623_323_739_063_189_4;
    const C2: f64 = -0.001_388_676_377_460_992_946_92;
    const C3: f64 = 0.000_024_390_448_796_277_409_065_4;
    let xd = x as f64;
    // fq = round(x·2/π); its value mod 4 is in the low mantissa bits of `t` (no saturating
    // float-to-int conversion, which would not vectorise). |fq| <= 2²⁸ on the vector range;
    // outside it the result is replaced later.
    let t = xd * INV_PIO2 + ROUND64;
    let fq = t - ROUND64;
    let r = (xd - fq * PIO2_1) - fq * PIO2_1T;
    let n = (t.to_bits() & 3) as i32;
    let z = r * r;
    let w = z * z;
    let sr = {
        let t = S3 + z * S4;
        let s = z * r;
        (r + s * (S1 + z * S2)) + s * w * t
    };
    let cr = {
        let t = C2 + z * C3;
        ((1.0 + z * C0) + w * C1) + (w * z) * t
    };
    (sr, cr, n)
}

/// sin x (radians).
#[inline(always)]
pub(crate) fn sin(x: f32) -> f32 {
    let (s, c, n) = sincos_reduced(x);
    let v = if n & 1 != 0 { c } else { s };
    let v = if n & 2 != 0 { -v } else { v };
    // sin x rounds to x for |x| < 2⁻¹²; this also keeps -0 and subnormals exact.
    if x.abs() < 2.441_406_25e-4 {
        x
    } else {
        v as f32
    }
}

/// cos x (radians).
#[inline(always)]
pub(crate) fn cos(x: f32) -> f32 {
    let (s, c, n) = sincos_reduced(x);
    let v = if n & 1 != 0 { s } else { c };
    let v = if (n + 1) & 2 != 0 { -v } else { v };
    if x.abs() < 2.441_406_25e-4 {
        1.0
    } else {
        v as f32
    }
}

/// tanh x: Cephes' odd polynomial below |x| = 0.625, `1 - 2/(e^{2|x|} + 1)` above.
#[inline(always)]
pub(crate) fn tanh<M: Fma>(x: f32) -> f32 {
    let ax = x.abs();
    let z = x * x;
    let mut p = -5.704_988_7e-3_f32;
    p = M::fma(p, z, 2.063_908_9e-2);
    p = M::fma(p, z, -5.373_971_6e-2);
    p = M::fma(p, z, 1.333_144_2e-1);
    p = M::fma(p, z, -3.333_328_2e-1);
    let small = M::fma(p * z, x, x);
    let e = exp::<M>(2.0 * ax);
    let big = (1.0 - 2.0 / (e + 1.0)).copysign(x);
    // tanh x rounds to x for |x| < 2⁻¹² (this keeps -0 and subnormals exact).
    if ax < 2.441_406_25e-4 {
        x
    } else if ax < 0.625 {
        small
    } else {
        big
    }
}

/// The logistic function `1 / (1 + e⁻ˣ)`, as `e/(1 + e)` with `e = e^{-|x|}` for negative
/// `x`, so it neither overflows nor loses the tiny results below x ≈ -88.
#[inline(always)]
pub(crate) fn sigmoid<M: Fma>(x: f32) -> f32 {
    let e = exp::<M>(-x.abs());
    let num = if x < 0.0 { e } else { 1.0 };
    num / (1.0 + e)
}

/// ln x (the algorithm of fdlibm's and musl's `logf`): x = 2ᵏ·z with z in [√2/2, √2), then
/// ln z = ln(1 + f) = f - f²/2 + s·(f²/2 + R(s²)), with s = f/(2 + f) and R a degree-4
/// polynomial in s², and k·ln 2 added in two parts. (`f32::ln` per element made `log` of
/// 2048×1024 floats 1.9× PyTorch's time on the AMD machine of round 10; this is 0.6–0.7×.)
#[inline(always)]
pub(crate) fn log<M: Fma>(x: f32) -> f32 {
    // Subnormals: scale by 2²³ into the normal range, and take 23 off the exponent.
    let subnormal = x < f32::MIN_POSITIVE;
    let xs = if subnormal { x * 8_388_608.0 } else { x };
    let ix = xs.to_bits();
    // Subtracting the bits of √2/2 leaves k in the exponent field: z = x·2⁻ᵏ is in [√2/2, √2).
    let k = (ix.wrapping_sub(0x3f35_04f3) as i32) >> 23;
    let z = f32::from_bits(ix.wrapping_sub((k as u32) << 23));
    let dk = k as f32 - if subnormal { 23.0 } else { 0.0 };
    let f = z - 1.0;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let s4 = s2 * s2;
    let r = s2 * M::fma(s4, 0.284_987_866_88, 0.666_666_626_93)
        + s4 * M::fma(s4, 0.242_790_788_41, 0.400_009_721_52);
    let half_f2 = 0.5 * f * f;
    // ln 2 in two parts (the upper one with trailing zeros, so k·LN2_HI is exact).
    const LN2_HI: f32 = 6.931_381_225_6e-1;
    const LN2_LO: f32 = 9.058_000_614_5e-6;
    let y = M::fma(s, half_f2 + r, dk * LN2_LO) - half_f2 + f + dk * LN2_HI;
    let y = if x == 0.0 { f32::NEG_INFINITY } else { y };
    let y = if x < 0.0 { f32::NAN } else { y };
    let y = if x == f32::INFINITY { x } else { y };
    // NaN stays NaN (with its payload).
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// ln(1 + x), accurate for small x: `u = fl(1 + x)` loses x's low bits, so its rounding
/// error `c = (1 + x) - u` (exact, by Fast2Sum) is added back as ln(1 + c/u) ≈ c/u.
#[inline(always)]
pub(crate) fn log1p<M: Fma>(x: f32) -> f32 {
    let u = 1.0 + x;
    let c = if x.abs() > 1.0 {
        (x - u) + 1.0
    } else {
        (1.0 - u) + x
    };
    let y = log::<M>(u) + c / u;
    // Where u rounds to 1, ln(1 + x) rounds to x (this keeps -0 and subnormals exact); at
    // u = 0 (x = -1) and u = inf (x = inf) the correction would be 0/0 or inf - inf.
    let y = if u == 1.0 { x } else { y };
    let y = if u == 0.0 { f32::NEG_INFINITY } else { y };
    if u == f32::INFINITY {
        log::<M>(x)
    } else {
        y
    }
}

/// An element-wise f32 function, written once for both FMA flavours.
pub(crate) trait Func1: Sync {
    fn eval<M: Fma>(&self, x: f32) -> f32;
    /// Whether results for |x| > [`SINCOS_VECTOR_MAX`] must be recomputed with libm.
    const SINCOS: Option<fn(f32) -> f32> = None;
}

/// An element-wise f32 function of two arguments.
pub(crate) trait Func2: Sync {
    fn eval<M: Fma>(&self, a: f32, b: f32) -> f32;
    /// As [`Func1::SINCOS`], for `b`: `(exact f(a, b))`.
    const SINCOS: Option<fn(f32, f32) -> f32> = None;
}

pub(crate) use normal::{Erf, Erfc, Gelu, MulErfGrad, MulErfcGrad, MulGeluGrad};

/// Declares unit structs that implement [`Func1`] by calling a function generic over the
/// FMA flavour.
macro_rules! func1 {
    ($($(#[$doc:meta])* $name:ident => $fun:ident;)*) => {$(
        $(#[$doc])*
        pub(crate) struct $name;
        impl Func1 for $name {
            #[inline(always)]
            fn eval<M: Fma>(&self, x: f32) -> f32 {
                $fun::<M>(x)
            }
        }
    )*};
}
use func1;

func1! {
    /// `eˣ`.
    Exp => exp;
    /// `ln x`.
    Log => log;
    /// `ln(1 + x)`.
    Log1p => log1p;
    /// `tanh x`.
    Tanh => tanh;
    /// `1 / (1 + e⁻ˣ)`.
    Sigmoid => sigmoid;
}

/// `e^(x - shift)`: the subtraction rounded first, then [`exp`], as the two element-wise ops
/// `(x - shift).exp()` compute it (softmax's shifted exponentials).
pub(crate) struct ExpShifted(pub f32);
pub(crate) struct Sin;
pub(crate) struct Cos;
/// `g · cos x` (the backward of sin).
pub(crate) struct MulCos;
/// `g · -sin x` (the backward of cos).
pub(crate) struct MulNegSin;

impl Func1 for ExpShifted {
    #[inline(always)]
    fn eval<M: Fma>(&self, x: f32) -> f32 {
        exp::<M>(x - self.0)
    }
}
impl Func1 for Sin {
    #[inline(always)]
    fn eval<M: Fma>(&self, x: f32) -> f32 {
        sin(x)
    }
    const SINCOS: Option<fn(f32) -> f32> = Some(f32::sin);
}
impl Func1 for Cos {
    #[inline(always)]
    fn eval<M: Fma>(&self, x: f32) -> f32 {
        cos(x)
    }
    const SINCOS: Option<fn(f32) -> f32> = Some(f32::cos);
}
impl Func2 for MulCos {
    #[inline(always)]
    fn eval<M: Fma>(&self, g: f32, x: f32) -> f32 {
        g * cos(x)
    }
    const SINCOS: Option<fn(f32, f32) -> f32> = Some(|g, x| g * x.cos());
}
impl Func2 for MulNegSin {
    #[inline(always)]
    fn eval<M: Fma>(&self, g: f32, x: f32) -> f32 {
        g * -sin(x)
    }
    const SINCOS: Option<fn(f32, f32) -> f32> = Some(|g, x| g * -x.sin());
}

/// Binary cross-entropy of logit `x` against target `y`, with the roundings of the composite
/// `(1 - y)·x - (min(x, 0) - log1p(e^-|x|))` (PyTorch's formula) op by op.
pub(crate) struct BceWithLogits;
/// Its gradient in `x`, `((sigmoid(x) - y)·g) / n`, for an upstream gradient `g` that is one
/// number (a mean, `n` = element count, or a sum, `n` = 1), rounded as the composite rule is.
pub(crate) struct BceWithLogitsGrad {
    pub g: f32,
    pub n: f32,
}

impl Func2 for BceWithLogits {
    #[inline(always)]
    fn eval<M: Fma>(&self, x: f32, y: f32) -> f32 {
        // `clamp_max(0)` as a select that keeps NaN.
        let min0 = if x > 0.0 { 0.0 } else { x };
        let log_sigmoid = min0 - log1p::<M>(exp::<M>(-x.abs()));
        (1.0 - y) * x - log_sigmoid
    }
}
impl Func2 for BceWithLogitsGrad {
    #[inline(always)]
    fn eval<M: Fma>(&self, x: f32, y: f32) -> f32 {
        ((sigmoid::<M>(x) - y) * self.g) / self.n
    }
}

/// The first operand of a binary map: a slice as long as the second, or one value for all.
#[derive(Clone, Copy)]
pub(crate) enum Lhs<'a> {
    Slice(&'a [f32]),
    Splat(f32),
}

#[inline(always)]
fn run1<M: Fma, F: Func1>(f: &F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    for (o, &x) in dst.iter_mut().zip(src) {
        o.write(f.eval::<M>(x));
    }
}

#[inline(always)]
fn run2<M: Fma, F: Func2>(f: &F, a: Lhs<'_>, b: &[f32], dst: &mut [MaybeUninit<f32>]) {
    match a {
        Lhs::Slice(a) => {
            for ((o, &x), &y) in dst.iter_mut().zip(a).zip(b) {
                o.write(f.eval::<M>(x, y));
            }
        }
        Lhs::Splat(x) => {
            for (o, &y) in dst.iter_mut().zip(b) {
                o.write(f.eval::<M>(x, y));
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run1_avx2<F: Func1>(f: &F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    run1::<Fused, F>(f, src, dst);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run2_avx2<F: Func2>(f: &F, a: Lhs<'_>, b: &[f32], dst: &mut [MaybeUninit<f32>]) {
    run2::<Fused, F>(f, a, b, dst);
}

/// The same loops in 16 lanes, with mask registers for the selects.
#[cfg(all(target_arch = "x86_64", feature = "avx512"))]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
unsafe fn run1_avx512<F: Func1>(f: &F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    run1::<Fused, F>(f, src, dst);
}

#[cfg(all(target_arch = "x86_64", feature = "avx512"))]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
unsafe fn run2_avx512<F: Func2>(f: &F, a: Lhs<'_>, b: &[f32], dst: &mut [MaybeUninit<f32>]) {
    run2::<Fused, F>(f, a, b, dst);
}

/// Whether this CPU runs the AVX2+FMA builds (detected once, then a cached load).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(super) fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Whether this CPU runs the AVX-512 builds (with the `avx512` feature, on by default).
#[cfg(all(target_arch = "x86_64", feature = "avx512"))]
#[inline]
pub(super) fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && has_avx2_fma()
}

fn dispatch1<F: Func1>(f: &F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    assert_eq!(
        src.len(),
        dst.len(),
        "vmath: output length differs from the input"
    );
    #[cfg(target_arch = "x86_64")]
    {
        #[cfg(feature = "avx512")]
        if has_avx512() {
            // SAFETY: the CPU supports every feature the function is compiled with (checked
            // just above), which is all that calling it needs.
            unsafe { run1_avx512(f, src, dst) };
            return fix_sincos1::<F>(src, dst);
        }
        if has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above), which is all that
            // calling a function compiled with `target_feature(enable = "avx2,fma")` needs.
            unsafe { run1_avx2(f, src, dst) };
        } else {
            run1::<Separate, F>(f, src, dst);
        }
    }
    #[cfg(target_arch = "aarch64")]
    run1::<Fused, F>(f, src, dst);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    run1::<Separate, F>(f, src, dst);
    fix_sincos1::<F>(src, dst);
}

/// The large-argument pass of [`fix_large_sincos`] for a [`Func1`] that needs it.
fn fix_sincos1<F: Func1>(src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    if let Some(exact) = F::SINCOS {
        fix_large_sincos(src, dst, |_, x| exact(x));
    }
}

fn dispatch2<F: Func2>(f: &F, a: Lhs<'_>, b: &[f32], dst: &mut [MaybeUninit<f32>]) {
    assert_eq!(
        b.len(),
        dst.len(),
        "vmath: output length differs from the input"
    );
    #[cfg(target_arch = "x86_64")]
    {
        #[cfg(feature = "avx512")]
        if has_avx512() {
            // SAFETY: as in `dispatch1`: every feature the function is compiled with is
            // present.
            unsafe { run2_avx512(f, a, b, dst) };
            return fix_sincos2::<F>(a, b, dst);
        }
        if has_avx2_fma() {
            // SAFETY: as in `dispatch1`: AVX2 and FMA are present.
            unsafe { run2_avx2(f, a, b, dst) };
        } else {
            run2::<Separate, F>(f, a, b, dst);
        }
    }
    #[cfg(target_arch = "aarch64")]
    run2::<Fused, F>(f, a, b, dst);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    run2::<Separate, F>(f, a, b, dst);
    fix_sincos2::<F>(a, b, dst);
}

/// The large-argument pass of [`fix_large_sincos`] for a [`Func2`] that needs it.
fn fix_sincos2<F: Func2>(a: Lhs<'_>, b: &[f32], dst: &mut [MaybeUninit<f32>]) {
    if let Some(exact) = F::SINCOS {
        fix_large_sincos(b, dst, |i, x| match a {
            Lhs::Slice(a) => exact(a[i], x),
            Lhs::Splat(g) => exact(g, x),
        });
    }
}

/// Recomputes `dst[i] = exact(i, src[i])` where `|src[i]|` is finite and beyond the vector
/// reduction's range. One vectorised max over the chunk first, so the common case (no such
/// element) costs one read of data already in cache.
fn fix_large_sincos(src: &[f32], dst: &mut [MaybeUninit<f32>], exact: impl Fn(usize, f32) -> f32) {
    let max = src.iter().fold(0.0f32, |m, &x| m.max(x.abs()));
    if max <= SINCOS_VECTOR_MAX {
        return;
    }
    for (i, (o, &x)) in dst.iter_mut().zip(src).enumerate() {
        if x.abs() > SINCOS_VECTOR_MAX && x.is_finite() {
            o.write(exact(i, x));
        }
    }
}

/// `f(x)` for every element of a contiguous slice, in parallel for large inputs.
pub(crate) fn map1<F: Func1>(f: &F, src: &[f32]) -> Vec<f32> {
    let mut out = alloc::output_uninit::<f32>(src.len());
    if src.len() < PAR_MIN {
        dispatch1(f, src, &mut out);
    } else {
        pool::for_each_chunk_pair(&mut out, src, PAR_CHUNK, |_, o, s| dispatch1(f, s, o));
    }
    // SAFETY: `out` is as long as `src` (and cut into the same chunks), and `dispatch1`
    // writes every element of `dst` (a loop over `dst` zipped with an equally long `src`).
    unsafe { alloc::assume_init(out) }
}

/// `dst[i] = f(src[i])` into an existing buffer, on this thread (for kernels that run their
/// own rows in parallel).
pub(crate) fn map1_into<F: Func1>(f: &F, src: &[f32], dst: &mut [f32]) {
    // SAFETY: `MaybeUninit<f32>` has f32's layout, and `dispatch1` stores only initialised
    // f32 values into it (and never reads it), so `dst` stays a valid `[f32]`.
    let dst = unsafe { &mut *(dst as *mut [f32] as *mut [MaybeUninit<f32>]) };
    dispatch1(f, src, dst);
}

/// `f(a, b)` for every element of `b` (with `a` a slice as long, or one value).
pub(crate) fn map2<F: Func2>(f: &F, a: Lhs<'_>, b: &[f32]) -> Vec<f32> {
    if let Lhs::Slice(a) = a {
        assert_eq!(a.len(), b.len(), "map2: operand lengths differ");
    }
    let mut out = alloc::output_uninit::<f32>(b.len());
    if b.len() < PAR_MIN {
        dispatch2(f, a, b, &mut out);
    } else {
        pool::for_each_chunk_pair(&mut out, b, PAR_CHUNK, |c, o, s| {
            let a = match a {
                Lhs::Slice(a) => Lhs::Slice(&a[c * PAR_CHUNK..c * PAR_CHUNK + s.len()]),
                splat => splat,
            };
            dispatch2(f, a, s, o);
        });
    }
    // SAFETY: `out` is as long as `b` (and `a`, checked above), cut into the same chunks, and
    // `dispatch2` writes every element of `dst` (loops over `dst` zipped with operands as long).
    unsafe { alloc::assume_init(out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between an f32 result and the f64 truth.
    fn ulp_error(got: f32, want: f64) -> f64 {
        if want.is_nan() {
            return if got.is_nan() { 0.0 } else { f64::INFINITY };
        }
        // Compare with the truth rounded to f32, so overflow to ±inf counts as exact.
        let w = want as f32;
        if w.is_infinite() || got.is_infinite() {
            return if got == w { 0.0 } else { f64::INFINITY };
        }
        // One ULP at the true value's magnitude (subnormal spacing below f32::MIN_POSITIVE).
        let ulp = if w.abs() < f32::MIN_POSITIVE {
            f32::from_bits(1) as f64
        } else {
            let b = w.abs().to_bits() & 0x7f80_0000;
            (f32::from_bits(b) as f64) * f32::EPSILON as f64
        };
        ((got as f64) - want).abs() / ulp
    }

    /// A dense sweep: every 257th f32 bit pattern of both signs (≈ 1.7·10⁷ values, all
    /// exponents, subnormals included), plus the edge cases.
    pub(super) fn sweep(max_abs: f32) -> Vec<f32> {
        let mut v: Vec<f32> = (0..0x7f80_0000u32)
            .step_by(257)
            .map(f32::from_bits)
            .filter(|x| x.abs() <= max_abs)
            .flat_map(|x| [x, -x])
            .collect();
        v.extend([
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            f32::from_bits(1),
            -f32::from_bits(1),
            f32::MAX,
            f32::MIN,
        ]);
        v
    }

    pub(super) fn max_ulp(xs: &[f32], got: &[f32], truth: impl Fn(f64) -> f64) -> (f64, f32) {
        xs.iter()
            .zip(got)
            .map(|(&x, &y)| (ulp_error(y, truth(x as f64)), x))
            .fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
    }

    /// Checks the dispatched (vector) path and both scalar flavours.
    pub(super) fn check1<F: Func1>(
        f: F,
        truth: impl Fn(f64) -> f64 + Copy,
        max_abs: f32,
        bound: f64,
    ) {
        let xs = sweep(max_abs);
        let vec = map1(&f, &xs);
        let (e, at) = max_ulp(&xs, &vec, truth);
        eprintln!("max error (vector path): {e:.3} ULP at {at:e}");
        assert!(e <= bound, "vector path: {e} ULP at {at:e}");
        for scalar in [
            xs.iter()
                .map(|&x| f.eval::<Separate>(x))
                .collect::<Vec<_>>(),
            xs.iter().map(|&x| f.eval::<Fused>(x)).collect(),
        ] {
            let scalar: Vec<f32> = scalar
                .iter()
                .zip(&xs)
                .map(|(&y, &x)| match F::SINCOS {
                    Some(exact) if x.abs() > SINCOS_VECTOR_MAX && x.is_finite() => exact(x),
                    _ => y,
                })
                .collect();
            let (e, at) = max_ulp(&xs, &scalar, truth);
            assert!(e <= bound, "scalar path: {e} ULP at {at:e}");
        }
    }

    /// Every instruction-set build gives the scalar FMA flavour's results bit for bit (the
    /// loops are the same arithmetic in more lanes), so the accuracy sweeps, which run the
    /// best build this CPU has, speak for all of them.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn instruction_set_builds_agree_bit_for_bit() {
        fn same<F: Func1>(f: F, xs: &[f32]) {
            let scalar: Vec<u32> = xs.iter().map(|&x| f.eval::<Fused>(x).to_bits()).collect();
            let run = |build: unsafe fn(&F, &[f32], &mut [MaybeUninit<f32>])| {
                let mut out = vec![MaybeUninit::uninit(); xs.len()];
                // SAFETY: called only where the CPU has the build's features (checked below).
                unsafe { build(&f, xs, &mut out) };
                // SAFETY: `run1` writes every element.
                out.iter()
                    .map(|o| unsafe { o.assume_init() }.to_bits())
                    .collect::<Vec<u32>>()
            };
            if has_avx2_fma() {
                assert!(run(run1_avx2::<F>) == scalar, "AVX2 build differs");
            }
            #[cfg(feature = "avx512")]
            if has_avx512() {
                assert!(run(run1_avx512::<F>) == scalar, "AVX-512 build differs");
            }
        }
        let xs: Vec<f32> = sweep(f32::MAX).into_iter().step_by(7).collect();
        same(Exp, &xs);
        same(Log, &xs);
        same(Log1p, &xs);
        same(Sin, &xs);
        same(Cos, &xs);
        same(Tanh, &xs);
        same(Sigmoid, &xs);
        same(Erf, &xs);
        same(Erfc, &xs);
        same(Gelu, &xs);
    }

    #[test]
    fn exp_accuracy() {
        check1(Exp, f64::exp, f32::MAX, 2.0);
        let edge = map1(
            &Exp,
            &[0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN],
        );
        assert_eq!(&edge[..4], &[1.0, 1.0, f32::INFINITY, 0.0]);
        assert!(edge[4].is_nan());
        // Overflow and subnormal underflow boundaries.
        assert_eq!(map1(&Exp, &[88.73, -103.98])[0], f32::INFINITY);
        assert!(map1(&Exp, &[-100.0])[0] > 0.0);
    }

    #[test]
    fn log_accuracy() {
        check1(Log, f64::ln, f32::MAX, 1.0);
        let edge = map1(
            &Log,
            &[
                1.0,
                0.0,
                -0.0,
                f32::INFINITY,
                -1.0,
                f32::NEG_INFINITY,
                f32::NAN,
            ],
        );
        assert_eq!(edge[0].to_bits(), 0.0f32.to_bits());
        assert_eq!(
            &edge[1..4],
            &[f32::NEG_INFINITY, f32::NEG_INFINITY, f32::INFINITY]
        );
        assert!(edge[4..].iter().all(|y| y.is_nan()));
        // The smallest subnormal and the largest finite value.
        assert_eq!(
            map1(&Log, &[f32::from_bits(1)])[0],
            (f32::from_bits(1) as f64).ln() as f32
        );
        assert_eq!(map1(&Log, &[f32::MAX])[0], (f32::MAX as f64).ln() as f32);
    }

    #[test]
    fn log1p_accuracy() {
        check1(Log1p, f64::ln_1p, f32::MAX, 2.0);
        let edge = map1(
            &Log1p,
            &[0.0, -0.0, -1.0, f32::INFINITY, f32::MAX, -2.0, f32::NAN],
        );
        assert_eq!(edge[0].to_bits(), 0.0f32.to_bits());
        assert_eq!(edge[1].to_bits(), (-0.0f32).to_bits());
        assert_eq!(
            &edge[2..5],
            &[f32::NEG_INFINITY, f32::INFINITY, f32::MAX.ln()]
        );
        assert!(edge[5].is_nan() && edge[6].is_nan());
        assert_eq!(map1(&Log1p, &[1e-30])[0], 1e-30);
    }

    #[test]
    fn sin_cos_accuracy() {
        check1(Sin, f64::sin, f32::MAX, 1.0);
        check1(Cos, f64::cos, f32::MAX, 1.0);
        let s = map1(
            &Sin,
            &[0.0, -0.0, f32::INFINITY, f32::NAN, -f32::from_bits(3)],
        );
        assert_eq!(s[0].to_bits(), 0.0f32.to_bits());
        assert_eq!(s[1].to_bits(), (-0.0f32).to_bits());
        assert!(s[2].is_nan() && s[3].is_nan());
        assert_eq!(s[4], -f32::from_bits(3));
        let c = map1(&Cos, &[0.0, -0.0, f32::NEG_INFINITY, 1e30]);
        assert_eq!(&c[..2], &[1.0, 1.0]);
        assert!(c[2].is_nan());
        assert_eq!(c[3], 1e30f32.cos());
    }

    #[test]
    fn tanh_sigmoid_accuracy() {
        check1(Tanh, f64::tanh, f32::MAX, 3.0);
        check1(Sigmoid, |x| 1.0 / (1.0 + (-x).exp()), f32::MAX, 3.0);
        let t = map1(
            &Tanh,
            &[-0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 20.0],
        );
        assert_eq!(t[0].to_bits(), (-0.0f32).to_bits());
        assert_eq!(&t[1..3], &[1.0, -1.0]);
        assert!(t[3].is_nan());
        assert_eq!(t[4], 1.0);
    }

    #[test]
    fn binary_maps_match_their_parts() {
        let xs: Vec<f32> = (0..100_000)
            .map(|i| (i as f32 - 50_000.0) * 0.013)
            .collect();
        let gs: Vec<f32> = (0..100_000)
            .map(|i| ((i * 7919) % 1000) as f32 / 333.0)
            .collect();
        let cos = map1(&Cos, &xs);
        let sin = map1(&Sin, &xs);
        let mc = map2(&MulCos, Lhs::Slice(&gs), &xs);
        let ms = map2(&MulNegSin, Lhs::Splat(1.5), &xs);
        for i in 0..xs.len() {
            assert_eq!(mc[i], gs[i] * cos[i]);
            assert_eq!(ms[i], 1.5 * -sin[i]);
        }
        // Large arguments take the exact path in binary maps too.
        let big = [3.0e9f32, -1.0e20];
        assert_eq!(
            map2(&MulCos, Lhs::Splat(2.0), &big),
            vec![2.0 * big[0].cos(), 2.0 * big[1].cos()]
        );
    }
}

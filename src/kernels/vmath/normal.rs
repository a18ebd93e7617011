//! Vectorised f32 `erf`, `erfc` and GELU (`x·Φ(x)`, Φ the standard normal CDF), with the
//! fused backward maps that use them.
//!
//! Why: these were scalar f64 `libm` calls per element, which made `gelu` 20–30× slower
//! than PyTorch's at 2·10⁶ elements, and its backward a chain of eight tensor ops.
//!
//! How: one `erfc` for z ≥ 0 does all the work, in the form `t·exp(-z² + P(t))` with
//! `t = 1/(1 + z/2)` and the degree-9 Chebyshev fit P of Numerical Recipes' `erfcc`
//! (Press et al., *Numerical Recipes in C*, 2nd ed., §6.2; fractional error below 1.2·10⁻⁷
//! for all z ≥ 0). The square in the exponent is carried as an exact pair (`x·x` and its FMA
//! rounding error) into [`exp_sum`], so the tail keeps its relative accuracy where
//! `exp(-z²)` is tiny. Φ(x) is `erfc(|x|/√2)/2` for x < 0 and `1 - erfc(x/√2)/2` otherwise:
//! no cancellation in the lower tail, where PyTorch's `0.5·x·(1 + erf(x/√2))` returns 0 or
//! loses most digits (x = -5: 4% off; x = -8: 0 instead of -4.9·10⁻¹⁵). `erf` is the odd
//! Taylor series below |x| = 0.5 and `1 - erfc` above.
//!
//! Accuracy (dense sweeps of all f32 exponents against f64 `libm`, in the tests below): `erf`
//! within 3 ULP, `erfc` and GELU within 7 (most of it the fit's own 1.05·10⁻⁷ and the
//! rounding in P), the backward maps within 8 ULP of the size of their terms. SLEEF's
//! `erfcf_u15` is closer (1.5 ULP) but needs a longer piecewise evaluation; PyTorch's f32
//! GELU is off by up to 1.2·10⁻⁶ absolute, far more in the lower tail.
#![allow(clippy::excessive_precision)]

use super::{exp_sum, Fma, Func1, Func2};
use std::f32::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};

/// `1/√(2π)`, the standard normal density at 0.
const FRAC_1_SQRT_2PI: f32 = 0.398_942_280_401_432_7;

/// Beyond this |x| (in erfc's argument) erfc underflows to 0 in f32 (erfc(10.5) ≈ 10⁻⁴⁹);
/// clamping keeps ±inf out of the polynomial and the squared exponent.
const ERFC_ARG_MAX: f32 = 10.5;

/// `erfc(z)` for `z >= 0` (NaN for NaN) as two factors `(t, e)` with `erfc(z) = t·e`, given
/// also `z²` as an exact pair `sq_hi + sq_lo`: rounding `z` (as in `|x|/√2`) and then
/// squaring would put an error of z²·2⁻²³ into the exponent (100 ULP at z = 9). Callers
/// multiply their own factors into `t` first, so a product that ends up subnormal is
/// rounded once.
#[inline(always)]
fn erfc_factors<M: Fma>(z: f32, sq_hi: f32, sq_lo: f32) -> (f32, f32) {
    // A select rather than `min`, which would turn NaN into the bound.
    let (z, sq_hi, sq_lo) = if z > ERFC_ARG_MAX {
        (ERFC_ARG_MAX, ERFC_ARG_MAX * ERFC_ARG_MAX, 0.0)
    } else {
        (z, sq_hi, sq_lo)
    };
    let t = 1.0 / M::fma(0.5, z, 1.0);
    let mut p = 0.170_872_77_f32;
    p = M::fma(p, t, -0.822_152_23);
    p = M::fma(p, t, 1.488_515_87);
    p = M::fma(p, t, -1.135_203_98);
    p = M::fma(p, t, 0.278_868_07);
    p = M::fma(p, t, -0.186_288_06);
    p = M::fma(p, t, 0.096_784_18);
    p = M::fma(p, t, 0.374_091_96);
    p = M::fma(p, t, 1.000_023_68);
    p = M::fma(p, t, -1.265_512_23);
    (t, exp_sum::<M>(-sq_hi, p - sq_lo))
}

/// Beyond this |x| both `e^{-x²}` and `e^{-x²/2}` are 0 in f32; clamping keeps the exact
/// square of ±inf (inf - inf) out of them.
const SQUARE_ARG_MAX: f32 = 20.0;

/// `x²` as an exact pair (see [`Fma::square`]), for |x| clamped to [`SQUARE_ARG_MAX`]
/// (NaN stays NaN).
#[inline(always)]
fn square<M: Fma>(x: f32) -> (f32, f32) {
    let ax = x.abs();
    M::square(if ax > SQUARE_ARG_MAX {
        SQUARE_ARG_MAX
    } else {
        ax
    })
}

/// `exp(-x²/2)` with the square's rounding error carried along.
#[inline(always)]
fn exp_neg_half_square<M: Fma>(x: f32) -> f32 {
    let (hi, lo) = square::<M>(x);
    exp_sum::<M>(-0.5 * hi, -0.5 * lo)
}

/// `exp(-x²)` with the square's rounding error carried along.
#[inline(always)]
fn exp_neg_square<M: Fma>(x: f32) -> f32 {
    let (hi, lo) = square::<M>(x);
    exp_sum::<M>(-hi, -lo)
}

/// `c·Φ(x)` for a factor `c` (Φ the standard normal CDF; NaN for NaN). In the lower tail
/// `c` joins before the last product, so `x·Φ(x)` near the subnormal range rounds once.
#[inline(always)]
fn scaled_normal_cdf<M: Fma>(c: f32, x: f32) -> f32 {
    // erfc(|x|/√2), with (|x|/√2)² = x²/2 from the exact square (halving is exact).
    let (hi, lo) = square::<M>(x);
    let (t, e) = erfc_factors::<M>(x.abs() * FRAC_1_SQRT_2, 0.5 * hi, 0.5 * lo);
    let half_t = 0.5 * t;
    // Near 0, Φ = (1 + erf(x/√2))/2 with erf's series is more accurate than 1 - erfc/2
    // (whose few-ULP relative error in erfc ≈ 1 is most of Φ's last bits).
    let z = x * FRAC_1_SQRT_2;
    let central = c * M::fma(0.5, erf_series::<M>(z), 0.5);
    if z.abs() < ERF_SERIES_MAX {
        central
    } else if x < 0.0 {
        (c * half_t) * e
    } else {
        c * (1.0 - half_t * e)
    }
}

/// erfc x.
#[inline(always)]
pub(crate) fn erfc<M: Fma>(x: f32) -> f32 {
    let (hi, lo) = square::<M>(x);
    let (t, e) = erfc_factors::<M>(x.abs(), hi, lo);
    let tail = t * e;
    if x < 0.0 {
        2.0 - tail
    } else {
        tail
    }
}

/// Below this |x|, erf is its Taylor series; above, `1 - erfc`.
const ERF_SERIES_MAX: f32 = 0.5;

/// erf x for |x| < [`ERF_SERIES_MAX`]: the Taylor series `(2/√π)·Σ (-1)ⁿ x²ⁿ⁺¹ / (n!(2n+1))`
/// to n = 7 (truncation error below 10⁻⁹ relative).
#[inline(always)]
fn erf_series<M: Fma>(x: f32) -> f32 {
    let x2 = x * x;
    let mut s = -1.492_565_035_840_625e-5_f32;
    s = M::fma(s, x2, 1.205_533_298_178_966_4e-4);
    s = M::fma(s, x2, -8.548_327_023_450_852e-4);
    s = M::fma(s, x2, 5.223_977_625_442_188e-3);
    s = M::fma(s, x2, -2.686_617_064_513_125_2e-2);
    s = M::fma(s, x2, 1.128_379_167_095_512_6e-1);
    s = M::fma(s, x2, -3.761_263_890_318_375_4e-1);
    s = M::fma(s, x2, FRAC_2_SQRT_PI);
    s * x
}

/// erf x: [`erf_series`] near 0, `±(1 - erfc |x|)` beyond.
#[inline(always)]
pub(crate) fn erf<M: Fma>(x: f32) -> f32 {
    let small = erf_series::<M>(x);
    let big = (1.0 - erfc::<M>(x.abs())).copysign(x);
    if x.abs() < ERF_SERIES_MAX {
        small
    } else if x.is_nan() {
        x
    } else {
        big
    }
}

super::func1! {
    /// `erf x`.
    Erf => erf;
    /// `erfc x`.
    Erfc => erfc;
}
/// GELU, `x·Φ(x)`.
pub(crate) struct Gelu;
/// `g · (2/√π)·e^{-x²}` (the backward of erf).
pub(crate) struct MulErfGrad;
/// `g · -(2/√π)·e^{-x²}` (the backward of erfc).
pub(crate) struct MulErfcGrad;
/// `g · (Φ(x) + x·φ(x))` (the backward of GELU).
pub(crate) struct MulGeluGrad;

impl Func1 for Gelu {
    #[inline(always)]
    fn eval<M: Fma>(&self, x: f32) -> f32 {
        // x·Φ(x): +inf gives inf and -inf NaN (-inf·0), as PyTorch's f64 GELU does (its f32
        // kernel gives NaN for +inf too).
        scaled_normal_cdf::<M>(x, x)
    }
}
impl Func2 for MulErfGrad {
    #[inline(always)]
    fn eval<M: Fma>(&self, g: f32, x: f32) -> f32 {
        g * (FRAC_2_SQRT_PI * exp_neg_square::<M>(x))
    }
}
impl Func2 for MulErfcGrad {
    #[inline(always)]
    fn eval<M: Fma>(&self, g: f32, x: f32) -> f32 {
        g * (-FRAC_2_SQRT_PI * exp_neg_square::<M>(x))
    }
}
impl Func2 for MulGeluGrad {
    #[inline(always)]
    fn eval<M: Fma>(&self, g: f32, x: f32) -> f32 {
        // x·φ(x) as (x/√(2π))·e^{-x²/2}: one rounding where the product is subnormal.
        let x_pdf = (x * FRAC_1_SQRT_2PI) * exp_neg_half_square::<M>(x);
        g * (scaled_normal_cdf::<M>(1.0, x) + x_pdf)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check1, max_ulp, sweep};
    use super::super::{map1, map2, Lhs, Separate};
    use super::*;

    fn cdf64(x: f64) -> f64 {
        0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
    }

    #[test]
    fn erf_erfc_accuracy() {
        check1(Erf, libm::erf, f32::MAX, 4.0);
        check1(Erfc, libm::erfc, f32::MAX, 8.0);
        let e = map1(&Erf, &[-0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN]);
        assert_eq!(e[0].to_bits(), (-0.0f32).to_bits());
        assert_eq!(&e[1..3], &[1.0, -1.0]);
        assert!(e[3].is_nan());
        let c = map1(&Erfc, &[f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 10.0]);
        assert_eq!(&c[..2], &[0.0, 2.0]);
        assert!(c[2].is_nan());
        // erfc(10) ≈ 2.09·10⁻⁴⁵: a subnormal, not flushed to 0.
        assert!(c[3] > 0.0);
    }

    #[test]
    fn gelu_accuracy() {
        check1(Gelu, |x| x * cdf64(x), f32::MAX, 8.0);
        let y = map1(
            &Gelu,
            &[f32::INFINITY, f32::NEG_INFINITY, f32::NAN, -0.0, -8.0],
        );
        assert_eq!(y[0], f32::INFINITY);
        assert!(y[1].is_nan() && y[2].is_nan());
        assert_eq!(y[3], 0.0);
        // PyTorch's erf form gives 0 here; the true value is -4.9·10⁻¹⁵.
        assert!((y[4] as f64 / (-8.0 * cdf64(-8.0)) - 1.0).abs() < 1e-6);
    }

    /// The backward maps against f64, in ULP of the size of their terms (the derivative of
    /// GELU crosses zero near x = -0.75, where any formula loses digits to cancellation).
    #[test]
    fn backward_maps_accuracy() {
        let xs = sweep(f32::MAX);
        let gelu = map2(&MulGeluGrad, Lhs::Splat(1.0), &xs);
        let erf = map2(&MulErfGrad, Lhs::Splat(1.0), &xs);
        let erfc = map2(&MulErfcGrad, Lhs::Splat(1.0), &xs);
        assert!(erf
            .iter()
            .zip(&erfc)
            .all(|(a, b)| a.to_bits() == (-b).to_bits() || (a.is_nan() && b.is_nan())));
        let ulp = |v: f64| (v.abs().max(f32::MIN_POSITIVE as f64)) * f32::EPSILON as f64;
        for ((&x, &dg), &de) in xs.iter().zip(&gelu).zip(&erf) {
            let x = x as f64;
            if x.is_nan() || x.is_infinite() {
                // NaN, and inf·φ(inf) = inf·0 in GELU's (as in the composite rule).
                assert!(dg.is_nan(), "gelu backward at {x}: {dg}");
                // erf's: NaN for NaN, e^{-inf} = 0 for ±inf.
                assert!(
                    if x.is_nan() { de.is_nan() } else { de == 0.0 },
                    "{x}: {de}"
                );
                continue;
            }
            let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
            let scale = cdf64(x) + (x * pdf).abs();
            let err = (dg as f64 - (cdf64(x) + x * pdf)).abs() / ulp(scale);
            assert!(err <= 8.0, "gelu backward at {x:e}: {err} ULP");
            let want = std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp();
            let err = (de as f64 - want).abs() / ulp(want);
            assert!(err <= 4.0, "erf backward at {x:e}: {err} ULP");
        }
        // Scalar fallback (no FMA) stays close too.
        let xs: Vec<f32> = (0..20_001).map(|i| (i as f32 - 10_000.0) * 1e-3).collect();
        let got: Vec<f32> = xs.iter().map(|&x| Gelu.eval::<Separate>(x)).collect();
        let (e, at) = max_ulp(&xs, &got, |x| x * cdf64(x));
        assert!(e <= 16.0, "gelu without FMA: {e} ULP at {at:e}");
    }
}

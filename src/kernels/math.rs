//! Scalar special functions the standard library lacks, from the `libm` crate (a port of
//! musl's libm: well tested, pure Rust, no C).

/// The error function (used by GELU).
pub(crate) fn erf(x: f64) -> f64 {
    libm::erf(x)
}

//! Thread-local switches: whether ops record a graph (grad mode) and whether backward checks
//! every gradient for NaN/inf (anomaly mode). Like PyTorch's, they are per thread.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
    static ANOMALY_ENABLED: Cell<bool> = const { Cell::new(false) };
}

/// True when ops on this thread record the graph for backward.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Turns graph recording on or off for this thread; returns the previous setting.
/// Prefer [`no_grad`] or [`NoGradGuard`], which restore the setting for you.
pub fn set_grad_enabled(enabled: bool) -> bool {
    GRAD_ENABLED.with(|g| g.replace(enabled))
}

/// Runs `f` with graph recording off on this thread, like `with torch.no_grad():`.
///
/// ```
/// use tensorgrad::{no_grad, tensor};
/// let x = tensor!(2.0).set_requires_grad(true);
/// let y = no_grad(|| &x * 3.0);
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = NoGradGuard::new();
    f()
}

/// Runs `f` with graph recording on, even inside [`no_grad`], like `torch.enable_grad()`.
pub fn enable_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = GradModeGuard::new(true);
    f()
}

/// Turns recording off until dropped, then restores the previous setting.
///
/// ```
/// use tensorgrad::{tensor, NoGradGuard};
/// let x = tensor!(2.0).set_requires_grad(true);
/// {
///     let _g = NoGradGuard::new();
///     assert!(!(&x + 1.0).requires_grad());
/// }
/// assert!((&x + 1.0).requires_grad());
/// ```
#[must_use = "the guard turns recording back on as soon as it is dropped"]
pub struct NoGradGuard {
    _mode: GradModeGuard,
}

impl NoGradGuard {
    /// Turns graph recording off on this thread.
    pub fn new() -> Self {
        NoGradGuard {
            _mode: GradModeGuard::new(false),
        }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

/// Sets grad mode until dropped, then restores the previous setting.
#[must_use = "the guard restores the previous mode as soon as it is dropped"]
pub struct GradModeGuard {
    previous: bool,
}

impl GradModeGuard {
    /// Sets grad mode to `enabled` on this thread.
    pub fn new(enabled: bool) -> Self {
        GradModeGuard {
            previous: set_grad_enabled(enabled),
        }
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.previous);
    }
}

/// True when anomaly detection is on for this thread.
pub fn is_anomaly_enabled() -> bool {
    ANOMALY_ENABLED.with(|a| a.get())
}

/// Turns anomaly detection on or off for this thread; returns the previous setting.
///
/// With it on, backward checks each gradient an op produces and stops at the first NaN or
/// infinite one with [`Error::Anomaly`](crate::Error::Anomaly), naming the op and where it was
/// called. It costs a scan of every gradient, so leave it off in production.
pub fn set_detect_anomaly(enabled: bool) -> bool {
    ANOMALY_ENABLED.with(|a| a.replace(enabled))
}

/// Runs `f` with anomaly detection on for this thread, like `torch.autograd.detect_anomaly()`.
pub fn detect_anomaly<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            set_detect_anomaly(self.0);
        }
    }
    let _restore = Restore(set_detect_anomaly(true));
    f()
}

//! Learning-rate schedules, like `torch.optim.lr_scheduler`.

use super::Optimizer;

/// A learning-rate schedule, like `torch.optim.lr_scheduler.LRScheduler`.
///
/// Creating a scheduler records the optimizer's learning rate as the base rate (PyTorch's
/// `initial_lr`, epoch 0). Each [`step`](Self::step), called after `optimizer.step()` once per
/// epoch, advances the epoch and sets the optimizer's new rate, computed with PyTorch's own
/// recursive formula (from the optimizer's current rate), so the rates agree to the last bit
/// with PyTorch's `get_last_lr()`.
pub trait LrScheduler {
    /// Advances one epoch and sets `optimizer`'s learning rate, like `scheduler.step()`.
    fn step(&mut self, optimizer: &mut dyn Optimizer);

    /// The rate set by the last step (or the base rate before any), like
    /// `scheduler.get_last_lr()[0]`.
    fn get_last_lr(&self) -> f64;

    /// Epochs stepped so far, like `scheduler.last_epoch`.
    fn last_epoch(&self) -> usize;
}

/// Multiplies the learning rate by `gamma` every `step_size` epochs, like
/// `torch.optim.lr_scheduler.StepLR`.
///
/// ```
/// use tensorgrad::optim::{LrScheduler, Optimizer, Sgd, StepLR};
/// let mut opt = Sgd::new(vec![], 1.0);
/// let mut sched = StepLR::new(&mut opt, 2, 0.5);
/// let mut lrs = vec![sched.get_last_lr()];
/// for _ in 0..4 {
///     opt.step()?;
///     sched.step(&mut opt);
///     lrs.push(sched.get_last_lr());
/// }
/// assert_eq!(lrs, [1.0, 1.0, 0.5, 0.5, 0.25]);
/// assert_eq!(opt.lr(), 0.25);
/// # Ok::<(), tensorgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct StepLR {
    step_size: usize,
    gamma: f64,
    last_epoch: usize,
    last_lr: f64,
}

impl StepLR {
    /// A schedule for `optimizer` decaying by `gamma` every `step_size` epochs (PyTorch's
    /// default gamma is 0.1).
    ///
    /// # Panics
    /// If `step_size` is 0 (PyTorch fails with a division by zero on the first step).
    #[track_caller]
    pub fn new(optimizer: &mut dyn Optimizer, step_size: usize, gamma: f64) -> StepLR {
        assert!(step_size > 0, "StepLR: step_size must be at least 1");
        StepLR {
            step_size,
            gamma,
            last_epoch: 0,
            last_lr: optimizer.lr(),
        }
    }
}

impl LrScheduler for StepLR {
    fn step(&mut self, optimizer: &mut dyn Optimizer) {
        self.last_epoch += 1;
        let lr = optimizer.lr();
        let lr = if self.last_epoch.is_multiple_of(self.step_size) {
            lr * self.gamma
        } else {
            lr
        };
        optimizer.set_lr(lr);
        self.last_lr = lr;
    }

    fn get_last_lr(&self) -> f64 {
        self.last_lr
    }

    fn last_epoch(&self) -> usize {
        self.last_epoch
    }
}

/// Multiplies the learning rate by `gamma` every epoch, like
/// `torch.optim.lr_scheduler.ExponentialLR`.
#[derive(Clone, Debug)]
pub struct ExponentialLR {
    gamma: f64,
    last_epoch: usize,
    last_lr: f64,
}

impl ExponentialLR {
    /// A schedule for `optimizer` decaying by `gamma` every epoch.
    pub fn new(optimizer: &mut dyn Optimizer, gamma: f64) -> ExponentialLR {
        ExponentialLR {
            gamma,
            last_epoch: 0,
            last_lr: optimizer.lr(),
        }
    }
}

impl LrScheduler for ExponentialLR {
    fn step(&mut self, optimizer: &mut dyn Optimizer) {
        self.last_epoch += 1;
        let lr = optimizer.lr() * self.gamma;
        optimizer.set_lr(lr);
        self.last_lr = lr;
    }

    fn get_last_lr(&self) -> f64 {
        self.last_lr
    }

    fn last_epoch(&self) -> usize {
        self.last_epoch
    }
}

/// Cosine annealing from the base rate down to `eta_min` over `t_max` epochs, like
/// `torch.optim.lr_scheduler.CosineAnnealingLR`:
/// `eta_min + (base − eta_min)(1 + cos(π·epoch / t_max)) / 2`, computed with PyTorch's
/// recursive form. Past `t_max` the rate climbs back up, as in PyTorch (a cosine without
/// restarts).
///
/// ```
/// use tensorgrad::optim::{CosineAnnealingLR, LrScheduler, Optimizer, Sgd};
/// let mut opt = Sgd::new(vec![], 0.1);
/// let mut sched = CosineAnnealingLR::new(&mut opt, 4, 0.0);
/// for _ in 0..4 {
///     opt.step()?;
///     sched.step(&mut opt);
/// }
/// assert!(sched.get_last_lr().abs() < 1e-12);      // annealed to eta_min after t_max epochs
/// # Ok::<(), tensorgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CosineAnnealingLR {
    t_max: usize,
    eta_min: f64,
    base_lr: f64,
    last_epoch: usize,
    last_lr: f64,
}

impl CosineAnnealingLR {
    /// A schedule for `optimizer` reaching `eta_min` after `t_max` epochs (PyTorch's
    /// `T_max`, `eta_min`).
    ///
    /// # Panics
    /// If `t_max` is 0 (PyTorch divides by it).
    #[track_caller]
    pub fn new(optimizer: &mut dyn Optimizer, t_max: usize, eta_min: f64) -> CosineAnnealingLR {
        assert!(t_max > 0, "CosineAnnealingLR: t_max must be at least 1");
        let lr = optimizer.lr();
        CosineAnnealingLR {
            t_max,
            eta_min,
            base_lr: lr,
            last_epoch: 0,
            last_lr: lr,
        }
    }
}

impl LrScheduler for CosineAnnealingLR {
    fn step(&mut self, optimizer: &mut dyn Optimizer) {
        use std::f64::consts::PI;
        self.last_epoch += 1;
        let (e, t) = (self.last_epoch as i64, self.t_max as i64);
        let tf = self.t_max as f64;
        let lr = optimizer.lr();
        // PyTorch's get_lr, expression for expression (Python's % is rem_euclid).
        let lr = if (e - 1 - t).rem_euclid(2 * t) == 0 {
            lr + (self.base_lr - self.eta_min) * (1.0 - (PI / tf).cos()) / 2.0
        } else {
            (1.0 + (PI * e as f64 / tf).cos()) / (1.0 + (PI * (e - 1) as f64 / tf).cos())
                * (lr - self.eta_min)
                + self.eta_min
        };
        optimizer.set_lr(lr);
        self.last_lr = lr;
    }

    fn get_last_lr(&self) -> f64 {
        self.last_lr
    }

    fn last_epoch(&self) -> usize {
        self.last_epoch
    }
}

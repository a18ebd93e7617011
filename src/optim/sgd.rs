//! Stochastic gradient descent with momentum, dampening, weight decay and Nesterov momentum.

use super::{check_hyper, fused, Float, Optimizer};
use crate::error::{Error, Result};
use crate::tensor::{with_dtype, Tensor};

/// Stochastic gradient descent, like `torch.optim.SGD` (single-tensor algorithm).
///
/// For each parameter `p` with gradient `g`, in this order:
///
/// ```text
/// g = g + weight_decay · p                          (if weight_decay ≠ 0)
/// b = g  on the first step,  else  b = momentum · b + (1 − dampening) · g
/// g = g + momentum · b  (nesterov)  or  g = b       (if momentum ≠ 0)
/// p = p − lr · g
/// ```
///
/// Defaults as PyTorch's: no momentum, dampening, weight decay or Nesterov.
///
/// ```
/// use tensorgrad::optim::{Optimizer, Sgd};
/// use tensorgrad::tensor;
/// let w = tensor!([1.0]).set_requires_grad(true);
/// let mut opt = Sgd::new(vec![w.clone()], 0.1);
/// (3.0 * &w).sum().backward()?;          // gradient 3
/// opt.step()?;
/// assert_eq!(w.to_vec::<f32>(), [0.7]);  // 1 - 0.1·3
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub struct Sgd {
    params: Vec<Tensor>,
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    maximize: bool,
    /// Momentum buffer of each parameter; `None` until its first step with momentum.
    buffers: Vec<Option<Tensor>>,
}

impl Sgd {
    /// SGD over `params` with learning rate `lr`, like `SGD(params, lr=lr)`.
    pub fn new(params: Vec<Tensor>, lr: f64) -> Sgd {
        let buffers = vec![None; params.len()];
        Sgd {
            params,
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
            buffers,
        }
    }

    /// Sets the momentum factor (default 0).
    pub fn momentum(mut self, momentum: f64) -> Sgd {
        self.momentum = momentum;
        self
    }

    /// Sets the dampening of momentum (default 0).
    pub fn dampening(mut self, dampening: f64) -> Sgd {
        self.dampening = dampening;
        self
    }

    /// Sets the L2 penalty added to the gradient (default 0).
    pub fn weight_decay(mut self, weight_decay: f64) -> Sgd {
        self.weight_decay = weight_decay;
        self
    }

    /// Enables Nesterov momentum (default off; needs momentum > 0 and no dampening).
    pub fn nesterov(mut self, nesterov: bool) -> Sgd {
        self.nesterov = nesterov;
        self
    }

    /// Maximizes the objective instead of minimizing it (default off).
    pub fn maximize(mut self, maximize: bool) -> Sgd {
        self.maximize = maximize;
        self
    }

    /// PyTorch's constructor checks.
    fn validate(&self) -> Result<()> {
        check_hyper("SGD", "learning rate", self.lr, self.lr >= 0.0)?;
        check_hyper("SGD", "momentum value", self.momentum, self.momentum >= 0.0)?;
        check_hyper(
            "SGD",
            "weight_decay value",
            self.weight_decay,
            self.weight_decay >= 0.0,
        )?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid(
                "SGD",
                "Nesterov momentum requires a momentum and zero dampening",
            ));
        }
        Ok(())
    }

    /// One step for one parameter; `buf` is its momentum buffer, made on its first step.
    fn update<T: Float>(&self, p: &Tensor, g: &Tensor, buf: &mut Option<Tensor>) -> Result<()> {
        if self.weight_decay == 0.0 && self.momentum == 0.0 {
            // Plain SGD: p.add_(g, alpha=-lr) in place (maximize flips the sign, exactly as
            // negating the gradient first would).
            let alpha = if self.maximize { self.lr } else { -self.lr };
            return crate::no_grad(|| p.try_add_scaled_(g, alpha));
        }
        let k = SgdScalars::<T>::new(self);
        if self.momentum == 0.0 {
            return fused::update("SGD", g, [p], |g, [p]| k.run(p, g));
        }
        let (b, first) = match buf {
            Some(b) => (b.clone(), false),
            None => (fused::state_zeros(p), true),
        };
        fused::update("SGD", g, [p, &b], |g, [p, b]| {
            k.run_momentum(p, g, b, first)
        })?;
        *buf = Some(b);
        Ok(())
    }
}

/// The numbers of one SGD step, cast to the element type once, as PyTorch's kernels do with
/// `alpha`.
#[derive(Clone, Copy)]
struct SgdScalars<T> {
    maximize: bool,
    nesterov: bool,
    weight_decay: Option<T>,
    momentum: T,
    one_minus_dampening: T,
    neg_lr: T,
}

impl<T: Float> SgdScalars<T> {
    fn new(s: &Sgd) -> Self {
        SgdScalars {
            maximize: s.maximize,
            nesterov: s.nesterov,
            weight_decay: (s.weight_decay != 0.0).then(|| T::from_f64(s.weight_decay)),
            momentum: T::from_f64(s.momentum),
            one_minus_dampening: T::from_f64(1.0 - s.dampening),
            neg_lr: T::from_f64(-s.lr),
        }
    }

    // As Adam's loops: the numbers by value and the buffers as separate arguments, so the
    // constants stay in registers and the buffers are known not to overlap; the loops
    // vectorise (they did not while they read the numbers through a closure's captures).

    /// One chunk of a step without momentum.
    #[inline(always)]
    fn run(self, p: &mut [T], g: &[T]) {
        for (p, &g) in p.iter_mut().zip(g) {
            let g = self.decayed(*p, g);
            *p = g.mul_add(self.neg_lr, *p); // param.add_(grad, alpha=-lr)
        }
    }

    /// One chunk of a step with momentum; on the `first` step the buffer starts as the
    /// gradient.
    #[inline(always)]
    fn run_momentum(self, p: &mut [T], g: &[T], b: &mut [T], first: bool) {
        for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
            let g = self.decayed(*p, g);
            *b = if first {
                g // buf = grad.detach().clone()
            } else {
                g.mul_add(self.one_minus_dampening, *b * self.momentum) // buf.mul_(m).add_(grad, alpha=1-d)
            };
            let g = if self.nesterov {
                b.mul_add(self.momentum, g) // grad.add(buf, alpha=momentum)
            } else {
                *b
            };
            *p = g.mul_add(self.neg_lr, *p); // param.add_(grad, alpha=-lr)
        }
    }

    /// The gradient after `maximize` and weight decay: `grad.add(param, alpha=weight_decay)`.
    #[inline(always)]
    fn decayed(&self, p: T, g: T) -> T {
        let g = if self.maximize { -g } else { g };
        match self.weight_decay {
            Some(wd) => p.mul_add(wd, g),
            None => g,
        }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self) -> Result<()> {
        self.validate()?;
        for i in 0..self.params.len() {
            let p = &self.params[i];
            let Some(g) = p.grad() else { continue };
            let mut buf = self.buffers[i].take();
            let r = with_dtype!(p.dtype(), T => self.update::<T>(p, &g, &mut buf));
            self.buffers[i] = buf;
            r?;
        }
        Ok(())
    }

    fn params(&self) -> &[Tensor] {
        &self.params
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}

//! Stochastic gradient descent with momentum, dampening, weight decay and Nesterov momentum.

use super::{check_hyper, Float, Optimizer};
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

    fn update<T: Float>(
        &self,
        p: &Tensor,
        g: &Tensor,
        buf: Option<&Tensor>,
    ) -> Result<Option<Tensor>> {
        if self.weight_decay == 0.0 && self.momentum == 0.0 {
            // Plain SGD: p.add_(g, alpha=-lr) in place (maximize flips the sign, exactly as
            // negating the gradient first would).
            let alpha = if self.maximize { self.lr } else { -self.lr };
            crate::no_grad(|| p.try_add_scaled_(g, alpha))?;
            return Ok(None);
        }
        let pv = if self.weight_decay != 0.0 {
            p.to_vec::<T>()
        } else {
            Vec::new()
        };
        let mut gv = g.to_vec::<T>();
        if self.maximize {
            gv.iter_mut().for_each(|g| *g = -*g);
        }
        // Scalars are cast to the element type, as PyTorch's kernels do with `alpha`.
        let wd = T::from_f64(self.weight_decay);
        if self.weight_decay != 0.0 {
            for (g, &p) in gv.iter_mut().zip(&pv) {
                *g = p.mul_add(wd, *g); // grad.add(param, alpha=weight_decay)
            }
        }
        let mut new_buf = None;
        if self.momentum != 0.0 {
            let m = T::from_f64(self.momentum);
            let b = match buf {
                None => gv.clone(), // buf = grad.detach().clone()
                Some(b) => {
                    let one_minus_d = T::from_f64(1.0 - self.dampening);
                    let mut bv = b.to_vec::<T>();
                    for (b, &g) in bv.iter_mut().zip(&gv) {
                        *b = g.mul_add(one_minus_d, *b * m); // buf.mul_(m).add_(grad, alpha=1-d)
                    }
                    bv
                }
            };
            if self.nesterov {
                for (g, &b) in gv.iter_mut().zip(&b) {
                    *g = b.mul_add(m, *g); // grad.add(buf, alpha=momentum)
                }
            } else {
                gv.clone_from(&b);
            }
            new_buf = Some(Tensor::from_vec(b, p.shape())?);
        }
        // param.add_(grad, alpha=-lr)
        let step = Tensor::from_vec(gv, p.shape())?;
        crate::no_grad(|| p.try_add_scaled_(&step, -self.lr))?;
        Ok(new_buf)
    }
}

impl Optimizer for Sgd {
    fn step(&mut self) -> Result<()> {
        self.validate()?;
        for i in 0..self.params.len() {
            let p = &self.params[i];
            let Some(g) = p.grad() else { continue };
            let buf = self.buffers[i].as_ref();
            let new_buf = with_dtype!(p.dtype(), T => self.update::<T>(p, &g, buf)?);
            if new_buf.is_some() {
                self.buffers[i] = new_buf;
            }
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

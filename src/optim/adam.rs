//! Adam and AdamW.

use super::{check_hyper, lerp, write_param, Float, Optimizer};
use crate::error::Result;
use crate::tensor::{with_dtype, Tensor};

/// The state Adam keeps for one parameter.
#[derive(Clone)]
struct AdamState {
    /// Steps taken by this parameter (parameters without a gradient do not advance).
    step: u64,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    /// Running maximum of `exp_avg_sq` (amsgrad only).
    max_exp_avg_sq: Option<Tensor>,
}

/// The algorithm shared by [`Adam`] and [`AdamW`]; they differ in how weight decay applies.
#[derive(Clone)]
struct AdamCore {
    params: Vec<Tensor>,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    maximize: bool,
    decoupled: bool,
    state: Vec<Option<AdamState>>,
}

impl AdamCore {
    fn new(params: Vec<Tensor>, lr: f64, weight_decay: f64, decoupled: bool) -> AdamCore {
        let state = vec![None; params.len()];
        AdamCore {
            params,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            amsgrad: false,
            maximize: false,
            decoupled,
            state,
        }
    }

    fn name(&self) -> &'static str {
        if self.decoupled {
            "AdamW"
        } else {
            "Adam"
        }
    }

    /// PyTorch's constructor checks.
    fn validate(&self) -> Result<()> {
        let op = self.name();
        check_hyper(op, "learning rate", self.lr, self.lr >= 0.0)?;
        check_hyper(op, "epsilon value", self.eps, self.eps >= 0.0)?;
        check_hyper(
            op,
            "beta parameter at index 0",
            self.beta1,
            (0.0..1.0).contains(&self.beta1),
        )?;
        check_hyper(
            op,
            "beta parameter at index 1",
            self.beta2,
            (0.0..1.0).contains(&self.beta2),
        )?;
        check_hyper(
            op,
            "weight_decay value",
            self.weight_decay,
            self.weight_decay >= 0.0,
        )
    }

    /// One step of `_single_tensor_adam` for one parameter, operation for operation.
    fn update<T: Float>(&self, p: &Tensor, g: &Tensor, st: &mut AdamState) -> Result<()> {
        let mut pv = p.to_vec::<T>();
        let mut gv = g.to_vec::<T>();
        if self.maximize {
            gv.iter_mut().for_each(|g| *g = -*g);
        }
        st.step += 1;
        if self.weight_decay != 0.0 {
            if self.decoupled {
                let f = T::from_f64(1.0 - self.lr * self.weight_decay);
                pv.iter_mut().for_each(|p| *p = *p * f); // param.mul_(1 - lr * wd)
            } else {
                let wd = T::from_f64(self.weight_decay);
                for (g, &p) in gv.iter_mut().zip(&pv) {
                    *g = p.mul_add(wd, *g); // grad.add(param, alpha=wd)
                }
            }
        }
        let mut m = st.exp_avg.to_vec::<T>();
        let mut v = st.exp_avg_sq.to_vec::<T>();
        let w1 = T::from_f64(1.0 - self.beta1);
        let b2 = T::from_f64(self.beta2);
        let w2 = T::from_f64(1.0 - self.beta2);
        for ((m, v), &g) in m.iter_mut().zip(v.iter_mut()).zip(&gv) {
            *m = lerp(*m, g, w1); // exp_avg.lerp_(grad, 1 - beta1)
            *v = (w2 * g).mul_add(g, *v * b2); // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        }
        // Python floats: `beta ** step` with a float step, and `** 0.5`.
        let step = st.step as f64;
        let bias_correction1 = 1.0 - self.beta1.powf(step);
        let bias_correction2 = 1.0 - self.beta2.powf(step);
        let step_size = self.lr / bias_correction1;
        let bc2_sqrt = T::from_f64(bias_correction2.powf(0.5));
        let eps = T::from_f64(self.eps);
        let neg_step = T::from_f64(-step_size);
        let max_v = match &st.max_exp_avg_sq {
            Some(mx) => {
                let mut mx = mx.to_vec::<T>();
                mx.iter_mut().zip(&v).for_each(|(a, &b)| *a = a.max(b));
                Some(mx)
            }
            None => None,
        };
        let second = max_v.as_ref().unwrap_or(&v);
        for ((p, &m), &s) in pv.iter_mut().zip(&m).zip(second) {
            let denom = s.sqrt() / bc2_sqrt + eps; // (v.sqrt() / bc2_sqrt).add_(eps)
            *p = *p + neg_step * m / denom; // param.addcdiv_(exp_avg, denom, value=-step_size)
        }
        let shape = p.shape();
        st.exp_avg = Tensor::from_vec(m, shape)?;
        st.exp_avg_sq = Tensor::from_vec(v, shape)?;
        if let Some(mx) = max_v {
            st.max_exp_avg_sq = Some(Tensor::from_vec(mx, shape)?);
        }
        write_param(p, pv)
    }

    fn step(&mut self) -> Result<()> {
        self.validate()?;
        for i in 0..self.params.len() {
            let p = self.params[i].clone();
            let Some(g) = p.grad() else { continue };
            let mut st = self.state[i].take().unwrap_or_else(|| AdamState {
                step: 0,
                exp_avg: Tensor::zeros_like(&p),
                exp_avg_sq: Tensor::zeros_like(&p),
                max_exp_avg_sq: self.amsgrad.then(|| Tensor::zeros_like(&p)),
            });
            let r = with_dtype!(p.dtype(), T => self.update::<T>(&p, &g, &mut st));
            self.state[i] = Some(st);
            r?;
        }
        Ok(())
    }
}

macro_rules! adam_common {
    ($ty:ident) => {
        impl $ty {
            /// Sets the coefficients of the running averages of the gradient and its square
            /// (default `(0.9, 0.999)`).
            pub fn betas(mut self, beta1: f64, beta2: f64) -> $ty {
                self.0.beta1 = beta1;
                self.0.beta2 = beta2;
                self
            }

            /// Sets the term added to the denominator (default `1e-8`).
            pub fn eps(mut self, eps: f64) -> $ty {
                self.0.eps = eps;
                self
            }

            /// Sets the weight decay.
            pub fn weight_decay(mut self, weight_decay: f64) -> $ty {
                self.0.weight_decay = weight_decay;
                self
            }

            /// Uses the AMSGrad variant (the running maximum of the second moment; default
            /// off).
            pub fn amsgrad(mut self, amsgrad: bool) -> $ty {
                self.0.amsgrad = amsgrad;
                self
            }

            /// Maximizes the objective instead of minimizing it (default off).
            pub fn maximize(mut self, maximize: bool) -> $ty {
                self.0.maximize = maximize;
                self
            }

            /// Steps taken so far by parameter `index` (0 before its first update), like
            /// `optimizer.state[p]["step"]`.
            pub fn step_count(&self, index: usize) -> u64 {
                self.0
                    .state
                    .get(index)
                    .and_then(|s| s.as_ref())
                    .map_or(0, |s| s.step)
            }
        }

        impl Optimizer for $ty {
            fn step(&mut self) -> Result<()> {
                self.0.step()
            }

            fn params(&self) -> &[Tensor] {
                &self.0.params
            }

            fn lr(&self) -> f64 {
                self.0.lr
            }

            fn set_lr(&mut self, lr: f64) {
                self.0.lr = lr;
            }
        }
    };
}

/// Adam, like `torch.optim.Adam` (single-tensor algorithm, `capturable=False`).
///
/// For each parameter `p` with gradient `g` at its step `t`:
///
/// ```text
/// g = g + weight_decay · p                        (L2 penalty, if weight_decay ≠ 0)
/// m = lerp(m, g, 1 − β₁)                          (m + (1 − β₁)(g − m))
/// v = β₂ · v + (1 − β₂) · g²
/// v̂ = max(v̂, v)                                  (amsgrad)
/// p = p − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)     (√v̂ with amsgrad)
/// ```
///
/// Defaults as PyTorch's: betas (0.9, 0.999), eps 1e-8, no weight decay, no amsgrad.
///
/// ```
/// use tensorgrad::optim::{Adam, Optimizer};
/// use tensorgrad::tensor;
/// let w = tensor!([1.0, -1.0]).set_requires_grad(true);
/// let mut opt = Adam::new(vec![w.clone()], 0.1).betas(0.9, 0.99);
/// w.sum().backward()?;
/// opt.step()?;                                   // the first step moves each weight by lr
/// assert_eq!(w.to_vec::<f32>(), [0.9, -1.1]);
/// # Ok::<(), tensorgrad::Error>(())
/// ```
#[derive(Clone)]
pub struct Adam(AdamCore);

impl Adam {
    /// Adam over `params` with learning rate `lr`, like `Adam(params, lr=lr)`.
    pub fn new(params: Vec<Tensor>, lr: f64) -> Adam {
        Adam(AdamCore::new(params, lr, 0.0, false))
    }
}

adam_common!(Adam);

/// AdamW, like `torch.optim.AdamW`: Adam with decoupled weight decay, `p = p · (1 − lr ·
/// weight_decay)` before the Adam update instead of adding `weight_decay · p` to the
/// gradient. Default weight decay 0.01, as PyTorch's; other defaults as [`Adam`].
///
/// ```
/// use tensorgrad::optim::{AdamW, Optimizer};
/// use tensorgrad::tensor;
/// let w = tensor!([2.0]).set_requires_grad(true);
/// let mut opt = AdamW::new(vec![w.clone()], 0.1).weight_decay(0.5);
/// w.set_grad(Some(tensor!([0.0])));    // no gradient signal: only the decay acts
/// opt.step()?;
/// assert_eq!(w.to_vec::<f32>(), [1.9]);  // 2 · (1 − 0.1 · 0.5)
/// # Ok::<(), tensorgrad::Error>(())
/// ```
#[derive(Clone)]
pub struct AdamW(AdamCore);

impl AdamW {
    /// AdamW over `params` with learning rate `lr` and weight decay 0.01, like
    /// `AdamW(params, lr=lr)`.
    pub fn new(params: Vec<Tensor>, lr: f64) -> AdamW {
        AdamW(AdamCore::new(params, lr, 1e-2, true))
    }
}

adam_common!(AdamW);

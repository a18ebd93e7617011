//! Autograd methods on `Tensor`: requires_grad, .grad, backward, detach, hooks.

use crate::autograd::engine;
use crate::autograd::node::{GradMeta, Hook};
use crate::error::{Error, OrPanic, Result};
use crate::tensor::Tensor;
use std::sync::Arc;

/// Options for [`Tensor::backward_with`], like `tensor.backward(gradient, retain_graph, create_graph)`.
#[derive(Clone, Default)]
pub struct BackwardOptions {
    /// The gradient of the output, same shape and dtype; required for outputs with more than
    /// one element. `None` means ones.
    pub gradient: Option<Tensor>,
    /// Keep the graph (saved tensors) so backward can run through it again. Defaults to
    /// `create_graph`.
    pub retain_graph: Option<bool>,
    /// Record the backward pass so the resulting `.grad` can be differentiated again.
    pub create_graph: bool,
}

impl BackwardOptions {
    /// Ones as the output gradient, graph freed afterwards, no graph of the backward pass.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the output gradient.
    pub fn gradient(mut self, g: &Tensor) -> Self {
        self.gradient = Some(g.clone());
        self
    }
    /// Keeps (or frees) the graph after backward.
    pub fn retain_graph(mut self, retain: bool) -> Self {
        self.retain_graph = Some(retain);
        self
    }
    /// Records the backward pass so gradients can be differentiated again.
    pub fn create_graph(mut self, create: bool) -> Self {
        self.create_graph = create;
        self
    }
}

/// Pairs each output with its incoming gradient, checking what PyTorch checks.
pub(crate) fn roots_with_grads(
    op: &'static str,
    outputs: &[&Tensor],
    grads: Option<&[Tensor]>,
) -> Result<Vec<(Tensor, Tensor)>> {
    if let Some(g) = grads {
        if g.len() != outputs.len() {
            return Err(Error::autograd(
                op,
                format!(
                    "got {} output gradient(s) for {} output(s); pass one per output",
                    g.len(),
                    outputs.len()
                ),
            ));
        }
    }
    outputs
        .iter()
        .enumerate()
        .map(|(i, &out)| {
            if !out.requires_grad() {
                return Err(Error::autograd(
                    op,
                    format!(
                        "output {i} (shape {:?}) does not require grad and has no grad_fn, so there is nothing to differentiate; call .set_requires_grad(true) on the input tensors before computing it, and do not compute it inside no_grad",
                        out.shape()
                    ),
                ));
            }
            let grad = match grads.map(|g| &g[i]) {
                Some(g) => {
                    if g.shape() != out.shape() {
                        return Err(Error::shape(op, g.shape(), out.shape(), format!("the gradient for output {i} must have the output's shape")));
                    }
                    if g.dtype() != out.dtype() {
                        return Err(Error::DTypeMismatch { op, lhs: g.dtype(), rhs: out.dtype() });
                    }
                    g.clone()
                }
                None => {
                    if out.numel() != 1 {
                        return Err(Error::autograd(
                            op,
                            format!(
                                "grad can be implicitly created only for one-element outputs, but output {i} has shape {:?}; reduce it first (e.g. .sum()) or pass its gradient with BackwardOptions::gradient",
                                out.shape()
                            ),
                        ));
                    }
                    Tensor::ones_like(out)
                }
            };
            Ok((out.clone(), grad))
        })
        .collect()
}

impl Tensor {
    /// True when ops on this tensor are recorded for backward: it is a leaf marked with
    /// [`set_requires_grad`](Self::set_requires_grad), or it was computed from one.
    pub fn requires_grad(&self) -> bool {
        self.0.grad_fn.is_some() || self.0.meta().is_some_and(|m| m.requires_grad())
    }

    /// True for tensors not computed by a recorded op (created by the user, or detached).
    pub fn is_leaf(&self) -> bool {
        self.0.grad_fn.is_none()
    }

    /// Marks a leaf as needing gradients (in place, like `requires_grad_()`), and returns a
    /// handle to it, so it chains: `tensor!(3.0).set_requires_grad(true)`.
    ///
    /// # Panics
    /// When turning it off on a non-leaf; see [`try_set_requires_grad`](Self::try_set_requires_grad).
    #[track_caller]
    pub fn set_requires_grad(&self, requires_grad: bool) -> Tensor {
        self.try_set_requires_grad(requires_grad).or_panic()
    }

    /// [`set_requires_grad`](Self::set_requires_grad) that returns an error instead of panicking.
    pub fn try_set_requires_grad(&self, requires_grad: bool) -> Result<Tensor> {
        if self.0.grad_fn.is_some() {
            if requires_grad {
                return Ok(self.clone());
            }
            return Err(Error::autograd(
                "set_requires_grad",
                format!("only leaf tensors can change requires_grad, and this tensor (shape {:?}) was computed by {}; use .detach() for a copy that does not require grad", self.shape(), self.grad_fn_name().unwrap_or("an op")),
            ));
        }
        let meta = self.grad_meta();
        meta.requires_grad
            .store(requires_grad, std::sync::atomic::Ordering::Relaxed);
        Ok(self.clone())
    }

    /// The gradient accumulated by backward, like `tensor.grad`: set for leaves that require
    /// grad and for non-leaves after [`retain_grad`](Self::retain_grad). `None` until then.
    pub fn grad(&self) -> Option<Tensor> {
        self.0.meta().and_then(|m| m.grad.lock().clone())
    }

    /// Replaces the stored gradient, like assigning `tensor.grad = g`.
    ///
    /// # Panics
    /// If `g`'s shape or dtype differs from the tensor's.
    #[track_caller]
    pub fn set_grad(&self, g: Option<Tensor>) {
        if let Some(g) = &g {
            assert!(
                g.shape() == self.shape() && g.dtype() == self.dtype(),
                "set_grad: the gradient must have the tensor's shape {:?} and dtype {}, got shape {:?} and dtype {}",
                self.shape(),
                self.dtype(),
                g.shape(),
                g.dtype()
            );
        }
        let meta = self.grad_meta();
        *meta.grad.lock() = g;
    }

    /// Clears the stored gradient (sets `.grad` to `None`, like `optimizer.zero_grad()`).
    /// To zero it in place instead, use `t.grad().unwrap().zero_()`.
    pub fn zero_grad(&self) {
        if let Some(m) = self.0.meta() {
            *m.grad.lock() = None;
        }
    }

    /// A new tensor sharing this one's data but cut from the graph (never requires grad).
    /// In-place changes to either are visible in both, as in PyTorch.
    pub fn detach(&self) -> Tensor {
        self.view_with(self.layout().clone())
    }

    /// PyTorch's grad_fn name of the op that produced this tensor, e.g. `"MulBackward0"`.
    pub fn grad_fn_name(&self) -> Option<&'static str> {
        self.0.grad_fn.as_ref().map(|n| n.name)
    }

    /// This tensor's autograd state, created (not requiring grad) on first use.
    fn grad_meta(&self) -> &Arc<GradMeta> {
        self.0
            .meta_or_init(|| Arc::new(GradMeta::new(false, self.shape())))
    }

    /// Keeps this non-leaf tensor's gradient in [`grad`](Self::grad) after backward, like
    /// `retain_grad()`. No effect on leaves (they always keep theirs).
    pub fn retain_grad(&self) {
        if let Some(node) = &self.0.grad_fn {
            let meta = self.grad_meta();
            *node.hooks().retained.lock() = Some(Arc::downgrade(meta));
        }
    }

    /// Registers a hook called with this tensor's gradient during backward; returning
    /// `Some(g)` replaces the gradient, `None` keeps it. Like `tensor.register_hook`.
    ///
    /// The hook is stored with the graph (or the leaf); a hook that captures a handle to the
    /// tensor it is registered on keeps that tensor alive for as long as the hook lives.
    ///
    /// ```
    /// use tensorgrad::tensor;
    /// let x = tensor!(1.0).set_requires_grad(true);
    /// x.register_hook(|g| Some(g * 10.0))?;
    /// (3.0 * &x).backward()?;
    /// assert_eq!(x.grad().unwrap().item::<f32>(), 30.0);
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn register_hook<F>(&self, hook: F) -> Result<()>
    where
        F: Fn(&Tensor) -> Option<Tensor> + Send + Sync + 'static,
    {
        let hook: Hook = Arc::new(hook);
        if let Some(node) = &self.0.grad_fn {
            node.hooks().hooks.lock().push(hook);
            return Ok(());
        }
        match self.0.meta() {
            Some(meta) if meta.requires_grad() => {
                meta.hooks.lock().push(hook);
                Ok(())
            }
            _ => Err(Error::autograd(
                "register_hook",
                format!("cannot register a hook on a tensor (shape {:?}) that does not require grad; call .set_requires_grad(true) first", self.shape()),
            )),
        }
    }

    /// Computes the gradient of this one-element tensor with respect to every leaf that
    /// requires grad, adding it to their [`grad`](Self::grad). The graph is freed afterwards.
    ///
    /// Errors when the tensor has more than one element (use
    /// [`backward_with`](Self::backward_with) with a gradient), does not require grad, or the
    /// graph was already freed by an earlier backward.
    pub fn backward(&self) -> Result<()> {
        self.backward_with(BackwardOptions::new())
    }

    /// Backward with an explicit output gradient and graph options.
    ///
    /// ```
    /// use tensorgrad::{tensor, BackwardOptions};
    /// let x = tensor!([1.0, 2.0]).set_requires_grad(true);
    /// let y = &x * &x;
    /// y.backward_with(BackwardOptions::new().gradient(&tensor!([1.0, 1.0])).retain_graph(true))?;
    /// y.backward_with(BackwardOptions::new().gradient(&tensor!([1.0, 1.0])))?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![4.0, 8.0]);
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn backward_with(&self, opts: BackwardOptions) -> Result<()> {
        let grads = opts.gradient.map(|g| vec![g]);
        let roots = roots_with_grads("backward", &[self], grads.as_deref())?;
        engine::run(engine::Request {
            roots,
            inputs: None,
            retain_graph: opts.retain_graph.unwrap_or(opts.create_graph),
            create_graph: opts.create_graph,
        })?;
        Ok(())
    }
}

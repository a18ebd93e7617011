//! Reverse-mode automatic differentiation: the graph, the engine, grad mode, and
//! `torch.autograd`-style functions.

pub(crate) mod engine;
pub(crate) mod mode;
pub(crate) mod node;
pub(crate) mod saved;
mod tensor_api;

pub use mode::{
    detect_anomaly, enable_grad, is_anomaly_enabled, is_grad_enabled, no_grad, set_detect_anomaly,
    set_grad_enabled, GradModeGuard, NoGradGuard,
};
pub use tensor_api::BackwardOptions;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Options for [`grad_with`], mirroring `torch.autograd.grad`'s keyword arguments.
#[derive(Clone, Default)]
pub struct GradOptions {
    /// Gradient of each output; `None` means ones, which requires a one-element output.
    pub grad_outputs: Option<Vec<Tensor>>,
    /// Keep the graph for another backward. Defaults to `create_graph`.
    pub retain_graph: Option<bool>,
    /// Record the gradient computation so the result can be differentiated again.
    pub create_graph: bool,
    /// Return `None` for inputs the outputs do not depend on, instead of an error.
    pub allow_unused: bool,
}

impl GradOptions {
    /// Default options: ones as output gradients, no graph, graph freed, unused inputs an error.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the output gradients.
    pub fn grad_outputs(mut self, g: Vec<Tensor>) -> Self {
        self.grad_outputs = Some(g);
        self
    }
    /// Keeps (or frees) the graph after this call.
    pub fn retain_graph(mut self, retain: bool) -> Self {
        self.retain_graph = Some(retain);
        self
    }
    /// Makes the returned gradients differentiable.
    pub fn create_graph(mut self, create: bool) -> Self {
        self.create_graph = create;
        self
    }
    /// Allows inputs that the outputs do not depend on (their gradient is `None`).
    pub fn allow_unused(mut self, allow: bool) -> Self {
        self.allow_unused = allow;
        self
    }
}

/// Gradients of the sum of `outputs` with respect to each of `inputs`, like
/// `torch.autograd.grad(outputs, inputs, create_graph=...)`. Leaves' `.grad` are not touched.
///
/// Each output must have one element (use [`grad_with`] to pass output gradients). With
/// `create_graph`, the gradients are differentiable, so derivatives of any order follow:
///
/// ```
/// use tensorgrad::{autograd, tensor};
/// let x = tensor!(2.0).set_requires_grad(true);
/// let y = x.powi(4);                                           // x⁴
/// let dy = &autograd::grad(&[&y], &[&x], true)?[0];            // 4x³ = 32
/// let d2y = &autograd::grad(&[dy], &[&x], true)?[0];           // 12x² = 48
/// assert_eq!((dy.item::<f32>(), d2y.item::<f32>()), (32.0, 48.0));
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn grad(outputs: &[&Tensor], inputs: &[&Tensor], create_graph: bool) -> Result<Vec<Tensor>> {
    let grads = grad_with(
        outputs,
        inputs,
        GradOptions::new().create_graph(create_graph),
    )?;
    Ok(grads
        .into_iter()
        .map(|g| g.expect("allow_unused is off, so every gradient is present"))
        .collect())
}

/// [`grad`] with all of `torch.autograd.grad`'s options. Entries are `None` only for unused
/// inputs when `allow_unused` is set.
pub fn grad_with(
    outputs: &[&Tensor],
    inputs: &[&Tensor],
    opts: GradOptions,
) -> Result<Vec<Option<Tensor>>> {
    if outputs.is_empty() || inputs.is_empty() {
        return Err(Error::autograd(
            "grad",
            "needs at least one output and one input",
        ));
    }
    let roots = tensor_api::roots_with_grads("grad", outputs, opts.grad_outputs.as_deref())?;
    let inputs: Vec<Tensor> = inputs.iter().map(|&t| t.clone()).collect();
    let result = engine::run(engine::Request {
        roots,
        inputs: Some(&inputs),
        retain_graph: opts.retain_graph.unwrap_or(opts.create_graph),
        create_graph: opts.create_graph,
    })?;
    if !opts.allow_unused {
        if let Some(i) = result.iter().position(Option::is_none) {
            return Err(Error::autograd(
                "grad",
                format!("input {i} (shape {:?}) was not used to compute the outputs, so it has no gradient; pass GradOptions::allow_unused(true) to get None for it", inputs[i].shape()),
            ));
        }
    }
    Ok(result)
}

/// Runs backward from several outputs at once, like `torch.autograd.backward`, accumulating
/// into the leaves' `.grad`. `grad_tensors` gives each output's gradient (`None`: ones for
/// one-element outputs).
pub fn backward(
    tensors: &[&Tensor],
    grad_tensors: Option<&[Tensor]>,
    retain_graph: bool,
    create_graph: bool,
) -> Result<()> {
    let roots = tensor_api::roots_with_grads("backward", tensors, grad_tensors)?;
    engine::run(engine::Request {
        roots,
        inputs: None,
        retain_graph,
        create_graph,
    })?;
    Ok(())
}

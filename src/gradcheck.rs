//! Gradient checking: compares autograd's derivatives with central finite differences in f64,
//! like `torch.autograd.gradcheck` and `gradgradcheck`.

use crate::autograd::{grad_with, GradOptions};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::DType;

/// Tolerances and step for [`gradcheck`]; PyTorch's defaults.
#[derive(Clone, Copy, Debug)]
pub struct GradcheckOptions {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (relative to the numerical value).
    pub rtol: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// The worst disagreement [`gradcheck`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckReport {
    /// Which input (index into the `inputs` slice).
    pub input: usize,
    /// Row-major index of the element of that input.
    pub input_element: usize,
    /// Row-major index of the output element.
    pub output_element: usize,
    /// Derivative from autograd.
    pub analytical: f64,
    /// Derivative from finite differences.
    pub numerical: f64,
    /// `|analytical - numerical|`.
    pub error: f64,
    /// Whether every element was within tolerance.
    pub passed: bool,
}

impl std::fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: worst element is d output[{}] / d input {}[{}]: analytical {:.10e}, numerical {:.10e}, error {:.3e}",
            if self.passed { "gradcheck passed" } else { "gradcheck failed" },
            self.output_element,
            self.input,
            self.input_element,
            self.analytical,
            self.numerical,
            self.error
        )
    }
}

fn check_inputs(op: &'static str, inputs: &[Tensor]) -> Result<()> {
    if inputs.is_empty() {
        return Err(Error::invalid(op, "needs at least one input"));
    }
    for (i, t) in inputs.iter().enumerate() {
        if t.dtype() != DType::F64 {
            return Err(Error::invalid(op, format!("input {i} is {}; finite differences need f64 inputs, convert with .to_dtype(DType::F64)", t.dtype())));
        }
    }
    Ok(())
}

/// Checks the gradients of `f` at `inputs` (f64 tensors) against central finite differences
/// and returns the worst element. Inputs are used as values; requires_grad is set on copies.
///
/// ```
/// use tensorgrad::{gradcheck, tensor, DType, Tensor};
/// let x = tensor!([0.3, -1.2, 2.0], DType::F64);
/// let report = gradcheck::gradcheck(|v: &[Tensor]| v[0].powi(3).sum(), &[x], Default::default())?;
/// assert!(report.passed, "{report}");
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn gradcheck<F>(f: F, inputs: &[Tensor], opts: GradcheckOptions) -> Result<GradcheckReport>
where
    F: Fn(&[Tensor]) -> Tensor,
{
    check_inputs("gradcheck", inputs)?;
    let leaves: Vec<Tensor> = inputs
        .iter()
        .map(|t| t.contiguous_copy().set_requires_grad(true))
        .collect();
    let out = f(&leaves);
    let n_out = out.numel();
    let mut worst = GradcheckReport {
        input: 0,
        input_element: 0,
        output_element: 0,
        analytical: 0.0,
        numerical: 0.0,
        error: -1.0,
        passed: true,
    };
    let (mut worst_ok, mut all_ok) = (true, true);

    // Analytical Jacobian, one row (output element) at a time.
    let refs: Vec<&Tensor> = leaves.iter().collect();
    let mut analytical: Vec<Vec<Vec<f64>>> = Vec::with_capacity(n_out); // [out][input][elem]
    for k in 0..n_out {
        let mut basis = vec![0.0f64; n_out];
        basis[k] = 1.0;
        let seed = Tensor::from_vec(basis, out.shape())?.to_dtype(out.dtype());
        let row = if out.requires_grad() {
            grad_with(
                &[&out],
                &refs,
                GradOptions::new()
                    .grad_outputs(vec![seed])
                    .retain_graph(true)
                    .allow_unused(true),
            )?
        } else {
            vec![None; leaves.len()]
        };
        analytical.push(
            row.into_iter()
                .zip(&leaves)
                .map(|(g, l)| g.map_or_else(|| vec![0.0; l.numel()], |g| g.to_f64_vec()))
                .collect(),
        );
    }

    // Numerical Jacobian, one column (input element) at a time.
    let values: Vec<Vec<f64>> = leaves.iter().map(Tensor::to_f64_vec).collect();
    for (i, base) in values.iter().enumerate() {
        for j in 0..base.len() {
            let eval = |delta: f64| -> Result<Vec<f64>> {
                let args: Vec<Tensor> = values
                    .iter()
                    .zip(&leaves)
                    .enumerate()
                    .map(|(m, (v, l))| {
                        let mut v = v.clone();
                        if m == i {
                            v[j] += delta;
                        }
                        Tensor::from_vec(v, l.shape())
                    })
                    .collect::<Result<_>>()?;
                // The arguments do not require grad, so no graph is recorded.
                Ok(f(&args).to_f64_vec())
            };
            let (plus, minus) = (eval(opts.eps)?, eval(-opts.eps)?);
            for k in 0..n_out {
                let numerical = (plus[k] - minus[k]) / (2.0 * opts.eps);
                let a = analytical[k][i][j];
                let error = (a - numerical).abs();
                let ok = error <= opts.atol + opts.rtol * numerical.abs()
                    || (a.is_nan() && numerical.is_nan());
                // The worst element: any failing one before every passing one, then the
                // largest error, so a failed report names the element that is most wrong.
                if worst.error < 0.0 || (!ok, error) > (!worst_ok, worst.error) {
                    worst = GradcheckReport {
                        input: i,
                        input_element: j,
                        output_element: k,
                        analytical: a,
                        numerical,
                        error,
                        passed: false,
                    };
                    worst_ok = ok;
                }
                all_ok &= ok;
            }
        }
    }
    worst.error = worst.error.max(0.0);
    worst.passed = all_ok;
    Ok(worst)
}

/// Checks second derivatives: runs [`gradcheck`] on the map from the inputs to the gradient
/// of `(f(inputs) * v).sum()` (computed with `create_graph`), for a fixed random `v`, for each
/// input's gradient in turn. Returns the worst report.
///
/// ```
/// use tensorgrad::{gradcheck, tensor, DType, Tensor};
/// let x = tensor!([0.5, 1.5], DType::F64);
/// let report = gradcheck::gradgradcheck(|v: &[Tensor]| v[0].powi(3), &[x], Default::default())?;
/// assert!(report.passed, "{report}");
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn gradgradcheck<F>(f: F, inputs: &[Tensor], opts: GradcheckOptions) -> Result<GradcheckReport>
where
    F: Fn(&[Tensor]) -> Tensor,
{
    check_inputs("gradgradcheck", inputs)?;
    let probe = crate::no_grad(|| f(inputs));
    // A fixed, non-symmetric weighting of the outputs, so every output element matters.
    let v = Tensor::from_vec(
        (0..probe.numel())
            .map(|k| 0.5 + 0.37 * k as f64 % 1.3)
            .collect::<Vec<f64>>(),
        probe.shape(),
    )?
    .to_dtype(probe.dtype());
    let mut worst: Option<GradcheckReport> = None;
    for which in 0..inputs.len() {
        let grad_of = |xs: &[Tensor]| -> Tensor {
            // Finite differences call this with plain tensors: differentiate w.r.t. copies.
            let xs: Vec<Tensor> = xs
                .iter()
                .map(|x| {
                    if x.requires_grad() {
                        x.clone()
                    } else {
                        x.detach().set_requires_grad(true)
                    }
                })
                .collect();
            let xs = &xs[..];
            let y = f(xs);
            if !y.requires_grad() {
                return Tensor::zeros_like(&xs[which]);
            }
            let refs: Vec<&Tensor> = xs.iter().collect();
            let g = grad_with(
                &[&(&y * &v).sum()],
                &refs,
                GradOptions::new().create_graph(true).allow_unused(true),
            )
            .expect("gradgradcheck: first-order gradient");
            g[which]
                .clone()
                .unwrap_or_else(|| Tensor::zeros_like(&xs[which]))
        };
        let report = gradcheck(grad_of, inputs, opts)?;
        let replace = match &worst {
            None => true,
            Some(w) => {
                (w.passed && !report.passed)
                    || (w.passed == report.passed && report.error > w.error)
            }
        };
        if replace {
            worst = Some(report);
        }
    }
    Ok(worst.expect("at least one input"))
}

//! Functional transforms of closures, like `torch.autograd.functional`: Jacobians, Hessians,
//! and Jacobian-, vector-Jacobian and Hessian-vector products.
//!
//! Each transform takes a function `Fn(&Tensor) -> Tensor` (or `Fn(&[Tensor]) -> Tensor` for
//! the `_multi` forms) and the point to evaluate it at. The inputs are used as values: the
//! function is run on fresh copies that require grad, and the results do not require grad,
//! unless [`Options::create_graph`] asks for results that can be differentiated again.
//!
//! | transform | what it computes | how |
//! |---|---|---|
//! | [`jacobian`] / [`jacrev`] | `∂f/∂x`, shape `out ++ in` | one reverse pass per output element |
//! | [`jacfwd`] | the same Jacobian | one forward pass with a dual tensor per input element |
//! | [`hessian`] | `∂²f/∂x²`, shape `in ++ in` | gradient with `create_graph`, then one reverse pass per row |
//! | [`vjp`] | `vᵀ·J` | one reverse pass |
//! | [`jvp`] | `J·v` | one forward pass with a dual tensor (native forward mode) |
//! | [`hvp`] | `H·v` | reverse-over-reverse: the gradient with `create_graph`, then one reverse pass |
//!
//! Outputs that do not depend on an input give zeros, as in PyTorch (set
//! [`Options::strict`] to get an error instead).
//!
//! ```
//! use tensorgrad::{functional, tensor, DType, Tensor};
//! // f(x) = Σ x³: gradient 3x², Hessian diag(6x).
//! let f = |x: &Tensor| x.powi(3).sum();
//! let x = tensor!([1.0, 2.0], DType::F64);
//! let h = functional::hessian(f, &x)?;
//! assert_eq!(h.to_vec::<f64>(), vec![6.0, 0.0, 0.0, 12.0]);
//! let (y, hv) = functional::hvp(f, &x, &tensor!([1.0, 1.0], DType::F64))?;
//! assert_eq!((y.item::<f64>(), hv.to_vec::<f64>()), (9.0, vec![6.0, 12.0]));
//! # Ok::<(), tensorgrad::Error>(())
//! ```

use crate::autograd::node::{record, rule};
use crate::autograd::{enable_grad, grad_with, GradOptions};
use crate::error::{Error, Result};
use crate::forward_ad::{jvp as propagate_tangent, make_dual, unpack_dual};
use crate::ops::grads;
use crate::tensor::{with_dtype, Tensor};

/// Options of the `_with` transforms, like the keyword arguments of
/// `torch.autograd.functional.*`.
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// // With create_graph, the Jacobian of x ↦ x³ (diag 3x²) can be differentiated again.
/// let x = tensor!([2.0], DType::F64).set_requires_grad(true);
/// let opts = functional::Options::new().create_graph(true);
/// let j = functional::jacobian_with(|v: &[Tensor]| v[0].powi(3), &[x.clone()], opts)?;
/// let dj = tensorgrad::autograd::grad(&[&j[0].sum()], &[&x], false)?;
/// assert_eq!(dj[0].to_vec::<f64>(), vec![12.0]); // d(3x²)/dx = 6x
/// # Ok::<(), tensorgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Make the results differentiable: they keep a graph back to the inputs that require
    /// grad (and to `v`), like PyTorch's `create_graph=True`. Off: the results are detached.
    pub create_graph: bool,
    /// Return an error when the output does not depend on an input, instead of zeros, like
    /// PyTorch's `strict=True`.
    pub strict: bool,
}

impl Options {
    /// Detached results; zeros for outputs that do not depend on an input.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`create_graph`](Self::create_graph).
    pub fn create_graph(mut self, create_graph: bool) -> Self {
        self.create_graph = create_graph;
        self
    }

    /// Sets [`strict`](Self::strict).
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }
}

// ----- single input -------------------------------------------------------------------------

/// The Jacobian of `f` at `x` by reverse mode, like `torch.autograd.functional.jacobian`:
/// entry `[i..., j...]` is `∂f(x)[i...] / ∂x[j...]`, so the shape is `f(x).shape ++ x.shape`.
/// Costs one backward pass per element of `f(x)`; [`jacfwd`] costs one forward pass per
/// element of `x` instead, which is cheaper for functions with more outputs than inputs.
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// let a = tensor!([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], DType::F64);
/// let j = functional::jacobian(|x: &Tensor| a.matmul(x), &tensor!([0.5, -1.0], DType::F64))?;
/// assert_eq!(j.shape(), &[3, 2]);
/// assert_eq!(j.to_vec::<f64>(), a.to_vec::<f64>()); // the Jacobian of A·x is A
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn jacobian(f: impl Fn(&Tensor) -> Tensor, x: &Tensor) -> Result<Tensor> {
    single(jacobian_with(
        |xs: &[Tensor]| f(&xs[0]),
        std::slice::from_ref(x),
        Options::new(),
    ))
}

/// The Jacobian by reverse mode; the same as [`jacobian`] (JAX's name).
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// let j = functional::jacrev(|x: &Tensor| x * x, &tensor!([1.0, 3.0], DType::F64))?;
/// assert_eq!(j.to_vec::<f64>(), vec![2.0, 0.0, 0.0, 6.0]);
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn jacrev(f: impl Fn(&Tensor) -> Tensor, x: &Tensor) -> Result<Tensor> {
    jacobian(f, x)
}

/// The Jacobian of `f` at `x` by forward mode (JAX's `jacfwd`): one forward pass per element
/// of `x`, each with a dual tensor whose tangent is that element's unit vector. Same result
/// and shape (`f(x).shape ++ x.shape`) as [`jacobian`].
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// let f = |x: &Tensor| x.powi(2).sum_dim(&[0], false);  // [2, 3] -> [3]
/// let x = tensor!([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], DType::F64);
/// let jf = functional::jacfwd(f, &x)?;
/// assert_eq!(jf.shape(), &[3, 2, 3]);
/// assert_eq!(jf.to_vec::<f64>(), functional::jacrev(f, &x)?.to_vec::<f64>());
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn jacfwd(f: impl Fn(&Tensor) -> Tensor, x: &Tensor) -> Result<Tensor> {
    single(jacfwd_with(
        |xs: &[Tensor]| f(&xs[0]),
        std::slice::from_ref(x),
        Options::new(),
    ))
}

/// The Hessian of a scalar function `f` at `x`, like `torch.autograd.functional.hessian`:
/// shape `x.shape ++ x.shape`. Computed as the Jacobian of the gradient: the gradient with
/// `create_graph`, then one backward pass through it per element of `x`, reusing its graph.
///
/// Errors when `f(x)` has more than one element.
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// // f(x, y) = x²y: Hessian [[2y, 2x], [2x, 0]].
/// let f = |v: &Tensor| v.narrow(0, 0, 1).powi(2).mul(&v.narrow(0, 1, 1)).sum();
/// let h = functional::hessian(f, &tensor!([3.0, 5.0], DType::F64))?;
/// assert_eq!(h.to_vec::<f64>(), vec![10.0, 6.0, 6.0, 0.0]);
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn hessian(f: impl Fn(&Tensor) -> Tensor, x: &Tensor) -> Result<Tensor> {
    let mut h = hessian_with(
        |xs: &[Tensor]| f(&xs[0]),
        std::slice::from_ref(x),
        Options::new(),
    )?;
    Ok(h.swap_remove(0).swap_remove(0))
}

/// `f(x)` and the vector-Jacobian product `vᵀ·∂f/∂x` (shape of `x`), like
/// `torch.autograd.functional.vjp`. `v` must have the shape and dtype of `f(x)`.
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// let x = tensor!([1.0, 2.0], DType::F64);
/// let (y, g) = functional::vjp(|x: &Tensor| x * x, &x, &tensor!([1.0, 10.0], DType::F64))?;
/// assert_eq!((y.to_vec::<f64>(), g.to_vec::<f64>()), (vec![1.0, 4.0], vec![2.0, 40.0]));
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn vjp(f: impl Fn(&Tensor) -> Tensor, x: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
    let (y, mut g) = vjp_with(
        |xs: &[Tensor]| f(&xs[0]),
        std::slice::from_ref(x),
        v,
        Options::new(),
    )?;
    Ok((y, g.swap_remove(0)))
}

/// `f(x)` and the Jacobian-vector product `∂f/∂x · v` (shape of `f(x)`), like
/// `torch.autograd.functional.jvp` but by native forward mode: one forward pass of `f` on a
/// dual tensor with primal `x` and tangent `v` (no backward pass). `v` must have the shape
/// and dtype of `x`.
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// let x = tensor!([1.0, 2.0], DType::F64);
/// let (y, t) = functional::jvp(|x: &Tensor| x.powi(3), &x, &tensor!([1.0, 0.5], DType::F64))?;
/// assert_eq!((y.to_vec::<f64>(), t.to_vec::<f64>()), (vec![1.0, 8.0], vec![3.0, 6.0]));
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn jvp(f: impl Fn(&Tensor) -> Tensor, x: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
    jvp_with(
        |xs: &[Tensor]| f(&xs[0]),
        std::slice::from_ref(x),
        std::slice::from_ref(v),
        Options::new(),
    )
}

/// `f(x)` and the Hessian-vector product `H·v` (shape of `x`) of a scalar function, like
/// `torch.autograd.functional.hvp`, without forming `H`: the gradient with `create_graph`,
/// then one backward pass of `⟨∇f, v⟩` (reverse-over-reverse). Errors when `f(x)` has more
/// than one element or `v` does not have `x`'s shape and dtype.
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// // f(x) = x₀²x₁: H = [[2x₁, 2x₀], [2x₀, 0]] = [[4, 2], [2, 0]] at (1, 2).
/// let f = |x: &Tensor| x.narrow(0, 0, 1).powi(2).mul(&x.narrow(0, 1, 1)).sum();
/// let (_, hv) = functional::hvp(f, &tensor!([1.0, 2.0], DType::F64), &tensor!([1.0, 1.0], DType::F64))?;
/// assert_eq!(hv.to_vec::<f64>(), vec![6.0, 2.0]);
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn hvp(f: impl Fn(&Tensor) -> Tensor, x: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
    let (y, mut hv) = hvp_with(
        |xs: &[Tensor]| f(&xs[0]),
        std::slice::from_ref(x),
        std::slice::from_ref(v),
        Options::new(),
    )?;
    Ok((y, hv.swap_remove(0)))
}

// ----- several inputs -----------------------------------------------------------------------

/// [`jacobian`] of a function of several tensors: one Jacobian per input, entry `k` of shape
/// `f(xs).shape ++ xs[k].shape`.
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// let (a, b) = (tensor!([1.0, 2.0], DType::F64), tensor!([3.0, 4.0], DType::F64));
/// let j = functional::jacobian_multi(|v: &[Tensor]| &v[0] * &v[1], &[a, b])?;
/// assert_eq!(j[0].to_vec::<f64>(), vec![3.0, 0.0, 0.0, 4.0]); // diag(b)
/// assert_eq!(j[1].to_vec::<f64>(), vec![1.0, 0.0, 0.0, 2.0]); // diag(a)
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn jacobian_multi(f: impl Fn(&[Tensor]) -> Tensor, xs: &[Tensor]) -> Result<Vec<Tensor>> {
    jacobian_with(f, xs, Options::new())
}

/// [`jacfwd`] of a function of several tensors: one Jacobian per input, as [`jacobian_multi`].
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// let (a, b) = (tensor!([1.0, 2.0], DType::F64), tensor!(3.0, DType::F64));
/// let j = functional::jacfwd_multi(|v: &[Tensor]| &v[0] * &v[1], &[a, b])?;
/// assert_eq!((j[0].shape(), j[1].shape()), (&[2, 2][..], &[2][..]));
/// assert_eq!(j[1].to_vec::<f64>(), vec![1.0, 2.0]); // ∂(a·b)/∂b = a
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn jacfwd_multi(f: impl Fn(&[Tensor]) -> Tensor, xs: &[Tensor]) -> Result<Vec<Tensor>> {
    jacfwd_with(f, xs, Options::new())
}

/// [`hessian`] of a scalar function of several tensors: block `[i][j]` holds
/// `∂²f / ∂xs[i] ∂xs[j]`, of shape `xs[i].shape ++ xs[j].shape`.
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// // f(a, b) = a²·b (scalars): ∂²f/∂a² = 2b, ∂²f/∂a∂b = 2a, ∂²f/∂b² = 0.
/// let h = functional::hessian_multi(|v: &[Tensor]| v[0].powi(2) * &v[1], &[tensor!(3.0, DType::F64), tensor!(5.0, DType::F64)])?;
/// let at = |i: usize, j: usize| h[i][j].item::<f64>();
/// assert_eq!([at(0, 0), at(0, 1), at(1, 0), at(1, 1)], [10.0, 6.0, 6.0, 0.0]);
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn hessian_multi(f: impl Fn(&[Tensor]) -> Tensor, xs: &[Tensor]) -> Result<Vec<Vec<Tensor>>> {
    hessian_with(f, xs, Options::new())
}

/// [`vjp`] of a function of several tensors: `f(xs)` and `vᵀ·∂f/∂xs[k]` for each input.
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// let (a, b) = (tensor!([1.0, 2.0], DType::F64), tensor!([3.0, 4.0], DType::F64));
/// let (y, g) = functional::vjp_multi(|v: &[Tensor]| v[0].dot(&v[1]), &[a, b], &tensor!(2.0, DType::F64))?;
/// assert_eq!((y.item::<f64>(), g[0].to_vec::<f64>(), g[1].to_vec::<f64>()), (11.0, vec![6.0, 8.0], vec![2.0, 4.0]));
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn vjp_multi(
    f: impl Fn(&[Tensor]) -> Tensor,
    xs: &[Tensor],
    v: &Tensor,
) -> Result<(Tensor, Vec<Tensor>)> {
    vjp_with(f, xs, v, Options::new())
}

/// [`jvp`] of a function of several tensors: `f(xs)` and `Σₖ ∂f/∂xs[k] · vs[k]`, by one
/// forward pass with every input a dual tensor.
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// // d(a·b) = da·b + a·db
/// let (a, b) = (tensor!(2.0, DType::F64), tensor!(3.0, DType::F64));
/// let (y, t) = functional::jvp_multi(|v: &[Tensor]| &v[0] * &v[1], &[a, b], &[tensor!(1.0, DType::F64), tensor!(10.0, DType::F64)])?;
/// assert_eq!((y.item::<f64>(), t.item::<f64>()), (6.0, 23.0));
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn jvp_multi(
    f: impl Fn(&[Tensor]) -> Tensor,
    xs: &[Tensor],
    vs: &[Tensor],
) -> Result<(Tensor, Tensor)> {
    jvp_with(f, xs, vs, Options::new())
}

/// [`hvp`] of a scalar function of several tensors: `f(xs)` and, for each input `i`,
/// `Σⱼ ∂²f/∂xs[i]∂xs[j] · vs[j]`.
///
/// ```
/// use tensorgrad::{functional, tensor, DType, Tensor};
/// // f(a, b) = a²·b: H = [[2b, 2a], [2a, 0]] = [[10, 6], [6, 0]] at (3, 5).
/// let xs = [tensor!(3.0, DType::F64), tensor!(5.0, DType::F64)];
/// let (_, hv) = functional::hvp_multi(|v: &[Tensor]| v[0].powi(2) * &v[1], &xs, &[tensor!(1.0, DType::F64), tensor!(1.0, DType::F64)])?;
/// assert_eq!((hv[0].item::<f64>(), hv[1].item::<f64>()), (16.0, 6.0));
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn hvp_multi(
    f: impl Fn(&[Tensor]) -> Tensor,
    xs: &[Tensor],
    vs: &[Tensor],
) -> Result<(Tensor, Vec<Tensor>)> {
    hvp_with(f, xs, vs, Options::new())
}

// ----- with options -------------------------------------------------------------------------

/// [`jacobian_multi`] with [`Options`].
///
/// ```
/// use tensorgrad::{functional::{self, Options}, tensor, DType, Tensor};
/// // strict: an output that does not depend on an input is an error, not zeros.
/// let f = |v: &[Tensor]| v[0].powi(2);
/// let xs = [tensor!([1.0], DType::F64), tensor!([2.0], DType::F64)];
/// assert!(functional::jacobian_with(f, &xs, Options::new().strict(true)).is_err());
/// assert_eq!(functional::jacobian_with(f, &xs, Options::new())?[1].to_vec::<f64>(), vec![0.0]);
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn jacobian_with(
    f: impl Fn(&[Tensor]) -> Tensor,
    xs: &[Tensor],
    opts: Options,
) -> Result<Vec<Tensor>> {
    check_inputs("jacobian", xs)?;
    enable_grad(|| {
        let leaves = differentiable_copies(xs, opts.create_graph);
        let out = f(&leaves);
        let out_shape = out.shape().to_vec();
        jacobian_rows("jacobian", &out, &out_shape, &leaves, opts)
    })
}

/// [`jacfwd_multi`] with [`Options`]. Under `create_graph`, the Jacobian is differentiable.
///
/// ```
/// use tensorgrad::{autograd, functional::{self, Options}, tensor, DType, Tensor};
/// let x = tensor!([2.0], DType::F64).set_requires_grad(true);
/// let j = functional::jacfwd_with(|v: &[Tensor]| v[0].powi(3), &[x.clone()], Options::new().create_graph(true))?;
/// assert_eq!(j[0].to_vec::<f64>(), vec![12.0]); // 3x²
/// assert_eq!(autograd::grad(&[&j[0].sum()], &[&x], false)?[0].to_vec::<f64>(), vec![12.0]); // 6x
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn jacfwd_with(
    f: impl Fn(&[Tensor]) -> Tensor,
    xs: &[Tensor],
    opts: Options,
) -> Result<Vec<Tensor>> {
    check_inputs("jacfwd", xs)?;
    enable_grad(|| {
        // Forward mode needs no backward graph; inputs only keep theirs under create_graph.
        let primals: Vec<Tensor> = xs
            .iter()
            .map(|x| {
                if opts.create_graph {
                    x.clone()
                } else {
                    x.detach()
                }
            })
            .collect();
        let mut jacobians = Vec::with_capacity(xs.len());
        for (k, x) in primals.iter().enumerate() {
            let mut columns = Vec::with_capacity(x.numel());
            let mut out_shape = None;
            for j in 0..x.numel() {
                let mut args = primals.clone();
                args[k] = make_dual(x, &unit(x, j))?;
                let (out, tangent) = unpack_dual(&f(&args));
                let tangent = match tangent {
                    Some(t) => t,
                    None if opts.strict => return Err(independent("jacfwd", k)),
                    None => Tensor::zeros_like(&out),
                };
                out_shape.get_or_insert_with(|| out.shape().to_vec());
                columns.push(finish(
                    tangent.reshape_to(&[tangent.numel()]),
                    opts.create_graph,
                ));
            }
            let out_shape = match out_shape {
                Some(s) => s,
                // An empty input: run f once just to learn the output's shape.
                None => f(&primals).shape().to_vec(),
            };
            let shape = concat(&out_shape, x.shape());
            let m: usize = out_shape.iter().product();
            jacobians.push(if columns.is_empty() || m == 0 {
                zeros(&shape, x)
            } else {
                stack(&columns).t().reshape_to(&shape)
            });
        }
        Ok(jacobians)
    })
}

/// [`hessian_multi`] with [`Options`]. Under `create_graph`, the Hessian is differentiable,
/// which gives third derivatives.
///
/// ```
/// use tensorgrad::{autograd, functional::{self, Options}, tensor, DType, Tensor};
/// let x = tensor!(2.0, DType::F64).set_requires_grad(true);
/// let h = functional::hessian_with(|v: &[Tensor]| v[0].powi(4), &[x.clone()], Options::new().create_graph(true))?;
/// assert_eq!(h[0][0].item::<f64>(), 48.0); // 12x²
/// assert_eq!(autograd::grad(&[&h[0][0]], &[&x], false)?[0].item::<f64>(), 48.0); // 24x
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn hessian_with(
    f: impl Fn(&[Tensor]) -> Tensor,
    xs: &[Tensor],
    opts: Options,
) -> Result<Vec<Vec<Tensor>>> {
    check_inputs("hessian", xs)?;
    enable_grad(|| {
        let leaves = differentiable_copies(xs, opts.create_graph);
        let out = f(&leaves);
        check_scalar("hessian", &out)?;
        let grads = first_gradients(&out, &leaves)?;
        let mut blocks = Vec::with_capacity(xs.len());
        for (i, g) in grads.into_iter().enumerate() {
            let g = match g {
                Some(g) => g,
                None if opts.strict => return Err(independent("hessian", i)),
                None => Tensor::zeros_like(&leaves[i]),
            };
            blocks.push(jacobian_rows(
                "hessian",
                &g,
                leaves[i].shape(),
                &leaves,
                opts,
            )?);
        }
        Ok(blocks)
    })
}

/// [`vjp_multi`] with [`Options`]. Under `create_graph`, the product is differentiable with
/// respect to the inputs and to `v`.
///
/// ```
/// use tensorgrad::{autograd, functional::{self, Options}, tensor, DType, Tensor};
/// let v = tensor!([1.0, 1.0], DType::F64).set_requires_grad(true);
/// let xs = [tensor!([1.0, 2.0], DType::F64)];
/// let (_, g) = functional::vjp_with(|x: &[Tensor]| x[0].powi(3), &xs, &v, Options::new().create_graph(true))?;
/// assert_eq!(autograd::grad(&[&g[0].sum()], &[&v], false)?[0].to_vec::<f64>(), vec![3.0, 12.0]); // 3x²
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn vjp_with(
    f: impl Fn(&[Tensor]) -> Tensor,
    xs: &[Tensor],
    v: &Tensor,
    opts: Options,
) -> Result<(Tensor, Vec<Tensor>)> {
    check_inputs("vjp", xs)?;
    enable_grad(|| {
        let leaves = differentiable_copies(xs, opts.create_graph);
        let out = f(&leaves);
        check_vector("vjp", "v", 0, v, &out)?;
        let v = if opts.create_graph {
            v.clone()
        } else {
            v.detach()
        };
        let grads = if out.requires_grad() {
            let refs: Vec<&Tensor> = leaves.iter().collect();
            grad_with(
                &[&out],
                &refs,
                GradOptions::new()
                    .grad_outputs(vec![v])
                    .create_graph(opts.create_graph)
                    .allow_unused(true),
            )?
        } else {
            vec![None; leaves.len()]
        };
        let grads = fill_unused("vjp", grads, &leaves, opts)?;
        Ok((finish(out, opts.create_graph), grads))
    })
}

/// [`jvp_multi`] with [`Options`]. Under `create_graph`, the tangent is differentiable with
/// respect to the inputs and to `vs` (when they require grad).
///
/// ```
/// use tensorgrad::{autograd, functional::{self, Options}, tensor, DType, Tensor};
/// let x = tensor!(2.0, DType::F64).set_requires_grad(true);
/// let (_, t) = functional::jvp_with(|v: &[Tensor]| v[0].powi(3), &[x.clone()], &[tensor!(1.0, DType::F64)], Options::new().create_graph(true))?;
/// assert_eq!(t.item::<f64>(), 12.0); // 3x²
/// assert_eq!(autograd::grad(&[&t], &[&x], false)?[0].item::<f64>(), 12.0); // 6x
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn jvp_with(
    f: impl Fn(&[Tensor]) -> Tensor,
    xs: &[Tensor],
    vs: &[Tensor],
    opts: Options,
) -> Result<(Tensor, Tensor)> {
    check_inputs("jvp", xs)?;
    check_count("jvp", xs, vs)?;
    enable_grad(|| {
        let mut args = Vec::with_capacity(xs.len());
        for (k, (x, v)) in xs.iter().zip(vs).enumerate() {
            check_vector("jvp", "v", k, v, x)?;
            let (x, v) = if opts.create_graph {
                (x.clone(), v.clone())
            } else {
                (x.detach(), v.detach())
            };
            args.push(make_dual(&x, &v)?);
        }
        let (out, tangent) = unpack_dual(&f(&args));
        let tangent = match tangent {
            Some(t) => t,
            None if opts.strict => return Err(independent("jvp", 0)),
            None => Tensor::zeros_like(&out),
        };
        Ok((
            finish(out, opts.create_graph),
            finish(tangent, opts.create_graph),
        ))
    })
}

/// [`hvp_multi`] with [`Options`].
///
/// ```
/// use tensorgrad::{functional::{self, Options}, tensor, DType, Tensor};
/// // f(x) = Σ 3x is linear: its gradient is constant, so H·v is zero (an error with strict).
/// let (_, hv) = functional::hvp_with(|v: &[Tensor]| (&v[0] * 3.0).sum(), &[tensor!([1.0], DType::F64)], &[tensor!([1.0], DType::F64)], Options::new())?;
/// assert_eq!(hv[0].to_vec::<f64>(), vec![0.0]);
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn hvp_with(
    f: impl Fn(&[Tensor]) -> Tensor,
    xs: &[Tensor],
    vs: &[Tensor],
    opts: Options,
) -> Result<(Tensor, Vec<Tensor>)> {
    check_inputs("hvp", xs)?;
    check_count("hvp", xs, vs)?;
    for (k, (x, v)) in xs.iter().zip(vs).enumerate() {
        check_vector("hvp", "v", k, v, x)?;
    }
    enable_grad(|| {
        let leaves = differentiable_copies(xs, opts.create_graph);
        let out = f(&leaves);
        check_scalar("hvp", &out)?;
        let grads = first_gradients(&out, &leaves)?;
        // H·v = ∂⟨∇f, v⟩/∂x: a second backward pass seeded with v, over the gradients that
        // still depend on the inputs (the others contribute nothing).
        let (mut roots, mut seeds) = (Vec::new(), Vec::new());
        for (g, v) in grads.iter().zip(vs) {
            if let Some(g) = g.as_ref().filter(|g| g.requires_grad()) {
                roots.push(g);
                seeds.push(if opts.create_graph {
                    v.clone()
                } else {
                    v.detach()
                });
            }
        }
        let hv = if roots.is_empty() {
            vec![None; leaves.len()]
        } else {
            let refs: Vec<&Tensor> = leaves.iter().collect();
            grad_with(
                &roots,
                &refs,
                GradOptions::new()
                    .grad_outputs(seeds)
                    .create_graph(opts.create_graph)
                    .allow_unused(true),
            )?
        };
        let hv = fill_unused("hvp", hv, &leaves, opts)?;
        Ok((finish(out, opts.create_graph), hv))
    })
}

// ----- helpers ------------------------------------------------------------------------------

/// The only entry of a one-input transform's result.
fn single(v: Result<Vec<Tensor>>) -> Result<Tensor> {
    v.map(|mut v| v.swap_remove(0))
}

fn check_inputs(op: &'static str, xs: &[Tensor]) -> Result<()> {
    if xs.is_empty() {
        return Err(Error::invalid(op, "needs at least one input tensor"));
    }
    Ok(())
}

fn check_count(op: &'static str, xs: &[Tensor], vs: &[Tensor]) -> Result<()> {
    if xs.len() != vs.len() {
        return Err(Error::invalid(
            op,
            format!(
                "got {} vector(s) v for {} input(s); pass one per input, with that input's shape",
                vs.len(),
                xs.len()
            ),
        ));
    }
    Ok(())
}

/// `v` must match `like` (an input, or the output for vjp) in shape and dtype.
fn check_vector(op: &'static str, name: &str, k: usize, v: &Tensor, like: &Tensor) -> Result<()> {
    if v.shape() != like.shape() {
        let what = if op == "vjp" {
            "the output f(x)".to_string()
        } else {
            format!("input {k}")
        };
        return Err(Error::shape(
            op,
            v.shape(),
            like.shape(),
            format!("{name} must have the shape of {what}"),
        ));
    }
    if v.dtype() != like.dtype() {
        return Err(Error::DTypeMismatch {
            op,
            lhs: v.dtype(),
            rhs: like.dtype(),
        });
    }
    Ok(())
}

fn check_scalar(op: &'static str, out: &Tensor) -> Result<()> {
    if out.numel() != 1 {
        return Err(Error::shape(op, out.shape(), &[], "the function must return a one-element tensor (a scalar); reduce its output (e.g. .sum()) or use jacobian for vector outputs"));
    }
    Ok(())
}

fn independent(op: &'static str, k: usize) -> Error {
    Error::autograd(op, format!("the output does not depend on input {k}, which strict mode does not allow; turn strict off to get zeros"))
}

/// The tensors `f` is run on. Under create_graph, an input that requires grad is passed as
/// an alias recorded in its graph, so the results stay connected to it; otherwise (and for
/// inputs that do not require grad) a detached leaf that requires grad.
fn differentiable_copies(xs: &[Tensor], create_graph: bool) -> Vec<Tensor> {
    xs.iter()
        .map(|x| {
            if create_graph && x.requires_grad() {
                alias(x)
            } else {
                x.detach().set_requires_grad(true)
            }
        })
        .collect()
}

/// A view of `x` with its own node (`AliasBackward0`), like PyTorch's `x.view_as(x)`: a
/// distinct tensor whose gradient `autograd::grad` can capture, still connected to `x`.
fn alias(x: &Tensor) -> Tensor {
    let out = record(
        x.view_with(x.layout().clone()),
        "AliasBackward0",
        &[x],
        |_| rule(|_, g| Ok(grads![Some(g.clone())])),
    );
    propagate_tangent(out, &[x], |t| t[0].clone())
}

/// The gradient of the scalar `out` with respect to each input, with create_graph so it can
/// be differentiated again; `None` where `out` does not depend on the input.
fn first_gradients(out: &Tensor, leaves: &[Tensor]) -> Result<Vec<Option<Tensor>>> {
    if !out.requires_grad() {
        return Ok(vec![None; leaves.len()]);
    }
    let refs: Vec<&Tensor> = leaves.iter().collect();
    grad_with(
        &[out],
        &refs,
        GradOptions::new().create_graph(true).allow_unused(true),
    )
}

/// The Jacobian of `out` (whose shape is reported as `out_shape`) with respect to each of
/// `inputs`, one backward pass per element of `out` through its retained graph.
fn jacobian_rows(
    op: &'static str,
    out: &Tensor,
    out_shape: &[usize],
    inputs: &[Tensor],
    opts: Options,
) -> Result<Vec<Tensor>> {
    let m = out.numel();
    let shapes: Vec<Vec<usize>> = inputs
        .iter()
        .map(|x| concat(out_shape, x.shape()))
        .collect();
    if !out.requires_grad() || m == 0 {
        if opts.strict && m > 0 {
            return Err(independent(op, 0));
        }
        return Ok(shapes
            .iter()
            .zip(inputs)
            .map(|(s, x)| zeros(s, x))
            .collect());
    }
    let refs: Vec<&Tensor> = inputs.iter().collect();
    let mut rows: Vec<Vec<Tensor>> = inputs.iter().map(|_| Vec::with_capacity(m)).collect();
    for i in 0..m {
        let seed = unit(out, i);
        let grads = grad_with(
            &[out],
            &refs,
            GradOptions::new()
                .grad_outputs(vec![seed])
                .retain_graph(true)
                .create_graph(opts.create_graph)
                .allow_unused(true),
        )?;
        for (k, g) in grads.into_iter().enumerate() {
            let g = match g {
                Some(g) => g,
                None if opts.strict => return Err(independent(op, k)),
                None => Tensor::zeros_like(&inputs[k]),
            };
            rows[k].push(finish(g, opts.create_graph));
        }
    }
    Ok(rows
        .into_iter()
        .zip(&shapes)
        .zip(inputs)
        .map(|((r, s), x)| {
            if x.numel() == 0 {
                zeros(s, x)
            } else {
                stack(&r).reshape_to(s)
            }
        })
        .collect())
}

/// `None` gradients (unused inputs) as zeros, or an error in strict mode.
fn fill_unused(
    op: &'static str,
    grads: Vec<Option<Tensor>>,
    leaves: &[Tensor],
    opts: Options,
) -> Result<Vec<Tensor>> {
    grads
        .into_iter()
        .zip(leaves)
        .enumerate()
        .map(|(k, (g, x))| match g {
            Some(g) => Ok(finish(g, opts.create_graph)),
            None if opts.strict => Err(independent(op, k)),
            None => Ok(Tensor::zeros_like(x)),
        })
        .collect()
}

/// A result as handed back: detached unless the caller asked for a graph.
fn finish(t: Tensor, create_graph: bool) -> Tensor {
    if create_graph {
        t
    } else {
        t.detach()
    }
}

/// The `i`-th unit vector in `like`'s shape and dtype (row-major element `i` is one).
fn unit(like: &Tensor, i: usize) -> Tensor {
    with_dtype!(like.dtype(), T => {
        let mut v = vec![0.0 as T; like.numel()];
        v[i] = 1.0;
        Tensor::from_elems(v, like.shape())
    })
}

fn zeros(shape: &[usize], like: &Tensor) -> Tensor {
    Tensor::zeros_dtype(shape, like.dtype())
}

fn concat(a: &[usize], b: &[usize]) -> Vec<usize> {
    a.iter().chain(b).copied().collect()
}

/// Stacks tensors of one shape along a new leading dim (differentiable to any order).
fn stack(parts: &[Tensor]) -> Tensor {
    let refs: Vec<&Tensor> = parts.iter().collect();
    Tensor::stack(&refs, 0)
}

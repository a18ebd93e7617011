//! Making tensors: constants, ranges, random values, identity, nested literals, dtype casts.

use crate::autograd::node::{record, rule};
use crate::error::{Error, OrPanic, Result};
use crate::forward_ad::jvp;
use crate::ops::grads;
use crate::random;
use crate::tensor::{with_dtype, Tensor};
use crate::DType;

impl Tensor {
    /// A tensor of `shape` filled with `value`, of the given dtype.
    ///
    /// # Panics
    /// If the product of the sizes overflows `usize`; [`try_full_with`](Self::try_full_with)
    /// returns the error instead. The same holds for `full`, `zeros`, `ones` and their `_like`
    /// and `_dtype` forms, which call this.
    #[track_caller]
    pub fn full_with(shape: &[usize], value: f64, dtype: DType) -> Tensor {
        Tensor::try_full_with(shape, value, dtype).or_panic()
    }

    /// [`full_with`](Self::full_with) returning an error instead of panicking.
    ///
    /// ```
    /// use tensorgrad::{DType, Tensor};
    /// assert_eq!(Tensor::try_full_with(&[2], 1.5, DType::F64)?.to_vec::<f64>(), vec![1.5, 1.5]);
    /// assert!(Tensor::try_full_with(&[usize::MAX, 2], 0.0, DType::F32).is_err());
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn try_full_with(shape: &[usize], value: f64, dtype: DType) -> Result<Tensor> {
        let n = checked_numel("full", shape)?;
        Ok(
            with_dtype!(dtype, T => Tensor::from_elems(crate::kernels::alloc::filled(n, value as T), shape)),
        )
    }

    /// An f32 tensor of `shape` filled with `value`, like `torch.full`.
    ///
    /// ```
    /// use tensorgrad::Tensor;
    /// assert_eq!(Tensor::full(&[2], 7.0).to_vec::<f32>(), vec![7.0, 7.0]);
    /// ```
    pub fn full(shape: &[usize], value: f64) -> Tensor {
        Tensor::full_with(shape, value, DType::F32)
    }

    /// An f32 tensor of zeros, like `torch.zeros`.
    ///
    /// ```
    /// use tensorgrad::Tensor;
    /// assert_eq!(Tensor::zeros(&[2, 3]).shape(), &[2, 3]);
    /// ```
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// An f32 tensor of ones, like `torch.ones`.
    pub fn ones(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// Zeros of the given dtype.
    pub fn zeros_dtype(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full_with(shape, 0.0, dtype)
    }

    /// Ones of the given dtype.
    pub fn ones_dtype(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full_with(shape, 1.0, dtype)
    }

    /// Zeros with `t`'s shape and dtype, like `torch.zeros_like`.
    pub fn zeros_like(t: &Tensor) -> Tensor {
        Tensor::full_with(t.shape(), 0.0, t.dtype())
    }

    /// Ones with `t`'s shape and dtype, like `torch.ones_like`.
    pub fn ones_like(t: &Tensor) -> Tensor {
        Tensor::full_with(t.shape(), 1.0, t.dtype())
    }

    /// `value` everywhere, with `t`'s shape and dtype, like `torch.full_like`.
    pub fn full_like(t: &Tensor, value: f64) -> Tensor {
        Tensor::full_with(t.shape(), value, t.dtype())
    }

    /// `steps` evenly spaced f32 values from `start` to `end` inclusive, like
    /// `torch.linspace`, with the same values bit for bit: computed from both ends, as PyTorch
    /// does (so the last value is `end`), each one fused multiply-add. One step gives `[start]`.
    ///
    /// ```
    /// use tensorgrad::Tensor;
    /// assert_eq!(Tensor::linspace(0.0, 1.0, 5).to_vec::<f32>(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    /// assert_eq!(Tensor::linspace(2.0, 5.0, 1).to_vec::<f32>(), vec![2.0]);
    /// ```
    pub fn linspace(start: f64, end: f64, steps: usize) -> Tensor {
        Tensor::linspace_with(start, end, steps, DType::F32)
    }

    /// [`linspace`](Self::linspace) with a dtype.
    pub fn linspace_with(start: f64, end: f64, steps: usize, dtype: DType) -> Tensor {
        with_dtype!(dtype, T => {
            let (s, e) = (start as T, end as T);
            let step = if steps > 1 { (e - s) / (steps - 1) as T } else { 0.0 };
            // PyTorch's CPU kernel: the first half counts up from `start`, the second half
            // down from `end` (so both ends are exact), each value one fused multiply-add,
            // `step·i + start` or `−step·k + end` rounded once; the values are bit-identical to
            // PyTorch's (tests/factories.rs). A single point counts up, so it is `start`, as in
            // PyTorch.
            let half = if steps == 1 { 1 } else { steps / 2 };
            let v: Vec<T> = crate::kernels::elementwise::fill_chunks(steps, #[inline(always)] |first, out: &mut [T]| {
                let mid = half.clamp(first, first + out.len()) - first;
                let (up, down) = out.split_at_mut(mid);
                // One branch-free loop per half, so each vectorises. Where the indices fit in
                // i32 they are converted from i32: the same value rounds to the same float
                // from either integer type, and i32 → float is one vector instruction.
                let first_down = first + mid;
                if steps <= i32::MAX as usize {
                    let i0 = first as i32;
                    for (j, o) in (0i32..).zip(up.iter_mut()) {
                        *o = step.mul_add((i0 + j) as T, s);
                    }
                    let k0 = steps.saturating_sub(first_down + 1) as i32;
                    for (j, o) in (0i32..).zip(down.iter_mut()) {
                        *o = (-step).mul_add((k0 - j) as T, e);
                    }
                } else {
                    for (i, o) in (first..).zip(up.iter_mut()) {
                        *o = step.mul_add(i as T, s);
                    }
                    for (i, o) in (first_down..).zip(down.iter_mut()) {
                        *o = (-step).mul_add((steps - i - 1) as T, e);
                    }
                }
            });
            Tensor::from_elems(v, &[steps])
        })
    }

    /// f32 values `start, start + step, ...` below `end`, like `torch.arange`.
    ///
    /// # Panics
    /// If `step` is zero or has the wrong sign for the range, or an argument is not finite;
    /// [`try_arange`](Self::try_arange) returns the error instead.
    ///
    /// ```
    /// use tensorgrad::Tensor;
    /// assert_eq!(Tensor::arange(0.0, 3.0, 1.0).to_vec::<f32>(), vec![0.0, 1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn arange(start: f64, end: f64, step: f64) -> Tensor {
        Tensor::arange_with(start, end, step, DType::F32)
    }

    /// [`arange`](Self::arange) with a dtype.
    ///
    /// # Panics
    /// As [`arange`](Self::arange).
    #[track_caller]
    pub fn arange_with(start: f64, end: f64, step: f64, dtype: DType) -> Tensor {
        Tensor::try_arange_with(start, end, step, dtype).or_panic()
    }

    /// [`arange`](Self::arange) returning an error instead of panicking.
    ///
    /// ```
    /// use tensorgrad::Tensor;
    /// assert_eq!(Tensor::try_arange(3.0, 0.0, -1.5)?.to_vec::<f32>(), vec![3.0, 1.5]);
    /// assert!(Tensor::try_arange(0.0, 1.0, 0.0).is_err());
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn try_arange(start: f64, end: f64, step: f64) -> Result<Tensor> {
        Tensor::try_arange_with(start, end, step, DType::F32)
    }

    /// [`arange_with`](Self::arange_with) returning an error instead of panicking.
    pub fn try_arange_with(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        if !(start.is_finite() && end.is_finite() && step.is_finite()) {
            return Err(Error::invalid(
                "arange",
                format!("start ({start}), end ({end}) and step ({step}) must be finite"),
            ));
        }
        let count = (end - start) / step;
        if step == 0.0 || count.is_nan() || count < 0.0 {
            return Err(Error::invalid("arange", format!("step {step} cannot go from {start} to {end}; use a non-zero step with the sign of end - start")));
        }
        let count = count.ceil();
        // `as usize` would saturate silently; refuse a count no vector can hold instead.
        if count > (isize::MAX as usize / std::mem::size_of::<f64>()) as f64 {
            return Err(Error::invalid("arange", format!("{start}..{end} in steps of {step} has {count:e} elements, more than fit in memory; use a larger step")));
        }
        let n = count as usize;
        Ok(
            // PyTorch's CPU kernel: `step·i + start` in f64 as one fused multiply-add, then
            // rounded to the dtype; bit-identical values (tests/factories.rs).
            with_dtype!(dtype, T => {
                let v: Vec<T> = crate::kernels::elementwise::fill_chunks(n, #[inline(always)] |first, out: &mut [T]| {
                    for (i, o) in (first..).zip(out.iter_mut()) {
                        *o = step.mul_add(i as f64, start) as T;
                    }
                });
                Tensor::from_elems(v, &[n])
            }),
        )
    }

    /// Uniform f32 samples in [0, 1), like `torch.rand`; same numbers as PyTorch for the same
    /// [`manual_seed`](crate::manual_seed).
    pub fn rand(shape: &[usize]) -> Tensor {
        Tensor::rand_with(shape, DType::F32)
    }

    /// [`rand`](Self::rand) with a dtype.
    ///
    /// # Panics
    /// If the product of the sizes overflows `usize`.
    #[track_caller]
    pub fn rand_with(shape: &[usize], dtype: DType) -> Tensor {
        let n = checked_numel("rand", shape).or_panic();
        match dtype {
            DType::F32 => Tensor::from_elems(random::uniform_f32(n), shape),
            DType::F64 => Tensor::from_elems(random::uniform_f64(n), shape),
        }
    }

    /// Standard normal f32 samples, like `torch.randn` (same algorithm and generator as
    /// PyTorch's CPU `randn`, so a seed gives the same values up to float rounding).
    pub fn randn(shape: &[usize]) -> Tensor {
        Tensor::randn_with(shape, DType::F32)
    }

    /// [`randn`](Self::randn) with a dtype.
    ///
    /// # Panics
    /// If the product of the sizes overflows `usize`.
    #[track_caller]
    pub fn randn_with(shape: &[usize], dtype: DType) -> Tensor {
        let n = checked_numel("randn", shape).or_panic();
        match dtype {
            DType::F32 => Tensor::from_elems(random::normal_f32(n), shape),
            DType::F64 => Tensor::from_elems(random::normal_f64(n), shape),
        }
    }

    /// Uniform samples in [low, high) with `t`'s shape and dtype, the values
    /// `torch.empty_like(t).uniform_(low, high)` gives for the same seed (used by `nn::init`).
    ///
    /// ```
    /// use tensorgrad::{manual_seed, Tensor};
    /// manual_seed(0);
    /// let u = Tensor::uniform_like(&Tensor::zeros(&[2]), -1.0, 1.0);
    /// // torch.manual_seed(0); torch.empty(2).uniform_(-1, 1)
    /// assert_eq!(u.to_vec::<f32>(), vec![-0.007486820220947266, 0.5364435911178589]);
    /// ```
    pub fn uniform_like(t: &Tensor, low: f64, high: f64) -> Tensor {
        let n = t.numel();
        match t.dtype() {
            DType::F32 => Tensor::from_elems(random::uniform_range_f32(n, low, high), t.shape()),
            DType::F64 => Tensor::from_elems(random::uniform_range_f64(n, low, high), t.shape()),
        }
    }

    /// The `n × n` f32 identity matrix, like `torch.eye`.
    ///
    /// ```
    /// use tensorgrad::Tensor;
    /// assert_eq!(Tensor::eye(2).to_vec::<f32>(), vec![1.0, 0.0, 0.0, 1.0]);
    /// ```
    pub fn eye(n: usize) -> Tensor {
        Tensor::eye_with(n, DType::F32)
    }

    /// [`eye`](Self::eye) with a dtype.
    ///
    /// # Panics
    /// If `n * n` overflows `usize`.
    #[track_caller]
    pub fn eye_with(n: usize, dtype: DType) -> Tensor {
        let len = checked_numel("eye", &[n, n]).or_panic();
        with_dtype!(dtype, T => {
            let mut v = vec![0.0 as T; len];
            for i in 0..n {
                v[i * n + i] = 1.0;
            }
            Tensor::from_elems(v, &[n, n])
        })
    }

    /// Builds a tensor from a nested array literal; what the [`tensor!`](crate::tensor!) macro
    /// calls. Numbers become `dtype` elements.
    pub fn from_nested<N: NestedData + ?Sized>(data: &N, dtype: DType) -> Tensor {
        let mut shape = Vec::new();
        data.shape_into(&mut shape);
        let mut values = Vec::with_capacity(shape.iter().product());
        data.flatten_into(&mut values);
        with_dtype!(dtype, T => match values[..] {
            // One element (`tensor!(3.0)`, the tutorial's kind of input) is stored inline, as
            // one-element op results are: no heap block for it.
            [only] => Tensor::from_scalar_elem(only as T, &shape),
            _ => Tensor::from_elems(values.into_iter().map(|v| v as T).collect::<Vec<T>>(), &shape),
        })
    }

    /// A copy converted to `dtype` (the tensor itself if it already has it), like
    /// `tensor.to(dtype)`; grad_fn `ToCopyBackward0`, whose gradient converts back.
    ///
    /// ```
    /// use tensorgrad::{tensor, DType};
    /// assert_eq!(tensor!([1.5]).to_dtype(DType::F64).dtype(), DType::F64);
    /// ```
    #[track_caller]
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        let out = with_dtype!(dtype, T => Tensor::from_elems(self.to_vec::<T>(), self.shape()));
        let from = self.dtype();
        let out = record(out, "ToCopyBackward0", &[self], |_| {
            rule(move |_, g| Ok(grads![Some(g.to_dtype(from))]))
        });
        jvp(out, &[self], |t| t[0].as_ref().map(|t| t.to_dtype(dtype)))
    }
}

/// The element count of `shape`, or an error naming `op` when it overflows `usize`.
fn checked_numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    crate::layout::checked_numel(shape).ok_or_else(|| {
        Error::invalid(
            op,
            format!("shape {shape:?} has more elements than usize can count (the product of its sizes, 0 counted as 1, overflows); use smaller sizes"),
        )
    })
}

/// Nested arrays of numbers that [`tensor!`](crate::tensor!) accepts: `f64`, `f32`, `i32`,
/// `i64`, and arrays of those, nested to any depth. Arrays are rectangular by construction.
pub trait NestedData {
    /// Appends this level's size and the sizes below it.
    fn shape_into(&self, shape: &mut Vec<usize>);
    /// Appends the numbers in row-major order.
    fn flatten_into(&self, out: &mut Vec<f64>);
}

macro_rules! nested_number {
    ($($t:ty),*) => {$(
        impl NestedData for $t {
            fn shape_into(&self, _: &mut Vec<usize>) {}
            fn flatten_into(&self, out: &mut Vec<f64>) {
                out.push(*self as f64);
            }
        }
    )*};
}
nested_number!(f64, f32, i32, i64);

impl<T: NestedData, const N: usize> NestedData for [T; N] {
    fn shape_into(&self, shape: &mut Vec<usize>) {
        shape.push(N);
        if let Some(first) = self.first() {
            first.shape_into(shape);
        }
    }
    fn flatten_into(&self, out: &mut Vec<f64>) {
        for x in self {
            x.flatten_into(out);
        }
    }
}

/// Creates a tensor from a number or a nested array literal, like `torch.tensor`. The dtype
/// is f32 unless given as a second argument.
///
/// ```
/// use tensorgrad::{tensor, DType};
/// let s = tensor!(3.0);                              // 0-d
/// let v = tensor!([1.0, 2.0, 3.0]);                  // shape [3]
/// let m = tensor!([[1.0, 2.0], [3.0, 4.0]]);         // shape [2, 2]
/// let d = tensor!([0.1, 0.2], DType::F64);           // f64, no f32 rounding
/// assert_eq!((s.dim(), v.shape(), m.shape()), (0, &[3][..], &[2, 2][..]));
/// assert_eq!(d.to_vec::<f64>(), vec![0.1, 0.2]);
/// ```
#[macro_export]
macro_rules! tensor {
    ($data:expr $(,)?) => {
        $crate::Tensor::from_nested(&$data, $crate::DType::F32)
    };
    ($data:expr, $dtype:expr $(,)?) => {
        $crate::Tensor::from_nested(&$data, $dtype)
    };
}

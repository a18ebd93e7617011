//! Builds tensors from arbitrary arguments with every constructor that has a fallible form
//! (`from_vec`, `try_full_with`, `try_arange_with`) and the infallible ones with arguments
//! kept in their documented domain (`zeros`, `ones`, `full`, `linspace`, `eye`, `scalar`,
//! `rand`, `randn`), then uses each result: reads it back, prints it (PyTorch's formatting
//! code sees NaN, inf, subnormals and huge values here), converts its dtype, and
//! backpropagates through it.
//!
//! Checks: no panic; `Ok` results have `numel` equal to the product of the shape and read
//! back exactly the values given; errors name their op; gradients have the tensor's shape.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tensorgrad::{DType, Tensor};

/// Tensors above this many elements are not built: libFuzzer's memory limit would end the run
/// and the code paths are the same as for smaller ones.
const MAX_NUMEL: usize = 1 << 12;

#[derive(Arbitrary, Debug)]
enum Ctor {
    /// Sizes anywhere in `usize` (overflowing products included) and a vector of another
    /// length, usually.
    FromVecF32 {
        shape: Vec<usize>,
        values: Vec<f32>,
    },
    FromVecF64 {
        shape: Vec<usize>,
        values: Vec<f64>,
    },
    /// A shape whose product is exactly the number of values, so the `Ok` path is common.
    FromVecExact {
        split: Vec<u8>,
        values: Vec<f64>,
        f64: bool,
    },
    /// `try_full_with` with any sizes: overflow must be an error, not a panic.
    TryFull {
        shape: Vec<usize>,
        value: f64,
        f64: bool,
    },
    Full {
        shape: Vec<u8>,
        value: f64,
        f64: bool,
        kind: u8,
    },
    Linspace {
        start: f64,
        end: f64,
        steps: u16,
        f64: bool,
    },
    Arange {
        start: f64,
        end: f64,
        step: f64,
        f64: bool,
    },
    Eye {
        n: u8,
        f64: bool,
    },
    Scalar {
        value: f64,
        f64: bool,
    },
    Random {
        shape: Vec<u8>,
        seed: u64,
        normal: bool,
        f64: bool,
    },
}

fn dtype(f64: bool) -> DType {
    if f64 {
        DType::F64
    } else {
        DType::F32
    }
}

/// The element count, `None` for a shape that cannot be laid out: as in PyTorch ("Stride
/// calculation overflowed"), the product with sizes of 0 counted as 1 must fit in `usize`.
/// (The fuzzer's first find: `from_vec` accepted `[0, 2^64 - 2^32 - ..., 15859583]`, whose
/// strides overflowed in the kernels.)
fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |a, &n| a.checked_mul(n.max(1)))?;
    Some(shape.iter().product())
}

fn small_shape(shape: &[u8]) -> Option<Vec<usize>> {
    let shape: Vec<usize> = shape.iter().take(6).map(|&n| n as usize % 9).collect();
    (checked_numel(&shape)? <= MAX_NUMEL).then_some(shape)
}

/// Values as the tensor stores them: f64 or rounded to f32, compared by bits (so `-0.0` and
/// `0.0` differ), every NaN as one value (conversions may quiet a signalling NaN).
fn bits(values: impl Iterator<Item = f64>, dtype: DType) -> Vec<u64> {
    values
        .map(|v| match dtype {
            _ if v.is_nan() => u64::MAX,
            DType::F32 => (v as f32).to_bits() as u64,
            DType::F64 => v.to_bits(),
        })
        .collect()
}

fn tensor_bits(t: &Tensor) -> Vec<u64> {
    bits(t.to_vec::<f64>().into_iter(), t.dtype())
}

/// What every tensor must satisfy, and what every tensor must survive.
fn exercise(t: &Tensor) {
    assert_eq!(checked_numel(t.shape()), Some(t.numel()));
    assert_eq!(t.to_vec::<f64>().len(), t.numel());
    assert_eq!(t.to_vec::<f32>().len(), t.numel());
    assert_eq!(t.dim(), t.shape().len());
    if t.numel() == 1 {
        assert_eq!(
            tensor_bits(t),
            bits(std::iter::once(t.item::<f64>()), t.dtype())
        );
    } else {
        let err = t.try_item::<f64>().unwrap_err();
        assert!(err.to_string().starts_with("item: "), "{err}");
    }
    // Printing: PyTorch's algorithm on whatever values arrived.
    let printed = t.to_string();
    assert!(printed.starts_with("tensor("), "{printed}");
    // A dtype round trip keeps f32 values exactly (f64 -> f32 -> f64 need not).
    let other = if t.dtype() == DType::F32 {
        DType::F64
    } else {
        DType::F32
    };
    let there = t.to_dtype(other);
    assert_eq!(there.shape(), t.shape());
    if t.dtype() == DType::F32 {
        assert_eq!(tensor_bits(&there.to_dtype(DType::F32)), tensor_bits(t));
    }
    // Backward through a use of it: d/dx sum(x * x) = 2x.
    let x = t.detach().set_requires_grad(true);
    (&x * &x)
        .sum()
        .backward()
        .expect("backward of a scalar loss");
    let g = x.grad().expect("the leaf gets a gradient");
    assert_eq!(g.shape(), t.shape());
    assert_eq!(g.dtype(), t.dtype());
    assert_eq!(tensor_bits(&g), tensor_bits(&t.mul_scalar(2.0)));
}

fn from_vec_case<T: tensorgrad::Element>(shape: &[usize], values: Vec<T>) {
    let n = values.len();
    let given: Vec<f64> = values.iter().map(|v| v.to_f64()).collect();
    match Tensor::from_vec(values, shape) {
        Ok(t) => {
            assert_eq!(checked_numel(shape), Some(n));
            assert_eq!(t.shape(), shape);
            assert_eq!(tensor_bits(&t), bits(given.into_iter(), t.dtype()));
            exercise(&t);
        }
        Err(e) => {
            assert_ne!(
                checked_numel(shape),
                Some(n),
                "from_vec refused a fitting vector"
            );
            assert!(e.to_string().starts_with("from_vec: "), "{e}");
        }
    }
}

fuzz_target!(|ctor: Ctor| {
    match ctor {
        Ctor::FromVecF32 { shape, values } => from_vec_case(&shape, values),
        Ctor::FromVecF64 { shape, values } => from_vec_case(&shape, values),
        Ctor::FromVecExact { split, values, f64 } => {
            // Sizes that multiply to values.len(): peel divisors off the length.
            let mut rest = values.len().min(MAX_NUMEL);
            let mut shape = Vec::new();
            for s in split.iter().take(5) {
                let d = (*s as usize % 4) + 1;
                if rest % d == 0 {
                    shape.push(d);
                    rest /= d;
                }
            }
            shape.push(rest);
            let n: usize = shape.iter().product();
            let values = &values[..n];
            if f64 {
                from_vec_case(&shape, values.to_vec());
            } else {
                from_vec_case(&shape, values.iter().map(|&v| v as f32).collect());
            }
        }
        Ctor::TryFull { shape, value, f64 } => match checked_numel(&shape) {
            Some(n) if n <= MAX_NUMEL => {
                let t = Tensor::try_full_with(&shape, value, dtype(f64)).expect("a valid shape");
                assert_eq!(t.shape(), &shape[..]);
                assert_eq!(
                    tensor_bits(&t),
                    bits(std::iter::repeat(value).take(n), t.dtype())
                );
                exercise(&t);
            }
            Some(_) => {} // valid but too big to allocate here
            None => {
                let e = Tensor::try_full_with(&shape, value, dtype(f64)).unwrap_err();
                assert!(e.to_string().starts_with("full: "), "{e}");
            }
        },
        Ctor::Full {
            shape,
            value,
            f64,
            kind,
        } => {
            let Some(shape) = small_shape(&shape) else {
                return;
            };
            let dt = dtype(f64);
            let (t, v) = match kind % 4 {
                0 => (Tensor::zeros_dtype(&shape, dt), 0.0),
                1 => (Tensor::ones_dtype(&shape, dt), 1.0),
                2 => (Tensor::full_with(&shape, value, dt), value),
                _ => (
                    Tensor::full_like(&Tensor::zeros_dtype(&shape, dt), value),
                    value,
                ),
            };
            assert_eq!(t.shape(), &shape[..]);
            assert_eq!(
                tensor_bits(&t),
                bits(std::iter::repeat(v).take(t.numel()), dt)
            );
            exercise(&t);
        }
        Ctor::Linspace {
            start,
            end,
            steps,
            f64,
        } => {
            let steps = steps as usize % (MAX_NUMEL + 1);
            let t = Tensor::linspace_with(start, end, steps, dtype(f64));
            assert_eq!(t.shape(), &[steps]);
            exercise(&t);
        }
        Ctor::Arange {
            start,
            end,
            step,
            f64,
        } => {
            // Only counts that can be allocated here are run; the others must be errors
            // without allocating (they are above the limit try_arange refuses).
            let count = ((end - start) / step).ceil();
            let feasible = count.is_nan() || count < 0.0 || count <= MAX_NUMEL as f64;
            let refused = !count.is_finite() || count > (isize::MAX as usize / 8) as f64;
            if !(feasible || refused) {
                return;
            }
            match Tensor::try_arange_with(start, end, step, dtype(f64)) {
                Ok(t) => {
                    assert!(
                        start.is_finite() && end.is_finite() && step.is_finite() && step != 0.0
                    );
                    assert_eq!(t.numel() as f64, count.max(0.0));
                    exercise(&t);
                }
                Err(e) => assert!(e.to_string().starts_with("arange: "), "{e}"),
            }
        }
        Ctor::Eye { n, f64 } => {
            let n = n as usize;
            let t = Tensor::eye_with(n, dtype(f64));
            assert_eq!(t.shape(), &[n, n]);
            let v = t.to_vec::<f64>();
            for i in 0..n {
                for j in 0..n {
                    assert_eq!(v[i * n + j], if i == j { 1.0 } else { 0.0 });
                }
            }
            exercise(&t);
        }
        Ctor::Scalar { value, f64 } => {
            let t = if f64 {
                Tensor::scalar(value)
            } else {
                Tensor::scalar(value as f32)
            };
            assert_eq!(t.shape(), &[] as &[usize]);
            exercise(&t);
        }
        Ctor::Random {
            shape,
            seed,
            normal,
            f64,
        } => {
            let Some(shape) = small_shape(&shape) else {
                return;
            };
            tensorgrad::manual_seed(seed);
            let t = if normal {
                Tensor::randn_with(&shape, dtype(f64))
            } else {
                Tensor::rand_with(&shape, dtype(f64))
            };
            assert_eq!(t.shape(), &shape[..]);
            if !normal {
                assert!(t.to_vec::<f64>().iter().all(|v| (0.0..1.0).contains(v)));
            }
            exercise(&t);
        }
    }
});

//! Regression tests for what the property tests (`proptest_ops.rs`) and the fuzzers
//! (`fuzz/fuzz_targets/`) found.
//!
//! Each test failed before the fix its comment names, and all are fixed: the first group in
//! `src/layout.rs`, `src/tensor.rs` and `src/create.rs`, the second in `src/ops/` and
//! `src/kernels/`. The property test and the fuzzers skip none of them.

use tensorgrad::{no_grad, DType, Error, Tensor};

// ----- fixed -----

/// An empty tensor viewed with non-row-major strides (`[3, 0]` transposed has strides
/// `[1, 1]`): `sum` walked it as strided and divided by the zero-sized dim. Found by proptest.
/// Fix: an empty layout is contiguous, as in PyTorch (`Layout::is_contiguous`).
#[test]
fn sum_of_an_empty_transposed_tensor() {
    let t = Tensor::zeros(&[3, 0]).t();
    assert!(t.is_contiguous());
    assert_eq!(t.sum().item::<f32>(), 0.0);
    assert_eq!(t.to_vec::<f32>(), Vec::<f32>::new());
}

/// `unsqueeze` of the same tensor found no view (`Layout::view` refused every empty strided
/// layout) and hit the `expect` in `view_op`. Found by proptest. Same fix.
#[test]
fn unsqueeze_and_reshape_of_an_empty_transposed_tensor() {
    let t = Tensor::zeros(&[3, 0]).set_requires_grad(true);
    let u = t.t().unsqueeze(0);
    assert_eq!(u.shape(), &[1, 0, 3]);
    assert_eq!(t.t().reshape([0, 1, 3]).shape(), &[0, 1, 3]);
    u.sum().backward().unwrap();
    assert_eq!(t.grad().unwrap().shape(), &[3, 0]);
}

/// Rows 1..2 of an empty `[4, 0]` move the view's offset past the end of its (empty) storage;
/// reading it sliced `storage[1..1]` of a 0-length buffer. Found by proptest. Fix:
/// `Layout::contiguous_range` of an empty layout is `0..0`.
#[test]
fn narrow_of_an_empty_tensor_reads_back_empty() {
    let t = Tensor::zeros(&[4, 0]).narrow(0, 1, 1);
    assert_eq!(t.shape(), &[1, 0]);
    assert_eq!(t.to_vec::<f64>(), Vec::<f64>::new());
    assert_eq!(t.contiguous().shape(), &[1, 0]);
    assert_eq!(t.sum().item::<f32>(), 0.0);
}

/// `[0]` reshaped to `[isize::MAX, 0, 3]` (0 elements, valid) overflowed computing its
/// contiguous strides. Found by proptest. Fix: `contiguous_strides` saturates, which only
/// matters for empty tensors with huge sizes, whose strides are never used to read.
#[test]
fn empty_tensor_with_huge_sizes() {
    let t = Tensor::zeros(&[0]).reshape([isize::MAX, 0, 3]);
    assert_eq!(t.shape(), &[isize::MAX as usize, 0, 3]);
    assert_eq!(t.numel(), 0);
    assert_eq!(t.to_vec::<f32>(), Vec::<f32>::new());
}

/// A shape whose size product overflows `usize`: `from_vec` panicked in debug builds and, in
/// release, wrapped the count to 0 and accepted an empty vector for it. Fix: checked product.
#[test]
fn from_vec_with_an_overflowing_shape_is_an_error() {
    for shape in [
        &[1usize << 32, 1 << 32][..],
        &[usize::MAX, 2],
        &[1 << 63, 2, 0],
    ] {
        let err = Tensor::from_vec(Vec::<f32>::new(), shape).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { op: "from_vec", .. }),
            "{err:?}"
        );
    }
    assert!(Tensor::try_full_with(&[1 << 40, 1 << 40], 0.0, DType::F64).is_err());
}

/// An empty tensor with huge sizes, `[0, 18446744013580009471, 15859583]`: `from_vec` of an
/// empty vector accepted it (its element count is 0), and `x * x` then overflowed computing
/// strides times sizes in the kernels. Found by the `tensor_construction` fuzzer. Fix: like
/// PyTorch ("Stride calculation overflowed"), constructors refuse shapes whose product with
/// sizes of 0 counted as 1 overflows.
#[test]
fn constructors_refuse_empty_shapes_whose_strides_overflow() {
    let shape = [0, 18446744013580009471, 15859583];
    let err = Tensor::from_vec(Vec::<f32>::new(), &shape).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { op: "from_vec", .. }),
        "{err:?}"
    );
    assert!(Tensor::try_full_with(&[0, 1 << 62, 4], 0.0, DType::F32).is_err());
    // Empty shapes whose strides fit are fine.
    let t = Tensor::from_vec(Vec::<f32>::new(), &[0, 1 << 62, 3]).unwrap();
    assert_eq!((t.numel(), (&t * &t).shape()), (0, &[0, 1 << 62, 3][..]));
}

/// `arange` with an infinite step returned an empty tensor (PyTorch: "step must be finite"),
/// and a count too large for memory saturated `as usize` into a capacity-overflow panic.
#[test]
fn arange_refuses_what_pytorch_refuses() {
    assert!(Tensor::try_arange(0.0, 1.0, f64::INFINITY).is_err());
    assert!(Tensor::try_arange(0.0, 1e300, 1e-300).is_err());
    assert_eq!(Tensor::try_arange(0.0, 1.0, 0.25).unwrap().numel(), 4);
    assert_eq!(Tensor::try_arange(1.0, 1.0, 1.0).unwrap().numel(), 0);
}

// ----- fixed in src/ops and src/kernels -----

/// `src/kernels/strided.rs`, `Walk::for_rows` positions its odometer with `rem % outer[d]`
/// before checking that there is any row to visit, so a zero-sized outer dim divides by zero:
/// in-place ops and dim reductions of empty tensors, and the backward of broadcasting ops
/// (which reduce the gradient) when the broadcast shape is empty. Fix: return early when
/// `start >= end`.
#[test]
fn kernels_walk_divides_by_a_zero_sized_outer_dim() {
    let t = Tensor::zeros(&[2, 0, 0]);
    no_grad(|| t.add_(&Tensor::zeros(&[2, 0, 0])));
    assert_eq!(t.sum_dim([1, 2], false).to_vec::<f32>(), vec![0.0, 0.0]);
    let a = Tensor::zeros(&[1, 1]).set_requires_grad(true);
    (&a + &Tensor::zeros(&[0, 0])).mean().backward().unwrap();
    assert_eq!(a.grad().unwrap().to_vec::<f32>(), vec![0.0]);
}

/// `src/kernels/strided.rs`, `Walk::new` multiplies strides by sizes unchecked, and the
/// element-wise kernels build a walk before noticing that there is nothing to do. An empty
/// tensor whose sizes have a huge product can still come from a reshape (PyTorch allows
/// `zeros(0).reshape(0, 2^62, 2^30)`), and any element-wise op on it overflows (a panic in
/// debug builds). Fix: return early for empty shapes, or `wrapping_mul` in the merge test.
#[test]
fn elementwise_ops_on_an_empty_tensor_with_huge_sizes() {
    let t = Tensor::zeros(&[0]).reshape([0isize, 1 << 62, 1 << 30]);
    assert_eq!((&t * &t).numel(), 0);
}

/// `src/ops/view.rs`, `infer_shape` multiplies the requested sizes unchecked: a panic
/// ("attempt to multiply with overflow") in debug builds, and in release a wrapped product
/// that can accept a shape of 2^64 elements for an empty tensor. PyTorch: "numel: integer
/// multiplication overflow". Fix: `checked_mul`, returning the shape error.
#[test]
fn reshape_with_an_overflowing_size_product_is_an_error() {
    let t = Tensor::zeros(&[0]);
    assert!(t.try_reshape([1i64 << 32, 1 << 32]).is_err());
    assert!(t.try_reshape([1i64 << 32, 1 << 32, 0]).is_err());
    assert!(Tensor::zeros(&[4])
        .try_reshape([3, isize::MAX, -1, -1])
        .is_err());
    // What the reshape_views fuzzer found: small sizes, but many of them.
    let mut sizes = vec![5i64; 28];
    sizes.push(0);
    assert!(t.try_reshape(&sizes).is_err());
}

/// `src/ops/view.rs`, `try_expand` accepts a target whose element count overflows `usize`;
/// `numel()` of the result then overflows (a panic in debug builds). PyTorch: "numel: integer
/// multiplication overflow". Fix: check the product of the target sizes.
#[test]
fn expand_to_an_overflowing_shape_is_an_error() {
    let err = Tensor::zeros(&[1]).try_expand([1i64 << 32, 1 << 32, 4]);
    assert!(
        err.is_err(),
        "got shape {:?}",
        err.map(|t| t.shape().to_vec())
    );
    // What the reshape_views fuzzer found: small sizes, but many of them.
    assert!(Tensor::zeros(&[1]).try_expand(vec![5i64; 45]).is_err());
    // And with -1s keeping the existing sizes.
    let t = Tensor::zeros(&[2, 3, 3, 3, 1]);
    assert!(t
        .try_expand([-1i64, -1, -1, -1, 2964441502886920191])
        .is_err());
}

/// `src/ops/view.rs`, `try_flatten` returns `[1]` for a 0-d tensor before checking its dims,
/// so `flatten(5, 7)` succeeds; PyTorch: "Dimension out of range (expected to be in range of
/// [-1, 0], but got 5)". Fix: normalise both dims first.
#[test]
fn flatten_of_a_0d_tensor_checks_its_dims() {
    let t = Tensor::scalar(1.0f32);
    assert_eq!(t.flatten(0, -1).shape(), &[1]);
    assert!(matches!(
        t.try_flatten(5, 7),
        Err(Error::DimOutOfRange { .. })
    ));
}

/// `src/ops/reduce.rs`, `reduced_mask` skips the repeated-dim check for 0-d tensors, so
/// `sum_dim(&[0, 0])` of a scalar succeeds; PyTorch: "dim 0 appears multiple times in the list
/// of dims". Fix: check for repeats before the 0-d `continue`.
#[test]
fn sum_dim_of_a_0d_tensor_rejects_repeated_dims() {
    let t = Tensor::scalar(1.0f32);
    assert!(t.try_sum_dim([0, 0], false).is_err());
    assert!(t.try_mean_dim([0, -1], false).is_err());
    assert!(t.try_sum_dim([0], false).is_ok());
}

/// `src/ops/view.rs`: the shape errors of reshape and expand print the requested sizes with
/// `-1` turned into `0`, so `reshape(&[-1, 5])` of 12 elements says "(shapes [3, 4] and
/// [0, 5])", naming a shape nobody asked for. Fix: keep the sizes as given (`isize`) in the
/// message, e.g. `detail` only, or a `Vec<isize>` field.
#[test]
fn shape_errors_print_the_requested_sizes() {
    let msg = Tensor::zeros(&[3, 4])
        .try_reshape([-1, 5])
        .unwrap_err()
        .to_string();
    assert!(!msg.contains("[0, 5]"), "{msg}");
    let msg = Tensor::zeros(&[3])
        .try_expand([-1, 3])
        .unwrap_err()
        .to_string();
    assert!(!msg.contains("[0, 3]"), "{msg}");
}

/// `src/ops/pow.rs`: PyTorch computes `x ** -0.5` as `rsqrt(x)`, which is NaN at -inf;
/// `powf(-0.5)` uses `pow`, which gives 0 there. The gradient of `powf(0.5)` is
/// `0.5 * x.powf(-0.5)`, so at -inf it is 0 where PyTorch gives NaN. Found by the numerics
/// fixture (`tests/numerics.rs`, whose `KNOWN` list holds these two). Fix: special-case
/// `e == -0.5` as `1 / sqrt(x)`, as 0.5 is special-cased as `sqrt`.
#[test]
fn powf_minus_half_of_negative_infinity_is_nan_like_pytorch() {
    let x = Tensor::from_vec(vec![f32::NEG_INFINITY], &[1])
        .unwrap()
        .set_requires_grad(true);
    assert!(x.powf(-0.5).item::<f32>().is_nan());
    x.powf(0.5).sum().backward().unwrap();
    assert!(x.grad().unwrap().item::<f32>().is_nan());
}

/// `src/ops/view.rs`: expanding a 0-d tensor to `[0, isize::MAX, 3]` was refused as "more
/// elements than memory can address" although it has no elements, while reshape accepts the
/// same shape for an empty tensor. Found by proptest. Fix: expand checks the element count.
#[test]
fn expand_to_an_empty_shape_with_huge_sizes() {
    let t = Tensor::scalar(1.0f32).expand([0, isize::MAX, 3]);
    assert_eq!(t.shape(), &[0, isize::MAX as usize, 3]);
    assert_eq!(t.numel(), 0);
    assert!(t.to_vec::<f32>().is_empty());
    assert!(Tensor::scalar(1.0f32)
        .try_expand([2, isize::MAX, 3])
        .is_err());
}

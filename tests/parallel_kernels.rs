//! Inputs above the kernels' parallel threshold (32,768 elements) take the parallel paths of
//! the reductions (over the last dim, and over leading dims in blocks of rows), softmax's row kernels, joins, `index_select` and transposed copies; each test compares them with the
//! definition, or with the same op on small pieces of the same values (the serial paths),
//! exactly.

mod kernel_inputs;

use kernel_inputs::{bits, matrix_of, values};
use tensorgrad::autograd::{grad_with, GradOptions};
use tensorgrad::nn::functional::{self as F, Reduction};
use tensorgrad::{DType, Tensor};

const ROWS: usize = 300;
const COLS: usize = 257; // 77,100 elements; not a multiple of the 16 accumulator lanes

fn matrix(dtype: DType, seed: u64) -> Tensor {
    matrix_of(ROWS, COLS, dtype, seed)
}

#[test]
fn sums_over_the_last_dim_match_row_by_row_sums() {
    for dtype in [DType::F32, DType::F64] {
        let x = matrix(dtype, 1);
        let whole = x.sum_dim([1], false);
        let rows: Vec<Tensor> = (0..ROWS).map(|r| x.narrow(0, r, 1).sum()).collect();
        let by_row = Tensor::stack(&rows.iter().collect::<Vec<_>>(), 0);
        assert_eq!(bits(&whole), bits(&by_row), "{dtype:?}");
        // And within rounding of an f64 sum taken one element at a time.
        let v = x.to_vec::<f64>();
        for (r, got) in whole.to_vec::<f64>().iter().enumerate() {
            let want: f64 = v[r * COLS..(r + 1) * COLS].iter().sum();
            assert!(
                (got - want).abs() <= 1e-3 * (1.0 + want.abs()),
                "{dtype:?} row {r}"
            );
        }
    }
}

/// Reductions over the leading dims of a large tensor fold blocks of rows in parallel and
/// then the blocks' partial results: within rounding of an f64 sum of the column, and the max
/// exact, NaN included. The 3-d case's blocks start and end inside its outer rows, and its
/// transposed copy reduces a non-contiguous layout.
#[test]
fn sums_and_max_over_leading_dims_match_the_definition() {
    let (outer, middle, cols) = (9, 300, 130);
    let mut v = values(outer * middle * cols, 4);
    v[(4 * middle + 17) * cols + 99] = f64::NAN; // column 99 has a NaN inside one block
    for dtype in [DType::F32, DType::F64] {
        let x = Tensor::from_vec(v.clone(), &[outer, middle, cols])
            .unwrap()
            .to_dtype(dtype);
        let xv = x.to_vec::<f64>();
        let sums = x.sum_dim([0, 1], false).to_vec::<f64>();
        let maxes = x.amax([0, 1], false).to_vec::<f64>();
        let swapped = x.transpose(0, 1).sum_dim([0, 1], false).to_vec::<f64>();
        for c in 0..cols {
            let column = || xv.iter().skip(c).step_by(cols).copied();
            let want: f64 = column().sum();
            if c == 99 {
                assert!(sums[c].is_nan() && maxes[c].is_nan() && swapped[c].is_nan());
                continue;
            }
            assert!(
                (sums[c] - want).abs() <= 1e-3 * (1.0 + want.abs()),
                "{dtype:?} column {c}: {} vs {want}",
                sums[c]
            );
            assert!((swapped[c] - want).abs() <= 1e-3 * (1.0 + want.abs()));
            assert_eq!(maxes[c], column().fold(f64::NEG_INFINITY, f64::max));
        }
    }
}

#[test]
fn max_and_min_over_the_last_dim_match_the_definition_with_nan() {
    let mut v = values(ROWS * COLS, 2);
    v[5 * COLS + 200] = f64::NAN; // row 5 has a NaN late in the row: it must win
    v[7 * COLS] = f64::NAN; // row 7 has one first
    let x = Tensor::from_vec(v.clone(), &[ROWS, COLS]).unwrap();
    let (max, min) = (
        x.amax([1], false).to_vec::<f64>(),
        x.amin([1], false).to_vec::<f64>(),
    );
    for r in 0..ROWS {
        let row = &v[r * COLS..(r + 1) * COLS];
        if row.iter().any(|e| e.is_nan()) {
            assert!(max[r].is_nan() && min[r].is_nan(), "row {r}");
        } else {
            assert_eq!(
                max[r],
                row.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            );
            assert_eq!(min[r], row.iter().copied().fold(f64::INFINITY, f64::min));
        }
    }
}

/// Reductions over the leading dim accumulate whole rows: every column adds its rows in
/// order, within blocks of 2¹⁷ elements' worth of rows when there are at least two blocks
/// (`reduce.rs`, `LEADING_BLOCK`), and then the blocks' sums in order; the result equals that
/// f32 (or f64) fold bit for bit. The broadcast gradient of that sum (a stride-0 view,
/// materialised by unit-stride runs in parallel) comes out exactly.
#[test]
fn sums_over_the_first_dim_add_rows_in_order() {
    fn fold<T: Copy + std::ops::Add<Output = T>>(zero: T, xs: impl Iterator<Item = T>) -> T {
        xs.fold(zero, |a, x| a + x)
    }
    for dtype in [DType::F32, DType::F64] {
        // One block (serial), 64-row blocks (300 rows: four full blocks and one of 44), and
        // a tiny input.
        for (rows, cols) in [(ROWS, COLS), (ROWS, 2048), (3, 5)] {
            let x = matrix_of(rows, cols, dtype, 17);
            let v = x.to_vec::<f64>();
            let per_block = ((1 << 17) / cols).max(1);
            let block = if rows * cols < 1 << 15 || rows < 2 * per_block {
                rows
            } else {
                per_block
            };
            let want: Vec<f64> = (0..cols)
                .map(|c| {
                    let col = |r: usize| v[r * cols + c];
                    let starts = (0..rows).step_by(block);
                    let ranges = starts.map(|r0| r0..(r0 + block).min(rows));
                    match dtype {
                        DType::F32 => {
                            let blocks = ranges.map(|rs| fold(0f32, rs.map(|r| col(r) as f32)));
                            fold(0f32, blocks) as f64
                        }
                        DType::F64 => fold(0f64, ranges.map(|rs| fold(0f64, rs.map(col)))),
                    }
                })
                .collect();
            let got = x.sum_dim(0, false).to_vec::<f64>();
            assert!(
                got.iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{dtype:?} {rows}x{cols}"
            );
            let max = x.amax(0, false).to_vec::<f64>();
            for (c, m) in max.iter().enumerate() {
                let col = (0..rows).map(|r| v[r * cols + c]);
                assert_eq!(*m, col.fold(f64::NEG_INFINITY, f64::max));
            }
            let xr = x.clone().set_requires_grad(true);
            let w = matrix_of(1, cols, dtype, 18).reshape([-1]);
            (xr.sum_dim(0, false) * &w).sum().backward().unwrap();
            let grad = xr.grad().unwrap().to_vec::<f64>();
            let w = w.to_vec::<f64>();
            assert!(
                (0..rows * cols).all(|i| grad[i] == w[i % cols]),
                "{dtype:?}"
            );
        }
    }
}

#[test]
fn softmax_over_the_last_dim_matches_row_by_row() {
    let x = matrix(DType::F32, 3);
    let whole = x.softmax(1);
    let rows: Vec<Tensor> = (0..ROWS).map(|r| x.narrow(0, r, 1).softmax(1)).collect();
    let by_row = Tensor::cat(&rows.iter().collect::<Vec<_>>(), 0);
    assert_eq!(bits(&whole), bits(&by_row));
}

/// d loss / d x, keeping the graph; with `create_graph` the backward runs the recorded
/// (composite, differentiable) rules, without it the fused one-pass kernels where an op has
/// them.
fn grad_of(loss: &Tensor, x: &Tensor, create_graph: bool) -> Tensor {
    let options = GradOptions {
        create_graph,
        retain_graph: Some(true),
        ..Default::default()
    };
    grad_with(&[loss], &[x], options).unwrap()[0]
        .clone()
        .unwrap()
}

/// Asserts bitwise equality (any NaN equals any NaN: its sign and payload are not specified),
/// naming the first difference.
fn assert_same_bits(a: &Tensor, b: &Tensor, what: &str) {
    let (a, b) = (a.to_vec::<f64>(), b.to_vec::<f64>());
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        let same = x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        assert!(same, "{what}: element {i}: {x:e} vs {y:e}");
    }
}

/// Checks a loss whose forward and (without `create_graph`) backward take one-pass paths:
/// `loss(x, y, None)` against `composite(x, y)`, its forward written out op by op, and for a
/// mean and a sum the one-pass gradient against the recorded rule's, bit for bit, in f32 and
/// f64, contiguous and transposed. `inputs(dtype)` gives `x` and `y` as `[ROWS, COLS]`.
fn check_fused_loss(
    inputs: impl Fn(DType) -> (Tensor, Tensor),
    loss: impl Fn(&Tensor, &Tensor, Reduction) -> Tensor,
    composite: impl Fn(&Tensor, &Tensor) -> Tensor,
) {
    for dtype in [DType::F32, DType::F64] {
        for transposed in [false, true] {
            let (x, y) = inputs(dtype);
            let (x, y) = if transposed { (x.t(), y.t()) } else { (x, y) };
            let x = x.set_requires_grad(true);
            let what = format!("{dtype:?} transposed={transposed}");
            let each = loss(&x, &y, Reduction::None);
            let written_out = tensorgrad::no_grad(|| composite(&x, &y));
            assert_same_bits(&each, &written_out, &format!("forward {what}"));
            for reduction in [Reduction::Mean, Reduction::Sum] {
                // Scaled, so the upstream gradient is not 1.
                let scaled = loss(&x, &y, reduction) * 3.7;
                let fused = grad_of(&scaled, &x, false);
                let recorded = grad_of(&scaled, &x, true);
                assert_same_bits(&fused, &recorded, &format!("backward {what} {reduction:?}"));
            }
        }
    }
}

/// `binary_cross_entropy_with_logits` on contiguous f32 runs as one pass forward and one
/// backward (without `create_graph`): the same values, bit for bit, as PyTorch's formula
/// written out op by op and as the recorded (differentiable) backward rule; large logits,
/// ±inf and NaN included. f64 and a transposed input take the composite path.
#[test]
fn fused_bce_with_logits_matches_the_composite_rule_bit_for_bit() {
    let mut v: Vec<f64> = values(ROWS * COLS, 11).iter().map(|x| 4.0 * x).collect();
    v[..6].copy_from_slice(&[90.0, -90.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 0.0]);
    let targets: Vec<f64> = (0..ROWS * COLS).map(|i| (i % 5) as f64 / 4.0).collect();
    let matrix_of_values = |v: &[f64], dtype| {
        Tensor::from_vec(v.to_vec(), &[ROWS, COLS])
            .unwrap()
            .to_dtype(dtype)
    };
    check_fused_loss(
        |dtype| {
            (
                matrix_of_values(&v, dtype),
                matrix_of_values(&targets, dtype),
            )
        },
        |x, y, reduction| F::binary_cross_entropy_with_logits_with(x, y, reduction).unwrap(),
        |x, y| {
            let log_sigmoid = x.clamp_max(0.0) - x.abs().neg().exp().log1p();
            y.rsub_scalar(1.0) * x - log_sigmoid
        },
    );
}

/// `mse_loss` computes the squares in one pass, and its backward (without `create_graph`, for
/// a mean or sum) in one pass: bit for bit the composite `(x - y).powi(2)` and the recorded
/// rule, in every dtype and layout.
#[test]
fn fused_mse_loss_matches_the_composite_rule_bit_for_bit() {
    check_fused_loss(
        |dtype| (matrix(dtype, 12), matrix(dtype, 13)),
        |x, y, reduction| F::mse_loss_with(x, y, reduction).unwrap(),
        |x, y| (x - y).powi(2),
    );
}

/// Softmax, log-softmax and logsumexp along the last dim of a contiguous tensor run as fused
/// row kernels (forward, and the softmaxes' backward without `create_graph`). They must agree bit for bit with
/// the composite rules they replace (the forward written out op by op here; the backward
/// as it runs under `create_graph`), parallel (300×257) and serial (3×5) alike, with rows holding ±inf,
/// NaN, only -inf, and logits near ±1000.
#[test]
fn fused_softmax_rows_match_the_composite_rules_bit_for_bit() {
    for dtype in [DType::F32, DType::F64] {
        for (rows, cols) in [(ROWS, COLS), (3, 5)] {
            let mut v = values(rows * cols, 9);
            v[0] = f64::INFINITY; // row 0: +inf (NaN results, as in PyTorch)
            v[cols + 1] = f64::NAN; // row 1: NaN
            for x in &mut v[2 * cols..3 * cols] {
                *x = f64::NEG_INFINITY; // row 2: only -inf
            }
            if rows > 3 {
                v[3 * cols] = 1000.0; // row 3: a large logit
                v[4 * cols + 2] = -1000.0;
            }
            let x = Tensor::from_vec(v, &[rows, cols])
                .unwrap()
                .to_dtype(dtype)
                .set_requires_grad(true);
            let w = Tensor::from_vec(values(rows * cols, 10), &[rows, cols])
                .unwrap()
                .to_dtype(dtype);
            // logsumexp over the last dim: its row kernel against the composite, op by op.
            let composite = tensorgrad::no_grad(|| {
                let max = x.amax(-1, true);
                let zero = Tensor::zeros_dtype(&[], dtype);
                let shift = max.abs().eq_scalar(f64::INFINITY).where_cond(&zero, &max);
                ((&x - &shift).exp().sum_dim(-1, true).log() + &shift).reshape([-1])
            });
            let what = format!("logsumexp {dtype:?} {rows}x{cols}");
            assert_same_bits(&x.logsumexp(-1, false), &composite, &what);
            for log in [false, true] {
                let op = |t: &Tensor, dim: isize| {
                    if log {
                        t.log_softmax(dim)
                    } else {
                        t.softmax(dim)
                    }
                };
                let fused = op(&x, -1);
                // The composite forward, op by op (the stable shift is the row max, or 0 where
                // that is ±inf).
                let composite = tensorgrad::no_grad(|| {
                    let max = x.amax(-1, true);
                    let zero = Tensor::zeros_dtype(&[], dtype);
                    let shift = max.abs().eq_scalar(f64::INFINITY).where_cond(&zero, &max);
                    let shifted = &x - &shift;
                    let e = shifted.exp();
                    if log {
                        &shifted - e.sum_dim(-1, true).log()
                    } else {
                        &e / e.sum_dim(-1, true)
                    }
                });
                let what = format!("{dtype:?} {rows}x{cols} log={log}");
                assert_same_bits(&fused, &composite, &what);
                let loss = (&fused * &w).sum();
                assert_same_bits(
                    &grad_of(&loss, &x, false),
                    &grad_of(&loss, &x, true),
                    &format!("backward {what}"),
                );
            }
        }
    }
}

/// `max_dim`/`min_dim` along a contiguous last dim (two vectorised passes per row, rows in
/// parallel) against the same op on a transposed copy along dim 0 (the one-by-one strided
/// scan): the same values and the same first indices, with ties, +0/−0 and NaN in the rows.
#[test]
fn max_and_min_with_indices_match_the_strided_scan() {
    for dtype in [DType::F32, DType::F64] {
        for (rows, cols) in [(ROWS, COLS), (3, 5)] {
            // Few distinct values: many ties.
            let mut v: Vec<f64> = values(rows * cols, 11)
                .iter()
                .map(|x| (x * 2.0).round())
                .collect();
            v[1] = f64::NAN; // row 0: a NaN after the first element
            v[cols + 3] = 0.0; // row 1: +0 and −0 tie as the maximum
            for x in &mut v[cols..2 * cols] {
                *x = x.min(-1.0);
            }
            v[cols] = -0.0;
            v[cols + 3] = 0.0;
            let x = Tensor::from_vec(v, &[rows, cols]).unwrap().to_dtype(dtype);
            let xt = x.t().contiguous(); // [cols, rows]: dim 0 is strided
            for is_max in [true, false] {
                let ((v1, i1), (v2, i2)) = if is_max {
                    (x.max_dim(-1, false), xt.max_dim(0, false))
                } else {
                    (x.min_dim(-1, false), xt.min_dim(0, false))
                };
                let what = format!("{dtype:?} {rows}x{cols} max={is_max}");
                assert_same_bits(&v1, &v2, &what);
                assert_eq!(i1.to_vec::<f64>(), i2.to_vec::<f64>(), "{what}");
            }
            let (v, i) = x.max_dim(-1, false);
            assert!(v.to_vec::<f64>()[0].is_nan() && i.to_vec::<f64>()[0] == 1.0);
            assert_eq!(i.to_vec::<f64>()[1], 0.0); // the first of the tied zeros
            assert_eq!(v.to_vec::<f64>()[1].to_bits(), (-0.0f64).to_bits());
        }
    }
}

/// `cat` and `stack` of contiguous inputs (one pass into a fresh buffer, rows in parallel)
/// equal the same joins of the same values held as transposed views (the strided path:
/// each input copied into its window of a zeroed output), in every dim, above and below the
/// parallel threshold, with one input repeated.
#[test]
fn contiguous_joins_match_the_strided_path() {
    for dtype in [DType::F32, DType::F64] {
        for (rows, cols) in [(ROWS, COLS), (3, 5)] {
            let a = matrix_of(rows, cols, dtype, 12);
            let b = matrix_of(rows, 2 * cols, dtype, 13);
            let c = matrix_of(2 * rows, cols, dtype, 14);
            // The same values as non-contiguous views.
            let strided = |t: &Tensor| t.t().contiguous().t();
            let (sa, sb, sc) = (strided(&a), strided(&b), strided(&c));
            assert!(!sa.is_contiguous());
            let what = format!("{dtype:?} {rows}x{cols}");
            for dim in [1, -1] {
                let fast = Tensor::cat(&[&a, &b, &a], dim);
                let slow = Tensor::cat(&[&sa, &sb, &sa], dim);
                assert_eq!(fast.shape(), &[rows, 4 * cols]);
                assert_same_bits(&fast, &slow, &format!("cat dim {dim} {what}"));
            }
            let fast = Tensor::cat(&[&a, &c], 0);
            assert_same_bits(
                &fast,
                &Tensor::cat(&[&sa, &sc], 0),
                &format!("cat dim 0 {what}"),
            );
            for dim in [0, 1, 2] {
                let fast = Tensor::stack(&[&a, &a, &a], dim);
                let slow = Tensor::stack(&[&sa, &sa, &sa], dim);
                assert_same_bits(&fast, &slow, &format!("stack dim {dim} {what}"));
            }
            // And against the definition, element by element.
            let joined = Tensor::cat(&[&a, &b], 1).to_vec::<f64>();
            let (va, vb) = (a.to_vec::<f64>(), b.to_vec::<f64>());
            for r in 0..rows {
                let row = &joined[r * 3 * cols..(r + 1) * 3 * cols];
                assert_eq!(&row[..cols], &va[r * cols..(r + 1) * cols]);
                assert_eq!(&row[cols..], &vb[r * 2 * cols..(r + 1) * 2 * cols]);
            }
        }
    }
}

/// `index_select`'s backward without `create_graph` (one pass, run by run, split between
/// threads by output rows) gives what the recorded scatter under `create_graph` gives, bit
/// for bit, with repeated and unused entries, in both dims, for a full and a broadcast
/// gradient, above and below the parallel threshold.
#[test]
fn index_select_backward_matches_the_recorded_scatter() {
    for dtype in [DType::F32, DType::F64] {
        for (rows, cols) in [(ROWS, COLS), (3, 5)] {
            let x = matrix_of(rows, cols, dtype, 15).set_requires_grad(true);
            for dim in [0usize, 1] {
                let n = [rows, cols][dim];
                // Repeats (i*7 mod n over more picks than entries) and, for n > 3, gaps.
                let picks: Vec<usize> = (0..n + 7).map(|i| (i * 7) % n.max(1) / 2).collect();
                let y = x.index_select(dim as isize, picks.as_slice());
                for weighted in [true, false] {
                    let loss = if weighted {
                        let w = matrix_of(y.shape()[0], y.shape()[1], dtype, 16);
                        (&y * &w).sum()
                    } else {
                        y.sum() // a broadcast (stride-0) gradient
                    };
                    let what = format!("{dtype:?} {rows}x{cols} dim {dim} weighted={weighted}");
                    let (fused, recorded) = (grad_of(&loss, &x, false), grad_of(&loss, &x, true));
                    assert_same_bits(&fused, &recorded, &what);
                }
            }
        }
    }
}

#[test]
fn index_select_matches_the_definition_in_every_dim_and_layout() {
    let x = matrix(DType::F32, 4);
    let v = x.to_vec::<f32>();
    let picks: Vec<usize> = (0..400).map(|i| (i * 37) % ROWS).collect();
    let rows = x.index_select(0, picks.as_slice());
    assert_eq!(rows.shape(), &[400, COLS]);
    let want: Vec<f32> = picks
        .iter()
        .flat_map(|&p| v[p * COLS..(p + 1) * COLS].to_vec())
        .collect();
    assert_eq!(rows.to_vec::<f32>(), want);

    let cols: Vec<usize> = (0..300).map(|i| (i * 11) % COLS).collect();
    let picked = x.index_select(1, cols.as_slice());
    let want: Vec<f32> = (0..ROWS)
        .flat_map(|r| cols.iter().map(move |&c| (r, c)))
        .map(|(r, c)| v[r * COLS + c])
        .collect();
    assert_eq!(picked.to_vec::<f32>(), want);

    // A transposed input: rows of the transpose are columns of x.
    let t = x.t();
    let picked = t.index_select(0, cols.as_slice());
    let want: Vec<f32> = cols
        .iter()
        .flat_map(|&c| (0..ROWS).map(move |r| (r, c)))
        .map(|(r, c)| v[r * COLS + c])
        .collect();
    assert_eq!(picked.to_vec::<f32>(), want);
}

#[test]
fn transposed_copies_match_the_definition() {
    // 2-D transposes above and below the parallel threshold, a batch of transposed matrices
    // taken from an offset, and f64.
    for (rows, cols) in [(ROWS, COLS), (40, 30), (33, 65)] {
        let x = Tensor::from_vec(values(rows * cols, 5), &[rows, cols]).unwrap();
        let v = x.to_vec::<f64>();
        let t = x.t().contiguous();
        assert_eq!(t.shape(), &[cols, rows]);
        let want: Vec<f64> = (0..cols)
            .flat_map(|c| (0..rows).map(move |r| (r, c)))
            .map(|(r, c)| v[r * cols + c])
            .collect();
        assert_eq!(t.to_vec::<f64>(), want, "{rows}x{cols}");
        let want_f32: Vec<f64> = want.iter().map(|&w| w as f32 as f64).collect();
        let got_f32 = x.to_dtype(DType::F32).t().contiguous();
        assert_eq!(got_f32.to_vec::<f64>(), want_f32, "{rows}x{cols} f32");
    }
    let (b, r, c) = (5, 70, 90);
    let x = Tensor::from_vec(values(b * r * c, 6), &[b, r, c]).unwrap();
    let v = x.to_vec::<f64>();
    let view = x.narrow(0, 1, 3).permute([0, 2, 1]); // offset, swapped last two dims
    let got = view.contiguous().to_vec::<f64>();
    let want: Vec<f64> = (1..4)
        .flat_map(|k| (0..c).flat_map(move |j| (0..r).map(move |i| (k, i, j))))
        .map(|(k, i, j)| v[(k * r + i) * c + j])
        .collect();
    assert_eq!(got, want);
}

//! Results do not depend on the number of threads: every parallel kernel cuts its work into
//! the same pieces whatever the thread count, so one thread and four give the same bits
//! (`tensorgrad::set_num_threads`). Inputs are above the parallel threshold (32,768
//! elements, 2¹⁸ multiply-adds for products).

mod kernel_inputs;

use kernel_inputs::{bits, matrix_of, values};
use tensorgrad::nn::functional::cross_entropy;
use tensorgrad::{get_num_threads, set_num_threads, DType, Tensor};

/// Every result the ops below produce, as bits, computed with `threads` threads.
fn results(threads: usize, dtype: DType) -> Vec<(String, Vec<u64>)> {
    set_num_threads(threads);
    assert_eq!(get_num_threads(), threads);
    let x = matrix_of(300, 257, dtype, 1);
    let w = matrix_of(300, 257, dtype, 2);
    let row = matrix_of(1, 257, dtype, 3);
    let mut out = vec![
        ("sum".to_string(), x.sum()),
        ("sum(0)".into(), x.sum_dim(0, false)),
        ("sum(1)".into(), x.sum_dim(1, false)),
        ("mean(0)".into(), x.mean_dim(0, true)),
        ("x * w".into(), &x * &w),
        ("x + row".into(), &x + &row),
        ("exp".into(), x.exp()),
        ("gelu".into(), x.gelu()),
        ("tanh".into(), x.tanh()),
        ("softmax(1)".into(), x.softmax(1)),
        ("log_softmax(0)".into(), x.log_softmax(0)),
        ("logsumexp(1)".into(), x.logsumexp(1, false)),
        ("max(1)".into(), x.max_dim(1, false).0),
        ("cat(1)".into(), Tensor::cat(&[&x, &w], 1)),
        ("t().contiguous()".into(), x.t().contiguous()),
        ("index_select".into(), x.index_select(0, [5, 0, 299, 5, 17])),
        ("log".into(), x.abs().log()),
    ];
    // Leading-dim reductions large enough to be cut into blocks of rows (the blocks of the
    // 3-d one cross its outer rows).
    let tall = matrix_of(1100, 257, dtype, 8);
    out.push(("sum(0) blocked".into(), tall.sum_dim(0, false)));
    out.push(("amax(0) blocked".into(), tall.amax(0, false)));
    let cube = Tensor::from_vec(values(9 * 300 * 130, 9), &[9, 300, 130])
        .unwrap()
        .to_dtype(dtype);
    out.push(("sum((0, 1)) blocked".into(), cube.sum_dim([0, 1], false)));
    // Products: row panels, uneven row panels, column panels (short and wide), a transposed
    // operand, a batch, and (f32, over 2²⁴ multiply-adds) our AVX2 kernel's row blocks.
    for (m, k, n) in [
        (300, 257, 200),
        (257, 300, 10),
        (64, 1100, 130),
        (310, 260, 215),
    ] {
        let a = matrix_of(m, k, dtype, 4);
        let b = matrix_of(k, n, dtype, 5);
        out.push((format!("{m}x{k} @ {k}x{n}"), a.matmul(&b)));
        out.push((
            format!("({k}x{m}).t() @ {k}x{n}"),
            a.t().contiguous().t().matmul(&b),
        ));
    }
    let batch = Tensor::from_vec(values(4 * 100 * 90, 6), &[4, 100, 90])
        .unwrap()
        .to_dtype(dtype);
    out.push(("bmm".into(), batch.matmul(&batch.transpose(1, 2))));
    // A training step's gradients: linear, relu, cross-entropy.
    let weight = matrix_of(64, 257, dtype, 7).set_requires_grad(true);
    let labels: Vec<usize> = (0..300).map(|i| (i * 7) % 64).collect();
    let logits = x.matmul(&weight.t()).relu();
    cross_entropy(&logits, &labels).unwrap().backward().unwrap();
    out.push(("weight.grad".into(), weight.grad().unwrap()));
    out.into_iter().map(|(name, t)| (name, bits(&t))).collect()
}

#[test]
fn one_thread_and_four_give_the_same_bits() {
    let before = get_num_threads();
    for dtype in [DType::F32, DType::F64] {
        let one = results(1, dtype);
        let four = results(4, dtype);
        for ((name, a), (_, b)) in one.iter().zip(&four) {
            assert!(a == b, "{name} ({dtype:?}) differs between 1 and 4 threads");
        }
    }
    set_num_threads(before);
}

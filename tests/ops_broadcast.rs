//! Property tests of broadcasting: for random broadcastable shape pairs, results have the
//! broadcast shape and gradients have the inputs' shapes; non-broadcastable pairs give
//! `Error::Broadcast` naming the op and both shapes, through the `try_` API, never a panic.

use proptest::prelude::*;
use tensorgrad::{Error, Result, Tensor};

/// NumPy's rule, written out independently of the library.
fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            let da = if i + a.len() >= n {
                a[i + a.len() - n]
            } else {
                1
            };
            let db = if i + b.len() >= n {
                b[i + b.len() - n]
            } else {
                1
            };
            match (da, db) {
                (x, y) if x == y => Some(x),
                (1, y) => Some(y),
                (x, 1) => Some(x),
                _ => None,
            }
        })
        .collect()
}

/// A target shape, then each operand keeps a suffix of it with some sizes set to 1.
fn broadcastable_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec(1usize..5, 0..5).prop_flat_map(|target| {
        let n = target.len();
        let operand = (0..=n, prop::collection::vec(any::<bool>(), n)).prop_map({
            let target = target.clone();
            move |(drop, ones)| {
                target
                    .iter()
                    .zip(&ones)
                    .skip(drop)
                    .map(|(&s, &one)| if one { 1 } else { s })
                    .collect::<Vec<usize>>()
            }
        });
        (operand.clone(), operand)
    })
}

/// Two shapes that differ in a trailing dim where neither size is 1.
fn incompatible_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (
        prop::collection::vec(1usize..4, 0..3),
        2usize..5,
        1usize..4,
        prop::collection::vec(1usize..4, 0..2),
    )
        .prop_map(|(lead, a, delta, tail)| {
            let mut x = lead.clone();
            x.push(a);
            x.extend(&tail);
            let mut y = vec![a + delta];
            y.extend(&tail);
            (x, y)
        })
}

type BinaryOp = fn(&Tensor, &Tensor) -> Result<Tensor>;

const OPS: &[(&str, BinaryOp)] = &[
    ("add", |a, b| a.try_add(b)),
    ("sub", |a, b| a.try_sub(b)),
    ("mul", |a, b| a.try_mul(b)),
    ("div", |a, b| a.try_div(b)),
    ("maximum", |a, b| a.try_maximum(b)),
    ("minimum", |a, b| a.try_minimum(b)),
    ("pow", |a, b| a.abs().add_scalar(0.5).try_pow(b)),
    ("where_cond", |a, b| a.gt_scalar(0.0).try_where_cond(a, b)),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn results_and_gradients_have_the_right_shapes((sa, sb) in broadcastable_pair()) {
        let expected = broadcast(&sa, &sb).expect("generated pairs broadcast");
        for &(name, op) in OPS {
            let a = Tensor::randn(&sa).set_requires_grad(true);
            let b = Tensor::randn(&sb).set_requires_grad(true);
            let out = op(&a, &b).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            prop_assert_eq!(out.shape(), expected.as_slice(), "{} of {:?} and {:?}", name, sa, sb);
            out.sum().backward().unwrap();
            let (ga, gb) = (a.grad().unwrap(), b.grad().unwrap());
            prop_assert_eq!(ga.shape(), sa.as_slice(), "{}: grad of lhs", name);
            prop_assert_eq!(gb.shape(), sb.as_slice(), "{}: grad of rhs", name);
        }
    }

    #[test]
    fn gradients_sum_over_broadcast_dims((sa, sb) in broadcastable_pair()) {
        // d/da sum(a + b) counts how many output elements each element of a reaches.
        let a = Tensor::zeros(&sa).set_requires_grad(true);
        let b = Tensor::zeros(&sb);
        (&a + &b).sum().backward().unwrap();
        let out: usize = broadcast(&sa, &sb).unwrap().iter().product();
        let reach = (out / sa.iter().product::<usize>().max(1)) as f32;
        prop_assert!(a.grad().unwrap().to_vec::<f32>().iter().all(|&g| g == reach));
    }

    #[test]
    fn incompatible_shapes_are_a_typed_error((sa, sb) in incompatible_pair()) {
        prop_assert!(broadcast(&sa, &sb).is_none());
        for &(name, op) in OPS {
            let (a, b) = (Tensor::randn(&sa), Tensor::randn(&sb));
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op(&a, &b)));
            let err = match result {
                Ok(Err(e)) => e,
                Ok(Ok(t)) => return Err(TestCaseError::fail(format!("{name}: {sa:?} with {sb:?} gave shape {:?}", t.shape()))),
                Err(_) => return Err(TestCaseError::fail(format!("{name}: panicked through the try_ API"))),
            };
            match &err {
                Error::Broadcast { lhs, rhs, .. } => {
                    // where_cond checks the values first, so it names them in that order too.
                    prop_assert_eq!((lhs, rhs), (&sa, &sb), "{}", name);
                }
                other => return Err(TestCaseError::fail(format!("{name}: expected Error::Broadcast, got {other:?}"))),
            }
            let msg = err.to_string();
            prop_assert!(msg.starts_with(name) && msg.contains(&format!("{sa:?}")) && msg.contains(&format!("{sb:?}")), "{}", msg);
        }
    }
}

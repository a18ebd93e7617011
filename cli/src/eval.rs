//! Evaluating an expression tree to a tensor, so that the library's
//! autograd can differentiate it.
//!
//! Python semantics, as in the PyTorch tutorials the expressions come
//! from: a subexpression that does not depend on any variable (`2*3`,
//! `1/3`, `pi/2`, `sin(1)`) is plain Python arithmetic on `float`s, so it
//! is folded in `f64` before it meets a tensor; only subexpressions that
//! depend on a variable become tensors, through the same operator that
//! Python would call (`x + 2` is `add_scalar`, `2 / x` is `rdiv_scalar`,
//! `x**2` is `powi(2)`, `2**x` is `rpow_scalar(2)`), so values and
//! gradients match PyTorch's.
//!
//! Where Python would raise on a constant (`1/0`, `math.log(0)`,
//! `(-8)**(1/3)`), the folding follows IEEE arithmetic instead (`inf`,
//! `-inf`, `nan`), as the tensor operations do: such values are results.
//!
//! The evaluator keeps its own stacks, so its stack use does not grow with
//! the tree's depth.

use tensorgrad::Tensor;

use crate::expr::{BinOp, Expr, ExprKind, Func, Span, UnaryOp};

/// The value of a subexpression.
#[derive(Clone, Debug)]
pub enum Value {
    /// A number that depends on no variable, as Python's `float`.
    Num(f64),
    /// A tensor computed from the variables, carrying the autograd graph.
    Tensor(Tensor),
}

impl Value {
    /// The value as a tensor shaped and typed like `like`: a number is
    /// broadcast (and does not require grad); a tensor is returned as is.
    pub fn into_tensor_like(self, like: &Tensor) -> Tensor {
        match self {
            Value::Num(v) => Tensor::full_like(like, v),
            Value::Tensor(t) => t,
        }
    }
}

/// A variable the expression reads but `lookup` gave no value for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unbound {
    /// The variable's name.
    pub name: String,
    /// Its occurrence in the source.
    pub span: Span,
}

/// One step of the explicit-stack traversal.
enum Task<'a> {
    /// Evaluate this node's operands (pushing their values), then apply it.
    Visit(&'a Expr),
    /// The operands' values are on the value stack: apply the node.
    Apply(&'a Expr),
}

/// Evaluates `expr`, reading each variable's tensor from `lookup`.
///
/// All variable tensors should have the same shape and dtype (scalars for
/// `diff`, the sample points for `plot`); numbers are converted to that
/// dtype where they meet a tensor.
///
/// # Errors
/// The first variable, in evaluation order, for which `lookup` returns
/// `None`.
pub fn eval(expr: &Expr, lookup: impl Fn(&str) -> Option<Tensor>) -> Result<Value, Unbound> {
    let mut tasks = vec![Task::Visit(expr)];
    let mut values: Vec<Value> = Vec::new();
    while let Some(task) = tasks.pop() {
        match task {
            Task::Visit(node) => match &node.kind {
                ExprKind::Num(v) => values.push(Value::Num(*v)),
                ExprKind::Const(c) => values.push(Value::Num(c.value())),
                ExprKind::Var(name) => match lookup(name) {
                    Some(t) => values.push(Value::Tensor(t)),
                    None => {
                        return Err(Unbound {
                            name: name.clone(),
                            span: node.span,
                        })
                    }
                },
                ExprKind::Unary { operand: only, .. } | ExprKind::Call { arg: only, .. } => {
                    tasks.push(Task::Apply(node));
                    tasks.push(Task::Visit(only));
                }
                ExprKind::Binary { lhs, rhs, .. } => {
                    // Pushed right first so the left operand is evaluated
                    // (and lands on the value stack) first.
                    tasks.push(Task::Apply(node));
                    tasks.push(Task::Visit(rhs));
                    tasks.push(Task::Visit(lhs));
                }
            },
            Task::Apply(node) => {
                let value = match &node.kind {
                    ExprKind::Unary { op, .. } => unary(*op, pop(&mut values)),
                    ExprKind::Call { func, .. } => call(*func, pop(&mut values)),
                    ExprKind::Binary { op, .. } => {
                        let rhs = pop(&mut values);
                        let lhs = pop(&mut values);
                        binary(*op, lhs, rhs)
                    }
                    ExprKind::Num(_) | ExprKind::Const(_) | ExprKind::Var(_) => {
                        unreachable!("leaves are never scheduled for Apply")
                    }
                };
                values.push(value);
            }
        }
    }
    Ok(pop(&mut values))
}

/// The top of the value stack, which the traversal order guarantees is
/// there.
fn pop(values: &mut Vec<Value>) -> Value {
    values
        .pop()
        .expect("every operand is evaluated before its operator is applied")
}

fn unary(op: UnaryOp, v: Value) -> Value {
    match (op, v) {
        (UnaryOp::Pos, v) => v,
        (UnaryOp::Neg, Value::Num(a)) => Value::Num(-a),
        (UnaryOp::Neg, Value::Tensor(t)) => Value::Tensor(t.neg()),
    }
}

fn binary(op: BinOp, lhs: Value, rhs: Value) -> Value {
    use Value::{Num, Tensor as T};
    Value::Tensor(match (op, lhs, rhs) {
        (op, Num(a), Num(b)) => return Num(fold(op, a, b)),
        (BinOp::Add, T(a), T(b)) => &a + &b,
        (BinOp::Add, T(a), Num(b)) => &a + b,
        (BinOp::Add, Num(a), T(b)) => a + &b,
        (BinOp::Sub, T(a), T(b)) => &a - &b,
        (BinOp::Sub, T(a), Num(b)) => &a - b,
        (BinOp::Sub, Num(a), T(b)) => a - &b,
        (BinOp::Mul, T(a), T(b)) => &a * &b,
        (BinOp::Mul, T(a), Num(b)) => &a * b,
        (BinOp::Mul, Num(a), T(b)) => a * &b,
        (BinOp::Div, T(a), T(b)) => &a / &b,
        (BinOp::Div, T(a), Num(b)) => &a / b,
        (BinOp::Div, Num(a), T(b)) => a / &b,
        (BinOp::Pow, T(a), T(b)) => a.pow(&b),
        (BinOp::Pow, T(a), Num(b)) => power(&a, b),
        (BinOp::Pow, Num(a), T(b)) => b.rpow_scalar(a),
    })
}

/// `base ** exponent` for a number exponent: `powi` for integers, as
/// PyTorch's `x**2` (the same grad_fn and the exact products for 2 and 3),
/// `powf` for other numbers.
fn power(base: &Tensor, exponent: f64) -> Tensor {
    let is_int = exponent.fract() == 0.0 && exponent.abs() <= f64::from(i32::MAX);
    if is_int {
        // Exact: the value is integral and within i32's range.
        base.powi(exponent as i32)
    } else {
        base.powf(exponent)
    }
}

/// Python's float arithmetic, except that it never raises (IEEE results
/// instead of ZeroDivisionError and complex powers).
fn fold(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::Pow => a.powf(b),
    }
}

fn call(func: Func, v: Value) -> Value {
    match v {
        Value::Num(a) => Value::Num(call_num(func, a)),
        Value::Tensor(t) => Value::Tensor(match func {
            Func::Sin => t.sin(),
            Func::Cos => t.cos(),
            Func::Tan => t.tan(),
            Func::Exp => t.exp(),
            Func::Log => t.log(),
            Func::Sqrt => t.sqrt(),
            Func::Tanh => t.tanh(),
            Func::Sigmoid => t.sigmoid(),
            Func::Relu => t.relu(),
            Func::Abs => t.abs(),
        }),
    }
}

/// A function of a number, as Python's `math` module computes it (with
/// IEEE results where `math` would raise).
fn call_num(func: Func, a: f64) -> f64 {
    match func {
        Func::Sin => a.sin(),
        Func::Cos => a.cos(),
        Func::Tan => a.tan(),
        Func::Exp => a.exp(),
        Func::Log => a.ln(),
        Func::Sqrt => a.sqrt(),
        Func::Tanh => a.tanh(),
        Func::Sigmoid => 1.0 / (1.0 + (-a).exp()),
        // NaN stays NaN, as torch.relu does.
        Func::Relu => {
            if a < 0.0 {
                0.0
            } else {
                a
            }
        }
        Func::Abs => a.abs(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;

    fn num(src: &str) -> f64 {
        match eval(&parse(src).unwrap(), |_| None).unwrap() {
            Value::Num(v) => v,
            Value::Tensor(t) => panic!("{src} gave a tensor {t}"),
        }
    }

    #[test]
    fn constants_fold_in_f64_like_python() {
        assert_eq!(num("1/3"), 1.0 / 3.0);
        assert_eq!(num("2**-1"), 0.5);
        assert_eq!(num("-2**2"), -4.0);
        assert_eq!(num("pi/2"), std::f64::consts::FRAC_PI_2);
        assert_eq!(num("relu(-3) + abs(-2)"), 2.0);
        assert_eq!(num("1/0"), f64::INFINITY);
        assert!(num("(-8)**(1/3)").is_nan());
        assert!(num("relu(0*(1/0))").is_nan());
    }

    #[test]
    fn unbound_variable_reports_its_first_occurrence() {
        let e = parse("x + y*y").unwrap();
        let x = Tensor::scalar(1.0f32);
        let err = eval(&e, |n| (n == "x").then(|| x.clone())).unwrap_err();
        assert_eq!(err.name, "y");
        assert_eq!(err.span, Span::new(4, 5));
    }

    #[test]
    fn integer_exponents_use_powi() {
        let x = Tensor::scalar(3.0f32).set_requires_grad(true);
        let e = parse("x**2").unwrap();
        let Value::Tensor(y) = eval(&e, |_| Some(x.clone())).unwrap() else {
            panic!("x**2 should be a tensor");
        };
        assert_eq!(y.to_string(), "tensor(9., grad_fn=<PowBackward0>)");
    }
}

//! The syntax tree: [`Expr`] nodes, each with the [`Span`] it came from.
//!
//! Trees built by [`parse`](super::parse) are at most
//! [`MAX_DEPTH`](super::MAX_DEPTH) nodes deep, so the recursive trait
//! implementations here and in later stages (derived `Clone`, `Debug`,
//! `PartialEq`, `Drop`, evaluation, differentiation) cannot exhaust the stack.
//! Trees built by hand have no such guard: keep them shallow too. (The
//! alternate `{:#?}` form of `Debug` takes time that grows faster than
//! the tree's depth; prefer `{:?}` or `Display` for deep trees.)

use std::fmt;

use super::span::Span;

/// A parsed expression node together with its source span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it came from in the source, in characters (see [`Span`]). A
    /// leaf covers its token; a unary node runs from its operator, a call
    /// from its function name (with any `torch.` prefix) to its `)`, a
    /// binary node from its left operand to its right one. Parentheses
    /// around an operand are part of its parent's span, not its own.
    pub span: Span,
}

/// The kinds of expression node.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A number literal such as `3`, `2.5`, `.5` or `1e-3`; never negative
    /// when parsed (a leading `-` is a [`UnaryOp::Neg`] node), always finite.
    Num(f64),
    /// A variable such as `x` or `learning_rate`.
    Var(String),
    /// A named constant: `pi` or `e`.
    Const(Constant),
    /// A prefix operator applied to an operand: `-x`, `+x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// A binary operator: `lhs op rhs`.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// A call of a built-in function on one argument: `sin(x)`.
    Call {
        /// Which function.
        func: Func,
        /// Its argument.
        arg: Box<Expr>,
    },
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x`.
    Neg,
    /// `+x` (the identity, kept so the tree mirrors the source).
    Pos,
}

impl UnaryOp {
    /// The operator as written: `"-"` or `"+"`.
    pub const fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Pos => "+",
        }
    }
}

/// Binary operators, with Python's precedence and associativity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `**` (right-associative; binds tighter than a unary minus on its left).
    Pow,
}

impl BinOp {
    /// The operator as written: `"+"`, `"-"`, `"*"`, `"/"` or `"**"`.
    pub const fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "**",
        }
    }
}

/// The built-in functions, each taking exactly one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    /// `sin(x)`
    Sin,
    /// `cos(x)`
    Cos,
    /// `tan(x)`
    Tan,
    /// `exp(x)`
    Exp,
    /// `log(x)`, the natural logarithm.
    Log,
    /// `sqrt(x)`
    Sqrt,
    /// `tanh(x)`
    Tanh,
    /// `sigmoid(x)` = 1 / (1 + exp(-x)).
    Sigmoid,
    /// `relu(x)` = max(x, 0).
    Relu,
    /// `abs(x)`
    Abs,
}

impl Func {
    /// Every function, in the order error messages list them.
    pub const ALL: [Func; 10] = [
        Func::Sin,
        Func::Cos,
        Func::Tan,
        Func::Exp,
        Func::Log,
        Func::Sqrt,
        Func::Tanh,
        Func::Sigmoid,
        Func::Relu,
        Func::Abs,
    ];

    /// The function's name as written in expressions.
    pub const fn name(self) -> &'static str {
        match self {
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tan => "tan",
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::Tanh => "tanh",
            Func::Sigmoid => "sigmoid",
            Func::Relu => "relu",
            Func::Abs => "abs",
        }
    }

    /// The function called `name`, if any (case-sensitive, like Python).
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// How many arguments the function takes (1 for every built-in).
    pub const fn arity(self) -> usize {
        1
    }
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Named constants. A name that is a constant is never a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Constant {
    /// `pi` = π.
    Pi,
    /// `e`, Euler's number.
    E,
}

impl Constant {
    /// Every constant.
    pub const ALL: [Constant; 2] = [Constant::Pi, Constant::E];

    /// The constant's name as written in expressions.
    pub const fn name(self) -> &'static str {
        match self {
            Constant::Pi => "pi",
            Constant::E => "e",
        }
    }

    /// The constant called `name`, if any.
    pub fn from_name(name: &str) -> Option<Constant> {
        Constant::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Its value as an `f64`.
    pub const fn value(self) -> f64 {
        match self {
            Constant::Pi => std::f64::consts::PI,
            Constant::E => std::f64::consts::E,
        }
    }
}

impl fmt::Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Expr {
    /// A node of `kind` spanning `span`.
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// The distinct variable names in order of first appearance in the
    /// source, e.g. `["u", "v"]` for `u**2 + v**3 + 2*u*v`. Constants (`pi`,
    /// `e`) are not variables.
    pub fn variables(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for node in self.preorder() {
            if let ExprKind::Var(name) = &node.kind {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// The span of the first occurrence of variable `name`, if it occurs;
    /// for messages such as "variable y is missing from --at".
    pub fn find_variable(&self, name: &str) -> Option<Span> {
        self.preorder()
            .find(|node| matches!(&node.kind, ExprKind::Var(v) if v == name))
            .map(|node| node.span)
    }

    /// Number of nodes on the longest path from this node to a leaf (1 for a
    /// leaf). Iterative, so safe on trees of any depth.
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((node, d)) = stack.pop() {
            max = max.max(d);
            stack.extend(node.children().map(|c| (c, d + 1)));
        }
        max
    }

    /// Whether `self` and `other` are the same tree, ignoring spans (so
    /// `x+1` and `(x) + 1` are equal). Iterative.
    pub fn eq_ignoring_spans(&self, other: &Expr) -> bool {
        let mut stack = vec![(self, other)];
        while let Some((a, b)) = stack.pop() {
            let same_node = match (&a.kind, &b.kind) {
                (ExprKind::Num(x), ExprKind::Num(y)) => x == y,
                (ExprKind::Var(x), ExprKind::Var(y)) => x == y,
                (ExprKind::Const(x), ExprKind::Const(y)) => x == y,
                (ExprKind::Unary { op: x, .. }, ExprKind::Unary { op: y, .. }) => x == y,
                (ExprKind::Binary { op: x, .. }, ExprKind::Binary { op: y, .. }) => x == y,
                (ExprKind::Call { func: x, .. }, ExprKind::Call { func: y, .. }) => x == y,
                _ => false,
            };
            if !same_node {
                return false;
            }
            stack.extend(a.children().zip(b.children()));
        }
        true
    }

    /// The node's direct operands, left to right.
    pub fn children(&self) -> impl Iterator<Item = &Expr> {
        let (first, second): (Option<&Expr>, Option<&Expr>) = match &self.kind {
            ExprKind::Num(_) | ExprKind::Var(_) | ExprKind::Const(_) => (None, None),
            ExprKind::Unary { operand, .. } => (Some(operand), None),
            ExprKind::Call { arg, .. } => (Some(arg), None),
            ExprKind::Binary { lhs, rhs, .. } => (Some(lhs), Some(rhs)),
        };
        first.into_iter().chain(second)
    }

    /// All nodes in pre-order (a node before its operands, operands left to
    /// right, which is source order for the leaves). Iterative.
    pub fn preorder(&self) -> impl Iterator<Item = &Expr> {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            let node = stack.pop()?;
            let before = stack.len();
            stack.extend(node.children());
            stack[before..].reverse();
            Some(node)
        })
    }

    /// Binding strength used by the printer: higher binds tighter.
    fn precedence(&self) -> u8 {
        match &self.kind {
            ExprKind::Binary { op, .. } => match op {
                BinOp::Add | BinOp::Sub => 1,
                BinOp::Mul | BinOp::Div => 2,
                BinOp::Pow => 4,
            },
            ExprKind::Unary { .. } => 3,
            // A negative literal (only in hand-built trees) prints with a
            // leading '-', so it needs the same care as a unary minus.
            ExprKind::Num(v) if v.is_sign_negative() => 3,
            _ => 5,
        }
    }
}

/// Formats `v` so that parsing the text gives back exactly `v`: plain
/// decimals for everyday magnitudes, scientific notation for very large or
/// small ones. Infinity prints as `1e999`, which parsing rejects as too large.
pub(crate) fn format_number(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "1e999" } else { "-1e999" }.to_string();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-5..1e16).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Writes `child`, parenthesized when its precedence is below `min`.
fn write_operand(f: &mut fmt::Formatter<'_>, child: &Expr, min: u8) -> fmt::Result {
    if child.precedence() < min {
        write!(f, "({child})")
    } else {
        write!(f, "{child}")
    }
}

impl fmt::Display for Expr {
    /// Prints the expression in the input language with as few parentheses
    /// as Python's precedence rules allow; parsing the output gives back the
    /// same tree (up to spans).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Num(v) => f.write_str(&format_number(*v)),
            ExprKind::Var(name) => f.write_str(name),
            ExprKind::Const(c) => f.write_str(c.name()),
            ExprKind::Unary { op, operand } => {
                f.write_str(op.symbol())?;
                write_operand(f, operand, 3)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                // Left-associative levels need a tighter right operand; `**`
                // takes a primary on its left and a unary-level operand on its
                // right.
                let (lmin, rmin, spaced) = match op {
                    BinOp::Add | BinOp::Sub => (1, 2, true),
                    BinOp::Mul | BinOp::Div => (2, 3, false),
                    BinOp::Pow => (5, 3, false),
                };
                write_operand(f, lhs, lmin)?;
                if spaced {
                    write!(f, " {} ", op.symbol())?;
                } else {
                    f.write_str(op.symbol())?;
                }
                write_operand(f, rhs, rmin)
            }
            ExprKind::Call { func, arg } => write!(f, "{}({arg})", func.name()),
        }
    }
}

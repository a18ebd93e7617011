//! The expression language of `tensorgrad diff EXPR` and `tensorgrad plot
//! EXPR`: Python's arithmetic, so expressions from the PyTorch tutorials
//! paste in unchanged.
//!
//! # The language
//!
//! - Binary `+ - * /` and `**` with Python's precedence: `**` binds tighter
//!   than a unary minus on its left (`-x**2` is `-(x**2)`), is
//!   right-associative (`2**3**2` is `2**(3**2)`) and its right operand may
//!   carry a sign (`2**-1`). Unary `+` and `-`, repeatable (`--x`).
//!   Parentheses.
//! - Numbers as Python writes them: `3`, `2.5`, `.5`, `3.`, `1e-3`,
//!   `2.5E+4`, `1_000` (`_` between digits), and the integer forms `0x1F`,
//!   `0o17`, `0b101`. `012` is rejected as in Python; numbers too large for
//!   an `f64` are rejected.
//! - Variables: ASCII identifiers (a letter or `_`, then letters, digits or
//!   `_`), case-sensitive.
//! - Constants `pi` and `e`; those names are never variables.
//! - One-argument functions: `sin cos tan exp log sqrt tanh sigmoid relu
//!   abs` (`log` is the natural logarithm). A module prefix `torch.`,
//!   `math.`, `numpy.` or `np.` may precede a function or constant
//!   (`torch.sin(x)`, `math.pi`); it is accepted for any of them, whether or
//!   not that module has the name. A trailing comma in a call is allowed
//!   (`sin(x,)`), as in Python.
//! - Whitespace (any Unicode whitespace) separates tokens and is otherwise
//!   ignored. Implicit multiplication (`2x`, `(x+1)(x-1)`) is an error, as
//!   in Python, with a suggestion where to put the `*`.
//!
//! The parser does not recurse, so no input can overflow its stack; parsed
//! trees are at most [`MAX_DEPTH`] (256) levels deep, so that recursive
//! passes over them stay within a small stack too. Parentheses may nest
//! without limit.
//!
//! # Example
//!
//! ```
//! use tensorgrad_cli::expr::parse;
//!
//! let e = parse("u**2 + v**3 + 2*u*v + u + v").unwrap();
//! assert_eq!(e.variables(), ["u", "v"]);
//!
//! let err = parse("6*x**2 + ) 2").unwrap_err();
//! assert_eq!(
//!     err.render("6*x**2 + ) 2"),
//!     "error: unexpected ')' at column 10: expected an operand after '+'\n\
//!      \x20 6*x**2 + ) 2\n\
//!      \x20          ^"
//! );
//! ```

mod ast;
mod error;
mod lexer;
mod parser;
mod span;

pub use ast::{BinOp, Constant, Expr, ExprKind, Func, UnaryOp};
pub use error::{render_snippet, ErrorKind, ParseError, MAX_SNIPPET_CHARS};
// For the command's own messages about user text (names in --at).
pub(crate) use error::shorten;
pub use parser::{parse, MAX_DEPTH, MODULE_PREFIXES};
pub use span::Span;

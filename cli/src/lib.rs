//! tensorgrad-cli: the command-line derivative calculator's library half.
//!
//! [`expr`] holds the expression language (lexer, parser, AST and error
//! reporting) used by `tensorgrad diff EXPR` and `tensorgrad plot EXPR`.
#![warn(missing_docs)]

pub mod expr;

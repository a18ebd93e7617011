//! The command line: `tensorgrad diff` and `tensorgrad plot`, parsed by
//! clap. Usage errors (an unknown subcommand or option, a missing
//! argument) are clap's, with exit code 2 like every other input error.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tensorgrad::DType;

/// The whole command line.
#[derive(Debug, Parser)]
#[command(
    name = "tensorgrad",
    version,
    about = "Derivatives of Python-style expressions, by tensorgrad's autograd",
    long_about = "Derivatives of Python-style expressions, by tensorgrad's autograd.\n\n\
        Expressions are Python arithmetic as in the PyTorch tutorials: + - * / **, \
        parentheses, pi, e and the functions sin cos tan exp log sqrt tanh sigmoid relu abs \
        (optionally written torch.sin, math.sin, np.sin).\n\n\
        Examples:\n  \
        tensorgrad diff \"6*x**2 + 2*x + 4\" --at x=3\n  \
        tensorgrad diff \"u**2 + v**3 + 2*u*v + u + v\" --at u=3,v=4 --hessian\n  \
        tensorgrad plot \"10*x**3\" --from -10 --to 10 -o cubic.svg"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print an expression's value and derivatives at a point, as PyTorch prints them.
    Diff(DiffArgs),
    /// Draw a one-variable expression and its derivatives over a range (PNG or SVG).
    Plot(PlotArgs),
}

/// `tensorgrad diff EXPR --at x=3`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    $ tensorgrad diff \"6*x**2 + 2*x + 4\" --at x=3\n  \
    f = tensor(64.)\n  \
    df/dx = tensor(38.)")]
pub struct DiffArgs {
    /// The expression, in Python syntax, e.g. "6*x**2 + 2*x + 4" (quote it for the shell).
    #[arg(allow_hyphen_values = true)]
    pub expr: String,

    /// The point: NAME=VALUE pairs, comma-separated or in repeated --at options
    /// (--at u=3,v=4 or --at u=3 --at v=4). A value may be a constant expression such as
    /// pi/4. A name the expression does not use gets derivative 0 (and a warning).
    #[arg(long, value_name = "NAME=VALUE,...", allow_hyphen_values = true)]
    pub at: Vec<String>,

    /// Also print the second derivatives, every pair (d2f/dxdy is d/dy of df/dx).
    #[arg(long)]
    pub hessian: bool,

    /// The dtype of the variables, as PyTorch's default float32 or float64.
    #[arg(long, value_enum, default_value_t = DtypeArg::F32)]
    pub dtype: DtypeArg,

    /// Print one line of JSON: {"value": .., "grad": {NAME: ..}, "hessian": {NAME: {NAME: ..}}};
    /// NaN and infinities as the strings "nan", "inf", "-inf".
    #[arg(long)]
    pub json: bool,
}

/// `tensorgrad plot EXPR --from A --to B`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// The expression, of one variable (or none), e.g. "10*x**3".
    #[arg(allow_hyphen_values = true)]
    pub expr: String,

    /// Start of the range (a number or a constant expression such as -pi).
    #[arg(long, value_name = "A", allow_hyphen_values = true)]
    pub from: String,

    /// End of the range, greater than --from.
    #[arg(long, value_name = "B", allow_hyphen_values = true)]
    pub to: String,

    /// Number of evenly spaced points, both ends included (2 to 100000).
    #[arg(long, default_value_t = 100)]
    pub steps: usize,

    /// How many derivatives to draw besides the function (0 to 8).
    #[arg(long, default_value_t = 1)]
    pub order: usize,

    /// The file to write, .png or .svg [default: plot.png in the current directory].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The dtype the expression is evaluated in.
    #[arg(long, value_enum, default_value_t = DtypeArg::F32)]
    pub dtype: DtypeArg,
}

/// `--dtype`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DtypeArg {
    /// torch.float32, PyTorch's default.
    F32,
    /// torch.float64.
    F64,
}

impl From<DtypeArg> for DType {
    fn from(d: DtypeArg) -> DType {
        match d {
            DtypeArg::F32 => DType::F32,
            DtypeArg::F64 => DType::F64,
        }
    }
}

/// EXPR accepts text starting with `-` (so that `-x**2` needs no `--`),
/// which would also take a mistyped option such as `--hesian` as the
/// expression; text starting with `--` and a letter is reported as an
/// unknown option instead (`--x` as an expression can be written `-(-x)`).
///
/// # Errors
/// When `expr` looks like a long option.
pub fn reject_option_like(expr: &str) -> Result<(), crate::CliError> {
    let looks_like_option = expr
        .strip_prefix("--")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_alphabetic());
    if looks_like_option {
        let name = expr.split('=').next().unwrap_or(expr);
        return Err(crate::CliError::input_at(
            format!(
                "unknown option '{}' (see --help); an expression that starts with \
                 '--' must be written differently, e.g. -(-x)",
                crate::expr::shorten(name)
            ),
            expr,
            crate::expr::Span::new(0, name.chars().count()),
        ));
    }
    Ok(())
}

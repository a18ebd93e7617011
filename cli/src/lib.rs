//! tensorgrad-cli: the command-line derivative calculator.
//!
//! `tensorgrad diff EXPR --at x=3` prints an expression's value and
//! derivatives at a point; `tensorgrad plot EXPR --from A --to B` draws it
//! and its derivatives. Derivatives come from tensorgrad's autograd: the
//! expression ([`expr`]) is evaluated to tensors ([`eval`]) and
//! differentiated ([`diff`], [`plot`]); there is no symbolic algebra.
//!
//! Every input error is reported as a [`CliError`] with exit code 2 and,
//! where there is a place to point at, a caret under it.
#![warn(missing_docs)]

pub mod args;
pub mod at;
pub mod diff;
pub mod errors;
pub mod eval;
pub mod expr;
pub mod json;
pub mod number;
pub mod plot;

use std::path::Path;

use args::{Cli, Command};
pub use errors::CliError;

/// Where `tensorgrad plot` writes when no `-o` is given (relative to the
/// current directory).
pub const DEFAULT_PLOT_FILE: &str = "plot.png";

/// What a successful run prints: `stdout` for the results, `stderr` for
/// warnings.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Output {
    /// The results.
    pub stdout: String,
    /// Warnings, one per line.
    pub stderr: String,
}

/// Runs a parsed command line.
///
/// # Errors
/// Any [`CliError`]; the caller prints it and exits with its code.
pub fn run(cli: Cli) -> Result<Output, CliError> {
    match cli.command {
        Command::Diff(a) => {
            args::reject_option_like(&a.expr)?;
            let d = diff::differentiate(&a.expr, &a.at, a.dtype.into(), a.hessian)?;
            let stdout = if a.json {
                format!("{}\n", json::to_json(&d))
            } else {
                diff::render_text(&d)
            };
            Ok(Output {
                stdout,
                stderr: lines(diff::warnings(&d)),
            })
        }
        Command::Plot(a) => {
            args::reject_option_like(&a.expr)?;
            let output = a.output.as_deref().unwrap_or(Path::new(DEFAULT_PLOT_FILE));
            let report = plot::plot(&plot::PlotRequest {
                source: &a.expr,
                from: &a.from,
                to: &a.to,
                steps: a.steps,
                order: a.order,
                output,
                dtype: a.dtype.into(),
            })?;
            Ok(Output {
                stdout: format!("wrote {}\n", report.path.display()),
                stderr: lines(report.warnings),
            })
        }
    }
}

fn lines(items: Vec<String>) -> String {
    items.into_iter().map(|l| l + "\n").collect()
}

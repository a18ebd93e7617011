//! Numbers typed on the command line (`--at x=VALUE`, `--from`, `--to`):
//! a plain number (`3`, `-2.5`, `1e-3`, `inf`, `nan`) or a constant
//! expression in the expression language (`pi/4`, `-2*pi`, `sqrt(2)`,
//! `1_000`), so that points like π/4 need no decimal expansion.

use crate::errors::CliError;
use crate::eval::{eval, Value};
use crate::expr::{parse, ErrorKind, ParseError, Span};

/// Parses `text`, a number or constant expression that sits at character
/// `offset` of `source` (the command-line text shown in error messages),
/// as an `f64`. `what` names the value in messages, e.g. `--from` or
/// `'x' in --at`.
///
/// # Errors
/// Empty text, text that does not parse, or an expression that uses a
/// variable; the error points into `source`.
pub fn parse_number(text: &str, source: &str, offset: usize, what: &str) -> Result<f64, CliError> {
    let shift = |span: Span| Span::new(span.start + offset, span.end + offset);
    // Rust's own syntax first: it also takes inf, -inf, infinity and nan,
    // which are not in the expression language.
    if let Ok(v) = text.trim().parse::<f64>() {
        return Ok(v);
    }
    let expr = parse(text).map_err(|err| {
        if err.kind == ErrorKind::Empty {
            let at = Span::new(offset, offset + text.chars().count());
            return CliError::input_at(format!("missing value for {what}"), source, at);
        }
        let shifted = ParseError::new(err.kind, shift(err.span));
        CliError::input_at(
            format!("invalid value for {what}: {}", shifted.message()),
            source,
            shifted.span,
        )
    })?;
    match eval(&expr, |_| None) {
        Ok(Value::Num(v)) => Ok(v),
        // Without variables there is no tensor, so only an unbound
        // variable can stop the evaluation.
        Ok(Value::Tensor(_)) => unreachable!("no variable was bound"),
        Err(unbound) => Err(CliError::input_at(
            format!(
                "invalid value for {what}: '{}' is a variable; a value must be a number \
                 or a constant expression such as pi/4",
                crate::expr::shorten(&unbound.name)
            ),
            source,
            shift(unbound.span),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> f64 {
        parse_number(text, text, 0, "v").unwrap()
    }

    #[test]
    fn numbers_and_constant_expressions() {
        assert_eq!(ok("3"), 3.0);
        assert_eq!(ok(" -2.5 "), -2.5);
        assert_eq!(ok("-inf"), f64::NEG_INFINITY);
        assert!(ok("nan").is_nan());
        assert_eq!(ok("pi/4"), std::f64::consts::FRAC_PI_4);
        assert_eq!(ok("-2*pi"), -2.0 * std::f64::consts::PI);
        assert_eq!(ok("1_000"), 1000.0);
    }

    #[test]
    fn errors_point_into_the_source() {
        let err = parse_number("2*y", "--from 2*y", 7, "--from").unwrap_err();
        assert_eq!(
            err.to_string(),
            "error: invalid value for --from: 'y' is a variable; a value must be a number \
             or a constant expression such as pi/4\n  --from 2*y\n           ^"
        );
        let err = parse_number("", "--at x=", 7, "'x' in --at").unwrap_err();
        assert_eq!(
            err.to_string(),
            "error: missing value for 'x' in --at\n  --at x=\n         ^"
        );
    }
}

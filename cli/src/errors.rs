//! What the command reports when it cannot do its job: the message shown
//! on stderr and the exit code that goes with it.

use std::fmt;

use crate::expr::{render_snippet, ParseError, Span};

/// Exit code for bad input of any kind (the same code clap uses for its own
/// usage errors, so scripts see one code for "you typed something wrong").
pub const EXIT_INPUT: u8 = 2;

/// Exit code for failures the input should not be able to cause (a library
/// error, stdout closed with an error other than a broken pipe).
pub const EXIT_INTERNAL: u8 = 1;

/// A failure of `tensorgrad diff` or `tensorgrad plot`, already rendered
/// for a person: `error: ` and a one-line message, optionally followed by a
/// snippet of the offending text with a caret line under the bad part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    text: String,
    exit_code: u8,
}

impl CliError {
    /// Bad input with no particular place to point at.
    pub fn input(message: impl fmt::Display) -> Self {
        CliError {
            text: format!("error: {message}"),
            exit_code: EXIT_INPUT,
        }
    }

    /// Bad input at `span` (in characters) of `source`, which is shown
    /// under the message with a caret line.
    pub fn input_at(message: impl fmt::Display, source: &str, span: Span) -> Self {
        CliError {
            text: format!("error: {message}\n{}", render_snippet(source, span)),
            exit_code: EXIT_INPUT,
        }
    }

    /// An expression that did not parse; `source` is the text that was
    /// parsed.
    pub fn parse(err: &ParseError, source: &str) -> Self {
        CliError {
            text: err.render(source),
            exit_code: EXIT_INPUT,
        }
    }

    /// A failure that is not the input's fault.
    pub fn internal(message: impl fmt::Display) -> Self {
        CliError {
            text: format!("error: {message}"),
            exit_code: EXIT_INTERNAL,
        }
    }

    /// The process exit code: [`EXIT_INPUT`] or [`EXIT_INTERNAL`].
    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }
}

impl fmt::Display for CliError {
    /// The full message, possibly several lines, without a trailing newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for CliError {}

/// A caret under the value of a command-line option, shown as
/// `--steps 1` with the caret under `1`: for errors about an option whose
/// value parsed but is out of range.
pub fn option_error(message: impl fmt::Display, option: &str, value: &str) -> CliError {
    let source = format!("{option} {value}");
    let start = option.chars().count() + 1;
    let span = Span::new(start, start + value.chars().count());
    CliError::input_at(message, &source, span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_error_points_at_the_value() {
        let e = option_error("bad", "--steps", "1");
        assert_eq!(e.to_string(), "error: bad\n  --steps 1\n          ^");
        assert_eq!(e.exit_code(), EXIT_INPUT);
    }
}

//! Parse errors: what went wrong, where, and how to show it to a person.

use std::fmt;

use thiserror::Error;

use super::ast::Func;
use super::span::Span;

/// Inputs longer than this many characters are shown as a window around the
/// error rather than in full.
pub const MAX_SNIPPET_CHARS: usize = 100;

/// How many characters of context a windowed snippet shows before the error.
const WINDOW_BEFORE: usize = 40;

/// Total characters of input a windowed snippet shows (without the `...`).
const WINDOW_WIDTH: usize = 80;

/// Quoted user text (names, numbers) longer than this is shortened in
/// messages so that a 10,000-character identifier gives a readable error.
const MAX_QUOTED_CHARS: usize = 32;

/// An error from [`parse`](super::parse), with the span it refers to.
///
/// `Display` gives a one-line message such as
/// `unexpected ')' at column 10: expected an operand after '+'`;
/// [`ParseError::render`] adds the offending input and a caret under it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", self.message())]
pub struct ParseError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The character range the error points at (see [`Span`]).
    pub span: Span,
}

/// The classes of parse error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// A character that cannot start any token, e.g. `$` or `^`; `hint`
    /// says what to write instead where there is an obvious fix.
    UnexpectedChar {
        /// The character.
        ch: char,
        /// A suggestion, e.g. "use '**' for powers".
        hint: Option<&'static str>,
    },
    /// A token where it cannot go, e.g. `)` right after `+`.
    UnexpectedToken {
        /// How the token reads in a message, e.g. `')'` or `name 'x'`.
        found: String,
        /// What could have gone there, e.g. `an operand after '+'`.
        expected: String,
    },
    /// The input stopped where more was needed, e.g. after a trailing `+`.
    UnexpectedEnd {
        /// What was needed, e.g. `an operand after '+'`.
        expected: String,
    },
    /// A `(` that is never closed; the span points at the `(`.
    UnclosedParen,
    /// A `)` with no `(` to match.
    UnmatchedCloseParen,
    /// The input is empty or only whitespace.
    Empty,
    /// A call of a function that is not built in, e.g. `sinn(x)`.
    UnknownFunction {
        /// The name as written (without any `torch.`/`math.` prefix).
        name: String,
        /// The closest known function by edit distance, if close enough.
        suggestion: Option<Func>,
    },
    /// Two operands side by side, as in `2x` or `(x+1)(x-1)`: Python needs
    /// an explicit `*`. `left` and `right` are the two operands' text.
    ImplicitMultiplication {
        /// The operand before the missing `*` (possibly shortened).
        left: String,
        /// The operand after the missing `*` (possibly shortened).
        right: String,
    },
    /// Text that starts like a number but is not a valid one (`1e+`, `1.2.3`,
    /// `1__0`, `012`, or a number too large for an `f64`).
    InvalidNumber {
        /// The offending text.
        text: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A built-in function called with other than one argument: `sin()`,
    /// `sin(x, y)`.
    WrongArgCount {
        /// The function.
        func: Func,
        /// How many arguments were given.
        found: usize,
    },
    /// A tree deeper than [`MAX_DEPTH`](super::MAX_DEPTH) levels: each
    /// operator and call is one level, so `--...-x` or `1+1+...+1` with 256
    /// or more operators is too deep. Parentheses alone do not count. The
    /// span is the operator that would exceed the limit.
    TooDeep {
        /// The limit that was exceeded.
        limit: usize,
    },
}

impl ParseError {
    /// An error of `kind` at `span`.
    pub fn new(kind: ErrorKind, span: Span) -> Self {
        ParseError { kind, span }
    }

    /// The 1-based column (in characters) the error points at.
    pub fn column(&self) -> usize {
        self.span.column()
    }

    /// The one-line message, the same as `Display`.
    pub fn message(&self) -> String {
        let col = self.column();
        match &self.kind {
            ErrorKind::UnexpectedChar { ch, hint } => {
                let shown = describe_char(*ch);
                match hint {
                    Some(h) => format!("unexpected character {shown} at column {col}: {h}"),
                    None => format!("unexpected character {shown} at column {col}"),
                }
            }
            ErrorKind::UnexpectedToken { found, expected } => {
                format!("unexpected {found} at column {col}: expected {expected}")
            }
            ErrorKind::UnexpectedEnd { expected } => {
                format!("unexpected end of input at column {col}: expected {expected}")
            }
            ErrorKind::UnclosedParen => {
                format!("unbalanced parentheses: '(' at column {col} is never closed")
            }
            ErrorKind::UnmatchedCloseParen => {
                format!("unbalanced parentheses: ')' at column {col} has no matching '('")
            }
            ErrorKind::Empty => "empty expression: nothing to parse".to_string(),
            ErrorKind::UnknownFunction { name, suggestion } => {
                let known = Func::ALL.map(Func::name).join(", ");
                let name = shorten(name);
                match suggestion {
                    Some(s) => format!(
                        "unknown function '{name}' at column {col}: did you mean '{s}'? \
                         (known functions: {known})"
                    ),
                    None => format!(
                        "unknown function '{name}' at column {col} (known functions: {known}; \
                         to multiply, write '{name}*(...)')"
                    ),
                }
            }
            ErrorKind::ImplicitMultiplication { left, right } => format!(
                "implicit multiplication is not supported at column {col}: \
                 did you mean {left}*{right}?"
            ),
            ErrorKind::InvalidNumber { text, reason } => {
                format!(
                    "invalid number '{}' at column {col}: {reason}",
                    shorten(text)
                )
            }
            ErrorKind::WrongArgCount { func, found } => format!(
                "{func}() takes exactly {} argument ({found} given) at column {col}",
                func.arity()
            ),
            ErrorKind::TooDeep { limit } => {
                format!("expression nested too deeply at column {col} (limit {limit})")
            }
        }
    }

    /// `error: ` and the message, followed by the input (or, for inputs over
    /// [`MAX_SNIPPET_CHARS`] characters, a window of it with `...` marking
    /// the cut ends) and a caret line under the error's span (see
    /// [`render_snippet`]):
    ///
    /// ```text
    /// error: unexpected ')' at column 10: expected an operand after '+'
    ///   6*x**2 + ) 2
    ///            ^
    /// ```
    ///
    /// `source` should be the text that was parsed; any other text gives a
    /// less useful snippet but never a panic. Control characters (tabs,
    /// newlines, any whitespace) are shown as spaces and zero-width ones as
    /// `?`, so that every character is one column.
    /// There is no trailing newline.
    pub fn render(&self, source: &str) -> String {
        let mut out = format!("error: {}", self.message());
        if self.kind == ErrorKind::Empty {
            return out;
        }
        out.push('\n');
        out.push_str(&render_snippet(source, self.span));
        out
    }
}

/// Two lines pointing at `span` in `source`, as [`ParseError::render`]
/// shows under its message; for later stages' own messages (such as a
/// variable missing from `--at`):
///
/// ```
/// use tensorgrad_cli::expr::{parse, render_snippet};
/// let src = "x*y + 1";
/// let span = parse(src).unwrap().find_variable("y").unwrap();
/// assert_eq!(render_snippet(src, span), "  x*y + 1\n    ^");
/// ```
///
/// Each line is indented by two spaces. Inputs over [`MAX_SNIPPET_CHARS`]
/// characters are cut to a window around the span, with `...` marking the
/// cut ends. Control characters and other whitespace are shown as spaces
/// and zero-width characters as `?`, so every character is one column. The
/// caret line marks the span, clipped to the window and at least one
/// character wide (a span at the end of the input points just past it).
/// Never panics, even for a span outside `source`. No trailing newline.
pub fn render_snippet(source: &str, span: Span) -> String {
    let chars: Vec<char> = source.chars().collect();
    let n = chars.len();
    let start = span.start.min(n);
    let end = span.end.clamp(start, n);

    // Which part of the input to show.
    let (from, to) = if n <= MAX_SNIPPET_CHARS {
        (0, n)
    } else {
        let from = start.saturating_sub(WINDOW_BEFORE).min(n - WINDOW_WIDTH);
        (from, from + WINDOW_WIDTH)
    };
    let prefix = if from > 0 { "..." } else { "" };
    let suffix = if to < n { "..." } else { "" };
    let shown: String = chars[from..to].iter().map(|&c| visible(c)).collect();

    // Caret under the span (clipped to the window), at least one wide.
    let pad = prefix.len() + (start - from);
    let width = end.min(to).saturating_sub(start).max(1);
    format!(
        "  {prefix}{shown}{suffix}\n  {}{}",
        " ".repeat(pad),
        "^".repeat(width)
    )
}

/// `c` quoted for a message; invisible characters are shown by code point.
fn describe_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() || is_invisible(c) {
        format!("U+{:04X}", c as u32)
    } else {
        format!("'{c}'")
    }
}

/// Characters that take no column of their own on a terminal: zero-width
/// and directional formatting characters, combining accents.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{0300}'..='\u{036F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
    )
}

/// `c` as shown inside a one-line message or snippet: control characters
/// and other whitespace as a space, zero-width ones as `?`.
fn visible(c: char) -> char {
    if c.is_control() || c.is_whitespace() {
        ' '
    } else if is_invisible(c) {
        '?'
    } else {
        c
    }
}

/// User text for a message: on one line, cut to [`MAX_QUOTED_CHARS`]
/// characters with a trailing `...` if longer.
pub(crate) fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTED_CHARS {
        text.chars().map(visible).collect()
    } else {
        let head: String = text
            .chars()
            .take(MAX_QUOTED_CHARS - 3)
            .map(visible)
            .collect();
        format!("{head}...")
    }
}

/// Like [`shorten`], but keeps the end of the text: `...` then its last
/// characters.
pub(crate) fn shorten_tail(text: &str) -> String {
    let n = text.chars().count();
    if n <= MAX_QUOTED_CHARS {
        text.chars().map(visible).collect()
    } else {
        let keep = MAX_QUOTED_CHARS - 3;
        let tail: String = text.chars().skip(n - keep).map(visible).collect();
        format!("...{tail}")
    }
}

impl fmt::Display for ErrorKind {
    /// The message without a column, e.g. `unbalanced parentheses`; the
    /// error class in a few words.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::UnexpectedChar { .. } => "unexpected character",
            ErrorKind::UnexpectedToken { .. } => "unexpected token",
            ErrorKind::UnexpectedEnd { .. } => "unexpected end of input",
            ErrorKind::UnclosedParen | ErrorKind::UnmatchedCloseParen => "unbalanced parentheses",
            ErrorKind::Empty => "empty expression",
            ErrorKind::UnknownFunction { .. } => "unknown function",
            ErrorKind::ImplicitMultiplication { .. } => "implicit multiplication",
            ErrorKind::InvalidNumber { .. } => "invalid number",
            ErrorKind::WrongArgCount { .. } => "wrong number of arguments",
            ErrorKind::TooDeep { .. } => "expression nested too deeply",
        })
    }
}

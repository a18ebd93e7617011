//! The lexer: source text to [`Token`]s.
//!
//! Lexing is eager, but an invalid character or number does not fail the
//! whole lex: it becomes a final [`TokenKind::Error`] token, so that the parser
//! reports whichever problem comes first in the input.

use super::error::{ErrorKind, ParseError};
use super::span::Span;

/// The kinds of token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// A number literal, already converted (finite, non-negative).
    Num(f64),
    /// An identifier: ASCII letter or `_`, then letters, digits or `_`.
    Ident,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `**`
    StarStar,
    /// `/`
    Slash,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `.` not starting a number (as in `torch.sin`).
    Dot,
    /// The input could not be lexed here; always the last token.
    Error(Box<ParseError>),
    /// End of input; always the last token of a successful lex.
    End,
}

/// A token with its position both as characters (for messages) and bytes
/// (for slicing the source).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Character span.
    pub span: Span,
    /// Byte range into the source.
    pub bytes: std::ops::Range<usize>,
}

/// Splits `source` into tokens. The result always ends with exactly one
/// [`TokenKind::End`] or [`TokenKind::Error`] token.
pub(crate) fn tokenize(source: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        src: source,
        byte: 0,
        chr: 0,
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token();
        let last = matches!(token.kind, TokenKind::End | TokenKind::Error(_));
        tokens.push(token);
        if last {
            return tokens;
        }
    }
}

/// Cursor over the source, tracking byte and character offsets together.
struct Lexer<'a> {
    src: &'a str,
    byte: usize,
    chr: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.byte..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.byte..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.byte += c.len_utf8();
        self.chr += 1;
        Some(c)
    }

    /// Consumes characters while `pred` holds (ASCII-only predicates).
    fn eat_while(&mut self, pred: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&pred) {
            self.bump();
        }
    }

    fn token(&self, kind: TokenKind, start_byte: usize, start_chr: usize) -> Token {
        Token {
            kind,
            span: Span::new(start_chr, self.chr),
            bytes: start_byte..self.byte,
        }
    }

    fn error(&self, kind: ErrorKind, start_byte: usize, start_chr: usize) -> Token {
        let err = ParseError::new(kind, Span::new(start_chr, self.chr));
        self.token(TokenKind::Error(Box::new(err)), start_byte, start_chr)
    }

    fn next_token(&mut self) -> Token {
        self.eat_while(char::is_whitespace);
        let (b0, c0) = (self.byte, self.chr);
        let Some(c) = self.bump() else {
            return self.token(TokenKind::End, b0, c0);
        };
        let kind = match c {
            '+' => TokenKind::Plus,
            '-' => TokenKind::Minus,
            '*' if self.peek() == Some('*') => {
                self.bump();
                TokenKind::StarStar
            }
            '*' => TokenKind::Star,
            '/' => TokenKind::Slash,
            '(' => TokenKind::LParen,
            ')' => TokenKind::RParen,
            ',' => TokenKind::Comma,
            '.' if self.peek().is_some_and(|d| d.is_ascii_digit()) => {
                return self.number(b0, c0);
            }
            '.' => TokenKind::Dot,
            '0'..='9' => return self.number(b0, c0),
            c if c == '_' || c.is_ascii_alphabetic() => {
                self.eat_while(|c| c == '_' || c.is_ascii_alphanumeric());
                TokenKind::Ident
            }
            other => {
                let hint = char_hint(other);
                return self.error(ErrorKind::UnexpectedChar { ch: other, hint }, b0, c0);
            }
        };
        self.token(kind, b0, c0)
    }

    /// Lexes a number starting at `b0`/`c0`, whose first character (a digit,
    /// or a '.' followed by a digit) has been consumed.
    fn number(&mut self, b0: usize, c0: usize) -> Token {
        let first = self.src[b0..].chars().next();
        if first == Some('0') && matches!(self.peek(), Some('x' | 'X' | 'o' | 'O' | 'b' | 'B')) {
            return self.radix_number(b0, c0);
        }
        let is_digit_or_sep = |c: char| c.is_ascii_digit() || c == '_';
        // Integer part (empty for `.5`), then fraction and exponent.
        if first != Some('.') {
            self.eat_while(is_digit_or_sep);
            if self.peek() == Some('.') {
                self.bump();
            }
        }
        self.eat_while(is_digit_or_sep);
        let mut has_exponent = false;
        if let Some('e' | 'E') = self.peek() {
            // `2e` / `2ex` are the constant `e` after a number (reported as
            // implicit multiplication); `2e5`, `2e+`, `2e_` are exponents.
            if matches!(self.peek_at(1), Some('0'..='9' | '+' | '-' | '_')) {
                has_exponent = true;
                self.bump();
                if matches!(self.peek(), Some('+' | '-')) {
                    self.bump();
                }
                self.eat_while(is_digit_or_sep);
            }
        }
        // A second '.' (`1.2.3`, `1e5.2`): swallow the rest of the
        // number-like run so the message shows all of it.
        if self.peek() == Some('.') {
            self.eat_while(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
            return self.invalid(
                b0,
                c0,
                "a number has at most one '.' and no '.' in its exponent",
            );
        }
        let text = &self.src[b0..self.byte];
        if let Err(reason) = check_decimal(text, has_exponent) {
            return self.invalid(b0, c0, reason);
        }
        let cleaned: String = text.chars().filter(|&c| c != '_').collect();
        match cleaned.parse::<f64>() {
            Ok(v) if v.is_finite() => self.token(TokenKind::Num(v), b0, c0),
            Ok(_) => self.invalid(b0, c0, "too large for a 64-bit float"),
            Err(_) => self.invalid(b0, c0, "not a valid number"),
        }
    }

    /// `0x1F`, `0o17`, `0b101` (Python integer literals), with `_` allowed
    /// between digits and after the prefix.
    fn radix_number(&mut self, b0: usize, c0: usize) -> Token {
        let prefix = self.bump().unwrap_or('x').to_ascii_lowercase();
        let radix = match prefix {
            'x' => 16,
            'o' => 8,
            _ => 2,
        };
        self.eat_while(|c| c.is_ascii_alphanumeric() || c == '_');
        let digits = &self.src[b0 + 2..self.byte];
        if digits.chars().all(|c| c == '_') {
            return self.invalid(b0, c0, "no digits after the base prefix");
        }
        if digits.ends_with('_') || digits.contains("__") {
            return self.invalid(b0, c0, "'_' may only separate digits");
        }
        let mut value = 0.0f64;
        for c in digits.chars().filter(|&c| c != '_') {
            match c.to_digit(radix) {
                Some(d) => value = value * f64::from(radix) + f64::from(d),
                None => return self.invalid(b0, c0, "digit not valid for this base"),
            }
        }
        if value.is_finite() {
            self.token(TokenKind::Num(value), b0, c0)
        } else {
            self.invalid(b0, c0, "too large for a 64-bit float")
        }
    }

    fn invalid(&self, b0: usize, c0: usize, reason: &'static str) -> Token {
        let text = self.src[b0..self.byte].to_string();
        self.error(ErrorKind::InvalidNumber { text, reason }, b0, c0)
    }
}

/// Checks a decimal literal's shape against Python's rules: `_` only
/// between digits, digits after an exponent marker, no leading zeros in an
/// integer literal.
fn check_decimal(text: &str, has_exponent: bool) -> Result<(), &'static str> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) if has_exponent => (&text[..i], Some(&text[i + 1..])),
        _ => (text, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let parts = [Some(int_part), frac_part];
    for part in parts.into_iter().flatten().filter(|p| !p.is_empty()) {
        check_digit_part(part)?;
    }
    if let Some(exp) = exponent {
        let digits = exp.trim_start_matches(['+', '-']);
        if digits.is_empty() {
            return Err("the exponent has no digits");
        }
        check_digit_part(digits)?;
    }
    if frac_part.is_none() && exponent.is_none() {
        let digits: String = int_part.chars().filter(|&c| c != '_').collect();
        if digits.len() > 1 && digits.starts_with('0') && digits.chars().any(|c| c != '0') {
            return Err("leading zeros are not allowed in integers (as in Python)");
        }
    }
    Ok(())
}

/// A run of digits with single `_` separators between them.
fn check_digit_part(part: &str) -> Result<(), &'static str> {
    if part.starts_with('_') || part.ends_with('_') || part.contains("__") {
        Err("'_' may only separate digits")
    } else {
        Ok(())
    }
}

/// What to write instead of a character that is not in the language.
fn char_hint(c: char) -> Option<&'static str> {
    Some(match c {
        '^' => "use '**' for powers, as in Python: x**2",
        '×' | '·' | '⋅' | '∙' => "use '*' for multiplication",
        '÷' | '∕' => "use '/' for division",
        '−' | '–' | '—' | '‐' => "use the ASCII '-' for minus",
        '²' | '³' | '¹' | '⁰' | '⁴' | '⁵' | '⁶' | '⁷' | '⁸' | '⁹' => {
            "use '**' for powers, as in Python: x**2"
        }
        '[' | ']' | '{' | '}' => "use '(' and ')' for grouping",
        '=' | '<' | '>' | '!' => "enter only the expression, e.g. x**2 rather than y = x**2",
        '%' => "the modulo operator is not supported",
        'π' => "write pi",
        '√' => "write sqrt(x)",
        _ if c.is_alphabetic() => {
            "names must be ASCII: a letter or '_', then letters, digits or '_'"
        }
        _ => return None,
    })
}

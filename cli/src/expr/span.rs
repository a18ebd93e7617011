//! Source positions: where a token, node or error sits in the input.

use std::fmt;

/// A half-open range `start..end` of **character** offsets into the source
/// text (0-based; `end` is exclusive).
///
/// Offsets count Unicode scalar values (`char`s), not bytes, so that a caret
/// printed under the input lines up for multi-byte UTF-8 input too. The whole
/// input counts as one line: a newline or tab is one column like any other
/// character. A span at the end of the input (for "unexpected end of input")
/// has `start == end == number of chars`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First character of the range (0-based).
    pub start: usize,
    /// One past the last character of the range.
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The 1-based column of the first character, as shown to users.
    pub const fn column(&self) -> usize {
        self.start + 1
    }

    /// Number of characters covered (0 for an empty span).
    pub const fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span covers no characters.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The text this span covers in `source`, or `""` where the span lies
    /// outside it (never panics, even for a different `source`).
    pub fn slice(self, source: &str) -> &str {
        let byte_at = |char_idx: usize| {
            source
                .char_indices()
                .nth(char_idx)
                .map_or(source.len(), |(b, _)| b)
        };
        let start = byte_at(self.start);
        let end = byte_at(self.end.max(self.start));
        &source[start..end]
    }
}

impl fmt::Display for Span {
    /// Formats as the 1-based column range users see, e.g. `3..5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start + 1, self.end + 1)
    }
}

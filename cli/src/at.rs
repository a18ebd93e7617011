//! The `--at` option of `tensorgrad diff`: `NAME=VALUE` pairs, separated by
//! commas and/or given in several `--at` options (`--at x=3,y=4` is the
//! same as `--at x=3 --at y=4`).

use crate::errors::CliError;
use crate::expr::{shorten, Constant, Func, Span};
use crate::number::parse_number;

/// One `NAME=VALUE` pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The variable's name.
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// How an `--at` argument is shown in error messages, so that the caret
/// columns refer to what the user typed after `--at`.
const SHOWN_PREFIX: &str = "--at ";

/// Parses every `--at` argument, in order.
///
/// A value is a number or a constant expression (see
/// [`number`](crate::number)); whitespace around names and values is
/// ignored. Commas inside parentheses do not separate pairs.
///
/// # Errors
/// An empty pair, a pair without `=`, a name that is not an identifier or
/// is a constant or function name, a bad value, or a name given twice; the
/// error points at the offending part of its `--at` argument.
pub fn parse_bindings(args: &[String]) -> Result<Vec<Binding>, CliError> {
    let mut bindings: Vec<Binding> = Vec::new();
    for arg in args {
        let source = format!("{SHOWN_PREFIX}{arg}");
        let base = SHOWN_PREFIX.len();
        for (start, item) in split_pairs(arg) {
            let binding = parse_pair(item, &source, base + start)?;
            if let Some(first) = bindings.iter().find(|b| b.name == binding.name) {
                let (name_start, name) = trimmed(item.split('=').next().unwrap_or(item));
                let at = base + start + name_start;
                return Err(CliError::input_at(
                    format!(
                        "'{}' is given twice in --at (first as {}={})",
                        shorten(name),
                        shorten(name),
                        first.value
                    ),
                    &source,
                    Span::new(at, at + name.chars().count()),
                ));
            }
            bindings.push(binding);
        }
    }
    Ok(bindings)
}

/// Splits `arg` at commas outside parentheses, giving each piece with its
/// character offset in `arg`.
fn split_pairs(arg: &str) -> Vec<(usize, &str)> {
    let mut pieces = Vec::new();
    let (mut depth, mut piece_start_byte, mut piece_start_char) = (0usize, 0usize, 0usize);
    for (i, (byte, c)) in arg.char_indices().enumerate() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                pieces.push((piece_start_char, &arg[piece_start_byte..byte]));
                piece_start_byte = byte + 1;
                piece_start_char = i + 1;
            }
            _ => {}
        }
    }
    pieces.push((piece_start_char, &arg[piece_start_byte..]));
    pieces
}

/// `text` without surrounding whitespace, with the character offset where
/// the kept part starts.
fn trimmed(text: &str) -> (usize, &str) {
    let kept = text.trim_start();
    let lead = text.chars().count() - kept.chars().count();
    (lead, kept.trim_end())
}

/// Parses one `NAME=VALUE` pair that starts at character `at` of `source`.
fn parse_pair(item: &str, source: &str, at: usize) -> Result<Binding, CliError> {
    let whole = |text: &str| {
        let (lead, kept) = trimmed(text);
        Span::new(at + lead, at + lead + kept.chars().count())
    };
    if item.trim().is_empty() {
        return Err(CliError::input_at(
            "empty entry in --at: expected NAME=VALUE, e.g. x=3",
            source,
            Span::new(at, at + item.chars().count()),
        ));
    }
    let Some((name_text, value_text)) = item.split_once('=') else {
        return Err(CliError::input_at(
            format!(
                "expected NAME=VALUE in --at, e.g. x=3; found '{}'",
                shorten(item.trim())
            ),
            source,
            whole(item),
        ));
    };
    let (lead, name) = trimmed(name_text);
    let name_span = Span::new(at + lead, at + lead + name.chars().count().max(1));
    check_name(name).map_err(|why| CliError::input_at(why, source, name_span))?;

    let value_at = at + name_text.chars().count() + 1;
    let what = format!("'{}' in --at", shorten(name));
    let value = parse_number(value_text, source, value_at, &what)?;
    Ok(Binding {
        name: name.to_string(),
        value,
    })
}

/// Why `name` cannot be a variable, if it cannot.
fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let is_ident = match chars.next() {
        None => return Err("missing variable name before '=' in --at".to_string()),
        Some(c) => {
            (c == '_' || c.is_ascii_alphabetic())
                && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        }
    };
    let shown = shorten(name);
    if !is_ident {
        Err(format!(
            "'{shown}' in --at is not a variable name (letters, digits and '_', not starting \
             with a digit)"
        ))
    } else if Constant::from_name(name).is_some() {
        Err(format!(
            "'{shown}' is a constant, not a variable; it cannot be given a value"
        ))
    } else if Func::from_name(name).is_some() {
        Err(format!(
            "'{shown}' is a function, not a variable; it cannot be given a value"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn pairs(list: &[&str]) -> Vec<(String, f64)> {
        parse_bindings(&args(list))
            .unwrap()
            .into_iter()
            .map(|b| (b.name, b.value))
            .collect()
    }

    fn error(list: &[&str]) -> String {
        parse_bindings(&args(list)).unwrap_err().to_string()
    }

    #[test]
    fn commas_and_repeats() {
        let want = vec![("u".to_string(), 3.0), ("v".to_string(), 4.0)];
        assert_eq!(pairs(&["u=3,v=4"]), want);
        assert_eq!(pairs(&["u=3", "v=4"]), want);
        assert_eq!(pairs(&[" u = 3 , v=4 "]), want);
        assert_eq!(pairs(&["x=sqrt(4)", "y=-pi"])[1].1, -std::f64::consts::PI);
    }

    #[test]
    fn carets_point_at_the_bad_part() {
        assert_eq!(
            error(&["x=3,y"]),
            "error: expected NAME=VALUE in --at, e.g. x=3; found 'y'\n  --at x=3,y\n           ^"
        );
        assert_eq!(
            error(&["x=3", "2x=1"]),
            "error: '2x' in --at is not a variable name (letters, digits and '_', not \
             starting with a digit)\n  --at 2x=1\n       ^^"
        );
        assert_eq!(
            error(&["x=1,x=2"]),
            "error: 'x' is given twice in --at (first as x=1)\n  --at x=1,x=2\n           ^"
        );
        assert_eq!(
            error(&["x=3,,y=1"]),
            "error: empty entry in --at: expected NAME=VALUE, e.g. x=3\n  --at x=3,,y=1\n           ^"
        );
        assert_eq!(
            error(&["pi=3"]),
            "error: 'pi' is a constant, not a variable; it cannot be given a value\n  --at pi=3\n       ^^"
        );
        assert_eq!(
            error(&["x=3,y=1$"]),
            "error: invalid value for 'y' in --at: unexpected character '$' at column 13\n  \
             --at x=3,y=1$\n              ^"
        );
    }
}

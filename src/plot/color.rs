//! Colours: RGB values, matplotlib's names for them, and what [`Figure::line`] accepts.
//!
//! [`Figure::line`]: super::Figure::line

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// An opaque RGB colour.
///
/// Made from a name (`"red"`, `"tab:blue"`, `"g"`, ...), a hex string (`"#1f77b4"`, `"#f80"`),
/// an `(r, g, b)` tuple or `[r, g, b]` array, or one of the constants. Names mean what they
/// mean in matplotlib, so `"green"` is CSS green `#008000`, not `#00ff00`.
///
/// ```
/// use tensorgrad::plot::Color;
/// assert_eq!("green".parse::<Color>()?, Color::rgb(0, 128, 0));
/// assert_eq!("#FF8000".parse::<Color>()?, Color::from((255, 128, 0)));
/// assert_eq!(Color::RED.to_string(), "#ff0000");
/// assert!("chartreuse-ish".parse::<Color>().is_err());
/// # Ok::<(), tensorgrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color {
    /// Red, 0–255.
    pub r: u8,
    /// Green, 0–255.
    pub g: u8,
    /// Blue, 0–255.
    pub b: u8,
}

/// Common CSS names, with matplotlib's values for them.
const CSS: &[(&str, Color)] = &[
    ("red", Color::rgb(255, 0, 0)),
    ("green", Color::rgb(0, 128, 0)),
    ("blue", Color::rgb(0, 0, 255)),
    ("black", Color::rgb(0, 0, 0)),
    ("white", Color::rgb(255, 255, 255)),
    ("orange", Color::rgb(255, 165, 0)),
    ("purple", Color::rgb(128, 0, 128)),
    ("brown", Color::rgb(165, 42, 42)),
    ("pink", Color::rgb(255, 192, 203)),
    ("gray", Color::rgb(128, 128, 128)),
    ("grey", Color::rgb(128, 128, 128)),
    ("olive", Color::rgb(128, 128, 0)),
    ("cyan", Color::rgb(0, 255, 255)),
    ("magenta", Color::rgb(255, 0, 255)),
    ("yellow", Color::rgb(255, 255, 0)),
    ("navy", Color::rgb(0, 0, 128)),
    ("teal", Color::rgb(0, 128, 128)),
    ("maroon", Color::rgb(128, 0, 0)),
    ("lime", Color::rgb(0, 255, 0)),
    ("gold", Color::rgb(255, 215, 0)),
    ("silver", Color::rgb(192, 192, 192)),
    ("indigo", Color::rgb(75, 0, 130)),
    ("violet", Color::rgb(238, 130, 238)),
    ("crimson", Color::rgb(220, 20, 60)),
    ("coral", Color::rgb(255, 127, 80)),
    ("salmon", Color::rgb(250, 128, 114)),
    ("turquoise", Color::rgb(64, 224, 208)),
    ("skyblue", Color::rgb(135, 206, 235)),
    ("darkred", Color::rgb(139, 0, 0)),
    ("darkgreen", Color::rgb(0, 100, 0)),
    ("darkblue", Color::rgb(0, 0, 139)),
    ("darkorange", Color::rgb(255, 140, 0)),
    ("lightgray", Color::rgb(211, 211, 211)),
    ("lightgrey", Color::rgb(211, 211, 211)),
];

/// matplotlib's Tableau palette: its default line colours, in cycle order.
const TAB10: [(&str, Color); 10] = [
    ("tab:blue", Color::rgb(0x1f, 0x77, 0xb4)),
    ("tab:orange", Color::rgb(0xff, 0x7f, 0x0e)),
    ("tab:green", Color::rgb(0x2c, 0xa0, 0x2c)),
    ("tab:red", Color::rgb(0xd6, 0x27, 0x28)),
    ("tab:purple", Color::rgb(0x94, 0x67, 0xbd)),
    ("tab:brown", Color::rgb(0x8c, 0x56, 0x4b)),
    ("tab:pink", Color::rgb(0xe3, 0x77, 0xc2)),
    ("tab:gray", Color::rgb(0x7f, 0x7f, 0x7f)),
    ("tab:olive", Color::rgb(0xbc, 0xbd, 0x22)),
    ("tab:cyan", Color::rgb(0x17, 0xbe, 0xcf)),
];

/// matplotlib's one-letter codes ("g" is (0, 0.5, 0), "c" is (0, 0.75, 0.75), ...).
const LETTERS: &[(&str, Color)] = &[
    ("r", Color::rgb(255, 0, 0)),
    ("g", Color::rgb(0, 128, 0)),
    ("b", Color::rgb(0, 0, 255)),
    ("c", Color::rgb(0, 191, 191)),
    ("m", Color::rgb(191, 0, 191)),
    ("y", Color::rgb(191, 191, 0)),
    ("k", Color::rgb(0, 0, 0)),
    ("w", Color::rgb(255, 255, 255)),
];

/// Every name the parser knows, with its colour.
fn named() -> impl Iterator<Item = &'static (&'static str, Color)> {
    CSS.iter().chain(&TAB10).chain(LETTERS)
}

impl Color {
    /// `red` (`#ff0000`).
    pub const RED: Color = Color::rgb(255, 0, 0);
    /// `green` (`#008000`, CSS and matplotlib green).
    pub const GREEN: Color = Color::rgb(0, 128, 0);
    /// `blue` (`#0000ff`).
    pub const BLUE: Color = Color::rgb(0, 0, 255);
    /// `black`.
    pub const BLACK: Color = Color::rgb(0, 0, 0);

    /// A colour from its red, green and blue components.
    ///
    /// ```
    /// use tensorgrad::plot::Color;
    /// assert_eq!(Color::rgb(255, 0, 0), Color::RED);
    /// ```
    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color { r, g, b }
    }

    /// The `i`-th colour of matplotlib's default line cycle (`tab:blue`, `tab:orange`,
    /// `tab:green`, ...), repeating after ten.
    ///
    /// ```
    /// use tensorgrad::plot::Color;
    /// assert_eq!(Color::cycle(0), "tab:blue".parse()?);
    /// assert_eq!(Color::cycle(10), Color::cycle(0));
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn cycle(i: usize) -> Color {
        TAB10[i % 10].1
    }

    /// The names [`Color`]'s parser knows, in the order its error message lists them.
    ///
    /// ```
    /// assert!(tensorgrad::plot::Color::names().any(|n| n == "tab:blue"));
    /// ```
    pub fn names() -> impl Iterator<Item = &'static str> {
        named().map(|&(n, _)| n)
    }

    /// Lowercase `#rrggbb`, the form SVG files use.
    pub(crate) fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

impl fmt::Display for Color {
    /// Formats as lowercase `#rrggbb`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// `#rgb` or `#rrggbb` (the `#` already removed).
fn parse_hex(hex: &str) -> Option<Color> {
    let digit = |c: char| c.to_digit(16).map(|d| d as u8);
    let digits: Vec<u8> = hex.chars().map(digit).collect::<Option<_>>()?;
    match digits[..] {
        [r, g, b] => Some(Color::rgb(r * 17, g * 17, b * 17)),
        [r1, r0, g1, g0, b1, b0] => Some(Color::rgb(r1 * 16 + r0, g1 * 16 + g0, b1 * 16 + b0)),
        _ => None,
    }
}

impl FromStr for Color {
    type Err = Error;

    /// Parses a name (case-insensitive; see [`Color::names`]) or a `#rgb` / `#rrggbb` hex
    /// string. Anything else is [`Error::UnknownColor`], whose message lists the names.
    fn from_str(s: &str) -> Result<Color> {
        let name = s.trim();
        let parsed = match name.strip_prefix('#') {
            Some(hex) => parse_hex(hex),
            None => named()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|&(_, c)| c),
        };
        parsed.ok_or_else(|| Error::UnknownColor {
            name: s.to_string(),
            known: Color::names().collect::<Vec<_>>().join(", "),
        })
    }
}

impl From<(u8, u8, u8)> for Color {
    fn from((r, g, b): (u8, u8, u8)) -> Color {
        Color::rgb(r, g, b)
    }
}

impl From<[u8; 3]> for Color {
    fn from([r, g, b]: [u8; 3]) -> Color {
        Color::rgb(r, g, b)
    }
}

/// Anything [`Figure::line`](super::Figure::line) takes as a colour: a [`Color`], an RGB
/// tuple or array (which cannot fail), or a name or hex string (which can, with
/// [`Error::UnknownColor`]).
///
/// ```
/// use tensorgrad::plot::{Color, IntoColor};
/// assert_eq!("red".into_color()?, Color::RED);
/// assert_eq!((0, 128, 0).into_color()?, Color::GREEN);
/// assert!("rojo".into_color().is_err());
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub trait IntoColor {
    /// The colour, or an error naming what was not understood.
    fn into_color(self) -> Result<Color>;
}

impl IntoColor for Color {
    fn into_color(self) -> Result<Color> {
        Ok(self)
    }
}

impl IntoColor for (u8, u8, u8) {
    fn into_color(self) -> Result<Color> {
        Ok(self.into())
    }
}

impl IntoColor for [u8; 3] {
    fn into_color(self) -> Result<Color> {
        Ok(self.into())
    }
}

impl IntoColor for &str {
    fn into_color(self) -> Result<Color> {
        self.parse()
    }
}

impl IntoColor for &String {
    fn into_color(self) -> Result<Color> {
        self.parse()
    }
}

impl IntoColor for String {
    fn into_color(self) -> Result<Color> {
        self.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_case_insensitively_and_hex() {
        assert_eq!(" Red ".parse::<Color>().unwrap(), Color::RED);
        assert_eq!("#0f0".parse::<Color>().unwrap(), Color::rgb(0, 255, 0));
        assert!("#12345".parse::<Color>().is_err());
        assert!("#gg0000".parse::<Color>().is_err());
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let err = "rojo".parse::<Color>().unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("\"rojo\"")
                && msg.contains("red, green, blue")
                && msg.contains("tab:cyan"),
            "{msg}"
        );
    }
}

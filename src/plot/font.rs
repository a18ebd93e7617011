//! The one font figures use: DejaVu Sans, compiled into the library.
//!
//! Text is measured and rasterized from these bytes alone, so rendering never asks the
//! system for a font (no fontconfig, no font directories, nothing read from disk), and a
//! figure looks the same on every machine. DejaVu Sans is also matplotlib's default font,
//! which is what makes our figures read like the ones the PyTorch tutorials draw.
//! Licence: `assets/fonts/LICENSE-DejaVu.txt` (Bitstream Vera licence; DejaVu changes are
//! public domain).

use ab_glyph::{point, Font, FontRef, GlyphId, ScaleFont};
use std::sync::LazyLock;

/// The embedded TTF.
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// CSS font stack written into SVG files; viewers without DejaVu Sans fall back to a
/// metrically similar sans-serif.
pub(crate) const SVG_FAMILY: &str = "DejaVu Sans, Bitstream Vera Sans, Verdana, sans-serif";

static FONT: LazyLock<FontRef<'static>> = LazyLock::new(|| {
    FontRef::try_from_slice(FONT_BYTES).expect("the embedded DejaVu Sans is a valid TrueType font")
});

/// ab_glyph scales by `ascent - descent`, not by the em square; this converts an em size in
/// pixels (what "10 pt at 100 dpi" means) to its scale.
fn scale_for_em(em_px: f64) -> f32 {
    let font = &*FONT;
    let units_per_em = font.units_per_em().unwrap_or(2048.0);
    (em_px as f32) * font.height_unscaled() / units_per_em
}

/// Glyph ids of `text` with the pen position (relative to the start) of each, and the total
/// advance.
///
/// Advances and kerning are rounded to whole pixels, as FreeType's hinted metrics are in
/// matplotlib: every glyph then starts on the pixel grid, stems look alike from letter to
/// letter, and strings are as wide as matplotlib makes them ("−10000" is 57 px at 10 pt).
fn layout(text: &str, em_px: f64) -> (Vec<(GlyphId, f32)>, f32) {
    let font = FONT.as_scaled(scale_for_em(em_px));
    let mut pen = 0.0f32;
    let mut prev: Option<GlyphId> = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            pen += font.kern(p, id).round();
        }
        glyphs.push((id, pen));
        pen += font.h_advance(id).round();
        prev = Some(id);
    }
    (glyphs, pen)
}

/// Advance width of `text` in pixels at `em_px` (a whole number).
pub(crate) fn text_width(text: &str, em_px: f64) -> f64 {
    f64::from(layout(text, em_px).1)
}

/// Coverage (0..=1) of `text` set with its baseline starting at (`x`, `y`), which are rounded
/// to whole pixels (as matplotlib places text) so baselines and glyph origins sit on the
/// pixel grid; `put(px, py, coverage)` is called for every touched pixel.
pub(crate) fn rasterize(
    text: &str,
    em_px: f64,
    x: f64,
    y: f64,
    mut put: impl FnMut(i64, i64, f32),
) {
    let scale = scale_for_em(em_px);
    let font = &*FONT;
    let (x, y) = (x.round() as f32, y.round() as f32);
    for (id, pen) in layout(text, em_px).0 {
        let glyph = id.with_scale_and_position(scale, point(x + pen, y));
        if let Some(outlined) = font.outline_glyph(glyph) {
            let b = outlined.px_bounds();
            outlined.draw(|gx, gy, c| {
                put(
                    b.min.x as i64 + i64::from(gx),
                    b.min.y as i64 + i64::from(gy),
                    c,
                )
            });
        }
    }
}

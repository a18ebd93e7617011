//! The drawing surface a figure is laid out onto, and its two implementations: an RGB pixel
//! buffer written as PNG, and an SVG document.
//!
//! Layout happens once, in `render`, in pixel units; a canvas only knows a handful of
//! primitives, so PNG and SVG output always agree on where everything is.

use super::color::Color;
use super::font;
use std::fmt::Write as _;

/// An axis-aligned rectangle in pixels, y pointing down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }
}

/// Horizontal alignment of text on its anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

impl Align {
    /// How far before the anchor text of `width` starts.
    fn lead(self, width: f64) -> f64 {
        match self {
            Align::Left => 0.0,
            Align::Center => width / 2.0,
            Align::Right => width,
        }
    }
}

/// One run of text: where its baseline is anchored and how it is set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextStyle {
    /// Em size in pixels.
    pub em: f64,
    pub align: Align,
    /// Rotated a quarter turn counter-clockwise (reads bottom to top), as y-axis labels are.
    pub vertical: bool,
    pub color: Color,
}

/// What a figure is drawn with.
pub(crate) trait Canvas {
    /// Fills `r`; fractional edges are shaded by the area they cover, so a 1.1 px line on a
    /// pixel centre is one solid pixel with faint neighbours, as matplotlib's Agg draws it.
    fn fill_rect(&mut self, r: Rect, color: Color);

    /// Strokes each run of points as one polyline (round joins and caps), clipped to `clip`.
    fn polyline(&mut self, runs: &[Vec<(f64, f64)>], color: Color, width: f64, clip: Rect);

    /// A rectangle with rounded corners, filled with `fill` and outlined with `edge` (its
    /// line centred on `r`'s border), all at opacity `alpha`: the legend's frame.
    fn rounded_rect(
        &mut self,
        r: Rect,
        radius: f64,
        fill: Color,
        edge: Color,
        edge_width: f64,
        alpha: f64,
    );

    /// `text` with its baseline anchored at (`x`, `y`).
    fn text(&mut self, text: &str, x: f64, y: f64, style: TextStyle);
}

// ----- raster ---------------------------------------------------------------------------------

/// An RGB image, drawn with anti-aliasing (coverage blended in sRGB, like matplotlib's Agg).
pub(crate) struct Raster {
    pub width: usize,
    pub height: usize,
    /// Row-major RGB bytes.
    pub pixels: Vec<u8>,
}

impl Raster {
    /// A white image.
    pub fn new(width: usize, height: usize) -> Raster {
        Raster {
            width,
            height,
            pixels: vec![255; width * height * 3],
        }
    }

    /// Blends `color` over pixel (`x`, `y`) with opacity `alpha`; pixels off the image are
    /// ignored, so callers can draw partly outside.
    fn blend(&mut self, x: i64, y: i64, color: Color, alpha: f64) {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height || alpha <= 0.0 {
            return;
        }
        let a = alpha.min(1.0);
        let i = (y as usize * self.width + x as usize) * 3;
        for (k, c) in [color.r, color.g, color.b].into_iter().enumerate() {
            let old = f64::from(self.pixels[i + k]);
            self.pixels[i + k] = (old + (f64::from(c) - old) * a).round() as u8;
        }
    }

    /// The pixel range `[lo, hi)` that the span `a..b` touches, limited to `0..limit`.
    fn pixel_span(a: f64, b: f64, limit: usize) -> (i64, i64) {
        (a.floor().max(0.0) as i64, b.ceil().min(limit as f64) as i64)
    }

    /// Encodes the image as PNG, tagged 100 dpi (the resolution its pixel sizes assume).
    pub fn encode_png(&self) -> Result<Vec<u8>, png::EncodingError> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            // A figure is mostly flat colour: the best compression with a filter chosen per
            // row makes the file less than half the default's size, for a few milliseconds.
            encoder.set_compression(png::Compression::Best);
            encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
            // 100 dots per inch = 3937 per metre.
            encoder.set_pixel_dims(Some(png::PixelDimensions {
                xppu: 3937,
                yppu: 3937,
                unit: png::Unit::Meter,
            }));
            let mut writer = encoder.write_header()?;
            writer.write_image_data(&self.pixels)?;
        }
        Ok(out)
    }
}

/// Distance from `p` to the segment `a`–`b`.
fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (cx, cy) = (a.0 + t * dx - p.0, a.1 + t * dy - p.1);
    (cx * cx + cy * cy).sqrt()
}

impl Canvas for Raster {
    fn fill_rect(&mut self, r: Rect, color: Color) {
        let (xa, xb) = Raster::pixel_span(r.x0, r.x1, self.width);
        let (ya, yb) = Raster::pixel_span(r.y0, r.y1, self.height);
        for y in ya..yb {
            let cy = (r.y1.min(y as f64 + 1.0) - r.y0.max(y as f64)).max(0.0);
            for x in xa..xb {
                let cx = (r.x1.min(x as f64 + 1.0) - r.x0.max(x as f64)).max(0.0);
                self.blend(x, y, color, cx * cy);
            }
        }
    }

    fn polyline(&mut self, runs: &[Vec<(f64, f64)>], color: Color, width: f64, clip: Rect) {
        let (cx0, cx1) = Raster::pixel_span(clip.x0, clip.x1, self.width);
        let (cy0, cy1) = Raster::pixel_span(clip.y0, clip.y1, self.height);
        if cx0 >= cx1 || cy0 >= cy1 {
            return;
        }
        let cw = (cx1 - cx0) as usize;
        // Coverage of the whole series, combined with max rather than blended segment by
        // segment, so joints where segments overlap are not drawn twice as dark.
        let mut coverage = vec![0f32; cw * (cy1 - cy0) as usize];
        // A pixel centre within `reach` of the centre line is at least partly covered.
        let half = width / 2.0;
        let reach = half + 0.5;
        for run in runs {
            // A lone point (its neighbours were not finite) is drawn as a dot: a segment of
            // length zero.
            let dot = [run[0], run[0]];
            let points: &[(f64, f64)] = if run.len() == 1 { &dot } else { run };
            for pair in points.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let ya = (a.1.min(b.1) - reach).floor().max(cy0 as f64) as i64;
                let yb = ((a.1.max(b.1) + reach).ceil() as i64).min(cy1);
                for y in ya..yb {
                    let yc = y as f64 + 0.5;
                    // x-extent of the part of the segment within `reach` of this row, widened
                    // by `reach`: only those pixels can be covered.
                    let (lo, hi) = if (b.1 - a.1).abs() < 1e-12 {
                        (a.0.min(b.0), a.0.max(b.0))
                    } else {
                        let ta = ((yc - reach - a.1) / (b.1 - a.1)).clamp(0.0, 1.0);
                        let tb = ((yc + reach - a.1) / (b.1 - a.1)).clamp(0.0, 1.0);
                        let (xa, xb) = (a.0 + ta * (b.0 - a.0), a.0 + tb * (b.0 - a.0));
                        (xa.min(xb), xa.max(xb))
                    };
                    let xa = (lo - reach).floor().max(cx0 as f64) as i64;
                    let xb = ((hi + reach).ceil() as i64).min(cx1);
                    for x in xa..xb {
                        let d = distance_to_segment((x as f64 + 0.5, yc), a, b);
                        let c = (reach - d).clamp(0.0, 1.0) as f32;
                        let slot = &mut coverage[(y - cy0) as usize * cw + (x - cx0) as usize];
                        *slot = slot.max(c);
                    }
                }
            }
        }
        for (i, &c) in coverage.iter().enumerate() {
            if c > 0.0 {
                self.blend(
                    cx0 + (i % cw) as i64,
                    cy0 + (i / cw) as i64,
                    color,
                    f64::from(c),
                );
            }
        }
    }

    fn rounded_rect(
        &mut self,
        r: Rect,
        radius: f64,
        fill: Color,
        edge: Color,
        edge_width: f64,
        alpha: f64,
    ) {
        let (cx, cy) = ((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0);
        let (hx, hy) = (r.width() / 2.0 - radius, r.height() / 2.0 - radius);
        let reach = edge_width / 2.0 + 1.0;
        let (xa, xb) = Raster::pixel_span(r.x0 - reach, r.x1 + reach, self.width);
        let (ya, yb) = Raster::pixel_span(r.y0 - reach, r.y1 + reach, self.height);
        for y in ya..yb {
            for x in xa..xb {
                // Signed distance from the pixel centre to the rounded outline.
                let qx = (x as f64 + 0.5 - cx).abs() - hx;
                let qy = (y as f64 + 0.5 - cy).abs() - hy;
                let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
                let d = outside + qx.max(qy).min(0.0) - radius;
                self.blend(x, y, fill, alpha * (0.5 - d).clamp(0.0, 1.0));
                self.blend(
                    x,
                    y,
                    edge,
                    alpha * (edge_width / 2.0 + 0.5 - d.abs()).clamp(0.0, 1.0),
                );
            }
        }
    }

    fn text(&mut self, text: &str, x: f64, y: f64, style: TextStyle) {
        let lead = style.align.lead(font::text_width(text, style.em));
        if !style.vertical {
            font::rasterize(text, style.em, x - lead, y, |px, py, c| {
                self.blend(px, py, style.color, f64::from(c))
            });
            return;
        }
        // Set the text horizontally with its baseline on y = 0 and turn each pixel a quarter
        // turn: text-space pixel (u, v) lands on (ox + v, oy - u - 1). The anchor is rounded to
        // whole pixels, as all text is, so the turn maps pixels onto pixels.
        let (ox, oy) = (x.round() as i64, y.round() as i64);
        let along = (oy as f64 - y) - lead;
        font::rasterize(text, style.em, along, 0.0, |u, v, c| {
            self.blend(ox + v, oy - u - 1, style.color, f64::from(c))
        });
    }
}

// ----- SVG ------------------------------------------------------------------------------------

/// An SVG document, with text kept as text (searchable, selectable, small).
pub(crate) struct Svg {
    body: String,
    clip_ids: usize,
}

/// Escapes text for XML content and attribute values.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with two decimals and no trailing zeros: compact, and finer than any screen.
fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

impl Svg {
    pub fn new() -> Svg {
        Svg {
            body: String::new(),
            clip_ids: 0,
        }
    }

    /// The finished document.
    pub fn finish(self, width: usize, height: usize) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n{}</svg>\n",
            self.body
        )
    }
}

impl Canvas for Svg {
    fn fill_rect(&mut self, r: Rect, color: Color) {
        let _ = writeln!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{color}\"/>",
            num(r.x0),
            num(r.y0),
            num(r.width()),
            num(r.height())
        );
    }

    fn polyline(&mut self, runs: &[Vec<(f64, f64)>], color: Color, width: f64, clip: Rect) {
        self.clip_ids += 1;
        let id = self.clip_ids;
        let mut d = String::new();
        for run in runs {
            for (i, &(x, y)) in run.iter().enumerate() {
                let _ = write!(
                    d,
                    "{}{},{} ",
                    if i == 0 { "M" } else { "L" },
                    num(x),
                    num(y)
                );
            }
            if run.len() == 1 {
                // A zero-length segment, which round caps draw as a dot.
                d.push_str("h0 ");
            }
        }
        let _ = writeln!(
            self.body,
            "<clipPath id=\"clip{id}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath>\n<path clip-path=\"url(#clip{id})\" d=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{}\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>",
            num(clip.x0),
            num(clip.y0),
            num(clip.width()),
            num(clip.height()),
            d.trim_end(),
            num(width)
        );
    }

    fn rounded_rect(
        &mut self,
        r: Rect,
        radius: f64,
        fill: Color,
        edge: Color,
        edge_width: f64,
        alpha: f64,
    ) {
        let _ = writeln!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"{fill}\" stroke=\"{edge}\" stroke-width=\"{}\" opacity=\"{}\"/>",
            num(r.x0),
            num(r.y0),
            num(r.width()),
            num(r.height()),
            num(radius),
            num(edge_width),
            num(alpha)
        );
    }

    fn text(&mut self, text: &str, x: f64, y: f64, style: TextStyle) {
        let anchor = match style.align {
            Align::Left => "start",
            Align::Center => "middle",
            Align::Right => "end",
        };
        let rotate = if style.vertical {
            format!(" transform=\"rotate(-90 {} {})\"", num(x), num(y))
        } else {
            String::new()
        };
        let _ = writeln!(
            self.body,
            "<text x=\"{}\" y=\"{}\" font-family=\"{}\" font-size=\"{}\" fill=\"{}\" text-anchor=\"{anchor}\"{rotate}>{}</text>",
            num(x),
            num(y),
            font::SVG_FAMILY,
            num(style.em),
            style.color,
            xml_escape(text)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_rect_edges_are_shaded_by_area() {
        let mut r = Raster::new(4, 1);
        // 1.1 px wide, centred on pixel 1: pixel 1 solid, 0 and 2 at 5% each.
        r.fill_rect(
            Rect {
                x0: 0.95,
                y0: 0.0,
                x1: 2.05,
                y1: 1.0,
            },
            Color::BLACK,
        );
        let reds: Vec<u8> = r.pixels.chunks(3).map(|p| p[0]).collect();
        assert_eq!(reds, [242, 0, 242, 255]);
    }

    #[test]
    fn vertical_text_is_taller_than_wide() {
        let mut r = Raster::new(40, 80);
        r.text(
            "Label",
            20.0,
            40.0,
            TextStyle {
                em: 14.0,
                align: Align::Center,
                vertical: true,
                color: Color::BLACK,
            },
        );
        let dark: Vec<(usize, usize)> = (0..r.width * r.height)
            .filter(|i| r.pixels[i * 3] < 128)
            .map(|i| (i % r.width, i / r.width))
            .collect();
        let (xs, ys): (Vec<usize>, Vec<usize>) = dark.into_iter().unzip();
        let w = xs.iter().max().unwrap() - xs.iter().min().unwrap();
        let h = ys.iter().max().unwrap() - ys.iter().min().unwrap();
        assert!(h > 2 * w, "ink {w} wide and {h} tall");
        // Centred on the anchor along the text, and to the left of the baseline (glyph tops
        // point left).
        let mid = (ys.iter().max().unwrap() + ys.iter().min().unwrap()) / 2;
        assert!((38..=42).contains(&mid), "centre {mid}");
        assert!(*xs.iter().max().unwrap() <= 20);
    }

    #[test]
    fn svg_numbers_are_compact() {
        assert_eq!(num(80.0), "80");
        assert_eq!(num(57.6), "57.6");
        assert_eq!(num(-0.001), "0");
        assert_eq!(xml_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}

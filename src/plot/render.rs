//! Lays a [`Figure`] out and draws it on a [`Canvas`].
//!
//! Sizes are matplotlib's defaults at its default 100 dpi (10 pt text, 1.5 pt lines, 3.5 pt
//! ticks, the axes at 12.5%–90% of the width and 12%–89% of the height), so a 640×480 figure
//! lands where `plt.plot` puts it. One departure: where labels would not fit in those margins
//! (a y label beside wide tick labels, a small figure), the axes shrink to make room instead
//! of letting text fall off the image as matplotlib does.

use super::canvas::{Align, Canvas, Rect, TextStyle};
use super::color::Color;
use super::ticks::{self, AxisTicks};
use super::{font, Figure, Legend, Series};
use crate::error::{Error, Result};

/// One typographic point in pixels at 100 dpi.
const PT: f64 = 100.0 / 72.0;
/// Tick labels, axis labels, legend text: 10 pt.
const EM: f64 = 10.0 * PT;
/// The title: 12 pt.
const TITLE_EM: f64 = 12.0 * PT;
const TICK_LEN: f64 = 3.5 * PT;
const TICK_PAD: f64 = 3.5 * PT;
const LABEL_PAD: f64 = 4.0 * PT;
const TITLE_PAD: f64 = 6.0 * PT;
const OFFSET_TEXT_PAD: f64 = 3.0 * PT;
const LINE_WIDTH: f64 = 1.5 * PT;
const SPINE_WIDTH: f64 = 0.8 * PT;
const GRID_WIDTH: f64 = 0.8 * PT;
/// Space kept between text and the image's edge when the axes shrink to fit labels.
const EDGE_PAD: f64 = 0.5 * EM;

/// Where the baseline sits in a line of text, as fractions of the em measured from the top
/// of matplotlib's text box (which is one em tall) and from the vertical centre for
/// `va="center_baseline"`; measured on matplotlib's output.
const TOP_TO_BASELINE: f64 = 0.73;
const CENTER_TO_BASELINE: f64 = 0.39;

/// Legend metrics: matplotlib's `legend.borderaxespad`, `borderpad`, `handlelength`,
/// `handletextpad` and `labelspacing` (set in ems); a row's height and where its baseline and
/// handle sit (measured on matplotlib's output).
const LEGEND_AXES_PAD: f64 = 0.5 * EM;
const LEGEND_PAD: f64 = 0.4 * EM;
const HANDLE_LEN: f64 = 2.0 * EM;
const HANDLE_TEXT_PAD: f64 = 0.8 * EM;
const ROW_SPACING: f64 = 0.5 * EM;
const ROW_HEIGHT: f64 = 1.0325 * EM;
const ROW_BASELINE: f64 = 0.785 * EM;
const ROW_HANDLE: f64 = 0.442 * EM;
const LEGEND_RADIUS: f64 = 0.2 * EM;
const LEGEND_EDGE_WIDTH: f64 = 1.0 * PT;
const LEGEND_ALPHA: f64 = 0.8;

const TEXT: Color = Color::BLACK;
const GRID: Color = Color::rgb(0xb0, 0xb0, 0xb0);
const LEGEND_EDGE: Color = Color::rgb(0xcc, 0xcc, 0xcc);
const WHITE: Color = Color::rgb(255, 255, 255);

fn style(em: f64, align: Align) -> TextStyle {
    TextStyle {
        em,
        align,
        vertical: false,
        color: TEXT,
    }
}

/// matplotlib's snapping of straight lines (Agg's `PathSnapper`): a line whose width rounds
/// to an odd number of pixels is centred on a pixel centre, an even one on a pixel edge, so it
/// covers whole pixels and looks crisp rather than smeared over two.
fn snap(v: f64, width: f64) -> f64 {
    let centre = if width.round() as i64 % 2 == 1 {
        0.5
    } else {
        0.0
    };
    (v + 0.5).floor() + centre
}

/// A horizontal line of `width` through `y`, as a rectangle.
fn hline(y: f64, x0: f64, x1: f64, width: f64) -> Rect {
    Rect {
        x0,
        y0: y - width / 2.0,
        x1,
        y1: y + width / 2.0,
    }
}

/// A vertical line of `width` through `x`, as a rectangle.
fn vline(x: f64, y0: f64, y1: f64, width: f64) -> Rect {
    Rect {
        x0: x - width / 2.0,
        y0,
        x1: x + width / 2.0,
        y1,
    }
}

/// The axes: where the plot area is, what it shows, and its ticks.
struct Axes {
    rect: Rect,
    xview: (f64, f64),
    yview: (f64, f64),
    xticks: AxisTicks,
    yticks: AxisTicks,
    /// Widest y tick label.
    ytick_width: f64,
}

impl Axes {
    fn px(&self, x: f64) -> f64 {
        self.rect.x0 + (x - self.xview.0) / (self.xview.1 - self.xview.0) * self.rect.width()
    }

    fn py(&self, y: f64) -> f64 {
        self.rect.y1 - (y - self.yview.0) / (self.yview.1 - self.yview.0) * self.rect.height()
    }

    fn to_pixels(&self, runs: &[Vec<(f64, f64)>]) -> Vec<Vec<(f64, f64)>> {
        runs.iter()
            .map(|run| run.iter().map(|&(x, y)| (self.px(x), self.py(y))).collect())
            .collect()
    }
}

/// Width of the widest of `labels`.
fn widest<'a>(labels: impl IntoIterator<Item = &'a str>, em: f64) -> f64 {
    labels
        .into_iter()
        .map(|l| font::text_width(l, em))
        .fold(0.0, f64::max)
}

/// Smallest and largest finite coordinate over all series, per axis.
fn data_limits(series: &[Series]) -> ((f64, f64), (f64, f64)) {
    let mut x = (f64::INFINITY, f64::NEG_INFINITY);
    let mut y = x;
    for &(px, py) in series.iter().flat_map(|s| s.runs.iter().flatten()) {
        x = (x.0.min(px), x.1.max(px));
        y = (y.0.min(py), y.1.max(py));
    }
    (x, y)
}

/// Chooses the axes rectangle and ticks: matplotlib's margins, widened where the labels need
/// more room. Tick density depends on the axes' size and label widths on the ticks, so this
/// settles in a couple of rounds.
fn layout(fig: &Figure, op: &'static str) -> Result<Axes> {
    let (w, h) = (f64::from(fig.width), f64::from(fig.height));
    let (xdata, ydata) = data_limits(&fig.series);
    let xview = fig
        .xlim
        .unwrap_or_else(|| ticks::view_limits(xdata.0, xdata.1));
    let yview = fig
        .ylim
        .unwrap_or_else(|| ticks::view_limits(ydata.0, ydata.1));
    let default = Rect {
        x0: 0.125 * w,
        y0: 0.12 * h,
        x1: 0.9 * w,
        y1: 0.89 * h,
    };
    let mut rect = default;
    let mut axes = None;
    for _ in 0..4 {
        let xticks = ticks::axis_ticks(xview.0, xview.1, ticks::nbins(rect.width(), EM, 3.0));
        let yticks = ticks::axis_ticks(yview.0, yview.1, ticks::nbins(rect.height(), EM, 2.0));
        let ytick_width = widest(yticks.labels.iter().map(String::as_str), EM);
        let left = EDGE_PAD
            + TICK_LEN
            + TICK_PAD
            + ytick_width
            + fig.ylabel.as_ref().map_or(0.0, |_| LABEL_PAD + EM);
        let right = EDGE_PAD
            + xticks
                .labels
                .last()
                .map_or(0.0, |l| font::text_width(l, EM) / 2.0);
        let title = fig.title.as_ref().map_or(0.0, |_| TITLE_PAD + TITLE_EM);
        let offset = if yticks.offset_text.is_empty() {
            0.0
        } else {
            OFFSET_TEXT_PAD + EM
        };
        let top = EDGE_PAD + title.max(offset);
        // The x offset text shares the x label's row (at the right end), so it needs room only
        // when there is no x label.
        let below_ticks = if fig.xlabel.is_some() || !xticks.offset_text.is_empty() {
            LABEL_PAD + EM
        } else {
            0.0
        };
        let bottom = EDGE_PAD + TICK_LEN + TICK_PAD + EM + below_ticks;
        let next = Rect {
            x0: default.x0.max(left),
            y0: default.y0.max(top),
            x1: default.x1.min(w - right),
            y1: default.y1.min(h - bottom),
        };
        let settled = next == rect;
        rect = next;
        axes = Some(Axes {
            rect,
            xview,
            yview,
            xticks,
            yticks,
            ytick_width,
        });
        if settled {
            break;
        }
    }
    let axes = axes.expect("the layout loop runs at least once");
    if axes.rect.width() < 1.0 || axes.rect.height() < 1.0 {
        return Err(Error::invalid(
            op,
            format!("a {}x{} figure leaves no room for the plot once its labels are placed; make it larger with .size(width, height)", fig.width, fig.height),
        ));
    }
    Ok(axes)
}

/// Draws `fig` on `canvas`; errors name `op`.
pub(crate) fn draw(fig: &Figure, canvas: &mut impl Canvas, op: &'static str) -> Result<()> {
    let axes = layout(fig, op)?;
    let r = axes.rect;
    canvas.fill_rect(
        Rect {
            x0: 0.0,
            y0: 0.0,
            x1: f64::from(fig.width),
            y1: f64::from(fig.height),
        },
        WHITE,
    );

    // Grid under the data, as matplotlib's default `axes.axisbelow = "line"` has it.
    if fig.grid {
        for &x in &axes.xticks.locs {
            canvas.fill_rect(
                vline(snap(axes.px(x), GRID_WIDTH), r.y0, r.y1, GRID_WIDTH),
                GRID,
            );
        }
        for &y in &axes.yticks.locs {
            canvas.fill_rect(
                hline(snap(axes.py(y), GRID_WIDTH), r.x0, r.x1, GRID_WIDTH),
                GRID,
            );
        }
    }

    let pixel_runs: Vec<Vec<Vec<(f64, f64)>>> =
        fig.series.iter().map(|s| axes.to_pixels(&s.runs)).collect();
    for (s, runs) in fig.series.iter().zip(&pixel_runs) {
        canvas.polyline(runs, s.color, LINE_WIDTH, r);
    }

    // Frame (the four spines), then ticks and their labels on the left and bottom.
    let [left, right, top, bottom] = [r.x0, r.x1, r.y0, r.y1].map(|v| snap(v, SPINE_WIDTH));
    let half = SPINE_WIDTH / 2.0;
    for spine in [
        vline(left, top - half, bottom + half, SPINE_WIDTH),
        vline(right, top - half, bottom + half, SPINE_WIDTH),
        hline(top, left - half, right + half, SPINE_WIDTH),
        hline(bottom, left - half, right + half, SPINE_WIDTH),
    ] {
        canvas.fill_rect(spine, TEXT);
    }
    let label_top = r.y1 + TICK_LEN + TICK_PAD;
    for (&x, label) in axes.xticks.locs.iter().zip(&axes.xticks.labels) {
        let px = snap(axes.px(x), SPINE_WIDTH);
        canvas.fill_rect(vline(px, r.y1, r.y1 + TICK_LEN, SPINE_WIDTH), TEXT);
        canvas.text(
            label,
            axes.px(x),
            label_top + TOP_TO_BASELINE * EM,
            style(EM, Align::Center),
        );
    }
    let label_right = r.x0 - TICK_LEN - TICK_PAD;
    for (&y, label) in axes.yticks.locs.iter().zip(&axes.yticks.labels) {
        let py = snap(axes.py(y), SPINE_WIDTH);
        canvas.fill_rect(hline(py, r.x0 - TICK_LEN, r.x0, SPINE_WIDTH), TEXT);
        canvas.text(
            label,
            label_right,
            axes.py(y) + CENTER_TO_BASELINE * EM,
            style(EM, Align::Right),
        );
    }
    let below_ticks = label_top + EM + LABEL_PAD;
    if !axes.xticks.offset_text.is_empty() {
        canvas.text(
            &axes.xticks.offset_text,
            r.x1,
            below_ticks + TOP_TO_BASELINE * EM,
            style(EM, Align::Right),
        );
    }
    if !axes.yticks.offset_text.is_empty() {
        canvas.text(
            &axes.yticks.offset_text,
            r.x0,
            r.y0 - OFFSET_TEXT_PAD,
            style(EM, Align::Left),
        );
    }

    let center_x = (r.x0 + r.x1) / 2.0;
    if let Some(xlabel) = &fig.xlabel {
        canvas.text(
            xlabel,
            center_x,
            below_ticks + TOP_TO_BASELINE * EM,
            style(EM, Align::Center),
        );
    }
    if let Some(ylabel) = &fig.ylabel {
        // Turned a quarter, its text box's right edge is `LABEL_PAD` left of the tick labels;
        // the baseline is the box's descent (1 - TOP_TO_BASELINE em) further in.
        let box_right = label_right - axes.ytick_width - LABEL_PAD;
        let baseline = box_right - (1.0 - TOP_TO_BASELINE) * EM;
        canvas.text(
            ylabel,
            baseline,
            (r.y0 + r.y1) / 2.0,
            TextStyle {
                vertical: true,
                ..style(EM, Align::Center)
            },
        );
    }
    if let Some(title) = &fig.title {
        canvas.text(
            title,
            center_x,
            r.y0 - TITLE_PAD,
            style(TITLE_EM, Align::Center),
        );
    }

    draw_legend(fig, &axes, &pixel_runs, canvas);
    Ok(())
}

/// Legend positions in the order matplotlib's `loc="best"` tries them.
#[derive(Clone, Copy)]
enum Anchor {
    UpperRight,
    UpperLeft,
    LowerLeft,
    LowerRight,
    Right,
    CenterLeft,
    LowerCenter,
    UpperCenter,
    Center,
}

const BEST_ORDER: [Anchor; 9] = [
    Anchor::UpperRight,
    Anchor::UpperLeft,
    Anchor::LowerLeft,
    Anchor::LowerRight,
    Anchor::Right,
    Anchor::CenterLeft,
    Anchor::LowerCenter,
    Anchor::UpperCenter,
    Anchor::Center,
];

/// The legend box of size `w`×`h` placed at `anchor` inside `axes`.
fn anchored(anchor: Anchor, axes: Rect, w: f64, h: f64) -> Rect {
    let pad = LEGEND_AXES_PAD;
    let (left, hcenter, right) = (
        axes.x0 + pad,
        (axes.x0 + axes.x1 - w) / 2.0,
        axes.x1 - pad - w,
    );
    let (upper, vcenter, lower) = (
        axes.y0 + pad,
        (axes.y0 + axes.y1 - h) / 2.0,
        axes.y1 - pad - h,
    );
    let (x0, y0) = match anchor {
        Anchor::UpperRight => (right, upper),
        Anchor::UpperLeft => (left, upper),
        Anchor::LowerLeft => (left, lower),
        Anchor::LowerRight => (right, lower),
        Anchor::Right => (right, vcenter),
        Anchor::CenterLeft => (left, vcenter),
        Anchor::LowerCenter => (hcenter, lower),
        Anchor::UpperCenter => (hcenter, upper),
        Anchor::Center => (hcenter, vcenter),
    };
    Rect {
        x0,
        y0,
        x1: x0 + w,
        y1: y0 + h,
    }
}

/// Whether the segment `a`–`b` touches `r` (Liang–Barsky clipping).
fn segment_hits(a: (f64, f64), b: (f64, f64), r: Rect) -> bool {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - r.x0),
        (dx, r.x1 - a.0),
        (-dy, a.1 - r.y0),
        (dy, r.y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return false;
            }
        }
    }
    true
}

/// matplotlib's legend "badness" of `r`: data points inside it plus series crossing it.
fn badness(r: Rect, pixel_runs: &[Vec<Vec<(f64, f64)>>]) -> usize {
    let inside = |&(x, y): &(f64, f64)| x > r.x0 && x < r.x1 && y > r.y0 && y < r.y1;
    pixel_runs
        .iter()
        .map(|runs| {
            let points = runs.iter().flatten().filter(|p| inside(p)).count();
            let crosses = runs.iter().any(|run| {
                run.iter().any(inside) || run.windows(2).any(|w| segment_hits(w[0], w[1], r))
            });
            points + usize::from(crosses)
        })
        .sum()
}

fn draw_legend(
    fig: &Figure,
    axes: &Axes,
    pixel_runs: &[Vec<Vec<(f64, f64)>>],
    canvas: &mut impl Canvas,
) {
    let fixed = match fig.legend {
        Legend::Hidden => return,
        Legend::Best => None,
        Legend::UpperRight => Some(Anchor::UpperRight),
        Legend::UpperLeft => Some(Anchor::UpperLeft),
        Legend::LowerLeft => Some(Anchor::LowerLeft),
        Legend::LowerRight => Some(Anchor::LowerRight),
    };
    let entries: Vec<&Series> = fig.series.iter().filter(|s| !s.label.is_empty()).collect();
    if entries.is_empty() {
        return;
    }
    let text_width = widest(entries.iter().map(|s| s.label.as_str()), EM);
    let n = entries.len() as f64;
    let w = 2.0 * LEGEND_PAD + HANDLE_LEN + HANDLE_TEXT_PAD + text_width;
    let h = 2.0 * LEGEND_PAD + n * ROW_HEIGHT + (n - 1.0) * ROW_SPACING;
    let frame = match fixed {
        Some(anchor) => anchored(anchor, axes.rect, w, h),
        // The first place with the least data under it; ties go to the earlier place.
        None => BEST_ORDER
            .iter()
            .map(|&a| anchored(a, axes.rect, w, h))
            .enumerate()
            .min_by_key(|&(i, r)| (badness(r, pixel_runs), i))
            .map(|(_, r)| r)
            .expect("BEST_ORDER is not empty"),
    };
    let edges = [frame.x0, frame.y0, frame.x1, frame.y1].map(|v| snap(v, LEGEND_EDGE_WIDTH));
    canvas.rounded_rect(
        Rect {
            x0: edges[0],
            y0: edges[1],
            x1: edges[2],
            y1: edges[3],
        },
        LEGEND_RADIUS,
        WHITE,
        LEGEND_EDGE,
        LEGEND_EDGE_WIDTH,
        LEGEND_ALPHA,
    );
    for (i, s) in entries.iter().enumerate() {
        let row_top = frame.y0 + LEGEND_PAD + i as f64 * (ROW_HEIGHT + ROW_SPACING);
        let hx = frame.x0 + LEGEND_PAD;
        // The handle is a straight line, so it is snapped like one; its ends are squared off
        // half a line width beyond the points (matplotlib's "projecting" caps).
        let (x0, x1) = (
            snap(hx, LINE_WIDTH) - LINE_WIDTH / 2.0,
            snap(hx + HANDLE_LEN, LINE_WIDTH) + LINE_WIDTH / 2.0,
        );
        canvas.fill_rect(
            hline(snap(row_top + ROW_HANDLE, LINE_WIDTH), x0, x1, LINE_WIDTH),
            s.color,
        );
        canvas.text(
            &s.label,
            hx + HANDLE_LEN + HANDLE_TEXT_PAD,
            row_top + ROW_BASELINE,
            style(EM, Align::Left),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_box_intersection() {
        let r = Rect {
            x0: 0.0,
            y0: 0.0,
            x1: 10.0,
            y1: 10.0,
        };
        assert!(segment_hits((-5.0, 5.0), (15.0, 5.0), r));
        assert!(segment_hits((2.0, 2.0), (3.0, 3.0), r));
        assert!(!segment_hits((-5.0, -1.0), (15.0, -1.0), r));
        assert!(!segment_hits((11.0, 0.0), (20.0, 10.0), r));
    }

    #[test]
    fn snapping_matches_matplotlib_pixels() {
        // Measured on matplotlib's tutorial figure: the top spine at y = 57.6 is drawn on row
        // 58, the tick at x = 102.545 on column 103, the legend handles (2 px wide, at
        // y = 76.24 and 97.52) on rows 75-76 and 97-98.
        assert_eq!(snap(57.6, SPINE_WIDTH), 58.5);
        assert_eq!(snap(102.545, SPINE_WIDTH), 103.5);
        assert_eq!(snap(328.0, SPINE_WIDTH), 328.5);
        assert_eq!(snap(76.24, LINE_WIDTH), 76.0);
        assert_eq!(snap(97.52, LINE_WIDTH), 98.0);
    }
}

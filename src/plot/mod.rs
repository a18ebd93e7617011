//! Figures from tensors: line plots saved as PNG or SVG, looking like matplotlib's.
//!
//! The PyTorch tutorials end with `plt.plot(x.detach().numpy(), ...)`; here the tensors go in
//! as they are (no `detach`, any dtype, tensors that require grad included):
//!
//! ```no_run
//! use tensorgrad::{plot::Figure, Tensor};
//! let x = Tensor::linspace(-10.0, 10.0, 100).set_requires_grad(true);
//! let y = 10.0 * x.powi(3);
//! y.sum().backward()?;
//! let dy = x.grad().unwrap();
//! Figure::new()
//!     .xlabel("x")
//!     .line(&x, &y, "Main Function", "red")?
//!     .line(&x, &dy, "Derivative of function", "green")?
//!     .save("tutorial.png")?;
//! # Ok::<(), tensorgrad::Error>(())
//! ```
//!
//! Or in one call, with the derivative taken by autograd:
//!
//! ```no_run
//! tensorgrad::plot::function_and_derivative(|x| 10.0 * x.powi(3), -10.0..=10.0, 100, "cubic.png")?;
//! # Ok::<(), tensorgrad::Error>(())
//! ```
//!
//! # What a figure looks like
//!
//! matplotlib's defaults at 100 dpi: a 640×480 image, axes framed on four sides, ticks at
//! "nice" steps (1, 2, 2.5 or 5 times a power of ten) labelled the way matplotlib labels them
//! (`−7.5`, `10000`, a shared `1e6` or `+1e3` at the axis end when needed), 10 pt DejaVu Sans,
//! 1.5 pt anti-aliased lines, and a legend in the corner where it covers the least data.
//! Where labels would not fit matplotlib's fixed margins, the plot area shrinks to make room.
//!
//! # Fonts
//!
//! Text is set in DejaVu Sans, which is compiled into the library
//! (`assets/fonts/DejaVuSans.ttf`, Bitstream Vera licence with public-domain DejaVu changes;
//! see `assets/fonts/LICENSE-DejaVu.txt`). Rendering reads no font from the system, so it
//! works in containers and CI with no fonts installed, and gives the same pixels everywhere.
//! SVG files keep text as text, asking for DejaVu Sans with sans-serif fallbacks.
//!
//! # Data
//!
//! Each series takes two 1-D tensors of equal length (f32 or f64). Points where either
//! coordinate is NaN or infinite are skipped and the line is broken there, as matplotlib
//! does; a series with no finite point at all is an error, as are empty, mismatched or
//! multi-dimensional tensors.
//!
//! This module exists with the default `plot` feature.

mod canvas;
mod color;
mod font;
mod render;
mod ticks;

pub use color::{Color, IntoColor};

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::{autograd, DType};
use std::ops::RangeInclusive;
use std::path::Path;

/// Where a [`Figure`]'s legend goes.
///
/// ```
/// use tensorgrad::plot::{Figure, Legend};
/// let fig = Figure::new().legend(Legend::LowerRight);
/// # let _ = fig;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Legend {
    /// The first of matplotlib's candidate places (upper right, upper left, lower left, lower
    /// right, right, centre left, lower centre, upper centre, centre) that covers the fewest
    /// data points and lines, as `plt.legend()` chooses.
    #[default]
    Best,
    /// Inside the upper right corner of the axes.
    UpperRight,
    /// Inside the upper left corner.
    UpperLeft,
    /// Inside the lower left corner.
    LowerLeft,
    /// Inside the lower right corner.
    LowerRight,
    /// No legend.
    Hidden,
}

/// Largest width or height a figure may have, so a typo cannot ask for gigabytes of pixels.
const MAX_SIDE: u32 = 16384;

/// One line: its label, colour, and finite points split where non-finite ones were dropped.
#[derive(Debug, Clone)]
struct Series {
    label: String,
    color: Color,
    runs: Vec<Vec<(f64, f64)>>,
}

/// A figure with one set of axes holding line series; built step by step, then saved.
///
/// Builder methods take and return the figure, so a figure is one expression;
/// [`line`](Self::line) returns a `Result` because its data and colour are checked.
///
/// ```no_run
/// use tensorgrad::plot::Figure;
/// use tensorgrad::Tensor;
/// let x = Tensor::linspace(-2.0, 2.0, 200);
/// Figure::new()
///     .title("Powers")
///     .xlabel("x")
///     .ylabel("y")
///     .grid(true)
///     .line(&x, &x.powi(2), "x²", "tab:blue")?
///     .line(&x, &x.powi(3), "x³", (255, 127, 14))?
///     .save("powers.svg")?;
/// # Ok::<(), tensorgrad::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Figure {
    width: u32,
    height: u32,
    title: Option<String>,
    xlabel: Option<String>,
    ylabel: Option<String>,
    grid: bool,
    legend: Legend,
    xlim: Option<(f64, f64)>,
    ylim: Option<(f64, f64)>,
    series: Vec<Series>,
}

impl Default for Figure {
    fn default() -> Self {
        Figure::new()
    }
}

/// The finite points of `x` and `y` as runs of consecutive points, checking shapes.
fn series_points(x: &Tensor, y: &Tensor, label: &str) -> Result<Vec<Vec<(f64, f64)>>> {
    const OP: &str = "Figure::line";
    if x.dim() != 1 || y.dim() != 1 {
        return Err(Error::shape(OP, x.shape(), y.shape(), format!("series {label:?}: x and y must be 1-D; flatten them with .reshape(&[-1]) or pick a row first")));
    }
    if x.numel() != y.numel() {
        return Err(Error::shape(
            OP,
            x.shape(),
            y.shape(),
            format!("series {label:?}: x and y must have the same length"),
        ));
    }
    if x.numel() == 0 {
        return Err(Error::invalid(
            OP,
            format!("series {label:?} is empty; pass at least one point"),
        ));
    }
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut run = Vec::new();
    for (a, b) in x.to_vec::<f64>().into_iter().zip(y.to_vec::<f64>()) {
        if a.is_finite() && b.is_finite() {
            run.push((a, b));
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    if runs.is_empty() {
        return Err(Error::invalid(OP, format!("series {label:?} has no point where both x and y are finite (all {} are NaN or infinite), so there is nothing to draw", x.numel())));
    }
    Ok(runs)
}

/// Checks an axis range given by the user.
fn checked_limits(op: &'static str, lo: f64, hi: f64) -> Result<(f64, f64)> {
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(Error::invalid(
            op,
            format!("limits {lo}..{hi} must be finite with the lower below the upper"),
        ));
    }
    Ok((lo, hi))
}

impl Figure {
    /// An empty 640×480 figure (matplotlib's default size at 100 dpi), legend on, no grid.
    ///
    /// ```
    /// let fig = tensorgrad::plot::Figure::new();
    /// # let _ = fig;
    /// ```
    pub fn new() -> Figure {
        Figure {
            width: 640,
            height: 480,
            title: None,
            xlabel: None,
            ylabel: None,
            grid: false,
            legend: Legend::Best,
            xlim: None,
            ylim: None,
            series: Vec::new(),
        }
    }

    /// Sets the image size in pixels (each side at most 16384). Text and lines keep their
    /// sizes (as at a fixed dpi), so a larger figure has more room, not larger print.
    ///
    /// ```
    /// let fig = tensorgrad::plot::Figure::new().size(1280, 720);
    /// # let _ = fig;
    /// ```
    pub fn size(mut self, width: u32, height: u32) -> Figure {
        self.width = width;
        self.height = height;
        self
    }

    /// Sets the title, drawn centred above the axes.
    ///
    /// ```
    /// let fig = tensorgrad::plot::Figure::new().title("Loss");
    /// # let _ = fig;
    /// ```
    pub fn title(mut self, title: impl Into<String>) -> Figure {
        self.title = Some(title.into());
        self
    }

    /// Sets the x-axis label, like `plt.xlabel`.
    ///
    /// ```
    /// let fig = tensorgrad::plot::Figure::new().xlabel("x");
    /// # let _ = fig;
    /// ```
    pub fn xlabel(mut self, label: impl Into<String>) -> Figure {
        self.xlabel = Some(label.into());
        self
    }

    /// Sets the y-axis label, like `plt.ylabel`.
    ///
    /// ```
    /// let fig = tensorgrad::plot::Figure::new().ylabel("f(x)");
    /// # let _ = fig;
    /// ```
    pub fn ylabel(mut self, label: impl Into<String>) -> Figure {
        self.ylabel = Some(label.into());
        self
    }

    /// Draws grid lines at the ticks (off by default), like `plt.grid(True)`.
    ///
    /// ```
    /// let fig = tensorgrad::plot::Figure::new().grid(true);
    /// # let _ = fig;
    /// ```
    pub fn grid(mut self, on: bool) -> Figure {
        self.grid = on;
        self
    }

    /// Places (or hides) the legend. It lists the series that have a non-empty label.
    ///
    /// ```
    /// use tensorgrad::plot::{Figure, Legend};
    /// let fig = Figure::new().legend(Legend::Hidden);
    /// # let _ = fig;
    /// ```
    pub fn legend(mut self, legend: Legend) -> Figure {
        self.legend = legend;
        self
    }

    /// Fixes the x range shown, like `plt.xlim(lo, hi)`; by default it is the data's range
    /// plus 5% on each side.
    ///
    /// # Errors
    /// When a limit is not finite or `lo >= hi`.
    ///
    /// ```
    /// let fig = tensorgrad::plot::Figure::new().xlim(0.0, 1.0)?;
    /// assert!(tensorgrad::plot::Figure::new().xlim(1.0, 0.0).is_err());
    /// # let _ = fig;
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn xlim(mut self, lo: f64, hi: f64) -> Result<Figure> {
        self.xlim = Some(checked_limits("Figure::xlim", lo, hi)?);
        Ok(self)
    }

    /// Fixes the y range shown, like `plt.ylim(lo, hi)`.
    ///
    /// # Errors
    /// When a limit is not finite or `lo >= hi`.
    ///
    /// ```
    /// let fig = tensorgrad::plot::Figure::new().ylim(-1.0, 1.0)?;
    /// # let _ = fig;
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn ylim(mut self, lo: f64, hi: f64) -> Result<Figure> {
        self.ylim = Some(checked_limits("Figure::ylim", lo, hi)?);
        Ok(self)
    }

    /// Adds the line through the points (`x[i]`, `y[i]`), like
    /// `plt.plot(x, y, label=label, color=color)`.
    ///
    /// `x` and `y` are 1-D tensors of equal length, of any dtype, and may require grad (their
    /// values are read; the graph is untouched). Points with a NaN or infinite coordinate are
    /// skipped, breaking the line. An empty `label` leaves the series out of the legend.
    /// `color` is a [`Color`], an `(r, g, b)` tuple, or a name or hex string such as `"red"`,
    /// `"tab:blue"` or `"#1f77b4"`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `x` or `y` is not 1-D or their lengths differ;
    /// [`Error::InvalidArgument`] when they are empty or have no finite point;
    /// [`Error::UnknownColor`] for a colour name it does not know.
    ///
    /// ```
    /// use tensorgrad::{plot::Figure, tensor};
    /// let x = tensor!([0.0, 1.0, 2.0]);
    /// let fig = Figure::new().line(&x, &x.powi(2), "x²", "blue")?;
    /// assert!(Figure::new().line(&x, &tensor!([1.0, 2.0]), "short", "blue").is_err());
    /// assert!(Figure::new().line(&x, &x, "y", "bleu").is_err());
    /// # let _ = fig;
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn line(
        mut self,
        x: &Tensor,
        y: &Tensor,
        label: &str,
        color: impl IntoColor,
    ) -> Result<Figure> {
        let color = color.into_color()?;
        let runs = series_points(x, y, label)?;
        self.series.push(Series {
            label: label.to_string(),
            color,
            runs,
        });
        Ok(self)
    }

    fn check_drawable(&self, op: &'static str) -> Result<()> {
        if self.series.is_empty() {
            return Err(Error::invalid(
                op,
                "the figure has no series; add one with .line(&x, &y, label, color)",
            ));
        }
        if self.width == 0 || self.height == 0 || self.width > MAX_SIDE || self.height > MAX_SIDE {
            return Err(Error::invalid(
                op,
                format!(
                    "a {}x{} figure cannot be drawn; give each side 1..={MAX_SIDE} pixels with .size(width, height)",
                    self.width, self.height
                ),
            ));
        }
        Ok(())
    }

    /// The figure as a PNG file's bytes.
    ///
    /// # Errors
    /// When the figure has no series or no room for its plot area.
    ///
    /// ```
    /// use tensorgrad::{plot::Figure, tensor};
    /// let x = tensor!([0.0, 1.0]);
    /// let png = Figure::new().line(&x, &x, "", "red")?.to_png()?;
    /// assert_eq!(&png[1..4], b"PNG");
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn to_png(&self) -> Result<Vec<u8>> {
        self.check_drawable("Figure::to_png")?;
        let mut raster = canvas::Raster::new(self.width as usize, self.height as usize);
        render::draw(self, &mut raster, "Figure::to_png")?;
        raster
            .encode_png()
            .map_err(|e| Error::invalid("Figure::to_png", format!("PNG encoding failed: {e}")))
    }

    /// The figure as an SVG document. Text stays text, set in DejaVu Sans (or the viewer's
    /// sans-serif); each series is one `<path>`.
    ///
    /// # Errors
    /// When the figure has no series or no room for its plot area.
    ///
    /// ```
    /// use tensorgrad::{plot::Figure, tensor};
    /// let x = tensor!([0.0, 1.0]);
    /// let svg = Figure::new().xlabel("time").line(&x, &x, "", "red")?.to_svg()?;
    /// assert!(svg.contains("<path") && svg.contains(">time</text>"));
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn to_svg(&self) -> Result<String> {
        self.check_drawable("Figure::to_svg")?;
        let mut svg = canvas::Svg::new();
        render::draw(self, &mut svg, "Figure::to_svg")?;
        Ok(svg.finish(self.width as usize, self.height as usize))
    }

    /// Writes the figure to `path`, as PNG or SVG according to its extension (`.png` or
    /// `.svg`, any case), like `plt.savefig`.
    ///
    /// # Errors
    /// [`Error::UnsupportedFormat`] for any other extension (checked before drawing);
    /// [`Error::Io`] when the file cannot be written; as [`to_png`](Self::to_png) otherwise.
    ///
    /// ```no_run
    /// use tensorgrad::{plot::Figure, tensor, Error};
    /// let x = tensor!([0.0, 1.0]);
    /// let fig = Figure::new().line(&x, &x, "identity", "red")?;
    /// fig.save("identity.png")?;
    /// fig.save("identity.svg")?;
    /// assert!(matches!(fig.save("identity.jpg"), Err(Error::UnsupportedFormat { .. })));
    /// # Ok::<(), tensorgrad::Error>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let bytes = match extension.as_str() {
            "png" => self.to_png()?,
            "svg" => self.to_svg()?.into_bytes(),
            _ => {
                return Err(Error::UnsupportedFormat {
                    path: path.display().to_string(),
                    extension,
                })
            }
        };
        std::fs::write(path, bytes).map_err(|e| Error::Io {
            op: "save",
            path: path.display().to_string(),
            msg: e.to_string(),
        })
    }
}

/// Colours of the function and its derivatives in the one-call plots: the tutorial's red and
/// green first, then matplotlib's cycle.
fn derivative_color(order: usize) -> Color {
    match order {
        0 => Color::RED,
        1 => Color::GREEN,
        k => Color::cycle(k - 2),
    }
}

/// Legend label of the `order`-th derivative: `f(x)`, `f′(x)`, `f″(x)`, `f‴(x)`, `f⁽⁴⁾(x)`.
fn derivative_label(order: usize) -> String {
    const SUPERSCRIPT: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    match order {
        0 => "f(x)".to_string(),
        1 => "f′(x)".to_string(),
        2 => "f″(x)".to_string(),
        3 => "f‴(x)".to_string(),
        k => format!(
            "f⁽{}⁾(x)",
            k.to_string()
                .chars()
                .map(|d| SUPERSCRIPT[d as usize - '0' as usize])
                .collect::<String>()
        ),
    }
}

/// Plots `f` and its derivative (taken by autograd) over `range` at `steps` points, and saves
/// the figure to `path` (`.png` or `.svg`).
///
/// `f` is applied to a 1-D f32 tensor of the sample points and must act elementwise (return
/// one value per point); the derivative is `∂ Σ f(x) / ∂x`, exactly as the tutorial's
/// `Y.sum().backward()`. The function is drawn in red and its derivative in green, labelled
/// `f(x)` and `f′(x)`, with `x` on the horizontal axis.
///
/// # Errors
/// As [`function_and_derivatives`].
///
/// ```no_run
/// tensorgrad::plot::function_and_derivative(|x| 10.0 * x.powi(3), -10.0..=10.0, 100, "cubic.png")?;
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn function_and_derivative<F>(
    f: F,
    range: RangeInclusive<f64>,
    steps: usize,
    path: impl AsRef<Path>,
) -> Result<()>
where
    F: Fn(&Tensor) -> Tensor,
{
    function_and_derivatives(f, range, steps, 1, path)
}

/// Plots `f` and its first `order` derivatives over `range` at `steps` points, and saves the
/// figure to `path` (`.png` or `.svg`).
///
/// Each derivative is the gradient of the sum of the previous one, taken with
/// [`autograd::grad`] and `create_graph`, so derivatives of any order come from the same graph.
/// A derivative that no longer depends on `x` (the second derivative of a line, say) is drawn
/// as zero. Curves are red, green, then matplotlib's colour cycle, labelled `f(x)`, `f′(x)`,
/// `f″(x)`, `f‴(x)`, `f⁽⁴⁾(x)`, ...
///
/// # Errors
/// [`Error::InvalidArgument`] when the range is not finite and increasing, `steps < 2`,
/// `order == 0`, or `f` does not return one value per point; [`Error::UnsupportedFormat`] or
/// [`Error::Io`] from saving; any error autograd reports.
///
/// ```no_run
/// // A quartic and its first three derivatives.
/// tensorgrad::plot::function_and_derivatives(|x| x.powi(4) - 4.0 * x.powi(2), -2.5..=2.5, 200, 3, "quartic.svg")?;
/// # Ok::<(), tensorgrad::Error>(())
/// ```
pub fn function_and_derivatives<F>(
    f: F,
    range: RangeInclusive<f64>,
    steps: usize,
    order: usize,
    path: impl AsRef<Path>,
) -> Result<()>
where
    F: Fn(&Tensor) -> Tensor,
{
    const OP: &str = "plot::function_and_derivatives";
    let (lo, hi) = range.into_inner();
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(Error::invalid(
            OP,
            format!("the range {lo}..={hi} must be finite and increasing"),
        ));
    }
    if steps < 2 {
        return Err(Error::invalid(
            OP,
            format!("steps = {steps}; at least 2 points are needed to draw a line"),
        ));
    }
    if order == 0 {
        return Err(Error::invalid(
            OP,
            "order = 0 draws no derivative; use Figure::line to plot the function alone",
        ));
    }
    let x = Tensor::linspace_with(lo, hi, steps, DType::F32).set_requires_grad(true);
    let y = f(&x);
    if y.shape() != x.shape() {
        return Err(Error::invalid(OP, format!("f must act elementwise, returning one value per point: it mapped shape {:?} to {:?}", x.shape(), y.shape())));
    }
    let mut fig =
        Figure::new()
            .xlabel("x")
            .line(&x, &y, &derivative_label(0), derivative_color(0))?;
    let mut current = y;
    for k in 1..=order {
        // Once a derivative no longer depends on x, every later one is zero.
        current = if current.requires_grad() {
            let opts = autograd::GradOptions::new()
                .create_graph(k < order)
                .allow_unused(true);
            autograd::grad_with(&[&current.sum()], &[&x], opts)?
                .remove(0)
                .unwrap_or_else(|| Tensor::zeros_like(&x))
        } else {
            Tensor::zeros_like(&x)
        };
        fig = fig.line(&x, &current, &derivative_label(k), derivative_color(k))?;
    }
    fig.save(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivative_labels() {
        let labels: Vec<String> = (0..6).map(derivative_label).collect();
        assert_eq!(
            labels,
            ["f(x)", "f′(x)", "f″(x)", "f‴(x)", "f⁽⁴⁾(x)", "f⁽⁵⁾(x)"]
        );
        assert_eq!(derivative_label(12), "f⁽¹²⁾(x)");
    }

    #[test]
    fn non_finite_points_split_runs() {
        let x = Tensor::from_vec(vec![0.0f32, 1.0, 2.0, 3.0, 4.0], &[5]).unwrap();
        let y = Tensor::from_vec(vec![0.0f32, f32::NAN, 2.0, 3.0, f32::INFINITY], &[5]).unwrap();
        assert_eq!(
            series_points(&x, &y, "s").unwrap(),
            vec![vec![(0.0, 0.0)], vec![(2.0, 2.0), (3.0, 3.0)]]
        );
    }
}

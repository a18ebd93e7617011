//! `tensorgrad plot`: a one-variable expression and its derivatives over a
//! range, drawn with the library's `tensorgrad::plot` as PNG or SVG.

use std::path::{Path, PathBuf};

use tensorgrad::autograd::{self, GradOptions};
use tensorgrad::plot::{Color, Figure};
use tensorgrad::{DType, Tensor};

use crate::errors::{option_error, CliError};
use crate::eval::eval;
use crate::expr::{parse, shorten, Expr};
use crate::number::parse_number;

/// The highest derivative `--order` may ask for. Each derivative is
/// autograd's gradient of the previous one's graph (built with
/// `create_graph`), so every order differentiates a bigger graph: measured
/// on a release build, `x*sin(x)*exp(x)/(1+x**2)` takes 0.2 s at order 8,
/// 2.5 s at order 10 and 36 s at order 12 (each order costs 3 to 4 times
/// the one before). 8 keeps everyday expressions well under a second.
pub const MAX_ORDER: usize = 8;

/// The most sample points `--steps` may ask for: far more than a 640-pixel
/// wide figure can show, and a bound on memory (every derivative's graph
/// holds tensors of this length).
pub const MAX_STEPS: usize = 100_000;

/// Longest expression shown in the figure's title before it is shortened.
const MAX_TITLE_CHARS: usize = 60;

/// What `tensorgrad plot` was asked to draw.
#[derive(Debug, Clone)]
pub struct PlotRequest<'a> {
    /// The expression, as typed.
    pub source: &'a str,
    /// `--from`, as typed (a number or constant expression).
    pub from: &'a str,
    /// `--to`, as typed.
    pub to: &'a str,
    /// `--steps`: how many evenly spaced points, ends included.
    pub steps: usize,
    /// `--order`: how many derivatives to draw besides the function.
    pub order: usize,
    /// `-o`: the file to write, `.png` or `.svg`.
    pub output: &'a Path,
    /// The dtype the expression is evaluated in.
    pub dtype: DType,
}

/// What was drawn, for the command's report.
#[derive(Debug, Clone)]
pub struct PlotReport {
    /// The file written.
    pub path: PathBuf,
    /// Warnings for stderr (curves left out because they have no finite
    /// point).
    pub warnings: Vec<String>,
}

/// Checks the request, evaluates the expression and its derivatives at the
/// sample points, and writes the figure.
///
/// # Errors
/// Bad input of any kind (see the module docs of [`crate`]); a function
/// with no finite value anywhere on the range; a file that cannot be
/// written.
pub fn plot(req: &PlotRequest<'_>) -> Result<PlotReport, CliError> {
    let expr = parse(req.source).map_err(|e| CliError::parse(&e, req.source))?;
    let var = single_variable(&expr, req.source)?;
    let (lo, hi) = check_range(req.from, req.to)?;
    check_counts(req.steps, req.order)?;
    check_extension(req.output)?;

    let name = var.unwrap_or("x");
    let x = Tensor::linspace_with(lo, hi, req.steps, req.dtype).set_requires_grad(true);
    let f = match eval(&expr, |_| Some(x.clone())) {
        Ok(v) => v.into_tensor_like(&x),
        Err(u) => unreachable!("the only variable is bound ({})", u.name),
    };
    let curves = derivatives(f, &x, req.order)?;

    let shown = shorten(name);
    let mut fig = Figure::new()
        .title(title(&shown, req.source))
        .xlabel(shown.clone());
    let mut warnings = Vec::new();
    for (k, y) in curves.iter().enumerate() {
        let label = derivative_label(k, &shown);
        if !y.to_vec::<f64>().iter().any(|v| v.is_finite()) {
            if k == 0 {
                return Err(CliError::input(format!(
                    "{label} = {} has no finite value for {shown} from {lo} to {hi}; \
                     nothing to plot",
                    shorten(req.source)
                )));
            }
            warnings.push(format!(
                "warning: {label} has no finite value on the range; it is not drawn"
            ));
            continue;
        }
        fig = fig
            .line(&x, y, &label, curve_color(k))
            .map_err(|e| CliError::internal(format!("plotting failed: {e}")))?;
    }
    fig.save(req.output).map_err(|e| match e {
        tensorgrad::Error::Io { path, msg, .. } => {
            CliError::input(format!("cannot write {path}: {msg}"))
        }
        other => CliError::internal(format!("plotting failed: {other}")),
    })?;
    Ok(PlotReport {
        path: req.output.to_path_buf(),
        warnings,
    })
}

/// The expression's one variable (`None` for a constant expression).
fn single_variable<'e>(expr: &'e Expr, source: &str) -> Result<Option<&'e str>, CliError> {
    let vars = expr.variables();
    if let [_, second, ..] = vars.as_slice() {
        let listed: Vec<String> = vars.iter().map(|v| format!("'{}'", shorten(v))).collect();
        let span = expr
            .find_variable(second)
            .expect("a variable occurs in the tree");
        return Err(CliError::input_at(
            format!(
                "plot draws functions of one variable; this expression has {}: {}",
                vars.len(),
                listed.join(", ")
            ),
            source,
            span,
        ));
    }
    Ok(vars.first().copied())
}

/// `--from` and `--to` as numbers, finite and increasing.
fn check_range(from: &str, to: &str) -> Result<(f64, f64), CliError> {
    let lo = parse_number(from, &format!("--from {from}"), "--from ".len(), "--from")?;
    let hi = parse_number(to, &format!("--to {to}"), "--to ".len(), "--to")?;
    if !lo.is_finite() {
        return Err(option_error(
            "--from must be a finite number",
            "--from",
            from,
        ));
    }
    if !hi.is_finite() {
        return Err(option_error("--to must be a finite number", "--to", to));
    }
    if lo >= hi {
        return Err(option_error(
            format!("the range is empty: --from ({lo}) must be less than --to ({hi})"),
            "--to",
            to,
        ));
    }
    Ok((lo, hi))
}

fn check_counts(steps: usize, order: usize) -> Result<(), CliError> {
    if steps < 2 {
        return Err(option_error(
            "--steps must be at least 2: a line needs two points",
            "--steps",
            &steps.to_string(),
        ));
    }
    if steps > MAX_STEPS {
        return Err(option_error(
            format!(
                "--steps may be at most {MAX_STEPS}: more points than that cannot be \
                 told apart in the figure and only cost memory"
            ),
            "--steps",
            &steps.to_string(),
        ));
    }
    if order > MAX_ORDER {
        return Err(option_error(
            format!(
                "--order may be at most {MAX_ORDER}: each derivative differentiates the \
                 previous one's whole graph, so each order costs 3 to 4 times the one before"
            ),
            "--order",
            &order.to_string(),
        ));
    }
    Ok(())
}

/// Rejects output names that are neither `.png` nor `.svg` before any work
/// is done.
fn check_extension(path: &Path) -> Result<(), CliError> {
    let shown = path.to_string_lossy();
    match path.extension().map(|e| e.to_string_lossy().to_lowercase()) {
        Some(ext) if ext == "png" || ext == "svg" => Ok(()),
        Some(ext) => Err(option_error(
            format!("cannot write a '.{ext}' file: name the output *.png or *.svg"),
            "-o",
            &shown,
        )),
        None => Err(option_error(
            "the output file has no extension: name it *.png or *.svg",
            "-o",
            &shown,
        )),
    }
}

/// `f` and its first `order` derivatives with respect to `x`, elementwise
/// (each is d/dx of the sum of the previous one, as in the tutorial's
/// `y.sum().backward()`). Once a derivative no longer depends on `x`, the
/// later ones are 0.
fn derivatives(f: Tensor, x: &Tensor, order: usize) -> Result<Vec<Tensor>, CliError> {
    let mut curves = vec![f];
    for k in 1..=order {
        let prev = &curves[k - 1];
        let next = if prev.requires_grad() {
            let opts = GradOptions::new()
                .allow_unused(true)
                .create_graph(k < order);
            autograd::grad_with(&[&prev.sum()], &[x], opts)
                .map_err(|e| CliError::internal(format!("autograd failed: {e}")))?
                .remove(0)
                .unwrap_or_else(|| Tensor::zeros_like(x))
        } else {
            Tensor::zeros_like(x)
        };
        curves.push(next);
    }
    Ok(curves)
}

/// Legend label of the `order`-th derivative: `f(x)`, `f′(x)`, `f″(x)`,
/// `f‴(x)`, `f⁽⁴⁾(x)`.
fn derivative_label(order: usize, var: &str) -> String {
    const SUPERSCRIPT: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let marks = match order {
        0 => String::new(),
        1 => "′".to_string(),
        2 => "″".to_string(),
        3 => "‴".to_string(),
        k => {
            let sup: String = k
                .to_string()
                .chars()
                .filter_map(|d| d.to_digit(10).map(|d| SUPERSCRIPT[d as usize]))
                .collect();
            format!("⁽{sup}⁾")
        }
    };
    format!("f{marks}({var})")
}

/// The tutorial's red and green for the function and its derivative, then
/// matplotlib's colour cycle.
fn curve_color(order: usize) -> Color {
    match order {
        0 => Color::RED,
        1 => Color::GREEN,
        k => Color::cycle(k - 2),
    }
}

/// The figure's title: `f(x) = ` and the expression, shortened if long.
fn title(var: &str, source: &str) -> String {
    let flat: String = source.split_whitespace().collect::<Vec<_>>().join(" ");
    let shown = if flat.chars().count() <= MAX_TITLE_CHARS {
        flat
    } else {
        let head: String = flat.chars().take(MAX_TITLE_CHARS - 3).collect();
        format!("{head}...")
    };
    format!("f({var}) = {shown}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        let labels: Vec<String> = (0..5).map(|k| derivative_label(k, "t")).collect();
        assert_eq!(labels, ["f(t)", "f′(t)", "f″(t)", "f‴(t)", "f⁽⁴⁾(t)"]);
        assert_eq!(derivative_label(12, "x"), "f⁽¹²⁾(x)");
    }

    #[test]
    fn derivatives_of_a_cubic() {
        let x = Tensor::linspace_with(-1.0, 2.0, 4, DType::F64).set_requires_grad(true);
        let f = x.powi(3);
        let d = derivatives(f, &x, 4).unwrap();
        let values: Vec<Vec<f64>> = d.iter().map(|t| t.to_vec::<f64>()).collect();
        assert_eq!(values[1], [3.0, 0.0, 3.0, 12.0]);
        assert_eq!(values[2], [-6.0, 0.0, 6.0, 12.0]);
        assert_eq!(values[3], [6.0, 6.0, 6.0, 6.0]);
        assert_eq!(values[4], [0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn long_titles_are_shortened() {
        assert_eq!(title("x", "x  +\n1"), "f(x) = x + 1");
        let long = "x+".repeat(100) + "x";
        let expected = format!("f(x) = {}...", &long[..MAX_TITLE_CHARS - 3]);
        assert_eq!(title("x", &long), expected);
    }
}

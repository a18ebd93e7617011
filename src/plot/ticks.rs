//! Axis limits, tick positions and tick labels, computed the way matplotlib computes them by
//! default (`MaxNLocator` with steps 1, 2, 2.5, 5, 10 and `ScalarFormatter`), so a figure of
//! the same data has the same ticks and the same labels as the tutorial's matplotlib figure.

/// What one axis shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AxisTicks {
    /// Tick positions inside the view limits, in data units.
    pub locs: Vec<f64>,
    /// One label per tick, with a real minus sign (U+2212) as matplotlib writes it.
    pub labels: Vec<String>,
    /// Scale and offset shared by all labels (`1e6`, `+1e3`, ...); empty when there is none.
    pub offset_text: String,
}

/// View limits for data spanning `lo..=hi`: widened by 5% on each side (matplotlib's
/// `axes.xmargin`), after a zero-width span has been opened up (its `nonsingular`).
pub(crate) fn view_limits(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = nonsingular(lo, hi);
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

/// matplotlib's `transforms.nonsingular(expander=0.05)`: a span too small to draw becomes
/// ±5% of the value (±0.05 around zero).
fn nonsingular(lo: f64, hi: f64) -> (f64, f64) {
    const TINY: f64 = 1e-15;
    let max_abs = lo.abs().max(hi.abs());
    if max_abs < (1e6 * f64::MIN_POSITIVE) / TINY {
        return (-0.05, 0.05);
    }
    if hi - lo <= max_abs * TINY {
        if lo == 0.0 && hi == 0.0 {
            return (-0.05, 0.05);
        }
        return (lo - 0.05 * lo.abs(), hi + 0.05 * hi.abs());
    }
    (lo, hi)
}

/// How many intervals the locator aims for on an axis `len_px` long whose labels are
/// `label_em_px` tall: matplotlib's `get_tick_space` (labels need 3 em of room along x and
/// 2 em along y), clipped to 1..=9 as `MaxNLocator(nbins="auto")` does.
pub(crate) fn nbins(len_px: f64, label_em_px: f64, ems_per_label: f64) -> usize {
    ((len_px / (label_em_px * ems_per_label)).floor() as usize).clamp(1, 9)
}

/// Python's float `divmod`: floor division and a remainder with the divisor's sign.
fn py_divmod(a: f64, b: f64) -> (f64, f64) {
    let mut m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m += b;
            div -= 1.0;
        }
    } else {
        m = 0.0f64.copysign(b);
    }
    let floordiv = if div != 0.0 {
        let f = div.floor();
        if div - f > 0.5 {
            f + 1.0
        } else {
            f
        }
    } else {
        0.0f64.copysign(a / b)
    };
    (floordiv, m)
}

/// matplotlib's `_Edge_integer`: floor/ceil of `x / step` that forgive the rounding error of
/// values far from zero.
struct Edge {
    step: f64,
    tol: f64,
}

impl Edge {
    fn new(step: f64, offset: f64) -> Edge {
        let tol = if offset > 0.0 {
            (10f64.powf((offset / step).log10() - 12.0)).clamp(1e-10, 0.4999)
        } else {
            1e-10
        };
        Edge { step, tol }
    }

    fn le(&self, x: f64) -> f64 {
        let (d, m) = py_divmod(x, self.step);
        if (m / self.step - 1.0).abs() < self.tol {
            d + 1.0
        } else {
            d
        }
    }

    fn ge(&self, x: f64) -> f64 {
        let (d, m) = py_divmod(x, self.step);
        if (m / self.step).abs() < self.tol {
            d
        } else {
            d + 1.0
        }
    }
}

/// matplotlib's `MaxNLocator._raw_ticks` with its default steps: the largest "nice" step that
/// still puts two ticks inside `vmin..=vmax`, and the ticks at its multiples covering the
/// range (possibly one beyond each end).
pub(crate) fn raw_ticks(vmin: f64, vmax: f64, nbins: usize) -> Vec<f64> {
    const STEPS: [f64; 10] = [0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0];
    const MIN_N_TICKS: usize = 2;
    // scale_range: the decade of the step, and an offset when the values sit far from zero.
    let span = (vmax - vmin).abs();
    let mean = (vmax + vmin) / 2.0;
    let offset = if mean.abs() / span < 100.0 {
        0.0
    } else {
        10f64.powf(mean.abs().log10().floor()).copysign(mean)
    };
    let scale = 10f64.powf((span / nbins as f64).log10().floor());
    let (lo, hi) = (vmin - offset, vmax - offset);
    let raw_step = (hi - lo) / nbins as f64;
    let steps = STEPS.map(|s| s * scale);
    let istep = steps
        .iter()
        .position(|&s| s >= raw_step)
        .unwrap_or(steps.len() - 1);
    let mut ticks = Vec::new();
    for &step in steps[..=istep].iter().rev() {
        let best_vmin = py_divmod(lo, step).0 * step;
        let edge = Edge::new(step, offset);
        let (low, high) = (edge.le(lo - best_vmin), edge.ge(hi - best_vmin));
        ticks = (low as i64..=high as i64)
            .map(|i| i as f64 * step + best_vmin)
            .collect();
        if ticks.iter().filter(|&&t| t <= hi && t >= lo).count() >= MIN_N_TICKS {
            break;
        }
    }
    ticks.into_iter().map(|t| t + offset).collect()
}

/// matplotlib's `ScalarFormatter` (offsets on, scientific notation outside 1e-5..1e6).
struct ScalarFormatter {
    offset: f64,
    order_of_magnitude: i32,
    decimals: usize,
}

impl ScalarFormatter {
    /// Chooses offset, order of magnitude and decimals for `locs` (all the locator's ticks)
    /// on an axis showing `vmin..=vmax`.
    fn new(locs: &[f64], vmin: f64, vmax: f64) -> ScalarFormatter {
        let visible: Vec<f64> = locs
            .iter()
            .copied()
            .filter(|&l| vmin <= l && l <= vmax)
            .collect();
        let offset = compute_offset(&visible);
        let order_of_magnitude = if visible.is_empty() {
            0
        } else {
            let oom = if offset != 0.0 {
                (vmax - vmin).log10().floor() as i32
            } else {
                let max = visible.iter().fold(0.0f64, |m, l| m.max(l.abs()));
                if max == 0.0 {
                    0
                } else {
                    max.log10().floor() as i32
                }
            };
            if oom <= -5 || oom >= 6 {
                oom
            } else {
                0
            }
        };
        let mut f = ScalarFormatter {
            offset,
            order_of_magnitude,
            decimals: 0,
        };
        f.decimals = f.decimals_for(locs, vmin, vmax);
        f
    }

    fn scaled(&self, x: f64) -> f64 {
        (x - self.offset) / 10f64.powi(self.order_of_magnitude)
    }

    /// `_set_format`: the fewest decimals that still tell the ticks apart at the precision
    /// their spacing calls for.
    fn decimals_for(&self, locs: &[f64], vmin: f64, vmax: f64) -> usize {
        let mut all = locs.to_vec();
        if locs.len() < 2 {
            all.extend([vmin, vmax]);
        }
        let scaled: Vec<f64> = all.iter().map(|&l| self.scaled(l)).collect();
        let (min, max) = scaled
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let mut range = max - min;
        if range == 0.0 {
            range = scaled.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        }
        if range == 0.0 {
            range = 1.0;
        }
        let scaled = &scaled[..locs.len()];
        let range_oom = range.log10().floor() as i32;
        let thresh = 1e-3 * 10f64.powi(range_oom);
        let mut sigfigs = (3 - range_oom).max(0);
        while sigfigs >= 0 {
            let p = 10f64.powi(sigfigs);
            let err = scaled.iter().fold(0.0f64, |m, &v| {
                m.max((v - (v * p).round_ties_even() / p).abs())
            });
            if err < thresh {
                sigfigs -= 1;
            } else {
                break;
            }
        }
        (sigfigs + 1) as usize
    }

    fn format(&self, x: f64) -> String {
        let mut v = self.scaled(x);
        if v.abs() < 1e-8 {
            v = 0.0;
        }
        fix_minus(format!("{v:.*}", self.decimals))
    }

    /// `get_offset`: the text drawn at the axis end, e.g. `1e6`, `+1e3` or `1e−5+1e3`.
    fn offset_text(&self) -> String {
        let mut s = String::new();
        if self.order_of_magnitude != 0 {
            s += &format!("1e{}", self.order_of_magnitude);
        }
        if self.offset != 0.0 {
            if self.offset > 0.0 {
                s.push('+');
            }
            s += &format_data(self.offset);
        }
        fix_minus(s)
    }
}

/// `ScalarFormatter._compute_offset` (offset threshold 4): subtract a round number when the
/// ticks share their first four or more significant digits.
fn compute_offset(visible: &[f64]) -> f64 {
    let Some((lmin, lmax)) = visible.iter().fold(None, |acc: Option<(f64, f64)>, &l| {
        Some(acc.map_or((l, l), |(a, b)| (a.min(l), b.max(l))))
    }) else {
        return 0.0;
    };
    if lmin == lmax || (lmin <= 0.0 && 0.0 <= lmax) {
        return 0.0;
    }
    let (abs_min, abs_max) = if lmin.abs() <= lmax.abs() {
        (lmin.abs(), lmax.abs())
    } else {
        (lmax.abs(), lmin.abs())
    };
    let sign = 1f64.copysign(lmin);
    let oom_max = abs_max.log10().ceil() as i32;
    let first_differing = |pred: &dyn Fn(f64) -> bool| {
        (0..)
            .map(|k| oom_max - k)
            .find(|&oom| pred(10f64.powi(oom)))
            .unwrap_or(oom_max)
    };
    let mut oom = 1 + first_differing(&|p| py_divmod(abs_min, p).0 != py_divmod(abs_max, p).0);
    if (abs_max - abs_min) / 10f64.powi(oom) <= 1e-2 {
        oom = 1 + first_differing(&|p| abs_max - abs_min > p);
    }
    let lead = py_divmod(abs_max, 10f64.powi(oom)).0;
    if lead >= 1e3 {
        sign * lead * 10f64.powi(oom)
    } else {
        0.0
    }
}

/// `ScalarFormatter.format_data`: `1e3`, `1.5e6`, `2` (the offset's own notation).
fn format_data(value: f64) -> String {
    let e = value.abs().log10().floor() as i32;
    let s = (value / 10f64.powi(e) * 1e10).round() / 1e10;
    let significand = if s.fract() == 0.0 {
        format!("{}", s as i64)
    } else {
        format!("{s}")
    };
    if e == 0 {
        significand
    } else {
        format!("{significand}e{e}")
    }
}

/// matplotlib writes negative numbers with a real minus sign (U+2212), not a hyphen.
fn fix_minus(s: String) -> String {
    s.replace('-', "\u{2212}")
}

/// Ticks and labels for an axis showing `vmin..=vmax` with `nbins` intervals as the target.
pub(crate) fn axis_ticks(vmin: f64, vmax: f64, nbins: usize) -> AxisTicks {
    let all = raw_ticks(vmin, vmax, nbins);
    let fmt = ScalarFormatter::new(&all, vmin, vmax);
    // Ticks a hair outside the view (rounding) still count as inside, as in matplotlib.
    let tol = (vmax - vmin).abs() * 1e-10;
    let locs: Vec<f64> = all
        .iter()
        .copied()
        .filter(|&l| l >= vmin - tol && l <= vmax + tol)
        .collect();
    let labels = locs.iter().map(|&l| fmt.format(l)).collect();
    AxisTicks {
        locs,
        labels,
        offset_text: fmt.offset_text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(vmin: f64, vmax: f64, nbins: usize) -> (Vec<String>, String) {
        let t = axis_ticks(vmin, vmax, nbins);
        (t.labels, t.offset_text)
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.replace('-', "\u{2212}")).collect()
    }

    // Expected values are what matplotlib 3.11 shows for `plt.plot` of data spanning the
    // range (default 640x480 figure, where both axes get 9 bins).
    #[test]
    fn tutorial_axes_match_matplotlib() {
        assert_eq!(view_limits(-10.0, 10.0), (-11.0, 11.0));
        assert_eq!(
            labels(-11.0, 11.0, 9),
            (
                strs(&["-10.0", "-7.5", "-5.0", "-2.5", "0.0", "2.5", "5.0", "7.5", "10.0"]),
                String::new()
            )
        );
        assert_eq!(
            labels(-11000.0, 11000.0, 9),
            (
                strs(&["-10000", "-7500", "-5000", "-2500", "0", "2500", "5000", "7500", "10000"]),
                String::new()
            )
        );
    }

    /// (data min, data max, matplotlib's visible tick labels, its offset text).
    const MATPLOTLIB_Y_AXES: &[(f64, f64, &[&str], &str)] = &[
        (0.0, 1.0, &["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"], ""),
        (-3.0, 7.0, &["-2", "0", "2", "4", "6"], ""),
        (
            0.0,
            0.003,
            &[
                "0.0000", "0.0005", "0.0010", "0.0015", "0.0020", "0.0025", "0.0030",
            ],
            "",
        ),
        (
            0.0,
            3e6,
            &["0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0"],
            "1e6",
        ),
        (
            1000.0,
            1000.01,
            &["0.000", "0.002", "0.004", "0.006", "0.008", "0.010"],
            "+1e3",
        ),
        (
            0.0,
            2e-5,
            &[
                "0.00", "0.25", "0.50", "0.75", "1.00", "1.25", "1.50", "1.75", "2.00",
            ],
            "1e-5",
        ),
        (0.0, 0.0, &["-0.04", "-0.02", "0.00", "0.02", "0.04"], ""),
        (5.0, 5.0, &["4.8", "4.9", "5.0", "5.1", "5.2"], ""),
        (
            -1.0,
            1.0,
            &[
                "-1.00", "-0.75", "-0.50", "-0.25", "0.00", "0.25", "0.50", "0.75", "1.00",
            ],
            "",
        ),
        (
            0.001,
            0.005,
            &[
                "0.0010", "0.0015", "0.0020", "0.0025", "0.0030", "0.0035", "0.0040", "0.0045",
                "0.0050",
            ],
            "",
        ),
        (
            123456.0,
            123789.0,
            &[
                "123450", "123500", "123550", "123600", "123650", "123700", "123750", "123800",
            ],
            "",
        ),
    ];

    #[test]
    fn labels_match_matplotlib() {
        for &(lo, hi, expected, offset) in MATPLOTLIB_Y_AXES {
            let (vmin, vmax) = view_limits(lo, hi);
            assert_eq!(
                labels(vmin, vmax, 9),
                (strs(expected), offset.replace('-', "\u{2212}")),
                "data {lo}..={hi}"
            );
        }
    }

    #[test]
    fn constant_data_gets_a_span() {
        // matplotlib's limits to the last bit: -0.05 - 0.1 * 0.05 rounds up in magnitude.
        assert_eq!(
            view_limits(0.0, 0.0),
            (-0.05500000000000001, 0.05500000000000001)
        );
        let (lo, hi) = view_limits(5.0, 5.0);
        assert!((lo - 4.725).abs() < 1e-12 && (hi - 5.275).abs() < 1e-12);
    }

    #[test]
    fn python_divmod_semantics() {
        assert_eq!(py_divmod(-11.0, 2.5), (-5.0, 1.5));
        assert_eq!(py_divmod(7.0, 2.0), (3.0, 1.0));
        assert_eq!(py_divmod(-0.5, 0.25), (-2.0, 0.0));
    }
}

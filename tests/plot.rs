//! Figures: what the PNG and SVG output contain, where matplotlib would have put things,
//! errors for bad input, the one-call derivative plots, and that no system font is used.
#![cfg(feature = "plot")]

use std::path::PathBuf;
use std::process::Command;
use tensorgrad::plot::{self, Color, Figure, Legend};
use tensorgrad::{tensor, Error, Tensor};

/// A fresh empty directory for one test's files.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tensorgrad-plot-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A decoded RGB image.
struct Image {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Image {
    fn decode(png_bytes: &[u8]) -> Image {
        let decoder = png::Decoder::new(png_bytes);
        let mut reader = decoder.read_info().expect("a valid PNG header");
        let mut rgb = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut rgb).expect("valid PNG data");
        assert_eq!(
            (info.color_type, info.bit_depth),
            (png::ColorType::Rgb, png::BitDepth::Eight)
        );
        rgb.truncate(info.buffer_size());
        Image {
            width: info.width as usize,
            height: info.height as usize,
            rgb,
        }
    }

    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Pixels in `x0..x1` × `y0..y1` that satisfy `pred`.
    fn count(
        &self,
        (x0, y0, x1, y1): (usize, usize, usize, usize),
        pred: impl Fn([u8; 3]) -> bool,
    ) -> usize {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| pred(self.pixel(x, y)))
            .count()
    }
}

fn is_red([r, g, b]: [u8; 3]) -> bool {
    r > 200 && g < 80 && b < 80
}

/// matplotlib's "green" is #008000.
fn is_green([r, g, b]: [u8; 3]) -> bool {
    r < 80 && (100..160).contains(&g) && b < 80
}

/// Text and frame: dark grey to black.
fn is_dark([r, g, b]: [u8; 3]) -> bool {
    r < 100 && g < 100 && b < 100
}

fn whole(img: &Image) -> (usize, usize, usize, usize) {
    (0, 0, img.width, img.height)
}

/// The tutorial's figure, from tensors exactly as the tutorial has them: `x` requires grad,
/// `y` has a grad_fn, the derivative is `x.grad`.
fn tutorial_figure() -> Figure {
    let x = Tensor::linspace(-10.0, 10.0, 100).set_requires_grad(true);
    let y = 10.0 * x.powi(3);
    y.sum().backward().unwrap();
    let dy = x.grad().unwrap();
    Figure::new()
        .xlabel("x")
        .line(&x, &y, "Main Function", "red")
        .unwrap()
        .line(&x, &dy, "Derivative of function", "green")
        .unwrap()
}

// matplotlib's tutorial figure puts the axes at x 80..576, y 57.6..427.2 (pixels from the top
// left) showing x -11..11 and y -11000..11000.
fn px(x: f64) -> f64 {
    80.0 + (x + 11.0) / 22.0 * 496.0
}
fn py(y: f64) -> f64 {
    427.2 - (y + 11000.0) / 22000.0 * 369.6
}

/// Some pixel within 2 px of (`x`, `y`) satisfies `pred`.
fn near(img: &Image, (x, y): (f64, f64), pred: impl Fn([u8; 3]) -> bool) -> bool {
    let (x, y) = (x.round() as usize, y.round() as usize);
    img.count((x - 2, y - 2, x + 3, y + 3), pred) > 0
}

#[test]
fn tutorial_png_has_matplotlibs_layout() {
    let img = Image::decode(&tutorial_figure().to_png().unwrap());
    assert_eq!((img.width, img.height), (640, 480));

    // Both curves are drawn, and pass where matplotlib draws them: Y = 10x³ from (-10, -10000)
    // to (10, 10000) through the origin, dY/dx = 30x² from 3000 down to 0 and back.
    assert!(img.count(whole(&img), is_red) > 400, "too few red pixels");
    assert!(
        img.count(whole(&img), is_green) > 400,
        "too few green pixels"
    );
    for (x, y) in [
        (-10.0, -10000.0),
        (-7.5, -4218.75),
        (10.0, 10000.0),
        (5.0, 1250.0),
    ] {
        assert!(near(&img, (px(x), py(y)), is_red), "no red at ({x}, {y})");
    }
    for (x, y) in [(-10.0, 3000.0), (0.0, 0.0), (10.0, 3000.0), (-5.0, 750.0)] {
        assert!(
            near(&img, (px(x), py(y)), is_green),
            "no green at ({x}, {y})"
        );
    }
    // Nothing red where the cubic does not go: above the axis left of the origin (below the
    // legend, whose handle is red).
    assert_eq!(
        img.count((100, 120, 300, 230), is_red),
        0,
        "red where the curve is not"
    );

    // The frame: black rows at the top and bottom of the axes, black columns at the sides.
    assert_eq!(img.count((82, 58, 574, 59), is_dark), 492);
    assert_eq!(img.count((82, 427, 574, 428), is_dark), 492);
    assert_eq!(img.count((80, 60, 81, 425), is_dark), 365);
    assert_eq!(img.count((576, 60, 577, 425), is_dark), 365);

    // Text where matplotlib puts it: the x label centred under the tick labels, "-10.0" under
    // the first x tick, "-10000" left of the lowest y tick, legend text top left.
    assert!(img.count((320, 455, 336, 472), is_dark) > 10, "no x label");
    assert!(
        img.count((80, 434, 126, 452), is_dark) > 30,
        "no x tick label at -10"
    );
    assert!(
        img.count((10, 402, 72, 420), is_dark) > 40,
        "no y tick label at -10000"
    );
    assert!(
        img.count((128, 66, 290, 108), is_dark) > 200,
        "no legend text"
    );
    // and none in the empty lower right of the plot area or the empty margins.
    assert_eq!(
        img.count((400, 300, 570, 420), |p| is_dark(p)
            || is_red(p)
            || is_green(p)),
        0
    );
    assert_eq!(
        img.count((0, 0, 640, 50), is_dark),
        0,
        "text above the axes, but there is no title"
    );
    assert_eq!(
        img.count((600, 0, 640, 480), is_dark),
        0,
        "text right of the axes"
    );
}

#[test]
fn tutorial_legend_goes_top_left_like_matplotlibs() {
    let svg = tutorial_figure().to_svg().unwrap();
    // matplotlib's legend frame for this figure spans x 86.94..289.94, y 64.54..111.27; its
    // edges are snapped to pixel centres.
    let frame = svg
        .lines()
        .find(|l| l.contains(" rx="))
        .expect("a legend frame");
    assert!(frame.starts_with("<rect x=\"87.5\" y=\"65.5\""), "{frame}");
}

/// `fig` with one blue line added, as SVG.
fn one_line_svg(fig: Figure, x: &Tensor, y: &Tensor, label: &str) -> String {
    fig.line(x, y, label, "blue").unwrap().to_svg().unwrap()
}

#[test]
fn legend_best_avoids_the_data() {
    // A falling line fills the upper left and lower right, so the legend goes upper right.
    let x = Tensor::linspace(0.0, 1.0, 50);
    let y = 1.0 - &x;
    let svg = one_line_svg(Figure::new(), &x, &y, "falling");
    let frame = svg.lines().find(|l| l.contains(" rx=")).unwrap();
    let x0: f64 = frame.split('"').nth(1).unwrap().parse().unwrap();
    assert!(x0 > 320.0, "legend not on the right: {frame}");
    // Hidden legends and unlabelled series draw no frame.
    let hidden = one_line_svg(Figure::new().legend(Legend::Hidden), &x, &y, "falling");
    let unlabelled = one_line_svg(Figure::new(), &x, &y, "");
    assert!(!hidden.contains(" rx=") && !unlabelled.contains(" rx="));
}

#[test]
fn svg_has_both_series_and_every_label() {
    let svg = tutorial_figure()
        .title("Cubic")
        .ylabel("y")
        .to_svg()
        .unwrap();
    assert!(
        svg.starts_with("<?xml")
            && svg
                .contains("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"480\"")
    );
    let paths: Vec<&str> = svg.lines().filter(|l| l.starts_with("<path")).collect();
    assert_eq!(paths.len(), 2, "{svg}");
    assert!(paths[0].contains("stroke=\"#ff0000\"") && paths[1].contains("stroke=\"#008000\""));
    for path in &paths {
        // One run of 100 points: a move and 99 lines.
        assert_eq!(
            (path.matches('M').count(), path.matches(" L").count()),
            (1, 99),
            "{path}"
        );
    }
    for text in [
        ">Main Function</text>",
        ">Derivative of function</text>",
        ">x</text>",
        ">Cubic</text>",
        ">\u{2212}10.0</text>",
        ">7.5</text>",
        ">10000</text>",
        ">\u{2212}7500</text>",
    ] {
        assert!(svg.contains(text), "missing {text}");
    }
    assert!(
        svg.contains("transform=\"rotate(-90") && svg.contains(">y</text>"),
        "y label is not turned"
    );
}

#[test]
fn non_finite_points_break_the_line() {
    let x = tensor!([0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    let y = Tensor::from_vec(vec![0.0f32, 1.0, f32::NAN, 3.0, f32::INFINITY, 5.0], &[6]).unwrap();
    let svg = one_line_svg(Figure::new(), &x, &y, "gappy");
    let path = svg.lines().find(|l| l.starts_with("<path")).unwrap();
    // Runs [0, 1], [3] and [5]: lone points are drawn as dots.
    assert_eq!(path.matches('M').count(), 3, "{path}");
    assert_eq!(path.matches("h0").count(), 2, "{path}");
}

#[test]
fn any_dtype_and_colour_form() {
    let x = Tensor::linspace_with(0.0, 1.0, 10, tensorgrad::DType::F64);
    let fig = Figure::new()
        .line(&x, &x, "named", "tab:orange")
        .unwrap()
        .line(&x, &x, "hex", "#123456")
        .unwrap()
        .line(&x, &x, "tuple", (1, 2, 3))
        .unwrap()
        .line(&x, &x, "const", Color::BLUE)
        .unwrap();
    let svg = fig.to_svg().unwrap();
    for c in ["#ff7f0e", "#123456", "#010203", "#0000ff"] {
        assert!(svg.contains(&format!("stroke=\"{c}\"")), "no {c} line");
    }
}

#[test]
fn save_picks_the_format_from_the_extension() {
    let dir = scratch_dir("save");
    let fig = tutorial_figure();
    fig.save(dir.join("a.png")).unwrap();
    fig.save(dir.join("b.SVG")).unwrap();
    assert_eq!(
        &std::fs::read(dir.join("a.png")).unwrap()[..8],
        b"\x89PNG\r\n\x1a\n"
    );
    assert!(std::fs::read_to_string(dir.join("b.SVG"))
        .unwrap()
        .starts_with("<?xml"));

    for (name, ext) in [("c.jpg", "jpg"), ("noext", ""), ("d.png.bak", "bak")] {
        match fig.save(dir.join(name)) {
            Err(Error::UnsupportedFormat { extension, .. }) => assert_eq!(extension, ext),
            other => panic!("{name}: expected UnsupportedFormat, got {other:?}"),
        }
        assert!(!dir.join(name).exists(), "{name} was written");
    }
    let err = fig.save(dir.join("c.jpg")).unwrap_err();
    assert!(
        err.to_string().contains("\"jpg\"") && err.to_string().contains("*.png or *.svg"),
        "{err}"
    );
    assert!(matches!(
        fig.save(dir.join("missing").join("e.png")),
        Err(Error::Io { .. })
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_series_are_errors_not_panics() {
    let x = tensor!([0.0, 1.0, 2.0]);
    let line = |a: &Tensor, b: &Tensor| Figure::new().line(a, b, "s", "red");
    assert!(matches!(
        line(&x, &tensor!([1.0, 2.0])),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        line(
            &tensor!([[0.0, 1.0], [2.0, 3.0]]),
            &tensor!([[0.0, 1.0], [2.0, 3.0]])
        ),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        line(&tensor!(1.0), &tensor!(1.0)),
        Err(Error::ShapeMismatch { .. })
    ));
    let empty = Tensor::zeros(&[0]);
    assert!(matches!(
        line(&empty, &empty),
        Err(Error::InvalidArgument { .. })
    ));
    let nan = Tensor::full(&[3], f64::NAN);
    let err = line(&x, &nan).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { .. }) && err.to_string().contains("NaN or infinite"),
        "{err}"
    );

    match Figure::new().line(&x, &x, "s", "rouge") {
        Err(Error::UnknownColor { name, known }) => {
            assert_eq!(name, "rouge");
            assert!(
                known.contains("red") && known.contains("tab:blue"),
                "{known}"
            );
        }
        other => panic!("expected UnknownColor, got {other:?}"),
    }
    assert!(
        matches!(Figure::new().to_png(), Err(Error::InvalidArgument { .. })),
        "a figure with no series"
    );
    assert!(Figure::new().xlim(f64::NAN, 1.0).is_err() && Figure::new().ylim(2.0, 2.0).is_err());
    let tiny = Figure::new().size(40, 30).line(&x, &x, "", "red").unwrap();
    assert!(
        matches!(tiny.to_png(), Err(Error::InvalidArgument { .. })),
        "no room for the axes"
    );
    let huge = Figure::new()
        .size(100_000, 100_000)
        .line(&x, &x, "", "red")
        .unwrap();
    assert!(
        matches!(huge.to_png(), Err(Error::InvalidArgument { .. })),
        "a 30 GB image"
    );
}

#[test]
fn margins_grow_to_fit_labels() {
    let x = Tensor::linspace(-10.0, 10.0, 50);
    let y = 10.0 * x.powi(3);
    let img = Image::decode(
        &Figure::new()
            .size(320, 240)
            .ylabel("value")
            .title("Small")
            .line(&x, &y, "", "blue")
            .unwrap()
            .to_png()
            .unwrap(),
    );
    assert_eq!((img.width, img.height), (320, 240));
    // The turned y label is drawn inside the image, left of the tick labels...
    assert!(img.count((0, 80, 30, 160), is_dark) > 20, "no y label");
    // ...and nothing touches the image's edges.
    for edge in [
        (0, 0, 2, 240),
        (0, 0, 320, 2),
        (318, 0, 320, 240),
        (0, 238, 320, 240),
    ] {
        assert_eq!(img.count(edge, is_dark), 0, "text at the edge {edge:?}");
    }
}

#[test]
fn xlim_and_ylim_fix_the_view() {
    let x = Tensor::linspace(0.0, 10.0, 11);
    let fig = Figure::new()
        .xlim(0.0, 100.0)
        .unwrap()
        .ylim(-1.0, 20.0)
        .unwrap();
    let svg = one_line_svg(fig, &x, &x, "");
    // x = 10 of 0..100 is a tenth of the way across the axes (80..576).
    let path = svg.lines().find(|l| l.starts_with("<path")).unwrap();
    assert!(path.contains(" L129.6,"), "{path}");
    assert!(svg.contains(">100</text>") && svg.contains(">20.0</text>"));
}

/// The points of the SVG path drawn in `color`.
fn path_points(svg: &str, color: &str) -> Vec<(f64, f64)> {
    let line = svg
        .lines()
        .find(|l| l.starts_with("<path") && l.contains(&format!("stroke=\"{color}\"")))
        .unwrap_or_else(|| panic!("no {color} path"));
    let d = line
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    d.split(' ')
        .filter(|t| t.starts_with('M') || t.starts_with('L'))
        .map(|t| {
            let (x, y) = t[1..].split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

#[test]
fn function_and_derivative_draws_the_autograd_derivative() {
    let dir = scratch_dir("derivative");
    // f = x² on [-1, 1]: f' = 2x runs from -2 to 2, so the view is -2.2..2.2 and the
    // derivative's ends sit at the same heights as the tutorial's ±10000 (74.4 and 410.4).
    plot::function_and_derivative(|x| x.powi(2), -1.0..=1.0, 21, dir.join("square.svg")).unwrap();
    let svg = std::fs::read_to_string(dir.join("square.svg")).unwrap();
    let d = path_points(&svg, "#008000");
    assert_eq!(d.len(), 21);
    assert!(
        (d[0].0 - 102.55).abs() < 0.01 && (d[0].1 - 410.4).abs() < 0.01,
        "{:?}",
        d[0]
    );
    assert!(
        (d[20].0 - 553.45).abs() < 0.01 && (d[20].1 - 74.4).abs() < 0.01,
        "{:?}",
        d[20]
    );
    // 2x is a straight line: every point lies on the chord between the ends.
    for &(x, y) in &d {
        let t = (x - d[0].0) / (d[20].0 - d[0].0);
        assert!(
            (y - (d[0].1 + t * (d[20].1 - d[0].1))).abs() < 0.02,
            "({x}, {y}) is off the line"
        );
    }
    assert!(
        svg.contains(">f(x)</text>") && svg.contains(">f′(x)</text>") && svg.contains(">x</text>")
    );

    // Second derivative of x³ is 6x: ends at ±6, the same heights in a -6.6..6.6 view.
    plot::function_and_derivatives(|x| x.powi(3), -1.0..=1.0, 21, 2, dir.join("cube.svg")).unwrap();
    let svg = std::fs::read_to_string(dir.join("cube.svg")).unwrap();
    let d2 = path_points(&svg, "#1f77b4");
    assert!(
        (d2[0].1 - 410.4).abs() < 0.01 && (d2[20].1 - 74.4).abs() < 0.01,
        "{:?} {:?}",
        d2[0],
        d2[20]
    );
    assert!(svg.contains(">f″(x)</text>"));

    // Past the point where a derivative stops depending on x, the rest are zero.
    plot::function_and_derivatives(|x| x.powi(2), -1.0..=1.0, 5, 3, dir.join("flat.png")).unwrap();
    plot::function_and_derivatives(|x| x.powi(2), -1.0..=1.0, 5, 3, dir.join("flat.svg")).unwrap();
    let svg = std::fs::read_to_string(dir.join("flat.svg")).unwrap();
    let d3 = path_points(&svg, "#ff7f0e");
    assert!(
        d3.iter().all(|p| p.1 == d3[0].1),
        "third derivative of x² is not flat: {d3:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn function_and_derivatives_rejects_bad_requests() {
    let dir = scratch_dir("requests");
    let path = dir.join("f.png");
    let cube = |x: &Tensor| x.powi(3);
    let invalid = |r: tensorgrad::Result<()>| matches!(r, Err(Error::InvalidArgument { .. }));
    assert!(invalid(plot::function_and_derivative(
        cube,
        1.0..=-1.0,
        10,
        &path
    )));
    assert!(invalid(plot::function_and_derivative(
        cube,
        0.0..=f64::INFINITY,
        10,
        &path
    )));
    assert!(invalid(plot::function_and_derivative(
        cube,
        -1.0..=1.0,
        1,
        &path
    )));
    assert!(invalid(plot::function_and_derivatives(
        cube,
        -1.0..=1.0,
        10,
        0,
        &path
    )));
    assert!(
        invalid(plot::function_and_derivative(
            |x| x.sum(),
            -1.0..=1.0,
            10,
            &path
        )),
        "not elementwise"
    );
    assert!(matches!(
        plot::function_and_derivative(cube, -1.0..=1.0, 10, dir.join("f.gif")),
        Err(Error::UnsupportedFormat { .. })
    ));
    assert!(!path.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

/// Environment that points every font lookup mechanism at nothing.
const NO_FONTS: &[(&str, &str)] = &[
    ("FONTCONFIG_FILE", "/nonexistent/fonts.conf"),
    ("FONTCONFIG_PATH", "/nonexistent"),
    ("XDG_DATA_HOME", "/nonexistent"),
    ("XDG_DATA_DIRS", "/nonexistent"),
    ("XDG_CONFIG_HOME", "/nonexistent"),
    ("HOME", "/nonexistent"),
];

/// Run by `rendering_reads_no_system_font` in a child process; ignored otherwise.
#[test]
#[ignore = "run by rendering_reads_no_system_font in a child process"]
fn render_text_child() {
    let out = PathBuf::from(
        std::env::var("TENSORGRAD_PLOT_CHILD_OUT").expect("run by rendering_reads_no_system_font"),
    );
    tutorial_figure().title("Fonts").save(&out).unwrap();
}

/// Text must come from the font compiled into the library. The figure is rendered in a child
/// process whose font configuration points nowhere, and the parent checks that its text was
/// drawn. Where `strace` works, the child also runs under it, and the test fails if it opened,
/// stat-ed or listed any path that looks like a font or font configuration: that shows no
/// system font is read even on a machine that has fonts installed.
#[test]
fn rendering_reads_no_system_font() {
    // No "font" in these names, so any path the trace shows containing it is a real lookup.
    let dir = scratch_dir("typefaces");
    let out = dir.join("figure.png");
    let exe = std::env::current_exe().unwrap();
    let child_args = [
        "render_text_child",
        "--exact",
        "--ignored",
        "--test-threads=1",
    ];
    let trace = dir.join("trace.txt");
    let strace_works = Command::new("strace")
        .args(["-f", "-qq", "-o"])
        .arg(&trace)
        .arg("true")
        .status()
        .is_ok_and(|s| s.success());
    let mut cmd = if strace_works {
        let mut c = Command::new("strace");
        c.args(["-f", "-qq", "-e", "trace=%file", "-o"])
            .arg(&trace)
            .arg(&exe);
        c
    } else {
        eprintln!("strace is not usable here; checking with font configuration hidden only");
        Command::new(&exe)
    };
    cmd.args(child_args).env("TENSORGRAD_PLOT_CHILD_OUT", &out);
    for (k, v) in NO_FONTS {
        cmd.env(k, v);
    }
    let result = cmd.output().unwrap();
    assert!(
        result.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );

    let img = Image::decode(&std::fs::read(&out).unwrap());
    assert!(
        img.count((320, 455, 336, 472), is_dark) > 10,
        "x label missing"
    );
    assert!(img.count((200, 20, 440, 55), is_dark) > 30, "title missing");
    assert!(
        img.count((128, 66, 290, 108), is_dark) > 200,
        "legend text missing"
    );

    if strace_works {
        let trace = std::fs::read_to_string(&trace).unwrap();
        assert!(
            trace.contains("figure.png"),
            "the trace does not show the figure being written:\n{trace}"
        );
        let font_like = |l: &&str| {
            let l = l.to_lowercase();
            ["font", ".ttf", ".otf", ".ttc", ".pcf", ".pfb", ".woff"]
                .iter()
                .any(|pat| l.contains(pat))
        };
        let touched: Vec<&str> = trace.lines().filter(font_like).collect();
        assert!(
            touched.is_empty(),
            "rendering touched font files:\n{}",
            touched.join("\n")
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

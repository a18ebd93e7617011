//! `tensorgrad plot` writes PNG and SVG files.

mod support;

use support::{temp_dir, tensorgrad, tensorgrad_in};

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

#[test]
fn writes_png_to_plot_png_by_default() {
    let dir = temp_dir("default-png");
    let out = tensorgrad_in(
        &dir,
        &["plot", "6*x**2 + 2*x + 4", "--from", "-10", "--to", "10"],
    );
    assert_eq!(out.ok(), "wrote plot.png\n");
    let bytes = std::fs::read(dir.join("plot.png")).unwrap();
    assert!(bytes.len() > 1000, "{} bytes", bytes.len());
    assert!(bytes.starts_with(PNG_MAGIC));
}

#[test]
fn writes_svg_with_one_path_per_curve() {
    let dir = temp_dir("svg");
    let path = dir.join("quartic.SVG");
    let p = path.to_str().unwrap();
    let out = tensorgrad(&[
        "plot",
        "x**4 - 4*x**2",
        "--from=-2.5",
        "--to",
        "2.5",
        "--order",
        "3",
        "--steps",
        "200",
        "-o",
        p,
    ]);
    assert_eq!(out.ok(), format!("wrote {p}\n"));
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(
        svg.starts_with("<?xml") && svg.contains("<svg"),
        "{svg:.200}"
    );
    // The title and the four legend entries are text.
    assert!(svg.contains("f(x) = x**4 - 4*x**2"));
    for label in ["f(x)", "f′(x)", "f″(x)", "f‴(x)"] {
        assert!(svg.contains(&format!(">{label}</text>")), "{label}");
    }
}

#[test]
fn constant_expressions_and_constant_ranges() {
    let dir = temp_dir("constant");
    let out = tensorgrad_in(
        &dir,
        &[
            "plot", "2*pi", "--from", "-pi", "--to", "pi/2", "-o", "c.svg",
        ],
    );
    assert_eq!(out.ok(), "wrote c.svg\n");
    let svg = std::fs::read_to_string(dir.join("c.svg")).unwrap();
    // The variable defaults to x; the derivative of a constant is drawn (0).
    assert!(svg.contains(">f′(x)</text>"));
}

#[test]
fn curves_with_no_finite_point_are_left_out_with_a_warning() {
    let dir = temp_dir("partly-finite");
    // sqrt is finite only at 0 on [-1, 0], where its derivative is inf.
    let out = tensorgrad_in(&dir, &["plot", "sqrt(t)", "--from", "-1", "--to", "0"]);
    assert_eq!(out.code, Some(0));
    assert_eq!(out.stdout, "wrote plot.png\n");
    assert_eq!(
        out.stderr,
        "warning: f′(t) has no finite value on the range; it is not drawn\n"
    );
    assert!(std::fs::read(dir.join("plot.png"))
        .unwrap()
        .starts_with(PNG_MAGIC));
}

#[test]
fn order_zero_and_the_highest_order() {
    let dir = temp_dir("orders");
    let out = tensorgrad_in(
        &dir,
        &[
            "plot", "sin(x)", "--from", "0", "--to", "6", "--order", "0", "-o", "a.svg",
        ],
    );
    assert_eq!(out.ok(), "wrote a.svg\n");
    let svg = std::fs::read_to_string(dir.join("a.svg")).unwrap();
    assert!(svg.contains(">f(x)</text>") && !svg.contains("f′"));
    let out = tensorgrad_in(
        &dir,
        &[
            "plot", "x*sin(x)", "--from", "0", "--to", "6", "--order", "8", "--dtype", "f64", "-o",
            "b.svg",
        ],
    );
    assert_eq!(out.ok(), "wrote b.svg\n");
    let svg = std::fs::read_to_string(dir.join("b.svg")).unwrap();
    assert!(svg.contains(">f⁽⁸⁾(x)</text>"));
}

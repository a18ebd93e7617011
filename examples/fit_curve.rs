//! Fits sin(x) on [-π, π] with a small MLP (1-32-32-1, Tanh) trained by Adam, then checks the
//! model's derivative, taken by autograd with respect to the input, against cos(x).
//!
//! ```sh
//! cargo run --release --example fit_curve            # writes into the current directory
//! cargo run --release --example fit_curve -- out/    # or into out/
//! ```
//!
//! Prints the final training loss and the derivative's error, writes the curves to
//! `fit_curve.csv` (x, sin x, model, d model/dx, cos x) and, with the `plot` feature, the
//! figures `fit_curve.png` (fit) and `fit_curve_derivative.png` (derivative against cos).
//! Deterministic: the same seed gives the same weights, losses and figures on every run.

use indicatif::{ProgressBar, ProgressStyle};
use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use tensorgrad::nn::{self, functional as F, Module};
use tensorgrad::optim::{Adam, CosineAnnealingLR, LrScheduler, Optimizer};
use tensorgrad::{autograd, manual_seed, Result, Tensor};

const SEED: u64 = 0;
const STEPS: u64 = 3000;
const POINTS: usize = 256;

/// The curves the figures and the CSV show, as plain vectors.
struct Curves {
    x: Vec<f64>,
    target: Vec<f64>,
    fit: Vec<f64>,
    derivative: Vec<f64>,
    cos: Vec<f64>,
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&out_dir)?;

    manual_seed(SEED);
    let model = nn::Sequential::new()
        .add(nn::Linear::new(1, 32))
        .add(nn::Tanh::new())
        .add(nn::Linear::new(32, 32))
        .add(nn::Tanh::new())
        .add(nn::Linear::new(32, 1));
    let x = Tensor::linspace(-PI, PI, POINTS).reshape([POINTS as isize, 1]);
    let y = x.sin();

    let final_loss = train(&model, &x, &y)?;
    println!("final loss (MSE over {POINTS} points): {final_loss:.3e}");

    let curves = evaluate(&model, &x)?;
    let worst = curves
        .derivative
        .iter()
        .zip(&curves.cos)
        .map(|(d, c)| (d - c).abs())
        .fold(0.0, f64::max);
    println!("largest |d model/dx - cos x| on the grid: {worst:.3e}");

    let csv = out_dir.join("fit_curve.csv");
    write_csv(&csv, &curves)?;
    println!("wrote {}", csv.display());
    save_figures(&out_dir, &curves)?;
    Ok(())
}

/// Adam with a cosine-annealed rate; returns the loss after the last step.
fn train(model: &nn::Sequential, x: &Tensor, y: &Tensor) -> Result<f32> {
    let mut opt = Adam::new(model.parameters(), 1e-2);
    let mut schedule = CosineAnnealingLR::new(&mut opt, STEPS as usize, 1e-4);
    let bar = ProgressBar::new(STEPS);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps  loss {msg}")
            .expect("a valid template"),
    );
    for step in 0..STEPS {
        opt.zero_grad();
        let loss = F::mse_loss(&model.forward(x), y)?;
        loss.backward()?;
        opt.step()?;
        schedule.step(&mut opt);
        if step % 25 == 0 {
            bar.set_message(format!("{:.3e}", loss.item::<f32>()));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let loss = tensorgrad::no_grad(|| F::mse_loss(&model.forward(x), y))?;
    Ok(loss.item::<f32>())
}

/// The model and its derivative with respect to the input, by autograd: each output row
/// depends only on its own input row, so the gradient of the outputs' sum holds each point's
/// derivative.
fn evaluate(model: &nn::Sequential, x: &Tensor) -> Result<Curves> {
    let xs = x.detach().set_requires_grad(true);
    let fit = model.forward(&xs);
    let derivative = &autograd::grad(&[&fit.sum()], &[&xs], false)?[0];
    Ok(Curves {
        x: x.to_vec(),
        target: x.sin().to_vec(),
        fit: fit.to_vec(),
        derivative: derivative.to_vec(),
        cos: x.cos().to_vec(),
    })
}

fn write_csv(path: &Path, c: &Curves) -> std::io::Result<()> {
    let mut s = String::from("x,sin_x,model,dmodel_dx,cos_x\n");
    for i in 0..c.x.len() {
        s += &format!(
            "{},{},{},{},{}\n",
            c.x[i], c.target[i], c.fit[i], c.derivative[i], c.cos[i]
        );
    }
    std::fs::write(path, s)
}

/// Without the `plot` feature there is nothing to draw with; the CSV holds the same curves.
#[cfg(not(feature = "plot"))]
fn save_figures(_: &Path, _: &Curves) -> Result<()> {
    println!("figures need the `plot` feature (on by default)");
    Ok(())
}

/// The fit against sin(x), and the autograd derivative against cos(x), as PNG figures.
#[cfg(feature = "plot")]
fn save_figures(dir: &Path, c: &Curves) -> Result<()> {
    use tensorgrad::plot::Figure;
    let t = |v: &[f64]| Tensor::from_vec(v.to_vec(), &[v.len()]);
    let x = t(&c.x)?;
    let fit = dir.join("fit_curve.png");
    Figure::new()
        .title("MLP fit of sin(x)")
        .xlabel("x")
        .line(&x, &t(&c.target)?, "sin(x)", "tab:blue")?
        .line(&x, &t(&c.fit)?, "model", "tab:orange")?
        .save(&fit)?;
    println!("wrote {}", fit.display());
    let der = dir.join("fit_curve_derivative.png");
    Figure::new()
        .title("Derivative of the model by autograd")
        .xlabel("x")
        .line(&x, &t(&c.cos)?, "cos(x)", "tab:blue")?
        .line(&x, &t(&c.derivative)?, "d model/dx", "tab:orange")?
        .save(&der)?;
    println!("wrote {}", der.display());
    Ok(())
}

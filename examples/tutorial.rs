//! The PyTorch autograd tutorial ("Using Autograd for Differentiation in Pytorch"), in Rust.
//!
//! Run with `cargo run --release --example tutorial`. Its first lines are exactly what the
//! Python tutorial prints; with the default `plot` feature it then draws the tutorial's figure
//! (the cubic and its derivative) to `tutorial.png` in the working directory.

use tensorgrad::{tensor, Result, Tensor};

fn main() -> Result<()> {
    // ---- 1. Derivative at a point -------------------------------------------------------
    // Example #1: x = torch.tensor(3.0, requires_grad=True); y = 3*x**2
    let x = tensor!(3.0).set_requires_grad(true);
    println!("{x}");
    let y = 3.0 * x.powi(2);
    println!("Value of function at x=3 is: {y}");
    y.backward()?;
    println!(
        "Derivative of Above equation is: {}",
        x.grad().expect("x requires grad")
    );

    // Example #2: y = 6*x**2 + 2*x + 4
    let x = tensor!(3.0).set_requires_grad(true);
    let y = 6.0 * x.powi(2) + 2.0 * &x + 4.0;
    println!("Result of the equation is:  {y}");
    y.backward()?;
    println!(
        "Derivative of the equation at x = 3 is:  {}",
        x.grad().expect("x requires grad")
    );

    // ---- 2. Partial derivatives ----------------------------------------------------------
    // Example #3: f = u**2 + v**3 + 2*u*v + u + v
    let u = tensor!(3.0).set_requires_grad(true);
    let v = tensor!(4.0).set_requires_grad(true);
    let f = u.powi(2) + v.powi(3) + 2.0 * &u * &v + &u + &v;
    println!("{u}");
    println!("{v}");
    println!("{f}");
    f.backward()?;
    println!(
        "Partial derivative with respect to u:  {}",
        u.grad().expect("u requires grad")
    );
    println!(
        "Partial derivative with respect to v:  {}",
        v.grad().expect("v requires grad")
    );

    // ---- 3. Derivative of a function on a domain ------------------------------------------
    // x = torch.linspace(-10, 10, 100, requires_grad=True); Y = 10*x**3; Y.sum().backward()
    let x = Tensor::linspace(-10.0, 10.0, 100).set_requires_grad(true);
    let big_y = 10.0 * x.powi(3);
    let y = big_y.sum();
    y.backward()?;
    let dy_dx = x.grad().expect("x requires grad");

    // ---- 4. What is a tensor? --------------------------------------------------------------
    // An N-dimensional container, with products such as dot and cross.
    let a = tensor!([1.0, 2.0, 3.0]);
    let b = tensor!([4.0, 5.0, 6.0]);
    let m = tensor!([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]);
    println!();
    // The derivative of 10x³ is 30x²; spot-check three points of the domain.
    for i in [0, 50, 99] {
        let (xi, gi) = (x.to_vec::<f32>()[i], dy_dx.to_vec::<f32>()[i]);
        println!(
            "dY/dx at x = {xi:.4} is {gi:.4} (30x² = {:.4})",
            30.0 * xi * xi
        );
    }
    println!("A 3-D tensor of shape {:?}:\n{m}", m.shape());
    println!("Dot product of {a} and {b}: {}", a.dot(&b));
    println!("Cross product of {a} and {b}: {}", a.cross(&b));

    // ---- The tutorial's figure -------------------------------------------------------------
    // plt.plot(x, Y, label='Main Function', color='red'); plt.plot(x, x.grad, label=
    // 'Derivative of function', color='green'); plt.xlabel('x'); plt.legend()
    #[cfg(feature = "plot")]
    {
        let path = std::path::Path::new("tutorial.png");
        tensorgrad::plot::Figure::new()
            .xlabel("x")
            .line(&x, &big_y, "Main Function", "red")?
            .line(&x, &dy_dx, "Derivative of function", "green")?
            .save(path)?;
        let shown =
            std::env::current_dir().map_or_else(|_| path.to_path_buf(), |dir| dir.join(path));
        println!("Saved the figure to {}", shown.display());
    }
    Ok(())
}

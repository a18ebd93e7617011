use tensorgrad::*;
fn main() -> Result<()> {
    let x = tensor!(3.0).set_requires_grad(true);
    let y = 3.0 * x.powi(2);
    println!("{y}");
    y.backward()?;
    println!("{}", x.grad().unwrap());
    let x = tensor!(3.0).set_requires_grad(true);
    let y = 6 * x.powi(2) + 2 * &x + 4;
    y.backward()?;
    println!("{y} {}", x.grad().unwrap());
    let u = tensor!(3.).set_requires_grad(true);
    let v = tensor!(4.).set_requires_grad(true);
    let f = u.powi(2) + v.powi(3) + 2 * &u * &v + &u + &v;
    f.backward()?;
    println!("{f} {} {}", u.grad().unwrap(), v.grad().unwrap());
    let x = Tensor::linspace(-10.0, 10.0, 100).set_requires_grad(true);
    let big = 10.0 * x.powi(3);
    big.sum().backward()?;
    println!("{:?}", &x.grad().unwrap().to_vec::<f32>()[..3]);
    manual_seed(0); println!("{:?}", Tensor::rand_with(&[3], DType::F64).to_vec::<f64>());
    manual_seed(0); println!("{:?}", Tensor::randn(&[5]).to_vec::<f32>());
    manual_seed(0); println!("{:?}", Tensor::randn_with(&[5], DType::F64).to_vec::<f64>());
    manual_seed(0); println!("{:?}", Tensor::randn(&[20]).to_vec::<f32>());
    manual_seed(0); println!("{:?}", Tensor::randn_with(&[20], DType::F64).to_vec::<f64>());
    let a = Tensor::randn(&[3, 4]).set_requires_grad(true);
    let b = Tensor::randn(&[4, 2]).set_requires_grad(true);
    a.matmul(&b).sum().backward()?;
    println!("{:?}", b.grad().unwrap().to_vec::<f32>());
    // second derivative
    let x = tensor!(2.0).set_requires_grad(true);
    let y = x.powi(4);
    let g = autograd::grad(&[&y], &[&x], true)?;
    let g2 = autograd::grad(&[&g[0]], &[&x], true)?;
    let g3 = autograd::grad(&[&g2[0]], &[&x], true)?;
    let g4 = autograd::grad(&[&g3[0]], &[&x], false)?;
    println!("{} {} {} {}", g[0], g2[0], g3[0], g4[0]);
    // deep chain
    let x = tensor!(1.0).set_requires_grad(true);
    let mut y = x.clone();
    for _ in 0..1_000_000 { y = &y * 1.0000001 + 0.0; }
    y.backward()?;
    println!("chain grad {}", x.grad().unwrap());
    drop(y);
    Ok(())
}

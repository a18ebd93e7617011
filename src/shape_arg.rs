//! Arguments that list sizes or dims: `&[2, 6]`, `&[2, -1]`, `[3, 4]`, `vec![..]`, or another
//! tensor's `shape()`, all accepted where PyTorch takes a shape.

/// A list of sizes or dims. Implemented for slices, arrays and vectors of `usize`, `isize`,
/// `i32` and `i64`, so integer literals (`&[2, -1]`) and `t.shape()` both work, and for one
/// integer, a list of one (`x.amax(-1, false)`, as PyTorch's `x.amax(-1)`).
///
/// ```
/// use tensorgrad::tensor;
/// let m = tensor!([[1.0, 2.0], [3.0, 4.0]]);
/// assert_eq!(m.sum_dim(1, false).to_vec::<f32>(), vec![3.0, 7.0]);
/// assert_eq!(m.sum_dim(&[0, 1], false).item::<f32>(), 10.0);
/// assert_eq!(m.var_dim(-1, 1, true).shape(), &[2, 1]);
/// ```
pub trait IntoDims {
    /// The entries as `isize` (sizes can then be `-1`, dims can be negative).
    fn to_dims(&self) -> Vec<isize>;
}

macro_rules! impl_into_dims {
    ($($t:ty),*) => {$(
        impl IntoDims for &[$t] {
            fn to_dims(&self) -> Vec<isize> {
                self.iter().map(|&d| d as isize).collect()
            }
        }
        impl<const N: usize> IntoDims for [$t; N] {
            fn to_dims(&self) -> Vec<isize> {
                self.iter().map(|&d| d as isize).collect()
            }
        }
        impl<const N: usize> IntoDims for &[$t; N] {
            fn to_dims(&self) -> Vec<isize> {
                self.iter().map(|&d| d as isize).collect()
            }
        }
        impl IntoDims for Vec<$t> {
            fn to_dims(&self) -> Vec<isize> {
                self.iter().map(|&d| d as isize).collect()
            }
        }
        impl IntoDims for &Vec<$t> {
            fn to_dims(&self) -> Vec<isize> {
                self.iter().map(|&d| d as isize).collect()
            }
        }
        impl IntoDims for $t {
            fn to_dims(&self) -> Vec<isize> {
                vec![*self as isize]
            }
        }
    )*};
}

impl_into_dims!(usize, isize, i32, i64);

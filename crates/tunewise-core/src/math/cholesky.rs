//! Cholesky factorization and inverse of a symmetric positive-definite matrix, row-major.
//!
//! Why not nalgebra's: the GP sampler factorizes and inverts its n × n kernel matrix several
//! times per trial (each step of the hyperparameter fit needs `K⁻¹` for the gradient). At
//! n = 300, nalgebra's column-oriented factorization and its inverse through two triangular
//! solves against the identity made a trial take about 0.75 s (`benches/gp.rs`). Written
//! row-major, every inner loop is a dot product of two contiguous slices (four accumulators, so
//! the compiler can vectorize it), and the inverse uses the triangular structure: about
//! `⅔·n³` flops for factor and inverse together.

/// Dot product with four accumulators.
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let chunks = n / 4;
    for c in 0..chunks {
        let i = 4 * c;
        acc[0] += a[i] * b[i];
        acc[1] += a[i + 1] * b[i + 1];
        acc[2] += a[i + 2] * b[i + 2];
        acc[3] += a[i + 3] * b[i + 3];
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for i in 4 * chunks..n {
        s += a[i] * b[i];
    }
    s
}

/// The lower Cholesky factor `L` (row-major, `n × n`, upper part zero) of `a`, or `None` when
/// `a` is not numerically positive definite.
pub(crate) fn factor(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s = dot(&l[i * n..i * n + j], &l[j * n..j * n + j]);
            if i == j {
                let v = a[i * n + i] - s;
                if !(v > 0.0 && v.is_finite()) {
                    return None;
                }
                l[i * n + i] = v.sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - s) / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solves `L Lᵀ x = b` in place.
pub(crate) fn solve(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let s = dot(&l[i * n..i * n + i], &b[..i]);
        b[i] = (b[i] - s) / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = 0.0;
        for k in i + 1..n {
            s += l[k * n + i] * b[k];
        }
        b[i] = (b[i] - s) / l[i * n + i];
    }
}

/// `(L Lᵀ)⁻¹`, full and symmetric, row-major.
pub(crate) fn inverse(l: &[f64], n: usize) -> Vec<f64> {
    // U = L⁻ᵀ, stored row-major (upper triangular): row j of U is column j of L⁻¹, found by
    // forward substitution; U[j][i] = (δ_ij − Σ_{m=j}^{i−1} L[i][m]·U[j][m]) / L[i][i].
    let mut u = vec![0.0; n * n];
    for j in 0..n {
        u[j * n + j] = 1.0 / l[j * n + j];
        for i in j + 1..n {
            let s = dot(&l[i * n + j..i * n + i], &u[j * n + j..j * n + i]);
            u[j * n + i] = -s / l[i * n + i];
        }
    }
    // K⁻¹ = L⁻ᵀ L⁻¹ = U Uᵀ: entry (i, k) is the dot product of rows i and k of U, both zero
    // before column max(i, k).
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        for k in i..n {
            let v = dot(&u[i * n + k..(i + 1) * n], &u[k * n + k..(k + 1) * n]);
            inv[i * n + k] = v;
            inv[k * n + i] = v;
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn factor_solve_and_inverse_agree_with_the_matrix() {
        let n = 23;
        let mut rng = Rng::new(4);
        let b: Vec<f64> = (0..n * n).map(|_| rng.normal()).collect();
        // A = B Bᵀ + n I is positive definite.
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for k in 0..n {
                a[i * n + k] = dot(&b[i * n..(i + 1) * n], &b[k * n..(k + 1) * n])
                    + if i == k { n as f64 } else { 0.0 };
            }
        }
        let l = factor(&a, n).unwrap();
        let inv = inverse(&l, n);
        for i in 0..n {
            for k in 0..n {
                let p: f64 = (0..n).map(|m| a[i * n + m] * inv[m * n + k]).sum();
                let want = if i == k { 1.0 } else { 0.0 };
                assert!((p - want).abs() < 1e-10, "({i}, {k}): {p}");
            }
        }
        let x0: Vec<f64> = (0..n).map(|i| i as f64 - 3.0).collect();
        let mut rhs: Vec<f64> = (0..n).map(|i| dot(&a[i * n..(i + 1) * n], &x0)).collect();
        solve(&l, n, &mut rhs);
        for (got, want) in rhs.iter().zip(&x0) {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
        // Not positive definite: refused.
        let mut bad = a.clone();
        bad[0] = -1.0;
        assert!(factor(&bad, n).is_none());
    }
}

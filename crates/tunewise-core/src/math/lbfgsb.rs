//! A compact projected L-BFGS for box-bounded minimization.
//!
//! Why our own: the pure-Rust optimization crates offer L-BFGS without bounds (argmin), and the
//! bounded L-BFGS-B ports wrap the Fortran or C original. The Gaussian-process sampler needs
//! box bounds (kernel hyperparameters in log space, acquisition inputs in `[0, 1]`) on small
//! problems (a few to a few dozen variables), where a projected variant does as well.
//!
//! The method: at each iteration, the variables at a bound whose gradient points outward are
//! held fixed; the two-loop recursion gives a quasi-Newton direction on the free ones; a
//! backtracking Armijo line search runs along the projected path `P(x + t·d)` (the point is
//! projected onto the box at every trial step). A pair `(s, y)` enters the memory only when
//! `sᵀy > 0`, which keeps the implicit Hessian positive definite. Non-finite function values
//! count as failures of the step, so callers may return `f64::INFINITY` where the objective is
//! undefined (a failed Cholesky).

/// Settings of one minimization.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Pairs `(s, y)` remembered.
    pub memory: usize,
    /// Iterations at most.
    pub max_iters: usize,
    /// Function evaluations at most (line searches included).
    pub max_evals: usize,
    /// Stop when the projected gradient's largest component is below this.
    pub pgtol: f64,
    /// Stop when an iteration lowers `f` by less than `ftol · max(|f|, 1)`.
    pub ftol: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options { memory: 10, max_iters: 100, max_evals: 400, pgtol: 1e-6, ftol: 1e-12 }
    }
}

/// The result of a minimization.
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    /// The best point found (inside the box).
    pub x: Vec<f64>,
    /// Its function value.
    pub f: f64,
}

fn project(x: &mut [f64], lower: &[f64], upper: &[f64]) {
    for ((xi, lo), hi) in x.iter_mut().zip(lower).zip(upper) {
        *xi = xi.clamp(*lo, *hi);
    }
}

/// Whether variable `i` is held at its bound: at the bound with the gradient pushing outward.
fn pinned(x: f64, g: f64, lo: f64, hi: f64) -> bool {
    (x <= lo && g > 0.0) || (x >= hi && g < 0.0)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimizes `f` over the box `[lower, upper]` from `x0` (projected into the box first).
///
/// `f(x, grad)` returns the value and writes the gradient. Bounds must satisfy
/// `lower[i] <= upper[i]`.
pub(crate) fn minimize<F>(
    mut f: F,
    x0: &[f64],
    lower: &[f64],
    upper: &[f64],
    opts: &Options,
) -> Minimum
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x0.len();
    let mut x = x0.to_vec();
    project(&mut x, lower, upper);
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    let mut evals = 1;
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Minimum { x, f: if fx.is_nan() { f64::INFINITY } else { fx } };
    }
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut alpha = vec![0.0; opts.memory];
    for _ in 0..opts.max_iters {
        let free: Vec<bool> = (0..n).map(|i| !pinned(x[i], g[i], lower[i], upper[i])).collect();
        let pg = (0..n).filter(|&i| free[i]).map(|i| g[i].abs()).fold(0.0, f64::max);
        if pg <= opts.pgtol {
            break;
        }
        // Two-loop recursion, restricted to the free variables.
        for i in 0..n {
            d[i] = if free[i] { -g[i] } else { 0.0 };
        }
        let masked = |v: &[f64], w: &[f64]| -> f64 {
            (0..n).filter(|&i| free[i]).map(|i| v[i] * w[i]).sum()
        };
        let k = s_hist.len();
        let mut rho = vec![0.0; k];
        for j in (0..k).rev() {
            let sy = masked(&s_hist[j], &y_hist[j]);
            rho[j] = if sy > 1e-300 { 1.0 / sy } else { 0.0 };
            alpha[j] = rho[j] * masked(&s_hist[j], &d);
            for i in 0..n {
                if free[i] {
                    d[i] -= alpha[j] * y_hist[j][i];
                }
            }
        }
        if k > 0 {
            let (s, y) = (&s_hist[k - 1], &y_hist[k - 1]);
            let (sy, yy) = (masked(s, y), masked(y, y));
            if sy > 0.0 && yy > 0.0 {
                let gamma = sy / yy;
                d.iter_mut().for_each(|v| *v *= gamma);
            }
        }
        for j in 0..k {
            let beta = rho[j] * masked(&y_hist[j], &d);
            for i in 0..n {
                if free[i] {
                    d[i] += (alpha[j] - beta) * s_hist[j][i];
                }
            }
        }
        if dot(&d, &g).partial_cmp(&0.0) != Some(std::cmp::Ordering::Less) {
            // Not a descent direction (stale memory): fall back on steepest descent.
            s_hist.clear();
            y_hist.clear();
            for i in 0..n {
                d[i] = if free[i] { -g[i] } else { 0.0 };
            }
        }
        // The first step of steepest descent is scaled to a unit move.
        let dnorm = d.iter().map(|v| v.abs()).fold(0.0, f64::max);
        let mut t = if s_hist.is_empty() && dnorm > 0.0 { (1.0 / dnorm).min(1.0) } else { 1.0 };
        let mut accepted = false;
        let mut f_new = f64::INFINITY;
        for _ in 0..30 {
            if evals >= opts.max_evals {
                break;
            }
            for i in 0..n {
                x_new[i] = x[i] + t * d[i];
            }
            project(&mut x_new, lower, upper);
            let moved: f64 = (0..n).map(|i| g[i] * (x_new[i] - x[i])).sum();
            f_new = f(&x_new, &mut g_new);
            evals += 1;
            if f_new.is_finite()
                && g_new.iter().all(|v| v.is_finite())
                && f_new <= fx + 1e-4 * moved.min(0.0)
                && moved < 0.0
            {
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            if s_hist.is_empty() || evals >= opts.max_evals {
                break;
            }
            // Retry from steepest descent before giving up.
            s_hist.clear();
            y_hist.clear();
            continue;
        }
        let s: Vec<f64> = (0..n).map(|i| x_new[i] - x[i]).collect();
        let y: Vec<f64> = (0..n).map(|i| g_new[i] - g[i]).collect();
        let decrease = fx - f_new;
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        fx = f_new;
        if dot(&s, &y) > 1e-12 * dot(&y, &y).max(1e-300) {
            if s_hist.len() == opts.memory {
                s_hist.remove(0);
                y_hist.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
        }
        if decrease <= opts.ftol * fx.abs().max(1.0) || evals >= opts.max_evals {
            break;
        }
    }
    Minimum { x, f: fx }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_quadratic_stops_on_its_active_bounds() {
        // Minimum of sum (x_i - c_i)^2 w_i at c, clipped to the box [0, 1]^4.
        let c = [0.3, -2.0, 1.7, 0.9];
        let w = [1.0, 10.0, 0.1, 100.0];
        let f = |x: &[f64], g: &mut [f64]| {
            let mut v = 0.0;
            for i in 0..4 {
                v += w[i] * (x[i] - c[i]).powi(2);
                g[i] = 2.0 * w[i] * (x[i] - c[i]);
            }
            v
        };
        let lo = [0.0; 4];
        let hi = [1.0; 4];
        let m = minimize(f, &[0.5; 4], &lo, &hi, &Options::default());
        let want = [0.3, 0.0, 1.0, 0.9];
        for (got, want) in m.x.iter().zip(want) {
            assert!((got - want).abs() < 1e-6, "{:?}", m.x);
        }
    }

    #[test]
    fn rosenbrock_with_an_active_bound() {
        // Unconstrained minimum (1, 1) lies outside x0 <= 0.5: the bounded minimum is on
        // x0 = 0.5, x1 = 0.25.
        let f = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let opts = Options { max_iters: 500, max_evals: 2000, ..Options::default() };
        let m = minimize(f, &[-1.2, 1.0], &[-2.0, -2.0], &[0.5, 2.0], &opts);
        assert!((m.x[0] - 0.5).abs() < 1e-6 && (m.x[1] - 0.25).abs() < 1e-4, "{:?}", m.x);
        // And unbounded in practice: the true minimum.
        let m = minimize(f, &[-1.2, 1.0], &[-5.0, -5.0], &[5.0, 5.0], &opts);
        assert!((m.x[0] - 1.0).abs() < 1e-4 && (m.x[1] - 1.0).abs() < 1e-4, "{:?}", m.x);
    }

    #[test]
    fn non_finite_values_are_stepped_around() {
        // Undefined (infinite) for x < 0.2: the search must stay where it is defined.
        let f = |x: &[f64], g: &mut [f64]| {
            if x[0] < 0.2 {
                return f64::INFINITY;
            }
            g[0] = 2.0 * x[0];
            x[0] * x[0]
        };
        let m = minimize(f, &[0.9], &[-1.0], &[1.0], &Options::default());
        assert!(m.f.is_finite() && m.x[0] >= 0.2 && m.x[0] < 0.9, "{:?}", m);
    }
}

//! The Gaussian-process regression model: hyperparameter fit and posterior.
//!
//! Observations are standardized by the caller (mean 0, standard deviation 1) and inputs
//! normalized to `[0, 1]` (categoricals as choice indices). Hyperparameters are fitted by
//! maximizing the log marginal likelihood plus a log prior (a maximum a posteriori fit), with
//! analytic gradients, by [L-BFGS-B](crate::math::lbfgsb) over the logarithms of the parameters.
//!
//! Priors (in the spirit of Optuna's GP sampler): on each inverse squared length scale `λ`,
//! `−0.1/λ − 0.1·λ` (keeps length scales away from both 0 and infinity); a Gamma(2, 1) on the
//! signal variance; a Gamma(1.1, 30) on the noise variance (small noise is likely, large noise
//! possible).

use nalgebra::{DMatrix, DVector};

use super::kernel::{delta2, matern52, scaled_dist, KernelParams};
use crate::math::{cholesky, lbfgsb};

/// Smallest noise variance (standardized units): keeps the Cholesky factorization stable.
pub(crate) const MIN_NOISE: f64 = 1e-6;
/// Bounds of `ln λ`, `ln σ²` and `ln noise`.
const LN_LAMBDA: (f64, f64) = (-9.2, 9.2);
const LN_SIGNAL: (f64, f64) = (-6.9, 6.9);
const LN_NOISE_HIGH: f64 = 0.0;

/// The default starting point: unit inverse length scales and signal, noise 0.01.
pub(crate) fn default_theta(d: usize, fixed_noise: bool) -> Vec<f64> {
    let mut t = vec![0.0; d + 1];
    if !fixed_noise {
        t.push((0.01f64).ln());
    }
    t
}

/// Observations for a model.
#[derive(Debug, Clone)]
pub(crate) struct Data<'a> {
    /// `n × d` inputs, row by row.
    pub x: &'a [f64],
    /// `n` standardized targets.
    pub y: &'a [f64],
    /// Which of the `d` dimensions are categorical.
    pub cat: &'a [bool],
    /// Rows from this one on are fantasized (believed exactly): their noise is the minimum.
    pub exact_from: usize,
}

impl Data<'_> {
    fn d(&self) -> usize {
        self.cat.len()
    }

    fn n(&self) -> usize {
        self.y.len()
    }

    fn row(&self, i: usize) -> &[f64] {
        let d = self.d();
        &self.x[i * d..(i + 1) * d]
    }
}

fn params_of(theta: &[f64], d: usize) -> KernelParams {
    KernelParams {
        inv_sq_ls: theta[..d].iter().map(|t| t.exp()).collect(),
        signal: theta[d].exp(),
        noise: theta.get(d + 1).map_or(MIN_NOISE, |t| t.exp().max(MIN_NOISE)),
    }
}

/// The kernel matrix with noise on the diagonal (row-major).
fn gram(data: &Data<'_>, p: &KernelParams) -> Vec<f64> {
    let n = data.n();
    let mut k = vec![0.0; n * n];
    for i in 0..n {
        k[i * n + i] = p.signal + if i < data.exact_from { p.noise } else { MIN_NOISE };
        let xi = data.row(i);
        for j in 0..i {
            let v = p.signal * matern52(scaled_dist(xi, data.row(j), &p.inv_sq_ls, data.cat)).0;
            k[i * n + j] = v;
            k[j * n + i] = v;
        }
    }
    k
}

/// Minus the log posterior of `theta` (log marginal likelihood plus log prior), and its gradient.
fn neg_log_posterior(data: &Data<'_>, theta: &[f64], grad: &mut [f64]) -> f64 {
    neg_log_posterior_solved(data, theta, grad).0
}

/// `α = K⁻¹y` and `K⁻¹` (row-major) at some hyperparameters.
type Solved = (Vec<f64>, Vec<f64>);

/// [`neg_log_posterior`], also returning what conditioning on `data` at `theta` needs.
fn neg_log_posterior_solved(
    data: &Data<'_>,
    theta: &[f64],
    grad: &mut [f64],
) -> (f64, Option<Solved>) {
    let (n, d) = (data.n(), data.d());
    let p = params_of(theta, d);
    let Some(l) = cholesky::factor(&gram(data, &p), n) else {
        return (f64::INFINITY, None);
    };
    let mut alpha = data.y.to_vec();
    cholesky::solve(&l, n, &mut alpha);
    let logdet: f64 = (0..n).map(|i| l[i * n + i].ln()).sum::<f64>() * 2.0;
    let fit = 0.5 * cholesky::dot(data.y, &alpha);
    let nll = fit + 0.5 * logdet + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    let kinv = cholesky::inverse(&l, n);
    // d nll / dθ = −½ Σ_ik (α_i α_k − K⁻¹_ik) ∂K_ik/∂θ.
    grad.iter_mut().for_each(|g| *g = 0.0);
    let mut g_signal = 0.0;
    let mut trace_w = 0.0;
    let mut dd = vec![0.0; d];
    for i in 0..n {
        let xi = data.row(i);
        let wii = alpha[i] * alpha[i] - kinv[i * n + i];
        if i < data.exact_from {
            trace_w += wii;
        }
        g_signal += wii * p.signal;
        for k in 0..i {
            let xk = data.row(k);
            let mut s = 0.0;
            for j in 0..d {
                dd[j] = delta2(xi[j], xk[j], data.cat[j]);
                s += p.inv_sq_ls[j] * dd[j];
            }
            let (m, dm) = matern52(s);
            // Off-diagonal pairs count twice.
            let w = 2.0 * (alpha[i] * alpha[k] - kinv[i * n + k]);
            g_signal += w * p.signal * m;
            let wd = w * p.signal * dm;
            for j in 0..d {
                grad[j] += wd * dd[j];
            }
        }
    }
    for (g, lam) in grad.iter_mut().zip(&p.inv_sq_ls) {
        *g *= -0.5 * lam;
    }
    grad[d] = -0.5 * g_signal;
    if theta.len() > d + 1 {
        grad[d + 1] = -0.5 * trace_w * p.noise;
    }
    // Log prior and its gradient in the log parameters.
    let mut prior = 0.0;
    for (g, &lam) in grad.iter_mut().zip(&p.inv_sq_ls) {
        prior += -0.1 / lam - 0.1 * lam;
        *g -= 0.1 / lam - 0.1 * lam;
    }
    prior += p.signal.ln() - p.signal;
    grad[d] -= 1.0 - p.signal;
    if theta.len() > d + 1 {
        prior += 0.1 * p.noise.ln() - 30.0 * p.noise;
        grad[d + 1] -= 0.1 - 30.0 * p.noise;
    }
    (nll - prior, Some((alpha, kinv)))
}

/// Work allowed to a warm-started fit, in units of n³ (a factorization and inverse cost about
/// ⅔·n³ multiply-adds): about 30 evaluations at n = 100, 4 at 200, and at least 2 (a start and
/// one step) from n ≈ 250 on. The fit is amortized over trials: each trial's fit starts where
/// the previous one stopped, and one new observation moves the optimum little, so a few steps
/// per trial keep it close to the optimum.
const WARM_FIT_WORK: f64 = 3e7;
/// Up to this many observations the default start is compared with the warm start each trial;
/// above, only while there is no warm start (the comparison costs two factorizations).
const COMPARE_DEFAULT_UP_TO: usize = 150;

/// Fits the hyperparameters (maximum a posteriori); returns the fitted `theta` (logarithms)
/// and, when at hand, the solves at `theta` for [`Gp::from_solved`].
///
/// The start: `warm` (the previous trial's fit) when given, unless the default start is better
/// (compared on histories of up to 150 observations); the default start otherwise. A cold fit
/// may take `max_iters` iterations; a warm one is also held to a work budget that shrinks as
/// `n³` grows (at least 2 evaluations).
pub(crate) fn fit_theta(
    data: &Data<'_>,
    warm: Option<&[f64]>,
    fixed_noise: bool,
    max_iters: usize,
) -> (Vec<f64>, Option<Solved>) {
    fit_theta_in(data, warm, fixed_noise, MIN_NOISE, max_iters)
}

/// [`fit_theta`] (cold, noise fitted) with the noise variance held at `noise_floor` or above:
/// for observations whose noise is known (the regret bound of "good enough" stopping).
pub(crate) fn fit_theta_noise_floor(
    data: &Data<'_>,
    noise_floor: f64,
    max_iters: usize,
) -> (Vec<f64>, Option<Solved>) {
    let floor = if noise_floor.is_finite() { noise_floor.max(MIN_NOISE) } else { MIN_NOISE };
    fit_theta_in(data, None, false, floor, max_iters)
}

fn fit_theta_in(
    data: &Data<'_>,
    warm: Option<&[f64]>,
    fixed_noise: bool,
    noise_floor: f64,
    max_iters: usize,
) -> (Vec<f64>, Option<Solved>) {
    let d = data.d();
    let mut lower = vec![LN_LAMBDA.0; d];
    let mut upper = vec![LN_LAMBDA.1; d];
    lower.push(LN_SIGNAL.0);
    upper.push(LN_SIGNAL.1);
    let mut default = default_theta(d, fixed_noise);
    if !fixed_noise {
        let low = noise_floor.ln();
        lower.push(low);
        upper.push(LN_NOISE_HIGH.max(low));
        if let Some(t) = default.last_mut() {
            *t = t.max(low);
        }
    }
    let mut grad = vec![0.0; default.len()];
    let mut start = default.clone();
    let mut max_evals = 2 * max_iters + 5;
    if let Some(w) = warm.filter(|w| w.len() == default.len() && w.iter().all(|v| v.is_finite())) {
        let n = data.n();
        start = w.to_vec();
        if n <= COMPARE_DEFAULT_UP_TO {
            let f_default = neg_log_posterior(data, &default, &mut grad);
            let f_warm = neg_log_posterior(data, w, &mut grad);
            if !f_warm.is_finite() || f_default < f_warm {
                start = default.clone();
            }
        }
        let budget = (WARM_FIT_WORK / (n as f64).powi(3)).max(2.0);
        max_evals = max_evals.min(budget as usize);
    }
    let opts = lbfgsb::Options {
        max_iters,
        max_evals,
        pgtol: 1e-2,
        ftol: 1e-9,
        ..lbfgsb::Options::default()
    };
    // The best evaluation's solves are kept: conditioning the model on the fitted
    // hyperparameters then needs no further factorization.
    let mut best: Option<(f64, Vec<f64>, Solved)> = None;
    let m = lbfgsb::minimize(
        |t, g| {
            let (f, solved) = neg_log_posterior_solved(data, t, g);
            if let Some(solved) = solved {
                let better = match &best {
                    Some(b) => f < b.0,
                    None => f.is_finite(),
                };
                if better {
                    best = Some((f, t.to_vec(), solved));
                }
            }
            f
        },
        &start,
        &lower,
        &upper,
        &opts,
    );
    let theta = if m.f.is_finite() { m.x } else { start };
    let solved = best.filter(|b| b.1 == theta).map(|b| b.2);
    (theta, solved)
}

/// A Gaussian process conditioned on observations with fixed hyperparameters.
#[derive(Debug, Clone)]
pub(crate) struct Gp {
    d: usize,
    cat: Vec<bool>,
    x: Vec<f64>,
    params: KernelParams,
    alpha: DVector<f64>,
    kinv: DMatrix<f64>,
}

impl Gp {
    /// Conditions on `data` with hyperparameters `theta`; `None` if the kernel matrix is not
    /// positive definite even with extra jitter.
    pub(crate) fn new(data: &Data<'_>, theta: &[f64]) -> Option<Gp> {
        let d = data.d();
        let mut params = params_of(theta, d);
        let n = data.n();
        let mut l = None;
        for _ in 0..4 {
            l = cholesky::factor(&gram(data, &params), n);
            if l.is_some() {
                break;
            }
            params.noise = (params.noise * 100.0).max(1e-6);
        }
        let l = l?;
        let mut alpha = data.y.to_vec();
        cholesky::solve(&l, n, &mut alpha);
        let alpha = DVector::from_vec(alpha);
        // Symmetric: row-major and column-major read the same.
        let kinv = DMatrix::from_vec(n, n, cholesky::inverse(&l, n));
        Some(Gp { d, cat: data.cat.to_vec(), x: data.x.to_vec(), params, alpha, kinv })
    }

    /// Conditions on `data` with the solves that [`fit_theta`] returned for `theta`.
    pub(crate) fn from_solved(data: &Data<'_>, theta: &[f64], solved: Solved) -> Gp {
        let n = data.n();
        let (alpha, kinv) = solved;
        Gp {
            d: data.d(),
            cat: data.cat.to_vec(),
            x: data.x.to_vec(),
            params: params_of(theta, data.d()),
            alpha: DVector::from_vec(alpha),
            kinv: DMatrix::from_vec(n, n, kinv),
        }
    }

    /// The hyperparameters.
    #[cfg(test)]
    pub(crate) fn params(&self) -> &KernelParams {
        &self.params
    }

    fn n(&self) -> usize {
        self.alpha.len()
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// Posterior means and variances (of the latent function) at `m` points (`m × d`, rows).
    pub(crate) fn predict(&self, xs: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (n, d) = (self.n(), self.d);
        let m = xs.len() / d.max(1);
        let mut ks = DMatrix::zeros(n, m);
        for c in 0..m {
            let x = &xs[c * d..(c + 1) * d];
            for i in 0..n {
                ks[(i, c)] = self.params.signal
                    * matern52(scaled_dist(x, self.row(i), &self.params.inv_sq_ls, &self.cat)).0;
            }
        }
        let v = &self.kinv * &ks;
        let mut mean = Vec::with_capacity(m);
        let mut var = Vec::with_capacity(m);
        for c in 0..m {
            let kc = ks.column(c);
            mean.push(kc.dot(&self.alpha));
            var.push((self.params.signal - kc.dot(&v.column(c))).max(0.0));
        }
        (mean, var)
    }

    /// Posterior mean and variance at one point, with their gradients in the dimensions `dims`
    /// (numeric ones) written to `dmean` and `dvar`.
    pub(crate) fn predict_grad(
        &self,
        x: &[f64],
        dims: &[usize],
        dmean: &mut [f64],
        dvar: &mut [f64],
    ) -> (f64, f64) {
        let n = self.n();
        let p = &self.params;
        let mut k = DVector::zeros(n);
        let mut dk = vec![0.0; n];
        for i in 0..n {
            let (m, dm) = matern52(scaled_dist(x, self.row(i), &p.inv_sq_ls, &self.cat));
            k[i] = p.signal * m;
            dk[i] = p.signal * dm;
        }
        let v = &self.kinv * &k;
        let mean = k.dot(&self.alpha);
        let var = (p.signal - k.dot(&v)).max(0.0);
        for (o, &j) in dims.iter().enumerate() {
            // ∂k_i/∂x_j = k'(s_i) · λ_j · 2 (x_j − X_ij).
            let (mut gm, mut gv) = (0.0, 0.0);
            for i in 0..n {
                let dki = dk[i] * p.inv_sq_ls[j] * 2.0 * (x[j] - self.x[i * self.d + j]);
                gm += self.alpha[i] * dki;
                gv -= 2.0 * v[i] * dki;
            }
            dmean[o] = gm;
            dvar[o] = gv;
        }
        (mean, var)
    }

    /// The posterior mean at `m` points (for fantasized observations).
    pub(crate) fn mean(&self, xs: &[f64]) -> Vec<f64> {
        let (n, d) = (self.n(), self.d);
        let m = xs.len() / d.max(1);
        (0..m)
            .map(|c| {
                let x = &xs[c * d..(c + 1) * d];
                (0..n)
                    .map(|i| {
                        self.alpha[i]
                            * self.params.signal
                            * matern52(scaled_dist(
                                x,
                                self.row(i),
                                &self.params.inv_sq_ls,
                                &self.cat,
                            ))
                            .0
                    })
                    .sum()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn sample_data(n: usize, d: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<bool>) {
        let mut rng = Rng::new(seed);
        let cat: Vec<bool> = (0..d).map(|j| j == d - 1).collect();
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let row: Vec<f64> =
                (0..d).map(|j| if cat[j] { rng.below(3) as f64 } else { rng.uniform() }).collect();
            y.push((3.0 * row[0]).sin() + row[1] * row[1] + 0.3 * row[d - 1] + 0.01 * rng.normal());
            x.extend(row);
        }
        (x, y, cat)
    }

    #[test]
    fn the_posterior_gradient_matches_finite_differences() {
        let (x, y, cat) = sample_data(25, 3, 1);
        let data = Data { x: &x, y: &y, cat: &cat, exact_from: usize::MAX };
        let theta = fit_theta(&data, None, false, 50).0;
        let gp = Gp::new(&data, &theta).unwrap();
        let pt = [0.37, 0.61, 1.0];
        let dims = [0, 1];
        let (mut dm, mut dv) = ([0.0; 2], [0.0; 2]);
        let (m0, v0) = gp.predict_grad(&pt, &dims, &mut dm, &mut dv);
        let (pm, pv) = gp.predict(&pt);
        assert!((pm[0] - m0).abs() < 1e-9 && (pv[0] - v0).abs() < 1e-9);
        for (o, &j) in dims.iter().enumerate() {
            let h = 1e-6;
            let (mut a, mut b) = (pt, pt);
            a[j] += h;
            b[j] -= h;
            let (ma, va) = gp.predict(&a);
            let (mb, vb) = gp.predict(&b);
            let fm = (ma[0] - mb[0]) / (2.0 * h);
            let fv = (va[0] - vb[0]) / (2.0 * h);
            assert!((fm - dm[o]).abs() < 1e-4 * (1.0 + fm.abs()), "mean {fm} vs {}", dm[o]);
            assert!((fv - dv[o]).abs() < 1e-4 * (1.0 + fv.abs()), "var {fv} vs {}", dv[o]);
        }
    }

    #[test]
    fn the_log_posterior_gradient_matches_finite_differences() {
        let (x, y, cat) = sample_data(30, 4, 2);
        let data = Data { x: &x, y: &y, cat: &cat, exact_from: usize::MAX };
        for theta in [vec![0.3, -0.5, 1.2, 0.0, 0.2, -3.0], vec![-1.0, 2.0, 0.5, -0.7, -0.4, -8.0]]
        {
            let mut g = vec![0.0; theta.len()];
            neg_log_posterior(&data, &theta, &mut g);
            let mut scratch = g.clone();
            for p in 0..theta.len() {
                let h = 1e-5;
                let (mut a, mut b) = (theta.clone(), theta.clone());
                a[p] += h;
                b[p] -= h;
                let fd = (neg_log_posterior(&data, &a, &mut scratch)
                    - neg_log_posterior(&data, &b, &mut scratch))
                    / (2.0 * h);
                assert!((fd - g[p]).abs() < 1e-4 * (1.0 + fd.abs()), "param {p}: {fd} vs {}", g[p]);
            }
        }
    }

    #[test]
    fn the_fit_finds_short_scales_on_relevant_dimensions_and_small_noise() {
        // y depends on dimension 0 strongly, not at all on dimension 1.
        let mut rng = Rng::new(5);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..40 {
            let (a, b) = (rng.uniform(), rng.uniform());
            x.extend([a, b]);
            y.push((6.0 * a).sin());
        }
        let mean = y.iter().sum::<f64>() / 40.0;
        let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 40.0).sqrt();
        let y: Vec<f64> = y.iter().map(|v| (v - mean) / sd).collect();
        let cat = [false, false];
        let data = Data { x: &x, y: &y, cat: &cat, exact_from: usize::MAX };
        let (theta, solved) = fit_theta(&data, None, false, 100);
        assert!(solved.is_some());
        let gp = Gp::new(&data, &theta).unwrap();
        let p = gp.params();
        assert!(p.inv_sq_ls[0] > 10.0 * p.inv_sq_ls[1], "{p:?}");
        assert!(p.noise < 1e-2, "{p:?}");
        // Interpolates: the prediction at a new point is close.
        let (m, _) = gp.predict(&[0.5, 0.5]);
        let want = ((6.0f64 * 0.5).sin() - mean) / sd;
        assert!((m[0] - want).abs() < 0.1, "{} vs {want}", m[0]);
    }
}

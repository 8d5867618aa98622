//! The CMA-ES state and its ask/tell steps: the (μ/μ_w, λ)-CMA-ES of Hansen's tutorial ("The
//! CMA Evolution Strategy: A Tutorial", 2016), with a full covariance matrix or a diagonal one
//! (sep-CMA-ES, Ros & Hansen 2008), and the diagonal matrix `A` of CMA-ES with margin.
//!
//! Coordinates are whatever the caller gives; the sampler uses the unit box. Only positive
//! recombination weights are used (no active update).

// Index loops over coordinates read as the tutorial's formulas.
#![allow(clippy::needless_range_loop)]

use nalgebra::{DMatrix, SymmetricEigen};

use crate::rng::Rng;

/// The strategy's constants for one dimension and population size (tutorial, table 1).
#[derive(Debug, Clone)]
pub(crate) struct Params {
    /// Population size λ.
    pub(crate) lambda: usize,
    /// Recombination weights of the μ best, positive, summing to 1.
    pub(crate) weights: Vec<f64>,
    /// Variance-effective selection mass `1 / Σ w²`.
    pub(crate) mu_eff: f64,
    c_sigma: f64,
    d_sigma: f64,
    c_c: f64,
    c1: f64,
    c_mu: f64,
    /// `E‖N(0, I)‖`.
    chi_n: f64,
    /// Generations between eigendecompositions (the tutorial's lazy update).
    eigen_every: usize,
}

impl Params {
    /// The defaults for dimension `d` and population `lambda` (at least 2); `separable` scales the
    /// covariance learning rates by `(d + 2) / 3` (Ros & Hansen 2008).
    pub(crate) fn new(d: usize, lambda: usize, separable: bool) -> Params {
        let n = d as f64;
        let lambda = lambda.max(2);
        let mu = lambda / 2;
        let raw: Vec<f64> = (1..=mu)
            .map(|i| ((lambda as f64 + 1.0) / 2.0).ln() - (i as f64).ln())
            .map(|w| w.max(0.0))
            .collect();
        let total: f64 = raw.iter().sum();
        let weights: Vec<f64> = if total > 0.0 {
            raw.iter().map(|w| w / total).collect()
        } else {
            vec![1.0 / mu as f64; mu]
        };
        let mu_eff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
        let c_sigma = (mu_eff + 2.0) / (n + mu_eff + 5.0);
        let d_sigma = 1.0 + 2.0 * (((mu_eff - 1.0) / (n + 1.0)).sqrt() - 1.0).max(0.0) + c_sigma;
        let c_c = (4.0 + mu_eff / n) / (n + 4.0 + 2.0 * mu_eff / n);
        let mut c1 = 2.0 / ((n + 1.3).powi(2) + mu_eff);
        let mut c_mu = (2.0 * (mu_eff - 2.0 + 1.0 / mu_eff) / ((n + 2.0).powi(2) + mu_eff))
            .min(1.0 - c1)
            .max(0.0);
        if separable {
            let scale = (n + 2.0) / 3.0;
            c1 = (c1 * scale).min(1.0);
            c_mu = (c_mu * scale).min(1.0 - c1).max(0.0);
        }
        let chi_n = n.sqrt() * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n));
        let eigen_every = (1.0 / (10.0 * n * (c1 + c_mu))).floor().max(1.0) as usize;
        Params { lambda, weights, mu_eff, c_sigma, d_sigma, c_c, c1, c_mu, chi_n, eigen_every }
    }
}

/// The covariance matrix and the factors sampling uses: `C = B diag(D²) Bᵀ`.
#[derive(Debug, Clone)]
enum Cov {
    Full {
        c: DMatrix<f64>,
        b: DMatrix<f64>,
        /// Square roots of the eigenvalues.
        d: Vec<f64>,
        /// Generation of the last decomposition.
        decomposed_at: usize,
    },
    /// sep-CMA-ES: the diagonal only.
    Diagonal { c: Vec<f64> },
}

/// Why a run should stop (and, with IPOP, restart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The best values of recent generations and the last generation's values span < 1e-12.
    TolFun,
    /// Every coordinate's standard deviation and evolution path is below 1e-12.
    TolX,
    /// The covariance matrix's condition number exceeds 1e14.
    ConditionCov,
    /// The median best value of recent generations is no better than of older ones.
    Stagnation,
    /// The step size blew up, or the state is no longer finite.
    Diverged,
}

/// One run of CMA-ES: mean, step size, covariance, evolution paths.
#[derive(Debug, Clone)]
pub struct Strategy {
    params: Params,
    mean: Vec<f64>,
    sigma: f64,
    cov: Cov,
    p_sigma: Vec<f64>,
    p_c: Vec<f64>,
    /// Margin's diagonal scaling of the sampled steps (all 1 without margin).
    a: Vec<f64>,
    generation: usize,
    /// Best value of each generation, for the termination criteria.
    best_history: Vec<f64>,
    /// The values of the last generation told.
    last_values: Vec<f64>,
}

impl Strategy {
    /// A run in `mean.len()` dimensions with population `lambda`, step size `sigma` and
    /// covariance `cov` (the identity when `None`; only its diagonal when `separable`).
    pub(crate) fn new(
        mean: Vec<f64>,
        sigma: f64,
        lambda: usize,
        separable: bool,
        cov: Option<DMatrix<f64>>,
    ) -> Strategy {
        let d = mean.len();
        let params = Params::new(d, lambda, separable);
        let cov = match (separable, cov) {
            (true, Some(c)) => Cov::Diagonal { c: (0..d).map(|i| c[(i, i)]).collect() },
            (true, None) => Cov::Diagonal { c: vec![1.0; d] },
            (false, c) => {
                let c = c.unwrap_or_else(|| DMatrix::identity(d, d));
                let mut cov =
                    Cov::Full { c, b: DMatrix::identity(d, d), d: vec![1.0; d], decomposed_at: 0 };
                decompose(&mut cov, 0);
                cov
            }
        };
        Strategy {
            params,
            mean,
            sigma,
            cov,
            p_sigma: vec![0.0; d],
            p_c: vec![0.0; d],
            a: vec![1.0; d],
            generation: 0,
            best_history: Vec::new(),
            last_values: Vec::new(),
        }
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The population size λ: how many solutions make one generation.
    pub fn population_size(&self) -> usize {
        self.params.lambda
    }

    /// The mean.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The step size σ.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// `C_ii`.
    pub(crate) fn cov_diag(&self, i: usize) -> f64 {
        match &self.cov {
            Cov::Full { c, .. } => c[(i, i)],
            Cov::Diagonal { c } => c[i],
        }
    }

    /// The standard deviation of coordinate `i` of a sample: `σ A_ii √C_ii`.
    pub(crate) fn marginal_std(&self, i: usize) -> f64 {
        self.sigma * self.a[i] * self.cov_diag(i).max(0.0).sqrt()
    }

    /// Margin's scaling `A_ii`.
    pub(crate) fn a(&self, i: usize) -> f64 {
        self.a[i]
    }

    /// Margin's corrections: moves coordinate `i` of the mean and sets `A_ii`.
    pub(crate) fn set_margin(&mut self, i: usize, mean: f64, a: f64) {
        self.mean[i] = mean;
        self.a[i] = a;
    }

    /// Draws one solution: `m + σ A B D z` with `z ~ N(0, I)`.
    pub fn sample(&self, rng: &mut Rng, out: &mut [f64]) {
        let n = self.dim();
        let z: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        match &self.cov {
            Cov::Full { b, d, .. } => {
                for (i, o) in out.iter_mut().enumerate().take(n) {
                    let mut y = 0.0;
                    for k in 0..n {
                        y += b[(i, k)] * d[k] * z[k];
                    }
                    *o = self.mean[i] + self.sigma * self.a[i] * y;
                }
            }
            Cov::Diagonal { c } => {
                for i in 0..n {
                    out[i] = self.mean[i] + self.sigma * self.a[i] * c[i].max(0.0).sqrt() * z[i];
                }
            }
        }
    }

    /// Draws a solution inside `[0, 1]^d`: up to `tries` draws, then the last one clipped.
    pub fn sample_in_unit_box(&self, rng: &mut Rng, tries: usize, out: &mut [f64]) {
        for _ in 0..tries.max(1) {
            self.sample(rng, out);
            if out.iter().all(|x| (0.0..=1.0).contains(x)) {
                return;
            }
        }
        for x in out.iter_mut() {
            *x = if x.is_nan() { 0.5 } else { x.clamp(0.0, 1.0) };
        }
    }

    /// `C^(-1/2) y`, from the last decomposition.
    fn inv_sqrt_times(&self, y: &[f64]) -> Vec<f64> {
        let n = self.dim();
        match &self.cov {
            Cov::Full { b, d, .. } => {
                // B D⁻¹ Bᵀ y
                let mut t = vec![0.0; n];
                for k in 0..n {
                    let mut s = 0.0;
                    for i in 0..n {
                        s += b[(i, k)] * y[i];
                    }
                    t[k] = s / d[k];
                }
                (0..n).map(|i| (0..n).map(|k| b[(i, k)] * t[k]).sum()).collect()
            }
            Cov::Diagonal { c } => (0..n).map(|i| y[i] / c[i].max(1e-300).sqrt()).collect(),
        }
    }

    /// Tells one generation, ranked best first: `xs` the solutions (at least μ of them) and
    /// `values` their values (lower is better; used by the termination criteria). Solutions
    /// need not come from [`sample`](Self::sample): each step is clipped to a Mahalanobis length
    /// of `√d + 2d/(d+2)`, as the tutorial advises for injected solutions. Returns why the run
    /// should stop, if it should.
    pub fn tell(&mut self, xs: &[Vec<f64>], values: &[f64]) -> Option<Stop> {
        let n = self.dim();
        let p = self.params.clone();
        let mu = p.weights.len().min(xs.len());
        let c_y = (n as f64).sqrt() + 2.0 * n as f64 / (n as f64 + 2.0);
        let mut ys: Vec<Vec<f64>> = Vec::with_capacity(mu);
        let mut y_w = vec![0.0; n];
        let mut z_w = vec![0.0; n];
        for (k, x) in xs.iter().take(mu).enumerate() {
            let mut y: Vec<f64> =
                (0..n).map(|i| (x[i] - self.mean[i]) / (self.sigma * self.a[i])).collect();
            let mut z = self.inv_sqrt_times(&y);
            let norm = z.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > c_y {
                let s = c_y / norm;
                y.iter_mut().for_each(|v| *v *= s);
                z.iter_mut().for_each(|v| *v *= s);
            }
            let w = p.weights[k];
            for i in 0..n {
                y_w[i] += w * y[i];
                z_w[i] += w * z[i];
            }
            ys.push(y);
        }
        // Fewer than μ solutions (never from the sampler): renormalize what was given.
        let w_sum: f64 = p.weights[..mu].iter().sum();
        if w_sum > 0.0 && (w_sum - 1.0).abs() > 1e-12 {
            y_w.iter_mut().for_each(|v| *v /= w_sum);
            z_w.iter_mut().for_each(|v| *v /= w_sum);
        }

        for i in 0..n {
            self.mean[i] += self.sigma * self.a[i] * y_w[i];
        }
        let cs = (p.c_sigma * (2.0 - p.c_sigma) * p.mu_eff).sqrt();
        for i in 0..n {
            self.p_sigma[i] = (1.0 - p.c_sigma) * self.p_sigma[i] + cs * z_w[i];
        }
        let ps_norm = self.p_sigma.iter().map(|v| v * v).sum::<f64>().sqrt();
        let g = (self.generation + 1) as f64;
        let h_sigma = ps_norm / (1.0 - (1.0 - p.c_sigma).powf(2.0 * g)).sqrt()
            < (1.4 + 2.0 / (n as f64 + 1.0)) * p.chi_n;
        let h = if h_sigma { 1.0 } else { 0.0 };
        let cc = (p.c_c * (2.0 - p.c_c) * p.mu_eff).sqrt();
        for i in 0..n {
            self.p_c[i] = (1.0 - p.c_c) * self.p_c[i] + h * cc * y_w[i];
        }
        let decay = 1.0 - p.c1 - p.c_mu + (1.0 - h) * p.c1 * p.c_c * (2.0 - p.c_c);
        match &mut self.cov {
            Cov::Full { c, .. } => {
                for i in 0..n {
                    for j in 0..=i {
                        let mut rank_mu = 0.0;
                        for (k, y) in ys.iter().enumerate() {
                            rank_mu += p.weights[k] * y[i] * y[j];
                        }
                        let v = decay * c[(i, j)]
                            + p.c1 * self.p_c[i] * self.p_c[j]
                            + p.c_mu * rank_mu / w_sum.max(1e-300);
                        c[(i, j)] = v;
                        c[(j, i)] = v;
                    }
                }
            }
            Cov::Diagonal { c } => {
                for (i, ci) in c.iter_mut().enumerate() {
                    let mut rank_mu = 0.0;
                    for (k, y) in ys.iter().enumerate() {
                        rank_mu += p.weights[k] * y[i] * y[i];
                    }
                    *ci = decay * *ci
                        + p.c1 * self.p_c[i] * self.p_c[i]
                        + p.c_mu * rank_mu / w_sum.max(1e-300);
                }
            }
        }
        let step = ((p.c_sigma / p.d_sigma) * (ps_norm / p.chi_n - 1.0)).min(1.0);
        self.sigma *= step.exp();
        self.generation += 1;
        if let Cov::Full { decomposed_at, .. } = &self.cov {
            if self.generation - *decomposed_at >= p.eigen_every {
                decompose(&mut self.cov, self.generation);
            }
        }
        let best = values.iter().copied().filter(|v| !v.is_nan()).fold(f64::INFINITY, f64::min);
        self.best_history.push(best);
        self.last_values = values.to_vec();
        self.stop()
    }

    /// The termination criteria of the tutorial's appendix (and Auger & Hansen 2005).
    fn stop(&self) -> Option<Stop> {
        let n = self.dim();
        let finite = self.sigma.is_finite()
            && self.sigma > 0.0
            && self.mean.iter().all(|v| v.is_finite())
            && (0..n).all(|i| self.cov_diag(i).is_finite());
        if !finite {
            return Some(Stop::Diverged);
        }
        let (d_min, d_max) = match &self.cov {
            Cov::Full { d, .. } => {
                d.iter().fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)))
            }
            Cov::Diagonal { c } => c
                .iter()
                .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| (lo.min(v.sqrt()), hi.max(v.sqrt()))),
        };
        if self.sigma * d_max > 1e4 {
            return Some(Stop::Diverged);
        }
        if d_min <= 0.0 || (d_max / d_min).powi(2) > 1e14 {
            return Some(Stop::ConditionCov);
        }
        let tol_x = 1e-12;
        if (0..n).all(|i| {
            self.marginal_std(i) < tol_x && self.sigma * self.a[i] * self.p_c[i].abs() < tol_x
        }) {
            return Some(Stop::TolX);
        }
        let lambda = self.params.lambda as f64;
        let window = 10 + (30.0 * n as f64 / lambda).ceil() as usize;
        let h = &self.best_history;
        if h.len() >= window {
            let recent =
                h[h.len() - window..].iter().chain(&self.last_values).filter(|v| v.is_finite());
            let (lo, hi) = recent
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
            if hi - lo < 1e-12 {
                return Some(Stop::TolFun);
            }
        }
        let stagnation = 120 + (30.0 * n as f64 / lambda).ceil() as usize;
        if h.len() >= stagnation {
            let w = &h[h.len() - stagnation..];
            let k = (stagnation / 5).max(1);
            if median(&w[w.len() - k..]) >= median(&w[..k]) {
                return Some(Stop::Stagnation);
            }
        }
        None
    }
}

/// The eigendecomposition `C = B diag(D²) Bᵀ`, eigenvalues kept positive.
fn decompose(cov: &mut Cov, generation: usize) {
    if let Cov::Full { c, b, d, decomposed_at } = cov {
        *decomposed_at = generation;
        let n = c.nrows();
        if let Some(eig) = SymmetricEigen::try_new(c.clone(), 1e-15, 10_000) {
            let max = eig.eigenvalues.iter().fold(0.0_f64, |m, v| m.max(*v));
            if max.is_finite() && max > 0.0 {
                // Round-off can make small eigenvalues negative: floor them far below the rest.
                let floor = max * 1e-20;
                *b = eig.eigenvectors;
                *d = eig.eigenvalues.iter().map(|v| v.max(floor).sqrt()).collect();
                return;
            }
        }
        // A matrix without a usable decomposition: keep the last factors, and let the
        // termination criteria see the problem (non-finite or degenerate values).
        if d.len() != n {
            *d = vec![1.0; n];
            *b = DMatrix::identity(n, n);
        }
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v: Vec<f64> = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_positive_decreasing_and_sum_to_one() {
        for d in [1, 2, 5, 10, 40] {
            let lambda = 4 + (3.0 * (d as f64).ln()).floor() as usize;
            let p = Params::new(d, lambda, false);
            assert_eq!(p.weights.len(), lambda / 2);
            assert!((p.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(p.weights.windows(2).all(|w| w[0] > w[1] && w[1] > 0.0));
            assert!(p.mu_eff >= 1.0 && p.mu_eff <= lambda as f64 / 2.0);
            assert!(p.c1 + p.c_mu <= 1.0 && p.c_sigma < 1.0 && p.c_c <= 1.0);
            let sep = Params::new(d, lambda, true);
            assert!(sep.c1 >= p.c1 && sep.c_mu >= p.c_mu, "sep rates are at least the full ones");
        }
    }

    #[test]
    fn the_decomposition_reproduces_the_covariance() {
        let c = DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0]);
        let s = Strategy::new(vec![0.0; 3], 1.0, 6, false, Some(c.clone()));
        let Cov::Full { b, d, .. } = &s.cov else { panic!("full covariance expected") };
        let dd =
            DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(3, d.iter().map(|v| v * v)));
        let back = b * dd * b.transpose();
        assert!((back - &c).abs().max() < 1e-10);
        // C^(-1/2) applied twice to C's first column gives e_1 back.
        let col: Vec<f64> = (0..3).map(|i| c[(i, 0)]).collect();
        let once = s.inv_sqrt_times(&col);
        let twice = s.inv_sqrt_times(&once);
        assert!((twice[0] - 1.0).abs() < 1e-10 && twice[1].abs() < 1e-10 && twice[2].abs() < 1e-10);
    }

    fn sphere(x: &[f64]) -> f64 {
        x.iter().map(|v| (v - 0.3) * (v - 0.3)).sum()
    }

    fn run(separable: bool, generations: usize) -> (f64, Strategy) {
        let d = 6;
        let mut s = Strategy::new(vec![0.8; d], 0.3, 10, separable, None);
        let mut rng = Rng::new(42);
        let mut best = f64::INFINITY;
        for _ in 0..generations {
            let mut pop: Vec<(Vec<f64>, f64)> = (0..s.population_size())
                .map(|_| {
                    let mut x = vec![0.0; d];
                    s.sample(&mut rng, &mut x);
                    let f = sphere(&x);
                    (x, f)
                })
                .collect();
            pop.sort_by(|a, b| a.1.total_cmp(&b.1));
            best = best.min(pop[0].1);
            let xs: Vec<Vec<f64>> = pop.iter().map(|p| p.0.clone()).collect();
            let fs: Vec<f64> = pop.iter().map(|p| p.1).collect();
            s.tell(&xs, &fs);
        }
        (best, s)
    }

    #[test]
    fn the_bare_strategy_converges_on_a_sphere() {
        for separable in [false, true] {
            let (best, s) = run(separable, 150);
            assert!(best < 1e-10, "separable {separable}: best {best}");
            assert!(s.sigma() < 1e-3, "separable {separable}: sigma {}", s.sigma());
            assert!(s.mean().iter().all(|m| (m - 0.3).abs() < 1e-4));
        }
    }

    #[test]
    fn a_flat_function_stops_the_run() {
        let mut s = Strategy::new(vec![0.5; 3], 0.2, 6, false, None);
        let mut rng = Rng::new(1);
        let mut stop = None;
        for _ in 0..200 {
            let xs: Vec<Vec<f64>> = (0..6)
                .map(|_| {
                    let mut x = vec![0.0; 3];
                    s.sample(&mut rng, &mut x);
                    x
                })
                .collect();
            stop = s.tell(&xs, &[1.0; 6]);
            if stop.is_some() {
                break;
            }
        }
        assert_eq!(stop, Some(Stop::TolFun));
    }
}

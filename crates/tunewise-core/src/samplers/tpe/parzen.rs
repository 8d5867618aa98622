//! Parzen estimators: mixtures of truncated Gaussian (numeric) and weighted categorical kernels,
//! one component per observation plus a prior component, in the model space of each parameter.

use std::sync::Arc;

use crate::distribution::Distribution;
use crate::rng::Rng;

use super::history::order_key;

const LN_2: f64 = std::f64::consts::LN_2;
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// How a parameter is modelled, in model space: log scales are modelled on their logarithm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DimSpec {
    /// Values in `[low, high]`; with a step, only `low + k·step` (the kernels then cover
    /// `[low − step/2, high + step/2]` and a value's mass is that of its cell). With `log_grid`
    /// (log-scaled ints), `low`, `high` and `step` are the grid's on the original scale, the
    /// kernels live on the logarithm of `[low − step/2, high + step/2]`, and a value's mass is
    /// that of its cell's logarithm `[ln(x − step/2), ln(x + step/2)]` (Optuna 5's model).
    Numeric { low: f64, high: f64, step: Option<f64>, log_grid: bool },
    /// Choice indices `0..n`.
    Categorical { n: usize },
}

impl DimSpec {
    /// The model of a distribution: floats on their value (log floats on their logarithm), ints
    /// and stepped floats as grids (log ints as grids of cells on the logarithm of
    /// `[low − step/2, high + step/2]`), categoricals as indices.
    pub(crate) fn of(distribution: &Distribution) -> DimSpec {
        match distribution {
            Distribution::Float(d) if d.log => {
                DimSpec::Numeric { low: d.low.ln(), high: d.high.ln(), step: None, log_grid: false }
            }
            Distribution::Float(d) => {
                DimSpec::Numeric { low: d.low, high: d.max_value(), step: d.step, log_grid: false }
            }
            Distribution::Int(d) if d.log => DimSpec::Numeric {
                low: d.low as f64,
                high: distribution.internal_bounds().1,
                step: Some(d.step as f64),
                log_grid: true,
            },
            Distribution::Int(d) => DimSpec::Numeric {
                low: d.low as f64,
                high: distribution.internal_bounds().1,
                step: Some(d.step as f64),
                log_grid: false,
            },
            Distribution::Categorical(c) => DimSpec::Categorical { n: c.choices.len() },
        }
    }

    /// Internal value → model space.
    pub(crate) fn to_model(distribution: &Distribution, internal: f64) -> f64 {
        if distribution.is_log() {
            internal.ln()
        } else {
            internal
        }
    }

    /// Model space → a valid internal value.
    pub(crate) fn from_model(distribution: &Distribution, y: f64) -> f64 {
        let x = if distribution.is_log() { y.exp() } else { y };
        distribution.snap_internal(x)
    }

    /// Kernel truncation bounds.
    fn support(self) -> (f64, f64) {
        match self {
            DimSpec::Numeric { low, high, step: Some(s), log_grid: true } => {
                ((low - 0.5 * s).ln(), (high + 0.5 * s).ln())
            }
            DimSpec::Numeric { low, high, step: Some(s), .. } => (low - 0.5 * s, high + 0.5 * s),
            DimSpec::Numeric { low, high, step: None, .. } => (low, high),
            DimSpec::Categorical { n } => (0.0, n as f64 - 1.0),
        }
    }
}

/// A parameter with its model.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) name: Arc<str>,
    pub(crate) distribution: Arc<Distribution>,
    pub(crate) spec: DimSpec,
}

impl Column {
    pub(crate) fn new(name: Arc<str>, distribution: Arc<Distribution>) -> Self {
        let spec = DimSpec::of(&distribution);
        Column { name, distribution, spec }
    }
}

/// Fitting settings shared by the good and bad estimators.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FitSettings {
    /// Bandwidth by Scott's rule on the joint space instead of the neighbour rule per dimension.
    pub(crate) scott: bool,
    pub(crate) prior_weight: f64,
    pub(crate) consider_endpoints: bool,
}

#[derive(Debug)]
enum DimModel {
    Numeric {
        lo: f64,
        hi: f64,
        step: Option<f64>,
        /// Cells on the logarithm of a grid of the original scale (log ints).
        log_grid: bool,
        mu: Vec<f64>,
        sigma: Vec<f64>,
        /// Continuous, with one bandwidth for every observation's kernel (Scott's rule).
        shared: Option<Shared>,
        /// Continuous without a shared bandwidth: `1 / (2 σ²)` per kernel.
        half_prec: Vec<f64>,
    },
    Categorical {
        n: usize,
        /// `p[k * n + c]`.
        p: Vec<f64>,
        log_p: Vec<f64>,
    },
}

/// A continuous dimension whose observation kernels share one bandwidth: their exponent
/// `−h (x − μ)²` is expanded into `−h x² + 2 h x μ − h μ²`, so each candidate costs one
/// multiply-add per kernel (the `−h μ²` sits in the component's constant, `−h x²` in the
/// candidate's). Values are centred on the range first, so the expansion loses no precision.
#[derive(Debug)]
struct Shared {
    center: f64,
    h: f64,
    /// Centred centres of the observation kernels (the prior is evaluated apart).
    mu_c: Vec<f64>,
}

/// Buffers reused from one fit to the next, so that a trial does not grow and shrink the heap
/// (freeing a few hundred kilobytes per trial made the allocator hand memory back to the system
/// and fault it in again).
#[derive(Debug, Default)]
pub(crate) struct Pool(Vec<Vec<f64>>);

impl Pool {
    fn take(&mut self) -> Vec<f64> {
        let mut v = self.0.pop().unwrap_or_default();
        v.clear();
        v
    }

    fn give(&mut self, v: Vec<f64>) {
        if self.0.len() < 512 {
            self.0.push(v);
        }
    }

    /// Buffers held.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// Per dimension and trial number, a bad kernel's `(σ, σ·Z, 1/(2σ²))` from the last fit: with
/// the neighbour rule most kernels keep their bandwidth from one trial to the next (only the
/// neighbours of a new or moved observation change, and the magic clip is constant from 99
/// kernels on), so their truncation masses are reused instead of recomputed.
#[derive(Debug, Default)]
pub(crate) struct KernelCache {
    /// The parameters the cache is for.
    pub(crate) columns: Vec<(Arc<str>, Arc<Distribution>)>,
    dims: Vec<Vec<(f64, f64, f64)>>,
}

impl KernelCache {
    /// Makes the cache hold `columns`, emptying it if it held others.
    pub(crate) fn for_columns(&mut self, columns: &[Column]) {
        let same = self.columns.len() == columns.len()
            && self.columns.iter().zip(columns).all(|((n, d), c)| {
                *n == c.name && (Arc::ptr_eq(d, &c.distribution) || **d == *c.distribution)
            });
        if !same {
            self.columns =
                columns.iter().map(|c| (c.name.clone(), c.distribution.clone())).collect();
            self.dims = vec![Vec::new(); columns.len()];
        }
    }
}

/// A fitted mixture over `d` parameters.
#[derive(Debug)]
pub(crate) struct Parzen {
    /// Cumulative normalized weights, for drawing a component.
    cum: Vec<f64>,
    /// Per component: log weight plus every dimension's constant (−log σ − log √2π − log Z for
    /// continuous dimensions, −log Z for stepped ones).
    base: Vec<f64>,
    dims: Vec<DimModel>,
}

impl Parzen {
    /// Fits `rows` (`n × d`, model space, row-major) with one weight per row; the prior
    /// component comes last.
    pub(crate) fn fit(
        specs: &[DimSpec],
        rows: &[f64],
        weights: &[f64],
        settings: &FitSettings,
        pool: &mut Pool,
        orders: Option<&[Vec<usize>]>,
        mut cache: Option<(&mut KernelCache, &[u64])>,
    ) -> Parzen {
        let d = specs.len();
        let n = weights.len();
        debug_assert_eq!(rows.len(), n * d);
        let k = n + 1;
        let mut w = pool.take();
        w.extend_from_slice(weights);
        w.push(settings.prior_weight);
        let total: f64 = w.iter().sum();
        let mut cum = pool.take();
        let mut acc = 0.0;
        for wi in &w {
            acc += wi / total;
            cum.push(acc);
        }
        // The log weights join the truncation masses at the end: one logarithm per component.
        let mut base = pool.take();
        base.resize(k, 0.0);
        let mut dims = Vec::with_capacity(d);
        // Product over the numeric dimensions of each component's truncation mass Z (each at
        // least about a third: the kernel's centre lies in the range, its width at most the
        // range's), so d ≤ 600 dimensions cannot underflow it.
        let mut z_prod = pool.take();
        z_prod.resize(k, 1.0);
        for (j, spec) in specs.iter().enumerate() {
            match *spec {
                DimSpec::Numeric { step, log_grid, .. } => {
                    let (lo, hi) = spec.support();
                    let width = hi - lo;
                    let mut mu = pool.take();
                    mu.extend((0..n).map(|i| rows[i * d + j]));
                    mu.push(0.5 * (lo + hi));
                    let mut sigma = if settings.scott {
                        let s = 0.2 * (n.max(1) as f64).powf(-1.0 / (d as f64 + 4.0)) * width;
                        let mut v = pool.take();
                        v.resize(k, s);
                        v
                    } else {
                        let order = orders
                            .and_then(|o| o.get(j))
                            .map(Vec::as_slice)
                            .filter(|o| o.len() == n);
                        neighbour_bandwidths(&mu, lo, hi, settings.consider_endpoints, order)
                    };
                    sigma[n] = width;
                    // Magic clip (Bergstra et al. 2011): no kernel narrower than the range over
                    // min(100, 1 + kernels), none wider than the range.
                    let min_sigma = width / (1.0 + k as f64).min(100.0);
                    let max_sigma = width;
                    for s in &mut sigma {
                        *s = if width > 0.0 { s.clamp(min_sigma, max_sigma) } else { 1.0 };
                    }
                    // Π_d σ Z: multiplied up, one logarithm per component at the end (taken early
                    // should the product leave [1e-150, 1e150]).
                    let tail = TailTable::get();
                    let continuous = step.is_none();
                    let mut half_prec = pool.take();
                    half_prec.resize(if continuous { k } else { 0 }, 0.0);
                    let mut slots = match &mut cache {
                        Some((kc, numbers)) if kc.dims.len() == d && numbers.len() == n => {
                            Some((&mut kc.dims[j], *numbers))
                        }
                        _ => None,
                    };
                    for c in 0..k {
                        let (m, s) = (mu[c], sigma[c]);
                        if continuous {
                            base[c] -= LN_SQRT_2PI;
                        }
                        let slot = match &mut slots {
                            Some((v, numbers)) if c < n && numbers[c] != u64::MAX => {
                                let i = numbers[c] as usize;
                                if v.len() <= i {
                                    v.resize(i + 1, (f64::NAN, 0.0, 0.0));
                                }
                                Some(&mut v[i])
                            }
                            _ => None,
                        };
                        let f = match slot {
                            Some(e) if e.0 == s => {
                                if continuous {
                                    half_prec[c] = e.2;
                                }
                                e.1
                            }
                            slot => {
                                let iv = 1.0 / s;
                                let hp = 0.5 * iv * iv;
                                if continuous {
                                    half_prec[c] = hp;
                                }
                                let mut f = if continuous { s } else { 1.0 };
                                if (lo..=hi).contains(&m) {
                                    f *=
                                        1.0 - tail.upper((m - lo) * iv) - tail.upper((hi - m) * iv);
                                    if let Some(e) = slot {
                                        *e = (s, f, hp);
                                    }
                                } else {
                                    base[c] -= log_mass((lo - m) * iv, (hi - m) * iv);
                                }
                                f
                            }
                        };
                        let z = z_prod[c] * f;
                        if (1e-150..=1e150).contains(&z) {
                            z_prod[c] = z;
                        } else {
                            base[c] -= z.ln();
                            z_prod[c] = 1.0;
                        }
                    }
                    let shared =
                        (step.is_none() && n > 0 && sigma[..n].iter().all(|s| *s == sigma[0]))
                            .then(|| {
                                let center = 0.5 * (lo + hi);
                                let h = 0.5 / (sigma[0] * sigma[0]);
                                let mut mu_c = pool.take();
                                mu_c.extend(mu[..n].iter().map(|m| m - center));
                                for (b, mc) in base.iter_mut().zip(&mu_c) {
                                    *b -= h * mc * mc;
                                }
                                Shared { center, h, mu_c }
                            });
                    dims.push(DimModel::Numeric {
                        lo,
                        hi,
                        step,
                        log_grid,
                        mu,
                        sigma,
                        shared,
                        half_prec,
                    });
                }
                DimSpec::Categorical { n: choices } => {
                    let mut p = vec![0.0; k * choices];
                    let fill = settings.prior_weight / k as f64;
                    for i in 0..n {
                        let row = &mut p[i * choices..(i + 1) * choices];
                        row.fill(fill);
                        let c = (rows[i * d + j] as usize).min(choices - 1);
                        row[c] += 1.0;
                        let s: f64 = row.iter().sum();
                        row.iter_mut().for_each(|x| *x /= s);
                    }
                    p[n * choices..].fill(1.0 / choices as f64);
                    let log_p = p.iter().map(|x| x.ln()).collect();
                    dims.push(DimModel::Categorical { n: choices, p, log_p });
                }
            }
        }
        for ((b, z), wi) in base.iter_mut().zip(&z_prod).zip(&w) {
            let p = wi / total;
            *b += if p > 0.0 { (p / z).ln() } else { f64::NEG_INFINITY };
        }
        pool.give(w);
        pool.give(z_prod);
        Parzen { cum, base, dims }
    }

    /// Hands the estimator's buffers back to `pool`.
    pub(crate) fn recycle(self, pool: &mut Pool) {
        pool.give(self.cum);
        pool.give(self.base);
        for dim in self.dims {
            match dim {
                DimModel::Numeric { mu, sigma, shared, half_prec, .. } => {
                    pool.give(mu);
                    pool.give(sigma);
                    pool.give(half_prec);
                    if let Some(sh) = shared {
                        pool.give(sh.mu_c);
                    }
                }
                DimModel::Categorical { p, log_p, .. } => {
                    pool.give(p);
                    pool.give(log_p);
                }
            }
        }
    }

    /// Draws one point (model space) into `out`.
    pub(crate) fn sample(&self, rng: &mut Rng, specs: &[DimSpec], out: &mut [f64]) {
        let u = rng.uniform() * self.cum.last().copied().unwrap_or(1.0);
        let c = self.cum.partition_point(|x| *x <= u).min(self.cum.len() - 1);
        for ((dim, spec), o) in self.dims.iter().zip(specs).zip(out.iter_mut()) {
            *o = match dim {
                DimModel::Numeric { lo, hi, step, log_grid, mu, sigma, .. } => {
                    let y = truncated_normal(rng, mu[c], sigma[c], *lo, *hi);
                    match (step, spec) {
                        (Some(s), DimSpec::Numeric { low, high, .. }) => {
                            let m = ((high - low) / s).round();
                            if *log_grid {
                                (low + ((y.exp() - low) / s).round().clamp(0.0, m) * s).ln()
                            } else {
                                low + ((y - low) / s).round().clamp(0.0, m) * s
                            }
                        }
                        _ => y,
                    }
                }
                DimModel::Categorical { n, p, .. } => {
                    let row = &p[c * n..(c + 1) * n];
                    let mut u = rng.uniform();
                    let mut pick = n - 1;
                    for (i, pi) in row.iter().enumerate() {
                        if u < *pi {
                            pick = i;
                            break;
                        }
                        u -= pi;
                    }
                    pick as f64
                }
            };
        }
    }

    /// The log density (log mass for stepped and categorical dimensions) of each point of `xs`
    /// (`m × d`, row-major) into `out`; `scratch` is reused between calls.
    pub(crate) fn log_pdf(&self, xs: &[f64], out: &mut [f64], scratch: &mut Vec<f64>) {
        let d = self.dims.len();
        let mut terms: Vec<(f64, &[f64])> = Vec::with_capacity(d);
        let mut quads: Vec<(f64, &[f64], &[f64])> = Vec::with_capacity(d);
        for (x, o) in xs.chunks_exact(d.max(1)).zip(out.iter_mut()) {
            scratch.clear();
            scratch.extend_from_slice(&self.base);
            let mut outside = 0.0;
            terms.clear();
            quads.clear();
            for (dim, &xj) in self.dims.iter().zip(x) {
                match dim {
                    DimModel::Numeric { shared: Some(sh), mu, sigma, .. } => {
                        let k = mu.len() - 1;
                        let xc = xj - sh.center;
                        let hx2 = sh.h * xc * xc;
                        outside -= hx2;
                        terms.push((2.0 * sh.h * xc, &sh.mu_c));
                        let z = (xj - mu[k]) / sigma[k];
                        scratch[k] += hx2 - 0.5 * z * z;
                    }
                    DimModel::Numeric { step: None, mu, half_prec, .. } => {
                        quads.push((xj, mu, half_prec));
                    }
                    DimModel::Numeric { step: Some(s), log_grid, mu, sigma, .. } => {
                        let h = 0.5 * s;
                        let (left, right) = if *log_grid {
                            let x = xj.exp().round();
                            ((x - h).ln(), (x + h).ln())
                        } else {
                            (xj - h, xj + h)
                        };
                        for ((a, m), sg) in scratch.iter_mut().zip(mu).zip(sigma) {
                            *a += log_mass((left - m) / sg, (right - m) / sg);
                        }
                    }
                    DimModel::Categorical { n, log_p, .. } => {
                        let c = (xj as usize).min(n - 1);
                        for (i, a) in scratch.iter_mut().enumerate() {
                            *a += log_p[i * n + c];
                        }
                    }
                }
            }
            add_products(scratch, &terms);
            sub_squares(scratch, &quads);
            *o = outside + log_sum_exp(scratch);
        }
    }
}

/// `a[k] += Σ_j c_j · m_j[k]`, four dimensions per pass over `a`.
fn add_products(a: &mut [f64], terms: &[(f64, &[f64])]) {
    for chunk in terms.chunks(4) {
        match *chunk {
            [(c1, m1), (c2, m2), (c3, m3), (c4, m4)] => {
                let it = a.iter_mut().zip(m1).zip(m2).zip(m3).zip(m4);
                for ((((a, x1), x2), x3), x4) in it {
                    *a += (c1 * x1 + c2 * x2) + (c3 * x3 + c4 * x4);
                }
            }
            [(c1, m1), (c2, m2), (c3, m3)] => {
                for (((a, x1), x2), x3) in a.iter_mut().zip(m1).zip(m2).zip(m3) {
                    *a += (c1 * x1 + c2 * x2) + c3 * x3;
                }
            }
            [(c1, m1), (c2, m2)] => {
                for ((a, x1), x2) in a.iter_mut().zip(m1).zip(m2) {
                    *a += c1 * x1 + c2 * x2;
                }
            }
            [(c1, m1)] => {
                for (a, x1) in a.iter_mut().zip(m1) {
                    *a += c1 * x1;
                }
            }
            _ => {}
        }
    }
}

/// `a[k] −= Σ_j h_j[k] (x_j − m_j[k])²`, four dimensions per pass over `a`.
fn sub_squares(a: &mut [f64], terms: &[(f64, &[f64], &[f64])]) {
    for chunk in terms.chunks(4) {
        match *chunk {
            [(x1, m1, h1), (x2, m2, h2), (x3, m3, h3), (x4, m4, h4)] => {
                for (i, a) in a
                    .iter_mut()
                    .enumerate()
                    .take(m1.len().min(m2.len()).min(m3.len()).min(m4.len()))
                {
                    let (d1, d2, d3, d4) = (x1 - m1[i], x2 - m2[i], x3 - m3[i], x4 - m4[i]);
                    *a -= (h1[i] * d1 * d1 + h2[i] * d2 * d2) + (h3[i] * d3 * d3 + h4[i] * d4 * d4);
                }
            }
            _ => {
                for &(x, m, h) in chunk {
                    for ((a, m), h) in a.iter_mut().zip(m).zip(h) {
                        let d = x - m;
                        *a -= h * d * d;
                    }
                }
            }
        }
    }
}

/// Optuna's neighbour rule: each observation's kernel is as wide as the larger gap to its
/// neighbouring observations (the range's ends count as neighbours; without
/// `consider_endpoints` the outermost kernels use their inner gap only). The prior (last entry
/// of `mu`) is no neighbour: as in Optuna 5, the gaps are between observations only, so a
/// kernel next to the range's centre is not narrowed by the prior. The prior's entry is
/// overwritten by the caller.
fn neighbour_bandwidths(
    mu: &[f64],
    lo: f64,
    hi: f64,
    consider_endpoints: bool,
    obs_order: Option<&[usize]>,
) -> Vec<f64> {
    let k = mu.len();
    let n = k.saturating_sub(1);
    let mut sigma = vec![0.0; k];
    if n == 0 {
        return sigma;
    }
    let sorted_owned;
    let order: &[usize] = match obs_order {
        Some(o) => o,
        None => {
            sorted_owned = sorted_order(&mu[..n]);
            &sorted_owned
        }
    };
    // The sorted values with the range's ends around them, read once in order.
    let mut sorted = Vec::with_capacity(n + 2);
    sorted.push(lo);
    sorted.extend(order.iter().map(|&i| mu[i]));
    sorted.push(hi);
    for (r, &i) in order.iter().enumerate() {
        let (left, m, right) = (sorted[r], sorted[r + 1], sorted[r + 2]);
        let mut s = (m - left).max(right - m);
        if !consider_endpoints && n >= 2 {
            if r == 0 {
                s = right - m;
            } else if r + 1 == n {
                s = m - left;
            }
        }
        sigma[i] = s;
    }
    sigma
}

/// Indices of `mu` sorted by value, ties by index (integer keys: the float's ordered bits above
/// the index).
fn sorted_order(mu: &[f64]) -> Vec<usize> {
    let mut order: Vec<u128> =
        mu.iter().enumerate().map(|(i, m)| (u128::from(order_key(*m)) << 64) | i as u128).collect();
    order.sort_unstable();
    order.iter().map(|x| *x as u64 as usize).collect()
}

/// `log Σ exp(a)`, stable. Four independent accumulators let the loops vectorize.
pub(crate) fn log_sum_exp(a: &[f64]) -> f64 {
    let mut m4 = [f64::NEG_INFINITY; 4];
    let chunks = a.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        for (m, x) in m4.iter_mut().zip(c) {
            *m = if *x > *m { *x } else { *m };
        }
    }
    let mut max = m4.iter().fold(f64::NEG_INFINITY, |m, x| if *x > m { *x } else { m });
    for x in tail {
        max = if *x > max { *x } else { max };
    }
    if max == f64::NEG_INFINITY || max.is_nan() {
        return max;
    }
    // Terms below e^-40 do not change the sum in f64 beside the max's 1.
    let term = |x: f64| {
        let t = x - max;
        exp_neg(if t < -40.0 { -40.0 } else { t })
    };
    let mut s4 = [0.0; 4];
    for c in a.chunks_exact(4) {
        for (s, x) in s4.iter_mut().zip(c) {
            *s += term(*x);
        }
    }
    let mut s = (s4[0] + s4[1]) + (s4[2] + s4[3]);
    for x in tail {
        s += term(*x);
    }
    max + s.ln()
}

/// `e^x` for `x` in [−40, 0], branch-free (so the summing loop vectorizes): `x = k ln 2 + r`,
/// `|r| ≤ ln 2 / 2`, `e^r` by its Taylor series to degree 7 (relative error below 1e-8, far
/// finer than any difference the acquisition acts on).
#[inline]
fn exp_neg(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // Adding and subtracting 1.5 · 2^52 rounds to the nearest integer without `round()`.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let shifted = x * LOG2E + SHIFT;
    let kf = shifted - SHIFT;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    let p = 1.0 / 5_040.0;
    let p = p * r + 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let p = p * r + 1.0;
    let p = p * r + 1.0;
    // 2^k for k in [−58, 0], from the exponent bits: `shifted`'s low mantissa bits hold k.
    let k = shifted.to_bits().wrapping_sub(SHIFT.to_bits());
    let two_k = f64::from_bits(k.wrapping_add(1023) << 52);
    p * two_k
}

/// The upper tail `P(Z > t)` of a standard normal on [0, 10], tabulated with step 1/1024 for
/// linear interpolation (absolute error below 3e-8; beyond 10 the tail is below 1e-23).
struct TailTable(&'static [f64]);

impl TailTable {
    const PER_UNIT: f64 = 1024.0;
    const LAST: usize = 10 * 1024;

    fn get() -> TailTable {
        static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
        TailTable(TABLE.get_or_init(|| {
            (0..=Self::LAST + 1).map(|i| log_upper(i as f64 / Self::PER_UNIT).exp()).collect()
        }))
    }

    /// `P(Z > t)` for `t ≥ 0`, branch-free.
    #[inline]
    fn upper(&self, t: f64) -> f64 {
        let u = (t * Self::PER_UNIT).clamp(0.0, Self::LAST as f64);
        let i = u as usize;
        let f = u - i as f64;
        let (a, b) = (self.0[i], self.0[i + 1]);
        a + f * (b - a)
    }
}

/// `log erfc(x)` for `x ≥ 0` (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7),
/// computed in log space so that far tails do not underflow.
fn log_erfc_pos(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    t.ln() - x * x + poly
}

/// `log P(Z > z)` for a standard normal `Z`.
fn log_upper(z: f64) -> f64 {
    if z >= 0.0 {
        log_erfc_pos(z * FRAC_1_SQRT_2) - LN_2
    } else {
        (-0.5 * log_erfc_pos(-z * FRAC_1_SQRT_2).exp()).ln_1p()
    }
}

/// `log P(a < Z < b)` for a standard normal `Z`, `a < b`, accurate in the tails.
pub(crate) fn log_mass(a: f64, b: f64) -> f64 {
    if b <= a {
        return f64::NEG_INFINITY;
    }
    let r = if a >= 0.0 {
        let (la, lb) = (log_upper(a), log_upper(b));
        la + (-(lb - la).exp()).ln_1p()
    } else if b <= 0.0 {
        let (lb, la) = (log_upper(-b), log_upper(-a));
        lb + (-(la - lb).exp()).ln_1p()
    } else {
        (1.0 - log_upper(-a).exp() - log_upper(b).exp()).max(0.0).ln()
    };
    if r.is_finite() && b - a > 1e-2 {
        r
    } else {
        // A narrow cell (or one so far out that the difference cancels): the midpoint rule.
        let m = 0.5 * (a + b);
        -0.5 * m * m - LN_SQRT_2PI + (b - a).ln()
    }
}

/// A draw from N(mu, sigma²) truncated to `[lo, hi]`, by rejection: the kernel's centre lies in
/// the range and its width is at most the range's, so at least a third of the draws land.
fn truncated_normal(rng: &mut Rng, mu: f64, sigma: f64, lo: f64, hi: f64) -> f64 {
    if hi <= lo {
        return lo;
    }
    for _ in 0..64 {
        let y = mu + sigma * rng.normal();
        if (lo..=hi).contains(&y) {
            return y;
        }
    }
    rng.uniform_range(lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phi_mass(a: f64, b: f64) -> f64 {
        // Trapezoid integration of the density, fine enough for a check.
        let n = 200_000;
        let h = (b - a) / n as f64;
        let f = |x: f64| (-0.5 * x * x - LN_SQRT_2PI).exp();
        (0..n).map(|i| 0.5 * h * (f(a + i as f64 * h) + f(a + (i + 1) as f64 * h))).sum()
    }

    #[test]
    fn log_mass_matches_integration_and_survives_tails() {
        for (a, b) in [(-1.0, 1.0), (0.5, 2.0), (-3.0, -0.2), (-0.1, 0.05), (2.0, 6.0)] {
            let exact = phi_mass(a, b).ln();
            assert!((log_mass(a, b) - exact).abs() < 1e-5, "{a} {b}: {} {exact}", log_mass(a, b));
        }
        let far = log_mass(30.0, 31.0);
        assert!(far.is_finite() && far < -400.0);
        assert!(log_mass(-31.0, -30.0).is_finite());
    }

    #[test]
    fn the_fast_exp_and_tail_match_the_slow_ones() {
        for i in 0..=4000 {
            let x = -40.0 * i as f64 / 4000.0;
            let (a, b) = (exp_neg(x), x.exp());
            assert!(((a - b) / b).abs() < 1e-8, "{x}: {a} vs {b}");
        }
        for i in 0..=1200 {
            let t = i as f64 / 97.0;
            let exact = log_upper(t).exp();
            assert!((TailTable::get().upper(t) - exact).abs() < 3e-8, "{t}");
        }
    }

    #[test]
    fn bandwidths_from_a_given_order_match_a_sort() {
        let mu = [0.3, -0.7, 0.3, 1.2, 0.0, 0.25];
        let sorted = sorted_order(&mu[..5]);
        for endpoints in [false, true] {
            let a = neighbour_bandwidths(&mu, -1.0, 2.0, endpoints, None);
            let b = neighbour_bandwidths(&mu, -1.0, 2.0, endpoints, Some(&sorted));
            assert_eq!(a, b);
        }
    }

    #[test]
    fn a_stepped_kernel_puts_all_its_mass_on_the_grid() {
        let specs = [DimSpec::Numeric { low: 0.0, high: 4.0, step: Some(1.0), log_grid: false }];
        let settings = FitSettings { scott: false, prior_weight: 1.0, consider_endpoints: false };
        let p = Parzen::fit(
            &specs,
            &[1.0, 3.0],
            &[1.0, 1.0],
            &settings,
            &mut Pool::default(),
            None,
            None,
        );
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0];
        let mut out = [0.0; 5];
        p.log_pdf(&xs, &mut out, &mut Vec::new());
        let total: f64 = out.iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
    }

    #[test]
    fn a_log_int_kernel_puts_all_its_mass_on_the_grid_and_draws_on_it() {
        let d = Distribution::int_log(1, 1024);
        let specs = [DimSpec::of(&d)];
        let settings = FitSettings { scott: false, prior_weight: 1.0, consider_endpoints: false };
        let obs = [2f64.ln(), 64f64.ln(), 700f64.ln()];
        let p = Parzen::fit(&specs, &obs, &[1.0; 3], &settings, &mut Pool::default(), None, None);
        let xs: Vec<f64> = (1..=1024).map(|x| f64::from(x).ln()).collect();
        let mut out = vec![0.0; xs.len()];
        p.log_pdf(&xs, &mut out, &mut Vec::new());
        let total: f64 = out.iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
        let mut rng = Rng::new(7);
        for _ in 0..200 {
            let mut y = [0.0];
            p.sample(&mut rng, &specs, &mut y);
            let x = y[0].exp();
            assert!((x - x.round()).abs() < 1e-9 && (1.0..=1024.0).contains(&x.round()), "{x}");
        }
    }

    #[test]
    fn a_continuous_mixture_integrates_to_one() {
        let specs = [DimSpec::Numeric { low: -1.0, high: 2.0, step: None, log_grid: false }];
        for multivariate in [false, true] {
            let settings =
                FitSettings { scott: multivariate, prior_weight: 1.0, consider_endpoints: false };
            let p = Parzen::fit(
                &specs,
                &[-0.9, 0.3, 1.9],
                &[0.5, 1.0, 1.0],
                &settings,
                &mut Pool::default(),
                None,
                None,
            );
            let n = 30_000;
            let h = 3.0 / n as f64;
            let xs: Vec<f64> = (0..n).map(|i| -1.0 + (i as f64 + 0.5) * h).collect();
            let mut out = vec![0.0; n];
            p.log_pdf(&xs, &mut out, &mut Vec::new());
            let total: f64 = out.iter().map(|l| l.exp() * h).sum();
            assert!((total - 1.0).abs() < 1e-4, "{total}");
        }
    }
}

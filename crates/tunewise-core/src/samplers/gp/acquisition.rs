//! The acquisition function: log expected improvement, times the probability of feasibility.
//!
//! Expected improvement below the incumbent `best` (we always minimize internally) is
//! `EI = σ · h(z)` with `z = (best − μ) / σ` and `h(z) = φ(z) + z·Φ(z)`. Far from the incumbent
//! `h` underflows to 0 and plain EI gives flat zeros that no optimizer can climb. So `ln h` is
//! computed stably in log space (Ament et al. 2023, "Unexpected improvements to expected
//! improvement"): directly for `z > −1`; through the scaled complementary error function
//! `erfcx` and `log(1 − eᵃ)` for `−1000 < z ≤ −1`; by the asymptotic expansion
//! `h(z) ≈ φ(z)/z² · (1 − 3/z² + 15/z⁴)` below.
//!
//! With constraints (one GP per constraint, feasible when `c ≤ 0`), the acquisition is
//! `ln EI + Σ ln P(c_i ≤ 0)`; when no trial is feasible yet, the objective is left out and the
//! probability of feasibility alone is maximized.

use super::model::Gp;

const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;

/// `exp(t²)·erfc(t)` for `t ≥ 0`: a Taylor series of erf below 1.5 (where it converges fast), a
/// continued fraction (Laplace's) above (accurate to about 1e-15 there).
pub(crate) fn erfcx(t: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    if t < 1.5 {
        // erf(t) = 2/√π Σ (−1)ⁿ t^(2n+1) / (n! (2n+1)).
        let t2 = t * t;
        let (mut term, mut sum) = (t, t);
        for n in 1..60 {
            term *= -t2 / n as f64;
            let add = term / (2 * n + 1) as f64;
            sum += add;
            if add.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        return t2.exp() * (1.0 - 2.0 * FRAC_1_SQRT_PI * sum);
    }
    if t > 1e8 {
        return FRAC_1_SQRT_PI / t;
    }
    let terms = if t < 3.0 {
        80
    } else if t < 8.0 {
        40
    } else {
        16
    };
    let mut v = t;
    for k in (1..=terms).rev() {
        v = t + (k as f64 / 2.0) / v;
    }
    FRAC_1_SQRT_PI / v
}

/// `ln Φ(z)`, the log of the standard normal distribution function, stable in both tails.
pub(crate) fn log_ndtr(z: f64) -> f64 {
    let t = z.abs() / std::f64::consts::SQRT_2;
    if z > 0.0 {
        // Φ(z) = 1 − ½·erfc(z/√2).
        (-0.5 * erfcx(t) * (-t * t).exp()).ln_1p()
    } else {
        (0.5 * erfcx(t)).ln() - t * t
    }
}

/// `ln h(z)` with `h(z) = φ(z) + z·Φ(z)` (see the module's documentation).
pub(crate) fn log_h(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NEG_INFINITY;
    }
    if z > -1.0 {
        let phi = (-0.5 * z * z - LN_SQRT_2PI).exp();
        return (phi + z * log_ndtr(z).exp()).ln();
    }
    if z > -1e3 {
        // h = φ(z) · (1 − √(π/2)·|z|·erfcx(|z|/√2)), the bracket taken as log(1 − eᵃ).
        let a = ((std::f64::consts::PI / 2.0).sqrt() * -z * erfcx(-z / std::f64::consts::SQRT_2))
            .ln()
            .min(-1e-300);
        let log1mexp =
            if a > -std::f64::consts::LN_2 { (-a.exp_m1()).ln() } else { (-a.exp()).ln_1p() };
        return -0.5 * z * z - LN_SQRT_2PI + log1mexp;
    }
    if z == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    let w = 1.0 / (z * z);
    -0.5 * z * z - LN_SQRT_2PI + (w * (1.0 - 3.0 * w + 15.0 * w * w)).ln()
}

/// `ln EI` at a point of posterior mean `mean` and variance `var`, below `best`.
pub(crate) fn log_ei(mean: f64, var: f64, best: f64) -> f64 {
    let sd = var.max(1e-20).sqrt();
    let z = (best - mean) / sd;
    sd.ln() + log_h(z)
}

/// The standard deviation floor of the acquisition (standardized units).
const SD_FLOOR: f64 = 1e-10;

/// One model of the acquisition and what it is compared with.
#[derive(Debug)]
pub(crate) struct Term {
    /// The posterior.
    pub gp: Gp,
    /// The incumbent (objective) or the feasibility threshold (constraints), standardized.
    pub level: f64,
}

/// The acquisition: `ln EI` of the objective (when there is a feasible incumbent) plus
/// `ln P(feasible)` of each constraint.
#[derive(Debug)]
pub(crate) struct Acquisition {
    /// The objective's model and incumbent; `None` when no trial is feasible yet.
    pub objective: Option<Term>,
    /// One model per constraint, with its standardized threshold.
    pub constraints: Vec<Term>,
}

impl Acquisition {
    /// The acquisition at `m` points (`m × d`, rows).
    pub(crate) fn values(&self, xs: &[f64]) -> Vec<f64> {
        let mut out: Vec<f64> = match &self.objective {
            Some(t) => {
                let (mean, var) = t.gp.predict(xs);
                mean.iter()
                    .zip(&var)
                    .map(|(m, v)| log_ei(*m, v.max(SD_FLOOR * SD_FLOOR), t.level))
                    .collect()
            }
            None => Vec::new(),
        };
        for c in &self.constraints {
            let (mean, var) = c.gp.predict(xs);
            if out.is_empty() {
                out = vec![0.0; mean.len()];
            }
            for ((o, m), v) in out.iter_mut().zip(&mean).zip(&var) {
                *o += log_ndtr((c.level - m) / v.max(SD_FLOOR * SD_FLOOR).sqrt());
            }
        }
        for v in &mut out {
            if v.is_nan() {
                *v = f64::NEG_INFINITY;
            }
        }
        out
    }

    /// The acquisition at `x` and its gradient in the dimensions `dims` (written to `grad`).
    pub(crate) fn value_grad(&self, x: &[f64], dims: &[usize], grad: &mut [f64]) -> f64 {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let k = dims.len();
        let (mut dm, mut dv) = (vec![0.0; k], vec![0.0; k]);
        let mut total = 0.0;
        if let Some(t) = &self.objective {
            let (m, v) = t.gp.predict_grad(x, dims, &mut dm, &mut dv);
            let v = v.max(SD_FLOOR * SD_FLOOR);
            let sd = v.sqrt();
            let z = (t.level - m) / sd;
            let lh = log_h(z);
            total += sd.ln() + lh;
            // d ln h / dz = Φ(z) / h(z).
            let ratio = (log_ndtr(z) - lh).exp();
            for o in 0..k {
                let dsd = dv[o] / (2.0 * sd);
                let dz = -dm[o] / sd - z * dsd / sd;
                grad[o] += dsd / sd + ratio * dz;
            }
        }
        for c in &self.constraints {
            let (m, v) = c.gp.predict_grad(x, dims, &mut dm, &mut dv);
            let v = v.max(SD_FLOOR * SD_FLOOR);
            let sd = v.sqrt();
            let w = (c.level - m) / sd;
            let lp = log_ndtr(w);
            total += lp;
            // d ln Φ / dw = φ(w) / Φ(w).
            let ratio = (-0.5 * w * w - LN_SQRT_2PI - lp).exp();
            for o in 0..k {
                let dsd = dv[o] / (2.0 * sd);
                grad[o] += ratio * (-dm[o] / sd - w * dsd / sd);
            }
        }
        if total.is_nan() || grad.iter().any(|g| !g.is_finite()) {
            return f64::NEG_INFINITY;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ndtr_direct(z: f64) -> f64 {
        // Φ through the series/continued fraction, no logs: accurate for moderate z.
        let t = z.abs() / std::f64::consts::SQRT_2;
        let tail = 0.5 * erfcx(t) * (-t * t).exp();
        if z > 0.0 {
            1.0 - tail
        } else {
            tail
        }
    }

    #[test]
    fn erfcx_matches_reference_values_on_both_sides_of_each_switch() {
        let cases = [
            (0.0, 1.0),
            (0.5, 0.615_690_344_192_925_9),
            (1.0, 0.427_583_576_155_807),
            (1.49, 0.323_229_293_800_823_9),
            (1.51, 0.319_956_769_583_332_86),
            (2.0, 0.255_395_676_310_505_7),
            (3.0, 0.179_001_151_181_389_93),
            (7.9, 0.070_857_477_367_396_99),
            (8.1, 0.069_133_920_177_343_52),
            (20.0, 0.028_174_348_741_051_32),
        ];
        for (t, want) in cases {
            let got = erfcx(t);
            assert!((got / want - 1.0).abs() < 1e-13, "erfcx({t}) = {got}, want {want}");
        }
    }

    #[test]
    fn log_ei_matches_direct_ei_where_that_is_accurate() {
        for &(mean, var, best) in &[
            (0.0, 1.0, 0.0),
            (0.3, 0.04, -0.2),
            (-1.0, 0.5, 0.7),
            (2.0, 0.25, 0.0),
            (1.0, 1e-4, 0.99),
            (0.0, 2.0, -7.0),
        ] {
            let sd: f64 = f64::sqrt(var);
            let z = (best - mean) / sd;
            let phi = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
            let ei = sd * (phi + z * ndtr_direct(z));
            let got = log_ei(mean, var, best);
            assert!(
                (got - ei.ln()).abs() < 1e-9 * ei.ln().abs().max(1.0),
                "z {z}: {got} vs {}",
                ei.ln()
            );
        }
    }

    #[test]
    fn log_h_is_finite_increasing_and_asymptotic_far_below_the_incumbent() {
        let mut last = f64::NEG_INFINITY;
        let mut z = -1e5;
        while z < 6.0 {
            let v = log_h(z);
            assert!(v.is_finite(), "ln h({z}) = {v}");
            assert!(v > last, "ln h not increasing at {z}: {v} <= {last}");
            last = v;
            z = if z < -100.0 { z * 0.9 } else { z + 0.01 };
        }
        // At z = −40 plain EI underflows to 0; the expansion to four terms is exact to ~1e-10.
        let z: f64 = -40.0;
        let w = 1.0 / (z * z);
        let series = -0.5 * z * z - LN_SQRT_2PI
            + (w * (1.0 - 3.0 * w + 15.0 * w * w - 105.0 * w * w * w)).ln();
        assert!((log_h(z) - series).abs() < 1e-9, "{} vs {series}", log_h(z));
        // Continuous across the switches.
        for s in [-1.0, -1e3] {
            let (a, b) = (log_h(s - 1e-9), log_h(s + 1e-9));
            assert!((a - b).abs() < 1e-6 * a.abs().max(1.0), "jump at {s}: {a} vs {b}");
        }
        assert!(log_h(f64::NAN) == f64::NEG_INFINITY);
    }

    #[test]
    fn log_ndtr_is_accurate_in_both_tails() {
        assert!((log_ndtr(0.0) - 0.5f64.ln()).abs() < 1e-15);
        assert!((log_ndtr(1.0) - 0.841_344_746_068_542_9f64.ln()).abs() < 1e-13);
        // Φ(−40) ≈ φ(40)/40 · (1 − 1/1600 + 3/1600²).
        let approx =
            -800.0 - LN_SQRT_2PI - 40f64.ln() + (1.0 - 1.0 / 1600.0 + 3.0 / 2_560_000.0f64).ln();
        assert!((log_ndtr(-40.0) - approx).abs() < 1e-8, "{}", log_ndtr(-40.0));
        assert!(log_ndtr(40.0) <= 0.0 && log_ndtr(40.0) > -1e-300);
    }
}

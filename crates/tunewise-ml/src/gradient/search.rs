//! A bounded 1-D quasi-Newton search on `ln λ` driven by exact hypergradients.

use tunewise_core::{Direction, Distribution, KnownTrial, Study, TrialState};

use super::{HyperLoss, HyperProblem};
use crate::error::{Error, Result};

/// The name under which [`record_in_study`] stores `ln λ` and [`GradientSearch::starts_from_study`]
/// reads it back.
pub const LOG_LAMBDA: &str = "log_lambda";

/// Armijo sufficient-decrease constant.
const ARMIJO: f64 = 1e-4;
/// Backtracking halvings allowed per step before a start is given up as converged.
const MAX_BACKTRACKS: usize = 12;

/// One evaluation of the validation loss during a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// `ln λ`.
    pub log_lambda: f64,
    /// The validation loss.
    pub value: f64,
    /// `dL / d ln λ`.
    pub gradient: f64,
}

/// What a [`GradientSearch`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    /// `ln λ` of the lowest validation loss seen.
    pub best_log_lambda: f64,
    /// `λ = e^{best_log_lambda}`.
    pub best_lambda: f64,
    /// The lowest validation loss seen.
    pub best_loss: f64,
    /// Its hypergradient `dL / d ln λ` (near 0 at an interior optimum).
    pub best_gradient: f64,
    /// Models fitted in all (K per evaluation with K folds).
    pub fits: usize,
    /// Every evaluation in order: the coarse grid first, then each refinement.
    pub evaluations: Vec<Evaluation>,
}

/// Minimizes a validation loss over `ln λ ∈ [low, high]` with its exact hypergradient.
///
/// **What.** Coarse-to-fine: a grid of `coarse_points` values of `ln λ` (ends included),
/// then from the `top_k` best grid points that are local minima of the grid, a projected
/// 1-D quasi-Newton descent: the step is `−g / b` with `b` the secant curvature of the last
/// two points (a fixed `initial_step` while no positive curvature is known), clipped to the
/// bounds and to `max_step`, and shortened by a backtracking Armijo line search that
/// interpolates a parabola through the failed point. A start stops when the projected
/// gradient is below `gradient_tolerance × |L|`, a step is shorter than `step_tolerance`, or
/// it used `max_steps` steps; the search stops early when `max_fits` models were fitted.
/// Gradient-based hyperparameter search follows Bengio (2000) and Pedregosa (2016); the
/// coarse grid guards against the local minima a validation curve can have.
///
/// **When.** One continuous hyperparameter whose loss has an exact gradient (a
/// [`HyperProblem`]): far fewer fits than a fine grid for the same precision (see
/// `docs/ml.md`). Several hyperparameters or no gradient: use a tunewise sampler instead.
///
/// **Cost.** `coarse_points` evaluations plus a few (typically 4 to 8) per refined start;
/// each evaluation is one fit per fold plus a linear solve.
///
/// **Defaults.** `coarse_points` 8, `top_k` 2, `max_steps` 30, `initial_step` 0.5,
/// `max_step` 3, `gradient_tolerance` 1e-7, `step_tolerance` 1e-7, `max_fits` 500; the
/// bounds have no default.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientSearch {
    low: f64,
    high: f64,
    coarse_points: usize,
    top_k: usize,
    max_steps: usize,
    initial_step: f64,
    max_step: f64,
    gradient_tolerance: f64,
    step_tolerance: f64,
    max_fits: usize,
}

/// Builds a [`GradientSearch`]; [`GradientSearchBuilder::build`] checks every setting.
#[derive(Debug, Clone)]
pub struct GradientSearchBuilder {
    settings: GradientSearch,
}

impl GradientSearchBuilder {
    /// Number of grid points of the coarse search (0: no grid; then only
    /// [`GradientSearch::refine`] is useful). Default 8.
    pub fn coarse_points(mut self, n: usize) -> Self {
        self.settings.coarse_points = n;
        self
    }

    /// How many of the best grid minima are refined. Default 2.
    pub fn top_k(mut self, k: usize) -> Self {
        self.settings.top_k = k;
        self
    }

    /// Descent steps allowed per start. Default 30.
    pub fn max_steps(mut self, n: usize) -> Self {
        self.settings.max_steps = n;
        self
    }

    /// First step length in `ln λ` while no curvature is known. Default 0.5.
    pub fn initial_step(mut self, step: f64) -> Self {
        self.settings.initial_step = step;
        self
    }

    /// Longest step in `ln λ`. Default 3.
    pub fn max_step(mut self, step: f64) -> Self {
        self.settings.max_step = step;
        self
    }

    /// A start stops when `|dL/d ln λ| ≤ tolerance × |L|`. Default 1e-7.
    pub fn gradient_tolerance(mut self, tolerance: f64) -> Self {
        self.settings.gradient_tolerance = tolerance;
        self
    }

    /// A start stops when a step in `ln λ` is shorter than this. Default 1e-7.
    pub fn step_tolerance(mut self, tolerance: f64) -> Self {
        self.settings.step_tolerance = tolerance;
        self
    }

    /// The refinement stops once this many models were fitted (the coarse grid is always
    /// evaluated whole). Default 500.
    pub fn max_fits(mut self, n: usize) -> Self {
        self.settings.max_fits = n;
        self
    }

    /// The search, once every setting is checked.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting: bounds not finite or `low ≥ high`,
    /// `coarse_points` of 1, `top_k`, `max_steps` or `max_fits` of 0, a step or tolerance
    /// not finite and positive.
    pub fn build(self) -> Result<GradientSearch> {
        let s = self.settings;
        if !(s.low.is_finite() && s.high.is_finite() && s.low < s.high) {
            return Err(Error::InvalidConfig(format!(
                "gradient search bounds: ln λ must range over finite low < high (got [{}, {}]); \
                 e.g. bounds(-10.0, 5.0) for λ from 4.5e-5 to 148",
                s.low, s.high
            )));
        }
        if s.coarse_points == 1 {
            return Err(Error::InvalidConfig(
                "coarse_points: a grid needs 0 (no grid) or at least 2 points (both bounds)".into(),
            ));
        }
        for (name, v) in [("top_k", s.top_k), ("max_steps", s.max_steps), ("max_fits", s.max_fits)]
        {
            if v == 0 {
                return Err(Error::InvalidConfig(format!("{name} must be at least 1")));
            }
        }
        for (name, v) in [
            ("initial_step", s.initial_step),
            ("max_step", s.max_step),
            ("gradient_tolerance", s.gradient_tolerance),
            ("step_tolerance", s.step_tolerance),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::InvalidConfig(format!(
                    "{name} must be finite and > 0 (got {v})"
                )));
            }
        }
        Ok(s)
    }
}

/// Counts fits and keeps every evaluation.
struct Tracker<'a> {
    problem: &'a dyn HyperProblem,
    evaluations: Vec<Evaluation>,
    fits: usize,
}

impl Tracker<'_> {
    fn eval(&mut self, log_lambda: f64) -> Result<Evaluation> {
        let HyperLoss { value, gradient, fits } = self.problem.hyper_loss(log_lambda.exp())?;
        self.fits += fits;
        if !value.is_finite() || !gradient.is_finite() {
            return Err(Error::Model(format!(
                "the validation loss or its gradient is not finite at ln λ = {log_lambda} \
                 (value {value}, gradient {gradient}); narrow the bounds"
            )));
        }
        let e = Evaluation { log_lambda, value, gradient };
        self.evaluations.push(e);
        Ok(e)
    }
}

impl GradientSearch {
    /// A builder for a search over `ln λ ∈ [low, high]`, with the defaults above.
    pub fn builder(low: f64, high: f64) -> GradientSearchBuilder {
        GradientSearchBuilder {
            settings: GradientSearch {
                low,
                high,
                coarse_points: 8,
                top_k: 2,
                max_steps: 30,
                initial_step: 0.5,
                max_step: 3.0,
                gradient_tolerance: 1e-7,
                step_tolerance: 1e-7,
                max_fits: 500,
            },
        }
    }

    /// The bounds `(low, high)` of `ln λ`.
    pub fn bounds(&self) -> (f64, f64) {
        (self.low, self.high)
    }

    /// The coarse grid, then a refinement of its `top_k` best local minima.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `coarse_points` is 0 (use [`GradientSearch::refine`]);
    /// any error of the problem's fits.
    pub fn run(&self, problem: &dyn HyperProblem) -> Result<SearchOutcome> {
        if self.coarse_points == 0 {
            return Err(Error::InvalidConfig(
                "coarse_points is 0: run needs a grid; call refine with starting values instead"
                    .into(),
            ));
        }
        let mut t = Tracker { problem, evaluations: Vec::new(), fits: 0 };
        let n = self.coarse_points;
        let grid = (0..n)
            .map(|i| t.eval(self.low + (self.high - self.low) * i as f64 / (n - 1) as f64))
            .collect::<Result<Vec<_>>>()?;
        // Local minima of the grid, best first: refining two neighbours of one basin would
        // spend fits twice on the same optimum.
        let mut minima: Vec<Evaluation> = (0..n)
            .filter(|&i| {
                (i == 0 || grid[i].value <= grid[i - 1].value)
                    && (i + 1 == n || grid[i].value <= grid[i + 1].value)
            })
            .map(|i| grid[i])
            .collect();
        minima.sort_by(|a, b| a.value.total_cmp(&b.value));
        minima.truncate(self.top_k);
        for start in minima {
            if t.fits >= self.max_fits {
                break;
            }
            self.descend(&mut t, start)?;
        }
        Ok(self.outcome(t))
    }

    /// Refines each starting value of `ln λ` (clamped to the bounds), for instance the best
    /// trials of an earlier study ([`GradientSearch::starts_from_study`]).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `starts` is empty or holds a non-finite value; any
    /// error of the problem's fits.
    pub fn refine(&self, problem: &dyn HyperProblem, starts: &[f64]) -> Result<SearchOutcome> {
        if starts.is_empty() {
            return Err(Error::InvalidConfig(
                "refine: no starting value of ln λ given; pass at least one".into(),
            ));
        }
        if let Some(s) = starts.iter().find(|s| !s.is_finite()) {
            return Err(Error::InvalidConfig(format!(
                "refine: starting value {s} of ln λ is not finite"
            )));
        }
        let mut t = Tracker { problem, evaluations: Vec::new(), fits: 0 };
        for &s in starts {
            if t.fits >= self.max_fits {
                break;
            }
            let start = t.eval(s.clamp(self.low, self.high))?;
            self.descend(&mut t, start)?;
        }
        Ok(self.outcome(t))
    }

    /// The `ln λ` of the `k` best complete trials of a study (lowest value first) that hold a
    /// [`LOG_LAMBDA`] parameter: starting values for [`GradientSearch::refine`].
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the study does not minimize one objective or has no
    /// such trial; [`Error::Tuning`] when its storage fails.
    pub fn starts_from_study(study: &Study, k: usize) -> Result<Vec<f64>> {
        if study.directions() != [Direction::Minimize] {
            return Err(Error::InvalidConfig(
                "starts_from_study: the study must minimize one objective (the validation loss)"
                    .into(),
            ));
        }
        let mut found: Vec<(f64, f64)> = study
            .trials()?
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .filter_map(|t| Some((t.value()?, t.param(LOG_LAMBDA)?.internal)))
            .collect();
        if found.is_empty() {
            return Err(Error::InvalidConfig(format!(
                "starts_from_study: no complete trial has a parameter named {LOG_LAMBDA:?}"
            )));
        }
        found.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(found.into_iter().take(k).map(|(_, x)| x).collect())
    }

    /// Projected quasi-Newton descent from one evaluated point.
    fn descend(&self, t: &mut Tracker<'_>, start: Evaluation) -> Result<()> {
        let mut cur = start;
        let mut curvature: Option<f64> = None;
        for _ in 0..self.max_steps {
            let g = cur.gradient;
            let at_low = cur.log_lambda <= self.low && g > 0.0;
            let at_high = cur.log_lambda >= self.high && g < 0.0;
            if at_low || at_high || g.abs() <= self.gradient_tolerance * cur.value.abs() {
                return Ok(());
            }
            let raw = match curvature {
                Some(b) => -g / b,
                None => -g.signum() * self.initial_step,
            };
            let target = (cur.log_lambda + raw.clamp(-self.max_step, self.max_step))
                .clamp(self.low, self.high);
            let mut step = target - cur.log_lambda;
            let mut accepted = None;
            for _ in 0..MAX_BACKTRACKS {
                if step.abs() < self.step_tolerance || t.fits >= self.max_fits {
                    return Ok(());
                }
                let next = t.eval(cur.log_lambda + step)?;
                if next.value <= cur.value + ARMIJO * g * step {
                    accepted = Some(next);
                    break;
                }
                // The parabola through (0, L, g) and (step, L_next) has its minimum at
                // −g s² / (2 (L_next − L − g s)); keep it within [0.1 s, 0.5 s].
                let excess = next.value - cur.value - g * step;
                let shrink = if excess > 0.0 { -g * step / (2.0 * excess) } else { 0.5 };
                step *= shrink.clamp(0.1, 0.5);
            }
            let Some(next) = accepted else { return Ok(()) };
            let s = next.log_lambda - cur.log_lambda;
            let b = (next.gradient - cur.gradient) / s;
            curvature = (b > 0.0).then_some(b);
            cur = next;
            if s.abs() < self.step_tolerance {
                return Ok(());
            }
        }
        Ok(())
    }

    fn outcome(&self, t: Tracker<'_>) -> SearchOutcome {
        let best = t
            .evaluations
            .iter()
            .copied()
            .min_by(|a, b| a.value.total_cmp(&b.value))
            // Every path that builds a Tracker evaluates at least once before getting here.
            .unwrap_or(Evaluation { log_lambda: self.low, value: f64::NAN, gradient: f64::NAN });
        SearchOutcome {
            best_log_lambda: best.log_lambda,
            best_lambda: best.log_lambda.exp(),
            best_loss: best.value,
            best_gradient: best.gradient,
            fits: t.fits,
            evaluations: t.evaluations,
        }
    }
}

/// Stores every evaluation of a search as a complete trial of `study` (value: the validation
/// loss; parameter [`LOG_LAMBDA`] on `Distribution::float(low, high)`), so the study holds the
/// whole search beside any other trials and its best trial is the search's best point.
///
/// # Errors
/// [`Error::Tuning`] when the study refuses a trial (it does not have one objective, or
/// [`LOG_LAMBDA`] already exists there with another distribution).
pub fn record_in_study(
    study: &Study,
    search: &GradientSearch,
    outcome: &SearchOutcome,
) -> Result<()> {
    let (low, high) = search.bounds();
    for e in &outcome.evaluations {
        study.add_trial(KnownTrial::complete(e.value).param(
            LOG_LAMBDA,
            Distribution::float(low, high),
            e.log_lambda,
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An analytic loss of `x = ln λ`: `f(x)` with derivative `df(x)`.
    struct Analytic<F: Fn(f64) -> (f64, f64)>(F);

    impl<F: Fn(f64) -> (f64, f64)> HyperProblem for Analytic<F> {
        fn hyper_loss(&self, lambda: f64) -> Result<HyperLoss> {
            let (value, gradient) = (self.0)(lambda.ln());
            Ok(HyperLoss { value, gradient, fits: 1 })
        }
    }

    #[test]
    fn converges_on_a_smooth_convex_loss() {
        let p = Analytic(|x: f64| {
            let d = x - 1.3;
            (2.0 + d * d + 0.1 * d.powi(4), 2.0 * d + 0.4 * d.powi(3))
        });
        let out = GradientSearch::builder(-8.0, 6.0).build().unwrap().run(&p).unwrap();
        assert!((out.best_log_lambda - 1.3).abs() < 1e-6, "{out:?}");
        assert!(out.fits < 25, "{}", out.fits);
    }

    #[test]
    fn the_coarse_grid_finds_the_deeper_of_two_basins() {
        // A tilted double well: minima near x = −5 (about 1.4) and x = 3 (about 1.0); a
        // start at −5.5 alone stays in the shallower basin.
        let p = Analytic(|x: f64| {
            let (a, b) = (x + 5.0, x - 3.0);
            (a * a * b * b / 100.0 - 0.05 * b + 1.0, 2.0 * a * b * (a + b) / 100.0 - 0.05)
        });
        let local =
            GradientSearch::builder(-8.0, 6.0).build().unwrap().refine(&p, &[-5.5]).unwrap();
        assert!(local.best_log_lambda < -4.0, "{local:?}");
        let global = GradientSearch::builder(-8.0, 6.0).build().unwrap().run(&p).unwrap();
        assert!(global.best_log_lambda > 2.0, "{global:?}");
        assert!(global.best_loss < local.best_loss);
    }
}

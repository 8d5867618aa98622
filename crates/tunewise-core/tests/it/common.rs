//! Helpers shared by the test modules that compare samplers.

use tunewise_core::{Budget, Sampler, Study, Trial, TrialError};

/// A single-objective objective function.
pub type Objective = fn(&mut Trial) -> Result<f64, TrialError>;

/// The best value a new in-memory study with `sampler` finds on `f` in `budget` trials.
pub fn best_of(sampler: impl Sampler + 'static, f: Objective, budget: usize) -> f64 {
    let study = Study::builder().sampler(sampler).create().unwrap();
    study.optimize(f, Budget::trials(budget)).unwrap();
    study.best_value().unwrap()
}

/// The median of a non-empty sample.
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

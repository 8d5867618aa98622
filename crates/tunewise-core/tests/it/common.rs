//! Helpers shared by the test modules that compare samplers.

use std::f64::consts::PI;

use tunewise_core::{Budget, Direction, ParamValue, Sampler, Study, Trial, TrialError};

/// A single-objective objective function.
pub type Objective = fn(&mut Trial) -> Result<f64, TrialError>;

/// The best value a new in-memory study with `sampler` finds on `f` in `budget` trials.
pub fn best_of(sampler: impl Sampler + 'static, f: Objective, budget: usize) -> f64 {
    let study = Study::builder().sampler(sampler).create().unwrap();
    study.optimize(f, Budget::trials(budget)).unwrap();
    study.best_value().unwrap()
}

/// Every trial's parameters (name and value, in the order they were suggested), in trial order:
/// what reproducibility tests compare.
pub fn params_of(study: &Study) -> Vec<Vec<(String, ParamValue)>> {
    study
        .trials()
        .unwrap()
        .iter()
        .map(|t| t.params.iter().map(|p| (p.name.to_string(), p.value())).collect())
        .collect()
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

// The standard functions, shared by the sampler comparisons. They are restated here rather than
// taken from `tunewise-bench`: that crate depends on this one, and a dev-dependency back on it
// would link a second copy of the core into these tests. Their constants match
// `crates/tunewise-bench/src/functions.rs`.

/// `d` floats `x0..x{d-1}` on `[low, high]`.
pub fn xs(t: &mut Trial, d: usize, low: f64, high: f64) -> Result<Vec<f64>, TrialError> {
    (0..d).map(|i| Ok(t.suggest_float(&format!("x{i}"), low, high)?)).collect()
}

pub fn sphere5(t: &mut Trial) -> Result<f64, TrialError> {
    let x = xs(t, 5, -5.0, 5.0)?;
    Ok(x.iter().enumerate().map(|(i, x)| (x - 2.5 * ((i + 1) as f64).sin()).powi(2)).sum())
}

pub fn branin(t: &mut Trial) -> Result<f64, TrialError> {
    let x0 = t.suggest_float("x0", -5.0, 10.0)?;
    let x1 = t.suggest_float("x1", 0.0, 15.0)?;
    let (b, c, r) = (5.1 / (4.0 * PI * PI), 5.0 / PI, 1.0 / (8.0 * PI));
    Ok((x1 - b * x0 * x0 + c * x0 - 6.0).powi(2) + 10.0 * (1.0 - r) * x0.cos() + 10.0)
}

pub fn rosenbrock4(t: &mut Trial) -> Result<f64, TrialError> {
    let x = xs(t, 4, -5.0, 10.0)?;
    Ok(x.windows(2).map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2)).sum())
}

pub fn hartmann6(t: &mut Trial) -> Result<f64, TrialError> {
    const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
    const A: [[f64; 6]; 4] = [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ];
    const P: [[f64; 6]; 4] = [
        [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
        [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
        [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
        [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
    ];
    let x = xs(t, 6, 0.0, 1.0)?;
    let mut s = 0.0;
    for i in 0..4 {
        let inner: f64 = (0..6).map(|j| A[i][j] * (x[j] - P[i][j]).powi(2)).sum();
        s += ALPHA[i] * (-inner).exp();
    }
    Ok(-s)
}

pub fn hypervolume_2d(mut points: Vec<[f64; 2]>, reference: [f64; 2]) -> f64 {
    points.retain(|p| p[0] < reference[0] && p[1] < reference[1]);
    points.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (mut best_y, mut area) = (reference[1], 0.0);
    for p in points {
        if p[1] < best_y {
            area += (reference[0] - p[0]) * (best_y - p[1]);
            best_y = p[1];
        }
    }
    area
}

/// ZDT1 in `d` variables on `[0, 1]`: both objectives minimized, front `f2 = 1 − √f1`.
pub fn zdt1(t: &mut Trial, d: usize) -> Result<Vec<f64>, TrialError> {
    let x = xs(t, d, 0.0, 1.0)?;
    let g = 1.0 + 9.0 * x[1..].iter().sum::<f64>() / (d - 1) as f64;
    Ok(vec![x[0], g * (1.0 - (x[0] / g).sqrt())])
}

/// The hypervolume (reference point `[1.1, 11]`) of the Pareto front that a new two-objective
/// in-memory study with `sampler` finds on ZDT1 in `d` variables in `budget` trials.
pub fn zdt1_hypervolume(sampler: Box<dyn Sampler>, d: usize, budget: usize) -> f64 {
    let study = Study::builder()
        .directions([Direction::Minimize, Direction::Minimize])
        .sampler(sampler)
        .create()
        .unwrap();
    study.optimize(|t: &mut Trial| zdt1(t, d), Budget::trials(budget)).unwrap();
    let points = study
        .best_trials()
        .unwrap()
        .iter()
        .map(|t| {
            let v = t.values.as_ref().unwrap();
            [v[0], v[1]]
        })
        .collect();
    hypervolume_2d(points, [1.1, 11.0])
}

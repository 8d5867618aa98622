//! Test functions with known optima, written define-by-run.
//!
//! Every function implements [`TestFunction`]: it suggests its own parameters on a
//! [`Trial`] and returns the value, so it runs in a [`Study`](tunewise_core::Study) like any user
//! objective, conditional and categorical parameters included. Each one also knows its optimum
//! value and a point where the optimum is reached, so a benchmark can report the gap to it.
//!
//! | function | parameters | optimum |
//! | --- | --- | --- |
//! | [`sphere`] | `d` floats in \[-5, 5\], shifted optimum | 0 |
//! | [`branin`] | 2 floats | 0.397887 |
//! | [`rosenbrock`] | `d` floats in \[-5, 10\] | 0 |
//! | [`rastrigin`] | `d` floats in \[-5.12, 5.12\] | 0 |
//! | [`ackley`] | `d` floats in \[-32.768, 32.768\] | 0 |
//! | [`levy`] | `d` floats in \[-10, 10\] | 0 |
//! | [`styblinski_tang`] | `d` floats in \[-5, 5\] | −39.16617 `d` |
//! | [`hartmann3`] | 3 floats in \[0, 1\] | −3.86278 |
//! | [`hartmann6`] | 6 floats in \[0, 1\] | −3.32237 |
//! | [`MixedInteger`] | a float, an int, a log int, a categorical | 0 |
//! | [`Conditional`] | a categorical choosing which parameters exist | 0 |
//!
//! Continuous functions name their parameters `x0`, `x1`, … and can also be evaluated directly
//! at a point with [`Continuous::value`].

use std::f64::consts::{E, PI};
use std::fmt;
use std::sync::Arc;

use tunewise_core::{Direction, ParamValue, Trial, TrialError};

/// A test function: a define-by-run objective with a known optimum.
pub trait TestFunction: Send + Sync + fmt::Debug {
    /// A short name, with the dimension where it has one (`"rastrigin-10d"`).
    fn name(&self) -> String;

    /// Whether the function is minimized or maximized.
    fn direction(&self) -> Direction {
        Direction::Minimize
    }

    /// The best value the function reaches.
    fn optimum(&self) -> f64;

    /// A point where the optimum is reached, as the parameter values an objective suggests
    /// there (only the active ones for a conditional space). Enqueue it to check the function.
    fn optimizer(&self) -> Vec<(String, ParamValue)>;

    /// Suggests the parameters on `trial` and returns the value there.
    fn evaluate(&self, trial: &mut Trial) -> Result<f64, TrialError>;

    /// How far `value` is from the optimum, in the function's direction (0 at the optimum,
    /// positive elsewhere).
    fn regret(&self, value: f64) -> f64 {
        match self.direction() {
            Direction::Minimize => value - self.optimum(),
            Direction::Maximize => self.optimum() - value,
        }
    }
}

type Formula = Arc<dyn Fn(&[f64]) -> f64 + Send + Sync>;

/// A continuous function on a box: one float parameter per dimension, named `x0`, `x1`, ….
#[derive(Clone)]
pub struct Continuous {
    name: String,
    names: Vec<String>,
    bounds: Vec<(f64, f64)>,
    optimum: f64,
    optimizer: Vec<f64>,
    formula: Formula,
}

impl fmt::Debug for Continuous {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Continuous")
            .field("name", &self.name)
            .field("bounds", &self.bounds)
            .field("optimum", &self.optimum)
            .field("optimizer", &self.optimizer)
            .finish_non_exhaustive()
    }
}

impl Continuous {
    /// A function from its name, its box, its optimum and optimizer, and its formula.
    ///
    /// `optimizer` must lie in the box and have one coordinate per dimension.
    pub fn new(
        name: impl Into<String>,
        bounds: Vec<(f64, f64)>,
        optimum: f64,
        optimizer: Vec<f64>,
        formula: impl Fn(&[f64]) -> f64 + Send + Sync + 'static,
    ) -> Self {
        let names = (0..bounds.len()).map(|i| format!("x{i}")).collect();
        Continuous {
            name: name.into(),
            names,
            bounds,
            optimum,
            optimizer,
            formula: Arc::new(formula),
        }
    }

    /// The number of dimensions.
    pub fn dim(&self) -> usize {
        self.bounds.len()
    }

    /// The box: `(low, high)` per dimension.
    pub fn bounds(&self) -> &[(f64, f64)] {
        &self.bounds
    }

    /// The point where the optimum is reached.
    pub fn optimizer_point(&self) -> &[f64] {
        &self.optimizer
    }

    /// The value at `x` (one coordinate per dimension), without a trial.
    pub fn value(&self, x: &[f64]) -> f64 {
        (self.formula)(x)
    }
}

impl TestFunction for Continuous {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn optimum(&self) -> f64 {
        self.optimum
    }

    fn optimizer(&self) -> Vec<(String, ParamValue)> {
        self.names
            .iter()
            .cloned()
            .zip(self.optimizer.iter().map(|x| ParamValue::Float(*x)))
            .collect()
    }

    fn evaluate(&self, trial: &mut Trial) -> Result<f64, TrialError> {
        let mut x = Vec::with_capacity(self.dim());
        for (name, (low, high)) in self.names.iter().zip(&self.bounds) {
            x.push(trial.suggest_float(name, *low, *high)?);
        }
        Ok(self.value(&x))
    }
}

fn cube(d: usize, low: f64, high: f64) -> Vec<(f64, f64)> {
    vec![(low, high); d]
}

/// The sphere `Σ (x_i − s_i)²` on \[-5, 5\]^d, its optimum 0 shifted off the centre to
/// `s_i = 2.5 sin(i + 1)` (so a sampler gains nothing from favouring the middle of the box).
pub fn sphere(d: usize) -> Continuous {
    let shift: Vec<f64> = (0..d).map(|i| 2.5 * ((i + 1) as f64).sin()).collect();
    let s = shift.clone();
    Continuous::new(format!("sphere-{d}d"), cube(d, -5.0, 5.0), 0.0, shift, move |x| {
        x.iter().zip(&s).map(|(x, s)| (x - s).powi(2)).sum()
    })
}

/// Branin–Hoo on \[-5, 10\] × \[0, 15\]: three global minima of 0.397887, at (−π, 12.275),
/// (π, 2.275) and (9.42478, 2.475).
pub fn branin() -> Continuous {
    Continuous::new(
        "branin",
        vec![(-5.0, 10.0), (0.0, 15.0)],
        0.397_887_357_729_738,
        vec![-PI, 12.275],
        |x| {
            let (b, c, t) = (5.1 / (4.0 * PI * PI), 5.0 / PI, 1.0 / (8.0 * PI));
            (x[1] - b * x[0] * x[0] + c * x[0] - 6.0).powi(2) + 10.0 * (1.0 - t) * x[0].cos() + 10.0
        },
    )
}

/// Rosenbrock's valley `Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)²` on \[-5, 10\]^d (`d ≥ 2`):
/// minimum 0 at (1, …, 1), at the end of a long curved valley.
pub fn rosenbrock(d: usize) -> Continuous {
    Continuous::new(format!("rosenbrock-{d}d"), cube(d, -5.0, 10.0), 0.0, vec![1.0; d], |x| {
        x.windows(2).map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2)).sum()
    })
}

/// Rastrigin `10 d + Σ (x_i² − 10 cos 2π x_i)` on \[-5.12, 5.12\]^d: minimum 0 at the origin,
/// among a regular lattice of local minima.
pub fn rastrigin(d: usize) -> Continuous {
    Continuous::new(format!("rastrigin-{d}d"), cube(d, -5.12, 5.12), 0.0, vec![0.0; d], |x| {
        10.0 * x.len() as f64 + x.iter().map(|x| x * x - 10.0 * (2.0 * PI * x).cos()).sum::<f64>()
    })
}

/// Ackley on \[-32.768, 32.768\]^d (a = 20, b = 0.2, c = 2π): minimum 0 at the origin, a
/// narrow hole in a nearly flat, bumpy plain.
pub fn ackley(d: usize) -> Continuous {
    Continuous::new(format!("ackley-{d}d"), cube(d, -32.768, 32.768), 0.0, vec![0.0; d], |x| {
        let n = x.len() as f64;
        let sq = x.iter().map(|x| x * x).sum::<f64>() / n;
        let cos = x.iter().map(|x| (2.0 * PI * x).cos()).sum::<f64>() / n;
        -20.0 * (-0.2 * sq.sqrt()).exp() - cos.exp() + 20.0 + E
    })
}

/// Levy on \[-10, 10\]^d: minimum 0 at (1, …, 1).
pub fn levy(d: usize) -> Continuous {
    Continuous::new(format!("levy-{d}d"), cube(d, -10.0, 10.0), 0.0, vec![1.0; d], |x| {
        let w: Vec<f64> = x.iter().map(|x| 1.0 + (x - 1.0) / 4.0).collect();
        let (first, last) = (w[0], w[w.len() - 1]);
        let middle: f64 = w[..w.len() - 1]
            .iter()
            .map(|w| (w - 1.0).powi(2) * (1.0 + 10.0 * (PI * w + 1.0).sin().powi(2)))
            .sum();
        (PI * first).sin().powi(2)
            + middle
            + (last - 1.0).powi(2) * (1.0 + (2.0 * PI * last).sin().powi(2))
    })
}

/// Styblinski–Tang `½ Σ (x_i⁴ − 16 x_i² + 5 x_i)` on \[-5, 5\]^d: minimum −39.16617 d at
/// x_i = −2.903534.
pub fn styblinski_tang(d: usize) -> Continuous {
    Continuous::new(
        format!("styblinski-tang-{d}d"),
        cube(d, -5.0, 5.0),
        -39.166_165_703_771_42 * d as f64,
        vec![-2.903_534_027_771_178; d],
        |x| 0.5 * x.iter().map(|x| x.powi(4) - 16.0 * x * x + 5.0 * x).sum::<f64>(),
    )
}

/// The Hartmann family `−Σ_i α_i exp(−Σ_j A_ij (x_j − P_ij)²)` on the unit cube.
fn hartmann<const D: usize>(x: &[f64], a: &[[f64; D]; 4], p: &[[f64; D]; 4]) -> f64 {
    const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
    let mut sum = 0.0;
    for i in 0..4 {
        let inner: f64 = (0..D).map(|j| a[i][j] * (x[j] - p[i][j]).powi(2)).sum();
        sum += ALPHA[i] * (-inner).exp();
    }
    -sum
}

/// Hartmann-3 on \[0, 1\]³: minimum −3.86278 at (0.114614, 0.555649, 0.852547).
pub fn hartmann3() -> Continuous {
    const A: [[f64; 3]; 4] =
        [[3.0, 10.0, 30.0], [0.1, 10.0, 35.0], [3.0, 10.0, 30.0], [0.1, 10.0, 35.0]];
    const P: [[f64; 3]; 4] = [
        [0.3689, 0.1170, 0.2673],
        [0.4699, 0.4387, 0.7470],
        [0.1091, 0.8732, 0.5547],
        [0.0381, 0.5743, 0.8828],
    ];
    Continuous::new(
        "hartmann3",
        cube(3, 0.0, 1.0),
        -3.862_78,
        vec![0.114_614, 0.555_649, 0.852_547],
        |x| hartmann(x, &A, &P),
    )
}

/// Hartmann-6 on \[0, 1\]⁶: minimum −3.32237 at
/// (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573).
pub fn hartmann6() -> Continuous {
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
    Continuous::new(
        "hartmann6",
        cube(6, 0.0, 1.0),
        -3.322_37,
        vec![0.201_69, 0.150_011, 0.476_874, 0.275_332, 0.311_652, 0.657_3],
        |x| hartmann(x, &A, &P),
    )
}

/// A mixed space like a model's settings: a float `lr` in \[-5, 5\] (optimum 1), an int
/// `layers` in \[1, 10\] (optimum 3), a log-scaled int `units` in \[1, 1024\] (optimum 64) and a
/// categorical `activation` among `relu`, `tanh`, `sigmoid` (optimum `tanh`).
///
/// `(lr − 1)² + (layers − 3)² + (log₂ units − 6)² / 4 + penalty(activation)`, the penalties
/// being 0.5, 0 and 2: minimum 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct MixedInteger;

const ACTIVATIONS: [&str; 3] = ["relu", "tanh", "sigmoid"];
const ACTIVATION_PENALTY: [f64; 3] = [0.5, 0.0, 2.0];

impl TestFunction for MixedInteger {
    fn name(&self) -> String {
        "mixed-integer".into()
    }

    fn optimum(&self) -> f64 {
        0.0
    }

    fn optimizer(&self) -> Vec<(String, ParamValue)> {
        vec![
            ("lr".into(), ParamValue::Float(1.0)),
            ("layers".into(), ParamValue::Int(3)),
            ("units".into(), ParamValue::Int(64)),
            ("activation".into(), ParamValue::from("tanh")),
        ]
    }

    fn evaluate(&self, trial: &mut Trial) -> Result<f64, TrialError> {
        let lr = trial.suggest_float("lr", -5.0, 5.0)?;
        let layers = trial.suggest_int("layers", 1, 10)?;
        let units = trial.suggest_int_log("units", 1, 1024)?;
        let activation = trial.suggest_categorical("activation", &ACTIVATIONS)?;
        let penalty = ACTIVATIONS
            .iter()
            .position(|a| *a == activation)
            .map_or(f64::INFINITY, |i| ACTIVATION_PENALTY[i]);
        Ok((lr - 1.0).powi(2)
            + ((layers - 3) as f64).powi(2)
            + ((units as f64).log2() - 6.0).powi(2) / 4.0
            + penalty)
    }
}

/// A conditional space, like choosing a model and then its own settings. The categorical
/// `model` decides which parameters exist:
///
/// - `linear`: `alpha`, log-scaled in \[1e-4, 10\]; value `0.5 + (log₁₀ alpha + 2)²`
///   (best 0.5 at alpha = 0.01);
/// - `tree`: `depth`, an int in \[1, 16\], and `min_leaf`, a float in \[0, 1\];
///   value `((depth − 6) / 4)² + (min_leaf − 0.25)²` (best 0 at depth 6, min_leaf 0.25);
/// - `knn`: `k`, an int in \[1, 50\]; value `1 + ((k − 12) / 10)²` (best 1 at k = 12).
///
/// Minimum 0, only in the `tree` branch.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conditional;

const MODELS: [&str; 3] = ["linear", "tree", "knn"];

impl TestFunction for Conditional {
    fn name(&self) -> String {
        "conditional".into()
    }

    fn optimum(&self) -> f64 {
        0.0
    }

    fn optimizer(&self) -> Vec<(String, ParamValue)> {
        vec![
            ("model".into(), ParamValue::from("tree")),
            ("depth".into(), ParamValue::Int(6)),
            ("min_leaf".into(), ParamValue::Float(0.25)),
        ]
    }

    fn evaluate(&self, trial: &mut Trial) -> Result<f64, TrialError> {
        match trial.suggest_categorical("model", &MODELS)? {
            "linear" => {
                let alpha = trial.suggest_float_log("alpha", 1e-4, 10.0)?;
                Ok(0.5 + (alpha.log10() + 2.0).powi(2))
            }
            "tree" => {
                let depth = trial.suggest_int("depth", 1, 16)?;
                let min_leaf = trial.suggest_float("min_leaf", 0.0, 1.0)?;
                Ok(((depth - 6) as f64 / 4.0).powi(2) + (min_leaf - 0.25).powi(2))
            }
            _ => {
                let k = trial.suggest_int("k", 1, 50)?;
                Ok(1.0 + ((k - 12) as f64 / 10.0).powi(2))
            }
        }
    }
}

/// The standard suite: every function above, continuous ones in their usual dimensions.
pub fn suite() -> Vec<Box<dyn TestFunction>> {
    vec![
        Box::new(sphere(5)),
        Box::new(branin()),
        Box::new(rosenbrock(4)),
        Box::new(rastrigin(5)),
        Box::new(ackley(5)),
        Box::new(levy(5)),
        Box::new(styblinski_tang(5)),
        Box::new(hartmann3()),
        Box::new(hartmann6()),
        Box::new(MixedInteger),
        Box::new(Conditional),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunewise_core::{Budget, RandomSampler, Study, TrialState};

    /// The value at the known optimizer, through the engine: the optimizer is enqueued and one
    /// trial runs the define-by-run objective on it.
    fn value_at_optimizer(f: &dyn TestFunction) -> f64 {
        let study = Study::builder().direction(f.direction()).seed(3).create().unwrap();
        study.enqueue_trial(f.optimizer()).unwrap();
        study.optimize(|t: &mut Trial| f.evaluate(t), Budget::trials(1)).unwrap();
        let trial = study.trial(0).unwrap();
        assert_eq!(trial.state, TrialState::Complete, "{}: {:?}", f.name(), trial.fail_reason);
        trial.value().unwrap()
    }

    #[test]
    fn each_function_reaches_its_optimum_at_its_optimizer() {
        for f in suite().iter().map(|f| &**f).chain([
            &sphere(1) as &dyn TestFunction,
            &sphere(20),
            &rosenbrock(2),
            &rastrigin(10),
            &ackley(1),
            &levy(1),
            &styblinski_tang(1),
        ]) {
            let v = value_at_optimizer(f);
            assert!(
                (v - f.optimum()).abs() <= 1e-4,
                "{}: value {v} at the optimizer, optimum {}",
                f.name(),
                f.optimum()
            );
        }
    }

    #[test]
    fn published_optima() {
        assert!((branin().optimum() - 0.397_887).abs() < 1e-6);
        assert!((hartmann3().optimum() + 3.862_78).abs() < 1e-6);
        assert!((hartmann6().optimum() + 3.322_37).abs() < 1e-6);
        // Branin's other two minimizers.
        let b = branin();
        for x in [[PI, 2.275], [9.424_78, 2.475]] {
            assert!((b.value(&x) - b.optimum()).abs() < 1e-4, "branin at {x:?}");
        }
    }

    #[test]
    fn functions_run_in_a_study_and_stay_above_their_optimum() {
        for f in suite() {
            let study = Study::builder().sampler(RandomSampler::with_seed(11)).create().unwrap();
            let report =
                study.optimize(|t: &mut Trial| f.evaluate(t), Budget::trials(200)).unwrap();
            assert_eq!(report.trials, 200, "{}", f.name());
            for t in study.trials().unwrap() {
                assert_eq!(t.state, TrialState::Complete, "{}: {:?}", f.name(), t.fail_reason);
                let regret = f.regret(t.value().unwrap());
                assert!(regret >= -1e-4, "{} below its optimum: regret {regret}", f.name());
            }
        }
    }

    #[test]
    fn conditional_parameters_depend_on_the_branch() {
        let study = Study::builder().seed(9).create().unwrap();
        study.optimize(|t: &mut Trial| Conditional.evaluate(t), Budget::trials(60)).unwrap();
        let mut branches = std::collections::BTreeSet::new();
        for t in study.trials().unwrap() {
            let model = t.param_value("model").unwrap();
            let names: Vec<&str> = t.params.iter().map(|p| &*p.name).collect();
            let expected: &[&str] = match model.as_str().unwrap() {
                "linear" => &["model", "alpha"],
                "tree" => &["model", "depth", "min_leaf"],
                _ => &["model", "k"],
            };
            assert_eq!(names, expected);
            branches.insert(model.to_string());
        }
        assert_eq!(branches.len(), 3, "every branch is visited in 60 random trials");
    }

    #[test]
    fn mixed_integer_suggests_each_kind() {
        let study = Study::builder().seed(2).create().unwrap();
        study.optimize(|t: &mut Trial| MixedInteger.evaluate(t), Budget::trials(20)).unwrap();
        let t = study.trial(0).unwrap();
        assert!(matches!(t.param_value("lr"), Some(ParamValue::Float(_))));
        assert!(matches!(t.param_value("layers"), Some(ParamValue::Int(1..=10))));
        assert!(matches!(t.param_value("units"), Some(ParamValue::Int(1..=1024))));
        assert!(matches!(t.param_value("activation"), Some(ParamValue::Str(_))));
    }

    #[test]
    fn continuous_value_matches_the_trial_value() {
        let f = hartmann6();
        let study = Study::builder().seed(4).create().unwrap();
        study.optimize(|t: &mut Trial| f.evaluate(t), Budget::trials(10)).unwrap();
        for t in study.trials().unwrap() {
            let x: Vec<f64> = (0..6)
                .map(|i| t.param_value(&format!("x{i}")).unwrap().as_f64().unwrap())
                .collect();
            assert_eq!(f.value(&x), t.value().unwrap());
        }
    }
}

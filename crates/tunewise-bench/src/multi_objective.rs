//! Test functions of several objectives with known Pareto fronts, written define-by-run.
//!
//! Every function implements [`MultiObjectiveFunction`], the sibling of
//! [`TestFunction`](crate::TestFunction) for several objectives (all minimized): it suggests its
//! parameters `x0`, `x1`, … (floats in \[0, 1\]) on a [`Trial`] and returns one value per
//! objective. Instead of an optimum value, each one knows a reference point and the hypervolume
//! its true Pareto front dominates up to that point, computed analytically (numerically for
//! ZDT3's disconnected front). A run's quality is its **hypervolume regret**: the true front's
//! hypervolume minus the hypervolume of the points found, 0 only when the front is covered.
//!
//! | function | variables | objectives | true front | reference point | front hypervolume |
//! | --- | --- | --- | --- | --- | --- |
//! | [`zdt1`] | 30 | 2 | f₂ = 1 − √f₁ | (11, 11) | 121 − 1/3 |
//! | [`zdt2`] | 30 | 2 | f₂ = 1 − f₁² | (11, 11) | 121 − 2/3 |
//! | [`zdt3`] | 30 | 2 | the non-dominated parts of f₂ = 1 − √f₁ − f₁ sin 10πf₁ | (11, 11) | 128.7781 (numerical) |
//! | [`dtlz1`]`(m)` | m + 4 | m | the simplex Σ fᵢ = ½ | 400 per objective | 400ᵐ − ½ᵐ / m! |
//! | [`dtlz2`]`(m)` | m + 9 | m | the unit sphere, fᵢ ≥ 0 | 2 per objective | 2ᵐ − (volume of the unit ball's positive orthant) |
//!
//! ZDT follows Zitzler, Deb and Thiele (2000), "Comparison of multiobjective evolutionary
//! algorithms: empirical results"; DTLZ follows Deb, Thiele, Laumanns and Zitzler (2002),
//! "Scalable multi-objective optimization test problems", with their usual sizes (k = 5 distance
//! variables for DTLZ1, k = 10 for DTLZ2). The reference points are wide enough that random
//! search at 100 trials already dominates part of the box, so the regret separates samplers at
//! small budgets (the ZDT and DTLZ1 ones are the conventional 11 and 400; DTLZ2's 2 instead of the
//! usual 1.1, which random points in 11 dimensions almost never beat).

use std::f64::consts::PI;
use std::fmt;
use std::sync::{Arc, OnceLock};

use tunewise_core::{Direction, Trial, TrialError};

use crate::hypervolume::hypervolume;

/// A test function of several objectives, all minimized, with a known Pareto front.
pub trait MultiObjectiveFunction: Send + Sync + fmt::Debug {
    /// A short name with the number of objectives (`"dtlz2-3obj"`).
    fn name(&self) -> String;

    /// The number of objectives.
    fn n_objectives(&self) -> usize;

    /// One direction per objective (every objective is minimized).
    fn directions(&self) -> Vec<Direction> {
        vec![Direction::Minimize; self.n_objectives()]
    }

    /// The point bounding the hypervolume.
    fn reference_point(&self) -> Vec<f64>;

    /// The hypervolume the true Pareto front dominates up to the reference point.
    fn front_hypervolume(&self) -> f64;

    /// Suggests the parameters on `trial` and returns one value per objective.
    fn evaluate(&self, trial: &mut Trial) -> Result<Vec<f64>, TrialError>;

    /// The hypervolume regret of a set of objective vectors: the true front's hypervolume minus
    /// theirs (0 when they cover the front, the whole front hypervolume when none of them
    /// dominates the reference point).
    fn hypervolume_regret(&self, points: &[Vec<f64>]) -> f64 {
        self.front_hypervolume() - hypervolume(points, &self.reference_point())
    }
}

type VectorFormula = Arc<dyn Fn(&[f64]) -> Vec<f64> + Send + Sync>;

/// A function of several objectives on the unit cube: one float parameter in \[0, 1\] per
/// variable, named `x0`, `x1`, ….
#[derive(Clone)]
pub struct MultiContinuous {
    name: String,
    names: Vec<String>,
    n_objectives: usize,
    /// How many leading variables place a point along the front (the rest set its distance).
    position_vars: usize,
    /// The value of every distance variable on the true front.
    front_distance_value: f64,
    reference: Vec<f64>,
    front_hypervolume: f64,
    formula: VectorFormula,
}

impl fmt::Debug for MultiContinuous {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiContinuous")
            .field("name", &self.name)
            .field("dim", &self.names.len())
            .field("n_objectives", &self.n_objectives)
            .field("reference", &self.reference)
            .field("front_hypervolume", &self.front_hypervolume)
            .finish_non_exhaustive()
    }
}

impl MultiContinuous {
    /// The number of variables.
    pub fn dim(&self) -> usize {
        self.names.len()
    }

    /// The objective values at `x` (one coordinate in \[0, 1\] per variable), without a trial.
    pub fn value(&self, x: &[f64]) -> Vec<f64> {
        (self.formula)(x)
    }

    /// A Pareto-optimal point: `position` (one coordinate in \[0, 1\] per position variable:
    /// one for ZDT, m − 1 for DTLZ) chooses where on the front; the distance variables take their
    /// optimal value (0 for ZDT, ½ for DTLZ).
    ///
    /// # Panics
    ///
    /// If `position` does not have one coordinate per position variable.
    pub fn pareto_optimal_point(&self, position: &[f64]) -> Vec<f64> {
        assert_eq!(position.len(), self.position_vars, "{}: position variables", self.name);
        let mut x = position.to_vec();
        x.resize(self.dim(), self.front_distance_value);
        x
    }
}

impl MultiObjectiveFunction for MultiContinuous {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn n_objectives(&self) -> usize {
        self.n_objectives
    }

    fn reference_point(&self) -> Vec<f64> {
        self.reference.clone()
    }

    fn front_hypervolume(&self) -> f64 {
        self.front_hypervolume
    }

    fn evaluate(&self, trial: &mut Trial) -> Result<Vec<f64>, TrialError> {
        let mut x = Vec::with_capacity(self.dim());
        for name in &self.names {
            x.push(trial.suggest_float(name, 0.0, 1.0)?);
        }
        Ok(self.value(&x))
    }
}

/// Number of variables of the ZDT functions.
pub const ZDT_DIM: usize = 30;
/// Reference point of the ZDT functions, per objective.
pub const ZDT_REFERENCE: f64 = 11.0;
/// Distance variables of DTLZ1.
pub const DTLZ1_K: usize = 5;
/// Reference point of DTLZ1, per objective.
pub const DTLZ1_REFERENCE: f64 = 400.0;
/// Distance variables of DTLZ2.
pub const DTLZ2_K: usize = 10;
/// Reference point of DTLZ2, per objective.
pub const DTLZ2_REFERENCE: f64 = 2.0;

fn zdt(
    name: &str,
    front_hypervolume: f64,
    h: impl Fn(f64, f64) -> f64 + Send + Sync + 'static,
) -> MultiContinuous {
    MultiContinuous {
        name: name.into(),
        names: (0..ZDT_DIM).map(|i| format!("x{i}")).collect(),
        n_objectives: 2,
        position_vars: 1,
        front_distance_value: 0.0,
        reference: vec![ZDT_REFERENCE; 2],
        front_hypervolume,
        formula: Arc::new(move |x| {
            let g = 1.0 + 9.0 * x[1..].iter().sum::<f64>() / (x.len() - 1) as f64;
            vec![x[0], g * h(x[0], g)]
        }),
    }
}

/// ZDT1: `f₁ = x₀`, `f₂ = g (1 − √(f₁/g))` with `g = 1 + 9 Σ_{i≥1} xᵢ / 29`; convex front
/// `f₂ = 1 − √f₁` at `g = 1` (x₁ … x₂₉ = 0).
pub fn zdt1() -> MultiContinuous {
    let r = ZDT_REFERENCE;
    zdt("zdt1", r * r - 1.0 / 3.0, |f1, g| 1.0 - (f1 / g).sqrt())
}

/// ZDT2: `f₂ = g (1 − (f₁/g)²)`; concave front `f₂ = 1 − f₁²` at `g = 1`.
pub fn zdt2() -> MultiContinuous {
    let r = ZDT_REFERENCE;
    zdt("zdt2", r * r - 2.0 / 3.0, |f1, g| 1.0 - (f1 / g).powi(2))
}

/// ZDT3: `f₂ = g (1 − √(f₁/g) − (f₁/g) sin 10πf₁)`; the front is the non-dominated part of
/// `f₂ = 1 − √f₁ − f₁ sin 10πf₁` at `g = 1`: five disconnected pieces.
pub fn zdt3() -> MultiContinuous {
    static FRONT: OnceLock<f64> = OnceLock::new();
    let front = *FRONT.get_or_init(|| zdt_front_hypervolume(zdt3_curve, ZDT_REFERENCE));
    zdt("zdt3", front, |f1, g| 1.0 - (f1 / g).sqrt() - f1 / g * (10.0 * PI * f1).sin())
}

fn zdt3_curve(f1: f64) -> f64 {
    1.0 - f1.sqrt() - f1 * (10.0 * PI * f1).sin()
}

/// The hypervolume up to `(r, r)` of the front of a ZDT function whose `g = 1` curve is
/// `f₂ = curve(f₁)` on \[0, 1\], by the midpoint rule: a point `(a, b)` is dominated exactly
/// when `b` is at least the lowest value of the curve on \[0, min(a, 1)\]. One million steps:
/// error below 1e-5.
pub fn zdt_front_hypervolume(curve: fn(f64) -> f64, r: f64) -> f64 {
    const STEPS: usize = 1_000_000;
    let dt = 1.0 / STEPS as f64;
    let mut lowest = f64::INFINITY;
    let mut area = 0.0;
    for i in 0..STEPS {
        lowest = lowest.min(curve(i as f64 * dt)).min(curve((i as f64 + 0.5) * dt));
        area += (r - lowest.min(r)) * dt;
    }
    lowest = lowest.min(curve(1.0));
    area + (r - 1.0) * (r - lowest)
}

fn factorial(n: usize) -> f64 {
    (1..=n).map(|i| i as f64).product()
}

/// DTLZ1 with `m` objectives and `m + 4` variables: `g = 100 (5 + Σ ((xᵢ − ½)² −
/// cos 20π(xᵢ − ½)))` over the last five variables (multimodal: 11⁵ − 1 local fronts),
/// `f₁ = ½ x₀ … x_{m−2} (1 + g)`, …, `f_m = ½ (1 − x₀)(1 + g)`; linear front `Σ fᵢ = ½` at
/// `g = 0` (distance variables ½).
///
/// # Panics
///
/// If `m < 2`.
pub fn dtlz1(m: usize) -> MultiContinuous {
    assert!(m >= 2, "DTLZ1 needs at least 2 objectives");
    let r = DTLZ1_REFERENCE;
    MultiContinuous {
        name: format!("dtlz1-{m}obj"),
        names: (0..m + DTLZ1_K - 1).map(|i| format!("x{i}")).collect(),
        n_objectives: m,
        position_vars: m - 1,
        front_distance_value: 0.5,
        reference: vec![r; m],
        front_hypervolume: r.powi(m as i32) - 0.5f64.powi(m as i32) / factorial(m),
        formula: Arc::new(move |x| {
            let (position, distance) = x.split_at(m - 1);
            let g = 100.0
                * (distance.len() as f64
                    + distance
                        .iter()
                        .map(|x| (x - 0.5).powi(2) - (20.0 * PI * (x - 0.5)).cos())
                        .sum::<f64>());
            (0..m)
                .map(|i| {
                    let kept = m - 1 - i;
                    let mut f = 0.5 * (1.0 + g) * position[..kept].iter().product::<f64>();
                    if i > 0 {
                        f *= 1.0 - position[kept];
                    }
                    f
                })
                .collect()
        }),
    }
}

/// DTLZ2 with `m` objectives and `m + 9` variables: `g = Σ (xᵢ − ½)²` over the last ten,
/// `f₁ = (1 + g) cos(x₀π/2) … cos(x_{m−2}π/2)`, …, `f_m = (1 + g) sin(x₀π/2)`; spherical front
/// `Σ fᵢ² = 1` at `g = 0` (distance variables ½).
///
/// # Panics
///
/// If `m` is not 2 or 3 (the front hypervolume is known in closed form for those).
pub fn dtlz2(m: usize) -> MultiContinuous {
    assert!(m == 2 || m == 3, "DTLZ2 is defined here for 2 or 3 objectives");
    let r = DTLZ2_REFERENCE;
    // The unit ball's positive orthant: a quarter disc, an eighth of a ball.
    let orthant = if m == 2 { PI / 4.0 } else { PI / 6.0 };
    MultiContinuous {
        name: format!("dtlz2-{m}obj"),
        names: (0..m + DTLZ2_K - 1).map(|i| format!("x{i}")).collect(),
        n_objectives: m,
        position_vars: m - 1,
        front_distance_value: 0.5,
        reference: vec![r; m],
        front_hypervolume: r.powi(m as i32) - orthant,
        formula: Arc::new(move |x| {
            let (position, distance) = x.split_at(m - 1);
            let g: f64 = distance.iter().map(|x| (x - 0.5).powi(2)).sum();
            (0..m)
                .map(|i| {
                    let kept = m - 1 - i;
                    let mut f = (1.0 + g)
                        * position[..kept].iter().map(|x| (x * PI / 2.0).cos()).product::<f64>();
                    if i > 0 {
                        f *= (position[kept] * PI / 2.0).sin();
                    }
                    f
                })
                .collect()
        }),
    }
}

/// The multi-objective suite: ZDT1–3, DTLZ1 and DTLZ2 with 2 and 3 objectives.
pub fn suite() -> Vec<Box<dyn MultiObjectiveFunction>> {
    vec![
        Box::new(zdt1()),
        Box::new(zdt2()),
        Box::new(zdt3()),
        Box::new(dtlz1(2)),
        Box::new(dtlz1(3)),
        Box::new(dtlz2(2)),
        Box::new(dtlz2(3)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize) -> impl Iterator<Item = f64> {
        (0..=n).map(move |i| i as f64 / n as f64)
    }

    #[test]
    fn zdt_fronts_at_g_one() {
        let (f1, f2, f3) = (zdt1(), zdt2(), zdt3());
        for t in grid(50) {
            let x = f1.pareto_optimal_point(&[t]);
            assert_eq!(x.len(), 30);
            let v = f1.value(&x);
            assert_eq!(v[0], t);
            assert!((v[1] - (1.0 - t.sqrt())).abs() < 1e-12, "zdt1 at {t}: {v:?}");
            let v = f2.value(&x);
            assert!((v[1] - (1.0 - t * t)).abs() < 1e-12, "zdt2 at {t}: {v:?}");
            let v = f3.value(&x);
            assert!((v[1] - zdt3_curve(t)).abs() < 1e-12, "zdt3 at {t}: {v:?}");
        }
        // Off the front, g > 1 lifts f₂.
        let mut x = f1.pareto_optimal_point(&[0.25]);
        x[5] = 0.5;
        assert!(f1.value(&x)[1] > 0.5 + 1e-3);
    }

    #[test]
    fn zdt_front_hypervolumes_match_their_integrals() {
        fn zdt1_curve(t: f64) -> f64 {
            1.0 - t.sqrt()
        }
        fn zdt2_curve(t: f64) -> f64 {
            1.0 - t * t
        }
        assert!(
            (zdt_front_hypervolume(zdt1_curve, 11.0) - zdt1().front_hypervolume()).abs() < 1e-5
        );
        assert!(
            (zdt_front_hypervolume(zdt2_curve, 11.0) - zdt2().front_hypervolume()).abs() < 1e-5
        );
        // ZDT3's disconnected front reaches down to f₂ = −0.7733, below the others.
        let hv = zdt3().front_hypervolume();
        assert!((hv - 128.7781).abs() < 1e-3, "zdt3 front hypervolume {hv}");
    }

    #[test]
    fn sampled_fronts_approach_the_front_hypervolume_from_below() {
        let f = zdt1();
        let points: Vec<Vec<f64>> =
            grid(2000).map(|t| f.value(&f.pareto_optimal_point(&[t]))).collect();
        let regret = f.hypervolume_regret(&points);
        assert!((0.0..1e-3).contains(&regret), "zdt1 regret of a dense front {regret}");
        let f = zdt3();
        let points: Vec<Vec<f64>> =
            grid(4000).map(|t| f.value(&f.pareto_optimal_point(&[t]))).collect();
        let regret = f.hypervolume_regret(&points);
        assert!((0.0..1e-3).contains(&regret), "zdt3 regret of a dense front {regret}");
        for f in [dtlz1(2), dtlz2(2)] {
            let points: Vec<Vec<f64>> =
                grid(2000).map(|t| f.value(&f.pareto_optimal_point(&[t]))).collect();
            let regret = f.hypervolume_regret(&points);
            assert!((0.0..1e-3).contains(&regret), "{} regret of a dense front {regret}", f.name);
        }
        for f in [dtlz1(3), dtlz2(3)] {
            let mut points = Vec::new();
            for a in grid(60) {
                for b in grid(60) {
                    points.push(f.value(&f.pareto_optimal_point(&[a, b])));
                }
            }
            let regret = f.hypervolume_regret(&points);
            assert!((0.0..0.05).contains(&regret), "{} regret of a dense front {regret}", f.name);
        }
    }

    #[test]
    fn dtlz_fronts() {
        for m in [2, 3] {
            let (d1, d2) = (dtlz1(m), dtlz2(m));
            assert_eq!(d1.dim(), m + 4);
            assert_eq!(d2.dim(), m + 9);
            for a in grid(10) {
                for b in grid(10) {
                    let position = &[a, b][..m - 1];
                    let v = d1.value(&d1.pareto_optimal_point(position));
                    assert_eq!(v.len(), m);
                    assert!((v.iter().sum::<f64>() - 0.5).abs() < 1e-9, "dtlz1 {v:?}");
                    assert!(v.iter().all(|f| *f >= 0.0));
                    let v = d2.value(&d2.pareto_optimal_point(position));
                    let norm: f64 = v.iter().map(|f| f * f).sum();
                    assert!((norm - 1.0).abs() < 1e-12, "dtlz2 {v:?} off the unit sphere");
                }
            }
            // Away from ½ the distance variables push the point off the front.
            let mut x = d2.pareto_optimal_point(&vec![0.3; m - 1]);
            x[m] = 0.9;
            let norm: f64 = d2.value(&x).iter().map(|f| f * f).sum();
            assert!(norm > 1.2);
        }
        assert!((dtlz1(2).front_hypervolume() - (160_000.0 - 0.125)).abs() < 1e-9);
        assert!((dtlz2(3).front_hypervolume() - (8.0 - PI / 6.0)).abs() < 1e-12);
    }

    #[test]
    fn functions_run_in_a_study() {
        use tunewise_core::{Budget, Study, TrialState};
        for f in suite() {
            let study = Study::builder().directions(f.directions()).seed(5).create().unwrap();
            study.optimize(|t: &mut Trial| f.evaluate(t), Budget::trials(30)).unwrap();
            let trials = study.trials().unwrap();
            let points: Vec<Vec<f64>> = trials
                .iter()
                .inspect(|t| assert_eq!(t.state, TrialState::Complete, "{}", f.name()))
                .map(|t| t.values.clone().unwrap())
                .collect();
            assert!(points.iter().all(|p| p.len() == f.n_objectives()));
            let regret = f.hypervolume_regret(&points);
            assert!(regret > 0.0 && regret <= f.front_hypervolume(), "{}: {regret}", f.name());
        }
    }
}

//! Gradient-based tuning of λ: exact hypergradients against finite differences, the search
//! against a fine grid, the study integration and the refusal of bad inputs.

use nalgebra::{DMatrix, DVector};
use tunewise_core::rng::Rng;
use tunewise_core::{Direction, Study};
use tunewise_ml::{
    record_in_study, Error, Folds, GradientSearch, HyperProblem, LogisticProblem, RidgeProblem,
    LOG_LAMBDA,
};

/// A row-major design of `n` rows with standard normal features.
fn design(rng: &mut Rng, n: usize, p: usize) -> Vec<f64> {
    (0..n * p).map(|_| rng.normal()).collect()
}

/// Linear targets `x w + 1 + noise` for a random `w`: few records and much noise, so the
/// best λ is inside the range.
struct Regression {
    x_train: Vec<f64>,
    y_train: Vec<f64>,
    x_val: Vec<f64>,
    y_val: Vec<f64>,
    p: usize,
}

fn regression(seed: u64) -> Regression {
    let (n, m, p) = (30, 40, 8);
    let mut rng = Rng::new(seed);
    let w: Vec<f64> = (0..p).map(|_| rng.normal() * 0.7).collect();
    let targets = |x: &[f64], rng: &mut Rng| -> Vec<f64> {
        x.chunks(p)
            .map(|r| r.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() + 1.0 + 2.0 * rng.normal())
            .collect()
    };
    let x_train = design(&mut rng, n, p);
    let y_train = targets(&x_train, &mut rng);
    let x_val = design(&mut rng, m, p);
    let y_val = targets(&x_val, &mut rng);
    Regression { x_train, y_train, x_val, y_val, p }
}

/// Labels drawn from a logistic model with a random `w`.
fn classification(seed: u64, n: usize, m: usize) -> Regression {
    let p = 6;
    let mut rng = Rng::new(seed);
    let w: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
    let labels = |x: &[f64], rng: &mut Rng| -> Vec<f64> {
        x.chunks(p)
            .map(|r| {
                let z: f64 = r.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() - 0.3;
                let prob = 1.0 / (1.0 + (-z).exp());
                if rng.uniform() < prob {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    };
    let x_train = design(&mut rng, n, p);
    let y_train = labels(&x_train, &mut rng);
    let x_val = design(&mut rng, m, p);
    let y_val = labels(&x_val, &mut rng);
    Regression { x_train, y_train, x_val, y_val, p }
}

fn ridge(d: &Regression) -> RidgeProblem {
    RidgeProblem::new(&d.x_train, &d.y_train, &d.x_val, &d.y_val, d.p).unwrap()
}

fn logistic(d: &Regression) -> LogisticProblem {
    LogisticProblem::new(&d.x_train, &d.y_train, &d.x_val, &d.y_val, d.p).unwrap()
}

/// Central difference of the loss in ln λ.
fn central_difference(problem: &dyn HyperProblem, lambda: f64) -> f64 {
    let h = 1e-4;
    let up = problem.hyper_loss(lambda * f64::exp(h)).unwrap().value;
    let down = problem.hyper_loss(lambda * f64::exp(-h)).unwrap().value;
    (up - down) / (2.0 * h)
}

fn assert_gradient_matches(problem: &dyn HyperProblem, lambdas: &[f64], what: &str) {
    for &lambda in lambdas {
        let exact = problem.hyper_loss(lambda).unwrap();
        let fd = central_difference(problem, lambda);
        let rel = (exact.gradient - fd).abs() / fd.abs();
        assert!(
            rel < 1e-5,
            "{what} at λ = {lambda}: exact {} vs finite difference {fd} (relative error {rel:e})",
            exact.gradient
        );
    }
}

#[test]
fn ridge_hypergradient_matches_central_differences() {
    for seed in [1, 2] {
        let p = ridge(&regression(seed));
        assert_gradient_matches(&p, &[1e-4, 1e-2, 0.3, 5.0, 50.0], "ridge");
    }
}

#[test]
fn logistic_hypergradient_matches_central_differences() {
    for seed in [3, 4] {
        let p = logistic(&classification(seed, 60, 80));
        assert_gradient_matches(&p, &[1e-4, 1e-2, 0.3, 5.0], "logistic");
    }
}

#[test]
fn logistic_on_separable_data_has_an_exact_hypergradient() {
    // Labels are the sign of the first feature: perfectly separable, so without a penalty
    // the weights would diverge.
    let mut rng = Rng::new(9);
    let x = design(&mut rng, 40, 3);
    let y: Vec<f64> = x.chunks(3).map(|r| if r[0] > 0.0 { 1.0 } else { 0.0 }).collect();
    let p = LogisticProblem::new(&x[..60], &y[..20], &x[60..], &y[20..], 3).unwrap();
    let fit = p.fit(1e-5).unwrap();
    assert!(fit.weights.iter().all(|w| w.is_finite()) && fit.weights[0] > 10.0, "{fit:?}");
    // Far below any useful penalty the fit still converges, to large finite weights.
    let fit = p.fit(1e-10).unwrap();
    assert!(fit.weights.iter().all(|w| w.is_finite()) && fit.weights[0] > 30.0, "{fit:?}");
    assert_gradient_matches(&p, &[1e-5, 1e-3, 0.1], "separable logistic");
}

/// Three folds over 90 records: fold k validates on records k, k + 3, k + 6, …
fn three_folds(n: usize) -> Vec<(Vec<usize>, Vec<usize>)> {
    (0..3)
        .map(|k| {
            let (val, train): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| i % 3 == k);
            (train, val)
        })
        .collect()
}

#[test]
fn folds_average_value_and_gradient_and_match_finite_differences() {
    let d = classification(5, 90, 1);
    let folds =
        LogisticProblem::cross_validated(&d.x_train, &d.y_train, d.p, &three_folds(90)).unwrap();
    let h = folds.hyper_loss(0.05).unwrap();
    assert_eq!(h.fits, 3);
    let parts: Vec<_> = folds.problems().iter().map(|p| p.hyper_loss(0.05).unwrap()).collect();
    let mean = parts.iter().map(|p| p.value).sum::<f64>() / 3.0;
    assert!((h.value - mean).abs() < 1e-14);
    assert_gradient_matches(&folds, &[1e-3, 0.05, 2.0], "3-fold logistic");

    let r = regression(6);
    let ridge_folds =
        RidgeProblem::cross_validated(&r.x_train, &r.y_train, r.p, &three_folds(30)).unwrap();
    assert_gradient_matches(&ridge_folds, &[1e-3, 0.5, 20.0], "3-fold ridge");
}

/// Searches the problem with the default settings and compares with a 2,000-point grid of
/// ln λ over the same bounds: the search must reach the grid's best loss (to 1e-6 relative)
/// with at least 20 times fewer fits. Prints the figures quoted in docs/ml.md.
fn beats_fine_grid(problem: &dyn HyperProblem, low: f64, high: f64, what: &str) {
    let search = GradientSearch::builder(low, high).build().unwrap();
    let out = search.run(problem).unwrap();
    let grid_points = 2000;
    let mut grid_fits = 0;
    let mut grid_best = f64::INFINITY;
    for i in 0..grid_points {
        let x = low + (high - low) * i as f64 / (grid_points - 1) as f64;
        let h = problem.hyper_loss(x.exp()).unwrap();
        grid_fits += h.fits;
        grid_best = grid_best.min(h.value);
    }
    println!(
        "{what}: gradient search loss {:.10} at ln λ = {:.4} with {} fits; \
         {grid_points}-point grid loss {grid_best:.10} with {grid_fits} fits ({:.0}× fewer)",
        out.best_loss,
        out.best_log_lambda,
        out.fits,
        grid_fits as f64 / out.fits as f64
    );
    assert!(
        out.best_loss <= grid_best * (1.0 + 1e-6),
        "{what}: search {} vs grid {grid_best}",
        out.best_loss
    );
    assert!(out.fits * 20 <= grid_fits, "{what}: {} fits vs grid {grid_fits}", out.fits);
    assert_eq!(out.fits, out.evaluations.len() * (grid_fits / grid_points));
}

#[test]
fn ridge_search_matches_a_fine_grid_with_far_fewer_fits() {
    for seed in [1, 2, 7] {
        beats_fine_grid(&ridge(&regression(seed)), -10.0, 5.0, &format!("ridge seed {seed}"));
    }
}

#[test]
fn logistic_search_matches_a_fine_grid_with_far_fewer_fits() {
    for seed in [3, 4] {
        let p = logistic(&classification(seed, 60, 80));
        beats_fine_grid(&p, -10.0, 4.0, &format!("logistic seed {seed}"));
    }
    let d = classification(5, 90, 1);
    let folds =
        LogisticProblem::cross_validated(&d.x_train, &d.y_train, d.p, &three_folds(90)).unwrap();
    beats_fine_grid(&folds, -10.0, 4.0, "3-fold logistic seed 5");
}

#[test]
fn refine_from_a_studys_best_trials_and_record_the_search() {
    let p = ridge(&regression(2));
    let search = GradientSearch::builder(-10.0, 5.0).build().unwrap();
    let coarse = GradientSearch::builder(-10.0, 5.0).coarse_points(6).max_steps(1).build().unwrap();
    let study = Study::builder().direction(Direction::Minimize).create().unwrap();
    let first = coarse.run(&p).unwrap();
    record_in_study(&study, &coarse, &first).unwrap();
    let starts = GradientSearch::starts_from_study(&study, 2).unwrap();
    assert_eq!(starts.len(), 2);
    assert_eq!(starts[0], first.best_log_lambda);

    let refined = search.refine(&p, &starts).unwrap();
    assert!(refined.best_loss < first.best_loss);
    assert!(refined.best_gradient.abs() < 1e-6 * refined.best_loss, "{refined:?}");
    record_in_study(&study, &search, &refined).unwrap();
    let trials = study.trials().unwrap();
    assert_eq!(trials.len(), first.evaluations.len() + refined.evaluations.len());
    assert_eq!(study.best_value().unwrap(), refined.best_loss);
    let best = study.best_trial().unwrap();
    assert_eq!(best.param(LOG_LAMBDA).unwrap().internal, refined.best_log_lambda);
}

#[test]
fn an_optimum_beyond_the_bounds_stops_at_the_bound() {
    // Seed 1's best ln λ is about −6.02 (see the grid test): below these bounds.
    let p = ridge(&regression(1));
    let search = GradientSearch::builder(-3.0, 5.0).build().unwrap();
    let out = search.refine(&p, &[4.0]).unwrap();
    assert_eq!(out.best_log_lambda, -3.0, "{out:?}");
    assert!(out.best_gradient > 0.0, "{out:?}");
    let out = search.run(&p).unwrap();
    assert_eq!(out.best_log_lambda, -3.0, "{out:?}");
}

fn message(e: Error) -> String {
    e.to_string()
}

#[test]
fn bad_inputs_are_refused_with_errors_naming_the_problem() {
    let d = regression(1);
    let p = ridge(&d);
    let l = logistic(&classification(3, 20, 20));
    for lambda in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(message(p.hyper_loss(lambda).unwrap_err()).contains("lambda must be finite"));
        assert!(message(l.fit(lambda).unwrap_err()).contains("lambda must be finite"));
    }
    let e = RidgeProblem::new(&d.x_train, &d.y_train[1..], &d.x_val, &d.y_val, d.p).unwrap_err();
    assert!(message(e).contains("29 targets"));
    let e = RidgeProblem::new(&d.x_train[1..], &d.y_train, &d.x_val, &d.y_val, d.p).unwrap_err();
    assert!(message(e).contains("not a multiple of n_features"));
    let mut nan = d.x_train.clone();
    nan[9] = f64::NAN;
    let e = RidgeProblem::new(&nan, &d.y_train, &d.x_val, &d.y_val, d.p).unwrap_err();
    assert!(message(e).contains("feature 1 of row 1 is NaN"));
    let mut nan = d.y_val.clone();
    nan[3] = f64::NAN;
    let e = LogisticProblem::new(&d.x_train, &d.y_train, &d.x_val, &nan, d.p).unwrap_err();
    assert!(message(e).contains("target 3 is NaN"));
    let e = RidgeProblem::new(&d.x_train, &d.y_train, &[], &[], d.p).unwrap_err();
    assert!(message(e).contains("validation set is empty"));
    let x_train = DMatrix::from_row_slice(30, 8, &d.x_train);
    let x_val = DMatrix::from_row_slice(2, 4, &d.x_val[..8]);
    let e = RidgeProblem::from_matrices(
        &x_train,
        &DVector::from_column_slice(&d.y_train),
        &x_val,
        &DVector::from_column_slice(&d.y_val[..2]),
    )
    .unwrap_err();
    assert!(message(e).contains("8 features but the validation set has 4"));

    let e = RidgeProblem::cross_validated(&d.x_train, &d.y_train, d.p, &[]).unwrap_err();
    assert!(message(e).contains("no (train, validation) split"));
    let e = RidgeProblem::cross_validated(&d.x_train, &d.y_train, d.p, &[(vec![0, 1], vec![])])
        .unwrap_err();
    let e = message(e);
    assert!(e.contains("fold 0: the validation set is empty"), "{e}");
    let e = RidgeProblem::cross_validated(&d.x_train, &d.y_train, d.p, &[(vec![0, 99], vec![2])])
        .unwrap_err();
    assert!(message(e).contains("index 99 is out of range"));
    assert!(Folds::<RidgeProblem>::new(vec![]).is_err());

    let build = |b: tunewise_ml::GradientSearchBuilder| message(b.build().unwrap_err());
    assert!(build(GradientSearch::builder(1.0, 1.0)).contains("bounds"));
    assert!(build(GradientSearch::builder(f64::NAN, 1.0)).contains("bounds"));
    assert!(build(GradientSearch::builder(0.0, 1.0).coarse_points(1)).contains("coarse_points"));
    assert!(build(GradientSearch::builder(0.0, 1.0).top_k(0)).contains("top_k"));
    assert!(build(GradientSearch::builder(0.0, 1.0).max_fits(0)).contains("max_fits"));
    assert!(build(GradientSearch::builder(0.0, 1.0).initial_step(-1.0)).contains("initial_step"));
    assert!(build(GradientSearch::builder(0.0, 1.0).gradient_tolerance(f64::NAN))
        .contains("gradient_tolerance"));
    let s = GradientSearch::builder(0.0, 1.0).build().unwrap();
    assert!(message(s.refine(&p, &[]).unwrap_err()).contains("no starting value"));
    assert!(message(s.refine(&p, &[f64::NAN]).unwrap_err()).contains("not finite"));
    let empty = Study::builder().direction(Direction::Minimize).create().unwrap();
    assert!(message(GradientSearch::starts_from_study(&empty, 3).unwrap_err())
        .contains("no complete trial"));
}

#[test]
fn the_fit_budget_is_respected() {
    let p = ridge(&regression(1));
    let out =
        GradientSearch::builder(-10.0, 5.0).coarse_points(4).max_fits(7).build().unwrap().run(&p);
    let out = out.unwrap();
    assert!(out.fits <= 7, "{}", out.fits);
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<RidgeProblem>();
    check::<LogisticProblem>();
    check::<Folds<LogisticProblem>>();
    check::<GradientSearch>();
    check::<tunewise_ml::SearchOutcome>();
    check::<Error>();
}

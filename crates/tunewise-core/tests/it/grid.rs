//! Grid search: exhaustive, no repeats (threads, resume, enqueue), discretization, errors.

use std::collections::BTreeSet;
use std::sync::Arc;

use tunewise_core::prelude::*;
use tunewise_core::{Error, InMemoryStorage, Storage};

type Point = (i64, String, u64);

/// A 4 × 3 × 2 grid: `n` int, `act` string, `lr` float.
fn grid(seed: u64) -> GridSampler {
    GridSampler::new()
        .values("n", [1, 2, 3, 4])
        .unwrap()
        .values("act", ["relu", "tanh", "gelu"])
        .unwrap()
        .values("lr", [0.01, 0.1])
        .unwrap()
        .seed(seed)
}

fn objective(t: &mut Trial) -> Result<f64, TrialError> {
    let n = t.suggest_int("n", 0, 10)?;
    let act = t.suggest_categorical("act", &["relu", "tanh", "gelu"])?;
    let lr = t.suggest_float_log("lr", 1e-3, 1.0)?;
    Ok(n as f64 + lr + act.len() as f64)
}

fn points(study: &Study) -> Vec<Point> {
    study
        .trials()
        .unwrap()
        .iter()
        .map(|t| {
            let p = t.params_map();
            (
                p["n"].as_i64().unwrap(),
                p["act"].as_str().unwrap().to_owned(),
                p["lr"].as_f64().unwrap().to_bits(),
            )
        })
        .collect()
}

fn assert_full_grid_once(points: &[Point]) {
    let distinct: BTreeSet<&Point> = points.iter().collect();
    assert_eq!(points.len(), 24, "every point once: {points:?}");
    assert_eq!(distinct.len(), 24, "no repeats");
}

#[test]
fn grid_covers_every_point_once_and_stops_exhausted() {
    let study = Study::builder().sampler(grid(1)).create().unwrap();
    let report = study.optimize(objective, Budget::trials(100)).unwrap();
    assert_eq!(report.trials, 24);
    assert_eq!(report.stop_reason, StopReason::SearchSpaceExhausted);
    assert_full_grid_once(&points(&study));
    assert!(study.trials().unwrap().iter().all(|t| t.state == TrialState::Complete));
    // Asking for more after the end says so.
    assert!(matches!(study.ask(), Err(Error::SearchSpaceExhausted(_))));
}

#[test]
fn grid_covers_every_point_once_with_four_threads() {
    for seed in 0..5 {
        let study = Study::builder().sampler(grid(seed)).create().unwrap();
        let report = study
            .optimize_parallel(
                |t: &mut Trial| {
                    let v = objective(t)?;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    Ok::<f64, TrialError>(v)
                },
                Budget::trials(1000),
                4,
            )
            .unwrap();
        assert_eq!(report.stop_reason, StopReason::SearchSpaceExhausted);
        assert_eq!(report.trials, 24);
        assert_full_grid_once(&points(&study));
    }
}

#[test]
fn grid_budget_smaller_than_grid_stops_on_budget() {
    let study = Study::builder().sampler(grid(3)).create().unwrap();
    let report = study.optimize(objective, Budget::trials(10)).unwrap();
    assert_eq!(report.stop_reason, StopReason::TrialBudget);
    let pts = points(&study);
    assert_eq!(pts.iter().collect::<BTreeSet<_>>().len(), 10);
}

#[test]
fn grid_is_reproducible_with_a_seed() {
    let run = |seed: u64| {
        let study = Study::builder().sampler(grid(seed)).create().unwrap();
        study.optimize(objective, Budget::trials(24)).unwrap();
        points(&study)
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6), "another seed visits the points in another order");
    // The study's seed reseeds the sampler.
    let via_study = |seed: u64| {
        let study = Study::builder().sampler(grid(99)).seed(seed).create().unwrap();
        study.optimize(objective, Budget::trials(24)).unwrap();
        points(&study)
    };
    assert_eq!(via_study(5), run(5));
}

#[test]
fn grid_natural_order_is_lexicographic_by_name() {
    let sampler = GridSampler::new()
        .values("b", [1, 2])
        .unwrap()
        .values("a", ["x", "y"])
        .unwrap()
        .natural_order();
    let study = Study::builder().sampler(sampler).create().unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let b = t.suggest_int("b", 0, 5)?;
                let _a = t.suggest_categorical("a", &["x", "y"])?;
                Ok(b as f64)
            },
            Budget::trials(10),
        )
        .unwrap();
    let seen: Vec<(String, i64)> = study
        .trials()
        .unwrap()
        .iter()
        .map(|t| {
            let p = t.params_map();
            (p["a"].as_str().unwrap().to_owned(), p["b"].as_i64().unwrap())
        })
        .collect();
    let expected: Vec<(String, i64)> =
        [("x", 1), ("x", 2), ("y", 1), ("y", 2)].iter().map(|(a, b)| (a.to_string(), *b)).collect();
    assert_eq!(seen, expected);
}

#[test]
fn grid_auto_discretization_counts() {
    let g = GridSampler::new()
        .auto("n", Distribution::int(1, 7))
        .unwrap()
        .auto("act", Distribution::categorical(["a", "b", "c"]))
        .unwrap()
        .auto_points("lr", Distribution::float_log(1e-4, 1.0), 5)
        .unwrap()
        .auto_points("x", Distribution::float(0.0, 1.0), 3)
        .unwrap()
        .auto_points("s", Distribution::float_step(0.0, 1.0, 0.25), 10)
        .unwrap();
    assert_eq!(g.len(), 7 * 3 * 5 * 3 * 5);
    let params: std::collections::BTreeMap<&str, &[ParamValue]> = g.params().collect();
    let ints: Vec<i64> = params["n"].iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(ints, (1..=7).collect::<Vec<_>>(), "every int value");
    assert_eq!(params["act"].len(), 3, "every categorical choice");
    let lr: Vec<f64> = params["lr"].iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(lr.len(), 5);
    assert!((lr[0] - 1e-4).abs() < 1e-12 && (lr[4] - 1.0).abs() < 1e-12);
    for w in lr.windows(2) {
        // Log-spaced: a constant ratio of 10 between neighbours.
        assert!((w[1] / w[0] - 10.0).abs() < 1e-9, "{lr:?}");
    }
    let x: Vec<f64> = params["x"].iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(x, vec![0.0, 0.5, 1.0]);
    assert_eq!(params["s"].len(), 5, "a stepped float with few values keeps them all");

    // from_space gives the same grid as the same auto calls.
    let space = SearchSpace::new()
        .add("n", Distribution::int(1, 7))
        .unwrap()
        .add("lr", Distribution::float_log(1e-4, 1.0))
        .unwrap()
        .add("flag", Distribution::categorical([true, false]))
        .unwrap();
    let g = GridSampler::from_space(&space, 5).unwrap();
    assert_eq!(g.len(), 7 * 5 * 2);
    let study = Study::builder().sampler(g).create().unwrap();
    let report = study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let n = t.suggest_int("n", 1, 7)?;
                let lr = t.suggest_float_log("lr", 1e-4, 1.0)?;
                let flag = t.suggest_categorical("flag", &[true, false])?;
                Ok(n as f64 * lr + f64::from(u8::from(flag)))
            },
            Budget::trials(1000),
        )
        .unwrap();
    assert_eq!(report.trials, 70);
    let combos: BTreeSet<String> =
        study.trials().unwrap().iter().map(|t| format!("{:?}", t.params_map())).collect();
    assert_eq!(combos.len(), 70);
}

#[test]
fn grid_builder_rejects_bad_input_naming_the_parameter() {
    let err = GridSampler::new().values("x", Vec::<f64>::new()).unwrap_err();
    assert!(matches!(&err, Error::InvalidDistribution { name, .. } if name == "x"), "{err}");
    let err = GridSampler::new().values("x", [1.0, 2.0, 1.0]).unwrap_err();
    assert!(matches!(&err, Error::InvalidDistribution { name, .. } if name == "x"), "{err}");
    assert!(err.to_string().contains("more than once"), "{err}");
    let err = GridSampler::new().values("y", [1.0, f64::NAN]).unwrap_err();
    assert!(matches!(&err, Error::InvalidDistribution { name, .. } if name == "y"), "{err}");
    let err = GridSampler::new().values("z", ["a"]).unwrap().values("z", ["b"]).unwrap_err();
    assert!(matches!(&err, Error::InvalidConfig(m) if m.contains("'z'") && m.contains("twice")));
    let err = GridSampler::new().auto("w", Distribution::float(1.0, 0.0)).unwrap_err();
    assert!(matches!(&err, Error::InvalidDistribution { name, .. } if name == "w"), "{err}");
    let err = GridSampler::new().auto_points("v", Distribution::float(0.0, 1.0), 0).unwrap_err();
    assert!(matches!(&err, Error::InvalidDistribution { name, .. } if name == "v"), "{err}");
    assert!(GridSampler::from_space(&SearchSpace::new(), 5).is_err());
    // More than 2^64 points is refused; 10^16 points is fine (never materialized).
    let mut big = GridSampler::new();
    for i in 0..8 {
        big = big.values(&format!("p{i}"), 0..100).unwrap();
    }
    assert_eq!(big.len(), 10u64.pow(16));
    let err = big.values("p8", 0..100).unwrap().values("p9", 0..100).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)));
}

#[test]
fn grid_of_huge_size_samples_without_materializing() {
    let mut sampler = GridSampler::new().seed(4);
    for i in 0..8 {
        sampler = sampler.values(&format!("p{i}"), 0..100).unwrap();
    }
    let study = Study::builder().sampler(sampler).create().unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let mut s = 0;
                for i in 0..8 {
                    s += t.suggest_int(&format!("p{i}"), 0, 99)?;
                }
                Ok(s as f64)
            },
            Budget::trials(200),
        )
        .unwrap();
    let combos: BTreeSet<String> =
        study.trials().unwrap().iter().map(|t| format!("{:?}", t.params_map())).collect();
    assert_eq!(combos.len(), 200);
}

#[test]
fn grid_value_outside_the_asked_distribution_is_an_error() {
    let sampler = GridSampler::new().values("x", [0.5, 2.0]).unwrap().natural_order();
    let study = Study::builder().sampler(sampler).create().unwrap();
    let mut t = study.ask().unwrap();
    assert_eq!(t.suggest_float("x", 0.0, 1.0).unwrap(), 0.5);
    study.tell(t, Ok(1.0)).unwrap();
    let mut t = study.ask().unwrap();
    let err = t.suggest_float("x", 0.0, 1.0).unwrap_err();
    assert!(
        matches!(&err, Error::ValueOutOfDistribution { name, value, .. } if name == "x" && value == "2"),
        "{err}"
    );
    // A categorical grid value that is not one of the asked choices, too.
    let sampler = GridSampler::new().values("c", ["a", "z"]).unwrap().natural_order();
    let study = Study::builder().sampler(sampler).stop_on_failure(true).create().unwrap();
    let result = study.optimize(
        |t: &mut Trial| -> Result<f64, TrialError> {
            t.suggest_categorical("c", &["a", "b"])?;
            Ok(0.0)
        },
        Budget::trials(5),
    );
    assert!(
        matches!(&result, Err(Error::ObjectiveFailed { message, .. }) if message.contains("'c'"))
    );
}

#[test]
fn grid_unknown_parameter_is_an_error_saying_how_to_add_it() {
    let sampler = GridSampler::new().values("x", [1.0, 2.0]).unwrap();
    let study = Study::builder().sampler(sampler).create().unwrap();
    let mut t = study.ask().unwrap();
    t.suggest_float("x", 0.0, 5.0).unwrap();
    let err = t.suggest_float("depth", 0.0, 5.0).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Sampler(_)), "{msg}");
    assert!(msg.contains("'depth'") && msg.contains("GridSampler::values(\"depth\""), "{msg}");
    // An empty grid is a configuration error at the first trial.
    let study = Study::builder().sampler(GridSampler::new()).create().unwrap();
    assert!(matches!(study.ask(), Err(Error::InvalidConfig(_))));
}

#[test]
fn grid_resume_does_not_repeat_points() {
    let storage = Arc::new(InMemoryStorage::new());
    let shared: Arc<dyn Storage> = storage.clone();
    let study = Study::builder().name("grid").storage(shared.clone()).sampler(grid(1)).create();
    let report = study.unwrap().optimize(objective, Budget::trials(12)).unwrap();
    assert_eq!(report.stop_reason, StopReason::TrialBudget);
    // A new process: a new sampler with another seed, the same stored study.
    let study =
        Study::builder().name("grid").storage(shared.clone()).sampler(grid(2)).load().unwrap();
    let report = study.optimize(objective, Budget::trials(100)).unwrap();
    assert_eq!(report.trials, 12, "only the points not yet evaluated");
    assert_eq!(report.stop_reason, StopReason::SearchSpaceExhausted);
    assert_full_grid_once(&points(&study));
    // Loading once more: nothing left.
    let study = Study::builder().name("grid").storage(shared).sampler(grid(3)).load().unwrap();
    let report = study.optimize(objective, Budget::trials(100)).unwrap();
    assert_eq!((report.trials, report.stop_reason), (0, StopReason::SearchSpaceExhausted));
}

#[test]
fn grid_resume_retries_failed_points_only() {
    let shared: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let study =
        Study::builder().name("g").storage(shared.clone()).sampler(grid(1)).create().unwrap();
    let report = study
        .optimize(
            |t: &mut Trial| {
                let v = objective(t)?;
                if t.params()["n"].as_i64() == Some(4) {
                    return Err(TrialError::failed("n = 4 crashes"));
                }
                Ok(v)
            },
            Budget::trials(100),
        )
        .unwrap();
    assert_eq!(report.trials, 24, "a failed point is not handed out again in-process");
    let study = Study::builder().name("g").storage(shared).sampler(grid(9)).load().unwrap();
    let report = study.optimize(objective, Budget::trials(100)).unwrap();
    assert_eq!(report.trials, 6, "the six failed points (n = 4) are retried on resume");
    let complete: Vec<Point> = points(&study)
        .into_iter()
        .zip(study.trials().unwrap())
        .filter(|(_, t)| t.state == TrialState::Complete)
        .map(|(p, _)| p)
        .collect();
    assert_full_grid_once(&complete);
}

#[test]
fn grid_enqueued_trials_run_and_count_as_visited() {
    let study = Study::builder().sampler(grid(1)).create().unwrap();
    // On the grid, fully fixed: counts as visited.
    study
        .enqueue_trial([
            ("n", ParamValue::Int(2)),
            ("act", ParamValue::from("tanh")),
            ("lr", ParamValue::Float(0.1)),
        ])
        .unwrap();
    // Partly fixed: the rest comes from a free point consistent with it.
    study.enqueue_trial([("n", 3)]).unwrap();
    // Off the grid: runs as given, the grid is still covered in full.
    study.enqueue_trial([("n", ParamValue::Int(9))]).unwrap();
    let report = study.optimize(objective, Budget::trials(100)).unwrap();
    assert_eq!(report.stop_reason, StopReason::SearchSpaceExhausted);
    assert_eq!(report.trials, 25);
    let pts = points(&study);
    assert_eq!(pts[0], (2, "tanh".to_owned(), 0.1f64.to_bits()));
    assert_eq!(pts[1].0, 3);
    assert_eq!(pts[2].0, 9);
    let on_grid: Vec<Point> = pts.iter().filter(|p| p.0 != 9).cloned().collect();
    assert_full_grid_once(&on_grid);
}

#[test]
fn grid_samplers_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<GridSampler>();
    check::<CoarseToFineSampler>();
}

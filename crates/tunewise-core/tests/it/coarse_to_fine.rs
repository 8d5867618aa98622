//! Coarse-to-fine search: beats random search on smooth functions, reproducible, robust to
//! conditional spaces, mixed kinds, failures and NaN.

use std::collections::BTreeMap;

use tunewise_core::prelude::*;
use tunewise_core::samplers::CoarseToFineBuilder;
use tunewise_core::Error;

use crate::common::{best_of, median};

const SHIFT: [f64; 4] = [1.7, -2.3, 0.9, 3.1];

fn shifted_sphere(t: &mut Trial) -> Result<f64, TrialError> {
    let mut s = 0.0;
    for (i, c) in SHIFT.iter().enumerate() {
        let x = t.suggest_float(&format!("x{i}"), -5.0, 5.0)?;
        s += (x - c).powi(2);
    }
    Ok(s)
}

#[test]
fn c2f_beats_random_search_on_a_shifted_sphere() {
    let (budget, seeds) = (100, 0..10u64);
    let mut fine = Vec::new();
    let mut random = Vec::new();
    for seed in seeds {
        fine.push(best_of(CoarseToFineSampler::with_seed(seed), shifted_sphere, budget));
        random.push(best_of(RandomSampler::with_seed(seed + 1000), shifted_sphere, budget));
    }
    let wins = fine.iter().zip(&random).filter(|(f, r)| f < r).count();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "4-D shifted sphere, {budget} trials, 10 seeds: coarse-to-fine median {:.4} mean {:.4}; \
         random median {:.4} mean {:.4}; coarse-to-fine wins {wins}/10\n  c2f    {fine:.4?}\n  random {random:.4?}",
        median(&fine),
        mean(&fine),
        median(&random),
        mean(&random),
    );
    assert!(wins >= 8, "coarse-to-fine should win on most seeds: {wins}/10");
    assert!(median(&fine) < 0.25 * median(&random), "median {fine:?} vs {random:?}");
    assert!(mean(&fine) < 0.25 * mean(&random), "mean {fine:?} vs {random:?}");
}

fn params_of(study: &Study) -> Vec<BTreeMap<String, ParamValue>> {
    study.trials().unwrap().iter().map(|t| t.params_map()).collect()
}

fn mixed(t: &mut Trial) -> Result<f64, TrialError> {
    let lr = t.suggest_float_log("lr", 1e-5, 1.0)?;
    let layers = t.suggest_int("layers", 1, 12)?;
    let width = t.suggest_int_log("width", 8, 1024)?;
    let dropout = t.suggest_float_step("dropout", 0.0, 0.5, 0.05)?;
    let act = t.suggest_categorical("act", &["relu", "tanh", "gelu"])?;
    let act_cost = match act {
        "gelu" => 0.0,
        "relu" => 0.5,
        _ => 1.0,
    };
    Ok((lr.log10() + 3.0).powi(2)
        + ((layers - 4) as f64).powi(2) / 4.0
        + ((width as f64).log2() - 7.0).powi(2) / 4.0
        + (dropout - 0.2).powi(2) * 10.0
        + act_cost)
}

#[test]
fn c2f_is_reproducible_with_a_seed() {
    let run = |seed: u64| {
        let study =
            Study::builder().sampler(CoarseToFineSampler::with_seed(seed)).create().unwrap();
        study.optimize(mixed, Budget::trials(80)).unwrap();
        params_of(&study)
    };
    let a = run(11);
    assert_eq!(a, run(11));
    assert_ne!(a, run(12));
    // The study's seed reseeds it.
    let study = Study::builder().sampler(CoarseToFineSampler::with_seed(1)).seed(11).create();
    let study = study.unwrap();
    study.optimize(mixed, Budget::trials(80)).unwrap();
    assert_eq!(params_of(&study), a);
    // The coarse phase is random search with the same seed.
    let random = Study::builder().sampler(RandomSampler::with_seed(11)).create().unwrap();
    random.optimize(mixed, Budget::trials(20)).unwrap();
    assert_eq!(params_of(&random)[..], a[..20]);
}

#[test]
fn c2f_fine_rounds_stay_within_shrinking_windows_around_the_best() {
    let sampler = CoarseToFineSampler::builder()
        .n_coarse(20)
        .top_k(3)
        .trials_per_round(30)
        .shrink(0.5)
        .seed(5)
        .build()
        .unwrap();
    let study = Study::builder().sampler(sampler).create().unwrap();
    study.optimize(shifted_sphere, Budget::trials(80)).unwrap();
    let trials = study.trials().unwrap();
    let xs = |t: &FrozenTrialRef| -> Vec<f64> {
        (0..4).map(|i| t.param_value(&format!("x{i}")).unwrap().as_f64().unwrap()).collect()
    };
    // Round r (from 1) starts at 20 + 30 (r - 1); half-window = 10 × 0.5^r / 2.
    for (round, start) in [(1, 20usize), (2, 50)] {
        let mut before: Vec<&FrozenTrialRef> = trials[..start].iter().map(|t| &**t).collect();
        before.sort_by(|a, b| a.value().unwrap().total_cmp(&b.value().unwrap()));
        let centers: Vec<Vec<f64>> = before.iter().take(3).map(|t| xs(t)).collect();
        let half = 10.0 * 0.5f64.powi(round) / 2.0 + 1e-9;
        for t in &trials[start..start + 30] {
            let x = xs(t);
            let near = centers.iter().any(|c| c.iter().zip(&x).all(|(c, x)| (c - x).abs() <= half));
            assert!(near, "round {round} trial {} at {x:?} is outside every window", t.number);
        }
        // Each centre gets its share of the round.
        for c in &centers {
            let n = trials[start..start + 30]
                .iter()
                .filter(|t| c.iter().zip(xs(t)).all(|(c, x)| (c - x).abs() <= half))
                .count();
            assert!(n >= 10, "centre {c:?} got {n} trials");
        }
    }
}

type FrozenTrialRef = tunewise_core::FrozenTrial;

#[test]
fn c2f_works_with_ints_categoricals_steps_and_log_scales() {
    let mut fine = Vec::new();
    let mut random = Vec::new();
    for seed in 0..6u64 {
        let study =
            Study::builder().sampler(CoarseToFineSampler::with_seed(seed)).create().unwrap();
        study.optimize(mixed, Budget::trials(120)).unwrap();
        for t in study.trials().unwrap() {
            assert_eq!(t.state, TrialState::Complete, "{:?}", t.fail_reason);
            let p = t.params_map();
            let lr = p["lr"].as_f64().unwrap();
            assert!((1e-5..=1.0).contains(&lr));
            let width = p["width"].as_i64().unwrap();
            assert!((8..=1024).contains(&width));
            let d = p["dropout"].as_f64().unwrap();
            assert!(((d / 0.05).round() * 0.05 - d).abs() < 1e-9, "dropout {d} off its step");
        }
        fine.push(study.best_value().unwrap());
        let study = Study::builder().sampler(RandomSampler::with_seed(seed + 500)).create();
        let study = study.unwrap();
        study.optimize(mixed, Budget::trials(120)).unwrap();
        random.push(study.best_value().unwrap());
    }
    println!("mixed space, 120 trials: coarse-to-fine {fine:.3?}; random {random:.3?}");
    assert!(median(&fine) < median(&random), "{fine:?} vs {random:?}");
}

#[test]
fn c2f_conditional_parameters_fall_back_to_random() {
    let study = Study::builder().sampler(CoarseToFineSampler::with_seed(3)).create().unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", -3.0, 3.0)?;
                let model = t.suggest_categorical("model", &["linear", "tree"])?;
                let extra = if model == "tree" {
                    let depth = t.suggest_int("depth", 1, 10)?;
                    ((depth - 6) as f64).abs()
                } else {
                    let c = t.suggest_float_log("c", 1e-3, 1e3)?;
                    c.log10().abs() + 0.5
                };
                Ok(x * x + extra)
            },
            Budget::trials(100),
        )
        .unwrap();
    let trials = study.trials().unwrap();
    assert_eq!(trials.len(), 100);
    assert!(trials.iter().all(|t| t.state == TrialState::Complete));
    let with = |name: &str| trials.iter().filter(|t| t.param(name).is_some()).count();
    assert!(with("depth") > 0 && with("c") > 0);
    assert_eq!(with("depth") + with("c"), 100);
    // x is shared, so it is refined: the best x is close to 0.
    let best = study.best_trial().unwrap();
    assert!(best.param_value("x").unwrap().as_f64().unwrap().abs() < 0.5, "{best:?}");
}

#[test]
fn c2f_survives_failures_nan_and_pruned_history() {
    // Every trial fails: it keeps sampling at random and never panics.
    let study = Study::builder().sampler(CoarseToFineSampler::with_seed(1)).create().unwrap();
    let report = study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                t.suggest_float("x", 0.0, 1.0)?;
                Err(TrialError::failed("always"))
            },
            Budget::trials(60),
        )
        .unwrap();
    assert_eq!(report.trials, 60);
    // NaN results are failures; a few good trials late still become centres.
    let study = Study::builder().sampler(CoarseToFineSampler::with_seed(2)).create().unwrap();
    let report = study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", -1.0, 1.0)?;
                if t.number() < 30 {
                    return Ok(f64::NAN);
                }
                if t.number() < 40 {
                    return Err(TrialError::Pruned);
                }
                Ok(x * x)
            },
            Budget::trials(120),
        )
        .unwrap();
    assert_eq!(report.trials, 120);
    let trials = study.trials().unwrap();
    assert!(trials[..30].iter().all(|t| t.state == TrialState::Failed));
    assert!(study.best_value().unwrap() < 0.01);
    // No coarse phase at all.
    let sampler = CoarseToFineSampler::builder().n_coarse(0).seed(3).build().unwrap();
    let study = Study::builder().sampler(sampler).create().unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", -1.0, 1.0)?;
                Ok(x * x)
            },
            Budget::trials(40),
        )
        .unwrap();
    assert!(study.best_value().unwrap() < 0.05);
}

#[test]
fn c2f_refines_the_first_objective_of_several() {
    let sampler = CoarseToFineSampler::with_seed(4);
    let study = Study::builder()
        .directions([Direction::Maximize, Direction::Minimize])
        .sampler(sampler)
        .create()
        .unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<[f64; 2], TrialError> {
                let x = t.suggest_float("x", 0.0, 10.0)?;
                Ok([-(x - 7.0).powi(2), x])
            },
            Budget::trials(80),
        )
        .unwrap();
    let best_first = study
        .trials()
        .unwrap()
        .iter()
        .filter_map(|t| t.values.as_ref().map(|v| v[0]))
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(best_first > -0.01, "{best_first}");
}

#[test]
fn c2f_builder_checks_every_setting() {
    let bad: [(&str, CoarseToFineBuilder); 6] = [
        ("top_k", CoarseToFineSampler::builder().top_k(0)),
        ("points_per_dim", CoarseToFineSampler::builder().points_per_dim(1)),
        ("shrink", CoarseToFineSampler::builder().shrink(1.0)),
        ("shrink", CoarseToFineSampler::builder().shrink(f64::NAN)),
        ("trials_per_round", CoarseToFineSampler::builder().trials_per_round(0)),
        ("categorical_explore", CoarseToFineSampler::builder().categorical_explore(1.5)),
    ];
    for (field, builder) in bad {
        let err = builder.build().unwrap_err();
        assert!(matches!(&err, Error::InvalidConfig(m) if m.contains(field)), "{field}: {err}");
    }
    let ok = CoarseToFineSampler::builder()
        .n_coarse(5)
        .top_k(1)
        .points_per_dim(2)
        .shrink(0.9)
        .trials_per_round(1)
        .categorical_explore(0.0)
        .seed(1)
        .build()
        .unwrap();
    assert_eq!(ok.seed(), 1);
}

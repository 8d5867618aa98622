//! The automatic sampler: the conformance suite, its rule on studies of every shape, that it is
//! the study's default, that it hands a growing study from one algorithm to the next, and that
//! it beats random search.

use tunewise_core::conformance::sampler::check_sampler;
use tunewise_core::prelude::*;
use tunewise_core::{AutoChoice, KnownTrial, ParamValue, StudyView};

use crate::common::{best_of, median, params_of};

#[test]
fn auto_passes_the_sampler_suite() {
    check_sampler(&|seed, _space| Box::new(AutoSampler::with_seed(seed)));
}

/// A study of `n` complete trials with `objectives` objectives, built by `add_trial`; each
/// trial's parameters come from `params(i)`.
fn prefilled(
    n: usize,
    objectives: usize,
    params: impl Fn(usize, KnownTrial) -> KnownTrial,
) -> Study {
    let study = Study::builder()
        .directions(vec![Direction::Minimize; objectives])
        .sampler(AutoSampler::with_seed(1))
        .create()
        .unwrap();
    for i in 0..n {
        let x = (i as f64 * 0.618_034) % 1.0;
        let values: Vec<f64> = (0..objectives).map(|k| (x - k as f64 * 0.3).powi(2)).collect();
        study.add_trial(params(i, KnownTrial::complete(values))).unwrap();
    }
    study
}

fn choice_for(study: &Study) -> AutoChoice {
    let trials = study.trials().unwrap();
    AutoSampler::with_seed(0).choice(&StudyView::new(study.directions(), &trials))
}

fn numeric(i: usize, t: KnownTrial) -> KnownTrial {
    let x = (i as f64 * 0.618_034) % 1.0;
    t.param("x", Distribution::float(0.0, 1.0), x).param("n", Distribution::int(1, 10), 3i64)
}

#[test]
fn the_rule_picks_by_space_objectives_and_trials_spent() {
    // An unconditional space with at most half categoricals: the Gaussian process, until 200
    // finished trials, with one objective or several.
    let one_categorical = |i: usize, t: KnownTrial| {
        let kind = if i % 2 == 0 { "a" } else { "b" };
        numeric(i, t).param("kind", Distribution::categorical(["a", "b"]), ParamValue::from(kind))
    };
    for objectives in [1, 2] {
        assert_eq!(choice_for(&prefilled(0, objectives, numeric)), AutoChoice::Gp);
        assert_eq!(choice_for(&prefilled(20, objectives, numeric)), AutoChoice::Gp);
        assert_eq!(choice_for(&prefilled(199, objectives, numeric)), AutoChoice::Gp);
        assert_eq!(choice_for(&prefilled(20, objectives, one_categorical)), AutoChoice::Gp);
        assert_eq!(choice_for(&prefilled(200, objectives, numeric)), AutoChoice::Tpe);
    }
    // Mostly categorical: TPE.
    let mostly_categorical = |i: usize, t: KnownTrial| {
        let colour = if i % 3 == 0 { "red" } else { "blue" };
        one_categorical(i, t).param(
            "colour",
            Distribution::categorical(["red", "blue"]),
            ParamValue::from(colour),
        )
    };
    let three_of_four = |i: usize, t: KnownTrial| {
        mostly_categorical(i, t).param(
            "flag",
            Distribution::categorical([true, false]),
            ParamValue::from(i % 2 == 0),
        )
    };
    assert_eq!(choice_for(&prefilled(20, 1, three_of_four)), AutoChoice::Tpe);
    // A conditional space (trials with different parameters): TPE.
    let conditional = |i: usize, t: KnownTrial| {
        let t = numeric(i, t);
        if i % 3 == 0 {
            t.param("extra", Distribution::float(0.0, 1.0), 0.5)
        } else {
            t
        }
    };
    assert_eq!(choice_for(&prefilled(20, 1, conditional)), AutoChoice::Tpe);
    assert_eq!(choice_for(&prefilled(20, 2, conditional)), AutoChoice::Tpe);
    // Several objectives past the GP: MOTPE, then NSGA-II from 500 trials.
    assert_eq!(choice_for(&prefilled(499, 2, numeric)), AutoChoice::Tpe);
    assert_eq!(choice_for(&prefilled(500, 2, numeric)), AutoChoice::NsgaII);
    assert_eq!(choice_for(&prefilled(500, 2, conditional)), AutoChoice::NsgaII);
}

fn objective(t: &mut Trial) -> Result<f64, TrialError> {
    let x = t.suggest_float("x", -5.0, 5.0)?;
    let y = t.suggest_float("y", -5.0, 5.0)?;
    Ok((x - 1.0).powi(2) + (y + 2.0).powi(2))
}

#[test]
fn the_automatic_sampler_is_the_default_and_starts_as_random_search() {
    let run = |builder: StudyBuilder| {
        let study = builder.create().unwrap();
        study.optimize(objective, Budget::trials(14)).unwrap();
        params_of(&study)
    };
    let default = run(Study::builder().seed(7));
    let auto = run(Study::builder().sampler(AutoSampler::with_seed(7)));
    let random = run(Study::builder().sampler(RandomSampler::with_seed(7)));
    assert_eq!(default, auto, "the default sampler is the automatic one");
    // The first ten trials are the startup trials: random search with the same seed.
    assert_eq!(default[..10], random[..10]);
    assert_ne!(default[10..], random[10..], "then the model proposes");
    // The same seed gives the same trials; another seed others.
    assert_eq!(default, run(Study::builder().seed(7)));
    assert_ne!(default, run(Study::builder().seed(8)));
}

#[test]
fn a_growing_study_moves_on_to_the_next_algorithm_and_keeps_working() {
    // 200 finished numeric trials: the next ones go to TPE, which models them.
    let study = prefilled(200, 1, numeric);
    study
        .optimize(
            |t: &mut Trial| {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                let n = t.suggest_int("n", 1, 10)?;
                Ok((x - 0.3).powi(2) + (n - 3) as f64 * 0.01)
            },
            Budget::trials(5),
        )
        .unwrap();
    assert_eq!(study.trials().unwrap().len(), 205);
    assert_eq!(choice_for(&study), AutoChoice::Tpe);
    // 500 finished trials with two objectives: NSGA-II breeds the next ones.
    let study = prefilled(500, 2, numeric);
    study
        .optimize(
            |t: &mut Trial| {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                let n = t.suggest_int("n", 1, 10)?;
                Ok(vec![x * x + n as f64 * 0.01, (x - 0.3).powi(2)])
            },
            Budget::trials(5),
        )
        .unwrap();
    let trials = study.trials().unwrap();
    assert_eq!(trials.len(), 505);
    assert!(trials.iter().all(|t| t.state == TrialState::Complete));
}

fn sphere3(t: &mut Trial) -> Result<f64, TrialError> {
    let x: Vec<f64> =
        (0..3).map(|i| t.suggest_float(&format!("x{i}"), -5.0, 5.0)).collect::<Result<_, _>>()?;
    Ok(x.iter().enumerate().map(|(i, x)| (x - (i as f64 - 1.0) * 1.5).powi(2)).sum())
}

fn mixed(t: &mut Trial) -> Result<f64, TrialError> {
    let kind = t.suggest_categorical("kind", &["a", "b", "c"])?;
    let x = t.suggest_float("x", -5.0, 5.0)?;
    let n = t.suggest_int("n", 0, 20)?;
    let offset = match kind {
        "a" => 0.0,
        "b" => 2.0,
        _ => 4.0,
    };
    Ok(offset + (x - 1.5).powi(2) + ((n - 7) as f64).powi(2) * 0.1)
}

#[test]
fn auto_beats_random_search_on_numeric_and_mixed_spaces() {
    for (name, f, budget) in [
        ("sphere-3d (GP)", sphere3 as crate::common::Objective, 25),
        ("mixed (GP)", mixed as crate::common::Objective, 40),
    ] {
        let seeds = 0..6u64;
        let auto: Vec<f64> =
            seeds.clone().map(|s| best_of(AutoSampler::with_seed(s), f, budget)).collect();
        let random: Vec<f64> =
            seeds.map(|s| best_of(RandomSampler::with_seed(s), f, budget)).collect();
        assert!(
            median(&auto) < median(&random),
            "{name}: auto {} against random {}",
            median(&auto),
            median(&random)
        );
    }
}

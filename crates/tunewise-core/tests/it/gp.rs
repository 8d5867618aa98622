//! GP sampler: the conformance suite in a few configurations, beats random search on standard
//! functions over seeds (small budgets, where a GP earns its cost), constraints, several
//! objectives, running trials (kriging believer), pruned and failed trials, reproducibility, and
//! settings checked by the builder.

use std::collections::BTreeMap;
use std::sync::Arc;

use tunewise_core::conformance::sampler::check_sampler;
use tunewise_core::prelude::*;
use tunewise_core::{Error, FrozenTrial, GpBuilder, Sampler, StudyView};

use crate::common::{
    best_of, branin, hartmann6, median, params_of, sphere5, zdt1_hypervolume, Objective,
};

fn gp(seed: u64) -> GpBuilder {
    GpSampler::builder().seed(seed)
}

// ---- conformance ------------------------------------------------------------------------------

#[test]
fn gp_passes_the_sampler_suite() {
    // Few startup trials, so that most of the suite's 30-trial studies are model-driven.
    type Config = fn(GpBuilder) -> GpBuilder;
    let configs: [(&str, Config); 3] = [
        ("default", |b| b),
        ("deterministic", |b| b.deterministic_objective(true).n_startup_trials(4)),
        ("few startup trials, small search", |b| {
            b.n_startup_trials(2).n_candidates(64).n_local_starts(1)
        }),
    ];
    for (_label, config) in configs {
        check_sampler(&|seed, _space| Box::new(config(gp(seed)).build().unwrap()));
    }
}

// ---- quality: beats random search -------------------------------------------------------------

/// A mixed space: ints (plain and log-scaled) and a categorical, plus a log float.
fn mixed(t: &mut Trial) -> Result<f64, TrialError> {
    let lr = t.suggest_float_log("lr", 1e-5, 1.0)?;
    let layers = t.suggest_int("layers", 1, 12)?;
    let width = t.suggest_int_log("width", 1, 1024)?;
    let act = t.suggest_categorical("act", &["relu", "tanh", "sigmoid", "gelu"])?;
    let penalty = match act {
        "tanh" => 0.0,
        "gelu" => 0.7,
        _ => 1.5,
    };
    Ok((lr.log10() + 2.5).powi(2)
        + 0.3 * (layers as f64 - 7.0).powi(2)
        + 0.5 * ((width as f64).log2() - 6.0).powi(2)
        + penalty)
}

const SEEDS: u64 = 8;

/// Over 8 seeds at a small budget: the GP's median regret is well below random search's, and
/// the GP wins at least 7 of the 8 seeds (a coin would do so with probability 0.035).
fn beats_random(name: &str, f: Objective, optimum: f64, budget: usize) -> Result<(), String> {
    let mut gp_best = Vec::new();
    let mut rnd_best = Vec::new();
    for seed in 0..SEEDS {
        let s = gp(seed).build().unwrap();
        gp_best.push(best_of(s, f, budget) - optimum);
        rnd_best.push(best_of(RandomSampler::with_seed(seed), f, budget) - optimum);
    }
    let wins = gp_best.iter().zip(&rnd_best).filter(|(g, r)| g < r).count();
    let (mg, mr) = (median(&gp_best), median(&rnd_best));
    eprintln!("{name}: GP {mg:.4} random {mr:.4} wins {wins}/{SEEDS}");
    if mg < 0.5 * mr && wins >= 7 {
        Ok(())
    } else {
        Err(format!(
            "{name}: GP regret median {mg:.4} vs random {mr:.4}, GP won {wins} of {SEEDS} seeds\n\
             GP {gp_best:?}\nrandom {rnd_best:?}"
        ))
    }
}

#[test]
fn gp_beats_random_search_on_standard_functions() {
    let cases: [(&str, Objective, f64, usize); 4] = [
        ("sphere-5d", sphere5, 0.0, 30),
        ("branin", branin, 0.397_887_357_729_738, 30),
        ("hartmann6", hartmann6, -3.322_37, 40),
        ("mixed int + categorical", mixed, 0.0, 40),
    ];
    let failures: Vec<String> =
        cases.iter().filter_map(|(n, f, o, b)| beats_random(n, *f, *o, *b).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A wide int range and a stepped float: the gradient search relaxes them and rounds.
#[test]
fn wide_grids_are_searched_to_their_optimum() {
    let f = |t: &mut Trial| -> Result<f64, TrialError> {
        let n = t.suggest_int("n", 0, 2000)?;
        let r = t.suggest_float_step("r", 0.0, 10.0, 0.01)?;
        Ok(((n - 1237) as f64 / 100.0).powi(2) + (r - 6.43).powi(2))
    };
    let mut gaps = Vec::new();
    for seed in 0..6 {
        let study = Study::builder().sampler(gp(seed).build().unwrap()).create().unwrap();
        study.optimize(f, Budget::trials(25)).unwrap();
        gaps.push(study.best_value().unwrap());
    }
    // Within 0.05 is within 5 steps of n from 1237 and 0.2 of r from 6.43.
    assert!(median(&gaps) < 0.05, "best values {gaps:?}");
}

// ---- constraints --------------------------------------------------------------------------------

/// Minimize x + y on [0, 1]² inside a disk of radius 0.25 around (0.7, 0.7) (a fifth of the
/// square): the optimum, 1.0464, lies on the disk's rim, far from the unconstrained one (0, 0).
fn feasible_fraction(sampler: impl Sampler + 'static) -> (f64, f64) {
    let objective = |t: &mut Trial| -> Result<f64, TrialError> {
        let x = t.suggest_float("x", 0.0, 1.0)?;
        let y = t.suggest_float("y", 0.0, 1.0)?;
        t.set_constraints(vec![(x - 0.7).powi(2) + (y - 0.7).powi(2) - 0.0625])?;
        Ok(x + y)
    };
    let study = Study::builder().sampler(sampler).create().unwrap();
    study.optimize(objective, Budget::trials(40)).unwrap();
    let late = &study.trials().unwrap()[20..];
    let feasible =
        late.iter().filter(|t| t.constraints[0] <= 0.002).count() as f64 / late.len() as f64;
    (feasible, study.best_value().unwrap_or(f64::INFINITY))
}

#[test]
fn constraints_steer_the_gp_to_the_feasible_region() {
    let optimum = 1.4 - 0.25 * 2f64.sqrt();
    let (mut gp_feasible, mut rnd_feasible, mut gp_regret, mut rnd_regret) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for seed in 0..8 {
        let (f, b) = feasible_fraction(gp(seed).build().unwrap());
        gp_feasible.push(f);
        gp_regret.push(b - optimum);
        let (f, b) = feasible_fraction(RandomSampler::with_seed(seed));
        rnd_feasible.push(f);
        rnd_regret.push(b - optimum);
    }
    // Random search is (nearly) feasible a fifth of the time. The GP converges onto the rim,
    // where the optimum is, so about half its late trials are just outside: it is judged on
    // being within a hair (a violation of 0.002) and on its best feasible value.
    assert!(
        median(&gp_feasible) >= 0.8 && median(&rnd_feasible) < 0.4,
        "nearly feasible fractions: GP {gp_feasible:?}, random {rnd_feasible:?}"
    );
    assert!(
        median(&gp_regret) < 0.05 * median(&rnd_regret),
        "regret: GP {gp_regret:?}, random {rnd_regret:?}"
    );
}

/// A feasible square of 2 % of the unit square, away from the objective's optimum: the number
/// of seeds (of 8) whose first 20 trials find a feasible point.
fn finds_the_corner(make: &dyn Fn(u64) -> Box<dyn Sampler>) -> usize {
    let objective = |t: &mut Trial| -> Result<f64, TrialError> {
        let x = t.suggest_float("x", 0.0, 1.0)?;
        let y = t.suggest_float("y", 0.0, 1.0)?;
        t.set_constraints(vec![(x - 0.8).abs() - 0.07, (y - 0.8).abs() - 0.07])?;
        Ok(x + y)
    };
    (0..8)
        .filter(|&seed| {
            let study = Study::builder().sampler(make(seed)).create().unwrap();
            study.optimize(objective, Budget::trials(20)).unwrap();
            study.trials().unwrap().iter().any(|t| t.is_feasible())
        })
        .count()
}

#[test]
fn with_no_feasible_trial_yet_the_gp_looks_for_one() {
    let g = finds_the_corner(&|seed| Box::new(gp(seed).n_startup_trials(5).build().unwrap()));
    let r = finds_the_corner(&|seed| Box::new(RandomSampler::with_seed(seed)));
    // Random search finds it with probability 1 − 0.98²⁰ ≈ 1/3 per seed.
    assert!(g >= 7 && g > r, "found in {g} of 8 seeds (random search: {r})");
}

// ---- several objectives ---------------------------------------------------------------------

#[test]
fn parego_finds_a_better_hypervolume_than_random_search() {
    let hv = |sampler: Box<dyn Sampler>| zdt1_hypervolume(sampler, 4, 40);
    let mut wins = 0;
    let (mut gp_hv, mut rnd_hv) = (Vec::new(), Vec::new());
    for seed in 0..8 {
        let g = hv(Box::new(gp(seed).build().unwrap()));
        let r = hv(Box::new(RandomSampler::with_seed(seed)));
        wins += usize::from(g > r);
        gp_hv.push(g);
        rnd_hv.push(r);
    }
    assert!(
        wins >= 7 && median(&gp_hv) > median(&rnd_hv) + 0.1,
        "ParEGO won {wins}/8: {gp_hv:?} vs random {rnd_hv:?}"
    );
}

#[test]
fn a_maximized_objective_is_maximized() {
    let study = Study::builder()
        .maximize()
        .sampler(gp(4).n_startup_trials(5).build().unwrap())
        .create()
        .unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", -3.0, 3.0)?;
                Ok(-(x - 1.3).powi(2))
            },
            Budget::trials(15),
        )
        .unwrap();
    assert!(study.best_value().unwrap() > -1e-3, "best {}", study.best_value().unwrap());
}

// ---- pruned and failed trials -----------------------------------------------------------------

#[test]
fn pruned_and_failed_trials_do_not_break_the_model() {
    let s = gp(3).n_startup_trials(5).build().unwrap();
    let study = Study::builder().sampler(s).create().unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", -3.0, 3.0)?;
                let y = t.suggest_int("y", -3, 3)?;
                let v = (x - 1.0).powi(2) + (y as f64).powi(2);
                match t.number() % 4 {
                    // Pruned as a pruner would: trials that look bad at their first report.
                    1 if v > 2.0 => {
                        t.report(0, v + 1.0)?;
                        Err(TrialError::Pruned)
                    }
                    2 => Err(TrialError::failed("boom")),
                    _ => Ok(v),
                }
            },
            Budget::trials(40),
        )
        .unwrap();
    assert!(study.best_value().unwrap() < 0.05, "best {}", study.best_value().unwrap());
}

/// Prunes every trial whose `x` is below 0.4 (after its first report).
#[derive(Debug)]
struct PruneLeftHalf;

impl tunewise_core::Pruner for PruneLeftHalf {
    fn prune(&self, _study: &StudyView<'_>, trial: &FrozenTrial) -> tunewise_core::Result<bool> {
        Ok(trial.param("x").is_some_and(|p| p.internal < 0.4))
    }
}

#[test]
fn the_model_steers_away_from_where_trials_were_pruned() {
    // No trial left of 0.4 completes: a model that ignored pruned trials would stay uncertain
    // there, and its expected improvement would send trial after trial into that region.
    let mut in_pruned_region = Vec::new();
    for seed in 0..4 {
        let s = gp(seed).n_startup_trials(6).build().unwrap();
        let study = Study::builder().sampler(s).pruner(PruneLeftHalf).create().unwrap();
        study
            .optimize(
                |t: &mut Trial| -> Result<f64, TrialError> {
                    let x = t.suggest_float("x", 0.0, 1.0)?;
                    let v = (x - 0.8).powi(2);
                    t.report(0, v)?;
                    if t.should_prune()? {
                        return Err(TrialError::Pruned);
                    }
                    Ok(v)
                },
                Budget::trials(30),
            )
            .unwrap();
        let trials = study.trials().unwrap();
        let after_startup = trials.iter().skip(12);
        in_pruned_region
            .push(after_startup.filter(|t| t.state == TrialState::Pruned).count() as f64 / 18.0);
    }
    let share = median(&in_pruned_region);
    assert!(share < 0.15, "share of model-driven trials pruned: {in_pruned_region:?}");
}

#[test]
fn huge_and_infinite_values_keep_the_sampler_working() {
    let s = gp(8).n_startup_trials(4).build().unwrap();
    let study = Study::builder().sampler(s).create().unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", -3.0, 3.0)?;
                Ok(match t.number() % 5 {
                    1 => 1e300,
                    2 => f64::INFINITY,
                    _ => x * x,
                })
            },
            Budget::trials(20),
        )
        .unwrap();
    assert_eq!(study.trials().unwrap().len(), 20);
}

// ---- running trials: kriging believer ------------------------------------------------------

/// A GP that does not see trials still running: a fresh sampler for each proposal (so neither
/// its own earlier proposals nor a warm start), shown only the trials that are not running.
#[derive(Debug)]
struct Blind(GpBuilder);

impl Blind {
    fn fresh(&self) -> GpSampler {
        self.0.clone().build().unwrap()
    }
}

impl Blind {
    fn view<'a>(study: &StudyView<'a>, keep: &'a [Arc<FrozenTrial>]) -> StudyView<'a> {
        StudyView::new(study.directions(), keep)
    }
}

impl Sampler for Blind {
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> tunewise_core::Result<f64> {
        self.fresh().sample_independent(study, trial, name, distribution)
    }

    fn infer_relative_search_space(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
    ) -> tunewise_core::Result<SearchSpace> {
        self.fresh().infer_relative_search_space(study, trial)
    }

    fn sample_relative(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        space: &SearchSpace,
    ) -> tunewise_core::Result<BTreeMap<Arc<str>, f64>> {
        let keep: Vec<Arc<FrozenTrial>> =
            study.trials().iter().filter(|t| t.state != TrialState::Running).cloned().collect();
        self.fresh().sample_relative(&Blind::view(study, &keep), trial, space)
    }

    fn wants_running_params(&self) -> bool {
        // Stored as for the GP itself, then hidden from it.
        true
    }
}

fn point(t: &FrozenTrial) -> (f64, f64) {
    let v = |n: &str| t.param_value(n).and_then(|v| v.as_f64()).unwrap();
    (v("x"), v("y"))
}

/// The distance between the proposals of two trials asked one after the other, the first still
/// running when the second is asked, after 12 complete trials.
fn second_proposal_distance(sampler: impl Sampler + 'static) -> f64 {
    let f = |x: f64, y: f64| (x - 1.0).powi(2) + (y - 1.0).powi(2);
    let study = Study::builder().sampler(sampler).create().unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", -5.0, 5.0)?;
                let y = t.suggest_float("y", -5.0, 5.0)?;
                Ok(f(x, y))
            },
            Budget::trials(12),
        )
        .unwrap();
    let mut a = study.ask().unwrap();
    a.suggest_float("x", -5.0, 5.0).unwrap();
    a.suggest_float("y", -5.0, 5.0).unwrap();
    let mut b = study.ask().unwrap();
    b.suggest_float("x", -5.0, 5.0).unwrap();
    b.suggest_float("y", -5.0, 5.0).unwrap();
    let trials = study.trials().unwrap();
    let (pa, pb) = (point(&trials[12]), point(&trials[13]));
    ((pa.0 - pb.0).powi(2) + (pa.1 - pb.1).powi(2)).sqrt()
}

#[test]
fn a_running_trial_s_point_is_not_proposed_again() {
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for seed in 0..6 {
        let make = || gp(seed).n_startup_trials(8).deterministic_objective(true);
        with.push(second_proposal_distance(make().build().unwrap()));
        without.push(second_proposal_distance(Blind(make())));
    }
    eprintln!("believer {with:?}\nblind {without:?}");
    assert!(with.iter().all(|d| *d > 0.05), "a proposal repeated a running trial: {with:?}");
    assert!(median(&with) > 3.0 * median(&without), "believer {with:?} vs blind {without:?}");
}

/// Four workers: no model-driven trial repeats the point of a trial running when it started
/// (within 1e-5 on a range of 10), and the study still converges. (The comparison with a GP
/// blind to running trials is the deterministic test above: with threads, how much proposals
/// overlap depends on timing.)
#[test]
fn parallel_workers_do_not_repeat_running_points() {
    let mut closest = f64::INFINITY;
    for seed in 0..3 {
        let s = gp(seed).n_startup_trials(8).build().unwrap();
        let study = Study::builder().sampler(s).create().unwrap();
        study
            .optimize_parallel(
                |t: &mut Trial| -> Result<f64, TrialError> {
                    let x = t.suggest_float("x", -5.0, 5.0)?;
                    let y = t.suggest_float("y", -5.0, 5.0)?;
                    // Long enough that the four workers overlap.
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    Ok((x - 1.0).powi(2) + (y - 1.0).powi(2))
                },
                Budget::trials(28),
                4,
            )
            .unwrap();
        let trials = study.trials().unwrap();
        let mut overlaps = 0;
        for t in &trials[8..] {
            let start = t.datetime_start.unwrap();
            let p = point(t);
            for o in trials.iter().filter(|o| o.number != t.number) {
                if o.datetime_start.unwrap() <= start && o.datetime_complete.unwrap() > start {
                    let q = point(o);
                    closest = closest.min(((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt());
                    overlaps += 1;
                }
            }
        }
        assert!(overlaps >= 10, "the workers hardly overlapped ({overlaps} pairs)");
        assert!(study.best_value().unwrap() < 0.5, "best {}", study.best_value().unwrap());
    }
    eprintln!("closest overlapping pair: {closest:e}");
    assert!(closest > 1e-5, "two overlapping trials {closest:e} apart");
}

// ---- reproducibility --------------------------------------------------------------------------

fn run(builder: GpBuilder) -> Vec<Vec<(String, ParamValue)>> {
    let study = Study::builder().sampler(builder.build().unwrap()).create().unwrap();
    study.optimize(mixed, Budget::trials(20)).unwrap();
    params_of(&study)
}

#[test]
fn the_same_seed_gives_the_same_trials() {
    let a = run(gp(11).n_startup_trials(5));
    let b = run(gp(11).n_startup_trials(5));
    let c = run(gp(12).n_startup_trials(5));
    assert_eq!(a, b);
    assert_ne!(a, c);
    // One worker thread is the same sequence as the plain loop.
    let study =
        Study::builder().sampler(gp(11).n_startup_trials(5).build().unwrap()).create().unwrap();
    study.optimize_parallel(mixed, Budget::trials(20), 1).unwrap();
    let d = params_of(&study);
    assert_eq!(a, d);
}

#[test]
fn the_startup_trials_are_random_search_with_the_same_seed() {
    let a = run(gp(5).n_startup_trials(20));
    let study = Study::builder().sampler(RandomSampler::with_seed(5)).create().unwrap();
    study.optimize(mixed, Budget::trials(20)).unwrap();
    let b = params_of(&study);
    assert_eq!(a, b);
}

// ---- settings -----------------------------------------------------------------------------------

#[test]
fn bad_settings_are_refused_with_the_setting_named() {
    let cases: [(GpBuilder, &str); 3] = [
        (GpSampler::builder().n_candidates(0), "n_candidates"),
        (GpSampler::builder().max_fit_iterations(0), "max_fit_iterations"),
        (GpSampler::builder().n_candidates(2).n_local_starts(3), "n_local_starts"),
    ];
    for (builder, field) in cases {
        match builder.build() {
            Err(Error::InvalidConfig(m)) => {
                assert!(m.contains(field), "'{m}' does not name {field}")
            }
            other => panic!("{field}: expected an error, got {other:?}"),
        }
    }
    assert!(GpSampler::builder().n_startup_trials(0).n_local_starts(0).build().is_ok());
}

//! CMA-ES: the conformance suite in every mode, beats random search on standard functions over
//! seeds, margin on integers, IPOP restarts, warm start, resume with a fresh sampler,
//! reproducibility, settings checked by the builder, several objectives refused.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tunewise_core::conformance::sampler::check_sampler;
use tunewise_core::prelude::*;
use tunewise_core::{CmaEsBuilder, Error, InMemoryStorage, Restart, Sampler, Storage};

use crate::common::{best_of, median, params_of, rosenbrock4, sphere5, xs, Objective};

fn cma(seed: u64) -> CmaEsBuilder {
    CmaEsSampler::builder().seed(seed)
}

// ---- conformance ------------------------------------------------------------------------------

#[test]
fn cmaes_passes_the_sampler_suite_in_every_mode() {
    type Config = fn(CmaEsBuilder) -> CmaEsBuilder;
    let configs: [Config; 5] = [
        |b| b,
        |b| b.separable(true),
        |b| b.with_margin(true),
        |b| b.restart(Restart::ipop()).population_size(4),
        |b| b.warm_start(true).n_startup_trials(6),
    ];
    for config in configs {
        check_sampler(&|seed, _space| Box::new(config(cma(seed)).build().unwrap()));
    }
}

// ---- quality: beats random search -------------------------------------------------------------

// Restated rather than taken from `tunewise-bench` (which depends on this crate), like tpe.rs.

/// An ellipsoid of condition 10⁴ in 6 dimensions, rotated (a fixed orthogonal matrix built from
/// Givens rotations) and shifted: only a sampler that learns correlations does well.
fn rotated_ellipsoid(t: &mut Trial) -> Result<f64, TrialError> {
    let d = 6;
    let mut x = xs(t, d, -5.0, 5.0)?;
    for (i, v) in x.iter_mut().enumerate() {
        *v -= 1.0 + 0.3 * i as f64;
    }
    for i in 0..d {
        for j in i + 1..d {
            let a = 0.7 + 0.37 * (i * d + j) as f64;
            let (c, s) = (a.cos(), a.sin());
            let (xi, xj) = (x[i], x[j]);
            x[i] = c * xi - s * xj;
            x[j] = s * xi + c * xj;
        }
    }
    Ok(x.iter().enumerate().map(|(i, v)| 1e4f64.powf(i as f64 / (d - 1) as f64) * v * v).sum())
}

const SEEDS: u64 = 8;

/// Over 8 seeds: CMA-ES's median regret is under a tenth of random search's, and it wins at
/// least 7 seeds.
fn beats_random(name: &str, f: Objective, budget: usize, separable: bool) {
    let (mut c, mut r) = (Vec::new(), Vec::new());
    for seed in 0..SEEDS {
        c.push(best_of(cma(seed).separable(separable).build().unwrap(), f, budget));
        r.push(best_of(RandomSampler::with_seed(seed), f, budget));
    }
    let wins = c.iter().zip(&r).filter(|(c, r)| c < r).count();
    let (mc, mr) = (median(&c), median(&r));
    eprintln!("{name} sep={separable}: CMA-ES {mc:.3e} random {mr:.3e} wins {wins}/{SEEDS}");
    assert!(
        mc < 0.1 * mr && wins >= 7,
        "{name} (separable {separable}): CMA-ES median {mc:.4e} vs random {mr:.4e}, won {wins}\n\
         CMA-ES {c:?}\nrandom {r:?}"
    );
}

#[test]
fn cmaes_beats_random_search_on_standard_functions() {
    beats_random("sphere-5d", sphere5, 300, false);
    beats_random("sphere-5d", sphere5, 300, true);
    beats_random("rosenbrock-4d", rosenbrock4, 400, false);
    beats_random("rotated-ellipsoid-6d", rotated_ellipsoid, 400, false);
}

#[test]
fn the_full_covariance_beats_the_diagonal_on_a_rotated_ellipsoid() {
    let (mut full, mut sep) = (Vec::new(), Vec::new());
    for seed in 0..SEEDS {
        full.push(best_of(cma(seed).build().unwrap(), rotated_ellipsoid, 1_500));
        sep.push(best_of(cma(seed).separable(true).build().unwrap(), rotated_ellipsoid, 1_500));
    }
    assert!(median(&full) < 0.01 * median(&sep), "full {full:?}\nseparable {sep:?}");
}

// ---- margin -----------------------------------------------------------------------------------

/// Three floats weighted 100 and three ints in [−10, 10]: Σ 100 (x_i − 1)² + Σ (k_i − 3)².
///
/// On ints alone (Σ (k_i − 3)²) plain CMA-ES already reaches the optimum as often as with
/// margin here (16 of 16 seeds at 400 trials): the replay redraws each int inside its cell, so
/// the distribution does not collapse on them. Margin matters when continuous parameters drive
/// the step size down while the ints are still wrong: the ints then freeze.
fn mixed_int(t: &mut Trial) -> Result<f64, TrialError> {
    let mut s = 0.0;
    for i in 0..3 {
        let x = t.suggest_float(&format!("x{i}"), -5.0, 5.0)?;
        s += 100.0 * (x - 1.0).powi(2);
    }
    for i in 0..3 {
        let k = t.suggest_int(&format!("k{i}"), -10, 10)?;
        s += ((k - 3) as f64).powi(2);
    }
    Ok(s)
}

#[test]
fn margin_reaches_the_integer_optimum_more_often() {
    let seeds = 16;
    let hits = |margin: bool| {
        (0..seeds)
            .filter(|&seed| {
                let s = cma(seed).with_margin(margin).build().unwrap();
                let study = Study::builder().sampler(s).create().unwrap();
                study.optimize(mixed_int, Budget::trials(600)).unwrap();
                let best = study.best_trial().unwrap();
                (0..3).all(|i| best.param_value(&format!("k{i}")) == Some(ParamValue::Int(3)))
            })
            .count()
    };
    let (with, without) = (hits(true), hits(false));
    eprintln!("integer optimum: with margin {with}/{seeds}, without {without}/{seeds}");
    assert!(with > without && with >= 15, "with margin {with}/{seeds}, without {without}/{seeds}");
}

// ---- IPOP ---------------------------------------------------------------------------------------

fn rastrigin2(t: &mut Trial) -> Result<f64, TrialError> {
    let x = xs(t, 2, -5.12, 5.12)?;
    Ok(x.iter().map(|v| v * v - 10.0 * (2.0 * std::f64::consts::PI * v).cos() + 10.0).sum())
}

#[test]
fn ipop_restarts_with_a_doubled_population_on_rastrigin() {
    let sampler = Arc::new(cma(4).restart(Restart::ipop()).build().unwrap());
    let study = Study::builder().sampler(SharedSampler(sampler.clone())).create().unwrap();
    study.optimize(rastrigin2, Budget::trials(2_500)).unwrap();
    let status = sampler.status().expect("the run has started");
    assert!(status.restarts >= 1, "no restart in 2,500 trials: {status:?}");
    // λ₀ = 4 + ⌊3 ln 2⌋ = 6, doubled at each restart.
    assert_eq!(status.population_size, 6 << status.restarts, "{status:?}");

    let plain = Arc::new(cma(4).build().unwrap());
    let study = Study::builder().sampler(SharedSampler(plain.clone())).create().unwrap();
    study.optimize(rastrigin2, Budget::trials(2_500)).unwrap();
    let status = plain.status().expect("the run has started");
    assert_eq!((status.restarts, status.population_size), (0, 6), "{status:?}");
}

/// Lets a test keep a handle on the sampler it gives to a study.
#[derive(Debug)]
struct SharedSampler(Arc<CmaEsSampler>);

impl Sampler for SharedSampler {
    fn sample_independent(
        &self,
        study: &tunewise_core::StudyView<'_>,
        trial: &tunewise_core::FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> tunewise_core::Result<f64> {
        self.0.sample_independent(study, trial, name, distribution)
    }

    fn infer_relative_search_space(
        &self,
        study: &tunewise_core::StudyView<'_>,
        trial: &tunewise_core::FrozenTrial,
    ) -> tunewise_core::Result<SearchSpace> {
        self.0.infer_relative_search_space(study, trial)
    }

    fn sample_relative(
        &self,
        study: &tunewise_core::StudyView<'_>,
        trial: &tunewise_core::FrozenTrial,
        space: &SearchSpace,
    ) -> tunewise_core::Result<std::collections::BTreeMap<Arc<str>, f64>> {
        self.0.sample_relative(study, trial, space)
    }

    fn before_trial(
        &self,
        study: &tunewise_core::StudyView<'_>,
        trial: &tunewise_core::FrozenTrial,
    ) -> tunewise_core::Result<()> {
        self.0.before_trial(study, trial)
    }
}

// ---- warm start ---------------------------------------------------------------------------------

#[test]
fn warm_start_begins_near_the_earlier_good_trials() {
    // 30 earlier trials on [−5, 5]²; the good ones lie around (3, −2).
    let target = (3.0, -2.0);
    let f = |x: f64, y: f64| (x - target.0).powi(2) + (y - target.1).powi(2);
    let mut rng = tunewise_core::rng::Rng::new(9);
    let make = |warm: bool| {
        let s = cma(1).warm_start(warm).n_startup_trials(30).build().unwrap();
        let sampler = Arc::new(s);
        let study = Study::builder().sampler(SharedSampler(sampler.clone())).create().unwrap();
        (sampler, study)
    };
    let (warm, warm_study) = make(true);
    let (cold, cold_study) = make(false);
    for _ in 0..30 {
        let (x, y) = (rng.uniform_range(-5.0, 5.0), rng.uniform_range(-5.0, 5.0));
        for study in [&warm_study, &cold_study] {
            let known = KnownTrial::complete(f(x, y))
                .param("x", Distribution::float(-5.0, 5.0), x)
                .param("y", Distribution::float(-5.0, 5.0), y);
            study.add_trial(known).unwrap();
        }
    }
    let objective = move |t: &mut Trial| -> Result<f64, TrialError> {
        let x = t.suggest_float("x", -5.0, 5.0)?;
        let y = t.suggest_float("y", -5.0, 5.0)?;
        Ok(f(x, y))
    };
    // One generation (λ = 6).
    warm_study.optimize(objective, Budget::trials(6)).unwrap();
    cold_study.optimize(objective, Budget::trials(6)).unwrap();
    let distance = |study: &Study| {
        let d: Vec<f64> =
            study.trials().unwrap()[30..].iter().map(|t| t.value().unwrap()).collect();
        median(&d)
    };
    let (w, c) = (distance(&warm_study), distance(&cold_study));
    assert!(w < 0.4 * c && w < 6.0, "median squared distance: warm {w:.3}, cold {c:.3}");
    let (ws, cs) = (warm.status().unwrap(), cold.status().unwrap());
    assert_eq!(cs.mean, vec![0.5, 0.5], "the cold start is the centre");
    // The mean (unit box) is near the target: x → 0.8, y → 0.3.
    assert!((ws.mean[0] - 0.8).abs() < 0.15 && (ws.mean[1] - 0.3).abs() < 0.15, "{ws:?}");
}

// ---- constraints ----------------------------------------------------------------------------------

/// Minimize x + y on [0, 1]² inside a disk of radius 0.25 around (0.7, 0.7): infeasible trials
/// rank after every feasible one, so the run moves into the disk and along its rim.
#[test]
fn constraints_steer_cmaes_to_the_feasible_region() {
    let optimum = 1.4 - 0.25 * 2f64.sqrt();
    let run = |sampler: Box<dyn Sampler>| {
        let study = Study::builder().sampler(sampler).create().unwrap();
        study
            .optimize(
                |t: &mut Trial| -> Result<f64, TrialError> {
                    let x = t.suggest_float("x", 0.0, 1.0)?;
                    let y = t.suggest_float("y", 0.0, 1.0)?;
                    t.set_constraints(vec![(x - 0.7).powi(2) + (y - 0.7).powi(2) - 0.0625])?;
                    Ok(x + y)
                },
                Budget::trials(200),
            )
            .unwrap();
        let late = &study.trials().unwrap()[100..];
        let feasible = late.iter().filter(|t| t.is_feasible()).count() as f64 / late.len() as f64;
        (feasible, study.best_value().unwrap_or(f64::INFINITY) - optimum)
    };
    let (mut cf, mut cr, mut rf, mut rr) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for seed in 0..8 {
        let (f, r) = run(Box::new(cma(seed).build().unwrap()));
        cf.push(f);
        cr.push(r);
        let (f, r) = run(Box::new(RandomSampler::with_seed(seed)));
        rf.push(f);
        rr.push(r);
    }
    eprintln!("constraints: feasible {cf:?} {rf:?} regret {cr:?} {rr:?}");
    assert!(median(&cf) >= 0.6 && median(&rf) < 0.3, "feasible: CMA-ES {cf:?}, random {rf:?}");
    assert!(median(&cr) < 0.1 * median(&rr), "regret: CMA-ES {cr:?}, random {rr:?}");
}

// ---- several workers -----------------------------------------------------------------------------

/// Four workers on one study: trials are drawn from whatever generation is current when they
/// start and told in the generation their number falls in; the search still converges. The
/// workers are simulated with ask and tell, four trials always in flight and the oldest told
/// first, so that the interleaving (and the test) does not depend on thread timing.
#[test]
fn four_workers_still_converge() {
    let mut parallel = Vec::new();
    for seed in 0..4 {
        let study = Study::builder().sampler(cma(seed).build().unwrap()).create().unwrap();
        let mut in_flight = std::collections::VecDeque::new();
        for n in 0..400 {
            let mut trial = study.ask().unwrap();
            let value = sphere5(&mut trial);
            in_flight.push_back((trial, value));
            if in_flight.len() == 4 || n == 399 {
                while in_flight.len() > usize::from(n < 399) * 3 {
                    let (trial, value) = in_flight.pop_front().unwrap();
                    study.tell(trial, value).unwrap();
                }
            }
        }
        parallel.push(study.best_value().unwrap());
    }
    eprintln!("four workers: {parallel:?}");
    // One worker gets about 1e-3 here and random search about 4 at this budget.
    assert!(median(&parallel) < 0.01, "best values with four workers: {parallel:?}");
}

/// The best value of sphere-5d after 400 trials on four real threads.
fn on_four_threads(
    seed: u64,
    objective: impl Fn(&mut Trial) -> Result<f64, TrialError> + Sync,
) -> f64 {
    let study = Study::builder().sampler(cma(seed).build().unwrap()).create().unwrap();
    study.optimize_parallel(objective, Budget::trials(400), 4).unwrap();
    study.best_value().unwrap()
}

/// Four real threads on a fast objective: a worker that the operating system holds back for a
/// few milliseconds leaves its trial running while the others finish dozens of trials; every
/// seed still converges (before the fix, 2 to 7 seeds of 16 ended between 0.01 and 4.5).
#[test]
fn four_threads_converge_on_every_seed() {
    let best: Vec<f64> = (0..16).map(|seed| on_four_threads(seed, sphere5)).collect();
    // Measured over 30 runs of these 16 seeds, some beside other builds: at most 6.6e-4.
    assert!(best.iter().all(|b| *b < 1e-2), "best values with four threads: {best:?}");
}

/// One trial runs until the others have finished 200: the three other workers go on learning
/// meanwhile instead of drawing every trial from the generation before it (or, when it is the
/// first trial, at random), and the generations are told again with it once it finishes.
#[test]
fn a_straggling_trial_does_not_freeze_the_other_workers() {
    for straggler in [0, 20] {
        let best: Vec<f64> = (0..8)
            .map(|seed| {
                let done = AtomicUsize::new(0);
                on_four_threads(seed, |t: &mut Trial| {
                    let value = sphere5(t);
                    let started = Instant::now();
                    // The time limit only keeps a broken engine from hanging the test.
                    while t.number() == straggler
                        && done.load(Ordering::SeqCst) < 200
                        && started.elapsed() < Duration::from_secs(20)
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                    value
                })
            })
            .collect();
        // Measured over 12 runs of 16 seeds: at most 4.2e-3 (before the fix, 31 of 32 values
        // over 3 runs of these 8 seeds were between 0.04 and 7).
        assert!(
            best.iter().all(|b| *b < 2e-2),
            "best values with trial {straggler} straggling: {best:?}"
        );
    }
}

// ---- resume and reproducibility -----------------------------------------------------------------

/// A mixed space: floats, a log float, an int and a categorical.
fn mixed(t: &mut Trial) -> Result<f64, TrialError> {
    let x = t.suggest_float("x", -3.0, 3.0)?;
    let lr = t.suggest_float_log("lr", 1e-4, 1.0)?;
    let k = t.suggest_int("k", 1, 9)?;
    let act = t.suggest_categorical("act", &["relu", "tanh"])?;
    let penalty = if act == "tanh" { 0.0 } else { 0.5 };
    Ok((x - 1.0).powi(2) + (lr.log10() + 2.0).powi(2) + 0.1 * (k as f64 - 6.0).powi(2) + penalty)
}

#[test]
fn a_resumed_study_continues_with_the_same_proposals() {
    let builder = || cma(17).with_margin(true).restart(Restart::ipop());
    let whole = Study::builder().sampler(builder().build().unwrap()).create().unwrap();
    whole.optimize(mixed, Budget::trials(90)).unwrap();

    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let first = Study::builder()
        .name("resume")
        .storage(storage.clone())
        .sampler(builder().build().unwrap())
        .create()
        .unwrap();
    first.optimize(mixed, Budget::trials(37)).unwrap();
    drop(first);
    let resumed = Study::builder()
        .name("resume")
        .storage(storage)
        .sampler(builder().build().unwrap())
        .load()
        .unwrap();
    resumed.optimize(mixed, Budget::trials(53)).unwrap();
    assert_eq!(params_of(&whole), params_of(&resumed));
}

/// The state is a function of the history: after four workers ran a study, a fresh sampler on a
/// copy of its trials proposes exactly what the sampler that followed the study does.
#[test]
fn a_fresh_sampler_on_a_parallel_history_proposes_what_the_warm_one_does() {
    let make = || cma(23).with_margin(true).restart(Restart::ipop()).build().unwrap();
    let warm = Study::builder().sampler(make()).create().unwrap();
    warm.optimize_parallel(mixed, Budget::trials(150), 4).unwrap();
    let fresh = Study::builder().sampler(make()).create().unwrap();
    for t in warm.trials().unwrap() {
        let mut known = KnownTrial::complete(t.value().unwrap());
        for p in &t.params {
            known = known.param(&p.name, (*p.distribution).clone(), p.value());
        }
        fresh.add_trial(known).unwrap();
    }
    let ask = |study: &Study| {
        let mut trial = study.ask().unwrap();
        mixed(&mut trial).unwrap();
        trial.params()
    };
    assert_eq!(ask(&warm), ask(&fresh));
}

#[test]
fn the_same_seed_gives_the_same_trials() {
    for sep in [false, true] {
        let run = |seed| {
            let study = Study::builder()
                .sampler(cma(seed).separable(sep).build().unwrap())
                .create()
                .unwrap();
            study.optimize(mixed, Budget::trials(60)).unwrap();
            params_of(&study)
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
    }
}

// ---- settings and objectives ----------------------------------------------------------------------

#[test]
fn bad_settings_are_refused_with_the_setting_named() {
    let b = CmaEsSampler::builder;
    let cases: [(CmaEsBuilder, &str); 11] = [
        (b().sigma0(0.0), "sigma0"),
        (b().sigma0(1.5), "sigma0"),
        (b().sigma0(f64::NAN), "sigma0"),
        (b().population_size(1), "population_size"),
        (b().population_size(usize::MAX), "population_size"),
        (b().restart(Restart::Ipop { factor: 1, max_restarts: 3 }), "restart"),
        (b().with_margin(true).margin_alpha(0.5), "margin_alpha"),
        (b().margin_alpha(0.01), "margin_alpha"),
        (b().warm_start(true).warm_start_gamma(0.0), "warm_start_gamma"),
        (b().warm_start(true).n_startup_trials(1), "n_startup_trials"),
        (b().warm_start_gamma(1.2), "warm_start_gamma"),
    ];
    for (builder, field) in cases {
        match builder.build() {
            Err(Error::InvalidConfig(m)) => {
                assert!(m.contains(field), "'{m}' does not name {field}")
            }
            other => panic!("{field}: expected an error, got {other:?}"),
        }
    }
    assert!(b().sigma0(1.0).population_size(2).with_margin(true).margin_alpha(0.1).build().is_ok());
}

#[test]
fn several_objectives_are_refused_with_a_clear_error() {
    let study = Study::builder()
        .directions([Direction::Minimize, Direction::Maximize])
        .sampler(CmaEsSampler::with_seed(1))
        .create()
        .unwrap();
    let err = study
        .optimize(
            |t: &mut Trial| -> Result<Vec<f64>, TrialError> {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                Ok(vec![x, 1.0 - x])
            },
            Budget::trials(5),
        )
        .unwrap_err();
    let m = err.to_string();
    assert!(
        matches!(err, Error::Sampler(_))
            && m.contains("single objective")
            && m.contains("has 2")
            && m.contains("NsgaII")
            && m.contains("TpeSampler"),
        "{m}"
    );
}

//! NSGA-II: the conformance suite with every crossover, better hypervolume than random search
//! on ZDT1 and DTLZ2 over seeds, constraints, mixed spaces, one objective, maximized objectives,
//! reproducibility, resumed studies, trials still running (stragglers, real threads), and
//! settings checked by the builder.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tunewise_core::conformance::sampler::check_sampler;
use tunewise_core::prelude::*;
use tunewise_core::{Crossover, Error, FrozenTrial, Mutation, NsgaIIBuilder, Sampler};

use crate::common::median;

fn nsga(seed: u64) -> NsgaIIBuilder {
    NsgaIISampler::builder().seed(seed)
}

// ---- conformance ------------------------------------------------------------------------------

#[test]
fn nsga2_passes_the_sampler_suite_with_every_operator() {
    // Small populations, so that most of the suite's 30-trial studies are bred, not random.
    type Config = fn(NsgaIIBuilder) -> NsgaIIBuilder;
    let configs: [(&str, Config); 5] = [
        ("default", |b| b),
        ("small population", |b| b.population_size(4)),
        ("sbx", |b| {
            b.population_size(5).crossover(Crossover::sbx()).mutation(Mutation::polynomial())
        }),
        ("blx", |b| b.population_size(6).crossover(Crossover::blx()).mutation_prob(Some(0.3))),
        ("always cross and mutate", |b| {
            b.population_size(2).crossover_prob(1.0).swapping_prob(1.0).mutation_prob(Some(1.0))
        }),
    ];
    for (_label, config) in configs {
        check_sampler(&|seed, _space| Box::new(config(nsga(seed)).build().unwrap()));
    }
}

// ---- several objectives: better hypervolume than random search ---------------------------------

fn xs(t: &mut Trial, d: usize) -> Result<Vec<f64>, TrialError> {
    (0..d).map(|i| Ok(t.suggest_float(&format!("x{i}"), 0.0, 1.0)?)).collect()
}

/// ZDT1 with 10 variables: both objectives minimized, front f2 = 1 − √f1.
fn zdt1(t: &mut Trial) -> Result<Vec<f64>, TrialError> {
    let x = xs(t, 10)?;
    let g = 1.0 + 9.0 * x[1..].iter().sum::<f64>() / 9.0;
    Ok(vec![x[0], g * (1.0 - (x[0] / g).sqrt())])
}

/// DTLZ2 with 3 objectives and 8 variables (k = 6): front on the unit sphere's positive octant.
fn dtlz2(t: &mut Trial) -> Result<Vec<f64>, TrialError> {
    let x = xs(t, 8)?;
    let g: f64 = x[2..].iter().map(|v| (v - 0.5).powi(2)).sum();
    let (a, b) = (x[0] * std::f64::consts::FRAC_PI_2, x[1] * std::f64::consts::FRAC_PI_2);
    Ok(vec![(1.0 + g) * a.cos() * b.cos(), (1.0 + g) * a.cos() * b.sin(), (1.0 + g) * a.sin()])
}

/// Hypervolume of points (minimized) up to `reference`: two objectives by a sweep, three by
/// slicing on the last one.
fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let mut pts: Vec<&Vec<f64>> =
        points.iter().filter(|p| p.iter().zip(reference).all(|(x, r)| x < r)).collect();
    if reference.len() == 2 {
        pts.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let (mut best_y, mut area) = (reference[1], 0.0);
        for p in pts {
            if p[1] < best_y {
                area += (reference[0] - p[0]) * (best_y - p[1]);
                best_y = p[1];
            }
        }
        return area;
    }
    pts.sort_by(|a, b| a[2].total_cmp(&b[2]));
    let mut volume = 0.0;
    for i in 0..pts.len() {
        let top = if i + 1 < pts.len() { pts[i + 1][2] } else { reference[2] };
        let slice: Vec<Vec<f64>> = pts[..=i].iter().map(|p| p[..2].to_vec()).collect();
        volume += (top - pts[i][2]) * hypervolume(&slice, &reference[..2]);
    }
    volume
}

type MultiObjective = fn(&mut Trial) -> Result<Vec<f64>, TrialError>;

/// The hypervolume of the feasible Pareto front a study finds in `budget` trials.
fn front_hypervolume(
    sampler: Box<dyn Sampler>,
    f: MultiObjective,
    m: usize,
    budget: usize,
    reference: &[f64],
) -> f64 {
    let study = Study::builder()
        .directions(vec![Direction::Minimize; m])
        .sampler(sampler)
        .create()
        .unwrap();
    study.optimize(f, Budget::trials(budget)).unwrap();
    let pts: Vec<Vec<f64>> =
        study.best_trials().unwrap().iter().map(|t| t.values.clone().unwrap()).collect();
    hypervolume(&pts, reference)
}

/// Over 8 seeds, NSGA-II's median hypervolume beats random search's by `margin` and it wins
/// at least 7 seeds.
fn beats_random(
    name: &str,
    f: MultiObjective,
    m: usize,
    budget: usize,
    reference: &[f64],
    margin: f64,
) {
    let (mut ga, mut rnd) = (Vec::new(), Vec::new());
    for seed in 0..8 {
        let s = nsga(seed).population_size(30).build().unwrap();
        ga.push(front_hypervolume(Box::new(s), f, m, budget, reference));
        rnd.push(front_hypervolume(
            Box::new(RandomSampler::with_seed(seed)),
            f,
            m,
            budget,
            reference,
        ));
    }
    let wins = ga.iter().zip(&rnd).filter(|(g, r)| g > r).count();
    let (mg, mr) = (median(&ga), median(&rnd));
    eprintln!("{name}: NSGA-II {mg:.4} random {mr:.4} wins {wins}/8");
    assert!(
        wins >= 7 && mg > mr + margin,
        "{name}: NSGA-II hypervolume median {mg:.4} vs random {mr:.4}, won {wins}/8\n\
         NSGA-II {ga:?}\nrandom {rnd:?}"
    );
}

#[test]
fn nsga2_finds_a_better_zdt1_front_than_random_search() {
    beats_random("zdt1", zdt1, 2, 300, &[1.1, 11.0], 0.5);
}

#[test]
fn nsga2_finds_a_better_dtlz2_front_than_random_search() {
    beats_random("dtlz2", dtlz2, 3, 300, &[2.0, 2.0, 2.0], 0.1);
}

// ---- constraints --------------------------------------------------------------------------------

/// ZDT1 in 4 variables whose feasible region is a disk of radius 0.25 around (0.7, 0.7) in the
/// first two (a fifth of the square, away from the unconstrained front's x1 ∈ [0, 1], x2 = 0).
fn constrained(t: &mut Trial) -> Result<Vec<f64>, TrialError> {
    let x = xs(t, 4)?;
    t.set_constraints(vec![(x[0] - 0.7).powi(2) + (x[1] - 0.7).powi(2) - 0.0625])?;
    let g = 1.0 + 9.0 * x[1..].iter().sum::<f64>() / 3.0;
    Ok(vec![x[0], g * (1.0 - (x[0] / g).sqrt())])
}

/// The fraction of feasible trials among the last `last`, the hypervolume of the feasible Pareto
/// front, and the trials.
fn feasible_late(
    sampler: impl Sampler + 'static,
    budget: usize,
    last: usize,
) -> (f64, f64, Vec<Arc<FrozenTrial>>) {
    let study = Study::builder()
        .directions([Direction::Minimize, Direction::Minimize])
        .sampler(sampler)
        .create()
        .unwrap();
    study.optimize(constrained, Budget::trials(budget)).unwrap();
    let trials = study.trials().unwrap();
    let late = &trials[budget - last..];
    let feasible = late.iter().filter(|t| t.is_feasible()).count() as f64 / last as f64;
    let front: Vec<Vec<f64>> =
        study.best_trials().unwrap().iter().map(|t| t.values.clone().unwrap()).collect();
    (feasible, hypervolume(&front, &[1.1, 11.0]), trials)
}

#[test]
fn constrained_domination_steers_to_the_feasible_region() {
    let (mut ga, mut rnd, mut ga_hv, mut rnd_hv) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for seed in 0..8 {
        let (f, hv, trials) =
            feasible_late(nsga(seed).population_size(20).build().unwrap(), 300, 60);
        ga.push(f);
        ga_hv.push(hv);
        // The last generation (20 trials) is bred from a population that had feasible trials:
        // most of it is feasible, and it improves the feasible front.
        let last_generation = &trials[280..];
        let feasible = last_generation.iter().filter(|t| t.is_feasible()).count();
        assert!(feasible >= 10, "seed {seed}: {feasible} of the last 20 trials are feasible");
        let (f, hv, _) = feasible_late(RandomSampler::with_seed(seed), 300, 60);
        rnd.push(f);
        rnd_hv.push(hv);
    }
    eprintln!("constrained: feasible {ga:?} vs {rnd:?}; hypervolume {ga_hv:?} vs {rnd_hv:?}");
    // Random search is feasible a fifth of the time.
    assert!(
        median(&ga) >= 0.55 && median(&rnd) < 0.3,
        "feasible fractions of the last 60 trials: NSGA-II {ga:?}, random {rnd:?}"
    );
    let wins = ga_hv.iter().zip(&rnd_hv).filter(|(g, r)| g > r).count();
    assert!(
        wins >= 6 && median(&ga_hv) > median(&rnd_hv) + 0.2,
        "feasible front hypervolume: NSGA-II won {wins}/8, {ga_hv:?} vs random {rnd_hv:?}"
    );
}

// ---- mixed spaces, one objective, maximized objectives -----------------------------------------

/// Two objectives on a mixed space; `act = "tanh"` is best for both.
fn mixed(t: &mut Trial) -> Result<Vec<f64>, TrialError> {
    let lr = t.suggest_float_log("lr", 1e-5, 1.0)?;
    let layers = t.suggest_int("layers", 1, 12)?;
    let width = t.suggest_int_log("width", 8, 512)?;
    let dropout = t.suggest_float_step("dropout", 0.0, 0.9, 0.05)?;
    let act = t.suggest_categorical("act", &["relu", "tanh", "sigmoid", "gelu"])?;
    let penalty = match act {
        "tanh" => 0.0,
        "gelu" => 1.0,
        _ => 2.0,
    };
    let error = (lr.log10() + 2.5).powi(2) + (dropout - 0.35).powi(2) * 10.0 + penalty;
    let cost = layers as f64 * (width as f64).ln() / 10.0 + penalty;
    Ok(vec![error, cost])
}

#[test]
fn a_mixed_space_is_bred_and_its_categorical_converges() {
    let mut fractions = Vec::new();
    for seed in 0..4 {
        let s = nsga(seed).population_size(20).build().unwrap();
        let study = Study::builder()
            .directions([Direction::Minimize, Direction::Minimize])
            .sampler(s)
            .create()
            .unwrap();
        study.optimize(mixed, Budget::trials(200)).unwrap();
        let trials = study.trials().unwrap();
        assert!(trials.iter().all(|t| t.state == TrialState::Complete && t.params.len() == 5));
        let late = &trials[160..];
        let tanh = late.iter().filter(|t| t.param_value("act") == Some(ParamValue::from("tanh")));
        fractions.push(tanh.count() as f64 / late.len() as f64);
    }
    eprintln!("mixed: late fractions of tanh {fractions:?}");
    // Random choice would pick "tanh" a quarter of the time.
    assert!(median(&fractions) >= 0.6, "late fraction of the best choice: {fractions:?}");
}

fn sphere5(t: &mut Trial) -> Result<f64, TrialError> {
    let x: Vec<f64> =
        (0..5).map(|i| t.suggest_float(&format!("x{i}"), -5.0, 5.0)).collect::<Result<_, _>>()?;
    Ok(x.iter().enumerate().map(|(i, x)| (x - 2.5 * ((i + 1) as f64).sin()).powi(2)).sum())
}

#[test]
fn with_one_objective_it_is_a_genetic_algorithm_that_beats_random_search() {
    let (mut ga, mut rnd) = (Vec::new(), Vec::new());
    for seed in 0..8 {
        let s = nsga(seed).population_size(20).build().unwrap();
        ga.push(crate::common::best_of(s, sphere5, 300));
        rnd.push(crate::common::best_of(RandomSampler::with_seed(seed), sphere5, 300));
    }
    eprintln!("sphere: NSGA-II {ga:?}\nrandom {rnd:?}");
    assert!(median(&ga) < 0.5 * median(&rnd), "NSGA-II {ga:?}\nrandom {rnd:?}");
}

fn params_of(study: &Study) -> Vec<Vec<(String, u64)>> {
    study
        .trials()
        .unwrap()
        .iter()
        .map(|t| t.params.iter().map(|p| (p.name.to_string(), p.internal.to_bits())).collect())
        .collect()
}

#[test]
fn maximized_objectives_are_bred_like_their_negations() {
    let run = |maximize: bool| {
        let direction = if maximize { Direction::Maximize } else { Direction::Minimize };
        let study = Study::builder()
            .directions([direction, direction])
            .sampler(nsga(4).population_size(10).build().unwrap())
            .create()
            .unwrap();
        let sign = if maximize { -1.0 } else { 1.0 };
        study
            .optimize(
                |t: &mut Trial| {
                    Ok::<_, TrialError>(zdt1(t)?.iter().map(|v| sign * v).collect::<Vec<f64>>())
                },
                Budget::trials(60),
            )
            .unwrap();
        params_of(&study)
    };
    assert_eq!(run(false), run(true));
}

/// Without mutation, uniform crossover only recombines: every value of a bred trial is, bit for
/// bit, the value of a trial of the study before it (log scales included).
#[test]
fn uniform_crossover_without_mutation_copies_parent_values_exactly() {
    let study = mixed_study(nsga(2).population_size(10).mutation_prob(Some(0.0)), 60);
    let trials = study.trials().unwrap();
    for t in &trials[10..] {
        for p in &t.params {
            let seen = trials[..t.number as usize].iter().any(|o| {
                o.param(&p.name).is_some_and(|q| q.internal.to_bits() == p.internal.to_bits())
            });
            assert!(
                seen,
                "trial {} has '{}' = {}, which no earlier trial had",
                t.number, p.name, p.internal
            );
        }
    }
}

// ---- reproducibility and resuming ---------------------------------------------------------------

fn mixed_study(builder: NsgaIIBuilder, trials: usize) -> Study {
    let study = Study::builder()
        .directions([Direction::Minimize, Direction::Minimize])
        .sampler(builder.build().unwrap())
        .create()
        .unwrap();
    study.optimize(mixed, Budget::trials(trials)).unwrap();
    study
}

#[test]
fn the_same_seed_gives_the_same_trials() {
    let make = |seed| nsga(seed).population_size(8).crossover(Crossover::sbx());
    let a = params_of(&mixed_study(make(11), 60));
    let b = params_of(&mixed_study(make(11), 60));
    let c = params_of(&mixed_study(make(12), 60));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn the_first_generation_is_random_search_with_the_same_seed() {
    let a = params_of(&mixed_study(nsga(5).population_size(30), 30));
    let study = Study::builder()
        .directions([Direction::Minimize, Direction::Minimize])
        .sampler(RandomSampler::with_seed(5))
        .create()
        .unwrap();
    study.optimize(mixed, Budget::trials(30)).unwrap();
    assert_eq!(a, params_of(&study));
    // And the next generation is not.
    let bred = params_of(&mixed_study(nsga(5).population_size(30), 60));
    study.optimize(mixed, Budget::trials(30)).unwrap();
    assert_ne!(bred[30..], params_of(&study)[30..]);
}

/// A run interrupted after 70 trials (some failed, some infeasible) and resumed by a new
/// process — a fresh sampler on the stored history — proposes exactly the trials of an
/// uninterrupted run.
#[test]
fn a_resumed_study_proposes_what_an_uninterrupted_one_does() {
    let objective = |t: &mut Trial| -> Result<Vec<f64>, TrialError> {
        let v = mixed(t)?;
        if t.number() % 9 == 4 {
            return Err(TrialError::failed("flaky"));
        }
        t.set_constraints(vec![v[0] - 6.0])?;
        Ok(v)
    };
    let make = || nsga(21).population_size(12).crossover(Crossover::blx()).build().unwrap();
    let new_study = || {
        Study::builder()
            .directions([Direction::Minimize, Direction::Minimize])
            .sampler(make())
            .create()
            .unwrap()
    };
    let whole = new_study();
    whole.optimize(objective, Budget::trials(130)).unwrap();

    let first = new_study();
    first.optimize(objective, Budget::trials(70)).unwrap();
    let resumed = new_study();
    for t in first.trials().unwrap() {
        let mut known = match t.state {
            TrialState::Complete => {
                KnownTrial::complete(t.values.clone().unwrap()).constraints(t.constraints.clone())
            }
            state => KnownTrial::unfinished(state),
        };
        for p in &t.params {
            known = known.param(&p.name, (*p.distribution).clone(), p.value());
        }
        resumed.add_trial(known).unwrap();
    }
    resumed.optimize(objective, Budget::trials(60)).unwrap();
    assert_eq!(params_of(&whole), params_of(&resumed));
}

/// Two workers (two studies on one storage, each with its own sampler and cache) taking turns
/// propose exactly what one worker does: a trial's generation and parents depend on the history,
/// not on which process reads it.
#[test]
fn workers_taking_turns_propose_what_one_worker_does() {
    let make = || nsga(8).population_size(10).crossover(Crossover::sbx()).build().unwrap();
    let one = mixed_study(nsga(8).population_size(10).crossover(Crossover::sbx()), 80);

    let storage: Arc<dyn tunewise_core::Storage> = Arc::new(tunewise_core::InMemoryStorage::new());
    let first = Study::builder()
        .name("shared")
        .storage(storage.clone())
        .directions([Direction::Minimize, Direction::Minimize])
        .sampler(make())
        .create()
        .unwrap();
    let second = Study::builder().name("shared").storage(storage).sampler(make()).load().unwrap();
    for i in 0..80 {
        let worker = if i % 3 == 0 { &second } else { &first };
        worker.optimize(mixed, Budget::trials(1)).unwrap();
    }
    assert_eq!(params_of(&one), params_of(&first));
}

// ---- stragglers: a trial still running ------------------------------------------------------

/// A new two-objective study with NSGA-II (population 20).
fn zdt1_study(seed: u64) -> Study {
    Study::builder()
        .directions([Direction::Minimize, Direction::Minimize])
        .sampler(nsga(seed).population_size(20).build().unwrap())
        .create()
        .unwrap()
}

/// The hypervolume of a two-objective study's Pareto front (reference point [1.1, 11]).
fn front_of(study: &Study) -> f64 {
    let pts: Vec<Vec<f64>> =
        study.best_trials().unwrap().iter().map(|t| t.values.clone().unwrap()).collect();
    hypervolume(&pts, &[1.1, 11.0])
}

/// 320 trials of ZDT1 asked and told in one thread, trial `straggler` (if any) left running
/// until every other trial is told: the study and its front's hypervolume.
fn zdt1_with_straggler(seed: u64, straggler: Option<u64>) -> (Study, f64) {
    let study = zdt1_study(seed);
    let mut held = None;
    for _ in 0..320 {
        let mut trial = study.ask().unwrap();
        let values = zdt1(&mut trial);
        if Some(trial.number()) == straggler {
            held = Some((trial, values));
        } else {
            study.tell(trial, values).unwrap();
        }
    }
    if let Some((trial, values)) = held {
        study.tell(trial, values).unwrap();
    }
    let hv = front_of(&study);
    (study, hv)
}

/// One trial (the first, or one of the third generation) stays running while the 319 others
/// are asked and told: they are bred from the generations of the trials finished after it,
/// not all from the population before it (or at random, when it is the first trial).
/// Deterministic (one thread); without a straggler the medians are 10.84 (the same trials as
/// `optimize`), random search's about 9.4. Before the fix: medians 9.45 (trial 0, random search
/// exactly) and 9.62 (trial 45), every seed below 9.6 and 10.2; after: 10.64 and 10.71, every
/// seed above 10.26.
#[test]
fn a_straggling_trial_does_not_freeze_the_generations() {
    let plain: Vec<f64> = (0..8).map(|seed| zdt1_with_straggler(seed, None).1).collect();
    for straggler in [0, 45] {
        let held: Vec<f64> =
            (0..8).map(|seed| zdt1_with_straggler(seed, Some(straggler)).1).collect();
        eprintln!("zdt1, trial {straggler} straggling: {held:?}\nnone straggling: {plain:?}");
        let worst = held.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(
            median(&held) > 10.4 && worst > 10.0,
            "hypervolumes with trial {straggler} straggling: {held:?}\nwith none: {plain:?}"
        );
    }
}

/// Once the straggler has finished, the generations are those of its history, whatever the
/// order the trials finished in: the study goes on exactly as a fresh sampler on that history
/// (a resumed study, or another worker) goes on.
#[test]
fn after_a_straggler_the_study_goes_on_as_a_resumed_one() {
    let (study, _) = zdt1_with_straggler(3, Some(45));
    let resumed = zdt1_study(3);
    for t in study.trials().unwrap() {
        let mut known = KnownTrial::complete(t.values.clone().unwrap());
        for p in &t.params {
            known = known.param(&p.name, (*p.distribution).clone(), p.value());
        }
        resumed.add_trial(known).unwrap();
    }
    study.optimize(zdt1, Budget::trials(40)).unwrap();
    resumed.optimize(zdt1, Budget::trials(40)).unwrap();
    assert_eq!(params_of(&study)[320..], params_of(&resumed)[320..]);
}

/// ZDT1's front after 320 trials on four real threads (population 20), trial `straggler` (if
/// any) running until the others have finished 240.
fn zdt1_on_four_threads(seed: u64, straggler: Option<u64>) -> f64 {
    let study = zdt1_study(seed);
    let done = AtomicUsize::new(0);
    let objective = |t: &mut Trial| {
        let values = zdt1(t);
        let started = Instant::now();
        // The time limit only keeps a broken engine from hanging the test.
        while Some(t.number()) == straggler
            && done.load(Ordering::SeqCst) < 240
            && started.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        done.fetch_add(1, Ordering::SeqCst);
        values
    };
    study.optimize_parallel(objective, Budget::trials(320), 4).unwrap();
    front_of(&study)
}

/// Four real threads on a fast objective, with and without a straggler: a worker that the
/// operating system holds back leaves its trial running while the others go on. Measured over
/// 25 runs of these 8 seeds: every hypervolume above 10.0, medians above 10.5. Before the fix,
/// with a straggler, 327 of 400 hypervolumes were below 10.0 and every run had one; without,
/// 10 runs of 25 had a seed stalled at 9.1 to 9.9.
#[test]
fn four_threads_breed_past_a_straggler() {
    for straggler in [None, Some(0), Some(45)] {
        let hv: Vec<f64> = (0..8).map(|seed| zdt1_on_four_threads(seed, straggler)).collect();
        let worst = hv.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(
            median(&hv) > 10.3 && worst > 9.8,
            "hypervolumes with four threads, straggler {straggler:?}: {hv:?}"
        );
    }
}

// ---- settings -----------------------------------------------------------------------------------

#[test]
fn bad_settings_are_refused_with_the_setting_named() {
    let cases: [(NsgaIIBuilder, &str); 9] = [
        (NsgaIISampler::builder().population_size(1), "population_size"),
        (NsgaIISampler::builder().crossover_prob(1.5), "crossover_prob"),
        (NsgaIISampler::builder().crossover_prob(f64::NAN), "crossover_prob"),
        (NsgaIISampler::builder().swapping_prob(-0.1), "swapping_prob"),
        (NsgaIISampler::builder().mutation_prob(Some(2.0)), "mutation_prob"),
        (NsgaIISampler::builder().crossover(Crossover::Sbx { eta: -1.0 }), "crossover"),
        (NsgaIISampler::builder().crossover(Crossover::Blx { alpha: f64::INFINITY }), "crossover"),
        (NsgaIISampler::builder().mutation(Mutation::Polynomial { eta: f64::NAN }), "mutation"),
        (NsgaIISampler::builder().population_size(0), "population_size"),
    ];
    for (builder, field) in cases {
        match builder.build() {
            Err(Error::InvalidConfig(m)) => {
                assert!(m.contains(field), "'{m}' does not name {field}")
            }
            other => panic!("{field}: expected an error, got {other:?}"),
        }
    }
    assert!(NsgaIISampler::builder()
        .population_size(2)
        .crossover_prob(0.0)
        .mutation_prob(Some(0.0))
        .build()
        .is_ok());
}

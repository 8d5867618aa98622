//! The pruner conformance suite: [`check_pruner`].
//!
//! It checks what a user relies on whatever the rule: a trial with no reports is never pruned;
//! the pruner neither panics nor fails on histories with NaN and infinite values, pruned, failed,
//! running and waiting trials, complete trials without reports, trials with different step sets
//! (sparse, single, huge step numbers), one or two objectives in either direction; the same
//! inputs give the same answer (twice in a row, from a fresh pruner, in another order, on copies
//! of the records, and as the history grows: a cache must never answer for an older history);
//! inside [`Study::optimize`] with [`Trial::should_prune`] a pruned trial is stored as
//! [`TrialState::Pruned`] with its intermediate values up to the step it was pruned at; the
//! same holds with four threads and with two objectives.
//!
//! The suite does not judge whether a rule prunes the right trials: a pruner that never prunes
//! ([`NopPruner`](crate::NopPruner)) passes.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use super::ok;
use crate::sync::lock;
use crate::{
    Budget, Direction, FrozenTrial, Pruner, RandomSampler, StopReason, Study, StudyView, Trial,
    TrialError, TrialState,
};

const SUITE: &str = "pruner";

/// Runs the pruner conformance suite; panics with a message naming the scenario and the
/// violation.
///
/// `make()` builds a fresh pruner with the settings under test. The suite builds several: a
/// pruner must give the same answers whichever instance is asked.
///
/// ```no_run
/// use tunewise_core::conformance::pruner::check_pruner;
/// use tunewise_core::{NopPruner, PercentilePruner};
///
/// check_pruner(|| Box::new(NopPruner));
/// check_pruner(|| Box::new(PercentilePruner::median()));
/// ```
pub fn check_pruner(make: impl Fn() -> Box<dyn Pruner>) {
    let cases = cases();
    let first = answers(&*make(), &cases, false, false, "a first pruner");
    for (case, answers) in cases.iter().zip(&first) {
        for (judged, pruned) in case.judged.iter().zip(answers) {
            if judged.intermediate_values.is_empty() {
                assert!(
                    !pruned,
                    "pruner conformance [{}]: pruned trial {} that has reported nothing; a \
                     trial with no reports must never be pruned",
                    case.label, judged.number
                );
            }
        }
    }
    let reused = make();
    for (what, reverse, copies) in [
        ("the same pruner asked again", false, false),
        ("the same pruner asked in reverse order", true, false),
        ("the same pruner asked on copies of the records", false, true),
    ] {
        let again = answers(&*reused, &cases, reverse, copies, what);
        compare(&cases, &first, &again, what);
    }
    let fresh = answers(&*make(), &cases, true, true, "a fresh pruner in reverse order");
    compare(&cases, &first, &fresh, "a fresh pruner in reverse order");
    growing_history(&make);
    for (label, directions, threads) in [
        ("one objective, one thread", vec![Direction::Minimize], 1),
        ("one objective maximized, four threads", vec![Direction::Maximize], 4),
        ("two objectives", vec![Direction::Minimize, Direction::Maximize], 1),
        ("two objectives, four threads", vec![Direction::Maximize, Direction::Minimize], 4),
    ] {
        in_a_study(&make, label, &directions, threads);
    }
    let one = in_a_study(&make, "reproducible study", &[Direction::Minimize], 1);
    let two = in_a_study(&make, "reproducible study", &[Direction::Minimize], 1);
    assert_eq!(
        one, two,
        "pruner conformance [reproducible study]: the same study run twice pruned different \
         trials (trial number, state, last step)"
    );
}

/// A history and the trials judged against it.
struct Case {
    label: String,
    directions: Vec<Direction>,
    history: Vec<Arc<FrozenTrial>>,
    judged: Vec<FrozenTrial>,
}

/// A trial in `state` with `rows` as its intermediate values; a complete trial's values are its
/// last row (or `fallback` when it has none).
fn trial(number: u64, state: TrialState, rows: &[(u64, Vec<f64>)], n: usize) -> FrozenTrial {
    let mut t = FrozenTrial::new(number, number, state);
    for (step, row) in rows {
        t.intermediate_values.insert(*step, row.clone());
    }
    if state == TrialState::Complete {
        let last = rows.last().map(|(_, r)| r.clone()).filter(|r| r.iter().all(|v| !v.is_nan()));
        t.values = Some(last.unwrap_or_else(|| vec![number as f64; n]));
    }
    t
}

/// One row of `n` values from a scalar: the objectives pull in different directions.
fn row(v: f64, n: usize) -> Vec<f64> {
    (0..n).map(|i| if i % 2 == 0 { v } else { -v + 0.1 * i as f64 }).collect()
}

/// A smooth learning curve: trial `k` at `step`.
fn curve(k: u64, step: u64) -> f64 {
    (1.0 + (k % 7) as f64) / (1.0 + step as f64).sqrt() + 0.01 * (k % 3) as f64
}

fn rows(k: u64, steps: impl IntoIterator<Item = u64>, n: usize) -> Vec<(u64, Vec<f64>)> {
    steps.into_iter().map(|s| (s, row(curve(k, s), n))).collect()
}

/// Histories of every awkward kind, for one and two objectives in both directions.
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let directions_sets = [
        vec![Direction::Minimize],
        vec![Direction::Maximize],
        vec![Direction::Minimize, Direction::Maximize],
        vec![Direction::Maximize, Direction::Maximize],
    ];
    for directions in directions_sets {
        let n = directions.len();
        let histories: Vec<(&str, Vec<FrozenTrial>)> = vec![
            ("empty history", Vec::new()),
            (
                "complete trials",
                (0..12).map(|k| trial(k, TrialState::Complete, &rows(k, 0..20, n), n)).collect(),
            ),
            ("every state", {
                let mut h: Vec<FrozenTrial> =
                    (0..8).map(|k| trial(k, TrialState::Complete, &rows(k, 0..10, n), n)).collect();
                h.push(trial(8, TrialState::Pruned, &rows(8, 0..3, n), n));
                h.push(trial(9, TrialState::Pruned, &rows(9, [0], n), n));
                h.push(trial(10, TrialState::Failed, &rows(10, 0..5, n), n));
                h.push(trial(11, TrialState::Failed, &[], n));
                h.push(trial(12, TrialState::Running, &rows(12, 0..4, n), n));
                h.push(trial(13, TrialState::Waiting, &[], n));
                h.push(trial(14, TrialState::Complete, &[], n));
                h.push(trial(15, TrialState::Pruned, &[], n));
                h
            }),
            ("NaN and infinite values", {
                (0..10)
                    .map(|k| {
                        let mut r = rows(k, 0..8, n);
                        match k % 4 {
                            0 => r[3].1[0] = f64::NAN,
                            1 => r
                                .iter_mut()
                                .for_each(|(_, v)| v.iter_mut().for_each(|x| *x = f64::NAN)),
                            2 => r[5].1 = vec![f64::INFINITY; n],
                            _ => r[2].1 = vec![f64::NEG_INFINITY; n],
                        }
                        trial(k, TrialState::Complete, &r, n)
                    })
                    .collect()
            }),
            ("different step sets", {
                let sets: [Vec<u64>; 6] = [
                    (0..50).step_by(10).collect(),
                    vec![3],
                    vec![0, 1, 2, 1_000],
                    vec![u64::MAX - 1, u64::MAX],
                    (0..100).collect(),
                    vec![7, 9, 40],
                ];
                sets.iter()
                    .enumerate()
                    .map(|(k, s)| {
                        trial(k as u64, TrialState::Complete, &rows(k as u64, s.clone(), n), n)
                    })
                    .collect()
            }),
        ];
        for (name, history) in histories {
            let next = history.len() as u64;
            let running = |rows: Vec<(u64, Vec<f64>)>| trial(next, TrialState::Running, &rows, n);
            let judged = vec![
                running(Vec::new()),
                running(rows(0, 0..1, n)),
                running(rows(0, 0..12, n)),
                running(rows(6, 0..12, n)),
                running(rows(6, [0, 5, 10, 15, 20], n)),
                running(vec![(0, row(1.0, n)), (1, vec![f64::NAN; n])]),
                running(vec![(0, vec![f64::NAN; n]), (1, vec![f64::NAN; n])]),
                running(vec![(0, vec![f64::INFINITY; n]), (4, vec![f64::NEG_INFINITY; n])]),
                running(rows(3, [2_000, 5_000], n)),
                running(rows(5, [0, u64::MAX], n)),
                running(rows(2, [u64::MAX], n)),
            ];
            out.push(Case {
                label: format!("{name}, {}", names(&directions)),
                directions: directions.clone(),
                history: history.into_iter().map(Arc::new).collect(),
                judged,
            });
        }
    }
    out
}

fn names(directions: &[Direction]) -> String {
    directions.iter().map(Direction::to_string).collect::<Vec<_>>().join(" and ")
}

/// Asks `pruner` about every judged trial of every case; panics on a panic or an error.
fn answers(
    pruner: &dyn Pruner,
    cases: &[Case],
    reverse: bool,
    copies: bool,
    what: &str,
) -> Vec<Vec<bool>> {
    let mut out: Vec<Vec<bool>> = cases.iter().map(|c| vec![false; c.judged.len()]).collect();
    let mut order: Vec<(usize, usize)> = cases
        .iter()
        .enumerate()
        .flat_map(|(i, c)| (0..c.judged.len()).map(move |j| (i, j)))
        .collect();
    if reverse {
        order.reverse();
    }
    let copied: Vec<Vec<Arc<FrozenTrial>>> =
        cases.iter().map(|c| c.history.iter().map(|t| Arc::new((**t).clone())).collect()).collect();
    for (i, j) in order {
        let case = &cases[i];
        let history = if copies { &copied[i] } else { &case.history };
        out[i][j] = ask(pruner, &case.label, &case.directions, history, &case.judged[j], what);
    }
    out
}

/// One call, with panics and errors turned into the suite's failure messages.
fn ask(
    pruner: &dyn Pruner,
    label: &str,
    directions: &[Direction],
    history: &[Arc<FrozenTrial>],
    judged: &FrozenTrial,
    what: &str,
) -> bool {
    let view = StudyView::new(directions, history);
    let steps: Vec<u64> = judged.intermediate_values.keys().copied().collect();
    match catch_unwind(AssertUnwindSafe(|| pruner.prune(&view, judged))) {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => panic!(
            "pruner conformance [{label}]: {what}: prune failed for a trial with steps \
             {steps:?}: {e}"
        ),
        Err(_) => panic!(
            "pruner conformance [{label}]: {what}: prune panicked for a trial with steps \
             {steps:?} and values {:?}",
            judged.intermediate_values
        ),
    }
}

fn compare(cases: &[Case], first: &[Vec<bool>], again: &[Vec<bool>], what: &str) {
    for ((case, a), b) in cases.iter().zip(first).zip(again) {
        for (j, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(
                x,
                y,
                "pruner conformance [{}]: not deterministic: {what} answered {y} where the first \
                 pruner answered {x}, for the trial with steps {:?}",
                case.label,
                case.judged[j].intermediate_values.keys().collect::<Vec<_>>()
            );
        }
    }
}

/// One pruner asked as a history grows (trials start running, then complete or get pruned) must
/// answer as a fresh pruner asked about each history: caches never go stale.
fn growing_history(make: &dyn Fn() -> Box<dyn Pruner>) {
    for directions in [vec![Direction::Minimize], vec![Direction::Minimize, Direction::Maximize]] {
        let n = directions.len();
        let label = format!("a growing history, {}", names(&directions));
        let shared = make();
        let mut history: Vec<Arc<FrozenTrial>> = Vec::new();
        for k in 0..16u64 {
            let steps = if k % 5 == 4 { 0..3 } else { 0..10 };
            history.push(Arc::new(trial(k, TrialState::Running, &rows(k, steps.clone(), n), n)));
            for round in 0..2 {
                if round == 1 {
                    let state = if k % 5 == 4 { TrialState::Pruned } else { TrialState::Complete };
                    history[k as usize] = Arc::new(trial(k, state, &rows(k, steps.clone(), n), n));
                }
                let judged: Vec<FrozenTrial> = [0, 3, 6]
                    .iter()
                    .map(|j| trial(k + 1, TrialState::Running, &rows(*j, 0..(k % 10 + 1), n), n))
                    .collect();
                for t in &judged {
                    let what = "the pruner asked along the history";
                    let a = ask(&*shared, &label, &directions, &history, t, what);
                    let b = ask(&*make(), &label, &directions, &history, t, "a fresh pruner");
                    assert_eq!(
                        a,
                        b,
                        "pruner conformance [{label}]: after {} trials, the pruner asked along \
                         the history answered {a}, a fresh pruner {b} (a stale cache?)",
                        k + 1
                    );
                }
            }
        }
    }
}

/// Trial number, state and last reported step of every trial of a study.
type Outcome = Vec<(u64, TrialState, Option<u64>)>;

/// Runs a study whose objective reports a learning curve and stops when `should_prune` says
/// so; checks that the pruned trials are stored as pruned with their last step.
fn in_a_study(
    make: &dyn Fn() -> Box<dyn Pruner>,
    label: &str,
    directions: &[Direction],
    threads: usize,
) -> Outcome {
    let n = directions.len();
    let study = Study::builder()
        .directions(directions.iter().copied())
        .sampler(RandomSampler::with_seed(11))
        .pruner(make())
        .create();
    let study = ok(SUITE, study, "creating a study");
    let pruned_at: Mutex<BTreeMap<u64, u64>> = Mutex::new(BTreeMap::new());
    let objective = |t: &mut Trial| -> Result<Vec<f64>, TrialError> {
        let x = t.suggest_float("x", 0.0, 1.0)?;
        let number = t.number();
        let sparse = number % 3 == 1;
        let mut last = Vec::new();
        for step in 0..12u64 {
            if sparse && step % 2 == 1 {
                continue;
            }
            let v = (0.2 + x) * (1.0 + 1.0 / (1.0 + step as f64));
            let mut values = row(v, n);
            if number % 7 == 3 && step == 4 {
                values[0] = f64::NAN;
            }
            t.report_values(step, &values)?;
            if number % 11 == 5 && step == 2 {
                return Err(TrialError::failed("conformance: a deliberate failure"));
            }
            if t.should_prune()? {
                lock(&pruned_at).insert(number, step);
                return Err(TrialError::Pruned);
            }
            last = row(v, n);
        }
        Ok(last)
    };
    let report = match study.optimize_parallel(objective, Budget::trials(30), threads) {
        Ok(r) => r,
        Err(e) => panic!("pruner conformance [{label}]: optimize failed: {e}"),
    };
    assert!(
        matches!(report.stop_reason, StopReason::TrialBudget) && report.trials == 30,
        "pruner conformance [{label}]: the study stopped early ({}, {} trials)",
        report.stop_reason,
        report.trials
    );
    let trials = ok(SUITE, study.trials(), "reading trials");
    let pruned_at = lock(&pruned_at);
    let mut outcome = Vec::new();
    for t in &trials {
        let last = t.intermediate_values.keys().next_back().copied();
        match pruned_at.get(&t.number) {
            Some(step) => {
                assert_eq!(
                    t.state,
                    TrialState::Pruned,
                    "pruner conformance [{label}]: trial {} was pruned but is stored {}",
                    t.number,
                    t.state
                );
                assert_eq!(
                    last,
                    Some(*step),
                    "pruner conformance [{label}]: trial {} was pruned at step {step} but its \
                     last stored step is {last:?}",
                    t.number
                );
                assert!(
                    t.values.is_none(),
                    "pruner conformance [{label}]: pruned trial {} has values",
                    t.number
                );
            }
            None => assert_ne!(
                t.state,
                TrialState::Pruned,
                "pruner conformance [{label}]: trial {} is stored pruned but was not",
                t.number
            ),
        }
        outcome.push((t.number, t.state, last));
    }
    outcome
}

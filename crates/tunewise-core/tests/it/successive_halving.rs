//! Successive halving (ASHA) on hand-made curves: promotion and pruning at each rung, both
//! directions, NaN, bootstrap, several objectives, bad settings.

use std::sync::Arc;

use tunewise_core::{
    Budget, Direction, Error, FrozenTrial, HyperbandPruner, Pruner, RandomSampler, Study,
    StudyView, SuccessiveHalvingPruner, TrialError, TrialState, WilcoxonPruner,
};

use Direction::{Maximize, Minimize};
use TrialState::{Complete, Pruned, Running};

/// A trial with one value per objective at each `(step, values)`.
fn trial(number: u64, state: TrialState, curve: &[(u64, &[f64])]) -> FrozenTrial {
    let mut t = FrozenTrial::new(1000 + number, number, state);
    for (step, values) in curve {
        t.intermediate_values.insert(*step, values.to_vec());
    }
    if state == Complete {
        t.values = curve.last().map(|(_, v)| v.to_vec());
    }
    t
}

/// Finished single-objective trials numbered from 0, with `value` at every step in `steps`.
fn finished(values: &[f64], steps: &[u64]) -> Vec<FrozenTrial> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let curve: Vec<(u64, &[f64])> =
                steps.iter().map(|s| (*s, std::slice::from_ref(v))).collect();
            trial(i as u64, if i % 2 == 0 { Complete } else { Pruned }, &curve)
        })
        .collect()
}

/// The pruner's decision on `judged`, which is added to the study's trials.
fn decide(
    pruner: &dyn Pruner,
    dirs: &[Direction],
    others: &[FrozenTrial],
    judged: &FrozenTrial,
) -> bool {
    let mut trials: Vec<Arc<FrozenTrial>> = others.iter().cloned().map(Arc::new).collect();
    trials.push(Arc::new(judged.clone()));
    pruner.prune(&StudyView::new(dirs, &trials), judged).unwrap()
}

fn sha(min_resource: u64, eta: u64) -> SuccessiveHalvingPruner {
    SuccessiveHalvingPruner::builder()
        .min_resource(min_resource)
        .reduction_factor(eta)
        .build()
        .unwrap()
}

#[test]
fn rungs_are_at_min_resource_times_powers_of_eta() {
    let p = sha(2, 3);
    assert_eq!([0, 1, 2].map(|k| p.rung_step(k)), [Some(2), Some(6), Some(18)]);
    let p = SuccessiveHalvingPruner::builder()
        .min_resource(1)
        .reduction_factor(2)
        .min_early_stopping_rate(2)
        .build()
        .unwrap();
    assert_eq!(p.rung_step(0), Some(4));
    assert_eq!(SuccessiveHalvingPruner::new().rung_step(1), Some(4), "defaults: 1 and η = 4");
}

#[test]
fn minimize_promotes_the_top_fraction_at_the_first_rung() {
    // Four finished trials at rung 0 (step 1): 1, 2, 3, 4. With the judged trial n = 5 and
    // η = 2: ⌊5/2⌋ = 2 go on.
    let others = finished(&[1.0, 2.0, 3.0, 4.0], &[1]);
    let p = sha(1, 2);
    let at = |v: f64| trial(10, Running, &[(1, &[v])]);
    assert!(!decide(&p, &[Minimize], &others, &at(1.5)), "second best goes on");
    assert!(!decide(&p, &[Minimize], &others, &at(2.0)), "a tie for second goes on");
    assert!(decide(&p, &[Minimize], &others, &at(2.5)), "third of five is pruned");
    assert!(decide(&p, &[Minimize], &others, &at(9.0)));
}

#[test]
fn maximize_promotes_the_largest_values() {
    let others = finished(&[1.0, 2.0, 3.0, 4.0], &[1]);
    let p = sha(1, 2);
    let at = |v: f64| trial(10, Running, &[(1, &[v])]);
    assert!(!decide(&p, &[Maximize], &others, &at(3.5)));
    assert!(!decide(&p, &[Maximize], &others, &at(3.0)), "a tie for second goes on");
    assert!(decide(&p, &[Maximize], &others, &at(2.5)));
    assert!(decide(&p, &[Maximize], &others, &at(0.0)));
}

#[test]
fn every_rung_passed_is_checked() {
    // η = 2, rungs at steps 1, 2, 4. The others have value v at steps 1 and 2, and the judged
    // trial is best at step 1 but bad at step 2.
    let others = finished(&[1.0, 2.0, 3.0, 4.0], &[1, 2]);
    let p = sha(1, 2);
    let curve = |at2: f64| trial(10, Running, &[(1, &[0.5]), (2, &[at2])]);
    assert!(!decide(&p, &[Minimize], &others, &trial(10, Running, &[(1, &[0.5])])));
    assert!(decide(&p, &[Minimize], &others, &curve(3.5)), "pruned at rung 1");
    assert!(!decide(&p, &[Minimize], &others, &curve(1.5)), "promoted at rung 1");
    // Between rungs (step 3) nothing new is judged; the values at the rungs decide.
    let mut between = curve(1.5);
    between.intermediate_values.insert(3, vec![100.0]);
    assert!(!decide(&p, &[Minimize], &others, &between));
}

#[test]
fn rung_value_is_the_first_reported_at_or_after_the_rung() {
    // Rung 1 at step 2; trials report only odd steps, so step 3 stands for rung 1.
    let others = finished(&[1.0, 2.0, 3.0, 4.0], &[1, 3]);
    let p = sha(1, 2);
    let j = |v: f64| trial(10, Running, &[(1, &[0.5]), (3, &[v])]);
    assert!(!decide(&p, &[Minimize], &others, &j(1.5)));
    assert!(decide(&p, &[Minimize], &others, &j(3.5)));
}

#[test]
fn nothing_is_judged_before_the_first_rung() {
    let others = finished(&[1.0, 2.0], &[1, 2, 3]);
    let p = sha(3, 2);
    assert!(!decide(&p, &[Minimize], &others, &trial(10, Running, &[(1, &[9.0]), (2, &[9.0])])));
    assert!(decide(&p, &[Minimize], &others, &trial(10, Running, &[(3, &[9.0])])));
    assert!(!decide(&p, &[Minimize], &others, &trial(10, Running, &[])), "no report yet");
    let rate = SuccessiveHalvingPruner::builder()
        .reduction_factor(2)
        .min_early_stopping_rate(1)
        .build()
        .unwrap();
    assert!(!decide(&rate, &[Minimize], &others, &trial(10, Running, &[(1, &[9.0])])));
    assert!(decide(&rate, &[Minimize], &others, &trial(10, Running, &[(2, &[9.0])])));
}

#[test]
fn with_fewer_than_eta_trials_only_the_best_goes_on() {
    // n = 2 < η = 4: one slot.
    let others = finished(&[2.0], &[1]);
    let p = sha(1, 4);
    assert!(!decide(&p, &[Minimize], &others, &trial(10, Running, &[(1, &[1.0])])));
    assert!(decide(&p, &[Minimize], &others, &trial(10, Running, &[(1, &[3.0])])));
    // The first trial at a rung goes on.
    assert!(!decide(&p, &[Minimize], &[], &trial(0, Running, &[(1, &[3.0])])));
}

#[test]
fn running_trials_compete_too_and_waiting_ones_do_not() {
    let mut others = finished(&[1.0], &[1]);
    others.push(trial(1, Running, &[(1, &[2.0])]));
    let mut waiting = trial(2, TrialState::Waiting, &[]);
    waiting.intermediate_values.insert(1, vec![0.0]);
    others.push(waiting);
    // n = 3 with η = 2: one slot; the running 2.0 and the complete 1.0 are both better.
    let p = sha(1, 2);
    assert!(decide(&p, &[Minimize], &others, &trial(10, Running, &[(1, &[2.5])])));
    assert!(!decide(&p, &[Minimize], &others, &trial(10, Running, &[(1, &[0.5])])));
}

#[test]
fn nan_is_the_worst_value() {
    let others = finished(&[f64::NAN, f64::NAN, f64::NAN, 1.0], &[1]);
    let p = sha(1, 2);
    // n = 5, two slots: only 1.0 beats 2.0; the NaNs count in n but beat nothing.
    assert!(!decide(&p, &[Minimize], &others, &trial(10, Running, &[(1, &[2.0])])));
    assert!(!decide(&p, &[Maximize], &others, &trial(10, Running, &[(1, &[0.0])])));
    assert!(decide(&p, &[Minimize], &others, &trial(10, Running, &[(1, &[f64::NAN])])));
}

#[test]
fn bootstrap_count_prunes_the_first_trials_at_each_rung() {
    let p =
        SuccessiveHalvingPruner::builder().reduction_factor(2).bootstrap_count(2).build().unwrap();
    let good = trial(10, Running, &[(1, &[0.0])]);
    assert!(decide(&p, &[Minimize], &finished(&[5.0], &[1]), &good), "n = 2 <= 2");
    assert!(!decide(&p, &[Minimize], &finished(&[5.0, 6.0], &[1]), &good), "n = 3 > 2");
}

#[test]
fn a_finished_judged_trial_is_counted_once() {
    // The judged trial is complete and in the study: n = 3 (not 4), η = 2, one slot.
    let mut others = finished(&[1.0, 2.0], &[1]);
    let judged = trial(2, Complete, &[(1, &[1.5])]);
    others.push(judged.clone());
    let p = sha(1, 2);
    let trials: Vec<Arc<FrozenTrial>> = others.into_iter().map(Arc::new).collect();
    assert!(p.prune(&StudyView::new(&[Minimize], &trials), &judged).unwrap());
    let mut best = trial(2, Complete, &[(1, &[0.5])]);
    best.id = 5000;
    let mut trials = trials;
    trials[2] = Arc::new(best.clone());
    assert!(!p.prune(&StudyView::new(&[Minimize], &trials), &best).unwrap());
}

#[test]
fn the_cache_never_answers_for_another_study() {
    let p = sha(1, 2);
    let judged = trial(10, Running, &[(1, &[2.5])]);
    assert!(decide(&p, &[Minimize], &finished(&[1.0, 2.0, 3.0, 4.0], &[1]), &judged));
    // Fewer trials: the cached ones are gone.
    assert!(!decide(&p, &[Minimize], &finished(&[3.0], &[1]), &judged));
    // Same numbers, other trials (other ids).
    let mut other = finished(&[1.0, 2.0, 3.0, 4.0], &[1]);
    assert!(decide(&p, &[Minimize], &other, &judged));
    for t in &mut other {
        t.id += 500;
        t.intermediate_values.insert(1, vec![9.0]);
    }
    assert!(!decide(&p, &[Minimize], &other, &judged));
    // Other directions.
    let high = trial(10, Running, &[(1, &[3.5])]);
    assert!(decide(&p, &[Minimize], &finished(&[1.0, 2.0, 3.0, 4.0], &[1]), &high));
    assert!(!decide(&p, &[Maximize], &finished(&[1.0, 2.0, 3.0, 4.0], &[1]), &high));
    // And a trial finishing between calls is picked up.
    let mut grown = finished(&[3.0, 4.0], &[1]);
    assert!(!decide(&p, &[Minimize], &grown, &judged));
    grown.extend(finished(&[1.0, 2.0, 0.0, 0.5], &[1]).into_iter().skip(2).map(|mut t| {
        t.number += 2;
        t.id += 2;
        t
    }));
    assert!(decide(&p, &[Minimize], &grown, &judged));
}

#[test]
fn several_objectives_rank_by_front_then_crowding() {
    // Two objectives, the second maximized. Finished at rung 0: A, B, C on the first front
    // (in minimization terms (1, 4), (4, 1), (2, 2)). η = 2, n = 4: two slots.
    let dirs = [Minimize, Maximize];
    let others = vec![
        trial(0, Complete, &[(1, &[1.0, -4.0])]),
        trial(1, Pruned, &[(1, &[4.0, -1.0])]),
        trial(2, Complete, &[(1, &[2.0, -2.0])]),
    ];
    let p = sha(1, 2);
    let at = |a: f64, b: f64| trial(10, Running, &[(1, &[a, b])]);
    assert!(!decide(&p, &dirs, &others, &at(0.5, -0.5)), "dominates everyone: front of one");
    assert!(decide(&p, &dirs, &others, &at(3.0, -3.0)), "dominated by C: second front");
    assert!(decide(&p, &dirs, &others, &at(5.0, -5.0)), "dominated by all three");
}

#[test]
fn several_objectives_break_ties_in_a_front_by_crowding_distance() {
    // Minimize both. First front: A (0, 10), B (10, 0), C (5, 5), J (2, 8); D and E behind.
    // n = 6, η = 2: three slots. A and B are ends (infinite crowding); C's crowding is
    // 0.8 + 0.8 = 1.6 and J's 0.5 + 0.5 = 1.0, so J is fourth (pruned) and C third (promoted).
    let dirs = [Minimize, Minimize];
    let pt = |n: u64, a: f64, b: f64| trial(n, Complete, &[(1, &[a, b])]);
    let base = vec![pt(0, 0.0, 10.0), pt(1, 10.0, 0.0), pt(2, 6.0, 6.0), pt(3, 7.0, 7.0)];
    let p = sha(1, 2);
    let mut with_c = base.clone();
    with_c.push(pt(4, 5.0, 5.0));
    assert!(decide(&p, &dirs, &with_c, &trial(10, Running, &[(1, &[2.0, 8.0])])));
    let mut with_j = base;
    with_j.push(pt(4, 2.0, 8.0));
    assert!(!decide(&p, &dirs, &with_j, &trial(10, Running, &[(1, &[5.0, 5.0])])));
}

#[test]
fn a_report_of_the_wrong_width_is_an_error() {
    let p = sha(1, 2);
    let judged = trial(0, Running, &[(1, &[1.0])]);
    let trials = vec![Arc::new(judged.clone())];
    let err = p.prune(&StudyView::new(&[Minimize, Minimize], &trials), &judged).unwrap_err();
    assert!(matches!(err, Error::WrongNumberOfValues { expected: 2, got: 1 }), "{err}");
}

#[test]
fn bad_settings_are_refused_with_the_setting_named() {
    let cases = [
        (SuccessiveHalvingPruner::builder().reduction_factor(1).build(), "reduction_factor"),
        (SuccessiveHalvingPruner::builder().min_resource(0).build(), "min_resource"),
        (
            SuccessiveHalvingPruner::builder().min_early_stopping_rate(80).build(),
            "min_early_stopping_rate",
        ),
    ];
    for (result, field) in cases {
        match result {
            Err(Error::InvalidConfig(m)) => {
                assert!(m.contains(&format!("SuccessiveHalvingPruner {field}")), "{m}")
            }
            other => panic!("expected InvalidConfig naming {field}, got {other:?}"),
        }
    }
}

#[test]
fn the_pruners_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<SuccessiveHalvingPruner>();
    check::<HyperbandPruner>();
    check::<WilcoxonPruner>();
}

#[test]
fn in_a_study_bad_curves_stop_at_a_rung_and_good_ones_run_to_the_end() {
    // Curves `x + 1/step` for x drawn in [0, 1): with η = 3 and rungs at 1, 3, 9, most trials
    // stop early, each at a rung, and the best trial still runs all 27 steps.
    let pruner = SuccessiveHalvingPruner::builder().reduction_factor(3).build().unwrap();
    let study =
        Study::builder().sampler(RandomSampler::with_seed(3)).pruner(pruner).create().unwrap();
    study
        .optimize(
            |t| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                for step in 1..=27u64 {
                    t.report(step, x + 1.0 / step as f64)?;
                    if t.should_prune()? {
                        return Err(TrialError::Pruned);
                    }
                }
                Ok(x)
            },
            Budget::trials(40),
        )
        .unwrap();
    let trials = study.trials().unwrap();
    let pruned: Vec<_> = trials.iter().filter(|t| t.state == Pruned).collect();
    assert!(pruned.len() >= 20, "{} of 40 pruned", pruned.len());
    for t in &pruned {
        let (last, _) = t.last_step().unwrap();
        assert!([1, 3, 9].contains(&last), "trial {} pruned at step {last}", t.number);
    }
    let best = study.best_trial().unwrap();
    assert_eq!(best.last_step().map(|(s, _)| s), Some(27));
}

/// Pareto dominance, minimization.
fn dominates_min(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
}

/// Deb's crowding distance of the points of one front, restated for the cross-check.
fn crowding(points: &[&[f64]]) -> Vec<f64> {
    let n = points.len();
    if n <= 2 {
        return vec![f64::INFINITY; n];
    }
    let mut d = vec![0.0; n];
    #[allow(clippy::needless_range_loop)] // `k` indexes the objectives of every point.
    for k in 0..points[0].len() {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| points[a][k].total_cmp(&points[b][k]).then(a.cmp(&b)));
        let spread = points[order[n - 1]][k] - points[order[0]][k];
        if spread <= 0.0 {
            continue;
        }
        d[order[0]] = f64::INFINITY;
        d[order[n - 1]] = f64::INFINITY;
        for w in 1..n - 1 {
            d[order[w]] += (points[order[w + 1]][k] - points[order[w - 1]][k]) / spread;
        }
    }
    d
}

#[test]
fn several_objectives_agree_with_a_brute_force_ranking() {
    // Random small rungs (2 or 3 objectives, values on a coarse grid so that ties and equal
    // points occur): the pruner's decision at rung 0 against a plain O(n²) ranking of every
    // point by front, then crowding distance within the front.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    let p = sha(1, 3);
    for case in 0..300 {
        let m = 2 + next(2) as usize;
        let n = 2 + next(14) as usize;
        let pts: Vec<Vec<f64>> = (0..n).map(|_| (0..m).map(|_| next(6) as f64).collect()).collect();
        let dirs = vec![Minimize; m];
        let others: Vec<FrozenTrial> = pts[..n - 1]
            .iter()
            .enumerate()
            .map(|(i, v)| trial(i as u64, Complete, &[(1, v)]))
            .collect();
        let judged = trial(n as u64, Running, &[(1, &pts[n - 1])]);
        // Fronts by repeated peeling of the non-dominated points.
        let mut left: Vec<usize> = (0..n).collect();
        let mut ahead = 0;
        loop {
            let front: Vec<usize> = left
                .iter()
                .copied()
                .filter(|&i| !left.iter().any(|&j| dominates_min(&pts[j], &pts[i])))
                .collect();
            if front.contains(&(n - 1)) {
                // The front in lexicographic order of the values, the judged point first among
                // equal points (the documented order).
                let mut front = front;
                front.sort_by(|&a, &b| {
                    pts[a]
                        .partial_cmp(&pts[b])
                        .unwrap()
                        .then((b == n - 1).cmp(&(a == n - 1)))
                        .then(a.cmp(&b))
                });
                let pos = front.iter().position(|&i| i == n - 1).unwrap();
                let members: Vec<&[f64]> = front.iter().map(|&i| pts[i].as_slice()).collect();
                let c = crowding(&members);
                ahead += c.iter().filter(|x| **x > c[pos]).count();
                break;
            }
            ahead += front.len();
            left.retain(|i| !front.contains(i));
        }
        let expected_pruned = ahead >= (n / 3).max(1);
        assert_eq!(decide(&p, &dirs, &others, &judged), expected_pruned, "case {case}: {pts:?}");
    }
}

/// Whether the point `judged` of `pts` (values to minimize; `None` for a NaN) is pruned by a
/// plain O(n²) ranking: by front, then by crowding distance within the front, in the
/// documented order (lexicographic, the judged point first among equal points).
fn brute_force_pruned(pts: &[Option<Vec<f64>>], judged: usize, eta: usize) -> bool {
    let slots = (pts.len() / eta).max(1);
    let mut left: Vec<usize> = (0..pts.len()).filter(|&i| pts[i].is_some()).collect();
    let p = |i: usize| pts[i].as_deref().unwrap_or(&[]);
    let mut ahead = 0;
    loop {
        let front: Vec<usize> = left
            .iter()
            .copied()
            .filter(|&i| !left.iter().any(|&j| dominates_min(p(j), p(i))))
            .collect();
        if front.contains(&judged) {
            let mut front = front;
            front.sort_by(|&a, &b| {
                let lex = p(a).iter().zip(p(b)).map(|(x, y)| x.total_cmp(y)).find(|o| o.is_ne());
                lex.unwrap_or(std::cmp::Ordering::Equal)
                    .then((b == judged).cmp(&(a == judged)))
                    .then(a.cmp(&b))
            });
            let pos = front.iter().position(|&i| i == judged).unwrap();
            let members: Vec<&[f64]> = front.iter().map(|&i| p(i)).collect();
            let c = crowding(&members);
            ahead += c.iter().filter(|x| **x > c[pos]).count();
            return ahead >= slots;
        }
        ahead += front.len();
        left.retain(|i| !front.contains(i));
    }
}

#[test]
fn several_objectives_fast_paths_agree_with_a_brute_force_ranking() {
    // Random rungs of 2 to 150 trials (2 or 3 objectives, mixed directions, values on grids
    // from very coarse — many ties and equal points — to fine, a few NaN, running and finished
    // trials, a finished judged trial): the decision at rung 0 against the plain ranking, both
    // from a fresh cache and from one extended by the trials that finished since the last call.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    for case in 0..400 {
        let m = 2 + next(2) as usize;
        let n = 2 + next(if case % 4 == 0 { 149 } else { 30 }) as usize;
        let grid = [2, 3, 6, 1000][next(4) as usize];
        let eta = 2 + next(3) as usize;
        let dirs: Vec<Direction> =
            (0..m).map(|_| if next(2) == 0 { Minimize } else { Maximize }).collect();
        let values: Vec<Vec<f64>> = (0..n)
            .map(|_| {
                (0..m)
                    .map(|_| if next(40) == 0 { f64::NAN } else { next(grid) as f64 - 1.0 })
                    .collect()
            })
            .collect();
        let judged_state = if next(3) == 0 { Complete } else { Running };
        let states: Vec<TrialState> =
            (0..n - 1).map(|_| [Complete, Pruned, Running][next(3) as usize]).collect();
        let as_trial = |i: usize, state: TrialState| {
            let mut t = trial(i as u64, state, &[(1, &values[i])]);
            t.values = None;
            Arc::new(t)
        };
        let judged = as_trial(n - 1, judged_state);
        let to_min = |v: &Vec<f64>| -> Option<Vec<f64>> {
            if v.iter().any(|x| x.is_nan()) {
                return None;
            }
            Some(
                dirs.iter()
                    .zip(v)
                    .map(|(d, x)| if *d == Minimize { *x } else { -*x } + 0.0)
                    .collect(),
            )
        };
        // First call: the first half of the others, then the judged trial; second call: the
        // same trials (same positions), then the rest.
        let half = (n - 1) / 2;
        let pruner = sha(1, eta as u64);
        let mut trials: Vec<Arc<FrozenTrial>> = (0..half).map(|i| as_trial(i, states[i])).collect();
        trials.push(Arc::clone(&judged));
        for upto in [half, n - 1] {
            trials.extend((trials.len() - 1..upto).map(|i| as_trial(i, states[i])));
            let mut pts: Vec<Option<Vec<f64>>> = (0..upto).map(|i| to_min(&values[i])).collect();
            pts.push(to_min(&values[n - 1]));
            let expected = pts[upto].is_none() || brute_force_pruned(&pts, upto, eta);
            let got = pruner.prune(&StudyView::new(&dirs, &trials), &judged).unwrap();
            assert_eq!(got, expected, "case {case} with {upto} others: {dirs:?} {values:?}");
        }
    }
}

#[test]
fn several_objectives_a_copy_of_the_judged_point_can_rank_ahead_of_it() {
    // Front {a, judged, copy, b}: sorted on the first objective the copy sits next to b, far
    // away, so its crowding distance beats the judged point's; with a and b that is 3 ahead,
    // and n = 6 (two NaN trials) gives 3 slots at η = 2: pruned. Only 2 points are strictly
    // below the judged one on some objective: the copy must be counted too.
    let nan = [f64::NAN, f64::NAN];
    let others: Vec<FrozenTrial> = [[-1.0, 1.0], [5.0, -1.0], [0.0, 0.0], nan, nan]
        .iter()
        .enumerate()
        .map(|(i, v)| trial(i as u64, Complete, &[(1, v)]))
        .collect();
    let judged = trial(9, Running, &[(1, &[0.0, 0.0])]);
    let pts: Vec<Option<Vec<f64>>> = vec![
        Some(vec![-1.0, 1.0]),
        Some(vec![5.0, -1.0]),
        Some(vec![0.0, 0.0]),
        None,
        None,
        Some(vec![0.0, 0.0]),
    ];
    assert!(brute_force_pruned(&pts, 5, 2));
    assert!(decide(&sha(1, 2), &[Minimize; 2], &others, &judged));
}

#[test]
fn two_objectives_with_many_running_trials_agree_with_a_brute_force_ranking() {
    // Two objectives, rungs of up to 250 trials of which up to two thirds are running: running
    // points push finished ones to later fronts, which the cached fronts of the finished points
    // must account for. Values on grids from very coarse (many equal points, ties in crowding
    // distance) to fine; a few NaN; the judged trial running or finished. Three calls per
    // case, with trials finishing (running ones completing in place, new ones appended)
    // between calls, so that the cached fronts are rebuilt and reused.
    let mut state = 0x51a7_c0de_f00d_1234u64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    for case in 0..500 {
        let n = 3 + next(if case % 6 == 0 { 248 } else { 60 }) as usize;
        let grid = [2, 3, 5, 20, 1000][next(5) as usize];
        let eta = 2 + next(3) as usize;
        let dirs = [Minimize, if next(2) == 0 { Minimize } else { Maximize }];
        let running_share = next(3);
        let values: Vec<Vec<f64>> = (0..n)
            .map(|_| {
                (0..2)
                    .map(|_| if next(60) == 0 { f64::NAN } else { next(grid) as f64 / 7.0 - 1.0 })
                    .collect()
            })
            .collect();
        let mut states: Vec<TrialState> = (0..n - 1)
            .map(|_| {
                if next(3) < running_share {
                    Running
                } else {
                    [Complete, Pruned][next(2) as usize]
                }
            })
            .collect();
        let judged_state = if next(4) == 0 { Complete } else { Running };
        let as_trial = |i: usize, state: TrialState| {
            let mut t = trial(i as u64, state, &[(1, &values[i])]);
            t.values = None;
            Arc::new(t)
        };
        let judged = as_trial(n - 1, judged_state);
        let to_min = |v: &Vec<f64>| -> Option<Vec<f64>> {
            if v.iter().any(|x| x.is_nan()) {
                return None;
            }
            Some(
                dirs.iter()
                    .zip(v)
                    .map(|(d, x)| if *d == Minimize { *x } else { -*x } + 0.0)
                    .collect(),
            )
        };
        let pruner = sha(1, eta as u64);
        let first = (n - 1) * 2 / 3;
        for call in 0..3 {
            let upto = if call == 0 { first } else { n - 1 };
            if call == 2 {
                // Some running trials finish in place.
                for s in states.iter_mut() {
                    if *s == Running && next(2) == 0 {
                        *s = Complete;
                    }
                }
            }
            let mut trials: Vec<Arc<FrozenTrial>> =
                (0..upto).map(|i| as_trial(i, states[i])).collect();
            trials.push(Arc::clone(&judged));
            let mut pts: Vec<Option<Vec<f64>>> = (0..upto).map(|i| to_min(&values[i])).collect();
            pts.push(to_min(&values[n - 1]));
            let expected = pts[upto].is_none() || brute_force_pruned(&pts, upto, eta);
            let got = pruner.prune(&StudyView::new(&dirs, &trials), &judged).unwrap();
            assert_eq!(got, expected, "case {case}, call {call}: {dirs:?} {values:?} {states:?}");
        }
    }
}

#[test]
fn two_objectives_a_running_trial_can_push_finished_ones_into_the_judged_trials_front() {
    // Finished: A (0, 5), B (5, 0), D1 (3, 3), D2 (2.5, 4), all in the first front among the
    // finished trials, and two NaN trials; the judged J (1, 6) is dominated by A only. The
    // running E (2, 2) dominates D1 and D2: the fronts are {A, B, E}, {J, D1, D2}, and J, the
    // end of its front on the first objective, has 3 points ahead of it. n = 8, η = 2: four
    // slots, promoted (counting the four finished first-front points as ahead would prune it).
    let nan = [f64::NAN, f64::NAN];
    let mut others: Vec<FrozenTrial> = [[0.0, 5.0], [5.0, 0.0], [3.0, 3.0], [2.5, 4.0], nan, nan]
        .iter()
        .enumerate()
        .map(|(i, v)| trial(i as u64, Complete, &[(1, v)]))
        .collect();
    others.push(trial(6, Running, &[(1, &[2.0, 2.0])]));
    let judged = trial(9, Running, &[(1, &[1.0, 6.0])]);
    let p = |v: [f64; 2]| Some(v.to_vec());
    let pts = vec![
        p([0.0, 5.0]),
        p([5.0, 0.0]),
        p([3.0, 3.0]),
        p([2.5, 4.0]),
        None,
        None,
        p([2.0, 2.0]),
        p([1.0, 6.0]),
    ];
    assert!(!brute_force_pruned(&pts, 7, 2));
    assert!(!decide(&sha(1, 2), &[Minimize; 2], &others, &judged));
    // Without the running trial J is in the second front behind four points: pruned.
    others.pop();
    assert!(decide(&sha(1, 2), &[Minimize; 2], &others, &judged));
}

/// Finished two-objective trials at step 1, numbered from 0: the first front {a (0, 5),
/// c (1, 4), d (4, 1), b (5, 0)}, a chain behind a on the left (l1, l2, l3, in fronts 1–3) and
/// one behind b at the bottom (m1, m2), then `nan` NaN trials.
fn staircase_with_tails(nan: usize) -> Vec<FrozenTrial> {
    let mut points = vec![
        [0.0, 5.0],
        [1.0, 4.0],
        [4.0, 1.0],
        [5.0, 0.0],
        [0.5, 6.0],
        [0.6, 7.0],
        [0.7, 8.0],
        [6.0, 0.5],
        [7.0, 0.6],
    ];
    points.extend(std::iter::repeat([f64::NAN; 2]).take(nan));
    points.iter().enumerate().map(|(i, v)| trial(i as u64, Complete, &[(1, v)])).collect()
}

/// `staircase_with_tails` as points for `brute_force_pruned`, then `more`.
fn staircase_points(nan: usize, more: &[[f64; 2]]) -> Vec<Option<Vec<f64>>> {
    staircase_with_tails(nan)
        .iter()
        .map(|t| Some(t.intermediate_values[&1].clone()).filter(|v| !v[0].is_nan()))
        .chain(more.iter().map(|v| Some(v.to_vec())))
        .collect()
}

#[test]
fn two_objectives_the_cached_fronts_up_to_the_judged_trials_accept_it_at_once() {
    // J (2, 2) joins the first front of the finished points. 9 points are below it on some
    // objective (too many for the count of those to accept it: 10 trials, 5 slots at η = 2),
    // none ahead of it surely, but only the 4 finished points of the first front can be
    // ahead of it: promoted (exactly 2, the first front's ends, are).
    let judged = trial(9, Running, &[(1, &[2.0, 2.0])]);
    let others = staircase_with_tails(0);
    assert!(!brute_force_pruned(&staircase_points(0, &[[2.0, 2.0]]), 9, 2));
    assert!(!decide(&sha(1, 2), &[Minimize; 2], &others, &judged));
}

#[test]
fn two_objectives_a_running_trial_can_make_the_quick_accept_too_loose() {
    // As above with a running E (3, 1.5), in the first front too: 11 trials, 5 slots, and the
    // first front's 4 finished points plus E could all be ahead: the bound does not decide,
    // the full ranking does (the ends a and b, and c, are ahead: promoted).
    let judged = trial(9, Running, &[(1, &[2.0, 2.0])]);
    let mut others = staircase_with_tails(0);
    others.push(trial(20, Running, &[(1, &[3.0, 1.5])]));
    let pts = staircase_points(0, &[[3.0, 1.5], [2.0, 2.0]]);
    assert!(!brute_force_pruned(&pts, 10, 2));
    assert!(!decide(&sha(1, 2), &[Minimize; 2], &others, &judged));
}

#[test]
fn two_objectives_running_trials_that_dominate_the_judged_one_push_it_back() {
    // As above with the running (1.8, 1.8) and (1.9, 1.9), a chain dominating J: J is in the
    // third front, behind 8 points; 12 trials, 6 slots: pruned. Among the finished points
    // alone J is in the first front, with 4 points in it: the quick accept must allow for the
    // fronts the running points can push it back (and for the running points themselves).
    let judged = trial(9, Running, &[(1, &[2.0, 2.0])]);
    let mut others = staircase_with_tails(0);
    others.push(trial(20, Running, &[(1, &[1.8, 1.8])]));
    others.push(trial(21, Running, &[(1, &[1.9, 1.9])]));
    let pts = staircase_points(0, &[[1.8, 1.8], [1.9, 1.9], [2.0, 2.0]]);
    assert!(brute_force_pruned(&pts, 11, 2));
    assert!(decide(&sha(1, 2), &[Minimize; 2], &others, &judged));
}

#[test]
fn two_objectives_a_finished_judged_trial_given_with_other_values_competes_with_those() {
    // The study holds the judged trial (number 1) finished at (0, 0), but it is judged as
    // given, at (1, 1): its values replace the study's. The rung is then {a (1, 1), judged
    // (1, 1)}: one front of two equal points, nothing ahead, promoted (n = 2, one slot at
    // η = 2). The study's copy, which dominates the judged point, must not count as ahead.
    let a = trial(0, Complete, &[(1, &[1.0, 1.0])]);
    let in_study = trial(1, Complete, &[(1, &[0.0, 0.0])]);
    let judged = trial(1, Complete, &[(1, &[1.0, 1.0])]);
    let trials = vec![Arc::new(a), Arc::new(in_study)];
    let pts = vec![Some(vec![1.0, 1.0]), Some(vec![1.0, 1.0])];
    assert!(!brute_force_pruned(&pts, 1, 2));
    assert!(!sha(1, 2).prune(&StudyView::new(&[Minimize; 2], &trials), &judged).unwrap());
}

#[test]
fn two_objectives_a_finished_judged_trial_given_with_other_values_agrees_with_a_brute_force_ranking(
) {
    // Random rungs (coarse grids: many ties and equal points; some running trials) whose
    // judged trial is finished in the study with one value and judged with another: the
    // decision against the plain ranking of the rung with the judged trial's given value in
    // place of the study's. Two calls per case (a fresh cache, then one extended by trials
    // finishing one at a time between the calls, so the cached fronts are updated in place).
    let mut state = 0x0ddc_0ffe_e0dd_f00du64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    for case in 0..2000 {
        let n = 3 + next(40) as usize;
        let grid = [2, 3, 5, 20][next(4) as usize];
        let eta = 2 + next(3) as usize;
        let mut value = || vec![next(grid) as f64, next(grid) as f64];
        let values: Vec<Vec<f64>> = (0..n).map(|_| value()).collect();
        let given = value();
        let states: Vec<TrialState> =
            (0..n).map(|_| [Complete, Pruned, Running, Complete][next(4) as usize]).collect();
        let judged_at = next(n as u64) as usize;
        let as_trial = |i: usize| {
            let state = if i == judged_at { Complete } else { states[i] };
            Arc::new(trial(i as u64, state, &[(1, &values[i])]))
        };
        let judged = trial(judged_at as u64, Complete, &[(1, &given)]);
        let pruner = sha(1, eta as u64);
        let first = (judged_at + 1).max(n - 1 - next(3) as usize);
        let mut trials: Vec<Arc<FrozenTrial>> = (0..first).map(as_trial).collect();
        for upto in [first, n] {
            trials.extend((trials.len()..upto).map(as_trial));
            let pts: Vec<Option<Vec<f64>>> = (0..upto)
                .map(|i| Some(if i == judged_at { given.clone() } else { values[i].clone() }))
                .collect();
            let expected = brute_force_pruned(&pts, judged_at, eta);
            let got = pruner.prune(&StudyView::new(&[Minimize; 2], &trials), &judged).unwrap();
            assert_eq!(got, expected, "case {case}, {upto} trials: {values:?} judged {given:?}");
        }
    }
}

#[test]
fn two_objectives_trials_finishing_one_at_a_time_agree_with_a_brute_force_ranking() {
    // A study whose trials finish one at a time, with a call after each: every finished point
    // is inserted into the rung's cached fronts in place (they are used at each call). Values
    // on coarse grids (ties, equal points) and now and then a NaN; a few running trials; the
    // judged trial's value changes from call to call (it is a running trial reporting again).
    let mut state = 0x7e57_1a57_0b1e_c0deu64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    for case in 0..60 {
        let grid = [2, 3, 6, 40][case % 4];
        let eta = 2 + next(3);
        let pruner = sha(1, eta);
        let mut trials: Vec<Arc<FrozenTrial>> = Vec::new();
        let mut pts: Vec<Option<Vec<f64>>> = Vec::new();
        for i in 0..80u64 {
            let v = if next(30) == 0 {
                vec![f64::NAN, 0.0]
            } else {
                vec![next(grid) as f64, next(grid) as f64]
            };
            let state = if next(8) == 0 { Running } else { [Complete, Pruned][next(2) as usize] };
            pts.push(Some(v.clone()).filter(|v| !v[0].is_nan()));
            trials.push(Arc::new(trial(i, state, &[(1, &v)])));
            let own = vec![next(grid) as f64, next(grid) as f64];
            let judged = trial(500, Running, &[(1, &own)]);
            let mut all = trials.clone();
            all.push(Arc::new(judged.clone()));
            let mut with_own = pts.clone();
            with_own.push(Some(own));
            let expected = brute_force_pruned(&with_own, with_own.len() - 1, eta as usize);
            let got = pruner.prune(&StudyView::new(&[Minimize; 2], &all), &judged).unwrap();
            assert_eq!(got, expected, "case {case}, {} trials: {with_own:?}", i + 1);
        }
    }
}

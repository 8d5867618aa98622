//! The percentile (median), threshold and patience pruners on hand-made learning curves.

use std::sync::Arc;

use tunewise_core::{
    Direction, Error, FrozenTrial, NopPruner, PatiencePruner, PercentilePruner, Pruner, StudyView,
    ThresholdPruner, TrialState,
};

use Direction::{Maximize, Minimize};

/// A trial in `state` reporting `curve[i]` at step `steps[i]` (one objective per row).
fn trial(number: u64, state: TrialState, rows: &[(u64, &[f64])]) -> FrozenTrial {
    let mut t = FrozenTrial::new(number, number, state);
    for (step, row) in rows {
        t.intermediate_values.insert(*step, row.to_vec());
    }
    if state == TrialState::Complete {
        t.values = rows.last().map(|(_, r)| r.to_vec());
    }
    t
}

/// A one-objective curve reported at steps 0, 1, 2, …
fn curve(values: &[f64]) -> Vec<(u64, Vec<f64>)> {
    values.iter().enumerate().map(|(s, v)| (s as u64, vec![*v])).collect()
}

fn with_state(number: u64, state: TrialState, rows: &[(u64, Vec<f64>)]) -> FrozenTrial {
    let rows: Vec<(u64, &[f64])> = rows.iter().map(|(s, r)| (*s, r.as_slice())).collect();
    trial(number, state, &rows)
}

/// Complete trials with one value each at steps 0..=3: trial k reports `values[k]` at step 3
/// and worse values before (for either direction: the curve converges to its value).
fn history(values: &[f64]) -> Vec<Arc<FrozenTrial>> {
    values
        .iter()
        .enumerate()
        .map(|(k, v)| {
            let rows = [(0, vec![*v]), (1, vec![*v]), (2, vec![*v]), (3, vec![*v])];
            Arc::new(with_state(k as u64, TrialState::Complete, &rows))
        })
        .collect()
}

/// A running trial judged against `history`.
fn running(history: &[Arc<FrozenTrial>], rows: &[(u64, Vec<f64>)]) -> FrozenTrial {
    with_state(history.len() as u64, TrialState::Running, rows)
}

fn prune(
    pruner: &dyn Pruner,
    directions: &[Direction],
    history: &[Arc<FrozenTrial>],
    t: &FrozenTrial,
) -> bool {
    pruner.prune(&StudyView::new(directions, history), t).unwrap()
}

fn config_error(result: Result<impl std::fmt::Debug, Error>, needle: &str) {
    match result {
        Err(Error::InvalidConfig(m)) => assert!(m.contains(needle), "{m} should name {needle}"),
        other => panic!("expected an InvalidConfig naming {needle}, got {other:?}"),
    }
}

// ---------------------------------------------------------------- percentile and median

const FIVE: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];

#[test]
fn median_prunes_a_trial_worse_than_the_median_when_minimizing() {
    let h = history(&FIVE);
    let median = PercentilePruner::median();
    let at3 = |v: f64| running(&h, &curve(&[9.0, 9.0, 9.0, v]));
    assert!(prune(&median, &[Minimize], &h, &at3(3.5)));
    assert!(!prune(&median, &[Minimize], &h, &at3(3.0)), "equal to the median is kept");
    assert!(!prune(&median, &[Minimize], &h, &at3(2.9)));
    // The trial's best value so far counts, not its latest.
    let dipped = running(&h, &curve(&[9.0, 2.0, 9.0, 10.0]));
    assert!(!prune(&median, &[Minimize], &h, &dipped));
}

#[test]
fn median_prunes_a_trial_worse_than_the_median_when_maximizing() {
    let h = history(&FIVE);
    let median = PercentilePruner::median();
    let at3 = |v: f64| running(&h, &curve(&[0.0, 0.0, 0.0, v]));
    assert!(prune(&median, &[Maximize], &h, &at3(2.5)));
    assert!(!prune(&median, &[Maximize], &h, &at3(3.0)));
    assert!(!prune(&median, &[Maximize], &h, &at3(3.5)));
    let peaked = running(&h, &curve(&[0.0, 4.0, 0.0, 0.0]));
    assert!(!prune(&median, &[Maximize], &h, &peaked));
}

#[test]
fn a_lower_percentile_prunes_more_in_both_directions() {
    let h = history(&FIVE);
    let p25 = PercentilePruner::new(25.0).unwrap();
    let median = PercentilePruner::median();
    // Minimize: the 25th percentile of 1..5 is 2.
    let t = running(&h, &curve(&[9.0, 9.0, 9.0, 2.5]));
    assert!(prune(&p25, &[Minimize], &h, &t));
    assert!(!prune(&median, &[Minimize], &h, &t));
    // Maximize: the bar is the 75th percentile, 4.
    let t = running(&h, &curve(&[0.0, 0.0, 0.0, 3.5]));
    assert!(prune(&p25, &[Maximize], &h, &t));
    assert!(!prune(&median, &[Maximize], &h, &t));
    // Between two values the bar interpolates: the 10th percentile of 1..5 is 1.4.
    let p10 = PercentilePruner::new(10.0).unwrap();
    assert!(prune(&p10, &[Minimize], &h, &running(&h, &[(3, vec![1.41])])));
    assert!(!prune(&p10, &[Minimize], &h, &running(&h, &[(3, vec![1.39])])));
}

#[test]
fn no_pruning_before_n_startup_trials_are_complete() {
    let bad = curve(&[9.0, 9.0, 9.0, 9.0]);
    let median = PercentilePruner::median();
    let four = history(&FIVE[..4]);
    assert!(!prune(&median, &[Minimize], &four, &running(&four, &bad)));
    // Pruned and failed trials do not count towards the startup.
    let mut h = four.clone();
    h.push(Arc::new(with_state(4, TrialState::Pruned, &curve(&[1.0, 1.0, 1.0, 1.0]))));
    h.push(Arc::new(with_state(5, TrialState::Failed, &curve(&[1.0]))));
    assert!(!prune(&median, &[Minimize], &h, &running(&h, &bad)));
    let five = history(&FIVE);
    assert!(prune(&median, &[Minimize], &five, &running(&five, &bad)));
    let two = PercentilePruner::median_builder().n_startup_trials(2).build().unwrap();
    let h = history(&FIVE[..2]);
    assert!(prune(&two, &[Minimize], &h, &running(&h, &bad)));
}

#[test]
fn the_reference_is_complete_trials_at_the_same_step() {
    // Pruned trials with excellent values at step 3 do not lower the bar.
    let mut h = history(&FIVE);
    for k in 5..15 {
        h.push(Arc::new(with_state(k, TrialState::Pruned, &curve(&[0.0, 0.0, 0.0, 0.0]))));
    }
    let median = PercentilePruner::median();
    assert!(!prune(&median, &[Minimize], &h, &running(&h, &curve(&[9.0, 9.0, 9.0, 3.0]))));
    // At step 1 the complete trials reported 10..50: a value of 9 is the best there.
    let h: Vec<Arc<FrozenTrial>> = (0..5)
        .map(|k| {
            let v = (k + 1) as f64;
            let rows = [(1, vec![10.0 * v]), (3, vec![v])];
            Arc::new(with_state(k, TrialState::Complete, &rows))
        })
        .collect();
    assert!(!prune(&median, &[Minimize], &h, &running(&h, &[(1, vec![9.0])])));
    assert!(prune(&median, &[Minimize], &h, &running(&h, &[(3, vec![9.0])])));
    // At a step no complete trial reported, nothing is pruned.
    assert!(!prune(&median, &[Minimize], &h, &running(&h, &[(2, vec![1e9])])));
}

#[test]
fn warm_up_steps_protect_early_steps() {
    let h = history(&FIVE);
    let warm = PercentilePruner::median_builder().n_warmup_steps(3).build().unwrap();
    assert!(!prune(&warm, &[Minimize], &h, &running(&h, &curve(&[9.0, 9.0, 9.0]))));
    assert!(prune(&warm, &[Minimize], &h, &running(&h, &curve(&[9.0, 9.0, 9.0, 9.0]))));
}

#[test]
fn interval_steps_judge_once_per_interval() {
    let h: Vec<Arc<FrozenTrial>> = (0..5)
        .map(|k| {
            let rows = curve(&[k as f64; 8]);
            Arc::new(with_state(k, TrialState::Complete, &rows))
        })
        .collect();
    let every3 = PercentilePruner::median_builder().interval_steps(3).build().unwrap();
    let bad =
        |steps: &[u64]| running(&h, &steps.iter().map(|s| (*s, vec![9.0])).collect::<Vec<_>>());
    assert!(prune(&every3, &[Minimize], &h, &bad(&[0])));
    assert!(!prune(&every3, &[Minimize], &h, &bad(&[0, 1])));
    assert!(!prune(&every3, &[Minimize], &h, &bad(&[0, 1, 2])));
    assert!(prune(&every3, &[Minimize], &h, &bad(&[0, 1, 2, 3])));
    assert!(!prune(&every3, &[Minimize], &h, &bad(&[0, 1, 2, 3, 4])));
    assert!(prune(&every3, &[Minimize], &h, &bad(&[0, 1, 2, 3, 4, 5, 6])));
    // A trial that skips the pruning step 6 is judged at the first report after it.
    assert!(prune(&every3, &[Minimize], &h, &bad(&[0, 2, 4, 7])));
    // With a warm-up the pruning steps are 2, 5, 8, …
    let warm = PercentilePruner::median_builder().n_warmup_steps(2).interval_steps(3);
    let warm = warm.build().unwrap();
    assert!(!prune(&warm, &[Minimize], &h, &bad(&[0, 1])));
    assert!(prune(&warm, &[Minimize], &h, &bad(&[0, 1, 2])));
    assert!(!prune(&warm, &[Minimize], &h, &bad(&[0, 1, 2, 3])));
    assert!(prune(&warm, &[Minimize], &h, &bad(&[0, 1, 2, 3, 4, 5])));
}

#[test]
fn n_min_trials_is_the_number_of_complete_trials_at_the_step() {
    let mut h = history(&FIVE);
    h.push(Arc::new(with_state(5, TrialState::Complete, &[(7, vec![1.0])])));
    h.push(Arc::new(with_state(6, TrialState::Complete, &[(7, vec![2.0])])));
    let min3 = PercentilePruner::median_builder().n_min_trials(3).build().unwrap();
    let min2 = PercentilePruner::median_builder().n_min_trials(2).build().unwrap();
    let t = running(&h, &[(7, vec![9.0])]);
    assert!(!prune(&min3, &[Minimize], &h, &t));
    assert!(prune(&min2, &[Minimize], &h, &t));
}

#[test]
fn nan_reports_are_ignored_in_the_reference_and_prune_a_trial_with_nothing_else() {
    let mut h = history(&FIVE);
    for k in 5..20 {
        h.push(Arc::new(with_state(k, TrialState::Complete, &curve(&[f64::NAN; 4]))));
    }
    let median = PercentilePruner::median();
    assert!(prune(&median, &[Minimize], &h, &running(&h, &curve(&[9.0, 9.0, 9.0, 3.5]))));
    assert!(!prune(&median, &[Minimize], &h, &running(&h, &curve(&[9.0, 9.0, 9.0, 2.5]))));
    // A NaN is skipped in the trial's best so far; only NaN prunes.
    let t = running(&h, &curve(&[f64::NAN, 1.0, f64::NAN, f64::NAN]));
    assert!(!prune(&median, &[Minimize], &h, &t));
    let t = running(&h, &curve(&[f64::NAN; 4]));
    assert!(prune(&median, &[Minimize], &h, &t));
    // No reports: never pruned.
    assert!(!prune(&median, &[Minimize], &h, &running(&h, &[])));
}

/// Complete trials at step 2 with the points `(i, i)`, `i = 1..=5`, in the study's directions.
fn diagonal(directions: &[Direction]) -> Vec<Arc<FrozenTrial>> {
    (1..=5)
        .map(|i| {
            let point: Vec<f64> = directions
                .iter()
                .map(|d| match d {
                    Minimize => i as f64,
                    Maximize => -(i as f64),
                })
                .collect();
            let rows = [(0, point.clone()), (2, point)];
            Arc::new(with_state(i - 1, TrialState::Complete, &rows))
        })
        .collect()
}

#[test]
fn several_objectives_prune_a_trial_dominated_by_enough_trials() {
    for directions in [[Minimize, Minimize], [Minimize, Maximize]] {
        let h = diagonal(&directions);
        let at = |a: f64, b: f64| {
            let b = if directions[1] == Maximize { -b } else { b };
            running(&h, &[(2, vec![a, b])])
        };
        let median = PercentilePruner::median();
        // Five comparable trials: pruned when dominated by more than 0.5 · 4 = 2 of them.
        assert!(prune(&median, &directions, &h, &at(3.5, 3.5)), "dominated by 3");
        assert!(!prune(&median, &directions, &h, &at(2.5, 2.5)), "dominated by 2");
        assert!(!prune(&median, &directions, &h, &at(0.5, 10.0)), "a trade-off");
        assert!(prune(&median, &directions, &h, &at(9.0, 9.0)));
        // The 25th percentile prunes when dominated by more than one.
        let p25 = PercentilePruner::new(25.0).unwrap();
        assert!(prune(&p25, &directions, &h, &at(2.5, 2.5)));
        assert!(!prune(&p25, &directions, &h, &at(1.5, 1.5)));
        // NaN in one objective, and nothing else in it so far: pruned.
        assert!(prune(&median, &directions, &h, &at(1.0, f64::NAN)));
    }
}

#[test]
fn several_objectives_use_the_best_value_so_far_of_each_objective() {
    let directions = [Minimize, Minimize];
    let h = diagonal(&directions);
    let median = PercentilePruner::median();
    // (1, 9) at step 0, (9, 1) at step 2: its point so far is (1, 1), dominated by none.
    let t = running(&h, &[(0, vec![1.0, 9.0]), (2, vec![9.0, 1.0])]);
    assert!(!prune(&median, &directions, &h, &t));
}

#[test]
fn the_cache_follows_a_growing_history() {
    let median = PercentilePruner::median_builder().n_startup_trials(1).build().unwrap();
    let mut h = history(&[5.0]);
    let t = |h: &[Arc<FrozenTrial>]| running(h, &curve(&[9.0, 9.0, 9.0, 3.0]));
    assert!(!prune(&median, &[Minimize], &h, &t(&h)));
    h.push(Arc::new(with_state(1, TrialState::Running, &curve(&[1.0, 1.0, 1.0, 1.0]))));
    assert!(!prune(&median, &[Minimize], &h, &t(&h)));
    h[1] = Arc::new(with_state(1, TrialState::Complete, &curve(&[1.0, 1.0, 1.0, 1.0])));
    h.push(Arc::new(with_state(2, TrialState::Complete, &curve(&[1.0, 1.0, 1.0, 2.0]))));
    assert!(prune(&median, &[Minimize], &h, &t(&h)), "the median is now 2");
    // Another study's history with the same numbers.
    let other = history(&[4.0, 5.0, 6.0]);
    let at3 = running(&other, &[(3, vec![3.0])]);
    assert!(!prune(&median, &[Minimize], &other, &at3));
    assert!(prune(&median, &[Maximize], &other, &at3));
}

#[test]
fn percentile_settings_are_checked() {
    for p in [0.0, 100.0, -5.0, 150.0, f64::NAN] {
        config_error(PercentilePruner::new(p), "percentile");
    }
    config_error(PercentilePruner::median_builder().n_min_trials(0).build(), "n_min_trials");
    config_error(PercentilePruner::median_builder().interval_steps(0).build(), "interval_steps");
    assert_eq!(PercentilePruner::median().percentile(), 50.0);
}

// ---------------------------------------------------------------- threshold

#[test]
fn threshold_prunes_outside_the_bounds_and_on_nan() {
    let upper = ThresholdPruner::builder().upper(1.0).build().unwrap();
    let both = ThresholdPruner::builder().lower(0.2).upper(1.0).build().unwrap();
    let lower = ThresholdPruner::builder().lower(0.2).build().unwrap();
    let h: Vec<Arc<FrozenTrial>> = Vec::new();
    let at = |v: f64| running(&h, &curve(&[0.5, v]));
    for d in [Minimize, Maximize] {
        assert!(prune(&upper, &[d], &h, &at(1.5)));
        assert!(!prune(&upper, &[d], &h, &at(1.0)), "bounds are strict");
        assert!(!prune(&upper, &[d], &h, &at(-1e9)));
        assert!(prune(&upper, &[d], &h, &at(f64::NAN)));
        assert!(prune(&both, &[d], &h, &at(0.1)));
        assert!(prune(&both, &[d], &h, &at(f64::INFINITY)));
        assert!(!prune(&both, &[d], &h, &at(0.2)));
        assert!(prune(&lower, &[d], &h, &at(f64::NEG_INFINITY)));
        assert!(!prune(&lower, &[d], &h, &at(1e9)));
        assert!(!prune(&both, &[d], &h, &running(&h, &[])));
    }
    // Only the latest step counts.
    assert!(!prune(&upper, &[Minimize], &h, &running(&h, &curve(&[5.0, 0.5]))));
}

#[test]
fn threshold_warm_up_and_interval() {
    let h: Vec<Arc<FrozenTrial>> = Vec::new();
    let warm = ThresholdPruner::builder().upper(1.0).n_warmup_steps(2).interval_steps(2);
    let warm = warm.build().unwrap();
    let bad = |n: usize| running(&h, &curve(&vec![5.0; n]));
    assert!(!prune(&warm, &[Minimize], &h, &bad(2)), "step 1 is in the warm-up");
    assert!(prune(&warm, &[Minimize], &h, &bad(3)), "step 2");
    assert!(!prune(&warm, &[Minimize], &h, &bad(4)), "step 3 is between pruning steps");
    assert!(prune(&warm, &[Minimize], &h, &bad(5)), "step 4");
    assert!(!prune(&warm, &[Minimize], &h, &running(&h, &curve(&[f64::NAN]))), "NaN in warm-up");
}

#[test]
fn threshold_with_several_objectives_prunes_when_any_objective_is_out() {
    let h: Vec<Arc<FrozenTrial>> = Vec::new();
    let pruner =
        ThresholdPruner::builder().upper(10.0).objective(1, Some(0.0), None).build().unwrap();
    let dirs = [Minimize, Maximize];
    let at = |a: f64, b: f64| running(&h, &[(0, vec![a, b])]);
    assert!(!prune(&pruner, &dirs, &h, &at(5.0, 1.0)));
    assert!(prune(&pruner, &dirs, &h, &at(11.0, 1.0)));
    assert!(prune(&pruner, &dirs, &h, &at(5.0, -1.0)));
    assert!(prune(&pruner, &dirs, &h, &at(f64::NAN, 1.0)));
    // No bound on objective 1 for this one: only NaN counts there.
    let first = ThresholdPruner::builder().upper(10.0).build().unwrap();
    assert!(!prune(&first, &dirs, &h, &at(5.0, -1e9)));
    assert!(prune(&first, &dirs, &h, &at(5.0, f64::NAN)));
    // Bounds for an objective the study does not have.
    let third = ThresholdPruner::builder().objective(2, None, Some(1.0)).build().unwrap();
    let view = StudyView::new(&dirs, &h);
    config_error(third.prune(&view, &at(0.0, 0.0)), "objective 2");
}

#[test]
fn threshold_settings_are_checked() {
    config_error(ThresholdPruner::builder().build(), "at least one bound");
    config_error(ThresholdPruner::builder().upper(f64::INFINITY).build(), "finite");
    config_error(ThresholdPruner::builder().lower(f64::NAN).build(), "finite");
    config_error(ThresholdPruner::builder().lower(2.0).upper(1.0).build(), "lower bound");
    config_error(ThresholdPruner::builder().lower(1.0).upper(1.0).build(), "lower bound");
    config_error(
        ThresholdPruner::builder().objective(1, Some(3.0), Some(0.0)).build(),
        "objective 1",
    );
    config_error(ThresholdPruner::builder().upper(1.0).interval_steps(0).build(), "interval_steps");
}

// ---------------------------------------------------------------- patience

#[test]
fn patience_prunes_after_steps_without_improvement_when_minimizing() {
    let h: Vec<Arc<FrozenTrial>> = Vec::new();
    let p2 = PatiencePruner::builder(2).build().unwrap();
    let t = |v: &[f64]| running(&h, &curve(v));
    // Before the window: 5, 4 (best 4). Window: 3, 3.5, 3.2 (best 3): improved.
    assert!(!prune(&p2, &[Minimize], &h, &t(&[5.0, 4.0, 3.0, 3.5, 3.2])));
    // Before: 5, 3. Window: 4, 4, 4: no improvement.
    assert!(prune(&p2, &[Minimize], &h, &t(&[5.0, 3.0, 4.0, 4.0, 4.0])));
    // Three reports are one window: too early to tell.
    assert!(!prune(&p2, &[Minimize], &h, &t(&[1.0, 4.0, 4.0])));
    // A plateau equal to the best is not a stall unless min_delta asks for progress.
    assert!(!prune(&p2, &[Minimize], &h, &t(&[5.0, 3.0, 3.0, 3.0, 3.0])));
    let delta = PatiencePruner::builder(2).min_delta(0.2).build().unwrap();
    assert!(prune(&delta, &[Minimize], &h, &t(&[5.0, 4.0, 3.9, 3.95, 3.99])));
    assert!(!prune(&p2, &[Minimize], &h, &t(&[5.0, 4.0, 3.9, 3.95, 3.99])));
    assert!(!prune(&delta, &[Minimize], &h, &t(&[5.0, 4.0, 3.7, 3.95, 3.99])));
    // A window of NaN has stalled.
    assert!(prune(&p2, &[Minimize], &h, &t(&[5.0, 4.0, f64::NAN, f64::NAN, f64::NAN])));
    assert!(!prune(&p2, &[Minimize], &h, &t(&[f64::NAN, f64::NAN, 9.0, 9.0, 9.0])));
}

#[test]
fn patience_when_maximizing_and_with_patience_zero() {
    let h: Vec<Arc<FrozenTrial>> = Vec::new();
    let p1 = PatiencePruner::builder(1).build().unwrap();
    let t = |v: &[f64]| running(&h, &curve(v));
    assert!(prune(&p1, &[Maximize], &h, &t(&[0.5, 0.9, 0.8, 0.85])));
    assert!(!prune(&p1, &[Maximize], &h, &t(&[0.5, 0.9, 0.8, 0.95])));
    assert!(prune(&p1, &[Maximize], &h, &t(&[0.9, 0.8, 0.7, 0.75])));
    assert!(!prune(&p1, &[Minimize], &h, &t(&[0.9, 0.8, 0.7, 0.75])));
    let p0 = PatiencePruner::builder(0).build().unwrap();
    assert!(prune(&p0, &[Maximize], &h, &t(&[0.5, 0.4])));
    assert!(!prune(&p0, &[Maximize], &h, &t(&[0.5, 0.6])));
    assert!(!prune(&p0, &[Maximize], &h, &t(&[0.5])));
    assert!(!prune(&p0, &[Maximize], &h, &running(&h, &[])));
}

#[test]
fn patience_asks_the_wrapped_pruner_only_once_stalled() {
    let h = history(&FIVE);
    let behind_stalled = running(&h, &curve(&[4.0, 4.5, 4.5, 4.5]));
    let behind_improving = running(&h, &curve(&[9.0, 8.0, 7.0, 4.0]));
    let ahead_stalled = running(&h, &curve(&[1.0, 1.5, 1.5, 1.5]));
    let around_median = PatiencePruner::wrap(PercentilePruner::median(), 2);
    assert!(prune(&around_median, &[Minimize], &h, &behind_stalled));
    assert!(!prune(&around_median, &[Minimize], &h, &behind_improving));
    assert!(!prune(&around_median, &[Minimize], &h, &ahead_stalled));
    // The median alone prunes the improving trial; patience spares it.
    assert!(prune(&PercentilePruner::median(), &[Minimize], &h, &behind_improving));
    let around_nop = PatiencePruner::builder(2).wrap(NopPruner).build().unwrap();
    assert!(!prune(&around_nop, &[Minimize], &h, &behind_stalled));
    let boxed: Box<dyn Pruner> = Box::new(PercentilePruner::median());
    let around_boxed = PatiencePruner::builder(2).wrap(boxed).build().unwrap();
    assert!(prune(&around_boxed, &[Minimize], &h, &behind_stalled));
}

#[test]
fn patience_with_several_objectives_needs_every_objective_stalled() {
    let h: Vec<Arc<FrozenTrial>> = Vec::new();
    let p1 = PatiencePruner::builder(1).build().unwrap();
    let dirs = [Minimize, Maximize];
    let t = |rows: &[[f64; 2]]| {
        let rows: Vec<(u64, Vec<f64>)> =
            rows.iter().enumerate().map(|(s, r)| (s as u64, r.to_vec())).collect();
        running(&h, &rows)
    };
    // Objective 0 stalls (1 before, 2 in the window); objective 1 improves (5 → 6).
    assert!(!prune(&p1, &dirs, &h, &t(&[[3.0, 4.0], [1.0, 5.0], [2.0, 6.0], [2.0, 5.5]])));
    // Both stall.
    assert!(prune(&p1, &dirs, &h, &t(&[[3.0, 4.0], [1.0, 5.0], [2.0, 4.0], [2.0, 4.5]])));
    // Only objective 0 improves.
    assert!(!prune(&p1, &dirs, &h, &t(&[[3.0, 4.0], [1.0, 5.0], [0.5, 4.0], [2.0, 4.5]])));
}

#[test]
fn patience_settings_are_checked() {
    for d in [-0.1, f64::NAN, f64::INFINITY] {
        config_error(PatiencePruner::builder(3).min_delta(d).build(), "min_delta");
    }
}

// ---------------------------------------------------------------- in a study

#[test]
fn pruned_trials_are_stored_with_their_last_step() {
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    use tunewise_core::{Budget, RandomSampler, Study, TrialError};

    let pruner = PercentilePruner::median_builder().n_startup_trials(3).n_warmup_steps(2);
    let study = Study::builder()
        .sampler(RandomSampler::with_seed(3))
        .pruner(pruner.build().unwrap())
        .create()
        .unwrap();
    let pruned_at = Mutex::new(BTreeMap::new());
    study
        .optimize(
            |t| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                let mut loss = 0.0;
                for step in 0..10u64 {
                    loss = x + 1.0 / (1.0 + step as f64);
                    t.report(step, loss)?;
                    if t.should_prune()? {
                        pruned_at.lock().unwrap().insert(t.number(), step);
                        return Err(TrialError::Pruned);
                    }
                }
                Ok(loss)
            },
            Budget::trials(30),
        )
        .unwrap();
    let pruned_at = pruned_at.into_inner().unwrap();
    assert!(pruned_at.len() >= 5, "the median pruned only {} of 30 trials", pruned_at.len());
    for t in study.trials().unwrap().iter() {
        match pruned_at.get(&t.number) {
            Some(step) => {
                assert_eq!(t.state, TrialState::Pruned);
                assert!(*step >= 2, "pruned in the warm-up");
                assert_eq!(t.intermediate_values.keys().next_back(), Some(step));
            }
            None => assert_eq!(t.state, TrialState::Complete),
        }
    }
}

#[test]
fn pruners_and_builders_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<PercentilePruner>();
    check::<tunewise_core::PercentileBuilder>();
    check::<ThresholdPruner>();
    check::<tunewise_core::ThresholdBuilder>();
    check::<PatiencePruner>();
    check::<tunewise_core::PatienceBuilder>();
}

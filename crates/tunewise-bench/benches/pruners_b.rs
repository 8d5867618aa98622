//! The pruners' own cost per `prune` call with 1,000 finished trials: successive halving (ASHA),
//! Hyperband and Wilcoxon.
//!
//! - `pruners_b/successive_halving/1000`: η = 3, rungs at steps 1, 3, 9, 27. 1,000 finished
//!   trials (complete and pruned) with learning curves over steps 1–27, plus 4 running trials;
//!   the judged trial is at step 27 with a good value, so all four rungs are checked (the most
//!   work a call does). The pruner has been called once before (a worker's steady state: the
//!   finished trials' values are cached).
//! - `pruners_b/hyperband/1000`: the same study, `max_resource` 27 (four brackets).
//! - `pruners_b/wilcoxon/1000`: 1,000 complete trials with 10 folds each; the judged trial has
//!   reported 5 folds.
//! - `pruners_b/successive_halving_2obj/1000`: ASHA with two objectives, the judged trial
//!   dominating most others (only the points it does not dominate are sorted).
//! - `pruners_b/successive_halving_2obj_worst/1000`: the same with a judged trial best on one
//!   objective and worst on the other: it dominates nobody (found in O(1): it is strictly below
//!   every other point on one objective, so first in its front).
//! - `pruners_b/successive_halving_2obj_middle/1000`: the same with a judged trial in the middle
//!   of the rung (about a quarter of the points dominate it, too few for the count of its
//!   dominators to prune it; too many points are below it for the quick accept). It is pruned
//!   at the first rung by the cached fronts alone: the finished points in the fronts before its
//!   own, less as many fronts as there are running points, fill the quota.
//! - `pruners_b/successive_halving_2obj_near_pruned/1000`: the judged trial nearer the front
//!   (values `0.35 + 1/step`): too few points are surely ahead for that quick reject, so one
//!   pass over the rung places the points in their fronts; it is pruned at the first rung,
//!   once enough points are found ahead.
//! - `pruners_b/successive_halving_2obj_near_promoted/1000`: `0.3 + 1/step`: promoted at every
//!   rung. Too many points are below it for the first quick accepts, but the finished points in
//!   the cached fronts up to its own (plus the running ones) are fewer than the quota: promoted
//!   by that bound at each rung, without a pass (before it, a full pass and the crowding
//!   distance of its front at each rung: the most work).
//! - `pruners_b/successive_halving_2obj_middle_changed/1000`: the middle case's first call
//!   after a trial finished (its value added to each rung and inserted into the rung's cached
//!   fronts in place). Each timed call follows an untimed one that rebuilds the whole cache.
//!
//! Run with `cargo bench -p tunewise-bench --bench pruners_b`.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use tunewise_core::rng::Rng;
use tunewise_core::{
    Direction, FrozenTrial, HyperbandPruner, Pruner, StudyView, SuccessiveHalvingPruner,
    TrialState, WilcoxonPruner,
};

const FINISHED: u64 = 1_000;

/// Learning curves `a + b / step` with noise, `objectives` values per step.
fn curves(objectives: usize) -> (Vec<Arc<FrozenTrial>>, FrozenTrial) {
    let mut rng = Rng::new(7);
    let mut trials = Vec::new();
    for number in 0..FINISHED + 4 {
        let state = if number >= FINISHED {
            TrialState::Running
        } else if number % 3 == 0 {
            TrialState::Complete
        } else {
            TrialState::Pruned
        };
        let mut t = FrozenTrial::new(number, number, state);
        let last = if state == TrialState::Pruned { 1 + number % 27 } else { 27 };
        let base: Vec<f64> = (0..objectives).map(|_| rng.uniform()).collect();
        for step in 1..=last {
            let v = base.iter().map(|a| a + 1.0 / step as f64 + 0.01 * rng.uniform()).collect();
            t.intermediate_values.insert(step, v);
        }
        if state == TrialState::Complete {
            t.values = t.last_step().map(|(_, v)| v.to_vec());
        }
        trials.push(Arc::new(t));
    }
    let mut judged = FrozenTrial::new(FINISHED + 10, FINISHED + 10, TrialState::Running);
    for step in 1..=27 {
        judged.intermediate_values.insert(step, vec![0.01 + 1.0 / step as f64; objectives]);
    }
    trials.push(Arc::new(judged.clone()));
    (trials, judged)
}

fn folds() -> (Vec<Arc<FrozenTrial>>, FrozenTrial) {
    let mut rng = Rng::new(11);
    let mut trials = Vec::new();
    for number in 0..FINISHED {
        let mut t = FrozenTrial::new(number, number, TrialState::Complete);
        let quality = rng.uniform();
        let scores: Vec<f64> = (0..10).map(|_| quality + 0.05 * rng.uniform()).collect();
        for (i, s) in scores.iter().enumerate() {
            t.intermediate_values.insert(i as u64, vec![*s]);
        }
        t.values = Some(vec![scores.iter().sum::<f64>() / 10.0]);
        trials.push(Arc::new(t));
    }
    let mut judged = FrozenTrial::new(FINISHED, FINISHED, TrialState::Running);
    for i in 0..5 {
        judged.intermediate_values.insert(i, vec![0.5 + 0.01 * i as f64]);
    }
    trials.push(Arc::new(judged.clone()));
    (trials, judged)
}

fn bench(
    c: &mut Criterion,
    name: &str,
    pruner: &dyn Pruner,
    dirs: &[Direction],
    study: &(Vec<Arc<FrozenTrial>>, FrozenTrial),
) {
    let (trials, judged) = study;
    let view = StudyView::new(dirs, trials);
    // One untimed call fills the cache, as a running worker's earlier calls have.
    pruner.prune(&view, judged).unwrap();
    c.bench_function(&format!("pruners_b/{name}/{FINISHED}"), |b| {
        b.iter(|| black_box(pruner.prune(&view, black_box(judged)).unwrap()))
    });
}

fn prune_calls(c: &mut Criterion) {
    let one = curves(1);
    let sha = SuccessiveHalvingPruner::builder().reduction_factor(3).build().unwrap();
    bench(c, "successive_halving", &sha, &[Direction::Minimize], &one);
    let hb = HyperbandPruner::builder().max_resource(27).build().unwrap();
    bench(c, "hyperband", &hb, &[Direction::Minimize], &one);
    let wilcoxon = WilcoxonPruner::new();
    bench(c, "wilcoxon", &wilcoxon, &[Direction::Maximize], &folds());
    let two = curves(2);
    let sha = SuccessiveHalvingPruner::builder().reduction_factor(3).build().unwrap();
    bench(c, "successive_halving_2obj", &sha, &[Direction::Minimize; 2], &two);
    // Once the worst case (a full non-dominated sort of every rung): a trial best on one
    // objective and worst on the other dominates nobody.
    let judged_with = |values: &dyn Fn(f64) -> Vec<f64>| {
        let (mut trials, mut judged) = two.clone();
        for (step, v) in judged.intermediate_values.iter_mut() {
            *v = values(*step as f64);
        }
        if let Some(last) = trials.last_mut() {
            *last = Arc::new(judged.clone());
        }
        (trials, judged)
    };
    let worst = judged_with(&|step| vec![1.0 / step - 0.5, 1.0 / step + 1.5]);
    let sha = SuccessiveHalvingPruner::builder().reduction_factor(3).build().unwrap();
    bench(c, "successive_halving_2obj_worst", &sha, &[Direction::Minimize; 2], &worst);
    let middle = judged_with(&|step| vec![0.5 + 1.0 / step; 2]);
    let sha = SuccessiveHalvingPruner::builder().reduction_factor(3).build().unwrap();
    bench(c, "successive_halving_2obj_middle", &sha, &[Direction::Minimize; 2], &middle);
    let near_pruned = judged_with(&|step| vec![0.35 + 1.0 / step; 2]);
    let sha = SuccessiveHalvingPruner::builder().reduction_factor(3).build().unwrap();
    bench(c, "successive_halving_2obj_near_pruned", &sha, &[Direction::Minimize; 2], &near_pruned);
    let near_promoted = judged_with(&|step| vec![0.3 + 1.0 / step; 2]);
    let sha = SuccessiveHalvingPruner::builder().reduction_factor(3).build().unwrap();
    bench(
        c,
        "successive_halving_2obj_near_promoted",
        &sha,
        &[Direction::Minimize; 2],
        &near_promoted,
    );
    after_a_trial_finished(c, "successive_halving_2obj_middle_changed", &middle);
}

/// The first call after a trial finished: the study of `study` with its last finished trial
/// still running, then as it is. The call on the first (untimed) resets the cache, since a
/// cached trial is no longer finished; the call on the second (timed) adds the trial and
/// rebuilds what depends on it.
fn after_a_trial_finished(
    c: &mut Criterion,
    name: &str,
    study: &(Vec<Arc<FrozenTrial>>, FrozenTrial),
) {
    let (after, judged) = study;
    let mut before = after.clone();
    let last = (FINISHED - 1) as usize;
    let mut unfinished = (*before[last]).clone();
    unfinished.state = TrialState::Running;
    before[last] = Arc::new(unfinished);
    let dirs = [Direction::Minimize; 2];
    let (before, after) = (StudyView::new(&dirs, &before), StudyView::new(&dirs, after));
    let sha = SuccessiveHalvingPruner::builder().reduction_factor(3).build().unwrap();
    let mut group = c.benchmark_group("pruners_b");
    // Each timed call follows an untimed one that rebuilds the whole cache.
    group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(1));
    group.bench_function(format!("{name}/{FINISHED}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                sha.prune(&before, judged).unwrap();
                let start = Instant::now();
                black_box(sha.prune(&after, black_box(judged)).unwrap());
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, prune_calls);
criterion_main!(benches);

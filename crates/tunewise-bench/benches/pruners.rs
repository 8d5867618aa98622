//! The pruners' own cost per `prune` call on a long study.
//!
//! Each history holds 1,000 complete trials that reported 100 steps each (smooth learning
//! curves with noise), plus the trial judged: running, 50 steps reported, behind the median.
//! Criterion's "time" is per call, with the pruner's cache warm (a first untimed call built it),
//! as in a study where trials complete far less often than they report:
//!
//! - `pruners/median`, `pruners/percentile25`: [`PercentilePruner`], one minimized objective.
//! - `pruners/median_2obj`: the median with two objectives (dominance count).
//! - `pruners/threshold`: [`ThresholdPruner`] with both bounds.
//! - `pruners/patience_median`: [`PatiencePruner`] (patience 5) around the median, on a trial
//!   that has stalled, so the median is asked too (the dearer case).
//! - `pruners/median_cold`: the median built anew for each call: the reference rebuilt from the
//!   1,000 trials (what a call pays once per history, for example after a reload).
//!
//! Run with `cargo bench -p tunewise-bench --bench pruners`.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tunewise_core::rng::Rng;
use tunewise_core::{
    Direction, FrozenTrial, PatiencePruner, PercentilePruner, Pruner, StudyView, ThresholdPruner,
    TrialState,
};

const TRIALS: u64 = 1_000;
const STEPS: u64 = 100;

/// A loss curve: a level that depends on the trial, decaying with the step, with noise.
fn loss(level: f64, step: u64, rng: &mut Rng) -> f64 {
    level + 1.0 / (1.0 + step as f64).sqrt() + 0.01 * rng.uniform()
}

fn history(objectives: usize) -> Vec<Arc<FrozenTrial>> {
    let mut rng = Rng::new(5);
    (0..TRIALS)
        .map(|k| {
            let mut t = FrozenTrial::new(k, k, TrialState::Complete);
            let level = rng.uniform();
            for step in 0..STEPS {
                let v = loss(level, step, &mut rng);
                t.intermediate_values.insert(step, (0..objectives).map(|i| v + i as f64).collect());
            }
            t.values = t.intermediate_values.values().next_back().cloned();
            Arc::new(t)
        })
        .collect()
}

/// The trial judged: running, `steps` steps, level 0.8 (behind most), stalled for the last ten.
fn judged(objectives: usize, steps: u64) -> FrozenTrial {
    let mut rng = Rng::new(9);
    let mut t = FrozenTrial::new(TRIALS, TRIALS, TrialState::Running);
    let mut v = 0.0;
    for step in 0..steps {
        // The last ten steps repeat a value a little worse than the one before them.
        v = if step + 10 < steps { loss(0.8, step, &mut rng) + 0.05 } else { v + 0.001 };
        t.intermediate_values.insert(step, (0..objectives).map(|i| v + i as f64).collect());
    }
    t
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("pruners");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    let one = [Direction::Minimize];
    let two = [Direction::Minimize, Direction::Minimize];
    let h1 = history(1);
    let h2 = history(2);
    let t1 = judged(1, 50);
    let t2 = judged(2, 50);
    let view1 = StudyView::new(&one, &h1);
    let view2 = StudyView::new(&two, &h2);

    let cases: Vec<(&str, Box<dyn Pruner>, StudyView<'_>, &FrozenTrial)> = vec![
        ("median", Box::new(PercentilePruner::median()), view1, &t1),
        ("percentile25", Box::new(PercentilePruner::new(25.0).unwrap()), view1, &t1),
        ("median_2obj", Box::new(PercentilePruner::median()), view2, &t2),
        (
            "threshold",
            Box::new(ThresholdPruner::builder().lower(0.0).upper(10.0).build().unwrap()),
            view1,
            &t1,
        ),
        (
            "patience_median",
            Box::new(PatiencePruner::wrap(PercentilePruner::median(), 5)),
            view1,
            &t1,
        ),
    ];
    for (name, pruner, view, trial) in &cases {
        // The first call builds the cache; the answers are fixed by the history.
        let answer = pruner.prune(view, trial).unwrap();
        assert!(answer || *name == "threshold", "{name}: the judged trial should be pruned");
        group.bench_function(*name, |b| b.iter(|| pruner.prune(black_box(view), black_box(trial))));
    }
    group.bench_function("median_cold", |b| {
        b.iter_batched(
            PercentilePruner::median,
            |pruner| pruner.prune(black_box(&view1), black_box(&t1)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

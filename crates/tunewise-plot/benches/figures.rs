//! The cost of figures of a 50,000-trial study (the dashboard's largest case): the figure data,
//! downsampling to 2,000 points, and the SVG; and the parameter importance of its first 1,000
//! trials (fANOVA fits a forest, so it is measured at the size the report usually meets).
//!
//! Run with `cargo bench -p tunewise-plot --bench figures`.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use tunewise_core::{
    Direction, Distribution, FanovaEvaluator, FrozenTrial, Param, PedAnovaEvaluator, TrialState,
};
use tunewise_plot::{edf, history, importance, parallel_coordinates, pareto, slice, Figure};

const N: u64 = 50_000;

/// Deterministic trials: two parameters, two objectives, one trial in ten pruned.
fn trials() -> Vec<Arc<FrozenTrial>> {
    let lr = Arc::new(Distribution::float_log(1e-5, 1e-1));
    let n = Arc::new(Distribution::int(1, 8));
    (0..N)
        .map(|i| {
            let state = if i % 10 == 9 { TrialState::Pruned } else { TrialState::Complete };
            let mut t = FrozenTrial::new(i, i, state);
            let u = ((i * 2_654_435_761) % 1_000_003) as f64 / 1_000_003.0;
            t.params = vec![
                Param {
                    name: "lr".into(),
                    distribution: lr.clone(),
                    internal: 10f64.powf(-5.0 + 4.0 * u),
                },
                Param { name: "n".into(), distribution: n.clone(), internal: (1 + i % 8) as f64 },
            ];
            if state == TrialState::Complete {
                t.values = Some(vec![(u - 0.3).powi(2) + 10.0 / (1.0 + i as f64), 1.0 - u]);
            }
            Arc::new(t)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let trials = trials();
    let dirs = [Direction::Minimize, Direction::Minimize];
    let mut g = c.benchmark_group("plot_50k");
    g.sample_size(10);
    g.bench_function("history+downsample_2000", |b| {
        b.iter(|| {
            let mut f = history(&trials, &dirs, 0).expect("history");
            f.downsample(2_000);
            f
        })
    });
    g.bench_function("history_svg_2000", |b| {
        let mut f = Figure::History(history(&trials, &dirs, 0).expect("history"));
        f.downsample(2_000);
        b.iter(|| f.to_svg())
    });
    g.bench_function("pareto", |b| b.iter(|| pareto(&trials, &dirs).expect("pareto")));
    g.bench_function("edf", |b| b.iter(|| edf(&trials, &dirs, 0).expect("edf")));
    g.bench_function("slice", |b| b.iter(|| slice(&trials, &dirs, "lr", 0).expect("slice")));
    g.bench_function("parallel+downsample_2000", |b| {
        b.iter(|| {
            let mut f = parallel_coordinates(&trials, &dirs, &[], 0).expect("pc");
            f.downsample(2_000);
            f
        })
    });
    g.finish();
    let first = &trials[..1_000];
    let mut g = c.benchmark_group("plot_1k");
    g.sample_size(10);
    g.bench_function("importance_fanova", |b| {
        let fanova = FanovaEvaluator::new().seed(0);
        b.iter(|| importance(first, &dirs, &fanova, "fANOVA", 0).expect("importance"))
    });
    g.bench_function("importance_ped_anova", |b| {
        let ped = PedAnovaEvaluator::new();
        b.iter(|| importance(first, &dirs, &ped, "PED-ANOVA", 0).expect("importance"))
    });
    g.finish();
    // Sizes, printed once: what the dashboard would send.
    let mut f = Figure::History(history(&trials, &dirs, 0).expect("history"));
    let full = f.to_svg().len();
    f.downsample(2_000);
    eprintln!(
        "history SVG: {full} bytes for {N} trials, {} bytes downsampled to 2,000 points",
        f.to_svg().len()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Parameter importance on 1,000 complete trials of 5 parameters.
//!
//! The trials are uniform random points of `f = 10·x0² + x1 + 0.1·log10(lr) + 0.5·[kind = "b"] + 0·n`
//! with `x0`, `x1` floats on \[-1, 1\], `lr` log-uniform on \[1e-5, 1e-1\], `n` an int in
//! \[1, 10\] and `kind` a categorical of 3 choices (prefilled through `add_trial`, not timed).
//!
//! - `importance/fanova/1000`: [`FanovaEvaluator`] with its defaults (64 trees of depth up to
//!   64, bootstrap samples, all features at each split): the forest and the decomposition.
//! - `importance/ped_anova/1000`: [`PedAnovaEvaluator`] with its defaults (top 10 % against all
//!   trials, 50 grid points).
//!
//! Run with `cargo bench -p tunewise-bench --bench importance`.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use tunewise_core::importance::{FanovaEvaluator, ImportanceEvaluator, PedAnovaEvaluator, Target};
use tunewise_core::rng::Rng;
use tunewise_core::{Distribution, FrozenTrial, KnownTrial, Study};

const SIZE: usize = 1_000;

fn trials() -> Vec<Arc<FrozenTrial>> {
    let study = Study::builder().minimize().create().unwrap();
    let mut rng = Rng::new(7);
    let kinds = ["a", "b", "c"];
    for _ in 0..SIZE {
        let x0 = rng.uniform_range(-1.0, 1.0);
        let x1 = rng.uniform_range(-1.0, 1.0);
        let lr = 10f64.powf(rng.uniform_range(-5.0, -1.0));
        let n = 1 + rng.below(10) as i64;
        let kind = kinds[rng.below(3) as usize];
        let value = 10.0 * x0 * x0 + x1 + 0.1 * lr.log10() + if kind == "b" { 0.5 } else { 0.0 };
        let known = KnownTrial::complete(value)
            .param("x0", Distribution::float(-1.0, 1.0), x0)
            .param("x1", Distribution::float(-1.0, 1.0), x1)
            .param("lr", Distribution::float_log(1e-5, 1e-1), lr)
            .param("n", Distribution::int(1, 10), n)
            .param("kind", Distribution::categorical(kinds), kind);
        study.add_trial(known).unwrap();
    }
    study.trials().unwrap()
}

fn bench(c: &mut Criterion) {
    let trials = trials();
    let mut group = c.benchmark_group("importance");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    let fanova = FanovaEvaluator::new();
    group.bench_function("fanova/1000", |b| {
        b.iter(|| fanova.evaluate(black_box(&trials), None, Target::minimize()).unwrap())
    });
    let ped = PedAnovaEvaluator::new();
    group.bench_function("ped_anova/1000", |b| {
        b.iter(|| ped.evaluate(black_box(&trials), None, Target::minimize()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

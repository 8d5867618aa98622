//! CMA-ES's cost per trial.
//!
//! - `cmaes/full/1000`, `cmaes/separable/1000`: one trial of a [`CmaEsSampler`] (full
//!   covariance, or sep-CMA-ES) on a 10-dimensional continuous problem (a shifted sphere on
//!   \[-5, 5\]^10) whose study already holds 1,000 finished trials: `ask`, ten `suggest_float`,
//!   `tell`. The study is prefilled (not timed) with 1,000 random points through `add_trial`,
//!   then one untimed trial lets the sampler replay that history (every 1,000 trials as
//!   generations of λ = 10); it grows by at most 100 trials before it is built again (not
//!   timed). Criterion's "time" is per trial; the engine's own share (about 3 µs, see the
//!   `engine` bench) is included. A generation is told every λ = 10 trials and the covariance
//!   decomposed every few generations: the figure is the average over them.
//! - `cmaes/replay_full/1000`: the first trial of a fresh sampler on that prefilled study (the
//!   whole history replayed once: what a resumed study or a new worker pays once).
//!
//! Run with `cargo bench -p tunewise-bench --bench cmaes`.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tunewise_core::rng::Rng;
use tunewise_core::{CmaEsSampler, Distribution, KnownTrial, Study, TrialError};

const SIZE: usize = 1_000;
const DIM: usize = 10;
/// Trials a prefilled study may grow by before it is built again.
const WINDOW: usize = 100;

fn names() -> Vec<String> {
    (0..DIM).map(|i| format!("x{i}")).collect()
}

fn sphere(x: &[f64]) -> f64 {
    x.iter().enumerate().map(|(i, x)| (x - 2.5 * ((i + 1) as f64).sin()).powi(2)).sum()
}

fn one_trial(study: &Study, names: &[String], x: &mut [f64]) {
    let mut trial = study.ask().unwrap();
    for (name, xi) in names.iter().zip(x.iter_mut()) {
        *xi = trial.suggest_float(name, -5.0, 5.0).unwrap();
    }
    study.tell(trial, Ok::<f64, TrialError>(sphere(x))).unwrap();
}

/// A study of `size` random finished trials, with a fresh sampler.
fn prefilled(size: usize, separable: bool) -> Study {
    let sampler = CmaEsSampler::builder().separable(separable).seed(1).build().unwrap();
    let study = Study::builder().minimize().sampler(sampler).create().unwrap();
    let mut rng = Rng::new(7);
    let names = names();
    for _ in 0..size {
        let x: Vec<f64> = (0..DIM).map(|_| rng.uniform_range(-5.0, 5.0)).collect();
        let mut known = KnownTrial::complete(sphere(&x));
        for (name, v) in names.iter().zip(&x) {
            known = known.param(name, Distribution::float(-5.0, 5.0), *v);
        }
        study.add_trial(known).unwrap();
    }
    study
}

struct Prefilled {
    separable: bool,
    study: Study,
    len: usize,
    names: Vec<String>,
}

impl Prefilled {
    fn new(separable: bool) -> Self {
        let study = prefilled(SIZE, separable);
        let names = names();
        // The replay of the history, not timed here (see `replay_full`).
        one_trial(&study, &names, &mut [0.0; DIM]);
        Prefilled { separable, study, len: SIZE + 1, names }
    }

    fn run(&mut self, trials: u64) -> Duration {
        let mut elapsed = Duration::ZERO;
        let mut x = vec![0.0; DIM];
        for _ in 0..trials {
            if self.len >= SIZE + WINDOW {
                *self = Prefilled::new(self.separable);
            }
            let start = Instant::now();
            one_trial(&self.study, &self.names, &mut x);
            elapsed += start.elapsed();
            self.len += 1;
        }
        elapsed
    }
}

fn bench(c: &mut Criterion, name: &str, separable: bool) {
    let mut group = c.benchmark_group("cmaes");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(1));
    let mut state = Prefilled::new(separable);
    group.bench_with_input(BenchmarkId::new(name, SIZE), &SIZE, |b, _| {
        b.iter_custom(|trials| state.run(trials));
    });
    group.finish();
}

fn full(c: &mut Criterion) {
    bench(c, "full", false);
}

fn separable(c: &mut Criterion) {
    bench(c, "separable", true);
}

fn replay(c: &mut Criterion) {
    let mut group = c.benchmark_group("cmaes");
    group.sample_size(10).warm_up_time(Duration::from_millis(200));
    let names = names();
    group.bench_with_input(BenchmarkId::new("replay_full", SIZE), &SIZE, |b, _| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let study = prefilled(SIZE, false);
                let start = Instant::now();
                one_trial(&study, &names, &mut [0.0; DIM]);
                elapsed += start.elapsed();
            }
            elapsed
        });
    });
    group.finish();
}

criterion_group!(benches, full, separable, replay);
criterion_main!(benches);

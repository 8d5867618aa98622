//! The GP sampler's cost per trial on a prefilled study.
//!
//! `gp/continuous10/N` (N = 100, 300): one trial of a [`GpSampler`] with its defaults on a
//! 10-dimensional continuous problem (a shifted sphere on \[-5, 5\]^10) whose study already holds
//! N finished trials: `ask`, ten `suggest_float`, `tell`. The study is prefilled (not timed)
//! with N random points through `add_trial`, followed by one untimed trial so that the
//! hyperparameter fit is warm-started as in a running study, and grows by at most 10 trials
//! before it is built again, so every timed trial sees N to N + 10 finished trials. Criterion's
//! "time" is per trial; the engine's own share (a few µs) is included.
//!
//! Run with `cargo bench -p tunewise-bench --bench gp`.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tunewise_core::rng::Rng;
use tunewise_core::{Distribution, GpSampler, KnownTrial, Study, TrialError};

const SIZES: [usize; 2] = [100, 300];
const DIM: usize = 10;
/// Trials a prefilled study may grow by before it is built again.
const WINDOW: usize = 10;

fn names() -> Vec<String> {
    (0..DIM).map(|i| format!("x{i}")).collect()
}

fn sphere(x: &[f64]) -> f64 {
    x.iter().enumerate().map(|(i, x)| (x - 2.5 * ((i + 1) as f64).sin()).powi(2)).sum()
}

struct Prefilled {
    size: usize,
    study: Study,
    len: usize,
    names: Vec<String>,
}

impl Prefilled {
    fn new(size: usize) -> Self {
        let study = Study::builder().minimize().sampler(GpSampler::with_seed(1)).create().unwrap();
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
        let mut p = Prefilled { size, study, len: size, names };
        // The first model-driven trial fits from the default start; later ones are warm.
        p.trial();
        p
    }

    fn trial(&mut self) {
        let mut x = vec![0.0; DIM];
        let mut trial = self.study.ask().unwrap();
        for (name, xi) in self.names.iter().zip(x.iter_mut()) {
            *xi = trial.suggest_float(name, -5.0, 5.0).unwrap();
        }
        self.study.tell(trial, Ok::<f64, TrialError>(sphere(&x))).unwrap();
        self.len += 1;
    }

    fn run(&mut self, trials: u64) -> Duration {
        let mut elapsed = Duration::ZERO;
        for _ in 0..trials {
            if self.len >= self.size + WINDOW {
                *self = Prefilled::new(self.size);
            }
            let start = Instant::now();
            self.trial();
            elapsed += start.elapsed();
        }
        elapsed
    }
}

fn gp(c: &mut Criterion) {
    let mut group = c.benchmark_group("gp/continuous10");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(6))
        .throughput(Throughput::Elements(1));
    for size in SIZES {
        let mut state = Prefilled::new(size);
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter_custom(|trials| state.run(trials));
        });
    }
    group.finish();
}

criterion_group!(benches, gp);
criterion_main!(benches);

//! Model-based samplers' cost per trial as the history grows.
//!
//! - `samplers/tpe_multivariate/N` (N = 1,000, 2,000): one trial of a multivariate
//!   [`TpeSampler`] on a 10-dimensional continuous problem (a shifted sphere on \[-5, 5\]^10)
//!   whose study already holds N finished trials: `ask`, ten `suggest_float`, `tell`. The study is
//!   prefilled (not timed) with N random points through `add_trial`, and grows by at most 100
//!   trials before it is built again (not timed), so every timed trial sees N to N + 100 finished
//!   trials. Criterion's "time" is per trial; the engine's own share (about 3 µs, see the
//!   `engine` bench) is included.
//! - `samplers/tpe_univariate/N`: the same with the default (univariate) TPE.
//! - `samplers/tpe_multivariate_scott/N`: multivariate with Scott's-rule bandwidths
//!   (`scott_bandwidth(true)`).
//!
//! - `samplers/qmc_sobol/N`, `samplers/qmc_halton/N`: the same trial with a scrambled
//!   [`QmcSampler`] (its cost does not depend on N: one point of the sequence per trial).
//!
//! Run with `cargo bench -p tunewise-bench --bench samplers`.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tunewise_core::rng::Rng;
use tunewise_core::{Distribution, KnownTrial, QmcSampler, Sampler, Study, TpeSampler, TrialError};

const SIZES: [usize; 2] = [1_000, 2_000];
const DIM: usize = 10;
/// Trials a prefilled study may grow by before it is built again.
const WINDOW: usize = 100;

fn names() -> Vec<String> {
    (0..DIM).map(|i| format!("x{i}")).collect()
}

fn sphere(x: &[f64]) -> f64 {
    x.iter().enumerate().map(|(i, x)| (x - 2.5 * ((i + 1) as f64).sin()).powi(2)).sum()
}

/// Which sampler: 0 univariate TPE, 1 multivariate TPE, 2 multivariate TPE with Scott's rule,
/// 3 scrambled Sobol, 4 scrambled Halton.
type Mode = u8;

fn sampler(mode: Mode) -> Box<dyn Sampler> {
    match mode {
        3 => Box::new(QmcSampler::sobol().seed(1)),
        4 => Box::new(QmcSampler::halton().seed(1)),
        _ => {
            let builder = TpeSampler::builder().multivariate(mode >= 1).scott_bandwidth(mode == 2);
            Box::new(builder.seed(1).build().unwrap())
        }
    }
}

fn prefilled(size: usize, mode: Mode) -> Study {
    let sampler = sampler(mode);
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
    size: usize,
    mode: Mode,
    study: Study,
    len: usize,
    names: Vec<String>,
}

impl Prefilled {
    fn new(size: usize, mode: Mode) -> Self {
        let study = prefilled(size, mode);
        Prefilled { size, mode, study, len: size, names: names() }
    }

    fn run(&mut self, trials: u64) -> Duration {
        let mut elapsed = Duration::ZERO;
        let mut x = vec![0.0; DIM];
        for _ in 0..trials {
            if self.len >= self.size + WINDOW {
                *self = Prefilled::new(self.size, self.mode);
            }
            let start = Instant::now();
            let mut trial = self.study.ask().unwrap();
            for (name, xi) in self.names.iter().zip(x.iter_mut()) {
                *xi = trial.suggest_float(name, -5.0, 5.0).unwrap();
            }
            self.study.tell(trial, Ok::<f64, TrialError>(sphere(&x))).unwrap();
            elapsed += start.elapsed();
            self.len += 1;
        }
        elapsed
    }
}

fn bench(c: &mut Criterion, group_name: &str, mode: Mode) {
    let mut group = c.benchmark_group(group_name);
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(1));
    for size in SIZES {
        let mut state = Prefilled::new(size, mode);
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter_custom(|trials| state.run(trials));
        });
    }
    group.finish();
}

fn tpe_multivariate(c: &mut Criterion) {
    bench(c, "samplers/tpe_multivariate", 1);
}

fn tpe_multivariate_scott(c: &mut Criterion) {
    bench(c, "samplers/tpe_multivariate_scott", 2);
}

fn tpe_univariate(c: &mut Criterion) {
    bench(c, "samplers/tpe_univariate", 0);
}

fn qmc_sobol(c: &mut Criterion) {
    bench(c, "samplers/qmc_sobol", 3);
}

fn qmc_halton(c: &mut Criterion) {
    bench(c, "samplers/qmc_halton", 4);
}

criterion_group!(
    benches,
    tpe_multivariate,
    tpe_multivariate_scott,
    tpe_univariate,
    qmc_sobol,
    qmc_halton
);
criterion_main!(benches);

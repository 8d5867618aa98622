//! The engine's own cost per trial: seeded random sampler, in-memory storage, ten parameters of
//! every kind, a trivial objective (`tunewise_bench::workload::ten_params`).
//!
//! - `engine/marginal_trial/N`: the cost of one more trial in a study that already holds N
//!   trials (N = 1,000, 10,000, 100,000). Each timed trial runs on a study holding between N and
//!   N + max(N/10, 500) trials: a study prefilled to N (not timed) grows by that much, then is
//!   built again. Criterion's "time" is per trial.
//! - `engine/optimize_from_empty/1000`: `Study::optimize` for 1,000 trials from a new study
//!   (creation included); the throughput line gives trials per second.
//!
//! Run with `cargo bench -p tunewise-bench --bench engine` (under a minute of measuring on 2
//! cores, plus the build).
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tunewise_bench::workload::{new_study, prefilled_study, ten_params};
use tunewise_core::{Budget, Study};

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// A study kept between `size` and `size + window` trials.
struct Prefilled {
    size: usize,
    window: usize,
    study: Study,
    len: usize,
}

impl Prefilled {
    fn new(size: usize) -> Self {
        let study = prefilled_study(size).unwrap();
        Prefilled { size, window: (size / 10).max(500), study, len: size }
    }

    /// Runs `trials` more trials and returns the time they took, rebuilding the study (not
    /// timed) whenever it has grown by the window.
    fn run(&mut self, trials: u64) -> Duration {
        let mut left = trials as usize;
        let mut elapsed = Duration::ZERO;
        while left > 0 {
            if self.len >= self.size + self.window {
                // Drop the old study first so two large studies are never alive at once.
                self.study = new_study().unwrap();
                *self = Prefilled::new(self.size);
            }
            let batch = left.min(self.size + self.window - self.len);
            let start = Instant::now();
            self.study.optimize(ten_params, Budget::trials(batch)).unwrap();
            elapsed += start.elapsed();
            self.len += batch;
            left -= batch;
        }
        elapsed
    }
}

fn marginal_trial(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine/marginal_trial");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    for size in SIZES {
        let mut prefilled = Prefilled::new(size);
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter_custom(|trials| prefilled.run(trials));
        });
    }
    group.finish();
}

fn optimize_from_empty(c: &mut Criterion) {
    const TRIALS: usize = 1_000;
    let mut group = c.benchmark_group("engine/optimize_from_empty");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(TRIALS as u64));
    group.bench_function(BenchmarkId::from_parameter(TRIALS), |b| {
        b.iter(|| {
            let study = new_study().unwrap();
            study.optimize(ten_params, Budget::trials(TRIALS)).unwrap();
            study
        });
    });
    group.finish();
}

criterion_group!(benches, marginal_trial, optimize_from_empty);
criterion_main!(benches);

//! NSGA-II's cost per trial on a long study with two objectives.
//!
//! - `nsga2/default/N` (N = 1,000, 10,000): one trial of the default [`NsgaIISampler`]
//!   (population 50, uniform crossover) on ZDT1 with 10 continuous parameters (two objectives
//!   minimized) whose study already holds N complete trials: `ask`, ten `suggest_float`,
//!   `tell`. The study is prefilled (not timed) with N random points through `add_trial`, the
//!   sampler reads that history in one untimed trial (as a long-running worker already has),
//!   and the study grows by at most N/10 trials before it is built again (not timed). Every
//!   timed trial thus sees N to 1.1·N finished trials, and pays its share of the selections of
//!   the generations it completes. Criterion's "time" is per trial; the engine's own share
//!   (about 3 µs, see the `engine` bench) is included.
//! - `nsga2/sbx/N`: the same with SBX crossover and polynomial mutation.
//!
//! Run with `cargo bench -p tunewise-bench --bench nsga2`.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tunewise_core::rng::Rng;
use tunewise_core::{
    Crossover, Direction, Distribution, KnownTrial, Mutation, NsgaIISampler, Study, TrialError,
};

const SIZES: [usize; 2] = [1_000, 10_000];
const DIM: usize = 10;

fn names() -> Vec<String> {
    (0..DIM).map(|i| format!("x{i}")).collect()
}

fn zdt1(x: &[f64]) -> Vec<f64> {
    let g = 1.0 + 9.0 * x[1..].iter().sum::<f64>() / (DIM - 1) as f64;
    vec![x[0], g * (1.0 - (x[0] / g).sqrt())]
}

fn sampler(sbx: bool) -> NsgaIISampler {
    let builder = NsgaIISampler::builder().seed(1);
    let builder = if sbx {
        builder.crossover(Crossover::sbx()).mutation(Mutation::polynomial())
    } else {
        builder
    };
    builder.build().unwrap()
}

struct Prefilled {
    size: usize,
    sbx: bool,
    study: Study,
    len: usize,
    names: Vec<String>,
}

impl Prefilled {
    fn new(size: usize, sbx: bool) -> Self {
        let study = Study::builder()
            .directions([Direction::Minimize, Direction::Minimize])
            .sampler(sampler(sbx))
            .create()
            .unwrap();
        let names = names();
        let mut rng = Rng::new(7);
        for _ in 0..size {
            let x: Vec<f64> = (0..DIM).map(|_| rng.uniform()).collect();
            let mut known = KnownTrial::complete(zdt1(&x));
            for (name, v) in names.iter().zip(&x) {
                known = known.param(name, Distribution::float(0.0, 1.0), *v);
            }
            study.add_trial(known).unwrap();
        }
        let mut prefilled = Prefilled { size, sbx, study, len: size, names };
        prefilled.trial();
        prefilled
    }

    fn trial(&mut self) {
        let mut x = vec![0.0; DIM];
        let mut trial = self.study.ask().unwrap();
        for (name, xi) in self.names.iter().zip(x.iter_mut()) {
            *xi = trial.suggest_float(name, 0.0, 1.0).unwrap();
        }
        self.study.tell(trial, Ok::<Vec<f64>, TrialError>(zdt1(&x))).unwrap();
        self.len += 1;
    }

    fn run(&mut self, trials: u64) -> Duration {
        let mut elapsed = Duration::ZERO;
        for _ in 0..trials {
            if self.len >= self.size + self.size / 10 {
                *self = Prefilled::new(self.size, self.sbx);
            }
            let start = Instant::now();
            self.trial();
            elapsed += start.elapsed();
        }
        elapsed
    }
}

fn bench(c: &mut Criterion, group_name: &str, sbx: bool) {
    let mut group = c.benchmark_group(group_name);
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(1));
    for size in SIZES {
        let mut state = Prefilled::new(size, sbx);
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter_custom(|trials| state.run(trials));
        });
    }
    group.finish();
}

fn default(c: &mut Criterion) {
    bench(c, "nsga2/default", false);
}

fn sbx(c: &mut Criterion) {
    bench(c, "nsga2/sbx", true);
}

criterion_group!(benches, default, sbx);
criterion_main!(benches);

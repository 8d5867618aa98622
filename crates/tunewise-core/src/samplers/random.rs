//! Random search.

use crate::distribution::Distribution;
use crate::error::Result;
use crate::frozen::FrozenTrial;
use crate::rng::Rng;
use crate::sampler::{Sampler, StudyView};

use super::sample_uniform;

/// Random search: each parameter drawn independently and uniformly (log-uniformly on a log
/// scale) from its distribution.
///
/// When to use it: as a baseline, for the first trials of a model-based sampler, and for wide
/// spaces where grids explode combinatorially. Cost: constant per parameter, no history read.
///
/// Seeded and stateless: the value of a parameter depends only on the seed, the trial number and
/// the parameter's name, so runs are reproducible whatever the number of threads.
#[derive(Debug, Clone)]
pub struct RandomSampler {
    seed: u64,
}

impl RandomSampler {
    /// A sampler seeded from the operating system.
    pub fn new() -> Self {
        RandomSampler { seed: Rng::os_seed() }
    }

    /// A seeded sampler.
    pub fn with_seed(seed: u64) -> Self {
        RandomSampler { seed }
    }

    /// Its seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

impl Default for RandomSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Sampler for RandomSampler {
    fn sample_independent(
        &self,
        _study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        Ok(sample_uniform(&mut Rng::for_param(self.seed, trial.number, name), distribution))
    }

    fn reseed(&mut self, seed: u64) {
        self.seed = seed;
    }
}

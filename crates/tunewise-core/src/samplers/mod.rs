//! The samplers: one module per algorithm family.

mod auto;
mod cmaes;
mod coarse_to_fine;
mod gp;
mod grid;
mod nsga2;
mod qmc;
mod random;
mod tpe;

pub use auto::{AutoChoice, AutoSampler};
pub use cmaes::{CmaEsBuilder, CmaEsSampler, CmaEsStatus, Restart};
pub use coarse_to_fine::{CoarseToFineBuilder, CoarseToFineSampler};
pub(crate) use gp::regret_bound;
pub use gp::{GpBuilder, GpSampler};
pub use grid::GridSampler;
pub use nsga2::{Crossover, Mutation, NsgaIIBuilder, NsgaIISampler};
pub use qmc::{QmcKind, QmcSampler};
pub use random::RandomSampler;
pub use tpe::{TpeBuilder, TpeSampler, TpeWeights};

use crate::distribution::Distribution;
use crate::rng::Rng;

/// Draws one internal value uniformly from a distribution: uniform for floats and ints, uniform
/// in the logarithm for log scales, uniform over the grid for steps and over the choices for
/// categoricals.
pub fn sample_uniform(rng: &mut Rng, distribution: &Distribution) -> f64 {
    match distribution {
        Distribution::Float(d) => match d.step {
            Some(step) => {
                let n = ((d.high - d.low) / step).round() as u64;
                distribution.snap_internal(d.low + rng.below(n + 1) as f64 * step)
            }
            None if d.log => rng.uniform_range(d.low.ln(), d.high.ln()).exp().clamp(d.low, d.high),
            None => rng.uniform_range(d.low, d.high),
        },
        Distribution::Int(d) if d.log => {
            let x = rng.uniform_range((d.low as f64 - 0.5).ln(), (d.high as f64 + 0.5).ln()).exp();
            distribution.snap_internal(x)
        }
        Distribution::Int(d) => {
            let n = ((d.high - d.low) / d.step) as u64;
            (d.low + rng.below(n + 1) as i64 * d.step) as f64
        }
        Distribution::Categorical(d) => rng.below(d.choices.len() as u64) as f64,
    }
}

//! Runs and restarts: IPOP-CMA-ES (Auger & Hansen, "A Restart CMA Evolution Strategy With
//! Increasing Population Size", CEC 2005).
//!
//! When a run stops (see [`Stop`]), IPOP starts a new one from a uniformly random mean in the
//! box, with the initial step size and the population multiplied by `factor` (2 in the paper).
//! Larger populations search multimodal functions more globally. The random means come from
//! generators derived from the sampler's seed and the restart's index, so a replay restarts
//! identically.

use super::margin;
use super::space::Dim;
use super::strategy::{Stop, Strategy};
use crate::rng::Rng;

/// Key of the generator of a restart's mean.
const TAG_RESTART: u64 = 0x7273_7472;

/// The largest population: restarts stop growing it here (a generation of 2^20 trials is far
/// past any budget, and its weights still fit in memory).
pub(crate) const MAX_POPULATION: usize = 1 << 20;

/// What [`CmaEsSampler`](super::CmaEsSampler) does when a run of CMA-ES stops: its mean, step
/// size or values no longer change (tolfun, tolx), its covariance is ill-conditioned, or its
/// best values stagnate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Restart {
    /// Keep going with the stopped run (the default). A run whose numbers broke down (not
    /// finite, or a step size that exploded) still starts again, with the same population.
    #[default]
    None,
    /// IPOP (Auger & Hansen 2005): start again from a random mean with the population
    /// multiplied by `factor`, at most `max_restarts` times.
    Ipop {
        /// Population multiplier per restart (at least 2; the paper's 2).
        factor: usize,
        /// Restarts allowed; after them the last run keeps going.
        max_restarts: usize,
    },
}

impl Restart {
    /// IPOP with the paper's doubling and at most 9 restarts (population up to 512 λ₀).
    pub fn ipop() -> Restart {
        Restart::Ipop { factor: 2, max_restarts: 9 }
    }
}

/// The fixed settings of a sequence of runs.
#[derive(Debug, Clone)]
pub(crate) struct RunConfig {
    pub(crate) seed: u64,
    pub(crate) sigma0: f64,
    pub(crate) separable: bool,
    pub(crate) restart: Restart,
    /// `None`: no margin; `Some(None)`: margin with `alpha = 1 / (d λ)`.
    pub(crate) margin: Option<Option<f64>>,
}

/// The current run and how many came before it.
#[derive(Debug, Clone)]
pub(crate) struct Runner {
    pub(crate) strategy: Strategy,
    pub(crate) config: RunConfig,
    pub(crate) restarts: usize,
    /// Generations told over all runs.
    pub(crate) generations: usize,
    /// Why the last run stopped, if one did.
    pub(crate) last_stop: Option<Stop>,
}

impl Runner {
    pub(crate) fn new(strategy: Strategy, config: RunConfig) -> Runner {
        Runner { strategy, config, restarts: 0, generations: 0, last_stop: None }
    }

    /// Draws one solution in the unit box (resampled up to ten times, then clipped).
    pub(crate) fn ask(&self, rng: &mut Rng, out: &mut [f64]) {
        self.strategy.sample_in_unit_box(rng, 10, out);
    }

    /// Tells a generation (ranked best first), applies the margin, restarts if needed.
    pub(crate) fn tell(&mut self, xs: &[Vec<f64>], values: &[f64], dims: &[Dim]) {
        let stop = self.strategy.tell(xs, values);
        self.generations += 1;
        if let Some(alpha) = self.config.margin {
            let d = self.strategy.dim() as f64;
            let lambda = self.strategy.population_size() as f64;
            margin::apply(&mut self.strategy, dims, alpha.unwrap_or(1.0 / (d * lambda)));
        }
        let Some(stop) = stop else { return };
        self.last_stop = Some(stop);
        let factor = match self.config.restart {
            Restart::Ipop { factor, max_restarts } if self.restarts < max_restarts => factor,
            _ if stop == Stop::Diverged => 1,
            _ => return,
        };
        self.restarts += 1;
        let d = self.strategy.dim();
        let lambda = self.strategy.population_size().saturating_mul(factor).min(MAX_POPULATION);
        let mut rng = Rng::derive(self.config.seed, &[TAG_RESTART, self.restarts as u64]);
        let mean: Vec<f64> = (0..d).map(|_| rng.uniform()).collect();
        self.strategy =
            Strategy::new(mean, self.config.sigma0, lambda, self.config.separable, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rastrigin on the unit box, optimum 0 at 0.5.
    fn rastrigin(x: &[f64]) -> f64 {
        x.iter()
            .map(|u| {
                let v = 10.24 * (u - 0.5);
                v * v - 10.0 * (2.0 * std::f64::consts::PI * v).cos() + 10.0
            })
            .sum()
    }

    fn drive(runner: &mut Runner, generations: usize) -> f64 {
        let d = runner.strategy.dim();
        let mut rng = Rng::new(5);
        let mut best = f64::INFINITY;
        for _ in 0..generations {
            let mut pop: Vec<(Vec<f64>, f64)> = (0..runner.strategy.population_size())
                .map(|_| {
                    let mut x = vec![0.0; d];
                    runner.ask(&mut rng, &mut x);
                    let f = rastrigin(&x);
                    (x, f)
                })
                .collect();
            pop.sort_by(|a, b| a.1.total_cmp(&b.1));
            best = best.min(pop[0].1);
            let xs: Vec<Vec<f64>> = pop.iter().map(|p| p.0.clone()).collect();
            let fs: Vec<f64> = pop.iter().map(|p| p.1).collect();
            runner.tell(&xs, &fs, &[]);
        }
        best
    }

    #[test]
    fn ipop_restarts_with_a_doubled_population_on_a_multimodal_function() {
        let config = RunConfig {
            seed: 3,
            sigma0: 0.1,
            separable: false,
            restart: Restart::ipop(),
            margin: None,
        };
        let mut runner = Runner::new(Strategy::new(vec![0.8; 3], 0.1, 7, false, None), config);
        drive(&mut runner, 600);
        assert!(runner.restarts >= 1, "no restart in 600 generations");
        assert_eq!(runner.strategy.population_size(), 7 << runner.restarts);
        assert!(runner.last_stop.is_some());

        // Without restarts the first run keeps going, with its population.
        let config = RunConfig { restart: Restart::None, ..runner.config.clone() };
        let mut plain = Runner::new(Strategy::new(vec![0.8; 3], 0.1, 7, false, None), config);
        drive(&mut plain, 600);
        assert_eq!((plain.restarts, plain.strategy.population_size()), (0, 7));
    }
}

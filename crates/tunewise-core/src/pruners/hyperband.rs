//! Hyperband: successive halving in several brackets.

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::frozen::FrozenTrial;
use crate::pruner::Pruner;
use crate::sampler::StudyView;

use super::successive_halving::Halving;

/// Hyperband (Li et al. 2018, "Hyperband: A Novel Bandit-Based Approach to Hyperparameter
/// Optimization"), as in Optuna's `HyperbandPruner`: several brackets of asynchronous
/// successive halving that trust early values more or less.
///
/// # What it does
///
/// With η the reduction factor, there are `n = ⌊log_η(max_resource / min_resource)⌋ + 1`
/// brackets. Bracket `i` (0 ≤ i < n) is a
/// [`SuccessiveHalvingPruner`](crate::SuccessiveHalvingPruner) with the same `min_resource`, η and
/// `bootstrap_count` and a minimum early-stopping rate of `i`: bracket 0 judges trials from step
/// `min_resource` on and prunes hardest, the last bracket first judges them near
/// `max_resource`. A trial is compared only with the trials of its own bracket.
///
/// Each trial goes to a bracket by its number alone, deterministically: the number is hashed
/// (SplitMix64's finalizer) and the hash modulo the total budget `B = Σ bᵢ` picks the bracket,
/// bracket `i` owning `bᵢ` consecutive residues. The budgets follow the paper's allocation:
/// the bracket that halves `h = n − 1 − i` times starts `bᵢ = ⌈n · η^h / (h + 1)⌉` trials per
/// round, so the aggressive brackets receive more trials. See
/// [`bracket_of`](Self::bracket_of).
///
/// # Several objectives
///
/// As in successive halving, within the trial's bracket: non-dominated sorting, then crowding
/// distance, the best `max(⌊n / η⌋, 1)` go on.
///
/// # When to use it
///
/// Iterative training where you know the full budget (`max_resource`, for example the number
/// of epochs) but not how early a learning curve can be trusted: the brackets hedge between
/// pruning early and hard and pruning late and gently. With a single bracket it is successive
/// halving.
///
/// # Cost
///
/// One bracket's successive halving per call: one pass over the study's trials (each trial's
/// bracket is remembered by its `Arc`, so an unchanged trial is not read again), cached sorted
/// values per rung, a binary search per rung; with several objectives, the ranking described
/// in [`SuccessiveHalvingPruner`](crate::SuccessiveHalvingPruner)'s "Cost" (cached fronts per
/// bracket and rung with two objectives).
///
/// # Defaults
///
/// `max_resource` is required (the step at which a trial has had its full budget);
/// `min_resource` 1, `reduction_factor` 3, `bootstrap_count` 0.
///
/// ```
/// use tunewise_core::HyperbandPruner;
///
/// let pruner = HyperbandPruner::builder().max_resource(27).build()?;
/// assert_eq!(pruner.n_brackets(), 4);
/// assert!(pruner.bracket_of(17) < 4);
/// # Ok::<(), tunewise_core::Error>(())
/// ```
#[derive(Debug)]
pub struct HyperbandPruner {
    brackets: Vec<Halving>,
    /// Cumulative budgets: bracket `i` owns residues `[cumulative[i-1], cumulative[i])`.
    cumulative: Vec<u64>,
    /// By position in the study's trials: the trial (its `Arc`, held so the comparison by
    /// address is sound) and its bracket, so that unchanged trials are not read again.
    memo: Mutex<Vec<(Arc<FrozenTrial>, usize)>>,
}

/// Settings of a [`HyperbandPruner`], checked by [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct HyperbandBuilder {
    min_resource: u64,
    max_resource: Option<u64>,
    reduction_factor: u64,
    bootstrap_count: usize,
}

impl Default for HyperbandBuilder {
    fn default() -> Self {
        HyperbandBuilder {
            min_resource: 1,
            max_resource: None,
            reduction_factor: 3,
            bootstrap_count: 0,
        }
    }
}

impl HyperbandBuilder {
    /// Steps before the first rung of the most aggressive bracket, at least 1 (default 1).
    pub fn min_resource(mut self, steps: u64) -> Self {
        self.min_resource = steps;
        self
    }

    /// The step at which a trial has had its full budget (for example the number of epochs),
    /// at least `min_resource`. Required.
    pub fn max_resource(mut self, steps: u64) -> Self {
        self.max_resource = Some(steps);
        self
    }

    /// η: one trial in η goes on at each rung, at least 2 (default 3).
    pub fn reduction_factor(mut self, eta: u64) -> Self {
        self.reduction_factor = eta;
        self
    }

    /// Trials pruned at each rung of each bracket before any is promoted from it (default 0).
    pub fn bootstrap_count(mut self, n: usize) -> Self {
        self.bootstrap_count = n;
        self
    }

    /// Checks the settings and makes the pruner; an error names the setting to fix.
    pub fn build(self) -> Result<HyperbandPruner> {
        let bad = |field: &str, why: String| {
            Err(Error::InvalidConfig(format!("HyperbandPruner {field}: {why}")))
        };
        let Some(max) = self.max_resource else {
            return bad(
                "max_resource",
                "is required: the step at which a trial has had its full budget (for example \
                 the number of epochs); set it with max_resource(steps)"
                    .into(),
            );
        };
        // Checks min_resource and reduction_factor.
        Halving::new("HyperbandPruner", self.min_resource, self.reduction_factor, 0, 0)?;
        if max < self.min_resource {
            return bad(
                "max_resource",
                format!("must be at least min_resource ({}), got {max}", self.min_resource),
            );
        }
        let eta = self.reduction_factor;
        // n = ⌊log_η(max / min)⌋ + 1, in integers.
        let mut n = 1u32;
        let mut reach = self.min_resource;
        while let Some(next) = reach.checked_mul(eta).filter(|r| *r <= max) {
            reach = next;
            n += 1;
        }
        let mut cumulative = Vec::with_capacity(n as usize);
        let mut total = 0u64;
        for i in 0..n {
            let halvings = n - 1 - i;
            // η^h ≤ max / min fits in u64 by the loop above.
            let power = eta.saturating_pow(halvings);
            let budget = (u64::from(n).saturating_mul(power)).div_ceil(u64::from(halvings) + 1);
            total = total.saturating_add(budget);
            cumulative.push(total);
        }
        let brackets = (0..n)
            .map(|i| Halving::unchecked(self.min_resource, eta, i, self.bootstrap_count))
            .collect();
        Ok(HyperbandPruner { brackets, cumulative, memo: Mutex::new(Vec::new()) })
    }
}

impl HyperbandPruner {
    /// A builder; `max_resource` must be set.
    pub fn builder() -> HyperbandBuilder {
        HyperbandBuilder::default()
    }

    /// The number of brackets, `⌊log_η(max_resource / min_resource)⌋ + 1`.
    pub fn n_brackets(&self) -> usize {
        self.brackets.len()
    }

    /// The bracket of trial `number` (its minimum early-stopping rate): a function of the number
    /// alone.
    pub fn bracket_of(&self, number: u64) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1).max(1);
        let residue = splitmix64(number) % total;
        self.cumulative.partition_point(|c| *c <= residue)
    }

    /// Each bracket's share of the trials, `bᵢ / B`.
    pub fn bracket_shares(&self) -> Vec<f64> {
        let total = self.cumulative.last().copied().unwrap_or(1).max(1) as f64;
        let mut previous = 0u64;
        self.cumulative
            .iter()
            .map(|c| {
                let share = (c - previous) as f64 / total;
                previous = *c;
                share
            })
            .collect()
    }
}

/// SplitMix64's output function: a fixed, well-mixed hash of the trial number (the same on
/// every platform and in every version, unlike the standard library's hashers).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Pruner for HyperbandPruner {
    fn prune(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<bool> {
        let bracket = self.bracket_of(trial.number);
        let Some(halving) = self.brackets.get(bracket) else { return Ok(false) };
        let trials = study.trials();
        let mut mates: Vec<&Arc<FrozenTrial>> = Vec::with_capacity(trials.len());
        {
            // The bracket depends on the number only, and an `Arc` held here cannot change.
            let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
            for (i, t) in trials.iter().enumerate() {
                let b = match memo.get(i) {
                    Some((known, b)) if Arc::ptr_eq(known, t) => *b,
                    _ => {
                        let b = self.bracket_of(t.number);
                        let entry = (Arc::clone(t), b);
                        if i < memo.len() {
                            memo[i] = entry;
                        } else {
                            memo.push(entry);
                        }
                        b
                    }
                };
                if b == bracket {
                    mates.push(t);
                }
            }
        }
        halving.prune(study.directions(), mates.into_iter(), trial)
    }
}

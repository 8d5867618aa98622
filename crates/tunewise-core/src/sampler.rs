//! The sampler trait: how parameter values are proposed.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::direction::Direction;
use crate::distribution::Distribution;
use crate::error::Result;
use crate::frozen::{FrozenTrial, TrialState};
use crate::search_space::SearchSpace;

/// What a sampler or pruner sees of the study: its directions and its trials, in number order.
#[derive(Debug, Clone, Copy)]
pub struct StudyView<'a> {
    directions: &'a [Direction],
    trials: &'a [Arc<FrozenTrial>],
}

impl<'a> StudyView<'a> {
    /// A view over `trials` (in number order).
    pub fn new(directions: &'a [Direction], trials: &'a [Arc<FrozenTrial>]) -> Self {
        StudyView { directions, trials }
    }

    /// One direction per objective.
    pub fn directions(&self) -> &'a [Direction] {
        self.directions
    }

    /// Every trial this worker knows of, in number order (running and waiting ones too).
    pub fn trials(&self) -> &'a [Arc<FrozenTrial>] {
        self.trials
    }

    /// Trials in one state.
    pub fn trials_in(&self, state: TrialState) -> impl Iterator<Item = &'a FrozenTrial> {
        self.trials.iter().map(|t| &**t).filter(move |t| t.state == state)
    }

    /// Complete trials.
    pub fn completed(&self) -> impl Iterator<Item = &'a FrozenTrial> {
        self.trials_in(TrialState::Complete)
    }
}

/// Proposes parameter values.
///
/// Required: [`sample_independent`](Sampler::sample_independent), one parameter at a time.
/// Provided, for samplers that model parameters jointly: infer a joint search space and sample it
/// in one go at the start of a trial; hooks before and after each trial; a signal that there is
/// nothing left to propose. Samplers only propose: the loop, the storage and the budgets belong to
/// [`Study`](crate::Study).
///
/// Values are internal (see [`Distribution`]); the study snaps them into the distribution and
/// refuses anything outside it.
pub trait Sampler: Send + Sync + fmt::Debug {
    /// Samples one parameter of `trial` (whose `params` holds those suggested so far).
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> Result<f64>;

    /// The space to sample jointly at the start of `trial`. Default: none.
    fn infer_relative_search_space(
        &self,
        _study: &StudyView<'_>,
        _trial: &FrozenTrial,
    ) -> Result<SearchSpace> {
        Ok(SearchSpace::new())
    }

    /// Samples `space` jointly; parameters left out fall back on
    /// [`sample_independent`](Sampler::sample_independent). Default: none.
    fn sample_relative(
        &self,
        _study: &StudyView<'_>,
        _trial: &FrozenTrial,
        _space: &SearchSpace,
    ) -> Result<BTreeMap<Arc<str>, f64>> {
        Ok(BTreeMap::new())
    }

    /// Called when a trial starts, before any parameter is sampled.
    fn before_trial(&self, _study: &StudyView<'_>, _trial: &FrozenTrial) -> Result<()> {
        Ok(())
    }

    /// Called when a trial has finished and been stored.
    fn after_trial(&self, _study: &StudyView<'_>, _trial: &FrozenTrial) -> Result<()> {
        Ok(())
    }

    /// Replaces the sampler's seed (the study's seed, when one is given to the builder).
    fn reseed(&mut self, _seed: u64) {}

    /// Whether the sampler has nothing left to propose (a finished grid). The study stops when it
    /// says so. Default: never.
    fn is_exhausted(&self, _study: &StudyView<'_>) -> bool {
        false
    }

    /// Whether the sampler needs the parameters of trials still running (a TPE with constant
    /// liar counts them as bad observations). When it does, a [`Trial`](crate::Trial) stores each
    /// parameter as soon as it is suggested, one storage write per parameter, instead of
    /// buffering them until its next report or its end. Default: no.
    fn wants_running_params(&self) -> bool {
        false
    }
}

/// A boxed sampler is a sampler, so a factory returning `Box<dyn Sampler>` (as the conformance
/// suite takes) can hand its result to [`StudyBuilder::sampler`](crate::StudyBuilder::sampler).
/// Every method forwards, the provided ones too.
impl<S: Sampler + ?Sized> Sampler for Box<S> {
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        (**self).sample_independent(study, trial, name, distribution)
    }

    fn infer_relative_search_space(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
    ) -> Result<SearchSpace> {
        (**self).infer_relative_search_space(study, trial)
    }

    fn sample_relative(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        space: &SearchSpace,
    ) -> Result<BTreeMap<Arc<str>, f64>> {
        (**self).sample_relative(study, trial, space)
    }

    fn before_trial(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<()> {
        (**self).before_trial(study, trial)
    }

    fn after_trial(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<()> {
        (**self).after_trial(study, trial)
    }

    fn reseed(&mut self, seed: u64) {
        (**self).reseed(seed);
    }

    fn is_exhausted(&self, study: &StudyView<'_>) -> bool {
        (**self).is_exhausted(study)
    }

    fn wants_running_params(&self) -> bool {
        (**self).wants_running_params()
    }
}

//! The live trial handed to an objective: define-by-run suggestions, reports, constraints.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::frozen::{AttrValue, FrozenTrial, Param, TrialState};
use crate::param::{Categorical, ParamValue};
use crate::sampler::StudyView;
use crate::search_space::SearchSpace;
use crate::storage::{Lease, TrialFinish};
use crate::study::StudyInner;

/// How an objective ends without values: pruned, or failed with a message.
///
/// Any error converts into `TrialError::Failed` with `?`, keeping its chain of causes.
#[derive(Debug, Clone, PartialEq)]
pub enum TrialError {
    /// The trial was stopped early (after [`Trial::should_prune`] said so).
    Pruned,
    /// The objective failed; the message is stored with the trial.
    Failed(String),
}

impl TrialError {
    /// A failure with a message.
    pub fn failed(message: impl Into<String>) -> Self {
        TrialError::Failed(message.into())
    }
}

impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> From<E> for TrialError {
    fn from(e: E) -> Self {
        let e: Box<dyn std::error::Error + Send + Sync> = e.into();
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        TrialError::Failed(message)
    }
}

impl fmt::Display for TrialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrialError::Pruned => f.write_str("pruned"),
            TrialError::Failed(m) => f.write_str(m),
        }
    }
}

/// What an objective may return: one value, or one per objective.
pub trait ObjectiveValues {
    /// The values, one per objective.
    fn into_values(self) -> Vec<f64>;
}

impl ObjectiveValues for f64 {
    fn into_values(self) -> Vec<f64> {
        vec![self]
    }
}
impl ObjectiveValues for f32 {
    fn into_values(self) -> Vec<f64> {
        vec![f64::from(self)]
    }
}
impl ObjectiveValues for Vec<f64> {
    fn into_values(self) -> Vec<f64> {
        self
    }
}
impl ObjectiveValues for &[f64] {
    fn into_values(self) -> Vec<f64> {
        self.to_vec()
    }
}
impl<const N: usize> ObjectiveValues for [f64; N] {
    fn into_values(self) -> Vec<f64> {
        self.to_vec()
    }
}
impl ObjectiveValues for (f64, f64) {
    fn into_values(self) -> Vec<f64> {
        vec![self.0, self.1]
    }
}
impl ObjectiveValues for (f64, f64, f64) {
    fn into_values(self) -> Vec<f64> {
        vec![self.0, self.1, self.2]
    }
}

/// A running trial: the objective asks it for parameter values, define-by-run.
///
/// Parameters are buffered and stored with the next report, pruning check, attribute or at the
/// end of the trial, so a trial costs few transactions; unless the sampler
/// [wants the parameters of running trials](crate::Sampler::wants_running_params), in which case
/// each one is stored as soon as it is suggested. A trial obtained from
/// [`Study::ask`](crate::Study::ask) and dropped without [`Study::tell`](crate::Study::tell) is
/// recorded as failed.
pub struct Trial {
    pub(crate) study: Arc<StudyInner>,
    pub(crate) lease: Lease,
    pub(crate) record: FrozenTrial,
    pub(crate) relative_space: SearchSpace,
    pub(crate) relative: BTreeMap<Arc<str>, f64>,
    /// Parameters `record.params[..flushed]` are stored.
    pub(crate) flushed: usize,
    pub(crate) finished: bool,
}

impl fmt::Debug for Trial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trial")
            .field("number", &self.record.number)
            .field("attempt", &self.record.attempt)
            .field("params", &self.record.params_map())
            .finish()
    }
}

impl Trial {
    /// The trial's number in its study.
    pub fn number(&self) -> u64 {
        self.record.number
    }

    /// The attempt: 0, or more when a trial left by a dead worker is run again.
    pub fn attempt(&self) -> u32 {
        self.record.attempt
    }

    /// The lease that proves this worker holds the trial.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// The parameters suggested so far, in the user's terms.
    pub fn params(&self) -> BTreeMap<String, ParamValue> {
        self.record.params_map()
    }

    /// The trial as it stands (parameters, intermediate values, attributes).
    pub fn snapshot(&self) -> &FrozenTrial {
        &self.record
    }

    /// A float, uniform in `[low, high]`.
    pub fn suggest_float(&mut self, name: &str, low: f64, high: f64) -> Result<f64> {
        self.suggest_number(name, Distribution::float(low, high))
    }

    /// A float, log-uniform in `[low, high]` (`low > 0`).
    pub fn suggest_float_log(&mut self, name: &str, low: f64, high: f64) -> Result<f64> {
        self.suggest_number(name, Distribution::float_log(low, high))
    }

    /// A float on the grid `low, low + step, …, high`.
    pub fn suggest_float_step(
        &mut self,
        name: &str,
        low: f64,
        high: f64,
        step: f64,
    ) -> Result<f64> {
        self.suggest_number(name, Distribution::float_step(low, high, step))
    }

    /// An integer, uniform in `[low, high]`.
    pub fn suggest_int(&mut self, name: &str, low: i64, high: i64) -> Result<i64> {
        self.suggest_integer(name, Distribution::int(low, high))
    }

    /// An integer, log-uniform in `[low, high]` (`low >= 1`).
    pub fn suggest_int_log(&mut self, name: &str, low: i64, high: i64) -> Result<i64> {
        self.suggest_integer(name, Distribution::int_log(low, high))
    }

    /// An integer on the grid `low, low + step, …, high`.
    pub fn suggest_int_step(&mut self, name: &str, low: i64, high: i64, step: i64) -> Result<i64> {
        self.suggest_integer(name, Distribution::int_step(low, high, step))
    }

    /// One of `choices` (bools, integers, floats or strings), returned as given.
    pub fn suggest_categorical<T: Categorical>(&mut self, name: &str, choices: &[T]) -> Result<T> {
        // The common case, a choice list this study has seen before, is matched against the
        // interned distribution without building (and allocating) a new one.
        let internal = match self.study.interned_categorical(name, choices) {
            Some((key, distribution)) => {
                if self.finished {
                    return Err(Error::TrialFinished(self.record.number));
                }
                match self.existing(name, &distribution) {
                    Some(result) => result?,
                    None => self.sample_new(key, distribution)?,
                }
            }
            None => {
                let distribution =
                    Distribution::categorical(choices.iter().map(Categorical::to_param));
                self.suggest_internal(name, distribution)?
            }
        };
        let index = internal as usize;
        choices
            .get(index)
            .cloned()
            .ok_or_else(|| Error::Sampler(format!("choice index {index} for '{name}'")))
    }

    /// A value from any distribution, in the user's terms.
    pub fn suggest(&mut self, name: &str, distribution: Distribution) -> Result<ParamValue> {
        let internal = self.suggest_internal(name, distribution)?;
        Ok(self
            .record
            .params
            .iter()
            .rev()
            .find(|p| &*p.name == name)
            .map_or(ParamValue::Float(internal), Param::value))
    }

    fn suggest_number(&mut self, name: &str, distribution: Distribution) -> Result<f64> {
        self.suggest_internal(name, distribution)
    }

    fn suggest_integer(&mut self, name: &str, distribution: Distribution) -> Result<i64> {
        Ok(self.suggest_internal(name, distribution)? as i64)
    }

    /// The heart of define-by-run: validate, reuse, take a fixed or relative value, or sample.
    fn suggest_internal(&mut self, name: &str, distribution: Distribution) -> Result<f64> {
        if self.finished {
            return Err(Error::TrialFinished(self.record.number));
        }
        distribution.validate(name)?;
        if let Some(result) = self.existing(name, &distribution) {
            return result;
        }
        let (name, distribution) = self.study.intern(name, distribution);
        self.sample_new(name, distribution)
    }

    /// The value of a parameter this trial already has: the same value for the same
    /// distribution, an error for another one.
    fn existing(&self, name: &str, distribution: &Distribution) -> Option<Result<f64>> {
        let p = self.record.param(name)?;
        if *p.distribution == *distribution {
            return Some(Ok(p.internal));
        }
        Some(Err(Error::DistributionMismatch {
            name: name.to_owned(),
            existing: p.distribution.to_string(),
            requested: distribution.to_string(),
        }))
    }

    /// A new parameter's value: fixed (enqueued or reclaimed), relative, the only one, or sampled.
    fn sample_new(&mut self, name: Arc<str>, distribution: Arc<Distribution>) -> Result<f64> {
        let fixed = self.record.fixed_params.iter().find(|(n, _)| *n == name);
        let internal = if let Some((_, value)) = fixed {
            distribution.internal_of(&name, value)?
        } else if let Some(v) = self
            .relative
            .get(&name)
            .filter(|_| self.relative_space.get(&name).is_some_and(|d| **d == *distribution))
        {
            *v
        } else if distribution.is_single() {
            distribution.internal_bounds().0
        } else {
            let cache = self.study.read_cache();
            let view = StudyView::new(&self.study.record.directions, cache.trials());
            self.study.sampler.sample_independent(&view, &self.record, &name, &distribution)?
        };
        let snapped = distribution.snap_internal(internal);
        if !internal.is_finite() || !distribution.contains_internal(snapped) {
            return Err(Error::Sampler(format!(
                "the sampler proposed {internal} for '{name}', outside {distribution}"
            )));
        }
        self.record.params.push(Param { name, distribution, internal: snapped });
        if self.study.sampler.wants_running_params() {
            // Other workers' samplers see this trial's parameters while it runs (constant liar).
            self.flush()?;
        }
        Ok(snapped)
    }

    /// Stores the parameters suggested since the last write.
    fn flush(&mut self) -> Result<()> {
        if self.flushed < self.record.params.len() {
            self.study
                .storage
                .set_trial_params(&self.lease, &self.record.params[self.flushed..])?;
            self.flushed = self.record.params.len();
        }
        Ok(())
    }

    /// Reports the intermediate value of a single-objective trial at `step` (an epoch, a fold…).
    pub fn report(&mut self, step: u64, value: f64) -> Result<()> {
        self.report_values(step, &[value])
    }

    /// Reports intermediate values, one per objective, at `step`.
    pub fn report_values(&mut self, step: u64, values: &[f64]) -> Result<()> {
        if self.finished {
            return Err(Error::TrialFinished(self.record.number));
        }
        let expected = self.study.record.directions.len();
        if values.len() != expected {
            return Err(Error::WrongNumberOfValues { expected, got: values.len() });
        }
        if self.record.intermediate_values.contains_key(&step) {
            return Err(Error::InvalidConfig(format!(
                "step {step} was already reported for trial {}; report each step once",
                self.record.number
            )));
        }
        self.flush()?;
        self.study.storage.report(&self.lease, step, values)?;
        self.record.intermediate_values.insert(step, values.to_vec());
        Ok(())
    }

    /// Whether the study's pruner says this trial should stop now. If it does, return
    /// `Err(TrialError::Pruned)` from the objective.
    pub fn should_prune(&mut self) -> Result<bool> {
        self.flush()?;
        let cache = self.study.read_cache();
        let view = StudyView::new(&self.study.record.directions, cache.trials());
        self.study.pruner.prune(&view, &self.record)
    }

    /// Sets a user attribute (stored at once).
    pub fn set_user_attr(&mut self, key: &str, value: impl Into<AttrValue>) -> Result<()> {
        if self.finished {
            return Err(Error::TrialFinished(self.record.number));
        }
        let value = value.into();
        self.flush()?;
        self.study.storage.set_trial_user_attr(&self.lease, key, value.clone())?;
        self.record.user_attrs.insert(key.to_owned(), value);
        Ok(())
    }

    /// Sets the constraint values: the trial is feasible when every one is ≤ 0. Stored when the
    /// trial finishes.
    pub fn set_constraints(&mut self, constraints: Vec<f64>) -> Result<()> {
        if let Some(c) = constraints.iter().find(|c| c.is_nan()) {
            return Err(Error::InvalidConfig(format!(
                "constraint values must be numbers, got {c}; use a large positive value for infeasible"
            )));
        }
        self.record.constraints = constraints;
        Ok(())
    }

    /// Renews the trial's lease (for long objectives driven by ask/tell with a lease).
    pub fn heartbeat(&self) -> Result<()> {
        self.study.storage.renew_lease(&self.lease, self.study.lease_duration)
    }

    /// Ends the trial in storage with the objective's result and returns the stored record.
    pub(crate) fn finish(
        &mut self,
        result: std::result::Result<Vec<f64>, TrialError>,
    ) -> Result<Arc<FrozenTrial>> {
        if self.finished {
            return Err(Error::TrialFinished(self.record.number));
        }
        let expected = self.study.record.directions.len();
        let (state, values, fail_reason) = match result {
            Ok(values) if values.len() != expected => (
                TrialState::Failed,
                None,
                Some(Error::WrongNumberOfValues { expected, got: values.len() }.to_string()),
            ),
            Ok(values) if values.iter().any(|v| v.is_nan()) => {
                (TrialState::Failed, None, Some("the objective returned NaN".to_owned()))
            }
            Ok(values) => (TrialState::Complete, Some(values), None),
            Err(TrialError::Pruned) => (TrialState::Pruned, None, None),
            Err(TrialError::Failed(message)) => (TrialState::Failed, None, Some(message)),
        };
        let finish = TrialFinish {
            state,
            values,
            constraints: self.record.constraints.clone(),
            fail_reason,
            params: self.record.params[self.flushed..].to_vec(),
        };
        self.finished = true;
        let stored = self.study.storage.finish_trial(&self.lease, &finish)?;
        self.flushed = self.record.params.len();
        self.study.after_trial(&stored)?;
        Ok(stored)
    }

    /// Gives up the handle without finishing the trial, leaving it running in storage (for a
    /// trial told later by another process). Returns its lease.
    pub fn detach(mut self) -> Result<Lease> {
        self.flush()?;
        self.finished = true;
        Ok(self.lease.clone())
    }
}

impl Drop for Trial {
    fn drop(&mut self) {
        if !self.finished {
            // Best effort: a dropped trial must not stay "running" forever. Errors cannot be
            // returned from drop, and the trial is recovered by lease expiry if this fails.
            let _ = self.finish(Err(TrialError::failed(
                "the trial was dropped before it was told a result",
            )));
        }
    }
}

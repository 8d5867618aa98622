//! A worker's cache of its study's trials, kept current by incremental reads.

use std::sync::Arc;

use crate::direction::Direction;
use crate::error::Result;
use crate::frozen::{FrozenTrial, TrialState};
use crate::storage::{Storage, StudyId, TrialChanges};

/// Trials by number, the storage cursor they reflect, and the best trial so far.
#[derive(Debug, Default)]
pub(crate) struct TrialCache {
    trials: Vec<Arc<FrozenTrial>>,
    cursor: u64,
    /// Number of the best feasible complete trial (single objective only).
    best: Option<u64>,
}

impl TrialCache {
    pub(crate) fn trials(&self) -> &[Arc<FrozenTrial>] {
        &self.trials
    }

    pub(crate) fn cursor(&self) -> u64 {
        self.cursor
    }

    pub(crate) fn best(&self) -> Option<&Arc<FrozenTrial>> {
        self.best.and_then(|n| self.trials.get(n as usize))
    }

    /// Applies a batch of changes read from the cursor this cache had. A batch older than what
    /// is already applied is dropped, so concurrent syncs never move a trial back in time.
    pub(crate) fn apply(
        &mut self,
        changes: TrialChanges,
        directions: &[Direction],
        storage: &dyn Storage,
        study: StudyId,
    ) -> Result<()> {
        if changes.cursor <= self.cursor {
            return Ok(());
        }
        for trial in changes.trials {
            let n = trial.number as usize;
            // Numbers are dense; a gap means a trial this batch did not carry (it cannot happen
            // with a conforming storage, but reading it costs little and keeps the cache whole).
            while self.trials.len() < n {
                let missing = storage.trial(study, self.trials.len() as u64)?;
                self.trials.push(missing);
            }
            self.consider_best(&trial, directions);
            if n == self.trials.len() {
                self.trials.push(trial);
            } else {
                self.trials[n] = trial;
            }
        }
        self.cursor = self.cursor.max(changes.cursor);
        Ok(())
    }

    fn consider_best(&mut self, trial: &FrozenTrial, directions: &[Direction]) {
        let [direction] = directions else { return };
        if trial.state != TrialState::Complete || !trial.is_feasible() {
            return;
        }
        let Some(value) = trial.value() else { return };
        let better = match self.best() {
            None => true,
            Some(best) => {
                let b = best.value().unwrap_or(f64::NAN);
                direction.better(value, b) || (value == b && trial.number < best.number)
            }
        };
        if better {
            self.best = Some(trial.number);
        }
    }
}

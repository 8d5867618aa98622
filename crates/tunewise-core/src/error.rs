//! The one error type of the engine.

use std::time::Duration;

/// Everything that can go wrong in the engine, as a value: tunewise never panics on user input.
///
/// Each message names what is wrong and, where there is one, how to fix it.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A distribution was refused when it was made.
    #[error("parameter '{name}': {reason}")]
    InvalidDistribution {
        /// The parameter's name.
        name: String,
        /// What is wrong with the range, step or choices.
        reason: String,
    },
    /// The same trial asked for a parameter twice with two different distributions.
    #[error(
        "parameter '{name}' was already suggested in this trial as {existing}, now asked as {requested}; \
         use one distribution per name within a trial"
    )]
    DistributionMismatch {
        /// The parameter's name.
        name: String,
        /// The distribution it was first asked with.
        existing: String,
        /// The distribution asked for now.
        requested: String,
    },
    /// A value does not belong to the distribution it is given for.
    #[error("parameter '{name}': value {value} is not in {distribution}")]
    ValueOutOfDistribution {
        /// The parameter's name.
        name: String,
        /// The value, as written by the user.
        value: String,
        /// The distribution it does not fit.
        distribution: String,
    },
    /// The number of values given does not match the number of objectives.
    #[error("expected {expected} objective value(s), got {got}; the study was created with {expected} direction(s)")]
    WrongNumberOfValues {
        /// Objectives of the study.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// Something about a study's configuration is invalid.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// No study of that name exists in the storage.
    #[error("no study named '{0}' in this storage; create it first, or check the name with the studies list")]
    StudyNotFound(String),
    /// A study of that name already exists.
    #[error("a study named '{0}' already exists; load it to resume, or choose another name")]
    StudyExists(String),
    /// No trial with that id or number.
    #[error("no trial {0} in this study")]
    TrialNotFound(String),
    /// A write named an attempt that no longer holds the trial (its lease expired and another
    /// worker reclaimed it, or it was already finished).
    #[error("trial {number} attempt {attempt} no longer holds its lease ({reason}); this write was refused")]
    StaleAttempt {
        /// Trial number.
        number: u64,
        /// The attempt that tried to write.
        attempt: u32,
        /// Why the lease is no longer held.
        reason: String,
    },
    /// The trial has already finished and cannot be changed.
    #[error("trial {0} has already finished; a finished trial cannot be changed")]
    TrialFinished(u64),
    /// The study has no completed trial yet, so there is no best trial.
    #[error("the study has no completed trial yet; run optimize or add a trial first")]
    NoCompletedTrials,
    /// Completed trials exist, but none is feasible.
    #[error("no completed trial satisfies all constraints (every constraint value must be <= 0)")]
    NoFeasibleTrial,
    /// A single-objective accessor was used on a study with several objectives.
    #[error("the study has {0} objectives; use best_trials() for the Pareto front")]
    MultiObjective(usize),
    /// The sampler has nothing left to propose (for example, every grid point was tried).
    #[error("the search space is exhausted: {0}")]
    SearchSpaceExhausted(String),
    /// The objective failed and the study was configured to stop on failure.
    #[error("trial {number} failed: {message}")]
    ObjectiveFailed {
        /// Trial number.
        number: u64,
        /// The objective's error message.
        message: String,
    },
    /// A sampler proposed something invalid or could not propose.
    #[error("sampler: {0}")]
    Sampler(String),
    /// A storage backend failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The storage URL is not understood.
    #[error("storage URL '{url}': {reason}")]
    StorageUrl {
        /// The URL as given.
        url: String,
        /// What is wrong, and how to fix it.
        reason: String,
    },
    /// Exporting the trials table failed.
    #[error("export: {0}")]
    Export(String),
    /// A lease could not be renewed within its duration.
    #[error("lease of {0:?} expired")]
    LeaseExpired(Duration),
}

impl Error {
    /// A shorthand for [`Error::InvalidDistribution`].
    pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> Self {
        Error::InvalidDistribution { name: name.to_owned(), reason: reason.into() }
    }
}

/// The result type of the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! The errors of building a figure.

/// Why a figure cannot be made from a study's trials.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The figure needs complete trials and there are none (with a value for the objective).
    #[error("the {figure} plot needs at least one complete trial, and the study has none; run some trials first")]
    NoCompleteTrials {
        /// The figure's name.
        figure: &'static str,
    },
    /// The objective index is not one of the study's objectives.
    #[error(
        "objective {index} does not exist: the study has {count} objective(s), numbered from 0"
    )]
    UnknownObjective {
        /// The index asked for.
        index: usize,
        /// How many objectives the study has.
        count: usize,
    },
    /// No trial has a parameter of this name.
    #[error("no trial has a parameter named '{name}'; the parameters are: {known}")]
    UnknownParam {
        /// The name asked for.
        name: String,
        /// The parameter names there are, comma-separated.
        known: String,
    },
    /// The figure needs a parameter to be named.
    #[error("the {figure} plot needs a parameter: name one of: {known}")]
    ParamNeeded {
        /// The figure's name.
        figure: &'static str,
        /// The parameter names there are, comma-separated.
        known: String,
    },
    /// The Pareto front plot needs two objectives.
    #[error("the Pareto front plot needs a study with at least two objectives, and this one has {count}")]
    NeedTwoObjectives {
        /// How many objectives the study has.
        count: usize,
    },
    /// No trial reported an intermediate value.
    #[error("no trial reported an intermediate value; report them with trial.report(step, value) or `tunewise report STEP VALUE`")]
    NoIntermediateValues,
    /// The figure needs more complete trials (with a value for the objective) than there are.
    #[error("the {figure} plot needs at least {needed} complete trials, and the study has {found}; run more trials first")]
    TooFewTrials {
        /// The figure's name.
        figure: &'static str,
        /// How many it needs.
        needed: usize,
        /// How many complete trials with a value there are.
        found: usize,
    },
    /// No parameter is shared, with one distribution and more than one possible value, by every
    /// complete trial (parameter importance compares the trials on common parameters).
    #[error("no parameter is shared, with one distribution, by every complete trial, so there is no importance to compare; the parameters are: {known}")]
    NoSharedParams {
        /// The parameter names there are, comma-separated.
        known: String,
    },
    /// The importance evaluator failed (its message says why and what to change).
    #[error("parameter importance: {0}")]
    Importance(String),
    /// No trial has started (the timeline needs start times).
    #[error("no trial has started yet, so there is no timeline; run some trials first")]
    NoStartedTrials,
}

/// The result of building a figure.
pub type Result<T> = std::result::Result<T, Error>;

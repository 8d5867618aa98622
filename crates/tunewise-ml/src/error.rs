//! The crate's one error type.

/// What can go wrong when loading data, splitting it, fitting a model or scoring it. Each
/// message names the problem and how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The data cannot be used as given (lengths differ, a NaN feature, a bad CSV cell…).
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// A setting is out of range (more folds than records, a test fraction outside (0, 1)…).
    #[error("invalid setting: {0}")]
    InvalidConfig(String),
    /// A model could not be fitted or used.
    #[error("model error: {0}")]
    Model(String),
    /// Reading a file failed.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The tuning engine refused something.
    #[error(transparent)]
    Tuning(#[from] tunewise_core::Error),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

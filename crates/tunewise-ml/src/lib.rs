//! Tuning real models with tunewise: datasets, splitters, metrics, estimators, cross-validation
//! inside a trial, the tune → refit → test workflow, and gradient-based tuning of regularization.
//!
//! This crate is being built (issue 6); its modules land one by one.
//!
//! # Concept map
//!
//! ```text
//! data             →  splitters                    →  metrics
//! Dataset             Splitter::splits(&data)         accuracy, f1, roc_auc, log_loss,
//!  ::new / from_csv    → Vec<Split { train, test }>   mse, rmse, mae, r2, …
//!  datasets::iris()   train_test_split, KFold,        precision_recall_curve
//!  select(&rows)      StratifiedKFold, GroupKFold,     → threshold_for(Target)
//!                     TimeSeriesSplit, …
//! ```
//!
//! - **Data**: a [`Dataset`] is a validated table of finite `f64` features (row-major), one
//!   target per row and optional group labels; load it from CSV ([`Dataset::from_csv`]), build
//!   it from rows ([`Dataset::new`]) or take a classic one from [`datasets`].
//! - **Splitters** decide which rows train and which rows test: a hold-out
//!   ([`train_test_split`]) or cross-validation folds (every type implementing [`Splitter`]).
//!   All are deterministic for a seed.
//! - **Metrics** score predictions against the truth; for binary scores,
//!   [`precision_recall_curve`] and [`threshold_for`] choose the decision threshold.
//!
//! # Example
//!
//! Cross-validating a trivial "predict the training majority class" model on iris:
//!
//! ```
//! use tunewise_ml::{accuracy, datasets, Splitter, StratifiedKFold};
//!
//! let data = datasets::iris()?;
//! let mut scores = Vec::new();
//! for split in StratifiedKFold::shuffled(5, 42).splits(&data)? {
//!     let (train, test) = (data.select(&split.train)?, data.select(&split.test)?);
//!     let counts = train.class_counts();
//!     let majority = counts.iter().max_by_key(|(_, n)| *n).map_or(0.0, |(c, _)| *c);
//!     let predicted = vec![majority; test.n_rows()];
//!     scores.push(accuracy(test.target(), &predicted)?);
//! }
//! let mean = scores.iter().sum::<f64>() / scores.len() as f64;
//! assert!((mean - 1.0 / 3.0).abs() < 0.01); // three balanced classes: chance level
//! # Ok::<(), tunewise_ml::Error>(())
//! ```
#![deny(missing_docs)]

mod data;
mod error;
mod metrics;
mod split;

pub use data::{datasets, Dataset};
pub use error::{Error, Result};
pub use metrics::{
    accuracy, balanced_accuracy, f1, log_loss, mae, mse, precision, precision_recall_curve, r2,
    recall, rmse, roc_auc, threshold_for, Average, CurvePoint, Target, LOG_LOSS_EPS,
};
pub use split::{
    train_test_split, train_test_split_n, GroupKFold, KFold, RepeatedKFold,
    RepeatedStratifiedKFold, ShuffleSplit, Split, Splitter, StratifiedKFold, TimeSeriesSplit,
};

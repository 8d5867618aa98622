//! Tuning real models with tunewise: datasets, splitters, metrics, estimators, cross-validation
//! inside a trial, the tune → refit → test workflow, and gradient-based tuning of regularization.
//!
//! This crate is being built (issue 6); its modules land one by one.
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

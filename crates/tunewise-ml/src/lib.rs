//! Tuning real models with tunewise: datasets, splitters, metrics, estimators, cross-validation
//! inside a trial, the tune → refit → test workflow, and gradient-based tuning of regularization.
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
//! - **Estimators** fit and predict: implement [`Estimator`] for your own model, or use an
//!   adapter around smartcore ([`LogisticRegression`], [`DecisionTree`], [`RandomForest`],
//!   [`Knn`], [`Svc`], [`Ridge`], [`Lasso`], [`ElasticNet`], [`Svr`]), whose hyperparameters
//!   are checked at `fit`.
//! - **Pipeline steps** wrap an estimator and are estimators themselves: [`Standardized`]
//!   scales each feature by the training rows' mean and standard deviation (SVMs, kNN and
//!   logistic regression need it), [`Thresholded`] predicts the positive class of a binary
//!   classifier from a chosen probability threshold.
//! - **Metrics** score predictions against the truth; for binary scores,
//!   [`precision_recall_curve`] and [`threshold_for`] choose the decision threshold. Any metric
//!   is a [`Scorer`]; [`on_probabilities`] scores probabilities instead of labels.
//! - **Cross-validation inside a trial**: [`cross_validate`] reports each fold's score to the
//!   trial (a pruner can stop a bad configuration after its first folds);
//!   [`cross_validate_parallel`] fits folds on several threads; [`cross_validate_many`] scores
//!   several metrics for a study with several objectives.
//! - **The workflow**: [`Workflow`] holds out a test set, tunes by cross-validation on the rest
//!   with any sampler and storage, refits the best configuration and tests it once; [`Tuned`]
//!   holds the model, the best parameters, the CV score ± spread, the test score and every
//!   trial's training/validation scores (the bias–variance gap), and prints as a summary.
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
//!
//! # Gradient-based tuning of a penalty λ
//!
//! - [`HyperProblem`]: a validation loss of λ with its exact derivative in `ln λ` (the
//!   *hypergradient*, by implicit differentiation of the training optimum: Bengio 2000,
//!   "Gradient-based optimization of hyperparameters"; Pedregosa 2016, "Hyperparameter
//!   optimization with approximate gradient").
//! - [`RidgeProblem`] (Cholesky fit, validation MSE) and [`LogisticProblem`] (Newton fit,
//!   validation log loss) implement it on one (train, validation) split; [`Folds`] averages
//!   it over K splits given as index lists (`cross_validated`).
//! - [`GradientSearch`]: a coarse grid of `ln λ`, then a bounded 1-D quasi-Newton descent on
//!   the hypergradient from the grid's best minima; [`SearchOutcome`] counts the fits.
//!   [`record_in_study`] stores every evaluation as a trial of a `tunewise_core::Study`, and
//!   [`GradientSearch::starts_from_study`] turns a study's best trials into starting points.
//!
//! ```
//! use tunewise_ml::{GradientSearch, RidgeProblem};
//!
//! // y = x0 − x1 with some disagreement between the two sets; one feature row per record.
//! let x_train = [0.0, 1.0, 1.0, 0.0, 2.0, 1.0, 3.0, 5.0, 4.0, 2.0, 1.0, 3.0];
//! let y_train = [-0.8, 1.1, 0.9, -2.2, 2.1, -1.9];
//! let x_val = [1.5, 0.5, 2.5, 4.0, 0.5, 2.0];
//! let y_val = [1.2, -1.3, -1.6];
//! let problem = RidgeProblem::new(&x_train, &y_train, &x_val, &y_val, 2)?;
//! // ln λ from −10 (λ ≈ 4.5e-5) to 5 (λ ≈ 148).
//! let search = GradientSearch::builder(-10.0, 5.0).build()?;
//! let best = search.run(&problem)?;
//! assert!(best.fits < 40 && best.best_lambda > 0.0);
//! # Ok::<(), tunewise_ml::Error>(())
//! ```
#![deny(missing_docs)]

mod cv;
mod data;
mod error;
mod estimator;
mod gradient;
mod metrics;
mod models;
mod pipeline;
mod split;
mod workflow;

pub use cv::{
    cross_validate, cross_validate_many, cross_validate_parallel, on_probabilities, CvScores,
    OnProbabilities, Scorer,
};
pub use data::{datasets, Dataset};
pub use error::{Error, Result};
pub use estimator::Estimator;
pub use gradient::{
    record_in_study, Evaluation, Folds, GradientSearch, GradientSearchBuilder, HyperLoss,
    HyperProblem, LogisticFit, LogisticProblem, RidgeFit, RidgeProblem, SearchOutcome, LOG_LAMBDA,
};
pub use metrics::{
    accuracy, balanced_accuracy, f1, log_loss, mae, mse, precision, precision_recall_curve, r2,
    recall, rmse, roc_auc, threshold_for, Average, CurvePoint, Target, LOG_LOSS_EPS,
};
pub use models::{
    DecisionTree, ElasticNet, Kernel, Knn, Lasso, LogisticRegression, RandomForest, Ridge, Svc, Svr,
};
pub use pipeline::{Standardized, Thresholded};
pub use split::{
    train_test_split, train_test_split_n, GroupKFold, KFold, RepeatedKFold,
    RepeatedStratifiedKFold, ShuffleSplit, Split, Splitter, StratifiedKFold, TimeSeriesSplit,
};
pub use workflow::{
    rule_of_thumb, Task, TrialScores, Tuned, Workflow, CV_ATTR, MIN_PER_CLASS, MIN_RECORDS,
};

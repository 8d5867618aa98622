//! Tuning real models with tunewise: datasets, splitters, metrics, estimators, cross-validation
//! inside a trial, the tune → refit → test workflow, and gradient-based tuning of regularization.
//!
//! This crate is being built (issue 6); its modules land one by one.
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

mod error;
mod gradient;

pub use error::{Error, Result};
pub use gradient::{
    record_in_study, Evaluation, Folds, GradientSearch, GradientSearchBuilder, HyperLoss,
    HyperProblem, LogisticFit, LogisticProblem, RidgeFit, RidgeProblem, SearchOutcome, LOG_LAMBDA,
};

//! Gradient-based tuning of a regularization strength λ.
//!
//! For models whose training optimum `w(λ)` is smooth in λ, the validation loss
//! `L(λ) = L_val(w(λ))` has an exact derivative. Implicit differentiation of the optimality
//! condition `∇_w F(w(λ), λ) = 0` of the training objective `F` gives
//! `dw/dλ = −H⁻¹ ∂²F/∂w∂λ`, where `H` is the Hessian of `F` at the optimum, so the
//! *hypergradient* is `dL/dλ = ∇_w L_valᵀ dw/dλ`: one extra linear solve with a matrix the
//! fit already factored (Bengio 2000, "Gradient-based optimization of hyperparameters",
//! Neural Computation 12(8); Pedregosa 2016, "Hyperparameter optimization with approximate
//! gradient", ICML, which also bounds what an inexact inner solve costs the gradient).
//!
//! Everything here works on `ln λ`: the loss varies on a log scale of λ, and a bounded
//! interval of `ln λ` is what a search explores.
//!
//! - [`RidgeProblem`]: ridge regression, fitted by Cholesky; validation mean squared error.
//! - [`LogisticProblem`]: L2-penalized logistic regression, fitted by Newton's method;
//!   validation mean log loss.
//! - [`Folds`]: the value and hypergradient averaged over K (train, validation) splits.
//! - [`GradientSearch`]: a coarse grid, then a bounded 1-D quasi-Newton descent from its
//!   best points on the exact hypergradient; [`record_in_study`] stores every evaluation as a
//!   trial of a [`tunewise_core::Study`].
//!
//! Inputs are plain: a row-major `&[f64]` feature matrix with its number of features and a
//! `&[f64]` of targets, or nalgebra matrices.

mod logistic;
mod ridge;
mod search;

use nalgebra::{DMatrix, DVector};

use crate::error::{Error, Result};

pub use logistic::{LogisticFit, LogisticProblem};
pub use ridge::{RidgeFit, RidgeProblem};
pub use search::{
    record_in_study, Evaluation, GradientSearch, GradientSearchBuilder, SearchOutcome, LOG_LAMBDA,
};

/// The validation loss at one λ and its exact derivative with respect to `ln λ`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HyperLoss {
    /// The validation loss `L(λ)`.
    pub value: f64,
    /// `dL / d ln λ = λ dL/dλ`.
    pub gradient: f64,
    /// How many models were fitted to compute it (K for K folds).
    pub fits: usize,
}

/// A validation loss of one continuous hyperparameter λ > 0 with its exact hypergradient.
///
/// Implemented by [`RidgeProblem`], [`LogisticProblem`] and [`Folds`]; a
/// [`GradientSearch`] minimizes any implementation over a bounded interval of `ln λ`.
pub trait HyperProblem {
    /// Fits the model(s) at `lambda` and returns the validation loss and `dL / d ln λ`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `lambda` is not finite and positive; [`Error::Model`]
    /// when a fit fails.
    fn hyper_loss(&self, lambda: f64) -> Result<HyperLoss>;
}

/// The mean of a [`HyperProblem`]'s value and hypergradient over several (train,
/// validation) splits: K-fold cross-validation of λ. Cost: K fits per evaluation.
#[derive(Debug, Clone)]
pub struct Folds<P> {
    problems: Vec<P>,
}

impl<P: HyperProblem> Folds<P> {
    /// Folds from one problem per split.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `problems` is empty.
    pub fn new(problems: Vec<P>) -> Result<Self> {
        if problems.is_empty() {
            return Err(Error::InvalidConfig(
                "folds: no (train, validation) split given; pass at least one".into(),
            ));
        }
        Ok(Folds { problems })
    }

    /// The problems, one per split.
    pub fn problems(&self) -> &[P] {
        &self.problems
    }
}

impl<P: HyperProblem> HyperProblem for Folds<P> {
    fn hyper_loss(&self, lambda: f64) -> Result<HyperLoss> {
        let k = self.problems.len() as f64;
        let mut total = HyperLoss { value: 0.0, gradient: 0.0, fits: 0 };
        for p in &self.problems {
            let h = p.hyper_loss(lambda)?;
            total.value += h.value / k;
            total.gradient += h.gradient / k;
            total.fits += h.fits;
        }
        Ok(total)
    }
}

impl<P: HyperProblem + ?Sized> HyperProblem for &P {
    fn hyper_loss(&self, lambda: f64) -> Result<HyperLoss> {
        (**self).hyper_loss(lambda)
    }
}

/// Refuses a λ that is not finite and positive.
pub(crate) fn check_lambda(lambda: f64) -> Result<()> {
    if lambda.is_finite() && lambda > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!(
            "lambda must be finite and > 0 (got {lambda}); the penalty strength λ is searched \
             on a log scale, so pass e.g. 1e-3"
        )))
    }
}

/// A row-major feature matrix as nalgebra's, checked: `x.len()` a non-zero multiple of
/// `n_features`, every entry finite.
pub(crate) fn matrix(x: &[f64], n_features: usize, what: &str) -> Result<DMatrix<f64>> {
    if n_features == 0 {
        return Err(Error::InvalidData(format!("{what} set: n_features must be at least 1")));
    }
    if x.is_empty() {
        return Err(Error::InvalidData(format!("{what} set is empty: it needs at least one row")));
    }
    if x.len() % n_features != 0 {
        return Err(Error::InvalidData(format!(
            "{what} set: the feature matrix has {} entries, not a multiple of n_features = \
             {n_features}",
            x.len()
        )));
    }
    Ok(DMatrix::from_row_slice(x.len() / n_features, n_features, x))
}

/// Checks a training and a validation set (each as [`check_set`]) and that they have the same
/// features.
pub(crate) fn check_sets(
    x_train: &DMatrix<f64>,
    y_train: &DVector<f64>,
    x_val: &DMatrix<f64>,
    y_val: &DVector<f64>,
) -> Result<()> {
    check_set(x_train, y_train, "training")?;
    check_set(x_val, y_val, "validation")?;
    if x_train.ncols() != x_val.ncols() {
        return Err(Error::InvalidData(format!(
            "the training set has {} features but the validation set has {}",
            x_train.ncols(),
            x_val.ncols()
        )));
    }
    Ok(())
}

/// Checks that a (features, targets) pair can be used: same number of rows, at least one
/// row, every entry finite.
pub(crate) fn check_set(x: &DMatrix<f64>, y: &DVector<f64>, what: &str) -> Result<()> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(Error::InvalidData(format!(
            "{what} set is empty ({} rows, {} features); it needs at least one row and one \
             feature",
            x.nrows(),
            x.ncols()
        )));
    }
    if x.nrows() != y.len() {
        return Err(Error::InvalidData(format!(
            "{what} set: {} feature rows but {} targets; lengths must match",
            x.nrows(),
            y.len()
        )));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        let (r, c) = (i % x.nrows(), i / x.nrows());
        return Err(Error::InvalidData(format!(
            "{what} set: feature {c} of row {r} is {} (NaN or infinite); clean or impute it",
            x[i]
        )));
    }
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidData(format!(
            "{what} set: target {i} is {} (NaN or infinite); clean or drop it",
            y[i]
        )));
    }
    Ok(())
}

/// The rows `idx` of `x` and `y`, for one split.
pub(crate) fn take_rows(
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    idx: &[usize],
    what: &str,
) -> Result<(DMatrix<f64>, DVector<f64>)> {
    if let Some(&i) = idx.iter().find(|&&i| i >= x.nrows()) {
        return Err(Error::InvalidData(format!(
            "{what} index {i} is out of range: the data has {} rows",
            x.nrows()
        )));
    }
    Ok((x.select_rows(idx), DVector::from_iterator(idx.len(), idx.iter().map(|&i| y[i]))))
}

/// Checks the splits are usable and turns each into (train, validation) sets.
#[allow(clippy::type_complexity)]
pub(crate) fn split_sets(
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    splits: &[(Vec<usize>, Vec<usize>)],
) -> Result<Vec<((DMatrix<f64>, DVector<f64>), (DMatrix<f64>, DVector<f64>))>> {
    if splits.is_empty() {
        return Err(Error::InvalidConfig(
            "folds: no (train, validation) split given; pass at least one".into(),
        ));
    }
    splits
        .iter()
        .enumerate()
        .map(|(k, (train, val))| {
            for (side, idx) in [("training", train), ("validation", val)] {
                if idx.is_empty() {
                    return Err(Error::InvalidData(format!(
                        "fold {k}: the {side} set is empty; every split needs indices on both \
                         sides"
                    )));
                }
            }
            Ok((
                take_rows(x, y, train, &format!("fold {k}: training"))?,
                take_rows(x, y, val, &format!("fold {k}: validation"))?,
            ))
        })
        .collect()
}

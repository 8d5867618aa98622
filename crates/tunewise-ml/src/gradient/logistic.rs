//! L2-penalized logistic regression and the exact hypergradient of its validation log loss.

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

use super::{
    check_lambda, check_set, check_sets, matrix, split_sets, Folds, HyperLoss, HyperProblem,
};
use crate::error::{Error, Result};

/// Newton iterations allowed; Newton on this strictly convex objective needs about ten.
const MAX_NEWTON: usize = 200;
/// The fit stops when the largest entry of the training objective's gradient is below this.
/// Tight on purpose: the hypergradient assumes an exact optimum, and an inexact one biases it
/// by about the gradient norm over the smallest Hessian eigenvalue (Pedregosa 2016 bounds
/// this error).
const GRAD_TOL: f64 = 1e-12;
/// Relative Newton decrement below which a last full Newton step ends the fit.
const POLISH: f64 = 1e-14;
/// Armijo sufficient-decrease constant of the backtracking line search.
const ARMIJO: f64 = 1e-4;

/// L2-penalized logistic regression on one (train, validation) split, as a function of λ.
///
/// **What.** Labels are 0 or 1. With `θ = (w, b)` (coefficients and an unpenalized
/// intercept) the fit minimizes the training objective
/// `F(θ) = (1/n) Σ [log(1 + e^{z_i}) − y_i z_i] + (λ/2) ||w||²`, `z_i = x_iᵀw + b`, by
/// Newton's method (iteratively reweighted least squares) with a backtracking Armijo line
/// search, to a gradient of at most 1e-12 in every entry. The validation loss is the mean log
/// loss on the validation set.
///
/// **Hypergradient.** Differentiating `∇F(θ(λ)) = 0` gives `dθ/dλ = −H⁻¹ w_pen`, where `H`
/// is the Hessian of `F` at the optimum and `w_pen` is θ with the intercept entry zeroed, so
/// `dL/d ln λ = −λ ∇_θ L_valᵀ H⁻¹ w_pen` (Bengio 2000; Pedregosa 2016). `H` is the
/// Cholesky factor the last Newton step already computed, so the gradient costs two
/// triangular solves.
///
/// **Separable data.** Without a penalty a separable training set has no optimum (the
/// weights grow forever); with λ > 0 the objective is strictly convex in `w` and the
/// intercept stays finite as long as both classes are present, so the fit always converges.
/// A training set with one class only is refused.
///
/// **When.** Tuning the penalty of a linear classifier scored by log loss.
///
/// **Cost.** Per λ, about 5 to 15 Newton steps, each `O(n p²)` for the Hessian plus a
/// Cholesky `O(p³)`; the hypergradient adds `O(m p)`.
#[derive(Debug, Clone)]
pub struct LogisticProblem {
    /// Training features with a last column of ones (the intercept).
    x_train: DMatrix<f64>,
    y_train: DVector<f64>,
    /// Validation features with a last column of ones.
    x_val: DMatrix<f64>,
    y_val: DVector<f64>,
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticFit {
    /// The coefficients, one per feature.
    pub weights: DVector<f64>,
    /// The (unpenalized) intercept.
    pub intercept: f64,
    /// Newton iterations used.
    pub iterations: usize,
}

impl LogisticFit {
    /// The probability of class 1 for each row of `x` (one column per feature).
    ///
    /// # Errors
    /// [`Error::InvalidData`] when `x` does not have one column per coefficient.
    pub fn predict_proba(&self, x: &DMatrix<f64>) -> Result<DVector<f64>> {
        if x.ncols() != self.weights.len() {
            return Err(Error::InvalidData(format!(
                "logistic predict: {} feature columns but the model has {} coefficients",
                x.ncols(),
                self.weights.len()
            )));
        }
        Ok((x * &self.weights).map(|z| sigmoid(z + self.intercept)))
    }
}

/// `log(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// `1 / (1 + e^{−z})` without overflow.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Mean log loss of the linear scores `x θ` against 0/1 labels.
fn mean_log_loss(x: &DMatrix<f64>, y: &DVector<f64>, theta: &DVector<f64>) -> f64 {
    let z = x * theta;
    z.iter().zip(y.iter()).map(|(&z, &y)| softplus(z) - y * z).sum::<f64>() / y.len() as f64
}

/// `(1/n) xᵀ(σ(xθ) − y)`: the gradient of the mean log loss.
fn log_loss_gradient(x: &DMatrix<f64>, y: &DVector<f64>, theta: &DVector<f64>) -> DVector<f64> {
    let r = (x * theta).map(sigmoid) - y;
    x.tr_mul(&r) / y.len() as f64
}

fn with_ones(x: &DMatrix<f64>) -> DMatrix<f64> {
    let p = x.ncols();
    x.clone().insert_column(p, 1.0)
}

fn check_labels(y: &DVector<f64>, what: &str) -> Result<()> {
    if let Some(i) = y.iter().position(|&v| v != 0.0 && v != 1.0) {
        return Err(Error::InvalidData(format!(
            "{what} set: label {i} is {}; logistic regression needs labels 0 or 1",
            y[i]
        )));
    }
    Ok(())
}

impl LogisticProblem {
    /// A problem from row-major feature matrices (`n_features` values per row) and 0/1
    /// labels.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when a set is empty, a matrix is not a whole number of rows,
    /// features and labels differ in length, the sets differ in features, an entry is NaN or
    /// infinite, a label is not 0 or 1, or the training labels are all of one class.
    pub fn new(
        x_train: &[f64],
        y_train: &[f64],
        x_val: &[f64],
        y_val: &[f64],
        n_features: usize,
    ) -> Result<Self> {
        Self::from_matrices(
            &matrix(x_train, n_features, "training")?,
            &DVector::from_column_slice(y_train),
            &matrix(x_val, n_features, "validation")?,
            &DVector::from_column_slice(y_val),
        )
    }

    /// A problem from nalgebra matrices (one row per record).
    ///
    /// # Errors
    /// As [`LogisticProblem::new`].
    pub fn from_matrices(
        x_train: &DMatrix<f64>,
        y_train: &DVector<f64>,
        x_val: &DMatrix<f64>,
        y_val: &DVector<f64>,
    ) -> Result<Self> {
        check_sets(x_train, y_train, x_val, y_val)?;
        check_labels(y_train, "training")?;
        check_labels(y_val, "validation")?;
        let ones = y_train.sum();
        if ones == 0.0 || ones == y_train.len() as f64 {
            return Err(Error::InvalidData(format!(
                "training set: every label is {}; logistic regression needs both classes \
                 (the intercept would be infinite)",
                y_train[0]
            )));
        }
        Ok(LogisticProblem {
            x_train: with_ones(x_train),
            y_train: y_train.clone(),
            x_val: with_ones(x_val),
            y_val: y_val.clone(),
        })
    }

    /// One problem per (train indices, validation indices) split of one data set, averaged
    /// by [`Folds`]: K-fold cross-validation of λ.
    ///
    /// # Errors
    /// As [`LogisticProblem::new`] for each split, and [`Error::InvalidData`] for an index
    /// out of range or an empty side of a split; [`Error::InvalidConfig`] when `splits` is
    /// empty.
    pub fn cross_validated(
        x: &[f64],
        y: &[f64],
        n_features: usize,
        splits: &[(Vec<usize>, Vec<usize>)],
    ) -> Result<Folds<LogisticProblem>> {
        let xm = matrix(x, n_features, "full")?;
        let yv = DVector::from_column_slice(y);
        check_set(&xm, &yv, "full")?;
        let sets = split_sets(&xm, &yv, splits)?;
        let problems = sets
            .iter()
            .map(|((xt, yt), (xv, yv))| LogisticProblem::from_matrices(xt, yt, xv, yv))
            .collect::<Result<Vec<_>>>()?;
        Folds::new(problems)
    }

    /// The training objective `F(θ)`.
    fn objective(&self, theta: &DVector<f64>, lambda: f64) -> f64 {
        let p = theta.len() - 1;
        mean_log_loss(&self.x_train, &self.y_train, theta)
            + 0.5 * lambda * theta.rows(0, p).norm_squared()
    }

    /// The Hessian `(1/n) Xᵀ diag(σ(1 − σ)) X + λ P`, factored.
    fn hessian(&self, theta: &DVector<f64>, lambda: f64) -> Result<Cholesky<f64, Dyn>> {
        let n = self.x_train.nrows() as f64;
        let s = (&self.x_train * theta).map(|z| {
            let q = sigmoid(z);
            q * (1.0 - q) / n
        });
        let mut weighted = self.x_train.clone();
        for (mut row, &si) in weighted.row_iter_mut().zip(s.iter()) {
            row *= si;
        }
        let mut h = self.x_train.tr_mul(&weighted);
        let p = theta.len() - 1;
        for j in 0..p {
            h[(j, j)] += lambda;
        }
        Cholesky::new(h).ok_or_else(|| {
            Error::Model(format!(
                "logistic regression: the Hessian is not numerically positive definite at \
                 λ = {lambda} (the intercept's curvature vanished: the classes are separated \
                 by the intercept alone); use a larger λ or rescale the features"
            ))
        })
    }

    /// Newton's method from the log-odds of the training labels; returns θ and the factored
    /// Hessian at it.
    fn solve(&self, lambda: f64) -> Result<(DVector<f64>, Cholesky<f64, Dyn>, usize)> {
        check_lambda(lambda)?;
        let p = self.x_train.ncols() - 1;
        let mut theta = DVector::zeros(p + 1);
        let rate = self.y_train.mean();
        theta[p] = (rate / (1.0 - rate)).ln();
        let mut f = self.objective(&theta, lambda);
        for it in 0..MAX_NEWTON {
            let mut g = log_loss_gradient(&self.x_train, &self.y_train, &theta);
            for j in 0..p {
                g[j] += lambda * theta[j];
            }
            let h = self.hessian(&theta, lambda)?;
            if g.amax() <= GRAD_TOL {
                return Ok((theta, h, it));
            }
            let d = -h.solve(&g);
            let slope = g.dot(&d);
            // The Newton decrement −gᵀd ≈ 2 (F − F*). Once it is this small, F cannot be
            // compared any more in floating point (the gradient sits at its rounding floor
            // on separable data), but the full Newton step is still exact to second order:
            // take it and stop.
            if -slope <= POLISH * f.abs().max(1.0) {
                theta += d;
                let h = self.hessian(&theta, lambda)?;
                return Ok((theta, h, it + 1));
            }
            // A few ulps of slack: F is only known to rounding.
            let slack = 4.0 * f64::EPSILON * f.abs();
            let mut t = 1.0;
            loop {
                let candidate = &theta + &d * t;
                let fc = self.objective(&candidate, lambda);
                if fc <= f + ARMIJO * t * slope + slack {
                    theta = candidate;
                    f = fc;
                    break;
                }
                t *= 0.5;
                if t < 1e-12 {
                    return Err(Error::Model(format!(
                        "logistic regression at λ = {lambda}: the line search found no \
                         decrease (gradient {:.3e}); rescale the features",
                        g.amax()
                    )));
                }
            }
        }
        Err(Error::Model(format!(
            "logistic regression at λ = {lambda}: Newton's method did not converge in \
             {MAX_NEWTON} steps; rescale the features or use a larger λ"
        )))
    }

    /// Fits the model at `lambda`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `lambda` is not finite and positive; [`Error::Model`]
    /// when Newton's method fails (only on badly scaled features).
    pub fn fit(&self, lambda: f64) -> Result<LogisticFit> {
        let (theta, _, iterations) = self.solve(lambda)?;
        let p = theta.len() - 1;
        Ok(LogisticFit { weights: theta.rows(0, p).into_owned(), intercept: theta[p], iterations })
    }
}

impl HyperProblem for LogisticProblem {
    fn hyper_loss(&self, lambda: f64) -> Result<HyperLoss> {
        let (theta, h, _) = self.solve(lambda)?;
        let p = theta.len() - 1;
        let value = mean_log_loss(&self.x_val, &self.y_val, &theta);
        let grad_val = log_loss_gradient(&self.x_val, &self.y_val, &theta);
        let mut w_pen = theta;
        w_pen[p] = 0.0;
        let gradient = -lambda * grad_val.dot(&h.solve(&w_pen));
        Ok(HyperLoss { value, gradient, fits: 1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softplus_and_sigmoid_are_stable_at_extremes() {
        assert_eq!(softplus(-800.0), 0.0);
        assert_eq!(softplus(800.0), 800.0);
        assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-15);
        assert_eq!(sigmoid(-800.0), 0.0);
        assert_eq!(sigmoid(800.0), 1.0);
    }

    #[test]
    fn separable_data_gives_finite_weights_that_grow_as_lambda_shrinks() {
        // x < 0 is class 0, x > 0 class 1: perfectly separable.
        let x = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0];
        let y = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let p = LogisticProblem::new(&x, &y, &x, &y, 1).unwrap();
        let mut last = 0.0;
        for l in [1.0, 1e-2, 1e-4] {
            let f = p.fit(l).unwrap();
            assert!(f.weights[0].is_finite() && f.weights[0] > last, "{l}: {f:?}");
            last = f.weights[0];
        }
        assert!(last > 5.0, "{last}");
    }

    #[test]
    fn one_class_and_bad_labels_are_refused() {
        let x = [1.0, 2.0];
        let e = LogisticProblem::new(&x, &[1.0, 1.0], &x, &[0.0, 1.0], 1).unwrap_err();
        assert!(e.to_string().contains("both classes"), "{e}");
        let e = LogisticProblem::new(&x, &[0.0, 2.0], &x, &[0.0, 1.0], 1).unwrap_err();
        assert!(e.to_string().contains("labels 0 or 1"), "{e}");
    }
}

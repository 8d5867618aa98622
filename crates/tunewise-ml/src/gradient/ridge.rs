//! Ridge regression and the exact hypergradient of its validation error.

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

use super::{
    check_lambda, check_set, check_sets, matrix, split_sets, Folds, HyperLoss, HyperProblem,
};
use crate::error::{Error, Result};

/// Ridge regression on one (train, validation) split, as a function of its penalty λ.
///
/// **What.** For λ > 0 the fit is
/// `w(λ) = argmin_w ||X_c w − y_c||² / n + λ ||w||²` on the training set with its columns and
/// targets centred (so the intercept `b = ȳ − x̄ᵀw` is not penalized), solved by a Cholesky
/// factorization of `A = X_cᵀX_c / n + λI`. The validation loss is the mean squared error
/// `L(λ) = ||X_val w + b − y_val||² / m`.
///
/// **Hypergradient.** The optimality condition `A w = X_cᵀy_c / n` differentiated in λ gives
/// `dw/dλ = −A⁻¹ w` (the intercept follows `w` through the centring), so
/// `dL/d ln λ = λ ∇_w Lᵀ dw/dλ = −λ ∇_w Lᵀ A⁻¹ w` with `∇_w L = 2 X̃_valᵀ r / m`, where
/// `X̃_val` is the validation matrix centred by the training means and `r` the validation
/// residuals (the implicit-function argument of Bengio 2000).
///
/// **When.** Tuning λ of a linear least-squares model, or as a fast exact test case for a
/// search on hypergradients.
///
/// **Cost.** `O(n p²)` once (the Gram matrix); then per λ one Cholesky `O(p³)`, two
/// triangular solves and `O(m p)` for the validation loss. The validation gradient costs one
/// more pair of triangular solves, nearly free beside the fit.
#[derive(Debug, Clone)]
pub struct RidgeProblem {
    gram: DMatrix<f64>,
    xty: DVector<f64>,
    x_mean: DVector<f64>,
    y_mean: f64,
    /// Validation features minus the training means.
    x_val: DMatrix<f64>,
    /// Validation targets minus the training mean.
    y_val: DVector<f64>,
}

/// A fitted ridge model.
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeFit {
    /// The coefficients, one per feature.
    pub weights: DVector<f64>,
    /// The (unpenalized) intercept.
    pub intercept: f64,
}

impl RidgeFit {
    /// Predictions for the rows of `x` (one column per feature).
    ///
    /// # Errors
    /// [`Error::InvalidData`] when `x` does not have one column per coefficient.
    pub fn predict(&self, x: &DMatrix<f64>) -> Result<DVector<f64>> {
        if x.ncols() != self.weights.len() {
            return Err(Error::InvalidData(format!(
                "ridge predict: {} feature columns but the model has {} coefficients",
                x.ncols(),
                self.weights.len()
            )));
        }
        Ok(x * &self.weights + DVector::from_element(x.nrows(), self.intercept))
    }
}

impl RidgeProblem {
    /// A problem from row-major feature matrices (`n_features` values per row) and targets.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when a set is empty, a matrix is not a whole number of rows,
    /// features and targets differ in length, the two sets differ in features, or an entry is
    /// NaN or infinite.
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
    /// As [`RidgeProblem::new`].
    pub fn from_matrices(
        x_train: &DMatrix<f64>,
        y_train: &DVector<f64>,
        x_val: &DMatrix<f64>,
        y_val: &DVector<f64>,
    ) -> Result<Self> {
        check_sets(x_train, y_train, x_val, y_val)?;
        let n = x_train.nrows() as f64;
        let x_mean = x_train.row_mean().transpose();
        let y_mean = y_train.mean();
        let mut xc = x_train.clone();
        let mut xv = x_val.clone();
        for (j, &mu) in x_mean.iter().enumerate() {
            xc.column_mut(j).add_scalar_mut(-mu);
            xv.column_mut(j).add_scalar_mut(-mu);
        }
        let yc = y_train.add_scalar(-y_mean);
        let gram = xc.tr_mul(&xc) / n;
        let xty = xc.tr_mul(&yc) / n;
        Ok(RidgeProblem { gram, xty, x_mean, y_mean, x_val: xv, y_val: y_val.add_scalar(-y_mean) })
    }

    /// One problem per (train indices, validation indices) split of one data set, averaged
    /// by [`Folds`]: K-fold cross-validation of λ.
    ///
    /// # Errors
    /// As [`RidgeProblem::new`], and [`Error::InvalidData`] for an index out of range or an
    /// empty side of a split; [`Error::InvalidConfig`] when `splits` is empty.
    pub fn cross_validated(
        x: &[f64],
        y: &[f64],
        n_features: usize,
        splits: &[(Vec<usize>, Vec<usize>)],
    ) -> Result<Folds<RidgeProblem>> {
        let xm = matrix(x, n_features, "full")?;
        let yv = DVector::from_column_slice(y);
        check_set(&xm, &yv, "full")?;
        let sets = split_sets(&xm, &yv, splits)?;
        let problems = sets
            .iter()
            .map(|((xt, yt), (xv, yv))| RidgeProblem::from_matrices(xt, yt, xv, yv))
            .collect::<Result<Vec<_>>>()?;
        Folds::new(problems)
    }

    fn factor(&self, lambda: f64) -> Result<Cholesky<f64, Dyn>> {
        check_lambda(lambda)?;
        let p = self.gram.nrows();
        let a = &self.gram + DMatrix::<f64>::identity(p, p) * lambda;
        // X_cᵀX_c/n is positive semi-definite, so A is positive definite for λ > 0; only a λ
        // lost in rounding beside a huge Gram matrix can fail here.
        Cholesky::new(a).ok_or_else(|| {
            Error::Model(format!(
                "ridge: X'X/n + λI is not numerically positive definite at λ = {lambda}; \
                 scale the features or use a larger λ"
            ))
        })
    }

    /// Fits the model at `lambda`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `lambda` is not finite and positive.
    pub fn fit(&self, lambda: f64) -> Result<RidgeFit> {
        let chol = self.factor(lambda)?;
        let weights = chol.solve(&self.xty);
        let intercept = self.y_mean - self.x_mean.dot(&weights);
        Ok(RidgeFit { weights, intercept })
    }
}

impl HyperProblem for RidgeProblem {
    fn hyper_loss(&self, lambda: f64) -> Result<HyperLoss> {
        let chol = self.factor(lambda)?;
        let w = chol.solve(&self.xty);
        let m = self.x_val.nrows() as f64;
        let r = &self.x_val * &w - &self.y_val;
        let value = r.norm_squared() / m;
        let grad_w = self.x_val.tr_mul(&r) * (2.0 / m);
        let a_inv_w = chol.solve(&w);
        let gradient = -lambda * grad_w.dot(&a_inv_w);
        Ok(HyperLoss { value, gradient, fits: 1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem() -> RidgeProblem {
        // y = 2 x0 − x1 + 3 with a little structured noise.
        let xt = [0.0, 1.0, 1.0, 0.0, 2.0, 1.0, 3.0, 5.0, 4.0, 2.0, 1.0, 3.0];
        let yt: Vec<f64> = xt
            .chunks(2)
            .enumerate()
            .map(|(i, r)| 2.0 * r[0] - r[1] + 3.0 + 0.1 * (i as f64 - 2.5))
            .collect();
        let xv = [1.5, 0.5, 2.5, 4.0, 0.5, 2.0];
        let yv = [5.4, 3.9, 2.1];
        RidgeProblem::new(&xt, &yt, &xv, &yv, 2).unwrap()
    }

    #[test]
    fn tiny_lambda_recovers_least_squares_and_large_lambda_shrinks() {
        let p = problem();
        let f = p.fit(1e-10).unwrap();
        assert!((f.weights[0] - 2.0).abs() < 0.1 && (f.weights[1] + 1.0).abs() < 0.1);
        let g = p.fit(1e6).unwrap();
        assert!(g.weights.norm() < 1e-4, "{}", g.weights);
        // With w ≈ 0 the intercept is the mean training target (14 / 3 here).
        assert!((g.intercept - 14.0 / 3.0).abs() < 1e-3, "{}", g.intercept);
    }

    #[test]
    fn hypergradient_matches_finite_differences() {
        let p = problem();
        for &l in &[1e-3, 0.1, 1.0] {
            let h = p.hyper_loss(l).unwrap();
            let e: f64 = 1e-5;
            let fd = (p.hyper_loss(l * e.exp()).unwrap().value
                - p.hyper_loss(l * (-e).exp()).unwrap().value)
                / (2.0 * e);
            assert!((h.gradient - fd).abs() <= 1e-6 * fd.abs().max(1e-8), "{l}: {h:?} vs {fd}");
        }
    }

    #[test]
    fn bad_lambda_is_refused() {
        let p = problem();
        for l in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = p.hyper_loss(l).unwrap_err().to_string();
            assert!(e.contains("lambda"), "{e}");
        }
    }
}

//! The [`Estimator`] trait: what a model must do to be tuned, cross-validated and scored.

use crate::{Dataset, Result};

/// A model that learns from a [`Dataset`] and predicts one value per row.
///
/// Implement it for your own model to tune it with this crate; the adapters in this crate
/// ([`LogisticRegression`](crate::LogisticRegression), [`RandomForest`](crate::RandomForest),
/// [`Ridge`](crate::Ridge), …) implement it around smartcore models.
///
/// - [`fit`](Estimator::fit) trains on the features and target of `data`, replacing any
///   earlier fit. It validates the hyperparameters first and refuses bad ones with an error
///   naming the field.
/// - [`predict`](Estimator::predict) returns one prediction per row of `features` (its target
///   is ignored): a class label for a classifier, a value for a regressor. Calling it before
///   `fit` is an [`Error::Model`](crate::Error::Model).
/// - [`predict_proba`](Estimator::predict_proba) returns, for a binary classifier that has
///   probabilities, the probability of the *larger* of the two class labels (the positive
///   class, e.g. `1.0` against `0.0`) for each row; `Ok(None)` otherwise (the default).
///
/// Estimators are `Send + Sync` so that trials can run on several threads.
///
/// ```
/// use tunewise_ml::{Dataset, Estimator, Result};
///
/// /// Predicts the mean of the training target.
/// #[derive(Default)]
/// struct MeanModel(Option<f64>);
///
/// impl Estimator for MeanModel {
///     fn fit(&mut self, data: &Dataset) -> Result<()> {
///         self.0 = Some(data.target().iter().sum::<f64>() / data.n_rows() as f64);
///         Ok(())
///     }
///     fn predict(&self, features: &Dataset) -> Result<Vec<f64>> {
///         let mean = self.0.ok_or_else(|| tunewise_ml::Error::Model("not fitted".into()))?;
///         Ok(vec![mean; features.n_rows()])
///     }
/// }
///
/// let data = Dataset::new(vec![vec![0.0], vec![1.0]], vec![1.0, 3.0])?;
/// let mut model = MeanModel::default();
/// model.fit(&data)?;
/// assert_eq!(model.predict(&data)?, vec![2.0, 2.0]);
/// # Ok::<(), tunewise_ml::Error>(())
/// ```
pub trait Estimator: Send + Sync {
    /// Trains the model on the features and target of `data`.
    fn fit(&mut self, data: &Dataset) -> Result<()>;

    /// Predicts one value per row of `features` (class labels or regression values).
    fn predict(&self, features: &Dataset) -> Result<Vec<f64>>;

    /// For a binary classifier with probabilities: the probability of the larger class label
    /// for each row. `Ok(None)` when the model has none (the default).
    fn predict_proba(&self, features: &Dataset) -> Result<Option<Vec<f64>>> {
        let _ = features;
        Ok(None)
    }
}

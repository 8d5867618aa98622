//! Cross-validation inside a trial: one score per fold, each reported as it comes so that a
//! pruner can stop a bad configuration after its first folds.

use tunewise_core::{Trial, TrialError};

use crate::data::Dataset;
use crate::error::Result;
use crate::estimator::Estimator;
use crate::split::Splitter;

/// The scores of one cross-validation: per fold, on the validation rows and on the training
/// rows (the gap between the two is the bias-variance diagnostic: a model far better on its
/// training rows than on unseen ones overfits).
#[derive(Debug, Clone, PartialEq)]
pub struct CvScores {
    /// The metric on each fold's validation rows, in fold order.
    pub validation: Vec<f64>,
    /// The metric on each fold's training rows, in fold order.
    pub train: Vec<f64>,
}

impl CvScores {
    /// The mean validation score (the cross-validated score).
    pub fn mean(&self) -> f64 {
        mean(&self.validation)
    }

    /// The sample standard deviation of the validation scores (0 with one fold).
    pub fn std(&self) -> f64 {
        std(&self.validation)
    }

    /// The mean training score.
    pub fn train_mean(&self) -> f64 {
        mean(&self.train)
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn std(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// Cross-validates a model inside a trial.
///
/// For each split of `data` by `splitter`, in order: a fresh model from `make` is fitted on the
/// training rows and scored by `metric(truth, predictions)` on the validation rows and on the
/// training rows. The validation score of fold `i` is reported to the trial as the intermediate
/// value of step `i` ([`Trial::report`]); then, if the study's pruner says so, the trial stops
/// there with [`TrialError::Pruned`], and the remaining folds are never fitted.
///
/// Errors (a model that cannot be fitted, a metric that refuses its input, a splitter that does
/// not fit the data) become [`TrialError::Failed`] with their message, so an objective can use
/// `?` on the result and the study records the failure and goes on.
///
/// Folds run one after the other: the study's own threads (`optimize_parallel`) already keep the
/// cores busy with whole trials.
///
/// ```
/// use tunewise_core::{Budget, Study, TrialError};
/// use tunewise_ml::{accuracy, cross_validate, datasets, Knn, StratifiedKFold};
///
/// let data = datasets::iris()?;
/// let study = Study::builder().maximize().seed(1).create()?;
/// study.optimize(
///     |trial| -> Result<f64, TrialError> {
///         let k = trial.suggest_int("k", 2, 15)? as usize;
///         let folds = StratifiedKFold::shuffled(5, 0);
///         let scores = cross_validate(trial, &data, &folds, || Knn::new(k), accuracy)?;
///         Ok(scores.mean())
///     },
///     Budget::trials(3),
/// )?;
/// assert!(study.best_value()? > 0.9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn cross_validate<E, S>(
    trial: &mut Trial,
    data: &Dataset,
    splitter: &S,
    make: impl Fn() -> E,
    metric: impl Fn(&[f64], &[f64]) -> Result<f64>,
) -> std::result::Result<CvScores, TrialError>
where
    E: Estimator,
    S: Splitter + ?Sized,
{
    let mut scores = CvScores { validation: Vec::new(), train: Vec::new() };
    for (step, split) in splitter.splits(data)?.into_iter().enumerate() {
        let train = data.select(&split.train)?;
        let validation = data.select(&split.test)?;
        let mut model = make();
        model.fit(&train)?;
        let score = metric(validation.target(), &model.predict(&validation)?)?;
        let train_score = metric(train.target(), &model.predict(&train)?)?;
        scores.validation.push(score);
        scores.train.push(train_score);
        trial.report(step as u64, score)?;
        if trial.should_prune()? {
            return Err(TrialError::Pruned);
        }
    }
    Ok(scores)
}

//! Cross-validation inside a trial: one score per fold, each reported as it comes so that a
//! pruner can stop a bad configuration after its first folds; folds on one thread or several.

use std::time::{Duration, Instant};

use tunewise_core::{Trial, TrialError};

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::estimator::Estimator;
use crate::split::{Split, Splitter};

/// How a fitted model is scored on a set of rows.
///
/// Every metric of this crate with the shape `fn(truth, predictions) -> Result<f64>`
/// ([`accuracy`](crate::accuracy), [`f1`](crate::f1)'s closures, [`r2`](crate::r2),
/// [`mse`](crate::mse), …) is a scorer on the model's predictions as it is. Metrics of
/// probabilities ([`roc_auc`](crate::roc_auc), [`log_loss`](crate::log_loss)) become scorers
/// with [`on_probabilities`].
pub trait Scorer: Send + Sync {
    /// The score of `model` (fitted) on the rows of `data`, against `data`'s target.
    fn score(&self, model: &dyn Estimator, data: &Dataset) -> Result<f64>;
}

impl<F> Scorer for F
where
    F: Fn(&[f64], &[f64]) -> Result<f64> + Send + Sync,
{
    fn score(&self, model: &dyn Estimator, data: &Dataset) -> Result<f64> {
        self(data.target(), &model.predict(data)?)
    }
}

/// A metric applied to the model's probabilities of the positive class
/// ([`Estimator::predict_proba`]) instead of its predicted labels. Made by
/// [`on_probabilities`].
#[derive(Debug, Clone, Copy)]
pub struct OnProbabilities<F>(F);

/// Scores a model by `metric(truth, probabilities)`: for [`roc_auc`](crate::roc_auc) and
/// [`log_loss`](crate::log_loss). A model without probabilities is refused with an error
/// naming the problem.
///
/// ```
/// use tunewise_ml::{datasets, on_probabilities, roc_auc, Estimator, LogisticRegression, Scorer};
///
/// let data = datasets::breast_cancer()?;
/// let mut model = LogisticRegression::new(1.0);
/// model.fit(&data)?;
/// let auc = on_probabilities(|t, p| roc_auc(t, p, 1.0)).score(&model, &data)?;
/// assert!(auc > 0.9);
/// # Ok::<(), tunewise_ml::Error>(())
/// ```
pub fn on_probabilities<F>(metric: F) -> OnProbabilities<F>
where
    F: Fn(&[f64], &[f64]) -> Result<f64> + Send + Sync,
{
    OnProbabilities(metric)
}

impl<F> Scorer for OnProbabilities<F>
where
    F: Fn(&[f64], &[f64]) -> Result<f64> + Send + Sync,
{
    fn score(&self, model: &dyn Estimator, data: &Dataset) -> Result<f64> {
        let probabilities = model.predict_proba(data)?.ok_or_else(|| {
            Error::Model(
                "this metric needs probabilities but the model has none (predict_proba returned \
                 None); use a metric of predicted labels, or a binary classifier with \
                 probabilities such as LogisticRegression"
                    .into(),
            )
        })?;
        (self.0)(data.target(), &probabilities)
    }
}

/// The scores of one cross-validation: per fold, on the validation rows and on the training
/// rows (the gap between the two is the bias-variance diagnostic: a model far better on its
/// training rows than on unseen ones overfits).
#[derive(Debug, Clone, PartialEq)]
pub struct CvScores {
    /// The metric on each fold's validation rows, in fold order.
    pub validation: Vec<f64>,
    /// The metric on each fold's training rows, in fold order.
    pub train: Vec<f64>,
    /// The time spent fitting, predicting and scoring, summed over the folds (with folds on
    /// several threads, more than the wall-clock time; with several scorers, the same for
    /// each, as they score the same models). The rest of a trial's time is the
    /// framework's: splitting, bookkeeping, sampling, storage.
    pub model_time: Duration,
}

impl CvScores {
    fn empty() -> Self {
        CvScores { validation: Vec::new(), train: Vec::new(), model_time: Duration::ZERO }
    }

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

pub(crate) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

pub(crate) fn std(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// Cross-validates a model inside a trial, one fold after the other.
///
/// For each split of `data` by `splitter`, in order: a fresh model from `make` is fitted on the
/// training rows and scored by `scorer` on the validation rows and on the training rows. The
/// validation score of fold `i` is reported to the trial as the intermediate value of step `i`
/// ([`Trial::report`]); then, if the study's pruner says so, the trial stops there with
/// [`TrialError::Pruned`], and the remaining folds are never fitted.
///
/// Errors (a model that cannot be fitted, a metric that refuses its input, a splitter that does
/// not fit the data) become [`TrialError::Failed`] with their message, so an objective can use
/// `?` on the result and the study records the failure and goes on.
///
/// [`cross_validate_parallel`] runs folds on several threads; [`cross_validate_many`] scores
/// several metrics at once (for a study with several objectives).
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
    scorer: impl Scorer,
) -> std::result::Result<CvScores, TrialError>
where
    E: Estimator,
    S: Splitter + ?Sized,
{
    cross_validate_parallel(trial, data, splitter, make, scorer, 1)
}

/// [`cross_validate`] with up to `threads` folds fitted at the same time.
///
/// Folds run in batches of `threads`; each batch's scores are reported in fold order once the
/// batch is done, and the pruner is asked after each report. Pruning can therefore only save
/// the batches after the one that revealed a bad configuration: with as many threads as folds
/// it saves nothing. Use it when trials run one at a time (one worker, a model that is slow to
/// fit); with [`Study::optimize_parallel`](tunewise_core::Study::optimize_parallel) the trials
/// already keep the cores busy. `threads` = 0 is taken as 1. The scores do not depend on the
/// number of threads.
///
/// ```
/// use tunewise_core::Study;
/// use tunewise_ml::{cross_validate_parallel, datasets, r2, KFold, Ridge};
///
/// let data = datasets::diabetes()?;
/// let study = Study::builder().maximize().create()?;
/// let mut trial = study.ask()?;
/// let folds = KFold::shuffled(5, 3);
/// let scores = cross_validate_parallel(&mut trial, &data, &folds, || Ridge::new(0.1), r2, 2);
/// assert_eq!(scores.as_ref().map(|s| s.validation.len()), Ok(5));
/// study.tell(trial, scores.map(|s| s.mean()))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn cross_validate_parallel<E, S>(
    trial: &mut Trial,
    data: &Dataset,
    splitter: &S,
    make: impl Fn() -> E,
    scorer: impl Scorer,
    threads: usize,
) -> std::result::Result<CvScores, TrialError>
where
    E: Estimator,
    S: Splitter + ?Sized,
{
    let mut all = run(trial, data, splitter, &make, &[&scorer], threads)?;
    Ok(all.pop().unwrap_or_else(CvScores::empty))
}

/// Cross-validation with several metrics: one [`CvScores`] per scorer, in the order given.
///
/// Each fold reports one value per scorer ([`Trial::report_values`]), so the study must have
/// as many objectives as there are scorers (precision and recall as two objectives, for
/// instance). Folds run in batches of `threads` as in [`cross_validate_parallel`].
///
/// ```
/// use tunewise_core::{Direction, Study};
/// use tunewise_ml::{cross_validate_many, datasets, precision, recall, Average, Scorer};
/// use tunewise_ml::{LogisticRegression, StratifiedKFold};
///
/// let data = datasets::breast_cancer()?;
/// let study = Study::builder().directions([Direction::Maximize; 2]).create()?;
/// let mut trial = study.ask()?;
/// let p = |t: &[f64], y: &[f64]| precision(t, y, Average::Binary { positive: 1.0 });
/// let r = |t: &[f64], y: &[f64]| recall(t, y, Average::Binary { positive: 1.0 });
/// let folds = StratifiedKFold::shuffled(3, 0);
/// let make = || LogisticRegression::new(1.0);
/// let scores = cross_validate_many(&mut trial, &data, &folds, make, &[&p, &r], 1);
/// study.tell(trial, scores.map(|s| vec![s[0].mean(), s[1].mean()]))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn cross_validate_many<E, S>(
    trial: &mut Trial,
    data: &Dataset,
    splitter: &S,
    make: impl Fn() -> E,
    scorers: &[&dyn Scorer],
    threads: usize,
) -> std::result::Result<Vec<CvScores>, TrialError>
where
    E: Estimator,
    S: Splitter + ?Sized,
{
    run(trial, data, splitter, &make, scorers, threads)
}

/// One fold's result: per scorer, the validation and training scores; and the model's time.
struct Fold {
    validation: Vec<f64>,
    train: Vec<f64>,
    time: Duration,
}

fn run<E, S>(
    trial: &mut Trial,
    data: &Dataset,
    splitter: &S,
    make: &impl Fn() -> E,
    scorers: &[&dyn Scorer],
    threads: usize,
) -> std::result::Result<Vec<CvScores>, TrialError>
where
    E: Estimator,
    S: Splitter + ?Sized,
{
    let splits = splitter.splits(data)?;
    let models = splits.iter().map(|_| make()).collect();
    run_models(trial, data, &splits, models, scorers, threads)
}

/// Cross-validation over given splits with one fresh (unfitted) model per split: the engine
/// of every `cross_validate*` function and of the workflow.
pub(crate) fn run_models<E: Estimator>(
    trial: &mut Trial,
    data: &Dataset,
    splits: &[Split],
    models: Vec<E>,
    scorers: &[&dyn Scorer],
    threads: usize,
) -> std::result::Result<Vec<CvScores>, TrialError> {
    if scorers.is_empty() {
        return Err(TrialError::failed("cross-validation needs at least one scorer"));
    }
    let mut out: Vec<CvScores> = scorers.iter().map(|_| CvScores::empty()).collect();
    let mut jobs: Vec<(&Split, E)> = splits.iter().zip(models).collect();
    let mut step = 0u64;
    while !jobs.is_empty() {
        let rest = jobs.split_off(threads.clamp(1, jobs.len()));
        let batch = std::mem::replace(&mut jobs, rest);
        let results: Vec<Result<Fold>> = if batch.len() == 1 {
            batch
                .into_iter()
                .map(|(split, model)| fit_and_score(data, split, model, scorers))
                .collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = batch
                    .into_iter()
                    .map(|(split, model)| {
                        scope.spawn(move || fit_and_score(data, split, model, scorers))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| Err(panicked(&*p))))
                    .collect()
            })
        };
        for result in results {
            let fold = result?;
            for (i, scores) in out.iter_mut().enumerate() {
                scores.validation.push(fold.validation[i]);
                scores.train.push(fold.train[i]);
                scores.model_time += fold.time;
            }
            trial.report_values(step, &fold.validation)?;
            step += 1;
            if trial.should_prune()? {
                return Err(TrialError::Pruned);
            }
        }
    }
    Ok(out)
}

fn fit_and_score<E: Estimator>(
    data: &Dataset,
    split: &Split,
    mut model: E,
    scorers: &[&dyn Scorer],
) -> Result<Fold> {
    let train = data.select(&split.train)?;
    let validation = data.select(&split.test)?;
    let start = Instant::now();
    model.fit(&train)?;
    let mut fold = Fold { validation: Vec::new(), train: Vec::new(), time: Duration::ZERO };
    for scorer in scorers {
        fold.validation.push(scorer.score(&model, &validation)?);
        fold.train.push(scorer.score(&model, &train)?);
    }
    fold.time = start.elapsed();
    Ok(fold)
}

/// A fold's panic as an error with its message (a panicking model fails its trial, not the
/// study).
fn panicked(payload: &(dyn std::any::Any + Send)) -> Error {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::Model(format!("a fold's model panicked: {message}"))
}

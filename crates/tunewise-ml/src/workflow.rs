//! The tune → refit → test workflow: hold out a test set, tune by cross-validation on the rest,
//! refit the best configuration on the whole training set, score it once on the test set.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tunewise_core::{
    Budget, Direction, FrozenTrial, ParamValue, RandomSampler, StopReason, Study, StudyBuilder,
    Trial, TrialError, TrialState,
};

use crate::cv::{run_models, std, Scorer};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::estimator::Estimator;
use crate::split::{train_test_split, KFold, Split, Splitter, StratifiedKFold};

/// The user attribute in which each trial keeps its training score and the spread of its fold
/// scores (a JSON object `{"train": …, "validation_std": …}`), so a resumed study still has them.
pub const CV_ATTR: &str = "tunewise_ml.cv";

/// The rule of thumb for tuning on small data (concept notes): at least this many records…
pub const MIN_RECORDS: usize = 100;

/// … and at least this many records of every class.
pub const MIN_PER_CLASS: usize = 12;

/// What is predicted: classes (stratified splits, class checks) or numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Class labels: the test set and the folds keep the class proportions.
    Classification,
    /// Numbers: plain shuffled splits.
    Regression,
}

/// How configurations are scored on the training set.
enum Validation {
    /// `k` shuffled folds, stratified for classification.
    Folds(usize),
    /// A splitter of the user's.
    Splitter(Box<dyn Splitter + Send + Sync>),
    /// One validation split holding out this fraction of the training set.
    Holdout(f64),
}

/// One validation split of the training set, as a [`Splitter`].
struct Holdout {
    fraction: f64,
    seed: u64,
    stratify: bool,
}

impl Splitter for Holdout {
    fn splits(&self, data: &Dataset) -> Result<Vec<Split>> {
        Ok(vec![train_test_split(data, self.fraction, self.seed, self.stratify)?])
    }
}

/// Tunes a model the way the concept notes describe for small and medium data: **hold out** a
/// test set, **tune** with cross-validation on the training set (any sampler, any storage),
/// **refit** the best configuration on the whole training set, and **test** it once on the
/// held-out rows.
///
/// The search space is a closure that suggests hyperparameters on a [`Trial`] and returns an
/// unfitted model. It is called once per fold and once more for the refit; within a trial its
/// suggestions return the same values each time, so every fold gets the same configuration.
/// For the refit it is called on a trial whose parameters are fixed to the best ones, so it must
/// depend only on its suggestions.
///
/// Every fold's validation score is reported to the trial (a pruner can stop a bad
/// configuration after its first folds), and each trial keeps its training score (user
/// attribute [`CV_ATTR`]), so the result shows the training/validation gap of every trial: the
/// bias–variance diagnostic.
///
/// Below [`MIN_RECORDS`] records, or with a class of fewer than [`MIN_PER_CLASS`] records, the
/// workflow warns (on standard error, unless [`quiet`](Workflow::quiet), and in
/// [`Tuned::warnings`]) and recommends cross-validation over a single validation split.
///
/// ```
/// use tunewise_core::{Budget, RandomSampler, Study};
/// use tunewise_ml::{accuracy, datasets, Knn, Workflow};
///
/// let data = datasets::iris()?;
/// let tuned = Workflow::classification(accuracy)
///     .maximize()
///     .metric_name("accuracy")
///     .seed(7)
///     .study(Study::builder().sampler(RandomSampler::with_seed(7)))
///     .budget(Budget::trials(8))
///     .run(&data, |trial| Ok(Knn::new(trial.suggest_int("k", 2, 20)? as usize)))?;
/// assert!(tuned.cv_score > 0.9 && tuned.test_score > 0.8);
/// assert_eq!(tuned.trials.len(), 8);
/// println!("{tuned}"); // the summary: best configuration, CV ± spread, test score, trials
/// # Ok::<(), tunewise_ml::Error>(())
/// ```
pub struct Workflow<S> {
    task: Task,
    scorer: S,
    metric_name: String,
    direction: Option<Direction>,
    test_fraction: f64,
    seed: u64,
    validation: Validation,
    study: Option<StudyBuilder>,
    budget: Budget,
    trial_threads: usize,
    fold_threads: usize,
    quiet: bool,
}

impl<S: Scorer> Workflow<S> {
    fn new(task: Task, scorer: S) -> Self {
        Workflow {
            task,
            scorer,
            metric_name: "score".into(),
            direction: None,
            test_fraction: 0.2,
            seed: 0,
            validation: Validation::Folds(5),
            study: None,
            budget: Budget::trials(50),
            trial_threads: 1,
            fold_threads: 1,
            quiet: false,
        }
    }

    /// A workflow for a classifier scored by `scorer` (stratified test set and folds).
    pub fn classification(scorer: S) -> Self {
        Workflow::new(Task::Classification, scorer)
    }

    /// A workflow for a regressor scored by `scorer`.
    pub fn regression(scorer: S) -> Self {
        Workflow::new(Task::Regression, scorer)
    }

    /// Higher scores are better (accuracy, F1, ROC AUC, R²…). One of `maximize` and
    /// [`minimize`](Self::minimize) is required.
    pub fn maximize(mut self) -> Self {
        self.direction = Some(Direction::Maximize);
        self
    }

    /// Lower scores are better (MSE, MAE, log loss…).
    pub fn minimize(mut self) -> Self {
        self.direction = Some(Direction::Minimize);
        self
    }

    /// The metric's name in the summary (default "score").
    pub fn metric_name(mut self, name: impl Into<String>) -> Self {
        self.metric_name = name.into();
        self
    }

    /// The fraction of the records held out for the final test (default 0.2).
    pub fn test_fraction(mut self, fraction: f64) -> Self {
        self.test_fraction = fraction;
        self
    }

    /// The seed of the test split and of the default folds (default 0). Without
    /// [`study`](Self::study), also the study's seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// `k` shuffled folds on the training set, stratified for classification (default 5).
    pub fn folds(mut self, k: usize) -> Self {
        self.validation = Validation::Folds(k);
        self
    }

    /// Any splitter for the cross-validation on the training set (group k-fold, time series…).
    pub fn splitter(mut self, splitter: impl Splitter + Send + Sync + 'static) -> Self {
        self.validation = Validation::Splitter(Box::new(splitter));
        self
    }

    /// One validation split holding out `fraction` of the training set, instead of
    /// cross-validation: cheaper, noisier. Warned against on small data.
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation = Validation::Holdout(fraction);
        self
    }

    /// The study to tune in: its sampler, pruner, storage, name, seed… (default: a new
    /// in-memory study with the automatic sampler and the workflow's seed). Its direction is
    /// set by the workflow.
    pub fn study(mut self, builder: StudyBuilder) -> Self {
        self.study = Some(builder);
        self
    }

    /// How many trials, or how long (default 50 trials).
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// Trials run on this many threads (default 1).
    pub fn trial_threads(mut self, threads: usize) -> Self {
        self.trial_threads = threads;
        self
    }

    /// Each trial fits its folds on up to this many threads (default 1; see
    /// [`cross_validate_parallel`](crate::cross_validate_parallel) for what it costs pruning).
    pub fn fold_threads(mut self, threads: usize) -> Self {
        self.fold_threads = threads;
        self
    }

    /// Do not print the rule-of-thumb warnings (they stay in [`Tuned::warnings`]).
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Runs hold-out → tune → refit → test on `data` with the search space `space`.
    ///
    /// Refused before any trial runs: no direction, a test fraction or validation split outside
    /// (0, 1), zero threads, a classifier's target with a single class, folds that do not fit
    /// the training set (more folds than records, a class with fewer records than stratified
    /// folds). After tuning, an error if no trial completed (with the last failure's message);
    /// the trials stay in the study's storage.
    pub fn run<E, F>(self, data: &Dataset, space: F) -> Result<Tuned<E>>
    where
        E: Estimator,
        F: Fn(&mut Trial) -> std::result::Result<E, TrialError> + Sync,
    {
        let start = Instant::now();
        let direction = self.check(data)?;
        let classification = self.task == Task::Classification;
        let warnings =
            rule_of_thumb(data, self.task, matches!(self.validation, Validation::Holdout(_)));
        if !self.quiet {
            for w in &warnings {
                eprintln!("tunewise-ml warning: {w}");
            }
        }

        let split = train_test_split(data, self.test_fraction, self.seed, classification)
            .map_err(|e| context("holding out the test set", e))?;
        let train = data.select(&split.train)?;
        let test = data.select(&split.test)?;
        let splitter: Box<dyn Splitter + Send + Sync> = match self.validation {
            Validation::Folds(k) if classification => {
                Box::new(StratifiedKFold::shuffled(k, self.seed))
            }
            Validation::Folds(k) => Box::new(KFold::shuffled(k, self.seed)),
            Validation::Splitter(s) => s,
            Validation::Holdout(fraction) => {
                Box::new(Holdout { fraction, seed: self.seed, stratify: classification })
            }
        };
        let what = format!("validating on the {} training records", train.n_rows());
        let splits = splitter.splits(&train).map_err(|e| context(&what, e))?;

        let builder = self.study.unwrap_or_else(|| Study::builder().seed(self.seed));
        let study = builder.directions([direction]).create()?;
        let model_nanos = AtomicU64::new(0);
        let scorer = &self.scorer;
        let objective = |trial: &mut Trial| -> std::result::Result<f64, TrialError> {
            let models =
                splits.iter().map(|_| space(trial)).collect::<std::result::Result<Vec<E>, _>>()?;
            let mut scores =
                run_models(trial, &train, &splits, models, &[scorer], self.fold_threads)?;
            let scores = scores.pop().ok_or_else(|| TrialError::failed("no scores"))?;
            model_nanos.fetch_add(nanos(scores.model_time), Ordering::Relaxed);
            let attr =
                serde_json::json!({ "train": scores.train_mean(), "validation_std": scores.std() });
            trial.set_user_attr(CV_ATTR, attr)?;
            Ok(scores.mean())
        };
        let report = study.optimize_parallel(objective, self.budget, self.trial_threads)?;

        let trials = study.trials()?;
        let best = study.best_trial().map_err(|_| no_complete_trial(&trials))?;
        let best_params = best.params_map();
        let refit_start = Instant::now();
        let mut model = refit_model(&space, direction, &best_params)?;
        model.fit(&train).map_err(|e| context("refitting the best configuration", e))?;
        let test_score = scorer.score(&model, &test)?;
        let refit_train_score = scorer.score(&model, &train)?;
        let model_time =
            Duration::from_nanos(model_nanos.load(Ordering::Relaxed)) + refit_start.elapsed();

        let summaries: Vec<TrialScores> = trials.iter().map(|t| TrialScores::of(t)).collect();
        let best_scores = TrialScores::of(&best);
        Ok(Tuned {
            model,
            best_trial: best.number,
            best_params,
            cv_score: best_scores.validation.unwrap_or(f64::NAN),
            cv_std: best_scores.validation_std.unwrap_or_else(|| std(&best_scores.folds)),
            cv_folds: best_scores.folds.clone(),
            train_score: best_scores.train,
            refit_train_score,
            test_score,
            direction,
            metric_name: self.metric_name,
            trials: summaries,
            warnings,
            n_train: train.n_rows(),
            n_test: test.n_rows(),
            n_splits: splits.len(),
            stop_reason: report.stop_reason,
            total_time: start.elapsed(),
            model_time,
            sequential: self.trial_threads <= 1 && self.fold_threads <= 1,
        })
    }

    /// The settings checks that need no tuning; returns the direction.
    fn check(&self, data: &Dataset) -> Result<Direction> {
        let direction = self.direction.ok_or_else(|| {
            Error::InvalidConfig(
                "the workflow does not know whether higher scores are better: call .maximize() \
                 (accuracy, F1, ROC AUC, R²…) or .minimize() (MSE, MAE, log loss…)"
                    .into(),
            )
        })?;
        if self.trial_threads == 0 || self.fold_threads == 0 {
            return Err(Error::InvalidConfig(
                "trial_threads and fold_threads must be at least 1".into(),
            ));
        }
        if let Validation::Holdout(f) = self.validation {
            if !(f > 0.0 && f < 1.0) {
                return Err(Error::InvalidConfig(format!(
                    "validation_split = {f}: the fraction of the training set used for validation \
                     must be in (0, 1), e.g. 0.2"
                )));
            }
        }
        if self.task == Task::Classification {
            let classes = data.classes();
            if classes.len() < 2 {
                return Err(Error::InvalidData(format!(
                    "the target '{}' has a single class ({}): a classifier needs at least two; \
                     check the target column, or tune a regressor with Workflow::regression",
                    data.target_name(),
                    classes.first().map_or_else(|| "none".to_owned(), |c| c.to_string()),
                )));
            }
        }
        Ok(direction)
    }
}

/// The rule-of-thumb warnings for tuning on `data` (empty when it has enough records, and for
/// classification enough of every class). `holdout`: a single validation split is planned.
pub fn rule_of_thumb(data: &Dataset, task: Task, holdout: bool) -> Vec<String> {
    let advice = if holdout {
        "use cross-validation (Workflow::folds) instead of a single validation split"
    } else {
        "cross-validation (used here) is more reliable than a single validation split"
    };
    let mut warnings = Vec::new();
    let n = data.n_rows();
    if n < MIN_RECORDS {
        warnings.push(format!(
            "only {n} records, below the rule of thumb of {MIN_RECORDS}: scores will be noisy; \
             {advice}"
        ));
    }
    if task == Task::Classification {
        for (class, count) in data.class_counts() {
            if count < MIN_PER_CLASS {
                warnings.push(format!(
                    "class {class} has only {count} records, below the rule of thumb of \
                     {MIN_PER_CLASS} per class: its scores will be noisy; {advice}"
                ));
            }
        }
    }
    warnings
}

fn context(what: &str, e: Error) -> Error {
    match e {
        Error::InvalidConfig(m) => Error::InvalidConfig(format!("{what}: {m}")),
        Error::InvalidData(m) => Error::InvalidData(format!("{what}: {m}")),
        Error::Model(m) => Error::Model(format!("{what}: {m}")),
        other => other,
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn no_complete_trial(trials: &[std::sync::Arc<FrozenTrial>]) -> Error {
    let count = |s: TrialState| trials.iter().filter(|t| t.state == s).count();
    let last_failure = trials
        .iter()
        .rev()
        .find_map(|t| t.fail_reason.as_deref())
        .map_or_else(String::new, |m| format!("; the last failure: {m}"));
    Error::Model(format!(
        "no trial completed ({} trials: {} failed, {} pruned), so there is no configuration to \
         refit{last_failure}; the trials stay in the study",
        trials.len(),
        count(TrialState::Failed),
        count(TrialState::Pruned),
    ))
}

/// The model of the best configuration: the search space run on a trial of a scratch
/// in-memory study whose parameters are fixed to `params`.
fn refit_model<E, F>(
    space: &F,
    direction: Direction,
    params: &BTreeMap<String, ParamValue>,
) -> Result<E>
where
    F: Fn(&mut Trial) -> std::result::Result<E, TrialError>,
{
    let scratch =
        Study::builder().directions([direction]).sampler(RandomSampler::with_seed(0)).create()?;
    scratch.enqueue_trial(params.clone())?;
    let mut trial = scratch.ask()?;
    let model = space(&mut trial).map_err(|e| {
        Error::Model(format!("the search space failed for the best configuration: {e}"))
    })?;
    if trial.params() != *params {
        return Err(Error::InvalidConfig(format!(
            "the search space suggested other parameters when rebuilding the best configuration \
             ({:?} instead of {params:?}): it must depend only on the trial's suggestions",
            trial.params()
        )));
    }
    scratch.tell(trial, Ok(0.0))?;
    Ok(model)
}

/// One trial's scores as the workflow kept them.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialScores {
    /// The trial's number.
    pub number: u64,
    /// Complete, pruned or failed (running or waiting for trials of another worker).
    pub state: TrialState,
    /// Its configuration.
    pub params: BTreeMap<String, ParamValue>,
    /// The validation score of each fold it reached (a pruned trial has fewer).
    pub folds: Vec<f64>,
    /// The cross-validated score (mean over folds) of a complete trial.
    pub validation: Option<f64>,
    /// The standard deviation of its fold scores.
    pub validation_std: Option<f64>,
    /// Its mean training score over folds (complete trials).
    pub train: Option<f64>,
}

impl TrialScores {
    fn of(t: &FrozenTrial) -> Self {
        let attr = t.user_attrs.get(CV_ATTR);
        let field = |k: &str| attr.and_then(|a| a.get(k)).and_then(serde_json::Value::as_f64);
        TrialScores {
            number: t.number,
            state: t.state,
            params: t.params_map(),
            folds: t.intermediate_values.values().filter_map(|v| v.first().copied()).collect(),
            validation: t.values.as_ref().and_then(|v| v.first().copied()),
            validation_std: field("validation_std"),
            train: field("train"),
        }
    }

    /// How much better the trial scored on its training rows than on its validation rows
    /// (positive: better on training rows), in the metric's units, oriented by `direction`.
    pub fn gap(&self, direction: Direction) -> Option<f64> {
        let (train, validation) = (self.train?, self.validation?);
        Some(match direction {
            Direction::Maximize => train - validation,
            Direction::Minimize => validation - train,
        })
    }
}

/// The outcome of [`Workflow::run`]: the refitted model, the best configuration, its
/// cross-validated score with its spread, its test score, and every trial's scores.
///
/// Its `Display` is the summary: data and budget, warnings, the best configuration, CV ±
/// spread, training score and the gap (with a bias–variance reading), test score, the
/// framework's share of the time, and the best trials with their training/validation gaps.
#[derive(Debug)]
pub struct Tuned<E> {
    /// The best configuration's model, refitted on the whole training set.
    pub model: E,
    /// The best trial's number.
    pub best_trial: u64,
    /// The best configuration.
    pub best_params: BTreeMap<String, ParamValue>,
    /// Its cross-validated score (mean over folds).
    pub cv_score: f64,
    /// The standard deviation of its fold scores.
    pub cv_std: f64,
    /// Its score on each fold.
    pub cv_folds: Vec<f64>,
    /// Its mean training score over the folds (`None` for a trial of an older run without it).
    pub train_score: Option<f64>,
    /// The refitted model's score on the whole training set.
    pub refit_train_score: f64,
    /// The refitted model's score on the held-out test set, measured once.
    pub test_score: f64,
    /// Whether higher scores are better.
    pub direction: Direction,
    /// The metric's name.
    pub metric_name: String,
    /// Every trial of the study (earlier runs' too, when the study was resumed).
    pub trials: Vec<TrialScores>,
    /// The rule-of-thumb warnings.
    pub warnings: Vec<String>,
    /// Records used for tuning and refitting.
    pub n_train: usize,
    /// Records held out for the test.
    pub n_test: usize,
    /// Validation splits per trial.
    pub n_splits: usize,
    /// Why tuning stopped.
    pub stop_reason: StopReason,
    /// Wall-clock time of the whole workflow.
    pub total_time: Duration,
    /// Time spent fitting, predicting and scoring (summed over threads).
    pub model_time: Duration,
    sequential: bool,
}

impl<E> Tuned<E> {
    /// The framework's own share of the time (splitting, bookkeeping, sampling, storage):
    /// `1 − model time / total time`. `None` when trials or folds ran on several threads (the
    /// model time is then summed over threads and the ratio means nothing).
    pub fn framework_fraction(&self) -> Option<f64> {
        let total = self.total_time.as_secs_f64();
        (self.sequential && total > 0.0)
            .then(|| (1.0 - self.model_time.as_secs_f64() / total).max(0.0))
    }

    /// The best trial's gap between training and validation scores (see [`TrialScores::gap`]).
    pub fn gap(&self) -> Option<f64> {
        self.trials.iter().find(|t| t.number == self.best_trial).and_then(|t| t.gap(self.direction))
    }

    /// The bias–variance reading of the best configuration's gap.
    pub fn diagnosis(&self) -> String {
        match self.gap() {
            None => "no training score recorded for the best trial".into(),
            Some(gap) if gap > 2.0 * self.cv_std && gap > 0.0 => format!(
                "the model does clearly better on its training rows than on unseen rows (gap \
                 {gap:.4} > 2 × the fold spread {:.4}): high variance; more regularization, a \
                 simpler model or more data would help",
                self.cv_std
            ),
            Some(gap) => format!(
                "training and validation scores agree (gap {gap:.4} within 2 × the fold spread \
                 {:.4}): no sign of overfitting; if both are poor, the model is too simple (high \
                 bias)",
                self.cv_std
            ),
        }
    }

    /// Complete trials ordered best first.
    pub fn ranked(&self) -> Vec<&TrialScores> {
        let mut ranked: Vec<&TrialScores> =
            self.trials.iter().filter(|t| t.validation.is_some()).collect();
        ranked.sort_by(|a, b| {
            let (a, b) = (a.validation.unwrap_or(f64::NAN), b.validation.unwrap_or(f64::NAN));
            match self.direction {
                Direction::Maximize => b.total_cmp(&a),
                Direction::Minimize => a.total_cmp(&b),
            }
        });
        ranked
    }
}

fn params_line(params: &BTreeMap<String, ParamValue>) -> String {
    params.iter().map(|(k, v)| format!("{k}={}", short(v))).collect::<Vec<_>>().join(", ")
}

fn short(v: &ParamValue) -> String {
    match v {
        ParamValue::Float(f) if f.abs() >= 1e-3 && f.abs() < 1e4 => format!("{f:.4}"),
        ParamValue::Float(f) => format!("{f:.3e}"),
        other => other.to_string(),
    }
}

impl<E> fmt::Display for Tuned<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |s: TrialState| self.trials.iter().filter(|t| t.state == s).count();
        let m = &self.metric_name;
        writeln!(
            f,
            "Tuned {} trials ({} complete, {} pruned, {} failed) in {:.1} s; stopped because {}",
            self.trials.len(),
            count(TrialState::Complete),
            count(TrialState::Pruned),
            count(TrialState::Failed),
            self.total_time.as_secs_f64(),
            self.stop_reason
        )?;
        writeln!(
            f,
            "Data: {} training records ({} validation splits per trial), {} held-out test records",
            self.n_train, self.n_splits, self.n_test
        )?;
        for w in &self.warnings {
            writeln!(f, "Warning: {w}")?;
        }
        writeln!(f, "Best configuration (trial {}):", self.best_trial)?;
        for (k, v) in &self.best_params {
            writeln!(f, "  {k} = {v}")?;
        }
        writeln!(
            f,
            "Cross-validated {m}: {:.4} ± {:.4} over {} folds",
            self.cv_score,
            self.cv_std,
            self.cv_folds.len()
        )?;
        if let Some(train) = self.train_score {
            writeln!(f, "Training {m} (mean over folds): {train:.4}")?;
        }
        writeln!(f, "Bias–variance: {}", self.diagnosis())?;
        writeln!(
            f,
            "Test {m} (refitted on all {} training records, scored once): {:.4}",
            self.n_train, self.test_score
        )?;
        match self.framework_fraction() {
            Some(share) => writeln!(
                f,
                "Time: {:.2} s in the model (fit, predict, score), framework {:.2}% of {:.2} s",
                self.model_time.as_secs_f64(),
                100.0 * share,
                self.total_time.as_secs_f64()
            )?,
            None => writeln!(f, "Time: {:.2} s", self.total_time.as_secs_f64())?,
        }
        writeln!(f, "Best trials (validation ± fold spread, training, gap):")?;
        for t in self.ranked().into_iter().take(10) {
            let fmt_opt =
                |v: Option<f64>| v.map_or_else(|| "   –   ".to_owned(), |v| format!("{v:.4}"));
            writeln!(
                f,
                "  #{:<4} {} ± {}  train {}  gap {}  {}",
                t.number,
                fmt_opt(t.validation),
                fmt_opt(t.validation_std),
                fmt_opt(t.train),
                fmt_opt(t.gap(self.direction)),
                params_line(&t.params)
            )?;
        }
        Ok(())
    }
}

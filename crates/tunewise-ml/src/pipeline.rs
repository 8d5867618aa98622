//! Pipeline steps that wrap an [`Estimator`] and are estimators themselves: [`Standardized`]
//! scales the features with statistics learned at `fit`, [`Thresholded`] turns a binary
//! classifier's probabilities into labels at a chosen decision threshold.
//!
//! Both learn only from the rows given to `fit`, so inside cross-validation or a hold-out the
//! validation rows never influence what the step learns. They nest:
//! `Thresholded::new(Standardized::new(LogisticRegression::new(0.1)), 0.3)`.

use crate::{Dataset, Error, Estimator, Result};

/// Each feature's mean and standard deviation on the training rows.
#[derive(Debug, Clone, PartialEq)]
struct Scaling {
    mean: Vec<f64>,
    /// Population standard deviation (divided by `n`); 0 for a constant feature.
    std: Vec<f64>,
}

impl Scaling {
    /// Learns the statistics of `data`, refusing values so large that they overflow.
    fn learn(data: &Dataset) -> Result<Scaling> {
        let p = data.n_features();
        let mut mean = vec![0.0; p];
        let mut m2 = vec![0.0; p];
        // Welford's update: no running sum that could overflow, and no cancellation from
        // subtracting two large sums of squares.
        for (k, row) in data.rows().enumerate() {
            let count = (k + 1) as f64;
            for ((m, s), &x) in mean.iter_mut().zip(&mut m2).zip(row) {
                let delta = x - *m;
                *m += delta / count;
                *s += delta * (x - *m);
            }
        }
        let n = data.n_rows() as f64;
        let mut std: Vec<f64> = m2.iter().map(|s| (s / n).sqrt()).collect();
        // A column whose values are all equal is constant exactly: its mean is that value and its
        // deviation 0 (Welford's arithmetic could leave a rounding residue in either).
        if let Some(first) = data.row(0) {
            for (j, &v) in first.iter().enumerate() {
                if data.rows().all(|row| row[j] == v) {
                    mean[j] = v;
                    std[j] = 0.0;
                }
            }
        }
        if let Some(j) = (0..p).find(|&j| !mean[j].is_finite() || !std[j].is_finite()) {
            return Err(Error::InvalidData(format!(
                "Standardized: feature {j} ({}) has values too large to standardize (its mean or \
                 standard deviation overflows f64); rescale that column first",
                data.feature_names().get(j).map_or("?", String::as_str)
            )));
        }
        Ok(Scaling { mean, std })
    }

    /// `(x − mean) / std` per feature; constant features are only centred.
    fn apply(&self, data: &Dataset) -> Result<Dataset> {
        let p = self.mean.len();
        if data.n_features() != p {
            return Err(Error::Model(format!(
                "Standardized: fitted on {p} features but given {}; give the columns the model \
                 was fitted on, in the same order",
                data.n_features()
            )));
        }
        let mut features = Vec::with_capacity(data.features().len());
        for row in data.rows() {
            for ((&x, &m), &s) in row.iter().zip(&self.mean).zip(&self.std) {
                features.push(if s > 0.0 { (x - m) / s } else { x - m });
            }
        }
        let out = Dataset::from_flat(features, p, data.target().to_vec())?
            .with_feature_names(data.feature_names().iter().cloned())?
            .with_target_name(data.target_name());
        match data.groups() {
            Some(groups) => out.with_groups(groups.to_vec()),
            None => Ok(out),
        }
    }
}

/// Standardizes the features, then fits and predicts with an inner estimator: each feature is
/// centred on its training mean and divided by its training standard deviation, so the inner
/// model sees zero-mean, unit-variance columns.
///
/// **When to use it.** Models that compare features by distance or by the size of their
/// coefficients need it: support vector machines ([`Svc`](crate::Svc), [`Svr`](crate::Svr)),
/// [`Knn`](crate::Knn) and [`LogisticRegression`](crate::LogisticRegression). Without it the
/// feature with the largest range (an area in mm² next to a ratio in [0, 1]) decides alone.
/// Trees and forests do not need it.
///
/// **What it learns.** At [`fit`](Estimator::fit), the mean and the population standard
/// deviation (divided by `n`, as scikit-learn's `StandardScaler`) of each feature over the rows
/// given, and nothing from any other rows: inside cross-validation, wrap the model rather than
/// scaling the whole dataset first, so the validation rows do not leak into the scaling. A
/// constant feature (standard deviation 0) is centred and left unscaled (it becomes 0), not
/// divided by zero. Target, group labels and column names are kept.
///
/// **Cost.** One pass over the training rows at `fit` and a copy of the features at each `fit`,
/// `predict` and `predict_proba`, `O(rows × features)`.
///
/// `predict` or `predict_proba` before `fit`, or on data with a different number of features,
/// is an [`Error::Model`]. [`predict_proba`](Estimator::predict_proba) is the inner model's, on
/// the standardized features.
///
/// ```
/// use tunewise_ml::{accuracy, datasets, train_test_split, Estimator, Kernel, Standardized, Svc};
///
/// let data = datasets::breast_cancer()?;
/// // 150 rows keep the example fast; one hold-out of 30 % of them.
/// let subset = train_test_split(&data, 150.0 / 569.0, 0, true)?.test;
/// let data = data.select(&subset)?;
/// let split = train_test_split(&data, 0.3, 1, true)?;
/// let (train, test) = (data.select(&split.train)?, data.select(&split.test)?);
///
/// // An RBF SVM on standardized features: the scaling is learned on `train` only.
/// let mut model = Standardized::new(Svc::new(1.0, Kernel::Rbf { gamma: 1.0 / 30.0 }));
/// model.fit(&train)?;
/// let score = accuracy(test.target(), &model.predict(&test)?)?;
/// assert!(score > 0.85, "accuracy {score}");
/// assert_eq!(model.means().map(<[f64]>::len), Some(30));
/// # Ok::<(), tunewise_ml::Error>(())
/// ```
#[derive(Debug)]
pub struct Standardized<E> {
    inner: E,
    scaling: Option<Scaling>,
}

impl<E: Estimator> Standardized<E> {
    /// `inner`, fitted and used on standardized features.
    pub fn new(inner: E) -> Self {
        Standardized { inner, scaling: None }
    }

    /// The inner model.
    pub fn inner(&self) -> &E {
        &self.inner
    }

    /// The inner model, to change its hyperparameters before the next `fit`.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.inner
    }

    /// The inner model, unwrapped.
    pub fn into_inner(self) -> E {
        self.inner
    }

    /// Each feature's mean on the training rows; `None` before `fit`.
    pub fn means(&self) -> Option<&[f64]> {
        self.scaling.as_ref().map(|s| s.mean.as_slice())
    }

    /// Each feature's population standard deviation on the training rows (0 for a constant
    /// feature, which is then only centred); `None` before `fit`.
    pub fn std_devs(&self) -> Option<&[f64]> {
        self.scaling.as_ref().map(|s| s.std.as_slice())
    }

    /// `data` with its features standardized by the statistics learned at `fit` (what the
    /// inner model sees). Target, groups and names are kept.
    ///
    /// Refused with [`Error::Model`] before `fit` and when `data` has a different number of
    /// features than the training rows.
    pub fn transform(&self, data: &Dataset) -> Result<Dataset> {
        self.scaling
            .as_ref()
            .ok_or_else(|| {
                Error::Model(
                    "Standardized: used before fit (no scaling learned yet); call fit first".into(),
                )
            })?
            .apply(data)
    }
}

impl<E: Estimator> Estimator for Standardized<E> {
    fn fit(&mut self, data: &Dataset) -> Result<()> {
        // A failed fit leaves the step unfitted, not holding statistics of other rows.
        self.scaling = None;
        let scaling = Scaling::learn(data)?;
        self.inner.fit(&scaling.apply(data)?)?;
        self.scaling = Some(scaling);
        Ok(())
    }

    fn predict(&self, features: &Dataset) -> Result<Vec<f64>> {
        self.inner.predict(&self.transform(features)?)
    }

    fn predict_proba(&self, features: &Dataset) -> Result<Option<Vec<f64>>> {
        self.inner.predict_proba(&self.transform(features)?)
    }
}

/// A binary classifier that predicts the positive class when its probability reaches a chosen
/// threshold, instead of the model's own rule (usually ½).
///
/// **When to use it.** When the two kinds of error do not cost the same: a screening test that
/// must miss few positives wants a low threshold (higher recall), an alert that must rarely be
/// false wants a high one (higher precision). Choose the threshold on validation rows, for
/// example with [`precision_recall_curve`](crate::precision_recall_curve) and
/// [`threshold_for`](crate::threshold_for), or tune it as a hyperparameter.
///
/// **What it does.** At [`fit`](Estimator::fit) it checks `threshold` (in [0, 1]), learns the
/// two class labels of the target, fits the inner model and checks that it gives probabilities.
/// The threshold is read (and checked again) at each `predict`, so changing it needs no refit.
/// [`predict`](Estimator::predict) returns the larger label where the inner model's
/// [`predict_proba`](Estimator::predict_proba) (the probability of the larger label) is
/// `≥ threshold`, the smaller label elsewhere: threshold 0 predicts every row positive, and
/// threshold 1 only rows with probability exactly 1. `predict_proba` is the inner model's,
/// unchanged. The cost is the inner model's `predict_proba`.
///
/// Refused at `fit` (and at `predict` for the threshold): a threshold outside [0, 1] or NaN
/// ([`Error::InvalidConfig`] naming `Thresholded.threshold`), a target without exactly two classes and an inner model without
/// probabilities ([`Error::InvalidData`], [`Error::Model`]). `predict` before `fit` is an
/// [`Error::Model`].
///
/// ```
/// use tunewise_ml::{
///     datasets, recall, Average, Estimator, LogisticRegression, Standardized, Thresholded,
/// };
///
/// let data = datasets::breast_cancer()?;
/// // Positive (label 1, benign) only when the probability reaches 0.9.
/// let mut model = Thresholded::new(Standardized::new(LogisticRegression::new(1.0)), 0.9);
/// model.fit(&data)?;
/// let strict = recall(data.target(), &model.predict(&data)?, Average::Binary { positive: 1.0 })?;
///
/// // A lower threshold predicts the positive class (label 1) more often: higher recall. The
/// // threshold is read at `predict`: no refit.
/// model.threshold = 0.1;
/// let loose = recall(data.target(), &model.predict(&data)?, Average::Binary { positive: 1.0 })?;
/// assert!(loose > strict, "{loose} vs {strict}");
/// assert_eq!(model.labels(), Some((0.0, 1.0)));
/// # Ok::<(), tunewise_ml::Error>(())
/// ```
#[derive(Debug)]
pub struct Thresholded<E> {
    /// Probability of the larger label from which it is predicted, in [0, 1].
    pub threshold: f64,
    inner: E,
    labels: Option<(f64, f64)>,
}

impl<E: Estimator> Thresholded<E> {
    const NAME: &'static str = "Thresholded";

    /// `inner` (a binary classifier with probabilities) deciding at `threshold`, which is
    /// checked at `fit`.
    pub fn new(inner: E, threshold: f64) -> Self {
        Thresholded { threshold, inner, labels: None }
    }

    /// Checks the threshold: in [0, 1], not NaN.
    pub fn validate(&self) -> Result<()> {
        if (0.0..=1.0).contains(&self.threshold) {
            Ok(())
        } else {
            Err(Error::InvalidConfig(format!(
                "{}.threshold must be in [0, 1] (a probability), got {}",
                Self::NAME,
                self.threshold
            )))
        }
    }

    /// The inner model.
    pub fn inner(&self) -> &E {
        &self.inner
    }

    /// The inner model, to change its hyperparameters before the next `fit`.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.inner
    }

    /// The inner model, unwrapped.
    pub fn into_inner(self) -> E {
        self.inner
    }

    /// The two class labels learned at `fit`, `(negative, positive)` = (smaller, larger);
    /// `None` before `fit`.
    pub fn labels(&self) -> Option<(f64, f64)> {
        self.labels
    }
}

impl<E: Estimator> Estimator for Thresholded<E> {
    fn fit(&mut self, data: &Dataset) -> Result<()> {
        self.labels = None;
        self.validate()?;
        let classes = data.classes();
        let [negative, positive] = classes[..] else {
            let shown: Vec<String> = classes.iter().take(5).map(f64::to_string).collect();
            let more = if classes.len() > 5 { ", …" } else { "" };
            return Err(Error::InvalidData(format!(
                "{} needs a binary target (exactly 2 classes) but the training target has {} \
                 ({}{more}); for more classes predict with the inner model itself (no threshold), \
                 or recode the target as one class against the rest",
                Self::NAME,
                classes.len(),
                shown.join(", ")
            )));
        };
        self.inner.fit(data)?;
        // Checked now, on one row, so that a model without probabilities fails at the first
        // fit rather than at every prediction.
        if self.inner.predict_proba(&data.select(&[0])?)?.is_none() {
            return Err(no_probabilities());
        }
        self.labels = Some((negative, positive));
        Ok(())
    }

    fn predict(&self, features: &Dataset) -> Result<Vec<f64>> {
        let (negative, positive) = self.labels.ok_or_else(|| {
            Error::Model(format!("{}: predict called before fit; call fit first", Self::NAME))
        })?;
        // Checked again: the threshold may have been changed since `fit`, which is allowed
        // (it does not change the inner model).
        self.validate()?;
        let proba = self.inner.predict_proba(features)?.ok_or_else(no_probabilities)?;
        if proba.len() != features.n_rows() {
            return Err(Error::Model(format!(
                "{}: the inner model gave {} probabilities for {} rows",
                Self::NAME,
                proba.len(),
                features.n_rows()
            )));
        }
        proba
            .iter()
            .enumerate()
            .map(|(row, &p)| {
                if (0.0..=1.0).contains(&p) {
                    Ok(if p >= self.threshold { positive } else { negative })
                } else {
                    Err(Error::Model(format!(
                        "{}: the inner model gave probability {p} for row {row}, outside [0, 1]",
                        Self::NAME
                    )))
                }
            })
            .collect()
    }

    fn predict_proba(&self, features: &Dataset) -> Result<Option<Vec<f64>>> {
        self.inner.predict_proba(features)
    }
}

fn no_probabilities() -> Error {
    Error::Model(
        "Thresholded: the inner model gives no probabilities (its predict_proba returns None), \
         so there is nothing to threshold; wrap a binary classifier that has them \
         (LogisticRegression, DecisionTree, Knn), or use the model's own predict"
            .into(),
    )
}

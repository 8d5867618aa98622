//! Adapters implementing [`Estimator`] around smartcore models.
//!
//! Each adapter holds its hyperparameters as public fields (start from `Default` or `new` and
//! change fields as needed) and the fitted model privately. Hyperparameters are checked at
//! the start of [`Estimator::fit`]; a bad one is refused with [`Error::InvalidConfig`] naming
//! the field. Classifiers need integer class labels and at least two classes.

use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::elastic_net::{ElasticNet as SmartElasticNet, ElasticNetParameters};
use smartcore::linear::lasso::{Lasso as SmartLasso, LassoParameters};
use smartcore::linear::logistic_regression::{
    LogisticRegression as SmartLogistic, LogisticRegressionParameters,
};
use smartcore::linear::ridge_regression::{RidgeRegression, RidgeRegressionParameters};
use smartcore::metrics::distance::euclidian::Euclidian;
use smartcore::neighbors::knn_classifier::{KNNClassifier, KNNClassifierParameters};
use smartcore::svm::svc::{MultiClassSVC, SVCParameters, SVC};
use smartcore::svm::svr::{SVRParameters, SVR};
use smartcore::svm::Kernels;
use smartcore::tree::decision_tree_classifier::{
    DecisionTreeClassifier, DecisionTreeClassifierParameters,
};

use crate::{Dataset, Error, Estimator, Result};

type Matrix = DenseMatrix<f64>;

/// The fitted part of an adapter: the smartcore model and the number of features it expects.
#[derive(Debug)]
struct Fitted<M> {
    model: M,
    n_features: usize,
}

impl<M> Fitted<M> {
    /// The fitted model, after checking that `features` has the training width.
    fn get<'a>(fitted: &'a Option<Fitted<M>>, name: &str, features: &Dataset) -> Result<&'a M> {
        let fitted = fitted.as_ref().ok_or_else(|| {
            Error::Model(format!("{name}: predict called before fit; call fit first"))
        })?;
        if features.n_features() != fitted.n_features {
            return Err(Error::Model(format!(
                "{name}: fitted on {} features but asked to predict from {}",
                fitted.n_features,
                features.n_features()
            )));
        }
        Ok(&fitted.model)
    }
}

/// The features of `data` as a smartcore matrix.
fn matrix(name: &str, data: &Dataset) -> Result<Matrix> {
    DenseMatrix::new(data.n_rows(), data.n_features(), data.features().to_vec(), false)
        .map_err(|e| model_error(name, e))
}

fn model_error(name: &str, err: impl std::fmt::Display) -> Error {
    Error::Model(format!("{name}: {err}"))
}

/// Runs a smartcore call, turning its error, or a panic inside smartcore (it unwraps in places),
/// into [`Error::Model`] so that one bad trial cannot bring down a whole study.
fn guarded<T>(
    name: &str,
    call: impl FnOnce() -> std::result::Result<T, smartcore::error::Failed>,
) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
        Ok(result) => result.map_err(|e| model_error(name, e)),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(Error::Model(format!("{name}: smartcore panicked: {message}")))
        }
    }
}

/// The target of `data` as integer class labels, refusing non-integer labels and a single class.
fn class_labels(name: &str, data: &Dataset) -> Result<Vec<i32>> {
    let mut labels = Vec::with_capacity(data.n_rows());
    for (row, &y) in data.target().iter().enumerate() {
        if y.fract() != 0.0 || y < f64::from(i32::MIN) || y > f64::from(i32::MAX) {
            return Err(Error::InvalidData(format!(
                "{name} is a classifier and needs integer class labels, but row {row} has target \
                 {y}; encode the classes as 0, 1, 2, … or use a regressor"
            )));
        }
        // Exact: checked integral and within the i32 range above.
        labels.push(y as i32);
    }
    let first = labels.first().copied();
    if labels.iter().all(|&l| Some(l) == first) {
        return Err(Error::InvalidData(format!(
            "{name} needs at least two classes in the training target, but every row has class {}; \
             check the split (a stratified split keeps every class)",
            first.map_or_else(|| "(none)".to_string(), |c| c.to_string())
        )));
    }
    Ok(labels)
}

fn to_f64(labels: &[i32]) -> Vec<f64> {
    labels.iter().map(|&l| f64::from(l)).collect()
}

fn require(
    name: &str,
    field: &str,
    ok: bool,
    expected: &str,
    value: impl std::fmt::Display,
) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!("{name}.{field} must be {expected}, got {value}")))
    }
}

fn require_non_negative(name: &str, field: &str, value: f64) -> Result<()> {
    require(name, field, value.is_finite() && value >= 0.0, "finite and ≥ 0", value)
}

/// A depth limit as smartcore's `u16`, refusing 0 and values above `u16::MAX`.
fn depth(name: &str, max_depth: Option<usize>) -> Result<Option<u16>> {
    match max_depth {
        None => Ok(None),
        Some(d) => {
            require(
                name,
                "max_depth",
                d >= 1 && d <= usize::from(u16::MAX),
                "in 1..=65535 (or None)",
                d,
            )?;
            Ok(u16::try_from(d).ok())
        }
    }
}

/// Column `column` of each row of a probability matrix.
fn proba_column(proba: &Matrix, column: usize) -> Vec<f64> {
    (0..proba.shape().0).map(|r| *proba.get((r, column))).collect()
}

// ---------------------------------------------------------------- logistic regression

type LogisticModel = SmartLogistic<f64, i32, Matrix, Vec<i32>>;

/// L2-regularized logistic regression (smartcore), binary or multinomial.
///
/// `predict_proba` gives the probability of the larger label for a binary target.
#[derive(Debug, Default)]
pub struct LogisticRegression {
    /// L2 penalty strength, ≥ 0 (0: no penalty).
    pub alpha: f64,
    fitted: Option<Fitted<LogisticModel>>,
    binary: bool,
}

impl LogisticRegression {
    const NAME: &'static str = "LogisticRegression";

    /// A logistic regression with penalty `alpha`.
    pub fn new(alpha: f64) -> Self {
        LogisticRegression { alpha, ..Default::default() }
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        require_non_negative(Self::NAME, "alpha", self.alpha)
    }
}

impl Estimator for LogisticRegression {
    fn fit(&mut self, data: &Dataset) -> Result<()> {
        self.validate()?;
        let y = class_labels(Self::NAME, data)?;
        let x = matrix(Self::NAME, data)?;
        let params = LogisticRegressionParameters::default().with_alpha(self.alpha);
        let model = guarded(Self::NAME, || SmartLogistic::fit(&x, &y, params))?;
        let mut classes = y.clone();
        classes.sort_unstable();
        classes.dedup();
        self.binary = classes.len() == 2;
        self.fitted = Some(Fitted { model, n_features: data.n_features() });
        Ok(())
    }

    fn predict(&self, features: &Dataset) -> Result<Vec<f64>> {
        let model = Fitted::get(&self.fitted, Self::NAME, features)?;
        let x = matrix(Self::NAME, features)?;
        let labels = guarded(Self::NAME, || model.predict(&x))?;
        Ok(to_f64(&labels))
    }

    fn predict_proba(&self, features: &Dataset) -> Result<Option<Vec<f64>>> {
        let model = Fitted::get(&self.fitted, Self::NAME, features)?;
        if !self.binary {
            return Ok(None);
        }
        let w = model.coefficients();
        let b = *model.intercept().get((0, 0));
        let proba = features
            .rows()
            .map(|row| {
                let z = b + row.iter().enumerate().map(|(j, x)| x * w.get((0, j))).sum::<f64>();
                1.0 / (1.0 + (-z).exp())
            })
            .collect();
        Ok(Some(proba))
    }
}

// ---------------------------------------------------------------- decision tree

type TreeModel = DecisionTreeClassifier<f64, i32, Matrix, Vec<i32>>;

/// A CART decision tree classifier (smartcore, Gini impurity).
///
/// `predict_proba` gives the leaf's share of the larger label for a binary target.
#[derive(Debug)]
pub struct DecisionTree {
    /// Maximum depth, ≥ 1; `None` grows until the leaves are pure or too small.
    pub max_depth: Option<usize>,
    /// Fewest rows a node needs to be split, ≥ 2.
    pub min_samples_split: usize,
    /// Fewest rows in a leaf, ≥ 1.
    pub min_samples_leaf: usize,
    /// Seed of the feature order.
    pub seed: u64,
    fitted: Option<Fitted<TreeModel>>,
    binary: bool,
}

impl Default for DecisionTree {
    /// No depth limit, `min_samples_split` 2, `min_samples_leaf` 1, seed 0.
    fn default() -> Self {
        DecisionTree {
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            seed: 0,
            fitted: None,
            binary: false,
        }
    }
}

impl DecisionTree {
    const NAME: &'static str = "DecisionTree";

    /// A tree limited to `max_depth` (`None`: unlimited), other settings default.
    pub fn new(max_depth: Option<usize>) -> Self {
        DecisionTree { max_depth, ..Default::default() }
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        depth(Self::NAME, self.max_depth)?;
        require(
            Self::NAME,
            "min_samples_split",
            self.min_samples_split >= 2,
            "≥ 2",
            self.min_samples_split,
        )?;
        require(
            Self::NAME,
            "min_samples_leaf",
            self.min_samples_leaf >= 1,
            "≥ 1",
            self.min_samples_leaf,
        )
    }
}

impl Estimator for DecisionTree {
    fn fit(&mut self, data: &Dataset) -> Result<()> {
        self.validate()?;
        let y = class_labels(Self::NAME, data)?;
        let x = matrix(Self::NAME, data)?;
        let mut params = DecisionTreeClassifierParameters::default()
            .with_min_samples_split(self.min_samples_split)
            .with_min_samples_leaf(self.min_samples_leaf);
        params.max_depth = depth(Self::NAME, self.max_depth)?;
        params.seed = Some(self.seed);
        let model = guarded(Self::NAME, || DecisionTreeClassifier::fit(&x, &y, params))?;
        self.binary = data.classes().len() == 2;
        self.fitted = Some(Fitted { model, n_features: data.n_features() });
        Ok(())
    }

    fn predict(&self, features: &Dataset) -> Result<Vec<f64>> {
        let model = Fitted::get(&self.fitted, Self::NAME, features)?;
        let x = matrix(Self::NAME, features)?;
        let labels = guarded(Self::NAME, || model.predict(&x))?;
        Ok(to_f64(&labels))
    }

    fn predict_proba(&self, features: &Dataset) -> Result<Option<Vec<f64>>> {
        let model = Fitted::get(&self.fitted, Self::NAME, features)?;
        if !self.binary {
            return Ok(None);
        }
        let x = matrix(Self::NAME, features)?;
        let proba = guarded(Self::NAME, || model.predict_proba(&x))?;
        Ok(Some(proba_column(&proba, 1)))
    }
}

// ---------------------------------------------------------------- random forest

type ForestModel = RandomForestClassifier<f64, i32, Matrix, Vec<i32>>;

/// A random forest classifier (smartcore): bootstrapped trees on random feature subsets,
/// majority vote. No probabilities.
#[derive(Debug)]
pub struct RandomForest {
    /// Number of trees, in 1..=65535.
    pub n_trees: usize,
    /// Maximum depth of each tree, ≥ 1; `None` for unlimited.
    pub max_depth: Option<usize>,
    /// Fewest rows a node needs to be split, ≥ 2.
    pub min_samples_split: usize,
    /// Seed of the bootstrap samples and feature subsets.
    pub seed: u64,
    fitted: Option<Fitted<ForestModel>>,
}

impl Default for RandomForest {
    /// 100 trees, no depth limit, `min_samples_split` 2, seed 0.
    fn default() -> Self {
        RandomForest { n_trees: 100, max_depth: None, min_samples_split: 2, seed: 0, fitted: None }
    }
}

impl RandomForest {
    const NAME: &'static str = "RandomForest";

    /// A forest of `n_trees` trees with seed `seed`, other settings default.
    pub fn new(n_trees: usize, seed: u64) -> Self {
        RandomForest { n_trees, seed, ..Default::default() }
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        require(
            Self::NAME,
            "n_trees",
            self.n_trees >= 1 && self.n_trees <= usize::from(u16::MAX),
            "in 1..=65535",
            self.n_trees,
        )?;
        depth(Self::NAME, self.max_depth)?;
        require(
            Self::NAME,
            "min_samples_split",
            self.min_samples_split >= 2,
            "≥ 2",
            self.min_samples_split,
        )
    }
}

impl Estimator for RandomForest {
    fn fit(&mut self, data: &Dataset) -> Result<()> {
        self.validate()?;
        let y = class_labels(Self::NAME, data)?;
        let x = matrix(Self::NAME, data)?;
        let n_trees = u16::try_from(self.n_trees).map_err(|e| model_error(Self::NAME, e))?;
        let mut params = RandomForestClassifierParameters::default()
            .with_n_trees(n_trees)
            .with_min_samples_split(self.min_samples_split)
            .with_seed(self.seed);
        params.max_depth = depth(Self::NAME, self.max_depth)?;
        let model = guarded(Self::NAME, || RandomForestClassifier::fit(&x, &y, params))?;
        self.fitted = Some(Fitted { model, n_features: data.n_features() });
        Ok(())
    }

    fn predict(&self, features: &Dataset) -> Result<Vec<f64>> {
        let model = Fitted::get(&self.fitted, Self::NAME, features)?;
        let x = matrix(Self::NAME, features)?;
        let labels = guarded(Self::NAME, || model.predict(&x))?;
        Ok(to_f64(&labels))
    }
}

// ---------------------------------------------------------------- k nearest neighbours

type KnnModel = KNNClassifier<f64, i32, Matrix, Vec<i32>, Euclidian<f64>>;

/// A k-nearest-neighbours classifier (smartcore, Euclidean distance, uniform weights).
///
/// `predict_proba` gives the share of the larger label among the neighbours for a binary
/// target.
#[derive(Debug)]
pub struct Knn {
    /// Number of neighbours, ≥ 2 (smartcore refuses 1) and at most the number of training rows.
    pub k: usize,
    fitted: Option<Fitted<KnnModel>>,
    binary: bool,
}

impl Default for Knn {
    /// k = 5.
    fn default() -> Self {
        Knn::new(5)
    }
}

impl Knn {
    const NAME: &'static str = "Knn";

    /// A classifier voting among `k` neighbours.
    pub fn new(k: usize) -> Self {
        Knn { k, fitted: None, binary: false }
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        require(Self::NAME, "k", self.k >= 2, "≥ 2 (smartcore's kNN refuses k = 1)", self.k)
    }
}

impl Estimator for Knn {
    fn fit(&mut self, data: &Dataset) -> Result<()> {
        self.validate()?;
        let y = class_labels(Self::NAME, data)?;
        require(
            Self::NAME,
            "k",
            self.k <= data.n_rows(),
            "at most the number of training rows",
            self.k,
        )?;
        let x = matrix(Self::NAME, data)?;
        let params = KNNClassifierParameters::default().with_k(self.k);
        let model = guarded(Self::NAME, || KNNClassifier::fit(&x, &y, params))?;
        self.binary = data.classes().len() == 2;
        self.fitted = Some(Fitted { model, n_features: data.n_features() });
        Ok(())
    }

    fn predict(&self, features: &Dataset) -> Result<Vec<f64>> {
        let model = Fitted::get(&self.fitted, Self::NAME, features)?;
        let x = matrix(Self::NAME, features)?;
        let labels = guarded(Self::NAME, || model.predict(&x))?;
        Ok(to_f64(&labels))
    }

    fn predict_proba(&self, features: &Dataset) -> Result<Option<Vec<f64>>> {
        let model = Fitted::get(&self.fitted, Self::NAME, features)?;
        if !self.binary {
            return Ok(None);
        }
        let x = matrix(Self::NAME, features)?;
        let proba = guarded(Self::NAME, || model.predict_proba(&x))?;
        Ok(Some(proba.into_iter().map(|p| p.as_slice().get(1).copied().unwrap_or(0.0)).collect()))
    }
}

// ---------------------------------------------------------------- linear regressors

type RidgeModel = RidgeRegression<f64, f64, Matrix, Vec<f64>>;
type LassoModel = SmartLasso<f64, f64, Matrix, Vec<f64>>;
type ElasticNetModel = SmartElasticNet<f64, f64, Matrix, Vec<f64>>;

macro_rules! regressor_estimator {
    ($ty:ty, $fit:expr) => {
        impl Estimator for $ty {
            fn fit(&mut self, data: &Dataset) -> Result<()> {
                self.validate()?;
                let x = matrix(Self::NAME, data)?;
                let y = data.target().to_vec();
                #[allow(clippy::redundant_closure_call)]
                let model = guarded(Self::NAME, || ($fit)(&*self, &x, &y))?;
                self.fitted = Some(Fitted { model, n_features: data.n_features() });
                Ok(())
            }

            fn predict(&self, features: &Dataset) -> Result<Vec<f64>> {
                let model = Fitted::get(&self.fitted, Self::NAME, features)?;
                let x = matrix(Self::NAME, features)?;
                guarded(Self::NAME, || model.predict(&x))
            }
        }
    };
}

/// Ridge regression (smartcore, Cholesky solver): least squares with an L2 penalty `alpha`.
#[derive(Debug, Default)]
pub struct Ridge {
    /// L2 penalty strength, ≥ 0.
    pub alpha: f64,
    fitted: Option<Fitted<RidgeModel>>,
}

impl Ridge {
    const NAME: &'static str = "Ridge";

    /// Ridge regression with penalty `alpha`.
    pub fn new(alpha: f64) -> Self {
        Ridge { alpha, fitted: None }
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        require_non_negative(Self::NAME, "alpha", self.alpha)
    }
}

regressor_estimator!(Ridge, |m: &Ridge, x: &Matrix, y: &Vec<f64>| {
    RidgeRegression::fit(x, y, RidgeRegressionParameters::default().with_alpha(m.alpha))
});

/// Lasso regression (smartcore): least squares with an L1 penalty `alpha`, which sets some
/// coefficients exactly to zero.
#[derive(Debug, Default)]
pub struct Lasso {
    /// L1 penalty strength, ≥ 0.
    pub alpha: f64,
    fitted: Option<Fitted<LassoModel>>,
}

impl Lasso {
    const NAME: &'static str = "Lasso";

    /// Lasso with penalty `alpha`.
    pub fn new(alpha: f64) -> Self {
        Lasso { alpha, fitted: None }
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        require_non_negative(Self::NAME, "alpha", self.alpha)
    }
}

regressor_estimator!(Lasso, |m: &Lasso, x: &Matrix, y: &Vec<f64>| {
    SmartLasso::fit(x, y, LassoParameters::default().with_alpha(m.alpha))
});

/// Elastic net regression (smartcore): penalty `alpha · (l1_ratio · L1 + (1 − l1_ratio)/2 · L2)`.
#[derive(Debug)]
pub struct ElasticNet {
    /// Overall penalty strength, ≥ 0.
    pub alpha: f64,
    /// Share of the L1 part, in [0, 1] (1: lasso, 0: ridge).
    pub l1_ratio: f64,
    fitted: Option<Fitted<ElasticNetModel>>,
}

impl Default for ElasticNet {
    /// `alpha` 1, `l1_ratio` 0.5.
    fn default() -> Self {
        ElasticNet::new(1.0, 0.5)
    }
}

impl ElasticNet {
    const NAME: &'static str = "ElasticNet";

    /// Elastic net with penalty `alpha` and L1 share `l1_ratio`.
    pub fn new(alpha: f64, l1_ratio: f64) -> Self {
        ElasticNet { alpha, l1_ratio, fitted: None }
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        require_non_negative(Self::NAME, "alpha", self.alpha)?;
        require(
            Self::NAME,
            "l1_ratio",
            (0.0..=1.0).contains(&self.l1_ratio),
            "in [0, 1]",
            self.l1_ratio,
        )
    }
}

regressor_estimator!(ElasticNet, |m: &ElasticNet, x: &Matrix, y: &Vec<f64>| {
    SmartElasticNet::fit(
        x,
        y,
        ElasticNetParameters::default().with_alpha(m.alpha).with_l1_ratio(m.l1_ratio),
    )
});

// ---------------------------------------------------------------- support vector machines

/// The kernel of a support vector machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kernel {
    /// The dot product `x·y`.
    Linear,
    /// The radial basis function `exp(−gamma·‖x − y‖²)`; `gamma` > 0.
    Rbf {
        /// Inverse width of the kernel, > 0.
        gamma: f64,
    },
}

impl Kernel {
    fn validate(self, name: &str) -> Result<()> {
        match self {
            Kernel::Linear => Ok(()),
            Kernel::Rbf { gamma } => require(
                name,
                "kernel.gamma",
                gamma.is_finite() && gamma > 0.0,
                "finite and > 0",
                gamma,
            ),
        }
    }

    fn to_smartcore(self) -> Kernels {
        match self {
            Kernel::Linear => Kernels::linear(),
            Kernel::Rbf { gamma } => Kernels::rbf().with_gamma(gamma),
        }
    }
}

fn require_positive(name: &str, field: &str, value: f64) -> Result<()> {
    require(name, field, value.is_finite() && value > 0.0, "finite and > 0", value)
}

/// Training data kept by the SVM adapters (see [`Svc`]).
#[derive(Debug)]
struct Stored<Y> {
    x: Matrix,
    y: Y,
    n_features: usize,
}

impl<Y> Stored<Y> {
    fn get<'a>(stored: &'a Option<Stored<Y>>, name: &str, features: &Dataset) -> Result<&'a Self> {
        let stored = stored.as_ref().ok_or_else(|| {
            Error::Model(format!("{name}: predict called before fit; call fit first"))
        })?;
        if features.n_features() != stored.n_features {
            return Err(Error::Model(format!(
                "{name}: fitted on {} features but asked to predict from {}",
                stored.n_features,
                features.n_features()
            )));
        }
        Ok(stored)
    }
}

/// A support vector classifier (smartcore's SMO solver); one-vs-one voting for more than two
/// classes. No probabilities.
///
/// smartcore's fitted SVMs borrow their training data and settings, so this adapter checks
/// the hyperparameters and labels and keeps a copy of the training data at `fit`, and trains
/// at each `predict` (deterministically: the solver's seed is fixed). Scale the features first:
/// SVMs are sensitive to their ranges.
#[derive(Debug)]
pub struct Svc {
    /// Penalty on margin violations, > 0 (larger: fewer violations, less regularization).
    pub c: f64,
    /// The kernel.
    pub kernel: Kernel,
    /// Stopping tolerance of the solver, > 0.
    pub tol: f64,
    /// Passes of the solver over the data, ≥ 1.
    pub epochs: usize,
    stored: Option<Stored<Vec<i32>>>,
}

impl Default for Svc {
    /// `c` 1, linear kernel, `tol` 1e-3, 2 epochs.
    fn default() -> Self {
        Svc::new(1.0, Kernel::Linear)
    }
}

impl Svc {
    const NAME: &'static str = "Svc";

    /// A classifier with penalty `c` and `kernel`, other settings default.
    pub fn new(c: f64, kernel: Kernel) -> Self {
        Svc { c, kernel, tol: 1e-3, epochs: 2, stored: None }
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        require_positive(Self::NAME, "c", self.c)?;
        self.kernel.validate(Self::NAME)?;
        require_positive(Self::NAME, "tol", self.tol)?;
        require(Self::NAME, "epochs", self.epochs >= 1, "≥ 1", self.epochs)
    }
}

impl Estimator for Svc {
    fn fit(&mut self, data: &Dataset) -> Result<()> {
        self.validate()?;
        let y = class_labels(Self::NAME, data)?;
        let x = matrix(Self::NAME, data)?;
        self.stored = Some(Stored { x, y, n_features: data.n_features() });
        Ok(())
    }

    fn predict(&self, features: &Dataset) -> Result<Vec<f64>> {
        let stored = Stored::get(&self.stored, Self::NAME, features)?;
        let x = matrix(Self::NAME, features)?;
        let params: SVCParameters<f64, i32, Matrix, Vec<i32>> = SVCParameters::default()
            .with_c(self.c)
            .with_tol(self.tol)
            .with_epoch(self.epochs)
            .with_kernel(self.kernel.to_smartcore())
            .with_seed(Some(0));
        let n_classes = {
            let mut classes = stored.y.clone();
            classes.sort_unstable();
            classes.dedup();
            classes.len()
        };
        if n_classes == 2 {
            let model = guarded(Self::NAME, || SVC::fit(&stored.x, &stored.y, &params))?;
            guarded(Self::NAME, || model.predict(&x))
        } else {
            let model = guarded(Self::NAME, || MultiClassSVC::fit(&stored.x, &stored.y, &params))?;
            guarded(Self::NAME, || model.predict(&x))
        }
    }
}

/// Epsilon-insensitive support vector regression (smartcore's SMO solver).
///
/// Like [`Svc`], it keeps a copy of the training data at `fit` and trains at each `predict`.
#[derive(Debug)]
pub struct Svr {
    /// Penalty on errors beyond `eps`, > 0.
    pub c: f64,
    /// Half-width of the tube inside which errors cost nothing, ≥ 0 (in target units).
    pub eps: f64,
    /// The kernel.
    pub kernel: Kernel,
    /// Stopping tolerance of the solver, > 0.
    pub tol: f64,
    stored: Option<Stored<Vec<f64>>>,
}

impl Default for Svr {
    /// `c` 1, `eps` 0.1, linear kernel, `tol` 1e-3.
    fn default() -> Self {
        Svr::new(1.0, 0.1, Kernel::Linear)
    }
}

impl Svr {
    const NAME: &'static str = "Svr";

    /// A regressor with penalty `c`, tube half-width `eps` and `kernel`.
    pub fn new(c: f64, eps: f64, kernel: Kernel) -> Self {
        Svr { c, eps, kernel, tol: 1e-3, stored: None }
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        require_positive(Self::NAME, "c", self.c)?;
        require_non_negative(Self::NAME, "eps", self.eps)?;
        self.kernel.validate(Self::NAME)?;
        require_positive(Self::NAME, "tol", self.tol)
    }
}

impl Estimator for Svr {
    fn fit(&mut self, data: &Dataset) -> Result<()> {
        self.validate()?;
        let x = matrix(Self::NAME, data)?;
        self.stored = Some(Stored { x, y: data.target().to_vec(), n_features: data.n_features() });
        Ok(())
    }

    fn predict(&self, features: &Dataset) -> Result<Vec<f64>> {
        let stored = Stored::get(&self.stored, Self::NAME, features)?;
        let x = matrix(Self::NAME, features)?;
        let params = SVRParameters::default()
            .with_c(self.c)
            .with_eps(self.eps)
            .with_tol(self.tol)
            .with_kernel(self.kernel.to_smartcore());
        let model = guarded(Self::NAME, || SVR::fit(&stored.x, &stored.y, &params))?;
        guarded(Self::NAME, || model.predict(&x))
    }
}

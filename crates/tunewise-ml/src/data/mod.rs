//! Tabular data: a feature matrix, a target, optional groups, and the names of the columns.

mod csv_load;
pub mod datasets;

use crate::error::{Error, Result};

/// A table of numeric features with one target value per row, ready for splitting and scoring.
///
/// Features are stored **row-major** in one `Vec<f64>`: row `i` is
/// `features()[i * n_features() .. (i + 1) * n_features()]` (one allocation, and a row is a
/// plain slice). Every feature and target value is finite, every row has the same width and the
/// table has at least one row and one column: [`Dataset::new`] checks this once, so models and
/// splitters never have to.
///
/// Classification targets are class labels stored as `f64` (`0.0`, `1.0`, `2.0`…); regression
/// targets are the values themselves. Groups (patients, users, sessions…) are optional integer
/// labels used by [`GroupKFold`](crate::GroupKFold) to keep each group on one side of a split.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    features: Vec<f64>,
    n_features: usize,
    target: Vec<f64>,
    groups: Option<Vec<u64>>,
    feature_names: Vec<String>,
    target_name: String,
}

impl Dataset {
    /// A dataset from rows of features and one target value per row.
    ///
    /// Refused with [`Error::InvalidData`] when there are no rows or no columns, when the
    /// number of rows and of target values differ, when a row's width differs from the first
    /// row's, or when a feature or target value is NaN or infinite; the message names the row and
    /// column. Feature names default to `x0, x1, …` and the target's name to `target`.
    pub fn new(features: Vec<Vec<f64>>, target: Vec<f64>) -> Result<Self> {
        let n_features = features.first().map_or(0, Vec::len);
        if features.len() != target.len() {
            return Err(Error::InvalidData(format!(
                "{} feature rows but {} target values; give exactly one target value per row",
                features.len(),
                target.len()
            )));
        }
        for (i, row) in features.iter().enumerate() {
            if row.len() != n_features {
                return Err(Error::InvalidData(format!(
                    "row {i} has {} features but row 0 has {n_features}; every row needs the same \
                     number of columns (pad or drop the ragged rows)",
                    row.len()
                )));
            }
        }
        let flat: Vec<f64> = features.into_iter().flatten().collect();
        Self::from_flat(flat, n_features, target)
    }

    /// A dataset from a row-major feature buffer of `target.len() × n_features` values.
    ///
    /// The same checks as [`Dataset::new`]; the buffer's length must be a multiple of
    /// `n_features` that matches the number of target values.
    pub fn from_flat(features: Vec<f64>, n_features: usize, mut target: Vec<f64>) -> Result<Self> {
        if target.is_empty() {
            return Err(Error::InvalidData(
                "the dataset is empty (no rows); give at least one row of features and a target"
                    .into(),
            ));
        }
        if n_features == 0 {
            return Err(Error::InvalidData(
                "the rows have no features (0 columns); give at least one feature column".into(),
            ));
        }
        if features.len() != target.len() * n_features {
            return Err(Error::InvalidData(format!(
                "{} feature values do not make {} rows of {n_features} features \
                 (expected {}); give one target value per row",
                features.len(),
                target.len(),
                target.len() * n_features
            )));
        }
        if let Some(k) = features.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!(
                "row {}, column {} is {}; replace missing or infinite features \
                 (impute, or drop the row) before building the dataset",
                k / n_features,
                k % n_features,
                features[k]
            )));
        }
        if let Some(i) = target.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!(
                "the target of row {i} is {}; drop rows without a finite target",
                target[i]
            )));
        }
        // -0.0 and 0.0 are one class label: store 0.0 so that sorting with `total_cmp` (which
        // tells them apart) and comparing with `==` (which does not) agree.
        for t in &mut target {
            *t += 0.0;
        }
        let feature_names = (0..n_features).map(|j| format!("x{j}")).collect();
        Ok(Dataset {
            features,
            n_features,
            target,
            groups: None,
            feature_names,
            target_name: "target".into(),
        })
    }

    /// The same data with a group label per row (for [`GroupKFold`](crate::GroupKFold)).
    ///
    /// Refused when the number of labels differs from the number of rows.
    pub fn with_groups(mut self, groups: Vec<u64>) -> Result<Self> {
        if groups.len() != self.n_rows() {
            return Err(Error::InvalidData(format!(
                "{} group labels for {} rows; give exactly one group label per row",
                groups.len(),
                self.n_rows()
            )));
        }
        self.groups = Some(groups);
        Ok(self)
    }

    /// The same data with named feature columns.
    ///
    /// Refused when the number of names differs from the number of features.
    pub fn with_feature_names<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        if names.len() != self.n_features {
            return Err(Error::InvalidData(format!(
                "{} feature names for {} feature columns; give one name per column",
                names.len(),
                self.n_features
            )));
        }
        self.feature_names = names;
        Ok(self)
    }

    /// The same data with a named target.
    pub fn with_target_name(mut self, name: impl Into<String>) -> Self {
        self.target_name = name.into();
        self
    }

    /// Number of rows (records).
    pub fn n_rows(&self) -> usize {
        self.target.len()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The features of row `i`, or `None` past the last row.
    pub fn row(&self, i: usize) -> Option<&[f64]> {
        let start = i.checked_mul(self.n_features)?;
        self.features.get(start..start + self.n_features)
    }

    /// The rows in order, each as a slice of its features.
    pub fn rows(&self) -> impl Iterator<Item = &[f64]> + '_ {
        self.features.chunks_exact(self.n_features)
    }

    /// The whole feature matrix, row-major (`n_rows × n_features`).
    pub fn features(&self) -> &[f64] {
        &self.features
    }

    /// The feature matrix as an `nalgebra` matrix (`n_rows × n_features`), for linear models.
    pub fn feature_matrix(&self) -> nalgebra::DMatrix<f64> {
        nalgebra::DMatrix::from_row_slice(self.n_rows(), self.n_features, &self.features)
    }

    /// The target values, one per row.
    pub fn target(&self) -> &[f64] {
        &self.target
    }

    /// The group labels, one per row, when the dataset has them.
    pub fn groups(&self) -> Option<&[u64]> {
        self.groups.as_deref()
    }

    /// The names of the feature columns.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// The target's name.
    pub fn target_name(&self) -> &str {
        &self.target_name
    }

    /// The rows at `indices`, in that order (an index may repeat, as in a bootstrap sample).
    ///
    /// Refused when an index is past the last row, or when `indices` is empty.
    pub fn select(&self, indices: &[usize]) -> Result<Dataset> {
        if indices.is_empty() {
            return Err(Error::InvalidData(
                "cannot select zero rows: a dataset needs at least one row".into(),
            ));
        }
        let mut features = Vec::with_capacity(indices.len() * self.n_features);
        let mut target = Vec::with_capacity(indices.len());
        for &i in indices {
            let row = self.row(i).ok_or_else(|| {
                Error::InvalidData(format!(
                    "row index {i} is out of range: the dataset has {} rows (0..{})",
                    self.n_rows(),
                    self.n_rows()
                ))
            })?;
            features.extend_from_slice(row);
            target.push(self.target[i]);
        }
        Ok(Dataset {
            features,
            n_features: self.n_features,
            target,
            groups: self.groups.as_ref().map(|g| indices.iter().map(|&i| g[i]).collect()),
            feature_names: self.feature_names.clone(),
            target_name: self.target_name.clone(),
        })
    }

    /// The distinct target values, sorted increasingly (the class labels of a classification
    /// dataset).
    pub fn classes(&self) -> Vec<f64> {
        distinct_sorted(&self.target)
    }

    /// Each distinct target value with its number of rows, sorted by value.
    pub fn class_counts(&self) -> Vec<(f64, usize)> {
        class_counts(&self.target)
    }
}

/// The distinct values of `values`, sorted (a sorted `Vec`, never a hash set: the order must not
/// change from run to run).
pub(crate) fn distinct_sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// Each distinct value with its count, sorted by value.
pub(crate) fn class_counts(values: &[f64]) -> Vec<(f64, usize)> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mut out: Vec<(f64, usize)> = Vec::new();
    for x in v {
        match out.last_mut() {
            Some((last, n)) if *last == x => *n += 1,
            _ => out.push((x, 1)),
        }
    }
    out
}

//! Small classic datasets, shipped inside the `smartcore` crate (its `datasets` feature), as
//! [`Dataset`]s: for examples, tests and trying a tuning setup before pointing it at real data.
//!
//! smartcore stores the values as `f32`; they are widened to `f64` here (so a value reads, for
//! example, `5.099999904632568` instead of `5.1`). Each call decodes the embedded bytes again:
//! keep the result rather than calling in a loop.

use super::Dataset;

/// Converts one of smartcore's datasets. Its shape is fixed by the bytes embedded in smartcore,
/// so a failure here is a bug in that crate, reported as an error rather than a panic.
fn convert<Y: Copy + Into<f64>>(
    d: smartcore::dataset::Dataset<f32, Y>,
    feature_names: Option<Vec<String>>,
    target_name: &str,
) -> crate::Result<Dataset> {
    let features: Vec<f64> = d.data.iter().map(|&v| f64::from(v)).collect();
    let target: Vec<f64> = d.target.iter().map(|&v| v.into()).collect();
    let names = feature_names.unwrap_or(d.feature_names);
    Ok(Dataset::from_flat(features, d.num_features, target)?
        .with_feature_names(names)?
        .with_target_name(target_name))
}

/// Fisher's iris flowers: 150 rows, 4 features (sepal and petal length and width, cm), 3
/// balanced classes `0` setosa, `1` versicolor, `2` virginica. Multi-class classification.
pub fn iris() -> crate::Result<Dataset> {
    convert(smartcore::dataset::iris::load_dataset(), None, "species")
}

/// Wisconsin breast cancer diagnosis: 569 rows, 30 features, classes `0` and `1` (212 and 357
/// rows). Binary classification.
pub fn breast_cancer() -> crate::Result<Dataset> {
    convert(smartcore::dataset::breast_cancer::load_dataset(), None, "diagnosis")
}

/// Handwritten digits: 1797 rows of 8×8 images (64 features, pixel intensities 0–16), classes
/// `0`–`9`. Multi-class classification. Feature names are `pixel_<row>_<col>` (smartcore's own
/// names for this dataset are a copy of iris's and are not used).
pub fn digits() -> crate::Result<Dataset> {
    let names = (0..64).map(|k| format!("pixel_{}_{}", k / 8, k % 8)).collect();
    convert(smartcore::dataset::digits::load_dataset(), Some(names), "digit")
}

/// Diabetes progression: 442 rows, 10 standardized features (age, sex, BMI, blood pressure, six
/// serum measurements). Regression. smartcore ships the target (disease progression one year
/// later, 25–346) truncated to whole numbers.
pub fn diabetes() -> crate::Result<Dataset> {
    convert(smartcore::dataset::diabetes::load_dataset(), None, "progression")
}

/// Boston house prices: 506 rows, 13 features, target the median home value in $1000s.
/// Regression. Kept because smartcore ships it and it is a common teaching set; note that its
/// `B` feature encodes a racial statistic, which is why scikit-learn removed the dataset —
/// prefer [`diabetes`] for new examples.
pub fn boston() -> crate::Result<Dataset> {
    convert(smartcore::dataset::boston::load_dataset(), None, "price")
}

//! What several examples share (a module, not an example of its own).

use tunewise_ml::{datasets, Dataset};

/// Breast cancer with malignant tumours as the positive class (label 1).
pub fn malignant_positive() -> Result<Dataset, tunewise_ml::Error> {
    let data = datasets::breast_cancer()?;
    // smartcore's labels: 0 malignant (212 records), 1 benign (357).
    let flipped: Vec<f64> = data.target().iter().map(|y| 1.0 - y).collect();
    Dataset::from_flat(data.features().to_vec(), data.n_features(), flipped)
}

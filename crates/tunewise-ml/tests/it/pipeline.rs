//! Pipeline steps: `Standardized` learns its scaling from the training rows only and makes an RBF
//! SVM work on breast cancer; `Thresholded` trades recall for precision as its threshold rises;
//! bad settings, targets and models are refused with errors saying what to do.

use tunewise_ml::{
    accuracy, datasets, precision, precision_recall_curve, recall, threshold_for, train_test_split,
    Average, Dataset, Error, Estimator, Kernel, LogisticRegression, Standardized, Svc, Target,
    Thresholded,
};

const POSITIVE: Average = Average::Binary { positive: 1.0 };

fn err_text<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(e) => e.to_string(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

fn assert_close(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-12, "{actual:?} vs {expected:?}");
    }
}

/// Keeps the data it was fitted on and predicts the first feature of each row: shows exactly
/// what a pipeline step hands to its inner model.
#[derive(Debug, Default)]
struct Echo {
    fitted_on: Option<Dataset>,
}

impl Estimator for Echo {
    fn fit(&mut self, data: &Dataset) -> tunewise_ml::Result<()> {
        self.fitted_on = Some(data.clone());
        Ok(())
    }

    fn predict(&self, features: &Dataset) -> tunewise_ml::Result<Vec<f64>> {
        Ok(features.rows().map(|r| r[0]).collect())
    }
}

/// A "classifier" whose probability of the larger label is the first feature of the row.
#[derive(Debug, Default)]
struct FirstFeatureIsProbability;

impl Estimator for FirstFeatureIsProbability {
    fn fit(&mut self, _: &Dataset) -> tunewise_ml::Result<()> {
        Ok(())
    }

    fn predict(&self, features: &Dataset) -> tunewise_ml::Result<Vec<f64>> {
        Ok(features.rows().map(|r| f64::from(u8::from(r[0] >= 0.5))).collect())
    }

    fn predict_proba(&self, features: &Dataset) -> tunewise_ml::Result<Option<Vec<f64>>> {
        Ok(Some(features.rows().map(|r| r[0]).collect()))
    }
}

/// Training rows A: x0 = 1, 3, 5, 7 (mean 4, population sd √5), x1 = 10, 10, 20, 20 (mean 15,
/// sd 5), with groups and names that must survive the transform.
fn rows_a() -> Dataset {
    Dataset::new(
        vec![vec![1.0, 10.0], vec![3.0, 10.0], vec![5.0, 20.0], vec![7.0, 20.0]],
        vec![0.0, 0.0, 1.0, 1.0],
    )
    .unwrap()
    .with_groups(vec![1, 1, 2, 2])
    .unwrap()
    .with_feature_names(["size", "weight"])
    .unwrap()
    .with_target_name("label")
}

/// Other rows B, far from A's statistics (B's own mean is (50, 500)).
fn rows_b() -> Dataset {
    Dataset::new(vec![vec![4.0, 25.0], vec![96.0, 975.0]], vec![1.0, 0.0])
        .unwrap()
        .with_groups(vec![7, 8])
        .unwrap()
}

#[test]
fn standardization_uses_the_training_rows_statistics_only() {
    let mut model = Standardized::new(Echo::default());
    model.fit(&rows_a()).unwrap();
    let sqrt5 = 5f64.sqrt();
    assert_close(model.means().unwrap(), &[4.0, 15.0]);
    assert_close(model.std_devs().unwrap(), &[sqrt5, 5.0]);

    // The inner model was fitted on A standardized, with A's target, groups and names.
    let seen = model.inner().fitted_on.as_ref().unwrap();
    assert_close(
        seen.features(),
        &[-3.0 / sqrt5, -1.0, -1.0 / sqrt5, -1.0, 1.0 / sqrt5, 1.0, 3.0 / sqrt5, 1.0],
    );
    assert_eq!(seen.target(), rows_a().target());
    assert_eq!(seen.groups(), Some(&[1, 1, 2, 2][..]));
    assert_eq!(seen.feature_names(), ["size", "weight"]);
    assert_eq!(seen.target_name(), "label");

    // B is transformed with A's statistics: (4 − 4)/√5, (25 − 15)/5, (96 − 4)/√5, (975 − 15)/5.
    let b = model.transform(&rows_b()).unwrap();
    assert_close(b.features(), &[0.0, 2.0, 92.0 / sqrt5, 192.0]);
    assert_eq!(b.target(), &[1.0, 0.0]);
    assert_eq!(b.groups(), Some(&[7, 8][..]));
    // `predict` hands the inner model the same transformed rows.
    assert_close(&model.predict(&rows_b()).unwrap(), &[0.0, 92.0 / sqrt5]);
    // Predicting B does not change what was learned from A.
    assert_close(model.means().unwrap(), &[4.0, 15.0]);

    // Refitting on B replaces A's statistics.
    model.fit(&rows_b()).unwrap();
    assert_close(model.means().unwrap(), &[50.0, 500.0]);
}

#[test]
fn a_constant_column_is_centred_and_not_scaled() {
    // Column 1 is constant (0.1, not exactly representable: its mean must still be exact).
    let train =
        Dataset::new(vec![vec![1.0, 0.1], vec![2.0, 0.1], vec![3.0, 0.1]], vec![0.0; 3]).unwrap();
    let mut model = Standardized::new(Echo::default());
    model.fit(&train).unwrap();
    assert_eq!(model.means().unwrap()[1], 0.1);
    assert_eq!(model.std_devs().unwrap()[1], 0.0);
    let seen = model.inner().fitted_on.as_ref().unwrap();
    assert!(seen.rows().all(|r| r[1] == 0.0), "{:?}", seen.features());
    // New values of the constant column are shifted by its mean, not divided by 0.
    let other = Dataset::new(vec![vec![2.0, 2.1], vec![2.0, -0.9]], vec![0.0; 2]).unwrap();
    let out = model.transform(&other).unwrap();
    assert_close(out.features(), &[0.0, 2.0, 0.0, -1.0]);

    // A single training row makes every column constant.
    let one = Dataset::new(vec![vec![5.0, -3.0]], vec![1.0]).unwrap();
    model.fit(&one).unwrap();
    assert_eq!(model.std_devs().unwrap(), &[0.0, 0.0]);
    assert_close(model.transform(&other).unwrap().features(), &[-3.0, 5.1, -3.0, 2.1]);
}

#[test]
fn a_different_number_of_features_is_an_error_naming_both_counts() {
    let mut model = Standardized::new(Echo::default());
    model.fit(&rows_a()).unwrap();
    let wide = Dataset::new(vec![vec![1.0, 2.0, 3.0]], vec![0.0]).unwrap();
    for text in [
        err_text(model.predict(&wide)),
        err_text(model.predict_proba(&wide)),
        err_text(model.transform(&wide)),
    ] {
        assert!(text.contains("fitted on 2 features but given 3"), "{text}");
        assert!(text.starts_with("model error: Standardized"), "{text}");
    }
}

#[test]
fn predicting_before_fit_is_a_model_error() {
    let model = Standardized::new(Echo::default());
    assert!(model.means().is_none() && model.std_devs().is_none());
    for result in [model.predict(&rows_a()).map(|_| ()), model.transform(&rows_a()).map(|_| ())] {
        match result {
            Err(Error::Model(text)) => {
                assert!(text.contains("before fit") && text.contains("call fit"), "{text}")
            }
            other => panic!("expected a model error, got {other:?}"),
        }
    }
    let text = err_text(model.predict_proba(&rows_a()));
    assert!(text.contains("before fit"), "{text}");

    let thresholded = Thresholded::new(FirstFeatureIsProbability, 0.5);
    let text = err_text(thresholded.predict(&rows_a()));
    assert!(text.contains("Thresholded") && text.contains("before fit"), "{text}");
}

/// A stratified 30 % hold-out of all 569 breast-cancer rows.
fn breast_cancer_holdout() -> (Dataset, Dataset) {
    let data = datasets::breast_cancer().unwrap();
    let split = train_test_split(&data, 0.3, 11, true).unwrap();
    (data.select(&split.train).unwrap(), data.select(&split.test).unwrap())
}

#[test]
fn an_rbf_svm_on_breast_cancer_is_far_better_standardized() {
    let (train, test) = breast_cancer_holdout();
    // scikit-learn's default gamma for unit-variance features: 1 / (number of features).
    let kernel = Kernel::Rbf { gamma: 1.0 / 30.0 };
    let mut raw = Svc::new(1.0, kernel);
    raw.fit(&train).unwrap();
    let raw_accuracy = accuracy(test.target(), &raw.predict(&test).unwrap()).unwrap();
    let mut scaled = Standardized::new(Svc::new(1.0, kernel));
    scaled.fit(&train).unwrap();
    let scaled_accuracy = accuracy(test.target(), &scaled.predict(&test).unwrap()).unwrap();
    eprintln!(
        "RBF Svc held-out accuracy: raw {raw_accuracy:.4}, standardized {scaled_accuracy:.4}"
    );
    assert!(scaled_accuracy > 0.93, "standardized {scaled_accuracy}");
    assert!(
        scaled_accuracy > raw_accuracy + 0.2,
        "standardized {scaled_accuracy} vs raw {raw_accuracy}"
    );
}

#[test]
fn thresholds_zero_and_one_predict_all_positive_and_almost_all_negative() {
    let (train, test) = breast_cancer_holdout();
    let mut model = Thresholded::new(Standardized::new(LogisticRegression::new(1.0)), 0.0);
    model.fit(&train).unwrap();
    assert_eq!(model.labels(), Some((0.0, 1.0)));
    assert!(model.predict(&test).unwrap().iter().all(|&y| y == 1.0));

    // The threshold is read at `predict`: no refit needed.
    model.threshold = 1.0;
    let predicted = model.predict(&test).unwrap();
    let positives = predicted.iter().filter(|&&y| y == 1.0).count();
    eprintln!("threshold 1: {positives} of {} rows predicted positive", test.n_rows());
    // Only a probability that rounds to exactly 1.0 reaches the threshold.
    assert!(positives * 20 <= test.n_rows(), "{positives} of {}", test.n_rows());
    // The probabilities are the inner model's, whatever the threshold.
    let inner = model.inner().predict_proba(&test).unwrap();
    assert_eq!(model.predict_proba(&test).unwrap(), inner);
}

#[test]
fn raising_the_threshold_lowers_recall_and_raises_precision() {
    let (train, test) = breast_cancer_holdout();
    let mut points = Vec::new();
    for threshold in [0.05, 0.2, 0.5, 0.8, 0.95] {
        let mut model =
            Thresholded::new(Standardized::new(LogisticRegression::new(1.0)), threshold);
        model.fit(&train).unwrap();
        let predicted = model.predict(&test).unwrap();
        let p = precision(test.target(), &predicted, POSITIVE).unwrap();
        let r = recall(test.target(), &predicted, POSITIVE).unwrap();
        eprintln!("threshold {threshold}: precision {p:.4}, recall {r:.4}");
        points.push((p, r));
    }
    // Fewer rows are predicted positive at a higher threshold: recall cannot rise.
    for w in points.windows(2) {
        assert!(w[1].1 <= w[0].1, "{points:?}");
    }
    let (first, last) = (points[0], points[points.len() - 1]);
    assert!(last.1 < first.1 - 0.05, "recall {points:?}");
    assert!(last.0 > first.0 + 0.03, "precision {points:?}");
}

#[test]
fn a_threshold_from_the_precision_recall_curve_gives_that_curves_point() {
    let (train, test) = breast_cancer_holdout();
    let mut model = Thresholded::new(Standardized::new(LogisticRegression::new(1.0)), 0.5);
    model.fit(&train).unwrap();
    let scores = model.predict_proba(&test).unwrap().unwrap();
    let curve = precision_recall_curve(test.target(), &scores, 1.0).unwrap();
    let threshold = threshold_for(&curve, Target::MinPrecision(0.99)).unwrap();
    let point = curve.iter().find(|c| c.threshold == threshold).unwrap();
    model.threshold = threshold;
    let predicted = model.predict(&test).unwrap();
    assert_eq!(precision(test.target(), &predicted, POSITIVE).unwrap(), point.precision);
    assert_eq!(recall(test.target(), &predicted, POSITIVE).unwrap(), point.recall);
    assert!(point.precision >= 0.99);
}

#[test]
fn thresholded_predicts_the_two_training_labels_at_the_threshold() {
    // Labels 2 and 5: the larger is the positive one; a probability equal to the threshold is
    // positive.
    let train = Dataset::new(vec![vec![0.1], vec![0.9]], vec![5.0, 2.0]).unwrap();
    let rows = Dataset::new(vec![vec![0.2], vec![0.5], vec![0.7]], vec![0.0; 3]).unwrap();
    let mut model = Thresholded::new(FirstFeatureIsProbability, 0.5);
    model.fit(&train).unwrap();
    assert_eq!(model.labels(), Some((2.0, 5.0)));
    assert_eq!(model.predict(&rows).unwrap(), vec![2.0, 5.0, 5.0]);
    assert_eq!(model.predict_proba(&rows).unwrap(), Some(vec![0.2, 0.5, 0.7]));

    // A probability outside [0, 1] from the inner model is an error, not a silent label.
    let bad = Dataset::new(vec![vec![1.5]], vec![0.0]).unwrap();
    let text = err_text(model.predict(&bad));
    assert!(text.contains("probability 1.5 for row 0"), "{text}");
}

#[test]
fn bad_thresholds_targets_and_models_are_refused() {
    let binary = Dataset::new(vec![vec![0.1], vec![0.9]], vec![0.0, 1.0]).unwrap();
    for threshold in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
        let mut model = Thresholded::new(FirstFeatureIsProbability, threshold);
        match model.fit(&binary) {
            Err(Error::InvalidConfig(text)) => {
                assert!(text.contains("Thresholded.threshold"), "{text}");
                assert!(text.contains(&format!("got {threshold}")), "{text}");
                assert!(text.contains("[0, 1]"), "{text}");
            }
            other => panic!("threshold {threshold}: expected invalid setting, got {other:?}"),
        }
    }

    // A threshold changed after `fit` is checked at `predict`.
    let mut model = Thresholded::new(FirstFeatureIsProbability, 0.5);
    model.fit(&binary).unwrap();
    model.threshold = 2.0;
    match model.predict(&binary) {
        Err(Error::InvalidConfig(text)) => assert!(text.contains("threshold"), "{text}"),
        other => panic!("expected invalid setting, got {other:?}"),
    }

    let mut model = Thresholded::new(LogisticRegression::new(1.0), 0.5);
    match model.fit(&datasets::iris().unwrap()) {
        Err(Error::InvalidData(text)) => {
            assert!(
                text.contains("exactly 2 classes") && text.contains("has 3 (0, 1, 2)"),
                "{text}"
            );
            assert!(text.contains("inner model itself"), "{text}");
        }
        other => panic!("expected invalid data, got {other:?}"),
    }
    let one_class = Dataset::new(vec![vec![0.1], vec![0.9]], vec![1.0, 1.0]).unwrap();
    let text = err_text(Thresholded::new(FirstFeatureIsProbability, 0.5).fit(&one_class));
    assert!(text.contains("has 1 (1)"), "{text}");

    // Svc has no probabilities.
    let mut model = Thresholded::new(Svc::new(1.0, Kernel::Linear), 0.5);
    match model.fit(&binary) {
        Err(Error::Model(text)) => {
            assert!(text.contains("no probabilities") && text.contains("LogisticRegression"));
            assert!(text.contains("own predict"), "{text}");
        }
        other => panic!("expected a model error, got {other:?}"),
    }
    assert_eq!(model.labels(), None, "a refused fit leaves the model unfitted");
}

#[test]
fn pipeline_steps_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Standardized<Svc>>();
    send_sync::<Thresholded<Standardized<LogisticRegression>>>();
    send_sync::<Standardized<Box<dyn Estimator>>>();
}

mod properties {
    use proptest::prelude::*;
    use tunewise_ml::{Dataset, Estimator, Standardized};

    use super::Echo;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// On the training rows, every standardized column has mean 0 and standard deviation 1,
        /// or is all zeros when it was constant.
        #[test]
        fn training_columns_get_zero_mean_and_unit_variance(
            rows in proptest::collection::vec(
                proptest::collection::vec(-1e6f64..1e6, 3), 1..40),
            constant in -1e3f64..1e3,
        ) {
            let n = rows.len();
            let rows: Vec<Vec<f64>> =
                rows.into_iter().map(|mut r| { r[2] = constant; r }).collect();
            let data = Dataset::new(rows, vec![0.0; n]).unwrap();
            let mut model = Standardized::new(Echo::default());
            model.fit(&data).unwrap();
            let seen = model.inner().fitted_on.clone().unwrap();
            for j in 0..3 {
                let column: Vec<f64> = seen.rows().map(|r| r[j]).collect();
                let mean = column.iter().sum::<f64>() / n as f64;
                let var = column.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
                prop_assert!(mean.abs() < 1e-9, "column {} mean {}", j, mean);
                let constant_column = data.rows().all(|r| r[j] == data.features()[j]);
                if constant_column {
                    prop_assert!(column.iter().all(|&x| x == 0.0), "column {}", j);
                } else {
                    prop_assert!((var - 1.0).abs() < 1e-9, "column {} variance {}", j, var);
                }
            }
        }
    }
}

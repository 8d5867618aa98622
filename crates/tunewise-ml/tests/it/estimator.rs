//! Estimator adapters: each fits a small subset of a classic dataset and beats a trivial
//! baseline on a held-out split; bad hyperparameters and unusable targets are refused.

use tunewise_ml::{
    accuracy, datasets, r2, roc_auc, train_test_split, Dataset, DecisionTree, ElasticNet, Error,
    Estimator, Kernel, Knn, Lasso, LogisticRegression, RandomForest, Ridge, Svc, Svr,
};

/// A stratified (classification) or plain (regression) 30 % hold-out of the first `n` rows of
/// a shuffled dataset.
fn holdout(data: &Dataset, n: usize, stratify: bool) -> (Dataset, Dataset) {
    let data = if n < data.n_rows() {
        let subset = train_test_split(data, n as f64 / data.n_rows() as f64, 7, stratify)
            .expect("subset")
            .test;
        data.select(&subset).expect("select")
    } else {
        data.clone()
    };
    let split = train_test_split(&data, 0.3, 11, stratify).expect("split");
    (data.select(&split.train).expect("train"), data.select(&split.test).expect("test"))
}

fn majority_accuracy(train: &Dataset, test: &Dataset) -> f64 {
    let counts = train.class_counts();
    let majority = counts.iter().max_by_key(|(_, n)| *n).map(|(c, _)| *c).expect("classes");
    accuracy(test.target(), &vec![majority; test.n_rows()]).expect("accuracy")
}

fn classifier_accuracy(model: &mut dyn Estimator, train: &Dataset, test: &Dataset) -> f64 {
    model.fit(train).expect("fit");
    let predicted = model.predict(test).expect("predict");
    assert_eq!(predicted.len(), test.n_rows());
    accuracy(test.target(), &predicted).expect("accuracy")
}

fn err_text<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(e) => e.to_string(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

fn classifiers() -> Vec<(&'static str, Box<dyn Estimator>)> {
    vec![
        ("LogisticRegression", Box::new(LogisticRegression::new(0.1))),
        ("DecisionTree", Box::new(DecisionTree::new(Some(5)))),
        ("RandomForest", Box::new(RandomForest::new(15, 3))),
        ("Knn", Box::new(Knn::new(5))),
        ("Svc", Box::new(Svc::new(1.0, Kernel::Linear))),
    ]
}

#[test]
fn classifiers_beat_the_majority_class_on_iris() {
    let (train, test) = holdout(&datasets::iris().unwrap(), 150, true);
    let baseline = majority_accuracy(&train, &test);
    for (name, mut model) in classifiers() {
        let acc = classifier_accuracy(model.as_mut(), &train, &test);
        assert!(acc > 0.85 && acc > baseline + 0.4, "{name}: {acc} vs baseline {baseline}");
        // Three classes: no binary probability.
        assert_eq!(model.predict_proba(&test).unwrap(), None, "{name}");
    }
}

#[test]
fn classifiers_beat_the_majority_class_on_breast_cancer() {
    let (train, test) = holdout(&datasets::breast_cancer().unwrap(), 200, true);
    // Standardized: the SVM solver does not converge on the raw feature ranges.
    let (train, test) = standardized(&train, &test);
    let baseline = majority_accuracy(&train, &test);
    for (name, mut model) in classifiers() {
        let acc = classifier_accuracy(model.as_mut(), &train, &test);
        assert!(acc > 0.8 && acc > baseline + 0.15, "{name}: {acc} vs baseline {baseline}");
        if let Some(proba) = model.predict_proba(&test).unwrap() {
            assert_eq!(proba.len(), test.n_rows());
            assert!(proba.iter().all(|p| (0.0..=1.0).contains(p)), "{name}");
            let auc = roc_auc(test.target(), &proba, 1.0).unwrap();
            assert!(auc > 0.85, "{name}: AUC {auc}");
            // The probability agrees with the predicted label (away from ½).
            let predicted = model.predict(&test).unwrap();
            for (p, y) in proba.iter().zip(&predicted) {
                if (p - 0.5).abs() > 0.01 {
                    assert_eq!(*y, f64::from(u8::from(*p > 0.5)), "{name}: p = {p}");
                }
            }
        } else {
            assert!(name == "RandomForest" || name == "Svc", "{name}");
        }
    }
}

#[test]
fn regressors_beat_the_mean_on_diabetes() {
    // Linear models are fast: all 442 rows (150-row subsets make r² too noisy to test).
    let (train, test) = holdout(&datasets::diabetes().unwrap(), 442, false);
    let mut models: Vec<(&str, Box<dyn Estimator>)> = vec![
        ("Ridge", Box::new(Ridge::new(1.0))),
        ("Lasso", Box::new(Lasso::new(1.0))),
        ("ElasticNet", Box::new(ElasticNet::new(0.1, 0.5))),
    ];
    for (name, model) in &mut models {
        model.fit(&train).expect("fit");
        let predicted = model.predict(&test).expect("predict");
        // A constant prediction (the mean) scores r² ≤ 0 on held-out data.
        let score = r2(test.target(), &predicted).unwrap();
        assert!(score > 0.3, "{name}: r² {score}");
        assert_eq!(model.predict_proba(&test).unwrap(), None);
    }
}

fn tree_with_min_split(min_samples_split: usize) -> DecisionTree {
    let mut tree = DecisionTree::default();
    tree.min_samples_split = min_samples_split;
    tree
}

#[test]
fn bad_hyperparameters_are_refused_naming_the_field() {
    let data = datasets::iris().unwrap();
    let cases: Vec<(Box<dyn Estimator>, &str)> = vec![
        (Box::new(LogisticRegression::new(-1.0)), "LogisticRegression.alpha"),
        (Box::new(LogisticRegression::new(f64::NAN)), "LogisticRegression.alpha"),
        (Box::new(DecisionTree::new(Some(0))), "DecisionTree.max_depth"),
        (Box::new(tree_with_min_split(1)), "DecisionTree.min_samples_split"),
        (Box::new(RandomForest::new(0, 1)), "RandomForest.n_trees"),
        (Box::new(RandomForest::new(70_000, 1)), "RandomForest.n_trees"),
        (Box::new(Knn::new(0)), "Knn.k"),
        (Box::new(Knn::new(1)), "Knn.k"),
        (Box::new(Knn::new(151)), "Knn.k"),
        (Box::new(Ridge::new(-0.5)), "Ridge.alpha"),
        (Box::new(Lasso::new(f64::INFINITY)), "Lasso.alpha"),
        (Box::new(ElasticNet::new(1.0, 1.5)), "ElasticNet.l1_ratio"),
        (Box::new(ElasticNet::new(-1.0, 0.5)), "ElasticNet.alpha"),
        (Box::new(Svc::new(0.0, Kernel::Linear)), "Svc.c"),
        (Box::new(Svc::new(1.0, Kernel::Rbf { gamma: -1.0 })), "Svc.kernel.gamma"),
        (Box::new(Svr::new(1.0, -0.1, Kernel::Linear)), "Svr.eps"),
        (Box::new(Svr::new(f64::NAN, 0.1, Kernel::Linear)), "Svr.c"),
    ];
    for (mut model, field) in cases {
        let text = err_text(model.fit(&data));
        assert!(text.contains(field), "{field}: {text}");
        assert!(text.starts_with("invalid setting"), "{text}");
    }
}

#[test]
fn classifiers_refuse_a_single_class_and_non_integer_labels() {
    let one_class =
        Dataset::new(vec![vec![0.0], vec![1.0], vec![2.0], vec![3.0]], vec![1.0; 4]).unwrap();
    let fractional =
        Dataset::new(vec![vec![0.0], vec![1.0], vec![2.0]], vec![0.0, 1.5, 1.0]).unwrap();
    for (name, mut model) in classifiers() {
        let text = err_text(model.fit(&one_class));
        assert!(text.contains(name) && text.contains("at least two classes"), "{text}");
        let text = err_text(model.fit(&fractional));
        assert!(text.contains(name) && text.contains("integer class labels"), "{text}");
    }
}

#[test]
fn predicting_before_fit_or_with_the_wrong_width_is_an_error() {
    let data = datasets::iris().unwrap();
    let narrow = Dataset::new(vec![vec![1.0, 2.0]], vec![0.0]).unwrap();
    for (name, mut model) in classifiers() {
        let text = err_text(model.predict(&data));
        assert!(text.contains(name) && text.contains("before fit"), "{text}");
        model.fit(&data).unwrap();
        let text = err_text(model.predict(&narrow));
        assert!(text.contains("fitted on 4 features"), "{name}: {text}");
    }
}

#[test]
fn estimators_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<LogisticRegression>();
    send_sync::<DecisionTree>();
    send_sync::<RandomForest>();
    send_sync::<Knn>();
    send_sync::<Ridge>();
    send_sync::<Lasso>();
    send_sync::<ElasticNet>();
    send_sync::<Svc>();
    send_sync::<Svr>();
    send_sync::<Box<dyn Estimator>>();
}

/// Features standardized with the training rows' mean and standard deviation (SVMs need it).
fn standardized(train: &Dataset, test: &Dataset) -> (Dataset, Dataset) {
    let p = train.n_features();
    let n = train.n_rows() as f64;
    let mean: Vec<f64> = (0..p).map(|j| train.rows().map(|r| r[j]).sum::<f64>() / n).collect();
    let sd: Vec<f64> = (0..p)
        .map(|j| {
            (train.rows().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt().max(1e-12)
        })
        .collect();
    let scale = |d: &Dataset| {
        let rows = d.rows().map(|r| (0..p).map(|j| (r[j] - mean[j]) / sd[j]).collect()).collect();
        Dataset::new(rows, d.target().to_vec()).unwrap()
    };
    (scale(train), scale(test))
}

#[test]
fn svc_separates_iris_with_both_kernels() {
    let (train, test) = holdout(&datasets::iris().unwrap(), 150, true);
    let (train, test) = standardized(&train, &test);
    let baseline = majority_accuracy(&train, &test);
    for kernel in [Kernel::Linear, Kernel::Rbf { gamma: 0.5 }] {
        let acc = classifier_accuracy(&mut Svc::new(1.0, kernel), &train, &test);
        assert!(acc > 0.85 && acc > baseline + 0.4, "{kernel:?}: {acc}");
    }
}

#[test]
fn svr_beats_the_mean_on_diabetes() {
    let (train, test) = holdout(&datasets::diabetes().unwrap(), 442, false);
    let (train, test) = standardized(&train, &test);
    let mut model = Svr::new(10.0, 5.0, Kernel::Linear);
    model.fit(&train).unwrap();
    let score = r2(test.target(), &model.predict(&test).unwrap()).unwrap();
    assert!(score > 0.3, "r² {score}"); // the mean scores ≤ 0
}

#[test]
fn smartcore_failures_become_model_errors_naming_the_adapter() {
    // smartcore's linear models standardize the features and refuse a constant column.
    let constant = Dataset::new(vec![vec![1.0, 2.0]; 4], vec![0.0, 1.0, 0.0, 1.0]).unwrap();
    let models: Vec<(&str, Box<dyn Estimator>)> = vec![
        ("Ridge", Box::new(Ridge::new(1.0))),
        ("Lasso", Box::new(Lasso::new(1.0))),
        ("ElasticNet", Box::new(ElasticNet::default())),
    ];
    for (name, mut model) in models {
        match model.fit(&constant) {
            Err(Error::Model(text)) => assert!(text.starts_with(name), "{text}"),
            other => panic!("{name}: expected a model error, got {other:?}"),
        }
    }
}

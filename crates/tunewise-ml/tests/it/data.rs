//! Dataset construction, selection, CSV loading and the built-in datasets.

use tunewise_ml::{datasets, Dataset, Error};

fn err_text<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(e) => e.to_string(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

fn small() -> Dataset {
    Dataset::new(
        vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0], vec![7.0, 8.0]],
        vec![0.0, 1.0, 1.0, 2.0],
    )
    .unwrap()
}

#[test]
fn rows_and_shape() {
    let d = small();
    assert_eq!((d.n_rows(), d.n_features()), (4, 2));
    assert_eq!(d.row(2), Some(&[5.0, 6.0][..]));
    assert_eq!(d.row(4), None);
    assert_eq!(d.rows().count(), 4);
    assert_eq!(d.features(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    assert_eq!(d.feature_names(), &["x0".to_string(), "x1".to_string()]);
    let m = d.feature_matrix();
    assert_eq!((m.nrows(), m.ncols(), m[(3, 1)]), (4, 2, 8.0));
}

#[test]
fn select_subsets_rows_in_order_with_groups() {
    let d = small().with_groups(vec![10, 11, 12, 13]).unwrap();
    let s = d.select(&[3, 0, 3]).unwrap();
    assert_eq!(s.target(), &[2.0, 0.0, 2.0]);
    assert_eq!(s.row(1), Some(&[1.0, 2.0][..]));
    assert_eq!(s.groups(), Some(&[13, 10, 13][..]));
    assert!(err_text(d.select(&[4])).contains("row index 4 is out of range"));
    assert!(err_text(d.select(&[])).contains("zero rows"));
}

#[test]
fn classes_are_sorted_and_counted() {
    let d = Dataset::new(vec![vec![0.0]; 6], vec![2.0, 0.0, 2.0, 1.0, 2.0, 0.0]).unwrap();
    assert_eq!(d.classes(), vec![0.0, 1.0, 2.0]);
    assert_eq!(d.class_counts(), vec![(0.0, 2), (1.0, 1), (2.0, 3)]);
}

#[test]
fn bad_data_is_refused_with_the_place_named() {
    let m = err_text(Dataset::new(vec![vec![1.0], vec![2.0]], vec![1.0]));
    assert!(m.contains("2 feature rows but 1 target values"), "{m}");
    let m = err_text(Dataset::new(vec![vec![1.0, 2.0], vec![2.0]], vec![1.0, 2.0]));
    assert!(m.contains("row 1 has 1 features but row 0 has 2"), "{m}");
    let m = err_text(Dataset::new(vec![vec![1.0, 2.0], vec![2.0, f64::NAN]], vec![1.0, 2.0]));
    assert!(m.contains("row 1, column 1 is NaN"), "{m}");
    let m = err_text(Dataset::new(vec![vec![f64::INFINITY]], vec![1.0]));
    assert!(m.contains("row 0, column 0 is inf"), "{m}");
    let m = err_text(Dataset::new(vec![vec![1.0]], vec![f64::NAN]));
    assert!(m.contains("target of row 0 is NaN"), "{m}");
    let m = err_text(Dataset::new(vec![], vec![]));
    assert!(m.contains("empty"), "{m}");
    let m = err_text(Dataset::new(vec![vec![], vec![]], vec![1.0, 2.0]));
    assert!(m.contains("no features"), "{m}");
    let m = err_text(small().with_groups(vec![1, 2]));
    assert!(m.contains("2 group labels for 4 rows"), "{m}");
    let m = err_text(small().with_feature_names(["a"]));
    assert!(m.contains("1 feature names for 2 feature columns"), "{m}");
}

#[test]
fn csv_loads_features_target_and_groups() {
    let text = "a, y ,g,b\n1,0,p1,2.5\n3,1,p2,-4e-1\n5,1,p1,6\n";
    let d = Dataset::from_csv_reader(text.as_bytes(), "y");
    // Without a group column the text column `g` is a feature, and not numeric.
    let m = err_text(d);
    assert!(m.contains("cell 'p1'") && m.contains("line 2") && m.contains("column 'g'"), "{m}");

    let d = Dataset::from_csv_reader_with_groups(text.as_bytes(), "y", Some("g")).unwrap();
    assert_eq!(d.feature_names(), &["a".to_string(), "b".to_string()]);
    assert_eq!(d.target_name(), "y");
    assert_eq!(d.target(), &[0.0, 1.0, 1.0]);
    assert_eq!(d.row(1), Some(&[3.0, -0.4][..]));
    assert_eq!(d.groups(), Some(&[0, 1, 0][..]));
}

#[test]
fn csv_errors_name_row_column_and_cell() {
    let m = err_text(Dataset::from_csv_reader("a,b\n1,2\n".as_bytes(), "label"));
    assert!(m.contains("'label' is not in the CSV header") && m.contains("a, b"), "{m}");
    let m = err_text(Dataset::from_csv_reader("a,y\n1,2\n3,\n".as_bytes(), "y"));
    assert!(m.contains("missing value at line 3") && m.contains("column 'y'"), "{m}");
    let m = err_text(Dataset::from_csv_reader("a,y\n1,2\nx1,3\n".as_bytes(), "y"));
    assert!(m.contains("cell 'x1' at line 3") && m.contains("column 'a'"), "{m}");
    let m = err_text(Dataset::from_csv_reader("a,y\n1,2\nnan,3\n".as_bytes(), "y"));
    assert!(m.contains("cell 'nan'"), "{m}");
    let m = err_text(Dataset::from_csv_reader("a,y\n".as_bytes(), "y"));
    assert!(m.contains("no data rows"), "{m}");
    let m = err_text(Dataset::from_csv_reader("".as_bytes(), "y"));
    assert!(m.contains("header"), "{m}");
    let m = err_text(Dataset::from_csv_reader("y\n1\n".as_bytes(), "y"));
    assert!(m.contains("no feature column"), "{m}");
    let m = err_text(Dataset::from_csv_reader_with_groups("a,y\n1,2\n".as_bytes(), "y", Some("g")));
    assert!(m.contains("group column 'g' is not in the CSV header"), "{m}");
    let m = err_text(Dataset::from_csv_reader("a,y,a\n1,2,3\n".as_bytes(), "y"));
    assert!(m.contains("column 'a' twice"), "{m}");
    let m = err_text(Dataset::from_csv_reader("a,b,y\n1,2,3\n4,5\n".as_bytes(), "y"));
    assert!(m.contains("line 3") && m.contains("2"), "{m}");
    let m = err_text(Dataset::from_csv("/nonexistent/tunewise.csv", "y"));
    assert!(m.contains("cannot read /nonexistent/tunewise.csv"), "{m}");
}

#[test]
fn csv_file_round_trip() {
    let dir = std::env::temp_dir().join(format!("tunewise-ml-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("d.csv");
    std::fs::write(&path, "f1,f2,label\n0.5,1,1\n1.5,2,0\n").unwrap();
    let d = Dataset::from_csv(&path, "label").unwrap();
    assert_eq!((d.n_rows(), d.n_features()), (2, 2));
    assert_eq!(d.target(), &[1.0, 0.0]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn builtin_datasets_have_their_known_shapes() {
    let iris = datasets::iris().unwrap();
    assert_eq!((iris.n_rows(), iris.n_features()), (150, 4));
    assert_eq!(iris.class_counts(), vec![(0.0, 50), (1.0, 50), (2.0, 50)]);
    assert!((iris.row(0).unwrap()[0] - 5.1).abs() < 1e-6);
    let bc = datasets::breast_cancer().unwrap();
    assert_eq!((bc.n_rows(), bc.n_features()), (569, 30));
    assert_eq!(bc.class_counts(), vec![(0.0, 212), (1.0, 357)]);
    let digits = datasets::digits().unwrap();
    assert_eq!((digits.n_rows(), digits.n_features()), (1797, 64));
    assert_eq!(digits.classes().len(), 10);
    assert_eq!(digits.feature_names()[9], "pixel_1_1");
    let diabetes = datasets::diabetes().unwrap();
    assert_eq!((diabetes.n_rows(), diabetes.n_features()), (442, 10));
    let boston = datasets::boston().unwrap();
    assert_eq!((boston.n_rows(), boston.n_features()), (506, 13));
}

#[test]
fn negative_zero_is_the_class_zero() {
    let d = Dataset::new(vec![vec![1.0]; 3], vec![-0.0, 0.0, 1.0]).unwrap();
    assert_eq!(d.class_counts(), vec![(0.0, 2), (1.0, 1)]);
    assert!(d.target().iter().all(|t| t.is_sign_positive()));
}

#[test]
fn datasets_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Dataset>();
    check::<Error>();
}

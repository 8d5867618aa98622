//! Metrics against hand-computed values and scikit-learn's documented examples.

use tunewise_ml::{
    accuracy, balanced_accuracy, f1, log_loss, mae, mse, precision, precision_recall_curve, r2,
    recall, rmse, roc_auc, threshold_for, Average, CurvePoint, Error, Target,
};

fn err_text<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(e) => e.to_string(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} vs {b}");
}

#[test]
fn accuracy_and_balanced_accuracy() {
    // scikit-learn's accuracy_score example.
    close(accuracy(&[0.0, 2.0, 1.0, 3.0], &[0.0, 1.0, 2.0, 3.0]).unwrap(), 0.5);
    // scikit-learn's balanced_accuracy_score example: recalls 3/4 and 1/2.
    let (t, p) = ([0.0, 1.0, 0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    close(balanced_accuracy(&t, &p).unwrap(), 0.625);
    // Always predicting the majority of a 9:1 problem: accuracy 0.9, balanced 0.5.
    let t: Vec<f64> = (0..10).map(|i| f64::from(i == 0)).collect();
    close(accuracy(&t, &[0.0; 10]).unwrap(), 0.9);
    close(balanced_accuracy(&t, &[0.0; 10]).unwrap(), 0.5);
}

#[test]
fn precision_recall_f1_multiclass_as_scikit_learn() {
    // scikit-learn's precision_score / recall_score / f1_score example.
    let t = [0.0, 1.0, 2.0, 0.0, 1.0, 2.0];
    let p = [0.0, 2.0, 1.0, 0.0, 0.0, 1.0];
    close(precision(&t, &p, Average::Macro).unwrap(), 2.0 / 9.0);
    close(precision(&t, &p, Average::Weighted).unwrap(), 2.0 / 9.0);
    close(recall(&t, &p, Average::Macro).unwrap(), 1.0 / 3.0);
    close(f1(&t, &p, Average::Macro).unwrap(), 0.8 / 3.0);
    close(f1(&t, &p, Average::Weighted).unwrap(), 0.8 / 3.0);
}

#[test]
fn binary_and_weighted_by_hand() {
    // tp = 2 (rows 0, 1), fp = 1 (row 3), fn = 1 (row 2), tn = 1 (row 4).
    let t = [1.0, 1.0, 1.0, 0.0, 0.0];
    let p = [1.0, 1.0, 0.0, 1.0, 0.0];
    let pos = Average::Binary { positive: 1.0 };
    close(precision(&t, &p, pos).unwrap(), 2.0 / 3.0);
    close(recall(&t, &p, pos).unwrap(), 2.0 / 3.0);
    close(f1(&t, &p, pos).unwrap(), 2.0 / 3.0);
    // Class 0 as positive: tp 1, fp 1, fn 1.
    close(precision(&t, &p, Average::Binary { positive: 0.0 }).unwrap(), 0.5);
    // Weighted recall = (3 × 2/3 + 2 × 1/2) / 5 = 0.6 = accuracy (always true for recall).
    close(recall(&t, &p, Average::Weighted).unwrap(), 0.6);
    close(accuracy(&t, &p).unwrap(), 0.6);
    // No predicted positive: precision is 0 by convention, not NaN.
    close(precision(&t, &[0.0; 5], pos).unwrap(), 0.0);
    let m = err_text(precision(&[0.0, 1.0, 2.0], &[0.0, 1.0, 2.0], pos));
    assert!(m.contains("Average::Binary needs at most two labels") && m.contains("0, 1, 2"), "{m}");
}

#[test]
fn roc_auc_mann_whitney_with_ties() {
    // scikit-learn's roc_auc_score example.
    close(roc_auc(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.4, 0.35, 0.8], 1.0).unwrap(), 0.75);
    // A tie between a positive and a negative counts one half: (1 + 0.5 + 1 + 1) / 4.
    close(roc_auc(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.5, 0.5, 0.9], 1.0).unwrap(), 0.875);
    close(roc_auc(&[0.0, 1.0, 0.0, 1.0], &[0.3; 4], 1.0).unwrap(), 0.5);
    close(roc_auc(&[0.0, 0.0, 1.0], &[0.2, 0.1, 0.9], 1.0).unwrap(), 1.0);
    // Swapping the positive class mirrors the score: 1 - 0.75.
    close(roc_auc(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.4, 0.35, 0.8], 0.0).unwrap(), 0.25);
    // Against a brute-force pair count on a larger, tie-heavy input.
    let t: Vec<f64> = (0..60).map(|i| f64::from((i * 7 % 5) < 2)).collect();
    let s: Vec<f64> = (0..60).map(|i| ((i * 13 % 11) as f64 / 4.0).floor()).collect();
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..60 {
        for j in 0..60 {
            if t[i] == 1.0 && t[j] == 0.0 {
                den += 1.0;
                num += if s[i] > s[j] {
                    1.0
                } else if s[i] == s[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    close(roc_auc(&t, &s, 1.0).unwrap(), num / den);
    let m = err_text(roc_auc(&[1.0, 1.0], &[0.2, 0.3], 1.0));
    assert!(m.contains("2 positive") && m.contains("0 negative"), "{m}");
}

#[test]
fn log_loss_clips_probabilities() {
    // scikit-learn's log_loss example (spam = 1): 0.21616…
    let t = [1.0, 0.0, 0.0, 1.0];
    let p = [0.9, 0.1, 0.2, 0.65];
    let expected = -(0.9f64.ln() + 0.9f64.ln() + 0.8f64.ln() + 0.65f64.ln()) / 4.0;
    close(log_loss(&t, &p, 1.0).unwrap(), expected);
    assert!((expected - 0.21616).abs() < 1e-5);
    close(log_loss(&[1.0, 0.0], &[0.5, 0.5], 1.0).unwrap(), std::f64::consts::LN_2);
    // A certain mistake is clipped: -ln(1e-15) ≈ 34.54, not infinity.
    let v = log_loss(&[1.0], &[0.0], 1.0).unwrap();
    assert!((v - 34.538776).abs() < 1e-5, "{v}");
    close(log_loss(&[1.0, 0.0], &[1.0, 0.0], 1.0).unwrap(), -(1.0f64 - 1e-15).ln());
    let m = err_text(log_loss(&[1.0], &[1.5], 1.0));
    assert!(m.contains("outside [0, 1]"), "{m}");
}

#[test]
fn regression_metrics_as_scikit_learn() {
    // scikit-learn's mean_squared_error / mean_absolute_error / r2_score example.
    let t = [3.0, -0.5, 2.0, 7.0];
    let p = [2.5, 0.0, 2.0, 8.0];
    close(mse(&t, &p).unwrap(), 0.375);
    close(rmse(&t, &p).unwrap(), 0.375f64.sqrt());
    close(mae(&t, &p).unwrap(), 0.5);
    close(r2(&t, &p).unwrap(), 0.9486081370449679);
    close(r2(&t, &[2.875; 4]).unwrap(), 0.0);
    close(r2(&[1.0, 1.0], &[1.0, 1.0]).unwrap(), 1.0);
    close(r2(&[1.0, 1.0], &[1.0, 2.0]).unwrap(), 0.0);
}

#[test]
fn precision_recall_curve_as_scikit_learn() {
    // scikit-learn's precision_recall_curve example: thresholds 0.1, 0.35, 0.4, 0.8 with
    // precision 0.5, 2/3, 0.5, 1 and recall 1, 1, 0.5, 0.5.
    let c = precision_recall_curve(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.4, 0.35, 0.8], 1.0).unwrap();
    let expect = [(0.1, 0.5, 1.0), (0.35, 2.0 / 3.0, 1.0), (0.4, 0.5, 0.5), (0.8, 1.0, 0.5)];
    assert_eq!(c.len(), 4);
    for (p, (t, pr, r)) in c.iter().zip(expect) {
        close(p.threshold, t);
        close(p.precision, pr);
        close(p.recall, r);
    }
    // Tied scores make one point.
    let c = precision_recall_curve(&[1.0, 0.0, 1.0], &[0.5, 0.5, 0.9], 1.0).unwrap();
    assert_eq!(c.len(), 2);
    close(c[0].precision, 2.0 / 3.0);
    let m = err_text(precision_recall_curve(&[0.0, 0.0], &[0.5, 0.6], 1.0));
    assert!(m.contains("positive label 1"), "{m}");
}

#[test]
fn threshold_choice_meets_the_target() {
    let c = precision_recall_curve(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.4, 0.35, 0.8], 1.0).unwrap();
    // Precision ≥ 0.6: 0.35 (recall 1) beats 0.8 (recall 0.5).
    close(threshold_for(&c, Target::MinPrecision(0.6)).unwrap(), 0.35);
    close(threshold_for(&c, Target::MinPrecision(1.0)).unwrap(), 0.8);
    // Recall ≥ 0.5: 0.8 has precision 1.
    close(threshold_for(&c, Target::MinRecall(0.5)).unwrap(), 0.8);
    close(threshold_for(&c, Target::MinRecall(1.0)).unwrap(), 0.35);
    // F1: 0.667, 0.8, 0.5, 0.667.
    close(threshold_for(&c, Target::MaxF1).unwrap(), 0.35);
    // A large beta weighs recall: 0.1 and 0.35 both have recall 1, 0.35 more precision.
    close(threshold_for(&c, Target::MaxFBeta(10.0)).unwrap(), 0.35);
    // Ties go to the higher threshold.
    let tied = [
        CurvePoint { threshold: 0.2, precision: 0.5, recall: 1.0 },
        CurvePoint { threshold: 0.7, precision: 1.0, recall: 0.5 },
    ];
    close(threshold_for(&tied, Target::MaxF1).unwrap(), 0.7);

    let c = precision_recall_curve(&[0.0, 1.0, 0.0, 1.0], &[0.9, 0.1, 0.8, 0.2], 1.0).unwrap();
    let m = err_text(threshold_for(&c, Target::MinPrecision(0.9)));
    assert!(m.contains("no threshold reaches precision 0.9") && m.contains("best"), "{m}");
    let m = err_text(threshold_for(&c, Target::MinRecall(1.5)));
    assert!(m.contains("MinRecall(1.5) must be between 0 and 1"), "{m}");
    let m = err_text(threshold_for(&c, Target::MaxFBeta(0.0)));
    assert!(m.contains("beta > 0"), "{m}");
    let m = err_text(threshold_for(&[], Target::MaxF1));
    assert!(m.contains("empty"), "{m}");
}

#[test]
fn empty_mismatched_and_non_finite_inputs_are_refused() {
    type Metric = fn(&[f64], &[f64]) -> Result<f64, Error>;
    let metrics: [(&str, Metric); 12] = [
        ("accuracy", accuracy),
        ("balanced_accuracy", balanced_accuracy),
        ("precision", |t, p| precision(t, p, Average::Macro)),
        ("recall", |t, p| recall(t, p, Average::Weighted)),
        ("f1", |t, p| f1(t, p, Average::Binary { positive: 1.0 })),
        ("roc_auc", |t, p| roc_auc(t, p, 1.0)),
        ("log_loss", |t, p| log_loss(t, p, 1.0)),
        ("mse", mse),
        ("rmse", rmse),
        ("mae", mae),
        ("r2", r2),
        ("precision_recall_curve", |t, p| {
            precision_recall_curve(t, p, 1.0).map(|c| c.len() as f64)
        }),
    ];
    for (name, m) in metrics {
        let e = err_text(m(&[], &[]));
        assert!(e.contains(name) && e.contains("empty input"), "{e}");
        let e = err_text(m(&[1.0, 0.0], &[1.0]));
        assert!(e.contains(name) && e.contains("2 true values but 1"), "{e}");
        let e = err_text(m(&[1.0, 0.0], &[0.5, f64::NAN]));
        assert!(e.contains(name) && e.contains("1 is NaN"), "{e}");
    }
}

//! Metrics: how good predictions are, for classification and regression, and how to choose a
//! decision threshold from scores.
//!
//! Every metric takes the true values first and the predictions (labels, scores or
//! probabilities) second, as `f64` slices of the same non-zero length, and refuses empty input,
//! a length mismatch or a non-finite value with [`Error::InvalidData`]. Class labels are compared
//! exactly (`0.0`, `1.0`, …). Where a ratio has a zero denominator (precision with no predicted
//! positive, recall of a class with no true member) the value is 0, as scikit-learn's default.
//!
//! Higher is better for accuracy, precision, recall, F1, ROC AUC and R²; lower is better for
//! log loss, MSE, RMSE and MAE (tell the study which direction to use).

use crate::data::distinct_sorted;
use crate::error::{Error, Result};

/// Checks a pair of inputs: non-empty, same length, finite.
fn check(metric: &str, y_true: &[f64], y_pred: &[f64], pred_name: &str) -> Result<()> {
    if y_true.is_empty() {
        return Err(Error::InvalidData(format!(
            "{metric}: empty input; give at least one true value and one {pred_name}"
        )));
    }
    if y_true.len() != y_pred.len() {
        return Err(Error::InvalidData(format!(
            "{metric}: {} true values but {} {pred_name}s; give one {pred_name} per true value",
            y_true.len(),
            y_pred.len()
        )));
    }
    for (what, values) in [("true value", y_true), (pred_name, y_pred)] {
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!(
                "{metric}: {what} {i} is {}; metrics need finite numbers",
                values[i]
            )));
        }
    }
    Ok(())
}

/// How per-class precision, recall or F1 are combined into one number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Average {
    /// The score of one class, `positive`, against all others (binary problems: at most two
    /// distinct labels in the true and predicted values together).
    Binary {
        /// The label of the positive class (usually `1.0`).
        positive: f64,
    },
    /// The unweighted mean over the labels present in the true or predicted values: every class
    /// counts the same, so rare classes weigh as much as common ones.
    Macro,
    /// The mean over labels weighted by each label's number of true members (support).
    Weighted,
}

/// Counts of one class treated as positive.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Counts {
    fn of(y_true: &[f64], y_pred: &[f64], label: f64) -> Counts {
        let mut c = Counts::default();
        for (&t, &p) in y_true.iter().zip(y_pred) {
            match (t == label, p == label) {
                (true, true) => c.tp += 1,
                (false, true) => c.fp += 1,
                (true, false) => c.fn_ += 1,
                (false, false) => {}
            }
        }
        c
    }
    fn precision(self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    fn recall(self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    fn f1(self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
    fn support(self) -> usize {
        self.tp + self.fn_
    }
}

/// `a / b`, and 0 when `b` is 0 (an undefined precision or recall counts as 0).
fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Fraction of predictions equal to the true label.
pub fn accuracy(y_true: &[f64], y_pred: &[f64]) -> Result<f64> {
    check("accuracy", y_true, y_pred, "prediction")?;
    let right = y_true.iter().zip(y_pred).filter(|(t, p)| t == p).count();
    Ok(right as f64 / y_true.len() as f64)
}

/// Mean over the true classes of each class's recall: accuracy that is not fooled by class
/// imbalance (always predicting the majority class of a 90/10 problem scores 0.5, not 0.9).
pub fn balanced_accuracy(y_true: &[f64], y_pred: &[f64]) -> Result<f64> {
    check("balanced_accuracy", y_true, y_pred, "prediction")?;
    let classes = distinct_sorted(y_true);
    let sum: f64 = classes.iter().map(|&c| Counts::of(y_true, y_pred, c).recall()).sum();
    Ok(sum / classes.len() as f64)
}

fn averaged(
    metric: &str,
    y_true: &[f64],
    y_pred: &[f64],
    average: Average,
    score: fn(Counts) -> f64,
) -> Result<f64> {
    check(metric, y_true, y_pred, "prediction")?;
    let mut all = y_true.to_vec();
    all.extend_from_slice(y_pred);
    let labels = distinct_sorted(&all);
    match average {
        Average::Binary { positive } => {
            if labels.len() > 2 {
                return Err(Error::InvalidData(format!(
                    "{metric}: Average::Binary needs at most two labels but the data has {} \
                     ({}); use Average::Macro or Average::Weighted for several classes",
                    labels.len(),
                    join(&labels)
                )));
            }
            if !positive.is_finite() {
                return Err(Error::InvalidConfig(format!(
                    "{metric}: positive label {positive} is not a finite number"
                )));
            }
            Ok(score(Counts::of(y_true, y_pred, positive)))
        }
        Average::Macro => {
            let sum: f64 = labels.iter().map(|&c| score(Counts::of(y_true, y_pred, c))).sum();
            Ok(sum / labels.len() as f64)
        }
        Average::Weighted => {
            let sum: f64 = labels
                .iter()
                .map(|&c| {
                    let counts = Counts::of(y_true, y_pred, c);
                    score(counts) * counts.support() as f64
                })
                .sum();
            Ok(sum / y_true.len() as f64)
        }
    }
}

fn join(labels: &[f64]) -> String {
    labels.iter().map(f64::to_string).collect::<Vec<_>>().join(", ")
}

/// Precision: of the rows predicted in a class, the fraction truly in it (`tp / (tp + fp)`).
pub fn precision(y_true: &[f64], y_pred: &[f64], average: Average) -> Result<f64> {
    averaged("precision", y_true, y_pred, average, Counts::precision)
}

/// Recall: of the rows truly in a class, the fraction predicted in it (`tp / (tp + fn)`).
pub fn recall(y_true: &[f64], y_pred: &[f64], average: Average) -> Result<f64> {
    averaged("recall", y_true, y_pred, average, Counts::recall)
}

/// F1: the harmonic mean of precision and recall (`2 tp / (2 tp + fp + fn)`), per class then
/// averaged.
pub fn f1(y_true: &[f64], y_pred: &[f64], average: Average) -> Result<f64> {
    averaged("f1", y_true, y_pred, average, Counts::f1)
}

/// Splits rows into positives and negatives, refusing data with only one of them.
fn binary_counts(metric: &str, y_true: &[f64], positive: f64) -> Result<(usize, usize)> {
    let n_pos = y_true.iter().filter(|&&t| t == positive).count();
    let n_neg = y_true.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Err(Error::InvalidData(format!(
            "{metric}: the true values hold {n_pos} positive (label {positive}) and {n_neg} \
             negative rows; the metric needs both (check the positive label, or use a stratified \
             split so every test fold has both classes)"
        )));
    }
    Ok((n_pos, n_neg))
}

/// Area under the ROC curve of a binary problem, from scores (higher score = more likely
/// `positive`; every other label is negative).
///
/// Computed as the Mann–Whitney U statistic: the probability that a random positive row scores
/// higher than a random negative row, ties counting one half (average ranks), in `O(n log n)`.
/// 0.5 is chance, 1 a perfect ranking. Refused when the true values lack either class.
pub fn roc_auc(y_true: &[f64], scores: &[f64], positive: f64) -> Result<f64> {
    check("roc_auc", y_true, scores, "score")?;
    let (n_pos, n_neg) = binary_counts("roc_auc", y_true, positive)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the positives' ranks (1-based), tied scores sharing their average rank.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        let pos_in_tie = order[i..=j].iter().filter(|&&k| y_true[k] == positive).count();
        rank_sum += avg_rank * pos_in_tie as f64;
        i = j + 1;
    }
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Ok(u / (n_pos as f64 * n_neg as f64))
}

/// Smallest probability used by [`log_loss`]: probabilities are clipped to
/// `[LOG_LOSS_EPS, 1 - LOG_LOSS_EPS]` so that one confident mistake costs about 34.5, not
/// infinity.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// Binary log loss (cross-entropy): `-mean(ln p)` of the probability given to the true class,
/// where `prob_positive[i]` is the predicted probability that row `i` is `positive`.
///
/// Probabilities are clipped to [`LOG_LOSS_EPS`]; values outside `[0, 1]` are refused (pass
/// probabilities, not raw scores). Lower is better; always predicting 0.5 scores ln 2 ≈ 0.693.
pub fn log_loss(y_true: &[f64], prob_positive: &[f64], positive: f64) -> Result<f64> {
    check("log_loss", y_true, prob_positive, "probability")?;
    if let Some(i) = prob_positive.iter().position(|p| !(0.0..=1.0).contains(p)) {
        return Err(Error::InvalidData(format!(
            "log_loss: probability {i} is {}, outside [0, 1]; pass probabilities (apply a \
             sigmoid or softmax to raw scores first)",
            prob_positive[i]
        )));
    }
    let sum: f64 = y_true
        .iter()
        .zip(prob_positive)
        .map(|(&t, &p)| {
            let p = p.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
            if t == positive {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum();
    Ok(sum / y_true.len() as f64)
}

/// Mean squared error: `mean((y - ŷ)²)`.
pub fn mse(y_true: &[f64], y_pred: &[f64]) -> Result<f64> {
    check("mse", y_true, y_pred, "prediction")?;
    Ok(y_true.iter().zip(y_pred).map(|(t, p)| (t - p) * (t - p)).sum::<f64>() / y_true.len() as f64)
}

/// Root mean squared error: `sqrt(mse)`, in the target's units.
pub fn rmse(y_true: &[f64], y_pred: &[f64]) -> Result<f64> {
    check("rmse", y_true, y_pred, "prediction")?;
    mse(y_true, y_pred).map(f64::sqrt)
}

/// Mean absolute error: `mean(|y - ŷ|)`, less sensitive to outliers than RMSE.
pub fn mae(y_true: &[f64], y_pred: &[f64]) -> Result<f64> {
    check("mae", y_true, y_pred, "prediction")?;
    Ok(y_true.iter().zip(y_pred).map(|(t, p)| (t - p).abs()).sum::<f64>() / y_true.len() as f64)
}

/// Coefficient of determination: `1 - SS_res / SS_tot`. 1 is perfect, 0 is as good as
/// predicting the mean, and it is negative for worse. When the true values are all equal
/// (`SS_tot = 0`) it is 1 for perfect predictions and 0 otherwise, as scikit-learn does.
pub fn r2(y_true: &[f64], y_pred: &[f64]) -> Result<f64> {
    check("r2", y_true, y_pred, "prediction")?;
    let mean = y_true.iter().sum::<f64>() / y_true.len() as f64;
    let ss_tot: f64 = y_true.iter().map(|t| (t - mean) * (t - mean)).sum();
    let ss_res: f64 = y_true.iter().zip(y_pred).map(|(t, p)| (t - p) * (t - p)).sum();
    if ss_tot == 0.0 {
        return Ok(if ss_res == 0.0 { 1.0 } else { 0.0 });
    }
    Ok(1.0 - ss_res / ss_tot)
}

/// One point of a precision–recall curve: predicting `positive` when `score >= threshold`
/// gives this precision and recall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// The decision threshold (one of the scores).
    pub threshold: f64,
    /// Precision at this threshold.
    pub precision: f64,
    /// Recall at this threshold.
    pub recall: f64,
}

impl CurvePoint {
    /// F-beta score of this point (`beta = 1` is F1); 0 when precision and recall are 0.
    pub fn f_beta(&self, beta: f64) -> f64 {
        let b2 = beta * beta;
        let denom = b2 * self.precision + self.recall;
        if denom == 0.0 {
            0.0
        } else {
            (1.0 + b2) * self.precision * self.recall / denom
        }
    }
}

/// The precision–recall curve of binary scores: one point per distinct score, thresholds
/// increasing (so recall decreases along the curve), as scikit-learn's thresholds.
///
/// Refused when the true values have no row of the `positive` class (recall is undefined).
/// Costs one sort, `O(n log n)`.
pub fn precision_recall_curve(
    y_true: &[f64],
    scores: &[f64],
    positive: f64,
) -> Result<Vec<CurvePoint>> {
    check("precision_recall_curve", y_true, scores, "score")?;
    let n_pos = y_true.iter().filter(|&&t| t == positive).count();
    if n_pos == 0 {
        return Err(Error::InvalidData(format!(
            "precision_recall_curve: no true value is the positive label {positive}; recall is \
             undefined (check the positive label)"
        )));
    }
    // Walk the scores from the highest down, counting true and false positives; each distinct
    // score closes one point.
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut points = Vec::new();
    for (pos, &i) in order.iter().enumerate() {
        if y_true[i] == positive {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_tie = order.get(pos + 1).map_or(true, |&next| scores[next] != scores[i]);
        if last_of_tie {
            points.push(CurvePoint {
                threshold: scores[i],
                precision: ratio(tp, tp + fp),
                recall: ratio(tp, n_pos),
            });
        }
    }
    points.reverse();
    Ok(points)
}

/// What a decision threshold should achieve, for [`threshold_for`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Precision at least this (in `[0, 1]`), with the highest recall that allows (for example
    /// "at most 1 false alarm in 20": `MinPrecision(0.95)`).
    MinPrecision(f64),
    /// Recall at least this (in `[0, 1]`), with the highest precision that allows (for example
    /// "catch 99% of fraud": `MinRecall(0.99)`).
    MinRecall(f64),
    /// The highest F1.
    MaxF1,
    /// The highest F-beta (`beta > 0`; above 1 favours recall, below 1 precision).
    MaxFBeta(f64),
}

/// The decision threshold on a [`precision_recall_curve`] that meets `target`: predict positive
/// when `score >= threshold`. Ties go to the higher threshold (fewer positives predicted).
///
/// Refused when the curve is empty, when the target's number is out of range, or when no point
/// meets a minimum (the message gives the best value the curve reaches).
pub fn threshold_for(curve: &[CurvePoint], target: Target) -> Result<f64> {
    if curve.is_empty() {
        return Err(Error::InvalidData(
            "threshold_for: the curve is empty; build it with precision_recall_curve".into(),
        ));
    }
    let check_level = |name: &str, v: f64| {
        if (0.0..=1.0).contains(&v) {
            Ok(())
        } else {
            Err(Error::InvalidConfig(format!("threshold_for: {name}({v}) must be between 0 and 1")))
        }
    };
    // The best point by `key` among those passing `keep`; scanning from the highest threshold
    // down with a strict `>` keeps the highest threshold among ties.
    let best = |keep: &dyn Fn(&CurvePoint) -> bool, key: &dyn Fn(&CurvePoint) -> f64| {
        let mut best: Option<(f64, f64)> = None;
        for p in curve.iter().rev().filter(|p| keep(p)) {
            let k = key(p);
            if best.map_or(true, |(bk, _)| k > bk) {
                best = Some((k, p.threshold));
            }
        }
        best.map(|(_, t)| t)
    };
    let max_of = |f: fn(&CurvePoint) -> f64| curve.iter().map(f).fold(0.0, f64::max);
    match target {
        Target::MinPrecision(p) => {
            check_level("MinPrecision", p)?;
            best(&|c| c.precision >= p, &|c| c.recall).ok_or_else(|| {
                Error::InvalidData(format!(
                    "threshold_for: no threshold reaches precision {p}; the best on this curve \
                     is {}",
                    max_of(|c| c.precision)
                ))
            })
        }
        Target::MinRecall(r) => {
            check_level("MinRecall", r)?;
            best(&|c| c.recall >= r, &|c| c.precision).ok_or_else(|| {
                Error::InvalidData(format!(
                    "threshold_for: no threshold reaches recall {r}; the best on this curve is {}",
                    max_of(|c| c.recall)
                ))
            })
        }
        Target::MaxF1 => Ok(best(&|_| true, &|c| c.f_beta(1.0)).unwrap_or(curve[0].threshold)),
        Target::MaxFBeta(beta) => {
            if !(beta.is_finite() && beta > 0.0) {
                return Err(Error::InvalidConfig(format!(
                    "threshold_for: MaxFBeta({beta}) needs a finite beta > 0 (1 is F1)"
                )));
            }
            Ok(best(&|_| true, &|c| c.f_beta(beta)).unwrap_or(curve[0].threshold))
        }
    }
}

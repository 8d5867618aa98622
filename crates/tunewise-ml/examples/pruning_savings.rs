//! What pruning saves: the same tuning run with and without a pruner, over several seeds, on
//! an iterative model (epochs) and on cross-validated tuning (folds).
//!
//! 1. **Epochs.** A logistic regression trained by full-batch gradient descent with momentum on
//!    the breast cancer dataset (standardized features), 60 epochs per trial; tuned: learning
//!    rate, momentum and L2 penalty, by TPE, 40 trials. Each epoch reports the validation log
//!    loss; the median pruner (5 startup trials, 5 warm-up epochs) stops a trial whose loss is
//!    worse than the median of the complete trials at the same epoch. Compute = epochs run.
//! 2. **Folds.** A decision tree on digits, tuned by stratified 10-fold cross-validation
//!    (`cross_validate`, every fold reported), TPE, 40 trials; pruned by the median pruner (5
//!    startup trials, judged from the second fold on), or by the Wilcoxon pruner (defaults:
//!    p < 0.1 against the best trial on the same folds, from the second fold). Compute = folds
//!    fitted.
//!
//! For each seed the unpruned and the pruned study use the same sampler seed; the table gives
//! the compute of each, the share saved, and the best value each found (lower log loss, higher
//! accuracy).
//!
//! Run it with `cargo run --release -p tunewise-ml --example pruning_savings [-- SEEDS]`
//! (default 5). The figures are in docs/benchmarks.md.

use std::error::Error;

use tunewise::prelude::*;
use tunewise_ml::{
    accuracy, cross_validate, datasets, train_test_split, Dataset, DecisionTree, StratifiedKFold,
};

const EPOCHS: u64 = 60;
const TRIALS: usize = 40;
/// Folds of the cross-validation workload (the Wilcoxon pruner needs at least 4 paired folds to
/// reach p < 0.1, so 5 folds leave it little to save).
const FOLDS: usize = 10;

/// Standardized features (row-major) and targets of a training and a validation part.
struct Problem {
    x_train: Vec<f64>,
    y_train: Vec<f64>,
    x_val: Vec<f64>,
    y_val: Vec<f64>,
    p: usize,
}

impl Problem {
    fn breast_cancer() -> Result<Self, tunewise_ml::Error> {
        let data = datasets::breast_cancer()?;
        let split = train_test_split(&data, 0.3, 0, true)?;
        let (train, val) = (data.select(&split.train)?, data.select(&split.test)?);
        let p = data.n_features();
        let n = train.n_rows() as f64;
        let mut mean = vec![0.0; p];
        let mut sd = vec![0.0; p];
        for row in train.rows() {
            for j in 0..p {
                mean[j] += row[j] / n;
            }
        }
        for row in train.rows() {
            for j in 0..p {
                sd[j] += (row[j] - mean[j]).powi(2) / n;
            }
        }
        let scale = |d: &Dataset| -> Vec<f64> {
            d.rows()
                .flat_map(|row| {
                    (0..p).map(|j| (row[j] - mean[j]) / sd[j].sqrt().max(1e-12)).collect::<Vec<_>>()
                })
                .collect()
        };
        Ok(Problem {
            x_train: scale(&train),
            y_train: train.target().to_vec(),
            x_val: scale(&val),
            y_val: val.target().to_vec(),
            p,
        })
    }

    /// Mean log loss of weights `w` (bias last) on `x`, `y`.
    fn log_loss(&self, w: &[f64], x: &[f64], y: &[f64]) -> f64 {
        let p = self.p;
        let mut total = 0.0;
        for (row, &t) in x.chunks(p).zip(y) {
            let z = row.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + w[p];
            let q = (1.0 / (1.0 + (-z).exp())).clamp(1e-12, 1.0 - 1e-12);
            total -= t * q.ln() + (1.0 - t) * (1.0 - q).ln();
        }
        total / y.len() as f64
    }

    /// One epoch of full-batch gradient descent with momentum and an L2 penalty.
    fn epoch(&self, w: &mut [f64], velocity: &mut [f64], lr: f64, momentum: f64, l2: f64) {
        let p = self.p;
        let n = self.y_train.len() as f64;
        let mut grad = vec![0.0; p + 1];
        for (row, &t) in self.x_train.chunks(p).zip(&self.y_train) {
            let z = row.iter().zip(w.iter()).map(|(a, b)| a * b).sum::<f64>() + w[p];
            let err = 1.0 / (1.0 + (-z).exp()) - t;
            for j in 0..p {
                grad[j] += err * row[j] / n;
            }
            grad[p] += err / n;
        }
        for j in 0..p {
            grad[j] += l2 * w[j];
        }
        for j in 0..=p {
            velocity[j] = momentum * velocity[j] - lr * grad[j];
            w[j] += velocity[j];
        }
    }
}

/// Each trial of a study in order: its compute (epochs or folds run) and its value if complete.
type Trace = Vec<(usize, Option<f64>)>;

fn trace(study: &Study) -> Result<Trace, Box<dyn Error>> {
    Ok(study
        .trials()?
        .iter()
        .map(|t| (t.intermediate_values.len(), t.values.as_ref().and_then(|v| v.first().copied())))
        .collect())
}

/// The epochs study (minimizing the final validation log loss).
fn epochs_study(
    problem: &Problem,
    seed: u64,
    pruned: bool,
    trials: usize,
) -> Result<Trace, Box<dyn Error>> {
    let sampler = TpeSampler::builder().seed(seed).build()?;
    let mut builder = Study::builder().minimize().sampler(sampler);
    if pruned {
        builder = builder.pruner(
            PercentilePruner::median_builder().n_startup_trials(5).n_warmup_steps(5).build()?,
        );
    }
    let study = builder.create()?;
    study.optimize(
        |trial| -> Result<f64, TrialError> {
            let lr = trial.suggest_float_log("lr", 1e-4, 3.0)?;
            let momentum = trial.suggest_float("momentum", 0.0, 0.95)?;
            let l2 = trial.suggest_float_log("l2", 1e-5, 1.0)?;
            let mut w = vec![0.0; problem.p + 1];
            let mut velocity = vec![0.0; problem.p + 1];
            let mut loss = f64::NAN;
            for epoch in 0..EPOCHS {
                problem.epoch(&mut w, &mut velocity, lr, momentum, l2);
                loss = problem.log_loss(&w, &problem.x_val, &problem.y_val);
                if !loss.is_finite() {
                    return Err(TrialError::failed("the loss diverged"));
                }
                trial.report(epoch, loss)?;
                if trial.should_prune()? {
                    return Err(TrialError::Pruned);
                }
            }
            Ok(loss)
        },
        Budget::trials(trials),
    )?;
    trace(&study)
}

/// The folds study (maximizing the cross-validated accuracy).
fn folds_study(
    data: &Dataset,
    seed: u64,
    pruner: Option<&str>,
    trials: usize,
) -> Result<Trace, Box<dyn Error>> {
    let sampler = TpeSampler::builder().seed(seed).build()?;
    let mut builder = Study::builder().maximize().sampler(sampler);
    match pruner {
        Some("median") => {
            builder = builder.pruner(
                PercentilePruner::median_builder().n_startup_trials(5).n_warmup_steps(1).build()?,
            )
        }
        Some(_) => builder = builder.pruner(WilcoxonPruner::new()),
        None => {}
    }
    let study = builder.create()?;
    let folds = StratifiedKFold::shuffled(FOLDS, seed);
    study.optimize(
        |trial| -> Result<f64, TrialError> {
            let depth = trial.suggest_int("max_depth", 1, 20)? as usize;
            let split = trial.suggest_int("min_samples_split", 2, 60)? as usize;
            let leaf = trial.suggest_int("min_samples_leaf", 1, 30)? as usize;
            let make = || {
                let mut tree = DecisionTree::new(Some(depth));
                tree.min_samples_split = split;
                tree.min_samples_leaf = leaf;
                tree
            };
            Ok(cross_validate(trial, data, &folds, make, accuracy)?.mean())
        },
        Budget::trials(trials),
    )?;
    trace(&study)
}

/// The compute a trace spent until its best value first reached `target` (`None`: never).
fn compute_to_reach(trace: &Trace, target: f64, higher_is_better: bool) -> Option<usize> {
    let mut spent = 0;
    for (compute, value) in trace {
        spent += compute;
        if let Some(v) = value {
            if (higher_is_better && *v >= target) || (!higher_is_better && *v <= target) {
                return Some(spent);
            }
        }
    }
    None
}

/// The best complete value of a trace.
fn best(trace: &Trace, higher_is_better: bool) -> f64 {
    let values = trace.iter().filter_map(|(_, v)| *v);
    if higher_is_better {
        values.fold(f64::NEG_INFINITY, f64::max)
    } else {
        values.fold(f64::INFINITY, f64::min)
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let seeds: u64 = match std::env::args().nth(1) {
        Some(n) => n.parse().map_err(|e| format!("SEEDS must be a number, got '{n}': {e}"))?,
        None => 5,
    };
    if seeds == 0 {
        return Err("SEEDS must be at least 1".into());
    }
    let problem = Problem::breast_cancer()?;
    let digits = datasets::digits()?;
    println!(
        "| workload | seed | without pruning: {TRIALS} trials | best | with pruning: compute to reach that best | saved | best after {TRIALS} trials | best after {} trials |",
        3 * TRIALS
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut summary = Vec::new();
    let workloads = [
        ("epochs: gradient-descent logistic regression, breast cancer, median", "epochs", false),
        ("folds: decision tree, digits, 10-fold CV, median", "median", true),
        ("folds: decision tree, digits, 10-fold CV, Wilcoxon", "wilcoxon", true),
    ];
    for (name, unit, higher_is_better) in workloads {
        let mut saved = Vec::new();
        let label = if unit == "epochs" { "epochs" } else { "folds" };
        for seed in 0..seeds {
            let run = |pruned: bool, trials: usize| {
                if unit == "epochs" {
                    epochs_study(&problem, seed, pruned, trials)
                } else {
                    folds_study(&digits, seed, pruned.then_some(unit), trials)
                }
            };
            let plain = run(false, TRIALS)?;
            let pruned = run(true, 3 * TRIALS)?;
            let plain_compute: usize = plain.iter().map(|(c, _)| c).sum();
            let target = best(&plain, higher_is_better);
            let reached = compute_to_reach(&pruned, target, higher_is_better);
            let share = reached
                .map_or(f64::NEG_INFINITY, |c| 100.0 * (1.0 - c as f64 / plain_compute as f64));
            saved.push(share);
            let first: Trace = pruned.iter().take(TRIALS).copied().collect();
            println!(
                "| {name} | {seed} | {plain_compute} {label} | {target:.4} | {} | {} | {:.4} | {:.4} |",
                reached.map_or_else(|| "not reached".to_owned(), |c| format!("{c} {label}")),
                if share.is_finite() { format!("{share:.1}%") } else { "–".to_owned() },
                best(&first, higher_is_better),
                best(&pruned, higher_is_better)
            );
        }
        saved.sort_by(f64::total_cmp);
        let reached = saved.iter().filter(|s| s.is_finite()).count();
        summary.push(format!(
            "{name}: the pruned study reached the unpruned study's best on {reached} of {seeds} seeds; median compute saved {}",
            if reached * 2 > saved.len() { format!("{:.1}%", saved[saved.len() / 2]) } else { "– (not reached on most seeds)".to_owned() }
        ));
    }
    println!();
    for line in summary {
        println!("{line}");
    }
    Ok(())
}

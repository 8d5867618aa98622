//! Study behaviour: the loop, budgets, failures, ask/tell, enqueue, add_trial, best trials.

use tunewise_core::prelude::*;

#[test]
fn optimize_runs_budget_and_finds_best() {
    let study = Study::builder().minimize().seed(1).create().unwrap();
    let report = study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", -5.0, 5.0)?;
                Ok(x * x)
            },
            Budget::trials(30),
        )
        .unwrap();
    assert_eq!(report.trials, 30);
    assert_eq!(report.stop_reason, StopReason::TrialBudget);
    let trials = study.trials().unwrap();
    assert_eq!(trials.len(), 30);
    let best = study.best_trial().unwrap();
    let min = trials.iter().filter_map(|t| t.value()).fold(f64::INFINITY, f64::min);
    assert_eq!(best.value().unwrap(), min);
}

use tunewise_bench::harness::read_jsonl;
use tunewise_bench::report::report;

fn line(framework: &str, sampler: &str, function: &str, seed: u64, regret: f64, ms: f64) -> String {
    format!(
        r#"{{"framework":"{framework}","sampler":"{sampler}","function":"{function}","seed":{seed},"budget":100,"best_curve":[],"final_regret":{regret},"sampler_ms_per_trial":{ms}}}"#
    )
}

#[test]
fn the_report_tabulates_medians_with_quartiles_times_and_wins() {
    let mut lines = Vec::new();
    // Optuna's lines first: tunewise's columns still come first.
    for (seed, r) in [(0, 1.0), (1, 2.0), (2, 3.0)] {
        lines.push(line("optuna", "tpe", "branin", seed, r, 10.0));
        lines.push(line("optuna", "tpe", "hartmann3", seed, r / 10.0, 20.0));
    }
    for (seed, r) in [(0, 0.5), (1, 1.5), (2, 2.5)] {
        lines.push(line("tunewise", "tpe", "branin", seed, r, 0.25));
        lines.push(line("tunewise", "tpe", "hartmann3", seed, r, 0.75));
        lines.push(line("tunewise", "random", "branin", seed, r * 2.0, 0.001));
        // The automatic sampler is compared with Optuna's default, its TPE.
        lines.push(line("tunewise", "auto", "branin", seed, r / 2.0, 1.0));
        lines.push(line("tunewise", "auto", "hartmann3", seed, r / 10.0, 1.0));
    }
    let records = read_jsonl(&lines.join("\n")).unwrap();
    let table = report(&records);
    let expected = "\
Final regret, median [q1, q3] over 3 seeds at 100 trials (smaller is better; multi-objective functions: hypervolume regret).

| function | tunewise tpe | tunewise random | tunewise auto | optuna tpe |
| --- | --- | --- | --- | --- |
| branin | 1.50 [1.00, 2.00] | 3.00 [2.00, 4.00] | 0.750 [0.500, 1.00] | 2.00 [1.50, 2.50] |
| hartmann3 | 1.50 [1.00, 2.00] | — | 0.150 [0.100, 0.200] | 0.200 [0.150, 0.250] |
| *sampler ms per trial (mean)* | 0.500 | 0.00100 | 1.00 | 15.0 |
| *functions where tunewise median ≤ Optuna median* | 1 of 2 |  | 2 of 2 |  |

Functions where tunewise tpe median ≤ Optuna tpe median: **1 of 2**.
Functions where tunewise auto median ≤ Optuna tpe median: **2 of 2**.
";
    assert_eq!(table, expected, "\n{table}");
}

#[test]
fn without_counterparts_the_summary_says_so() {
    let records = read_jsonl(&line("tunewise", "random", "branin", 0, 1.0, 0.0)).unwrap();
    assert!(report(&records).contains("nothing to compare"));
}

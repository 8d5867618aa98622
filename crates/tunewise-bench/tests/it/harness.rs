use tunewise_bench::harness::{self, HarnessConfig, HarnessError, RunRecord};

fn tiny() -> HarnessConfig {
    HarnessConfig {
        samplers: Vec::new(),
        functions: vec!["branin".into(), "zdt1".into()],
        seeds: vec![0, 1],
        budget: 10,
        threads: 2,
    }
}

fn monotone(record: &RunRecord, maximizing: bool) {
    let curve: Vec<f64> = record.best_curve.iter().flatten().copied().collect();
    for w in curve.windows(2) {
        let ok = if maximizing { w[1] >= w[0] } else { w[1] <= w[0] };
        assert!(
            ok,
            "{} {} seed {}: curve not monotone: {curve:?}",
            record.sampler, record.function, record.seed
        );
    }
}

#[test]
fn a_tiny_run_writes_well_formed_json_lines_with_monotone_curves() {
    let mut lines = Vec::new();
    let records = harness::run(&tiny(), |r| lines.push(harness::to_json_line(r))).unwrap();
    let samplers = harness::registry().len();
    let multi = harness::registry().iter().filter(|s| s.multi_objective).count();
    // Branin for every sampler, ZDT1 for those that handle several objectives; two seeds each.
    assert_eq!(records.len(), 2 * (samplers + multi));
    assert_eq!(lines.len(), records.len());
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in [
            "framework",
            "sampler",
            "function",
            "seed",
            "budget",
            "best_curve",
            "final_regret",
            "sampler_ms_per_trial",
        ] {
            assert!(v.get(key).is_some(), "{key} missing from {line}");
        }
        assert_eq!(v["framework"], "tunewise");
        assert_eq!(v["budget"], 10);
        assert_eq!(v["best_curve"].as_array().unwrap().len(), 10);
        assert!(v["sampler_ms_per_trial"].as_f64().unwrap() >= 0.0);
        assert!(v.get("trial_values").is_none());
    }
    let mut parsed = harness::read_jsonl(&lines.join("\n")).unwrap();
    let key = |r: &RunRecord| (r.function == "zdt1", r.sampler != "random", r.seed);
    parsed.sort_by_key(key);
    let mut sorted = records.clone();
    sorted.sort_by_key(key);
    assert_eq!(parsed.len(), sorted.len());
    for (a, b) in parsed.iter().zip(&sorted) {
        assert_eq!(
            (&a.sampler, &a.function, a.seed, &a.best_curve),
            (&b.sampler, &b.function, b.seed, &b.best_curve)
        );
    }
    // Seeds give independent runs (no run replays another's trials shifted by one).
    let branin: Vec<&RunRecord> =
        records.iter().filter(|r| r.function == "branin" && r.sampler == "random").collect();
    assert!(branin[0].best_curve[1..].iter().all(|v| *v != branin[1].best_curve[0]));
    for r in &records {
        assert!(r.error.is_none(), "{r:?}");
        assert_eq!(r.failed_trials, 0);
        monotone(r, r.function == "zdt1");
        let regret = r.final_regret.unwrap();
        assert!(regret >= 0.0, "{}: negative regret {regret}", r.function);
        if r.function == "branin" {
            let best = r.best_curve.last().unwrap().unwrap();
            assert!((regret - (best - 0.397_887_357_729_738)).abs() < 1e-12);
        }
    }
}

#[test]
fn records_come_back_in_a_fixed_order_with_the_same_regrets_whatever_the_threads() {
    let two = harness::run(&tiny(), |_| {}).unwrap();
    let one = harness::run(&HarnessConfig { threads: 1, ..tiny() }, |_| {}).unwrap();
    let key = |r: &RunRecord| (r.function.clone(), r.sampler.clone(), r.seed, r.final_regret);
    assert_eq!(two.iter().map(key).collect::<Vec<_>>(), one.iter().map(key).collect::<Vec<_>>());
    assert_eq!(two[0].function, "branin");
    assert_eq!(two[0].seed, 0);
    assert_eq!(two[1].seed, 1);
}

#[test]
fn unknown_names_and_empty_budgets_are_refused_naming_the_flag() {
    let e = harness::run(&HarnessConfig { samplers: vec!["nope".into()], ..tiny() }, |_| {})
        .unwrap_err();
    assert!(matches!(e, HarnessError::UnknownSampler(..)));
    assert!(e.to_string().contains("--samplers") && e.to_string().contains("random"));
    let e = harness::run(&HarnessConfig { functions: vec!["nope".into()], ..tiny() }, |_| {})
        .unwrap_err();
    assert!(e.to_string().contains("--functions"));
    let e = harness::run(&HarnessConfig { budget: 0, ..tiny() }, |_| {}).unwrap_err();
    assert!(e.to_string().contains("--budget"));
}

#[test]
fn scoring_trial_values_gives_the_harness_curve_and_regret() {
    let problems = harness::problems();
    let line = r#"{"framework":"optuna","sampler":"tpe","function":"branin","seed":3,"budget":4,
        "sampler_ms_per_trial":1.5,"trial_values":[[5.0],null,[2.0],[3.0]]}"#
        .replace('\n', "");
    let mut record = harness::read_jsonl(&line).unwrap().remove(0);
    harness::score_record(&mut record, &problems).unwrap();
    assert_eq!(record.best_curve, vec![Some(5.0), Some(5.0), Some(2.0), Some(2.0)]);
    assert!((record.final_regret.unwrap() - (2.0 - 0.397_887_357_729_738)).abs() < 1e-12);
    assert_eq!(record.failed_trials, 1);
    assert!(record.trial_values.is_none());

    // Two objectives: the curve is the hypervolume so far, up to (11, 11).
    let line = r#"{"framework":"optuna","sampler":"tpe","function":"zdt1","seed":0,"budget":3,"sampler_ms_per_trial":1.0,"trial_values":[[12.0,1.0],[1.0,10.0],[10.0,1.0]]}"#;
    let mut record = harness::read_jsonl(line).unwrap().remove(0);
    harness::score_record(&mut record, &problems).unwrap();
    assert_eq!(record.best_curve, vec![Some(0.0), Some(10.0), Some(19.0)]);
    assert!((record.final_regret.unwrap() - (121.0 - 1.0 / 3.0 - 19.0)).abs() < 1e-9);
}

#[test]
fn points_of_another_framework_are_checked_against_our_definitions() {
    let problems = harness::problems();
    let good = r#"{"function":"branin","params":{"x0":3.141592653589793,"x1":2.275},"values":[0.39788735772973816]}
{"function":"mixed-integer","params":{"lr":1.0,"layers":3,"units":64,"activation":"tanh"},"values":[0.0]}"#;
    let (checked, mismatches) = harness::check_points(good, &problems).unwrap();
    assert_eq!((checked, mismatches.len()), (2, 0), "{mismatches:?}");
    let bad = r#"{"function":"branin","params":{"x0":0.0,"x1":0.0},"values":[1.0]}"#;
    let (_, mismatches) = harness::check_points(bad, &problems).unwrap();
    assert_eq!(mismatches.len(), 1);
}

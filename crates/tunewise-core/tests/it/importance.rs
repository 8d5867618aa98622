//! Parameter importance on functions whose important parameters are known.

use std::sync::Arc;

use tunewise_core::importance::{
    FanovaEvaluator, ImportanceEvaluator, Importances, PedAnovaEvaluator, Target,
};
use tunewise_core::{
    Budget, Direction, FrozenTrial, KnownTrial, RandomSampler, Study, TrialError, TrialState,
};

/// 200 uniform random trials of f(x, y, z) = 10·x² + 0.1·y + 0·z on [-1, 1]³.
fn xyz_trials() -> Vec<Arc<FrozenTrial>> {
    let study = Study::builder().minimize().sampler(RandomSampler::with_seed(11)).create().unwrap();
    study
        .optimize(
            |t| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", -1.0, 1.0)?;
                let y = t.suggest_float("y", -1.0, 1.0)?;
                let _z = t.suggest_float("z", -1.0, 1.0)?;
                Ok(10.0 * x * x + 0.1 * y)
            },
            Budget::trials(200),
        )
        .unwrap();
    study.trials().unwrap()
}

fn evaluators() -> Vec<(&'static str, Box<dyn ImportanceEvaluator>)> {
    vec![
        ("fanova", Box::new(FanovaEvaluator::new().seed(3))),
        ("ped-anova", Box::new(PedAnovaEvaluator::new())),
        ("ped-anova global", Box::new(PedAnovaEvaluator::new().evaluate_on_local(false))),
    ]
}

fn assert_normalised(name: &str, imp: &Importances) {
    let sum: f64 = imp.iter().map(|(_, v)| v).sum();
    assert!((sum - 1.0).abs() < 1e-9, "{name}: sum {sum}");
    assert!(imp.entries().windows(2).all(|w| w[0].1 >= w[1].1), "{name}: not sorted: {imp:?}");
}

#[test]
fn the_important_parameter_is_found_by_a_wide_margin() {
    let trials = xyz_trials();
    for (name, ev) in evaluators() {
        let imp = ev.evaluate(&trials, None, Target::minimize()).unwrap();
        assert_normalised(name, &imp);
        assert_eq!(imp.len(), 3);
        assert_eq!(imp.entries()[0].0, "x", "{name}: {imp:?}");
        let (x, z) = (imp.get("x").unwrap(), imp.get("z").unwrap());
        assert!(x > 0.6, "{name}: x only {x}: {imp:?}");
        assert!(z < 0.2, "{name}: z is {z}: {imp:?}");
        assert!(x > 4.0 * z, "{name}: {imp:?}");
    }
    // fANOVA measures variance shares, so the split is sharper there.
    let imp = FanovaEvaluator::new().seed(3).evaluate(&trials, None, Target::minimize()).unwrap();
    assert!(imp.get("x").unwrap() > 0.9 && imp.get("z").unwrap() < 0.05, "{imp:?}");
}

#[test]
fn a_categorical_that_matters_is_found() {
    let study = Study::builder().minimize().sampler(RandomSampler::with_seed(5)).create().unwrap();
    study
        .optimize(
            |t| -> Result<f64, TrialError> {
                let kind = t.suggest_categorical("kind", &["slow", "fast", "medium", "broken"])?;
                let x = t.suggest_float("x", 0.0, 1.0)?;
                let n = t.suggest_int("n", 1, 8)?;
                let base = match kind {
                    "fast" => 0.0,
                    "medium" => 2.0,
                    "slow" => 4.0,
                    _ => 8.0,
                };
                Ok(base + 0.2 * x + 0.0 * n as f64)
            },
            Budget::trials(200),
        )
        .unwrap();
    let trials = study.trials().unwrap();
    for (name, ev) in evaluators() {
        let imp = ev.evaluate(&trials, None, Target::minimize()).unwrap();
        assert_normalised(name, &imp);
        assert_eq!(imp.entries()[0].0, "kind", "{name}: {imp:?}");
        assert!(imp.get("kind").unwrap() > 0.6, "{name}: {imp:?}");
    }
}

#[test]
fn the_same_seed_gives_identical_importances() {
    let trials = xyz_trials();
    let run = |seed| {
        FanovaEvaluator::new().seed(seed).n_trees(16).evaluate(&trials, None, Target::minimize())
    };
    assert_eq!(run(7).unwrap(), run(7).unwrap());
    assert_ne!(run(7).unwrap(), run(8).unwrap(), "the seed should matter");
    let ped = || PedAnovaEvaluator::new().evaluate(&trials, None, Target::minimize()).unwrap();
    assert_eq!(ped(), ped());
}

#[test]
fn a_subset_of_parameters_is_evaluated_alone() {
    let trials = xyz_trials();
    for (name, ev) in evaluators() {
        let imp = ev.evaluate(&trials, Some(&["z", "y"]), Target::minimize()).unwrap();
        let names: Vec<&str> = imp.iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), 2, "{name}: {imp:?}");
        assert!(names.contains(&"y") && names.contains(&"z"), "{name}: {imp:?}");
        assert_normalised(name, &imp);
    }
}

#[test]
fn a_custom_target_and_a_second_objective_are_explained() {
    // Objective 0 depends on a, objective 1 on b.
    let study = Study::builder()
        .directions([Direction::Minimize, Direction::Maximize])
        .sampler(RandomSampler::with_seed(2))
        .create()
        .unwrap();
    study
        .optimize(
            |t| -> Result<Vec<f64>, TrialError> {
                let a = t.suggest_float("a", 0.0, 1.0)?;
                let b = t.suggest_float("b", 1e-3, 1.0)?;
                Ok(vec![(a - 0.3).abs(), -(b - 0.7).abs()])
            },
            Budget::trials(150),
        )
        .unwrap();
    let trials = study.trials().unwrap();
    for (name, ev) in evaluators() {
        let first = ev.evaluate(&trials, None, Target::for_study(&study, 0).unwrap()).unwrap();
        assert_eq!(first.entries()[0].0, "a", "{name}: {first:?}");
        let second = ev.evaluate(&trials, None, Target::for_study(&study, 1).unwrap()).unwrap();
        assert_eq!(second.entries()[0].0, "b", "{name}: {second:?}");
        let custom = Target::custom(Direction::Minimize, |t: &FrozenTrial| {
            t.param("b").map_or(0.0, |p| (p.internal - 0.5).powi(2))
        });
        let by_b = ev.evaluate(&trials, None, custom).unwrap();
        assert_eq!(by_b.entries()[0].0, "b", "{name}: {by_b:?}");
    }
}

#[test]
fn only_complete_trials_with_every_parameter_are_used() {
    // Conditional parameter `c` exists in some trials only; pruned and failed trials are noise.
    let study = Study::builder().minimize().create().unwrap();
    for i in 0..60 {
        let x = (i as f64 * 0.618_034) % 1.0;
        let y = (i as f64 * 0.414_213) % 1.0;
        let mut known = KnownTrial::complete(5.0 * x + 0.01 * y)
            .param("x", tunewise_core::Distribution::float(0.0, 1.0), x)
            .param("y", tunewise_core::Distribution::float(0.0, 1.0), y);
        if i % 2 == 0 {
            known = known.param("c", tunewise_core::Distribution::float(0.0, 1.0), y);
        }
        study.add_trial(known).unwrap();
        study.add_trial(KnownTrial::unfinished(TrialState::Failed)).unwrap();
    }
    let trials = study.trials().unwrap();
    for (name, ev) in evaluators() {
        // The intersection leaves out `c`.
        let imp = ev.evaluate(&trials, None, Target::minimize()).unwrap();
        assert_eq!(imp.len(), 2, "{name}: {imp:?}");
        assert_eq!(imp.entries()[0].0, "x", "{name}: {imp:?}");
        // Named, `c` is evaluated on the 30 trials that have it.
        let imp = ev.evaluate(&trials, Some(&["x", "c"]), Target::minimize()).unwrap();
        assert_eq!(imp.len(), 2, "{name}: {imp:?}");
    }
}

#[test]
fn bad_input_gets_an_error_naming_the_problem() {
    let trials = xyz_trials();
    let fanova = FanovaEvaluator::new().n_trees(4);
    let ped = PedAnovaEvaluator::new();
    let evs: [&dyn ImportanceEvaluator; 2] = [&fanova, &ped];
    let pruned_only = Study::builder().create().unwrap();
    pruned_only.add_trial(KnownTrial::unfinished(TrialState::Pruned)).unwrap();
    let one = Study::builder().create().unwrap();
    one.add_trial(KnownTrial::complete(1.0).param(
        "x",
        tunewise_core::Distribution::float(0.0, 1.0),
        0.5,
    ))
    .unwrap();
    let mismatched = Study::builder().create().unwrap();
    for (i, high) in [1.0, 2.0, 1.0].into_iter().enumerate() {
        mismatched
            .add_trial(KnownTrial::complete(i as f64).param(
                "x",
                tunewise_core::Distribution::float(0.0, high),
                0.5,
            ))
            .unwrap();
    }
    for ev in evs {
        let err = |trials: &[Arc<FrozenTrial>], params: Option<&[&str]>, target| {
            ev.evaluate(trials, params, target).unwrap_err().to_string()
        };
        let e = err(&pruned_only.trials().unwrap(), None, Target::minimize());
        assert!(e.contains("none of the 1 trial(s) is complete"), "{e}");
        let e = err(&[], None, Target::minimize());
        assert!(e.contains("is complete"), "{e}");
        let e = err(&one.trials().unwrap(), None, Target::minimize());
        assert!(e.contains("1 usable trial(s)") && e.contains("at least 2"), "{e}");
        let e = err(&trials, Some(&["x", "w"]), Target::minimize());
        assert!(e.contains("unknown parameter 'w'") && e.contains("x, y, z"), "{e}");
        let e = err(&trials, Some(&[]), Target::minimize());
        assert!(e.contains("empty"), "{e}");
        let e = err(&trials, None, Target::objective(1, Direction::Minimize));
        assert!(
            e.contains("objective index 1 is out of range") && e.contains("1 objective"),
            "{e}"
        );
        let e = err(&mismatched.trials().unwrap(), Some(&["x"]), Target::minimize());
        assert!(e.contains("different distributions"), "{e}");
        let e = err(&mismatched.trials().unwrap(), None, Target::minimize());
        assert!(e.contains("no parameter is shared"), "{e}");
    }
    let study = Study::builder().create().unwrap();
    let e = Target::for_study(&study, 3).unwrap_err().to_string();
    assert!(e.contains("objective index 3 is out of range; the study has 1"), "{e}");

    let e = FanovaEvaluator::new().n_trees(0).evaluate(&trials, None, Target::minimize());
    assert!(e.unwrap_err().to_string().contains("n_trees"));
    let e = PedAnovaEvaluator::new().target_quantile(0.5).region_quantile(0.3).evaluate(
        &trials,
        None,
        Target::minimize(),
    );
    assert!(e.unwrap_err().to_string().contains("region_quantile must lie in"));
    let e =
        PedAnovaEvaluator::new().target_quantile(1.5).evaluate(&trials, None, Target::minimize());
    assert!(e.unwrap_err().to_string().contains("target_quantile must lie in (0, 1)"));
}

#[test]
fn a_constant_target_gives_zero_importances() {
    let trials = xyz_trials();
    for (name, ev) in evaluators() {
        let imp = ev.evaluate(&trials, None, Target::custom(Direction::Minimize, |_| 1.0)).unwrap();
        if name == "fanova" {
            assert!(imp.iter().all(|(_, v)| v == 0.0), "{name}: {imp:?}");
        }
        assert_eq!(imp.len(), 3);
    }
}

#[test]
fn evaluators_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<FanovaEvaluator>();
    check::<PedAnovaEvaluator>();
    check::<Target>();
    check::<Importances>();
}

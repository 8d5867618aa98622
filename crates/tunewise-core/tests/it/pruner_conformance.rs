//! The pruner conformance suite run against this crate's pruners, and against broken ones to
//! show that it catches what it claims to.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tunewise_core::conformance::pruner::check_pruner;
use tunewise_core::{
    FrozenTrial, HyperbandPruner, NopPruner, PatiencePruner, PercentilePruner, Pruner, Result,
    StudyView, SuccessiveHalvingPruner, ThresholdPruner, WilcoxonPruner,
};

#[test]
fn nop_pruner_passes_the_pruner_suite() {
    check_pruner(|| Box::new(NopPruner));
}

#[test]
fn median_pruner_passes_the_pruner_suite() {
    check_pruner(|| Box::new(PercentilePruner::median()));
}

#[test]
fn percentile_pruner_with_every_setting_passes_the_pruner_suite() {
    check_pruner(|| {
        let builder = PercentilePruner::builder(25.0).n_startup_trials(2).n_warmup_steps(1);
        Box::new(builder.interval_steps(3).n_min_trials(2).build().unwrap())
    });
    check_pruner(|| Box::new(PercentilePruner::builder(90.0).n_startup_trials(0).build().unwrap()));
}

#[test]
fn threshold_pruner_passes_the_pruner_suite() {
    check_pruner(|| Box::new(ThresholdPruner::builder().upper(1.5).build().unwrap()));
    check_pruner(|| {
        let builder = ThresholdPruner::builder().lower(0.5).upper(2.0).n_warmup_steps(2);
        Box::new(builder.interval_steps(2).build().unwrap())
    });
}

#[test]
fn successive_halving_pruner_passes_the_pruner_suite() {
    check_pruner(|| Box::new(SuccessiveHalvingPruner::new()));
    check_pruner(|| {
        let builder = SuccessiveHalvingPruner::builder().min_resource(2).reduction_factor(2);
        Box::new(builder.min_early_stopping_rate(1).bootstrap_count(1).build().unwrap())
    });
}

#[test]
fn hyperband_pruner_passes_the_pruner_suite() {
    check_pruner(|| Box::new(HyperbandPruner::builder().max_resource(9).build().unwrap()));
    check_pruner(|| {
        let builder = HyperbandPruner::builder().min_resource(1).max_resource(27);
        Box::new(builder.reduction_factor(3).build().unwrap())
    });
}

#[test]
fn wilcoxon_pruner_passes_the_pruner_suite() {
    check_pruner(|| Box::new(WilcoxonPruner::new()));
    check_pruner(|| {
        Box::new(WilcoxonPruner::builder().p_threshold(0.3).n_startup_steps(1).build().unwrap())
    });
}

#[test]
fn patience_pruner_passes_the_pruner_suite() {
    check_pruner(|| Box::new(PatiencePruner::builder(2).min_delta(0.01).build().unwrap()));
    check_pruner(|| Box::new(PatiencePruner::wrap(PercentilePruner::median(), 1)));
    check_pruner(|| {
        let inner: Box<dyn Pruner> = Box::new(PercentilePruner::median());
        Box::new(PatiencePruner::builder(0).wrap(inner).build().unwrap())
    });
}

/// Prunes every trial, even one that has reported nothing.
#[derive(Debug)]
struct Always;

impl Pruner for Always {
    fn prune(&self, _study: &StudyView<'_>, _trial: &FrozenTrial) -> Result<bool> {
        Ok(true)
    }
}

#[test]
#[should_panic(expected = "a trial with no reports must never be pruned")]
fn the_pruner_suite_catches_a_pruner_that_prunes_trials_without_reports() {
    check_pruner(|| Box::new(Always));
}

/// Prunes every other call: hidden state that changes decisions.
#[derive(Debug, Default)]
struct Flaky(AtomicU64);

impl Pruner for Flaky {
    fn prune(&self, _study: &StudyView<'_>, trial: &FrozenTrial) -> Result<bool> {
        let calls = self.0.fetch_add(1, Ordering::Relaxed);
        Ok(!trial.intermediate_values.is_empty() && calls % 2 == 1)
    }
}

#[test]
#[should_panic(expected = "not deterministic")]
fn the_pruner_suite_catches_a_pruner_with_hidden_state() {
    check_pruner(|| Box::new(Flaky::default()));
}

/// Panics on a NaN report.
#[derive(Debug)]
struct PanicsOnNan;

impl Pruner for PanicsOnNan {
    fn prune(&self, _study: &StudyView<'_>, trial: &FrozenTrial) -> Result<bool> {
        let nan = trial.intermediate_values.values().flatten().any(|v| v.is_nan());
        assert!(!nan, "a NaN");
        Ok(false)
    }
}

#[test]
#[should_panic(expected = "prune panicked")]
fn the_pruner_suite_catches_a_pruner_that_panics_on_nan() {
    check_pruner(|| Box::new(PanicsOnNan));
}

/// Remembers its first answer for each number of trials and trial judged, whatever state those
/// trials are in: a cache keyed on too little.
#[derive(Debug, Default)]
struct StaleCache(Mutex<BTreeMap<(usize, String), bool>>);

impl Pruner for StaleCache {
    fn prune(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<bool> {
        let key = (
            study.trials().len(),
            format!("{:?} {:?}", study.directions(), trial.intermediate_values),
        );
        let mut cache = self.0.lock().unwrap();
        let fresh = PercentilePruner::builder(50.0).n_startup_trials(1).build()?;
        if let Some(answer) = cache.get(&key) {
            return Ok(*answer);
        }
        let answer = fresh.prune(study, trial)?;
        cache.insert(key, answer);
        Ok(answer)
    }
}

#[test]
#[should_panic(expected = "a stale cache?")]
fn the_pruner_suite_catches_a_stale_cache() {
    check_pruner(|| Box::new(StaleCache::default()));
}

//! The shared conformance suites run against this crate's implementations, and against broken
//! ones to show that the suites catch what they claim to.

use std::sync::Arc;
use std::time::Duration;

use tunewise_core::conformance::sampler::{check_sampler, conformance_space};
use tunewise_core::conformance::storage::check_storage;
use tunewise_core::rng::Rng;
use tunewise_core::storage::{Lease, StudyId, StudyRecord, TrialChanges, TrialFinish};
use tunewise_core::{
    AttrValue, CoarseToFineSampler, Direction, Distribution, FrozenTrial, GridSampler,
    InMemoryStorage, Param, RandomSampler, Result, Sampler, SearchSpace, Storage, StudyView,
};

#[test]
fn random_sampler_passes_the_sampler_suite() {
    check_sampler(&|seed, _space| Box::new(RandomSampler::with_seed(seed)));
}

#[test]
fn grid_sampler_passes_the_sampler_suite() {
    check_sampler(&|seed, space| Box::new(GridSampler::from_space(space, 3).unwrap().seed(seed)));
}

#[test]
fn grid_sampler_in_natural_order_passes_the_sampler_suite() {
    // The study of single values is one point: the grid is exhausted after one trial.
    check_sampler(&|seed, space| {
        Box::new(GridSampler::from_space(space, 2).unwrap().seed(seed).natural_order())
    });
}

#[test]
fn coarse_to_fine_sampler_passes_the_sampler_suite() {
    check_sampler(&|seed, _space| Box::new(CoarseToFineSampler::with_seed(seed)));
}

#[test]
fn coarse_to_fine_sampler_refining_early_passes_the_sampler_suite() {
    // Refines from the third trial on, in rounds of four: most trials are fine-phase trials.
    check_sampler(&|seed, _space| {
        let builder = CoarseToFineSampler::builder().n_coarse(2).top_k(2).trials_per_round(4);
        Box::new(builder.categorical_explore(0.5).seed(seed).build().unwrap())
    });
}

#[test]
fn in_memory_storage_passes_the_storage_suite() {
    check_storage(&|| Arc::new(InMemoryStorage::new()));
}

#[test]
fn the_storage_suite_runs_on_one_shared_storage() {
    let shared: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    check_storage(&|| shared.clone());
    assert!(shared.list_studies().unwrap().is_empty(), "the suite cleans up its studies");
}

#[test]
fn the_conformance_space_is_valid_and_named() {
    let space = conformance_space();
    assert!(space.len() >= 15);
    for (name, d) in space.iter() {
        d.validate(name).unwrap();
    }
    assert!(space.iter().any(|(_, d)| d.is_single()));
    assert!(space.iter().any(|(_, d)| d.is_log()));
}

/// Seeded from the OS on every call: not reproducible.
#[derive(Debug)]
struct Unseeded;

impl Sampler for Unseeded {
    fn sample_independent(
        &self,
        _study: &StudyView<'_>,
        _trial: &FrozenTrial,
        _name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        Ok(tunewise_core::samplers::sample_uniform(&mut Rng::new(Rng::os_seed()), distribution))
    }
}

#[test]
#[should_panic(expected = "the same seed (8) gave different trials")]
fn the_sampler_suite_catches_an_unreproducible_sampler() {
    check_sampler(&|_seed, _space| Box::new(Unseeded));
}

/// Proposes the upper bound plus one: outside every range.
#[derive(Debug)]
struct OutOfBounds;

impl Sampler for OutOfBounds {
    fn sample_independent(
        &self,
        _study: &StudyView<'_>,
        _trial: &FrozenTrial,
        _name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        Ok(distribution.internal_bounds().1 + 1.0)
    }
}

#[test]
#[should_panic(expected = "the sampler proposed")]
fn the_sampler_suite_catches_values_out_of_bounds() {
    check_sampler(&|_seed, _space| Box::new(OutOfBounds));
}

/// Needs its space up front, as a grid does: refuses any parameter outside it.
#[derive(Debug)]
struct FixedSpace(SearchSpace, RandomSampler);

impl Sampler for FixedSpace {
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        match self.0.get(name) {
            Some(d) if **d == *distribution => {
                self.1.sample_independent(study, trial, name, distribution)
            }
            _ => Err(tunewise_core::Error::Sampler(format!("'{name}' is not in the space"))),
        }
    }
}

#[test]
fn the_sampler_suite_gives_each_study_its_space() {
    check_sampler(&|seed, space| {
        for (name, d) in space.iter() {
            assert_eq!(conformance_space().get(name), Some(d));
        }
        Box::new(FixedSpace(space.clone(), RandomSampler::with_seed(seed)))
    });
}

/// Forgets the cursor of incremental reads: returns every trial every time.
#[derive(Debug, Default)]
struct NoCursor(InMemoryStorage);

impl Storage for NoCursor {
    fn create_study(&self, name: &str, directions: &[Direction]) -> Result<StudyRecord> {
        self.0.create_study(name, directions)
    }
    fn find_study(&self, name: &str) -> Result<Option<StudyRecord>> {
        self.0.find_study(name)
    }
    fn list_studies(&self) -> Result<Vec<StudyRecord>> {
        self.0.list_studies()
    }
    fn delete_study(&self, study: StudyId) -> Result<()> {
        self.0.delete_study(study)
    }
    fn set_study_user_attr(&self, study: StudyId, key: &str, value: AttrValue) -> Result<()> {
        self.0.set_study_user_attr(study, key, value)
    }
    fn insert_trial(&self, study: StudyId, trial: &FrozenTrial) -> Result<Arc<FrozenTrial>> {
        self.0.insert_trial(study, trial)
    }
    fn start_trial(
        &self,
        study: StudyId,
        worker: &str,
        lease: Option<Duration>,
    ) -> Result<Arc<FrozenTrial>> {
        self.0.start_trial(study, worker, lease)
    }
    fn start_trial_capped(
        &self,
        study: StudyId,
        worker: &str,
        lease: Option<Duration>,
        max_trials: u64,
    ) -> Result<Option<Arc<FrozenTrial>>> {
        self.0.start_trial_capped(study, worker, lease, max_trials)
    }
    fn renew_lease(&self, lease: &Lease, duration: Duration) -> Result<()> {
        self.0.renew_lease(lease, duration)
    }
    fn set_trial_params(&self, lease: &Lease, params: &[Param]) -> Result<()> {
        self.0.set_trial_params(lease, params)
    }
    fn set_trial_user_attr(&self, lease: &Lease, key: &str, value: AttrValue) -> Result<()> {
        self.0.set_trial_user_attr(lease, key, value)
    }
    fn report(&self, lease: &Lease, step: u64, values: &[f64]) -> Result<()> {
        self.0.report(lease, step, values)
    }
    fn finish_trial(&self, lease: &Lease, finish: &TrialFinish) -> Result<Arc<FrozenTrial>> {
        self.0.finish_trial(lease, finish)
    }
    fn trials_since(&self, study: StudyId, _cursor: u64) -> Result<TrialChanges> {
        self.0.trials_since(study, 0)
    }
    fn trial(&self, study: StudyId, number: u64) -> Result<Arc<FrozenTrial>> {
        self.0.trial(study, number)
    }
    fn release_worker(&self, study: StudyId, worker: &str) -> Result<usize> {
        self.0.release_worker(study, worker)
    }
}

#[test]
#[should_panic(expected = "trials_since returns unchanged trials")]
fn the_storage_suite_catches_a_storage_without_incremental_reads() {
    check_storage(&|| Arc::new(NoCursor::default()));
}

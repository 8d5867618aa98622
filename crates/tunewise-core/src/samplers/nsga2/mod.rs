//! NSGA-II: the non-dominated sorting genetic algorithm (Deb et al. 2002).

mod crossover;
mod mutation;
mod selection;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::direction::Direction;
use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::frozen::{FrozenTrial, Param, TrialState};
use crate::rng::{hash_str, Rng};
use crate::sampler::{Sampler, StudyView};
use crate::sync::lock;

use super::RandomSampler;
pub use crossover::Crossover;
pub use mutation::Mutation;
use selection::{select, Individual, Ranked};

/// Key of a trial's generator for choosing its parents.
const TAG_PARENTS: u64 = 0x6e73_6761_7061;
/// Key of a parameter's generator for its crossover and mutation.
const TAG_CHILD: u64 = 0x6e73_6761_6368;
/// Parent choices kept for trials that started but never finished (a crashed objective): the
/// oldest are dropped beyond this.
const MAX_PLANS: usize = 1024;

#[derive(Debug, Clone, Copy)]
struct Settings {
    population_size: usize,
    crossover: Crossover,
    crossover_prob: f64,
    swapping_prob: f64,
    /// `None`: 1 / the first parent's number of parameters.
    mutation_prob: Option<f64>,
    mutation: Mutation,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            population_size: 50,
            crossover: Crossover::Uniform,
            crossover_prob: 0.9,
            swapping_prob: 0.5,
            mutation_prob: None,
            mutation: Mutation::Uniform,
        }
    }
}

/// NSGA-II, the non-dominated sorting genetic algorithm: an evolutionary search for the Pareto
/// front of several objectives, with constraints.
///
/// **What it is.** Trials are bred in generations of
/// [`population_size`](NsgaIIBuilder::population_size). The first generation is random (exactly
/// [`RandomSampler`] with the same seed). After each generation, the *parent population* is
/// chosen from the previous parents and the generation's complete trials (elitism): whole fronts
/// of non-domination while they fit, then the most isolated trials of the next front by crowding
/// distance. Each trial of the next generation is a child of two parents, each the winner of a
/// binary tournament (lower front first, then larger crowding distance): with probability
/// [`crossover_prob`](NsgaIIBuilder::crossover_prob) (one draw per trial) the parents are
/// crossed (see [`Crossover`]), otherwise the child copies the first parent; then each parameter
/// mutates with probability [`mutation_prob`](NsgaIIBuilder::mutation_prob) (see [`Mutation`]).
///
/// - **Constraints** ([`FrozenTrial::constraints`], feasible when all are ≤ 0) use Deb's
///   constrained domination: a feasible trial beats an infeasible one, two infeasible trials
///   compare by total violation (the sum of their positive constraint values), two feasible
///   ones by Pareto dominance.
/// - **One objective** works too: fronts are then levels of value, and the sampler is a plain
///   elitist genetic algorithm. Maximized objectives are negated.
/// - **Parameters of every kind.** Numeric parameters are crossed and mutated on `[0, 1]` (on
///   the logarithm for log scales; ints and stepped floats with half a step of margin at each
///   end, and snapped back to their grid). Categoricals take one parent's choice (the second's
///   with probability [`swapping_prob`](NsgaIIBuilder::swapping_prob)) and mutate by a uniform
///   redraw. A parameter that the parents to cross do not both have with the same distribution
///   (or, for a copy, that the first parent does not have) is drawn at random, so conditional
///   (define-by-run) spaces work.
///
/// **Generations from the history.** The generations are a function of the study's history
/// alone, so that resumed studies and many workers agree: the *settled* trials are the longest
/// prefix, in number order, of trials that have all finished; their complete trials (with one
/// value per objective), in number order, are cut into generations of `population_size`.
/// Pruned and failed trials belong to no generation. That settled record is what a fresh
/// sampler on the same history computes, but trials are not bred from it alone: a trial can
/// run far longer than the others (a slow configuration, or a worker the operating system
/// holds back while the others run dozens of fast trials), and breeding every trial started
/// meanwhile from the population before it (or at random, when the straggler is in the first
/// generation) would stall the search. So a trial is bred from the parent population of every
/// whole generation of the finished complete trials when it starts: the settled ones carried
/// on with those finished after the prefix, in number order, skipping the trials still running
/// (the *holes*). Once a hole completes, the generations from it on are folded again with it in
/// its place, as the settled record counts it; a hole that fails or is pruned takes no place.
/// A single worker never leaves a hole, so its trials are exactly those bred from the settled
/// generations. A trial's parents are chosen once, when it starts ([`Sampler::before_trial`]),
/// so a generation completing while it runs does not mix two populations in one trial.
///
/// **Sampling.** Parameters are sampled one at a time ([`Sampler::sample_independent`]): a
/// parameter's value depends only on the seed, the trial's number and parents, and the
/// parameter's name, so the child does not have to be computed ahead of the objective and
/// conditional parameters are crossed whenever both parents have them. The default mutation
/// probability, `1/d`, takes `d` from the first parent's number of parameters.
///
/// **When to use it.** Several objectives (two or three), cheap trials and budgets of hundreds to
/// thousands of trials: it needs a few generations (a few times `population_size` trials) to
/// pay off. For small budgets or expensive trials prefer [`TpeSampler`](crate::TpeSampler)
/// (MOTPE), which models the history instead of evolving it.
///
/// **Cost.** Per trial, a tournament and a crossover per parameter: O(d). Per generation, the
/// non-dominated sort of `2 · population_size` trials, O(population_size² · objectives),
/// shared by the generation's trials. The settled trials are read incrementally (a mutex inside
/// the sampler), so the cost per trial does not grow with the study. With several workers, a
/// hole completing folds again the generations after it, from the last one folded before it:
/// rarely more than one, except once for a trial that ran through several. Measured: about 15
/// to 20 µs per trial (the engine's ~3 µs included) with 10 parameters and two objectives, at
/// 1,000 as at 10,000 finished trials (`cargo bench -p tunewise-bench --bench nsga2`, see
/// `docs/benchmarks.md`).
///
/// **Defaults** (Optuna's): `population_size` 50, uniform crossover with `crossover_prob` 0.9
/// and `swapping_prob` 0.5, `mutation_prob` `1/d` with uniform redraws.
/// [`Crossover::sbx`] with [`Mutation::polynomial`] gives Deb et al.'s real-coded operators.
///
/// **Reproducible.** Each trial's draws come from generators derived from the seed, the trial
/// number and the parameter's name: a seeded single-threaded study gives the same trials every
/// run, and a resumed study proposes what an uninterrupted one would have.
///
/// Paper: K. Deb, A. Pratap, S. Agarwal, T. Meyarivan, "A Fast and Elitist Multiobjective
/// Genetic Algorithm: NSGA-II", IEEE Transactions on Evolutionary Computation 6(2), 2002.
///
/// ```
/// use tunewise_core::{Budget, Crossover, Direction, NsgaIISampler, Study, TrialError};
///
/// let sampler = NsgaIISampler::builder()
///     .population_size(20)
///     .crossover(Crossover::sbx())
///     .seed(3)
///     .build()?;
/// let study = Study::builder()
///     .directions([Direction::Minimize, Direction::Minimize])
///     .sampler(sampler)
///     .create()?;
/// study.optimize(
///     |t| -> Result<Vec<f64>, TrialError> {
///         let x = t.suggest_float("x", 0.0, 2.0)?;
///         Ok(vec![x * x, (x - 2.0).powi(2)])
///     },
///     Budget::trials(100),
/// )?;
/// assert!(study.best_trials()?.len() > 10);
/// # Ok::<(), tunewise_core::Error>(())
/// ```
pub struct NsgaIISampler {
    settings: Settings,
    seed: u64,
    random: RandomSampler,
    state: Mutex<State>,
}

impl fmt::Debug for NsgaIISampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NsgaIISampler")
            .field("settings", &self.settings)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

/// Settings of an [`NsgaIISampler`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Default)]
pub struct NsgaIIBuilder {
    settings: Settings,
    seed: Option<u64>,
}

impl NsgaIIBuilder {
    /// Trials per generation and parents kept (default 50, at least 2).
    pub fn population_size(mut self, n: usize) -> Self {
        self.settings.population_size = n;
        self
    }

    /// How numeric parameters are crossed (default [`Crossover::Uniform`]).
    pub fn crossover(mut self, crossover: Crossover) -> Self {
        self.settings.crossover = crossover;
        self
    }

    /// Probability that a child is a cross of its parents rather than a copy of the first, in
    /// [0, 1] (default 0.9).
    pub fn crossover_prob(mut self, p: f64) -> Self {
        self.settings.crossover_prob = p;
        self
    }

    /// Probability that a parameter is taken from the second parent (uniform crossover,
    /// categoricals) or from the second parent's side (SBX), in [0, 1] (default 0.5).
    pub fn swapping_prob(mut self, p: f64) -> Self {
        self.settings.swapping_prob = p;
        self
    }

    /// Probability that each parameter of a child mutates, in [0, 1]; `None` (the default):
    /// `1/d` for a first parent with `d` parameters.
    pub fn mutation_prob(mut self, p: Option<f64>) -> Self {
        self.settings.mutation_prob = p;
        self
    }

    /// How numeric parameters mutate (default [`Mutation::Uniform`]).
    pub fn mutation(mut self, mutation: Mutation) -> Self {
        self.settings.mutation = mutation;
        self
    }

    /// The seed (default: from the operating system; the study's seed replaces it when the study
    /// builder is given one).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Checks the settings and makes the sampler; an error names the setting to fix.
    pub fn build(self) -> Result<NsgaIISampler> {
        let s = &self.settings;
        let bad = |field: &str, why: String| {
            Err(Error::InvalidConfig(format!("NsgaIISampler {field}: {why}")))
        };
        let probability = |p: f64| (0.0..=1.0).contains(&p);
        if s.population_size < 2 {
            return bad(
                "population_size",
                format!(
                    "needs at least 2 trials per generation to have two parents (default 50), got {}",
                    s.population_size
                ),
            );
        }
        if !probability(s.crossover_prob) {
            return bad(
                "crossover_prob",
                format!("is a probability, in [0, 1] (default 0.9), got {}", s.crossover_prob),
            );
        }
        if !probability(s.swapping_prob) {
            return bad(
                "swapping_prob",
                format!("is a probability, in [0, 1] (default 0.5), got {}", s.swapping_prob),
            );
        }
        if let Some(p) = s.mutation_prob.filter(|p| !probability(*p)) {
            return bad(
                "mutation_prob",
                format!("is a probability, in [0, 1], or None for 1/d (the default), got {p}"),
            );
        }
        match s.crossover {
            Crossover::Sbx { eta } if !(eta.is_finite() && eta >= 0.0) => {
                return bad(
                    "crossover",
                    format!("Sbx eta must be a finite number >= 0 (Deb's is 20), got {eta}"),
                );
            }
            Crossover::Blx { alpha } if !(alpha.is_finite() && alpha >= 0.0) => {
                return bad(
                    "crossover",
                    format!("Blx alpha must be a finite number >= 0 (usually 0.5), got {alpha}"),
                );
            }
            _ => {}
        }
        if let Mutation::Polynomial { eta } = s.mutation {
            if !(eta.is_finite() && eta >= 0.0) {
                return bad(
                    "mutation",
                    format!("Polynomial eta must be a finite number >= 0 (Deb's is 20), got {eta}"),
                );
            }
        }
        let seed = self.seed.unwrap_or_else(Rng::os_seed);
        Ok(NsgaIISampler::from_settings(*s, seed))
    }
}

/// How a trial is bred, decided when it starts.
#[derive(Clone)]
struct Parents {
    first: Arc<FrozenTrial>,
    second: Arc<FrozenTrial>,
    /// Crossed (probability `crossover_prob`), or a copy of the first parent.
    crossed: bool,
}

/// A trial's parents (`None`: a random trial).
type Plan = Option<Parents>;

/// A member of the parent population.
#[derive(Clone)]
struct Member {
    trial: Arc<FrozenTrial>,
    ranked: Ranked,
}

/// Generations folded from complete trials in number order: the parent population and the
/// complete trials waiting for the next generation.
#[derive(Clone, Default)]
struct Folded {
    /// The complete trials (one value per objective) not yet folded into a generation, in
    /// number order (fewer than `population_size`).
    complete: Vec<Arc<FrozenTrial>>,
    /// Whole generations folded into `population`.
    generations: usize,
    population: Vec<Member>,
}

impl Folded {
    /// Adds a complete trial, and folds the generation it completes: returns whether it did.
    fn push(
        &mut self,
        trial: &Arc<FrozenTrial>,
        directions: &[Direction],
        population_size: usize,
    ) -> bool {
        self.complete.push(trial.clone());
        if self.complete.len() < population_size {
            return false;
        }
        let generation = std::mem::take(&mut self.complete);
        self.population = fold(&self.population, &generation, directions, population_size);
        self.generations += 1;
        true
    }

    /// The parents of `number`: two binary tournaments on the parent population, and whether
    /// they are crossed.
    fn plan(&self, seed: u64, number: u64, crossover_prob: f64) -> Plan {
        if self.generations == 0 || self.population.len() < 2 {
            return None;
        }
        let mut rng = Rng::derive(seed, &[number, TAG_PARENTS]);
        let a = tournament(&self.population, &mut rng);
        let b = tournament(&self.population, &mut rng);
        Some(Parents {
            first: self.population[a].trial.clone(),
            second: self.population[b].trial.clone(),
            crossed: rng.uniform() < crossover_prob,
        })
    }
}

/// Whether a trial belongs to a generation: complete, with one non-NaN value per objective.
fn usable(t: &FrozenTrial, objectives: usize) -> bool {
    t.state == TrialState::Complete
        && t.values.as_ref().is_some_and(|v| v.len() == objectives && v.iter().all(|x| !x.is_nan()))
}

/// The generations carried on past the settled prefix with the trials finished beyond it,
/// skipping those still running (the *holes*). Trials are bred from it, so that one long trial
/// does not hold every other worker on the population before it. It is never the record: once
/// a hole completes, the generations from that hole on are folded again with it in its place.
struct Ahead {
    folded: Folded,
    /// Trials below this number are read.
    cursor: usize,
    /// Trials below `cursor` still running when last looked at, in number order.
    holes: Vec<usize>,
    /// The state right after each generation folded here, with the cursor just past that
    /// generation's last trial: where a hole completing later starts the folding again.
    checkpoints: Vec<(usize, Folded)>,
}

impl Ahead {
    /// Goes back to the latest state that does not count trial `hole`, which has just completed:
    /// the last checkpoint before it, or the settled state when it is as far.
    fn rewind(&mut self, hole: usize, prefix: usize, settled: &Folded) {
        self.checkpoints.retain(|(cursor, _)| *cursor <= hole);
        match self.checkpoints.last() {
            Some((cursor, folded)) if *cursor > prefix => {
                self.folded = folded.clone();
                self.cursor = *cursor;
            }
            _ => {
                self.folded = settled.clone();
                self.cursor = prefix;
                self.checkpoints.clear();
            }
        }
        let cursor = self.cursor;
        self.holes.retain(|&h| h < cursor);
    }
}

/// What the sampler knows of the study: the settled generations (the record), the generations
/// carried on past a trial still running (what trials are bred from) and each running trial's
/// parents.
#[derive(Default)]
struct State {
    /// Id of trial 0, to notice a different study.
    first_id: Option<u64>,
    /// Every trial below this number is finished and read.
    prefix: usize,
    /// The generations of the complete trials below `prefix`.
    settled: Folded,
    /// Past a trial still running, when trials after it have finished.
    ahead: Option<Ahead>,
    /// Each started trial's parents, until it finishes.
    plans: BTreeMap<u64, Plan>,
}

impl State {
    /// Reads the trials settled since the last call and folds every whole generation: O(new
    /// trials), plus a selection per generation completed. Then carries the generations on
    /// past the prefix, for the trials to breed.
    fn update(&mut self, view: &StudyView<'_>, population_size: usize) {
        let trials = view.trials();
        let first = trials.first().map(|t| t.id);
        if trials.len() < self.prefix || (self.first_id.is_some() && first != self.first_id) {
            *self = State::default();
        }
        self.first_id = first;
        let directions = view.directions();
        for t in &trials[self.prefix..] {
            if !t.state.is_finished() {
                break;
            }
            self.prefix += 1;
            if usable(t, directions.len()) {
                self.settled.push(t, directions, population_size);
            }
        }
        self.update_ahead(trials, directions, population_size);
    }

    /// Brings [`Ahead`] up to date: kept while no hole has completed, folded again from the
    /// last state before the first hole that did otherwise. O(new trials) while no hole
    /// completes; a hole completing costs the trials and selections after it.
    fn update_ahead(
        &mut self,
        trials: &[Arc<FrozenTrial>],
        directions: &[Direction],
        population_size: usize,
    ) {
        let m = directions.len();
        // Past the last finished trial, the running ones are the ones just started, not holes.
        let end = trials.iter().rposition(|t| t.state.is_finished()).map_or(0, |i| i + 1);
        if end <= self.prefix {
            self.ahead = None;
            return;
        }
        let prefix = self.prefix;
        let mut ahead = match self.ahead.take() {
            Some(mut a) if a.cursor > prefix && a.cursor <= trials.len() => {
                let done = a.holes.iter().copied().find(|&h| usable(&trials[h], m));
                if let Some(hole) = done {
                    a.rewind(hole, prefix, &self.settled);
                }
                a.holes.retain(|&h| !trials[h].state.is_finished());
                a
            }
            _ => Ahead {
                folded: self.settled.clone(),
                cursor: prefix,
                holes: Vec::new(),
                checkpoints: Vec::new(),
            },
        };
        for (i, t) in trials.iter().enumerate().take(end).skip(ahead.cursor) {
            if !t.state.is_finished() {
                ahead.holes.push(i);
            } else if usable(t, m) && ahead.folded.push(t, directions, population_size) {
                ahead.checkpoints.push((i + 1, ahead.folded.clone()));
            }
        }
        ahead.cursor = ahead.cursor.max(end);
        // The settled state is as far as these, and never needs folding again.
        ahead.checkpoints.retain(|(cursor, _)| *cursor > prefix);
        self.ahead = Some(ahead);
    }

    /// The generations trials are bred from: ahead of the settled prefix when trials past a
    /// running one have finished.
    fn current(&self) -> &Folded {
        self.ahead.as_ref().map_or(&self.settled, |a| &a.folded)
    }

    /// The parents of `number`, from the current generations.
    fn plan(&self, seed: u64, number: u64, crossover_prob: f64) -> Plan {
        self.current().plan(seed, number, crossover_prob)
    }
}

/// The next parent population: `population_size` of the previous parents and `generation`.
fn fold(
    parents: &[Member],
    generation: &[Arc<FrozenTrial>],
    directions: &[Direction],
    population_size: usize,
) -> Vec<Member> {
    let pool: Vec<&Arc<FrozenTrial>> =
        parents.iter().map(|m| &m.trial).chain(generation.iter()).collect();
    let individuals: Vec<Individual> = pool.iter().map(|t| Individual::of(t, directions)).collect();
    select(&individuals, population_size)
        .into_iter()
        .map(|ranked| Member { trial: pool[ranked.index].clone(), ranked })
        .collect()
}

/// Binary tournament between two distinct members drawn at random: lower front, then larger
/// crowding distance; a tie goes to the first drawn.
fn tournament(population: &[Member], rng: &mut Rng) -> usize {
    let n = population.len() as u64;
    let i = rng.below(n) as usize;
    let mut j = rng.below(n - 1) as usize;
    if j >= i {
        j += 1;
    }
    if population[j].ranked.beats(&population[i].ranked) {
        j
    } else {
        i
    }
}

/// A numeric parameter's map to `[0, 1]`: `(low, high, log)` of the interval mapped.
fn scale(distribution: &Distribution) -> Option<(f64, f64, bool)> {
    match distribution {
        Distribution::Float(d) => match d.step {
            Some(step) => Some((d.low - step / 2.0, d.max_value() + step / 2.0, false)),
            None if d.log => Some((d.low.ln(), d.high.ln(), true)),
            None => Some((d.low, d.high, false)),
        },
        Distribution::Int(d) if d.log => {
            Some(((d.low as f64 - 0.5).ln(), (d.high as f64 + 0.5).ln(), true))
        }
        Distribution::Int(d) => {
            let half = d.step as f64 / 2.0;
            let (low, high) = distribution.internal_bounds();
            Some((low - half, high + half, false))
        }
        Distribution::Categorical(_) => None,
    }
}

fn to_unit((low, high, log): (f64, f64, bool), x: f64) -> f64 {
    let x = if log { x.ln() } else { x };
    if high > low {
        ((x - low) / (high - low)).clamp(0.0, 1.0)
    } else {
        0.5
    }
}

fn from_unit((low, high, log): (f64, f64, bool), u: f64, distribution: &Distribution) -> f64 {
    let x = low + u * (high - low);
    distribution.snap_internal(if log { x.exp() } else { x })
}

/// A parent's parameter `name`, when it has it with `distribution`.
fn param_of<'a>(
    parent: &'a FrozenTrial,
    name: &str,
    distribution: &Distribution,
) -> Option<&'a Param> {
    parent.param(name).filter(|p| *p.distribution == *distribution)
}

impl Default for NsgaIISampler {
    fn default() -> Self {
        Self::new()
    }
}

impl NsgaIISampler {
    /// An NSGA-II sampler with the defaults, seeded from the operating system.
    pub fn new() -> Self {
        Self::with_seed(Rng::os_seed())
    }

    /// An NSGA-II sampler with the defaults and a seed.
    pub fn with_seed(seed: u64) -> Self {
        Self::from_settings(Settings::default(), seed)
    }

    fn from_settings(settings: Settings, seed: u64) -> Self {
        NsgaIISampler {
            settings,
            seed,
            random: RandomSampler::with_seed(seed),
            state: Mutex::new(State::default()),
        }
    }

    /// A builder, to change the defaults.
    pub fn builder() -> NsgaIIBuilder {
        NsgaIIBuilder::default()
    }

    /// Its seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The parents of `trial`: those chosen when it started, or chosen now.
    fn plan(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Plan {
        let mut state = lock(&self.state);
        if let Some(plan) = state.plans.get(&trial.number) {
            return plan.clone();
        }
        state.update(study, self.settings.population_size);
        let plan = state.plan(self.seed, trial.number, self.settings.crossover_prob);
        state.plans.insert(trial.number, plan.clone());
        while state.plans.len() > MAX_PLANS {
            state.plans.pop_first();
        }
        plan
    }

    /// The child's value of one parameter both parents have (internal values `a` and `b`).
    #[allow(clippy::too_many_arguments)]
    fn child(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
        (a, b): (f64, f64),
        crossed: bool,
        d: usize,
    ) -> Result<f64> {
        let s = &self.settings;
        let mut rng = Rng::derive(self.seed, &[trial.number, TAG_CHILD, hash_str(name)]);
        // Drawn first, so that it does not depend on how many draws the crossover takes.
        let mutated = rng.uniform() < s.mutation_prob.unwrap_or(1.0 / d.max(1) as f64);
        let scale = scale(distribution);
        let mut x = match (crossed, scale) {
            (false, _) => a,
            // A swap copies a parent's value exactly (no round trip through [0, 1]).
            (true, None) => Crossover::Uniform.child(a, b, s.swapping_prob, &mut rng),
            (true, Some(_)) if s.crossover == Crossover::Uniform => {
                Crossover::Uniform.child(a, b, s.swapping_prob, &mut rng)
            }
            (true, Some(sc)) => {
                let u =
                    s.crossover.child(to_unit(sc, a), to_unit(sc, b), s.swapping_prob, &mut rng);
                from_unit(sc, u, distribution)
            }
        };
        if mutated {
            x = match (s.mutation, scale) {
                (Mutation::Polynomial { eta }, Some(sc)) => {
                    from_unit(sc, mutation::polynomial(to_unit(sc, x), eta, &mut rng), distribution)
                }
                _ => self.random.sample_independent(study, trial, name, distribution)?,
            };
        }
        Ok(distribution.snap_internal(x))
    }
}

impl Sampler for NsgaIISampler {
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        let Some(parents) = self.plan(study, trial) else {
            return self.random.sample_independent(study, trial, name, distribution);
        };
        let a = param_of(&parents.first, name, distribution);
        // A copy needs only the first parent's value; a cross needs both.
        let b = if parents.crossed { param_of(&parents.second, name, distribution) } else { a };
        let (Some(a), Some(b)) = (a, b) else {
            return self.random.sample_independent(study, trial, name, distribution);
        };
        let d = parents.first.params.iter().filter(|p| !p.distribution.is_single()).count();
        let values = (a.internal, b.internal);
        self.child(study, trial, name, distribution, values, parents.crossed, d)
    }

    fn before_trial(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<()> {
        self.plan(study, trial);
        Ok(())
    }

    fn after_trial(&self, _study: &StudyView<'_>, trial: &FrozenTrial) -> Result<()> {
        lock(&self.state).plans.remove(&trial.number);
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        self.random = RandomSampler::with_seed(seed);
        self.state = Mutex::new(State::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sampler_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<NsgaIISampler>();
        check::<NsgaIIBuilder>();
    }

    fn trial(number: u64, state: TrialState, value: f64) -> Arc<FrozenTrial> {
        let mut t = FrozenTrial::new(100 + number, number, state);
        if state == TrialState::Complete {
            t.values = Some(vec![value, -value]);
        }
        Arc::new(t)
    }

    #[test]
    fn generations_are_cut_from_the_settled_complete_trials_in_number_order() {
        let directions = [Direction::Minimize, Direction::Minimize];
        let mut trials: Vec<Arc<FrozenTrial>> = Vec::new();
        let mut state = State::default();
        // 0..=2 complete, 3 failed, 4 pruned, 5 complete, 6 running, 7 and 8 complete.
        for (n, s) in [
            TrialState::Complete,
            TrialState::Complete,
            TrialState::Complete,
            TrialState::Failed,
            TrialState::Pruned,
            TrialState::Complete,
            TrialState::Running,
            TrialState::Complete,
            TrialState::Complete,
        ]
        .into_iter()
        .enumerate()
        {
            trials.push(trial(n as u64, s, n as f64));
        }
        state.update(&StudyView::new(&directions, &trials), 3);
        // One generation (0, 1, 2); 5 waits for a second; 7 and 8 wait behind the running 6.
        assert_eq!((state.prefix, state.settled.generations), (6, 1));
        // Trials are bred meanwhile from a second generation, 5, 7, 8, skipping 6.
        assert_eq!(state.current().generations, 2);
        let numbers = |v: &[Arc<FrozenTrial>]| v.iter().map(|t| t.number).collect::<Vec<_>>();
        assert_eq!(numbers(&state.settled.complete), [5]);
        assert_eq!(state.settled.population.len(), 3);
        assert!(state.plan(1, 9, 0.9).is_some());
        // Trial 6 completes: the second generation is 5, 6, 7 and 8 waits for a third.
        trials[6] = trial(6, TrialState::Complete, 6.0);
        state.update(&StudyView::new(&directions, &trials), 3);
        assert_eq!((state.prefix, state.settled.generations), (9, 2));
        assert_eq!(numbers(&state.settled.complete), [8]);
        // A fresh state on the same history agrees, and so do its parents for any trial.
        let mut fresh = State::default();
        fresh.update(&StudyView::new(&directions, &trials), 3);
        let parents =
            |s: &State, n| s.plan(1, n, 0.9).map(|p| (p.first.number, p.second.number, p.crossed));
        for n in 9..40 {
            assert_eq!(parents(&state, n), parents(&fresh, n));
        }
    }

    /// `n` trials with values `(v, 1 - v)` for pseudo-random `v` (every one on the front), in
    /// `state` for the numbers in `odd` and complete for the others.
    fn history(n: u64, odd: &[u64], state: TrialState) -> Vec<Arc<FrozenTrial>> {
        let mut rng = Rng::new(3);
        (0..n)
            .map(|number| {
                let s = if odd.contains(&number) { state } else { TrialState::Complete };
                let mut t = FrozenTrial::new(100 + number, number, s);
                let v = rng.uniform();
                if s == TrialState::Complete {
                    t.values = Some(vec![v, 1.0 - v]);
                }
                Arc::new(t)
            })
            .collect()
    }

    /// Generations and parent population (trial numbers) of the state trials are bred from.
    fn bred_from(state: &State) -> (usize, Vec<u64>) {
        let f = state.current();
        (f.generations, f.population.iter().map(|m| m.trial.number).collect())
    }

    #[test]
    fn a_running_trial_holds_back_the_record_but_not_the_breeding() {
        let directions = [Direction::Minimize, Direction::Minimize];
        for odd in [0, 7, 13] {
            // Trial `odd` runs while the 22 others are complete: 5 generations of 4, 2 left.
            let running = history(23, &[odd], TrialState::Running);
            let mut state = State::default();
            state.update(&StudyView::new(&directions, &running), 4);
            assert_eq!(state.prefix, odd as usize);
            assert_eq!(state.settled.generations, odd as usize / 4);
            assert_eq!(bred_from(&state).0, 5);
            assert!(bred_from(&state).1.iter().all(|&n| n != odd));

            // It completes: the generations are folded again with it in its place, exactly as
            // a fresh state on the finished history folds them, and the record agrees.
            let done = history(23, &[odd], TrialState::Complete);
            state.update(&StudyView::new(&directions, &done), 4);
            let mut fresh = State::default();
            fresh.update(&StudyView::new(&directions, &done), 4);
            assert!(state.ahead.is_none());
            assert_eq!(bred_from(&state), bred_from(&fresh));
            assert_eq!(bred_from(&state).0, 5);
            for n in 23..40 {
                let parents =
                    |s: &State| s.plan(1, n, 0.9).map(|p| (p.first.number, p.second.number));
                assert_eq!(parents(&state), parents(&fresh));
            }

            // It fails instead: it takes no place, and the generations stay as they were.
            let mut state = State::default();
            state.update(&StudyView::new(&directions, &running), 4);
            let before = bred_from(&state);
            let failed = history(23, &[odd], TrialState::Failed);
            state.update(&StudyView::new(&directions, &failed), 4);
            assert_eq!(bred_from(&state), before);
        }
    }

    #[test]
    fn holes_completing_out_of_order_fold_as_a_fresh_state_does() {
        let directions = [Direction::Minimize, Direction::Minimize];
        let all = history(41, &[], TrialState::Complete);
        let mut fresh = State::default();
        fresh.update(&StudyView::new(&directions, &all), 4);
        // Trials 2, 9, 17 and 30 run; they complete one at a time, the last one first, while
        // the study grows by a few trials each time.
        let mut state = State::default();
        let mut holes = vec![2, 9, 17, 30];
        let mut len = 33;
        loop {
            let mut trials = history(len, &holes, TrialState::Running);
            // The trials after the last hole that have just started.
            trials.push(Arc::new(FrozenTrial::new(100 + len, len, TrialState::Running)));
            state.update(&StudyView::new(&directions, &trials), 4);
            let mut partial = State::default();
            let skipped = history(len, &holes, TrialState::Failed);
            partial.update(&StudyView::new(&directions, &skipped), 4);
            // What trials are bred from counts every complete trial, skipping the holes.
            assert_eq!(bred_from(&state), bred_from(&partial), "holes {holes:?}");
            if holes.pop().is_none() {
                break;
            }
            len += 2;
        }
        state.update(&StudyView::new(&directions, &all), 4);
        assert_eq!(bred_from(&state), bred_from(&fresh));
        assert!(state.ahead.is_none());
    }

    #[test]
    fn numeric_maps_round_trip_on_the_grid() {
        let cases = [
            Distribution::float(-5.0, 5.0),
            Distribution::float_log(1e-4, 10.0),
            Distribution::float_step(0.0, 0.3, 0.1),
            Distribution::int(-3, 3),
            Distribution::int_log(1, 16),
            Distribution::int_step(0, 20, 5),
        ];
        for d in &cases {
            let sc = scale(d).unwrap();
            for x in d.grid_points(7) {
                let back = from_unit(sc, to_unit(sc, x), d);
                assert!((back - x).abs() <= 1e-9 * x.abs().max(1.0), "{d}: {x} -> {back}");
            }
            for u in [0.0, 1e-9, 0.5, 1.0 - 1e-9, 1.0] {
                assert!(d.contains_internal(from_unit(sc, u, d)), "{d}: {u}");
            }
        }
        // Half a step of margin: the end grid points get as much of [0, 1] as the others.
        let ints = Distribution::int(0, 3);
        let sc = scale(&ints).unwrap();
        assert_eq!(from_unit(sc, 0.24, &ints), 0.0);
        assert_eq!(from_unit(sc, 0.26, &ints), 1.0);
        assert_eq!(from_unit(sc, 0.76, &ints), 3.0);
    }
}

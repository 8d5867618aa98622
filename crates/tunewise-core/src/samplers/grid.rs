//! Grid search: every combination of the given values, each proposed once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::frozen::{FrozenTrial, TrialState};
use crate::param::ParamValue;
use crate::rng::{mix64, Rng};
use crate::sampler::{Sampler, StudyView};
use crate::search_space::SearchSpace;
use crate::sync::lock;

/// Relative tolerance under which two numeric grid values are the same value (a stepped float
/// stored as `low + k * step` may differ from the value the user wrote in its last bits).
const SAME_VALUE_TOLERANCE: f64 = 1e-9;

/// Grid search: every combination of a set of values per parameter, each proposed once.
///
/// **What it is.** Each parameter gets a list of values, either given explicitly
/// ([`values`](Self::values)) or made from a distribution ([`auto`](Self::auto),
/// [`from_space`](Self::from_space)): every value of an int or a categorical, every value of a
/// stepped float with few enough of them, and otherwise evenly spaced points of a float
/// (log-spaced on a log scale; see [`Distribution::grid_points`]). The grid is the cartesian
/// product of the lists. Each trial reserves one point when it starts (in
/// [`before_trial`](Sampler::before_trial)), and the objective's suggestions return that
/// point's values, converted into the distribution the objective asks for (an error names the
/// parameter when a grid value lies outside it). When every point is taken, the study stops with
/// [`StopReason::SearchSpaceExhausted`](crate::StopReason::SearchSpaceExhausted).
///
/// **When to use it.** Few parameters with few meaningful values, when every combination must be
/// seen (a final comparison, a table for a paper, a sanity sweep). Its size is the product of the
/// list lengths, so it explodes with the number of parameters: beyond three or four, prefer
/// [`RandomSampler`](crate::RandomSampler) or [`CoarseToFineSampler`](crate::CoarseToFineSampler).
///
/// **Order.** Points are visited in a seeded pseudo-random order (like Optuna's grid sampler), so
/// that a study stopped early has seen a spread-out sample of the grid, not one corner of it.
/// [`natural_order`](Self::natural_order) visits them in lexicographic order instead (parameters
/// sorted by name, the last one varying fastest). The order is a bijection computed on the fly
/// (a keyed Feistel network), and points are indexed in mixed radix: the cartesian product is
/// never materialized, so a grid of 10^15 points costs no more memory than a grid of ten.
///
/// **No repeats.** Within one process every point is handed out once, also with
/// [`Study::optimize_parallel`](crate::Study::optimize_parallel): the study starts trials one at a
/// time under a lock, and the sampler keeps its reservations in a mutex. Points whose parameter
/// combination already appears in the study (complete, pruned, running or waiting trials) are
/// skipped, so a study resumed with a new `GridSampler` goes on where it stopped; the trials are
/// scanned incrementally (only new ones, and the few still running or waiting). A point whose
/// trial failed is not handed out again by the same sampler, but a resumed study retries it. A
/// trial that never asks for some grid parameter (a conditional space) is recognized on resume
/// only if it holds every grid parameter.
///
/// **Enqueued trials** ([`Study::enqueue_trial`](crate::Study::enqueue_trial)) run as given:
/// their fixed values win, and grid parameters they leave free take the values of the first free
/// point consistent with the fixed ones. A fully fixed point on the grid counts as visited.
///
/// **Several processes.** Two processes sharing one study in a storage each know the trials the
/// other has stored, but not the point the other reserved a moment ago: two workers starting at
/// the same instant may evaluate the same point. Such duplicates are rare and harmless (the
/// result is recorded twice), and the grid still ends when every point is taken.
///
/// **Cost.** Per trial, O(number of parameters) to decode a point plus O(log n) to record it;
/// memory grows with the number of trials, not with the size of the grid.
///
/// ```
/// use tunewise_core::{Budget, Distribution, GridSampler, StopReason, Study, TrialError};
///
/// let grid = GridSampler::new()
///     .values("optimizer", ["sgd", "adam"])?
///     .auto("lr", Distribution::float_log(1e-4, 1e-1))?
///     .seed(7);
/// assert_eq!(grid.len(), 2 * GridSampler::DEFAULT_POINTS_PER_FLOAT as u64);
/// let study = Study::builder().sampler(grid).create()?;
/// let report = study.optimize(
///     |t| -> Result<f64, TrialError> {
///         let opt = t.suggest_categorical("optimizer", &["sgd", "adam"])?;
///         let lr = t.suggest_float_log("lr", 1e-4, 1e-1)?;
///         Ok(if opt == "adam" { lr.ln().abs() } else { 10.0 })
///     },
///     Budget::trials(1000),
/// )?;
/// assert_eq!(report.trials, 20);
/// assert_eq!(report.stop_reason, StopReason::SearchSpaceExhausted);
/// # Ok::<(), tunewise_core::Error>(())
/// ```
pub struct GridSampler {
    /// Values per parameter, sorted by name: the digits of a point's mixed-radix index.
    axes: BTreeMap<Arc<str>, Vec<ParamValue>>,
    /// Number of points (the product of the axis lengths; 0 while there is no axis).
    size: u64,
    seed: u64,
    shuffle: bool,
    state: Mutex<GridState>,
}

/// What the sampler has handed out and what it has seen of the study.
#[derive(Debug, Default)]
struct GridState {
    /// Points reserved by a trial of this sampler or seen in the study.
    taken: BTreeSet<u64>,
    /// Position in the visiting order: points before it are taken.
    cursor: u64,
    /// The point of each trial in progress, by (trial id, attempt).
    reserved: BTreeMap<(u64, u32), u64>,
    /// Trials `0..scanned` have been looked at.
    scanned: usize,
    /// Numbers of looked-at trials that were not finished yet: looked at again each time.
    unsettled: BTreeSet<usize>,
}

impl fmt::Debug for GridSampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let axes: BTreeMap<&str, usize> = self.axes.iter().map(|(k, v)| (&**k, v.len())).collect();
        f.debug_struct("GridSampler")
            .field("axes", &axes)
            .field("size", &self.size)
            .field("seed", &self.seed)
            .field("shuffle", &self.shuffle)
            .finish_non_exhaustive()
    }
}

impl Default for GridSampler {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether two grid values are the same value: integers exactly, other numbers within a relative
/// tolerance (ints and floats compare by value), bools and strings exactly.
fn same_value(a: &ParamValue, b: &ParamValue) -> bool {
    if let (ParamValue::Int(x), ParamValue::Int(y)) = (a, b) {
        return x == y;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => {
            x == y || (x - y).abs() <= SAME_VALUE_TOLERANCE * x.abs().max(y.abs())
        }
        (None, None) => a.same_choice(b),
        _ => false,
    }
}

impl GridSampler {
    /// Points per float range used by [`auto`](Self::auto).
    pub const DEFAULT_POINTS_PER_FLOAT: usize = 10;

    /// An empty grid, with a seed from the operating system (the study's seed replaces it when
    /// the study builder is given one). Add parameters with [`values`](Self::values) or
    /// [`auto`](Self::auto).
    pub fn new() -> Self {
        GridSampler {
            axes: BTreeMap::new(),
            size: 0,
            seed: Rng::os_seed(),
            shuffle: true,
            state: Mutex::new(GridState::default()),
        }
    }

    /// A grid with one parameter per entry of `space`: every value of ints and categoricals,
    /// `points_per_float` points per float range (log-spaced on a log scale).
    pub fn from_space(space: &SearchSpace, points_per_float: usize) -> Result<Self> {
        if space.is_empty() {
            return Err(Error::InvalidConfig(
                "GridSampler::from_space: the search space is empty; add parameters to it".into(),
            ));
        }
        let mut grid = GridSampler::new();
        for (name, distribution) in space.iter() {
            grid = grid.auto_points(name, (**distribution).clone(), points_per_float)?;
        }
        Ok(grid)
    }

    /// Adds a parameter with explicit values (floats, integers, bools or strings).
    ///
    /// Refused, naming the parameter: an empty list, a value given twice, NaN or an infinite
    /// float, a parameter already in the grid, and a grid of more than 2^64 points.
    pub fn values<I, T>(self, name: &str, values: I) -> Result<Self>
    where
        I: IntoIterator<Item = T>,
        T: Into<ParamValue>,
    {
        self.add_axis(name, values.into_iter().map(Into::into).collect())
    }

    /// Adds a parameter discretized from a distribution: every value of an int or a categorical,
    /// [`DEFAULT_POINTS_PER_FLOAT`](Self::DEFAULT_POINTS_PER_FLOAT) points of a float range.
    pub fn auto(self, name: &str, distribution: Distribution) -> Result<Self> {
        self.auto_points(name, distribution, Self::DEFAULT_POINTS_PER_FLOAT)
    }

    /// Like [`auto`](Self::auto), with `points_per_float` points for a float range (evenly
    /// spaced, log-spaced on a log scale; a stepped float keeps all its values if it has at most
    /// that many).
    pub fn auto_points(
        self,
        name: &str,
        distribution: Distribution,
        points_per_float: usize,
    ) -> Result<Self> {
        distribution.validate(name)?;
        if points_per_float == 0 {
            return Err(Error::invalid(
                name,
                "points_per_float must be at least 1 to discretize a float range",
            ));
        }
        let values = distribution
            .grid_points(points_per_float)
            .into_iter()
            .map(|x| distribution.to_external(x))
            .collect();
        self.add_axis(name, values)
    }

    /// Sets the seed of the visiting order.
    pub fn seed(mut self, seed: u64) -> Self {
        self.reseed_inner(seed);
        self
    }

    /// Visits points in lexicographic order (parameters sorted by name, the last varying
    /// fastest) instead of a seeded shuffle.
    pub fn natural_order(mut self) -> Self {
        self.shuffle = false;
        lock(&self.state).cursor = 0;
        self
    }

    /// The number of points of the grid (0 while it has no parameter).
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether the grid has no parameter yet.
    pub fn is_empty(&self) -> bool {
        self.axes.is_empty()
    }

    /// The grid's parameters and their values, sorted by name.
    pub fn params(&self) -> impl Iterator<Item = (&str, &[ParamValue])> {
        self.axes.iter().map(|(k, v)| (&**k, v.as_slice()))
    }

    /// The values of the point with mixed-radix `index`, sorted by parameter name (`None` when
    /// `index` is not below [`len`](Self::len)).
    pub fn point(&self, index: u64) -> Option<BTreeMap<String, ParamValue>> {
        if index >= self.size {
            return None;
        }
        let digits = self.digits(index);
        Some(
            self.axes
                .iter()
                .zip(digits)
                .map(|((name, values), d)| (name.to_string(), values[d].clone()))
                .collect(),
        )
    }

    fn add_axis(mut self, name: &str, values: Vec<ParamValue>) -> Result<Self> {
        if name.is_empty() {
            return Err(Error::InvalidConfig("GridSampler: a parameter has an empty name".into()));
        }
        if self.axes.contains_key(name) {
            return Err(Error::InvalidConfig(format!(
                "GridSampler: parameter '{name}' is declared twice; give all its values in one call"
            )));
        }
        if values.is_empty() {
            return Err(Error::invalid(name, "the grid has no value for it; give at least one"));
        }
        for (i, v) in values.iter().enumerate() {
            if let ParamValue::Float(x) = v {
                if !x.is_finite() {
                    return Err(Error::invalid(
                        name,
                        format!("{x} is not a valid grid value; grid values must be finite"),
                    ));
                }
            }
            if let Some(first) = values[..i].iter().find(|p| same_value(p, v)) {
                return Err(Error::invalid(
                    name,
                    format!("the grid value {v} appears more than once (as {first} and {v}); remove the duplicate"),
                ));
            }
        }
        let size = if self.axes.is_empty() { 1 } else { self.size };
        self.size = size.checked_mul(values.len() as u64).ok_or_else(|| {
            Error::InvalidConfig(format!(
                "GridSampler: adding '{name}' makes the grid larger than 2^64 points; \
                 use fewer values, or random or coarse-to-fine search"
            ))
        })?;
        self.axes.insert(Arc::from(name), values);
        *lock(&self.state) = GridState::default();
        Ok(self)
    }

    fn reseed_inner(&mut self, seed: u64) {
        self.seed = seed;
        // A new order: points already taken stay taken, the walk through the order restarts.
        lock(&self.state).cursor = 0;
    }

    /// The value index of each axis (in name order) of the point with mixed-radix `index`.
    fn digits(&self, mut index: u64) -> Vec<usize> {
        let mut digits = vec![0; self.axes.len()];
        for (d, values) in digits.iter_mut().zip(self.axes.values()).rev() {
            let len = values.len() as u64;
            *d = (index % len) as usize;
            index /= len;
        }
        digits
    }

    /// The mixed-radix index of a point given by its value indices (in name order).
    fn index_of_digits(&self, digits: &[usize]) -> u64 {
        self.axes
            .values()
            .zip(digits)
            .fold(0u64, |acc, (values, d)| acc * values.len() as u64 + *d as u64)
    }

    /// The value index, on each axis, of the value `trial` holds or is fixed to (`None` where it
    /// has none, or one that is not on the grid).
    fn trial_digits(&self, trial: &FrozenTrial) -> Vec<Option<usize>> {
        self.axes
            .iter()
            .map(|(name, values)| {
                let value = match trial.param(name) {
                    Some(p) => p.value(),
                    None => trial.fixed_params.iter().find(|(n, _)| n == name)?.1.clone(),
                };
                values.iter().position(|v| same_value(v, &value))
            })
            .collect()
    }

    /// The point a trial holds, when it holds a value on the grid for every axis.
    fn trial_point(&self, trial: &FrozenTrial) -> Option<u64> {
        let digits: Option<Vec<usize>> = self.trial_digits(trial).into_iter().collect();
        digits.map(|d| self.index_of_digits(&d))
    }

    /// Marks the points of trials not seen before, and of those seen while still running or
    /// waiting (their parameters may have changed since).
    fn scan(&self, st: &mut GridState, trials: &[Arc<FrozenTrial>]) {
        let pending: Vec<usize> = st.unsettled.iter().copied().collect();
        for n in pending {
            if let Some(t) = trials.get(n) {
                if self.mark(st, t) {
                    st.unsettled.remove(&n);
                }
            }
        }
        for (n, t) in trials.iter().enumerate().skip(st.scanned) {
            if !self.mark(st, t) {
                st.unsettled.insert(n);
            }
        }
        st.scanned = st.scanned.max(trials.len());
    }

    /// Marks a trial's point as taken; returns whether the trial is settled (finished).
    fn mark(&self, st: &mut GridState, trial: &FrozenTrial) -> bool {
        if trial.state != TrialState::Failed {
            if let Some(i) = self.trial_point(trial) {
                st.taken.insert(i);
            }
        }
        trial.state.is_finished()
    }

    /// Reserves the next free point of the visiting order.
    fn next_point(&self, st: &mut GridState) -> Result<u64> {
        let order = Permutation::new(self.size, self.seed);
        while st.cursor < self.size {
            let i = if self.shuffle { order.apply(st.cursor) } else { st.cursor };
            st.cursor += 1;
            if st.taken.insert(i) {
                return Ok(i);
            }
        }
        Err(Error::SearchSpaceExhausted(format!(
            "every one of the {} grid points has been handed out",
            self.size
        )))
    }

    /// The point of an enqueued (or reclaimed) trial: the first free point consistent with its
    /// fixed values, taken if they are all on the grid; a point already taken (a repeat the user
    /// asked for) when no free one is consistent.
    fn fixed_point(&self, st: &mut GridState, trial: &FrozenTrial) -> u64 {
        let mut off_grid = false;
        let fixed: Vec<Option<usize>> = self
            .axes
            .iter()
            .zip(self.trial_digits(trial))
            .map(|((name, _), digit)| {
                let is_fixed = trial.fixed_params.iter().any(|(n, _)| n == name);
                off_grid |= is_fixed && digit.is_none();
                digit.filter(|_| is_fixed)
            })
            .collect();
        let free: Vec<usize> =
            fixed.iter().enumerate().filter(|(_, d)| d.is_none()).map(|(i, _)| i).collect();
        let lens: Vec<u64> = self.axes.values().map(|v| v.len() as u64).collect();
        let free_total = free.iter().try_fold(1u64, |acc, &i| acc.checked_mul(lens[i]));
        let candidate = |m: u64| -> u64 {
            let mut digits: Vec<usize> = fixed.iter().map(|d| d.unwrap_or(0)).collect();
            let mut m = m;
            for &i in free.iter().rev() {
                digits[i] = (m % lens[i]) as usize;
                m /= lens[i];
            }
            self.index_of_digits(&digits)
        };
        // Each consistent point that is taken is a distinct member of `taken`, so at most
        // `taken.len() + 1` candidates are looked at.
        let limit = (st.taken.len() as u64 + 1).min(free_total.unwrap_or(u64::MAX));
        let point = (0..limit).map(candidate).find(|i| !st.taken.contains(i));
        match point {
            Some(i) => {
                if !off_grid {
                    st.taken.insert(i);
                }
                i
            }
            None => candidate(0),
        }
    }

    fn names(&self) -> String {
        let names: Vec<&str> = self.axes.keys().map(|k| &**k).collect();
        names.join(", ")
    }
}

impl Sampler for GridSampler {
    fn sample_independent(
        &self,
        _study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        let Some(position) = self.axes.keys().position(|k| &**k == name) else {
            return Err(Error::Sampler(format!(
                "parameter '{name}' is not in the grid (grid parameters: {}); add it with \
                 GridSampler::values(\"{name}\", [..]) or GridSampler::auto(\"{name}\", distribution)",
                self.names()
            )));
        };
        let index = lock(&self.state).reserved.get(&(trial.id, trial.attempt)).copied();
        let Some(index) = index else {
            return Err(Error::Sampler(format!(
                "no grid point is reserved for trial {}; GridSampler proposes values only for \
                 trials started by a Study",
                trial.number
            )));
        };
        let digit = self.digits(index)[position];
        let value = self.axes.values().nth(position).and_then(|v| v.get(digit));
        match value {
            Some(value) => distribution.internal_of(name, value),
            None => Err(Error::Sampler(format!("grid point {index} is out of range"))),
        }
    }

    fn before_trial(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<()> {
        if self.axes.is_empty() {
            return Err(Error::InvalidConfig(
                "GridSampler has no parameter; add them with .values(name, values), \
                 .auto(name, distribution) or GridSampler::from_space"
                    .into(),
            ));
        }
        let mut st = lock(&self.state);
        self.scan(&mut st, study.trials());
        let index = if trial.fixed_params.is_empty() {
            self.next_point(&mut st)?
        } else {
            self.fixed_point(&mut st, trial)
        };
        st.reserved.insert((trial.id, trial.attempt), index);
        Ok(())
    }

    fn after_trial(&self, _study: &StudyView<'_>, trial: &FrozenTrial) -> Result<()> {
        lock(&self.state).reserved.remove(&(trial.id, trial.attempt));
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.reseed_inner(seed);
    }

    fn is_exhausted(&self, study: &StudyView<'_>) -> bool {
        if self.axes.is_empty() {
            // Not exhausted: `before_trial` explains the configuration error.
            return false;
        }
        let mut st = lock(&self.state);
        self.scan(&mut st, study.trials());
        // Enqueued trials still run when every point is taken.
        let waiting = st
            .unsettled
            .iter()
            .any(|&n| study.trials().get(n).is_some_and(|t| t.state == TrialState::Waiting));
        st.taken.len() as u64 >= self.size && !waiting
    }
}

/// A seeded permutation of `0..n`, computed one index at a time: a 4-round Feistel network over
/// the smallest even number of bits that holds `n`, with cycle walking back into `0..n` (fewer
/// than four steps on average). Nothing is materialized.
#[derive(Debug, Clone)]
pub(super) struct Permutation {
    n: u64,
    half_bits: u32,
    keys: [u64; 4],
}

impl Permutation {
    /// A permutation of `0..n` keyed by `seed`.
    pub(super) fn new(n: u64, seed: u64) -> Self {
        let bits = 64 - n.saturating_sub(1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        let mut rng = Rng::derive(seed, &[0x6772_6964]);
        let keys = [rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()];
        Permutation { n, half_bits, keys }
    }

    fn encrypt(&self, x: u64) -> u64 {
        let mask = if self.half_bits >= 64 { u64::MAX } else { (1u64 << self.half_bits) - 1 };
        let (mut l, mut r) = (x >> self.half_bits, x & mask);
        for k in self.keys {
            (l, r) = (r, l ^ (mix64(r ^ k) & mask));
        }
        (l << self.half_bits) | r
    }

    /// The image of `i` (which must be below `n`; returned as is otherwise).
    pub(super) fn apply(&self, i: u64) -> u64 {
        if i >= self.n {
            return i;
        }
        let mut x = self.encrypt(i);
        while x >= self.n {
            x = self.encrypt(x);
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_bijection() {
        for n in [1u64, 2, 3, 5, 16, 17, 100, 1000, 4097] {
            for seed in [0u64, 1, 42] {
                let p = Permutation::new(n, seed);
                let mut seen: Vec<u64> = (0..n).map(|i| p.apply(i)).collect();
                seen.sort_unstable();
                assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n={n} seed={seed}");
            }
        }
    }

    #[test]
    fn permutation_handles_huge_domains() {
        let p = Permutation::new(u64::MAX, 3);
        let a = p.apply(0);
        let b = p.apply(1);
        assert!(a < u64::MAX && b < u64::MAX && a != b);
    }

    #[test]
    fn same_value_compares_numbers_by_value() {
        assert!(same_value(&ParamValue::Int(1), &ParamValue::Float(1.0)));
        assert!(same_value(&ParamValue::Float(0.3), &ParamValue::Float(0.1 * 3.0)));
        assert!(!same_value(&ParamValue::Float(1e-12), &ParamValue::Float(2e-12)));
        assert!(!same_value(&ParamValue::Bool(true), &ParamValue::Int(1)));
        assert!(same_value(&ParamValue::from("a"), &ParamValue::from("a")));
        assert!(!same_value(&ParamValue::Int(1 << 60), &ParamValue::Int((1 << 60) + 1)));
    }
}

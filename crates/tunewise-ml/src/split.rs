//! Splitters: which rows train a model and which rows test it.
//!
//! Every splitter is deterministic: the same settings, seed and data give the same splits on
//! every run and platform (randomness comes only from [`tunewise_core::rng::Rng`], and class or
//! group bookkeeping uses sorted `Vec`s, never hash maps). Indices in a [`Split`] are sorted
//! increasingly; shuffle them yourself if your model is sensitive to row order.

use tunewise_core::rng::Rng;

use crate::data::{class_counts, Dataset};
use crate::error::{Error, Result};

/// One split of a dataset's rows: the indices to train on and the indices to test on.
///
/// The two lists are disjoint and each is sorted increasingly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Row indices to fit the model on.
    pub train: Vec<usize>,
    /// Row indices to score the fitted model on.
    pub test: Vec<usize>,
}

impl Split {
    fn new(mut train: Vec<usize>, mut test: Vec<usize>) -> Split {
        train.sort_unstable();
        test.sort_unstable();
        Split { train, test }
    }

    /// The split whose test set is `test` and whose train set is every other row of `0..n`.
    fn from_test(n: usize, test: Vec<usize>) -> Split {
        let mut in_test = vec![false; n];
        for &i in &test {
            in_test[i] = true;
        }
        let train = (0..n).filter(|&i| !in_test[i]).collect();
        Split::new(train, test)
    }
}

/// A way of cutting a dataset into train/test splits (one for a hold-out, `k` for k-fold
/// cross-validation…).
pub trait Splitter {
    /// The splits of `data`, or an error naming the setting that does not fit the data.
    fn splits(&self, data: &Dataset) -> Result<Vec<Split>>;
}

fn check_folds(name: &str, k: usize, n: usize) -> Result<()> {
    if k < 2 {
        return Err(Error::InvalidConfig(format!(
            "{name}: k = {k} folds; cross-validation needs at least 2 folds (5 is usual)"
        )));
    }
    if k > n {
        return Err(Error::InvalidConfig(format!(
            "{name}: k = {k} folds but the data has only {n} records; use at most {n} folds"
        )));
    }
    Ok(())
}

fn check_fraction(name: &str, f: f64) -> Result<()> {
    if !(f > 0.0 && f < 1.0) {
        return Err(Error::InvalidConfig(format!(
            "{name}: test_fraction = {f} must be strictly between 0 and 1 (0.2 or 0.25 is usual)"
        )));
    }
    Ok(())
}

fn check_repeats(name: &str, n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::InvalidConfig(format!("{name}: n_repeats must be at least 1")));
    }
    Ok(())
}

/// Number of test rows for a fraction of `n`: rounded up (as scikit-learn does), and refused
/// when the train or the test side would be empty.
fn test_size(name: &str, n: usize, f: f64) -> Result<usize> {
    check_fraction(name, f)?;
    let n_test = (f * n as f64).ceil() as usize;
    if n_test == 0 || n_test >= n {
        return Err(Error::InvalidConfig(format!(
            "{name}: test_fraction = {f} of {n} records leaves {n_test} test and {} train \
             records; both sides need at least one (use more data or another fraction)",
            n - n_test.min(n)
        )));
    }
    Ok(n_test)
}

/// Row indices grouped by class, classes sorted by value (deterministic).
fn rows_by_class(target: &[f64]) -> Vec<(f64, Vec<usize>)> {
    let counts = class_counts(target);
    let mut out: Vec<(f64, Vec<usize>)> =
        counts.iter().map(|&(c, n)| (c, Vec::with_capacity(n))).collect();
    for (i, &y) in target.iter().enumerate() {
        // `counts` is sorted by value with `total_cmp`, so a binary search finds the class
        // (a Dataset's targets hold no -0.0, which `total_cmp` would tell apart from 0.0).
        if let Ok(k) = out.binary_search_by(|(c, _)| c.total_cmp(&y)) {
            out[k].1.push(i);
        }
    }
    out
}

fn check_class_sizes(name: &str, by_class: &[(f64, Vec<usize>)], needed: usize) -> Result<()> {
    for (c, rows) in by_class {
        let have = rows.len();
        if have < needed {
            // A hold-out asks for 2 (one row per side); folds ask for one row per fold.
            let parts = if name == "train_test_split" {
                "a stratified hold-out needs 2 (one per side);".to_string()
            } else {
                let fewer =
                    if have >= 2 { format!(" use at most {have} folds,") } else { String::new() };
                format!("{needed} folds need at least one each;{fewer}")
            };
            let hint = if have == 1 && by_class.len() * 2 > by_class.iter().map(|c| c.1.len()).sum()
            {
                " (fewer than 2 rows per class on average: is the target continuous? then use KFold)"
            } else {
                ""
            };
            return Err(Error::InvalidConfig(format!(
                "{name}: class {c} has only {have} member(s) but {parts} merge rare classes, or \
                 use a non-stratified splitter{hint}"
            )));
        }
    }
    Ok(())
}

/// One hold-out split: `test_fraction` of the rows (rounded up) for testing, the rest for
/// training, chosen at random from `seed`.
///
/// With `stratify`, each class keeps its proportion on both sides (per-class test counts by
/// largest remainder, so the total is exact); every class then needs at least 2 rows.
/// Refused when `test_fraction` is outside (0, 1) or leaves one side empty.
pub fn train_test_split(
    data: &Dataset,
    test_fraction: f64,
    seed: u64,
    stratify: bool,
) -> Result<Split> {
    const NAME: &str = "train_test_split";
    let n = data.n_rows();
    let n_test = test_size(NAME, n, test_fraction)?;
    let mut rng = Rng::new(seed);
    if !stratify {
        return Ok(shuffled_holdout(n, n_test, &mut rng));
    }
    let mut by_class = rows_by_class(data.target());
    if by_class.len() > 1 {
        check_class_sizes(NAME, &by_class, 2)?;
    }
    // Largest remainder: floors first, then the leftover test rows to the classes with the
    // largest fractional quotas (ties to the smaller class label, for determinism).
    let quotas: Vec<f64> =
        by_class.iter().map(|(_, r)| n_test as f64 * r.len() as f64 / n as f64).collect();
    let mut take: Vec<usize> = quotas.iter().map(|q| q.floor() as usize).collect();
    let mut order: Vec<usize> = (0..by_class.len()).collect();
    order.sort_by(|&a, &b| {
        (quotas[b] - quotas[b].floor()).total_cmp(&(quotas[a] - quotas[a].floor()))
    });
    let mut left = n_test - take.iter().sum::<usize>();
    for &c in order.iter().cycle() {
        if left == 0 {
            break;
        }
        if take[c] < by_class[c].1.len() {
            take[c] += 1;
            left -= 1;
        }
    }
    let mut test = Vec::with_capacity(n_test);
    for ((_, rows), &t) in by_class.iter_mut().zip(&take) {
        rng.shuffle(rows);
        test.extend_from_slice(&rows[..t]);
    }
    Ok(Split::from_test(n, test))
}

/// An unstratified hold-out split of `n` records (when there is no [`Dataset`] yet).
pub fn train_test_split_n(n: usize, test_fraction: f64, seed: u64) -> Result<Split> {
    let n_test = test_size("train_test_split_n", n, test_fraction)?;
    Ok(shuffled_holdout(n, n_test, &mut Rng::new(seed)))
}

fn shuffled_holdout(n: usize, n_test: usize, rng: &mut Rng) -> Split {
    let mut idx: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut idx);
    let test = idx.split_off(n - n_test);
    Split::new(idx, test)
}

/// Cuts `order` into `k` consecutive folds whose sizes differ by at most one (the first
/// `len % k` folds get one more) and makes one split per fold.
fn consecutive_folds(n: usize, order: &[usize], k: usize) -> Vec<Split> {
    let (base, extra) = (order.len() / k, order.len() % k);
    let mut start = 0;
    (0..k)
        .map(|f| {
            let size = base + usize::from(f < extra);
            let test = order[start..start + size].to_vec();
            start += size;
            Split::from_test(n, test)
        })
        .collect()
}

/// K-fold cross-validation: the rows are cut into `k` folds of sizes differing by at most one,
/// and each fold is the test set once. Without `shuffle` the folds are consecutive rows.
///
/// Use it for regression or balanced data; prefer [`StratifiedKFold`] for classification and
/// [`GroupKFold`] when rows of one group (patient, user) must not be on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KFold {
    /// Number of folds, at least 2 and at most the number of rows.
    pub k: usize,
    /// Shuffle the rows (with `seed`) before cutting folds.
    pub shuffle: bool,
    /// Seed of the shuffle (unused without `shuffle`).
    pub seed: u64,
}

impl KFold {
    /// `k` folds of consecutive rows.
    pub fn new(k: usize) -> Self {
        KFold { k, shuffle: false, seed: 0 }
    }

    /// `k` folds of rows shuffled with `seed`.
    pub fn shuffled(k: usize, seed: u64) -> Self {
        KFold { k, shuffle: true, seed }
    }
}

impl Splitter for KFold {
    fn splits(&self, data: &Dataset) -> Result<Vec<Split>> {
        let n = data.n_rows();
        check_folds("KFold", self.k, n)?;
        let mut order: Vec<usize> = (0..n).collect();
        if self.shuffle {
            Rng::new(self.seed).shuffle(&mut order);
        }
        Ok(consecutive_folds(n, &order, self.k))
    }
}

/// Stratified k-fold: like [`KFold`], but each fold holds every class in the proportion of the
/// whole data (each class's count in a fold is within one of `class size / k`, and fold sizes
/// differ by at most one). Classes are the distinct target values.
///
/// Refused when some class has fewer rows than folds (the message names the class and its
/// count). Use it for classification, especially with imbalanced classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StratifiedKFold {
    /// Number of folds, at least 2 and at most the size of the smallest class.
    pub k: usize,
    /// Shuffle each class's rows (with `seed`) before dealing them into folds.
    pub shuffle: bool,
    /// Seed of the shuffle (unused without `shuffle`).
    pub seed: u64,
}

impl StratifiedKFold {
    /// `k` stratified folds, rows dealt in their order.
    pub fn new(k: usize) -> Self {
        StratifiedKFold { k, shuffle: false, seed: 0 }
    }

    /// `k` stratified folds, each class's rows shuffled with `seed`.
    pub fn shuffled(k: usize, seed: u64) -> Self {
        StratifiedKFold { k, shuffle: true, seed }
    }
}

fn stratified_folds(
    name: &str,
    data: &Dataset,
    k: usize,
    rng: Option<&mut Rng>,
) -> Result<Vec<Split>> {
    let n = data.n_rows();
    check_folds(name, k, n)?;
    let mut by_class = rows_by_class(data.target());
    check_class_sizes(name, &by_class, k)?;
    if let Some(rng) = rng {
        for (_, rows) in &mut by_class {
            rng.shuffle(rows);
        }
    }
    // Deal the rows class after class, round-robin over the folds with one running counter:
    // each class's rows are consecutive in the deal, so its count per fold is within one of
    // size / k, and the running counter keeps the fold sizes within one of each other.
    let mut tests: Vec<Vec<usize>> = vec![Vec::with_capacity(n / k + 1); k];
    for (pos, &i) in by_class.iter().flat_map(|(_, r)| r).enumerate() {
        tests[pos % k].push(i);
    }
    Ok(tests.into_iter().map(|t| Split::from_test(n, t)).collect())
}

impl Splitter for StratifiedKFold {
    fn splits(&self, data: &Dataset) -> Result<Vec<Split>> {
        let mut rng = Rng::new(self.seed);
        stratified_folds("StratifiedKFold", data, self.k, self.shuffle.then_some(&mut rng))
    }
}

/// [`KFold`] repeated `n_repeats` times with a different shuffle each time (`k × n_repeats`
/// splits, repeat by repeat). Averages over repeats lower the variance of a cross-validated
/// score, at `n_repeats` times the cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatedKFold {
    /// Number of folds per repeat, at least 2.
    pub k: usize,
    /// Number of repeats, at least 1.
    pub n_repeats: usize,
    /// Seed; repeat `r` shuffles with a generator derived from `(seed, r)`.
    pub seed: u64,
}

impl Splitter for RepeatedKFold {
    fn splits(&self, data: &Dataset) -> Result<Vec<Split>> {
        check_repeats("RepeatedKFold", self.n_repeats)?;
        check_folds("RepeatedKFold", self.k, data.n_rows())?;
        let mut out = Vec::with_capacity(self.k * self.n_repeats);
        for r in 0..self.n_repeats {
            let seed = tunewise_core::rng::derive_key(self.seed, &[r as u64]);
            out.extend(KFold::shuffled(self.k, seed).splits(data)?);
        }
        Ok(out)
    }
}

/// [`StratifiedKFold`] repeated `n_repeats` times with a different shuffle each time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatedStratifiedKFold {
    /// Number of folds per repeat, at least 2 and at most the smallest class's size.
    pub k: usize,
    /// Number of repeats, at least 1.
    pub n_repeats: usize,
    /// Seed; repeat `r` shuffles with a generator derived from `(seed, r)`.
    pub seed: u64,
}

impl Splitter for RepeatedStratifiedKFold {
    fn splits(&self, data: &Dataset) -> Result<Vec<Split>> {
        check_repeats("RepeatedStratifiedKFold", self.n_repeats)?;
        let mut out = Vec::with_capacity(self.k * self.n_repeats);
        for r in 0..self.n_repeats {
            let mut rng = Rng::derive(self.seed, &[r as u64]);
            out.extend(stratified_folds("RepeatedStratifiedKFold", data, self.k, Some(&mut rng))?);
        }
        Ok(out)
    }
}

/// `n_splits` independent random hold-out splits (Monte Carlo cross-validation): each draws
/// `test_fraction` of the rows (rounded up) as its test set. Test sets of different splits may
/// overlap. Useful when folds would be too many or too small.
#[derive(Debug, Clone, PartialEq)]
pub struct ShuffleSplit {
    /// Number of splits, at least 1.
    pub n_splits: usize,
    /// Fraction of rows in each test set, in (0, 1).
    pub test_fraction: f64,
    /// Seed; split `s` draws with a generator derived from `(seed, s)`.
    pub seed: u64,
}

impl Splitter for ShuffleSplit {
    fn splits(&self, data: &Dataset) -> Result<Vec<Split>> {
        if self.n_splits == 0 {
            return Err(Error::InvalidConfig("ShuffleSplit: n_splits must be at least 1".into()));
        }
        let n = data.n_rows();
        let n_test = test_size("ShuffleSplit", n, self.test_fraction)?;
        Ok((0..self.n_splits)
            .map(|s| shuffled_holdout(n, n_test, &mut Rng::derive(self.seed, &[s as u64])))
            .collect())
    }
}

/// Group k-fold: no group is on both sides of a split, so a model is tested on groups
/// (patients, users, sessions) it never saw. Groups come from [`Dataset::with_groups`].
///
/// Deterministic and seedless: groups are taken largest first (ties by label) and each goes to
/// the fold with the fewest rows so far (ties to the lower fold), which balances fold sizes.
/// Refused when the dataset has no groups or fewer distinct groups than folds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupKFold {
    /// Number of folds, at least 2 and at most the number of distinct groups.
    pub k: usize,
}

impl Splitter for GroupKFold {
    fn splits(&self, data: &Dataset) -> Result<Vec<Split>> {
        let n = data.n_rows();
        check_folds("GroupKFold", self.k, n)?;
        let groups = data.groups().ok_or_else(|| {
            Error::InvalidConfig(
                "GroupKFold: the dataset has no groups; attach one label per row with \
                 Dataset::with_groups (or a group column when loading CSV)"
                    .into(),
            )
        })?;
        // Rows by group, groups sorted by label (a sorted Vec, not a hash map).
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (groups[i], i));
        let mut by_group: Vec<(u64, Vec<usize>)> = Vec::new();
        for i in order {
            match by_group.last_mut() {
                Some((g, rows)) if *g == groups[i] => rows.push(i),
                _ => by_group.push((groups[i], vec![i])),
            }
        }
        if by_group.len() < self.k {
            return Err(Error::InvalidConfig(format!(
                "GroupKFold: k = {} folds but the data has only {} distinct groups; use at most \
                 {} folds",
                self.k,
                by_group.len(),
                by_group.len()
            )));
        }
        // Largest group first; the stable sort keeps label order among equal sizes.
        by_group.sort_by_key(|g| std::cmp::Reverse(g.1.len()));
        let mut tests: Vec<Vec<usize>> = vec![Vec::new(); self.k];
        for (_, rows) in by_group {
            let lightest = (0..self.k).min_by_key(|&f| (tests[f].len(), f)).unwrap_or(0);
            tests[lightest].extend(rows);
        }
        Ok(tests.into_iter().map(|t| Split::from_test(n, t)).collect())
    }
}

/// Time-series split: rows are in time order; split `s` tests on the `s + 1`-th of
/// `n_splits + 1` consecutive blocks (the first block only ever trains) and trains on every row
/// before it, so the model never sees the future. Test blocks have `n / (n_splits + 1)` rows;
/// the first training block takes the remainder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeSeriesSplit {
    /// Number of splits, at least 2, and `n_splits + 1` at most the number of rows.
    pub n_splits: usize,
}

impl Splitter for TimeSeriesSplit {
    fn splits(&self, data: &Dataset) -> Result<Vec<Split>> {
        let n = data.n_rows();
        let s = self.n_splits;
        if s < 2 {
            return Err(Error::InvalidConfig(format!(
                "TimeSeriesSplit: n_splits = {s}; use at least 2 splits"
            )));
        }
        if s + 1 > n {
            return Err(Error::InvalidConfig(format!(
                "TimeSeriesSplit: n_splits = {s} needs at least {} records (one block more than \
                 splits) but the data has {n}; use at most {} splits",
                s + 1,
                n.saturating_sub(1)
            )));
        }
        let test_size = n / (s + 1);
        let first_test = n - s * test_size;
        Ok((0..s)
            .map(|i| {
                let start = first_test + i * test_size;
                Split { train: (0..start).collect(), test: (start..start + test_size).collect() }
            })
            .collect())
    }
}

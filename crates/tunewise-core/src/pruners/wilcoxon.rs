//! The Wilcoxon signed-rank pruner, for cross-validation folds, and the test itself.
//!
//! The test's arithmetic is written here rather than taken from a crate: `statrs` (the
//! well-kept statistics crate) has the normal distribution but no signed-rank distribution, and
//! the normal tail we need is a dozen lines; a dependency for it would not pay.

use std::sync::OnceLock;

use crate::direction::{pareto_front, Direction};
use crate::error::{Error, Result};
use crate::frozen::{FrozenTrial, TrialState};
use crate::math::special::erfc;
use crate::pruner::Pruner;
use crate::sampler::StudyView;

/// Up to this many differences, [`wilcoxon_signed_rank`] computes exact p-values; above, the
/// normal approximation.
pub const EXACT_MAX_PAIRS: usize = 50;

/// Prunes a trial whose per-fold scores are significantly worse than the best trial's on the
/// same folds, by a one-sided Wilcoxon signed-rank test; as Optuna's `WilcoxonPruner`.
///
/// # What it does
///
/// Steps are fold (or instance) indices: report fold `i`'s score at step `i`. At each call the
/// trial is paired with the best complete trial (best final value; the lowest number on ties)
/// on the steps both reported. With at least `n_startup_steps` pairs, the differences
/// `trial − best` (signs flipped for maximization, so that positive means worse) go through
/// the one-sided signed-rank test ([`wilcoxon_signed_rank`], alternative
/// [`SignedRankAlternative::Greater`], zero differences split between the two signs). The trial
/// is pruned when `p < p_threshold` — unless its mean over the paired folds is at least as good
/// as the best's, which Optuna also spares. A NaN score of the trial is pruned at once; folds
/// where the best trial's score is NaN are left out.
///
/// # Several objectives
///
/// Pruned when some trial of the Pareto front (complete, feasible trials) beats it
/// significantly on *every* objective: for that front trial, each objective's test gives
/// `p < p_threshold` (and the trial's mean is not better on that objective). A trial that is
/// worse on one objective and not on another is never pruned.
///
/// # When to use it
///
/// Cross-validation and other evaluations over a fixed set of folds or problem instances, where
/// folds differ a lot in difficulty: pairing by fold removes that variance, so a bad
/// configuration can be stopped after a few folds without comparing raw fold scores across
/// trials. Needs a complete trial to compare with; until then it never prunes.
///
/// # Cost
///
/// One pass over the study's trials to find the best (or the front), then a sort of the `f`
/// paired differences: O(N + f log f). Exact p-values (up to [`EXACT_MAX_PAIRS`] pairs) come
/// from a table built once per process, or, with tied or zero differences, from a subset-sum
/// count over the observed ranks, O(f³) at worst (a few microseconds for ten folds).
///
/// # Defaults
///
/// `p_threshold` 0.1, `n_startup_steps` 2.
#[derive(Debug, Clone)]
pub struct WilcoxonPruner {
    p_threshold: f64,
    n_startup_steps: usize,
}

/// Settings of a [`WilcoxonPruner`], checked by [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct WilcoxonBuilder {
    p_threshold: f64,
    n_startup_steps: usize,
}

impl Default for WilcoxonBuilder {
    fn default() -> Self {
        WilcoxonBuilder { p_threshold: 0.1, n_startup_steps: 2 }
    }
}

impl WilcoxonBuilder {
    /// Prune when the test's p-value is below this, in (0, 1] (default 0.1).
    pub fn p_threshold(mut self, p: f64) -> Self {
        self.p_threshold = p;
        self
    }

    /// Paired folds needed before any test, at least 1 (default 2).
    pub fn n_startup_steps(mut self, n: usize) -> Self {
        self.n_startup_steps = n;
        self
    }

    /// Checks the settings and makes the pruner; an error names the setting to fix.
    pub fn build(self) -> Result<WilcoxonPruner> {
        if !(self.p_threshold > 0.0 && self.p_threshold <= 1.0) {
            return Err(Error::InvalidConfig(format!(
                "WilcoxonPruner p_threshold: is a p-value in (0, 1] (default 0.1), got {}",
                self.p_threshold
            )));
        }
        if self.n_startup_steps == 0 {
            return Err(Error::InvalidConfig(
                "WilcoxonPruner n_startup_steps: must be at least 1 paired fold (default 2), got 0"
                    .into(),
            ));
        }
        Ok(WilcoxonPruner { p_threshold: self.p_threshold, n_startup_steps: self.n_startup_steps })
    }
}

impl Default for WilcoxonPruner {
    fn default() -> Self {
        Self::new()
    }
}

impl WilcoxonPruner {
    /// A pruner with the defaults.
    pub fn new() -> Self {
        let b = WilcoxonBuilder::default();
        WilcoxonPruner { p_threshold: b.p_threshold, n_startup_steps: b.n_startup_steps }
    }

    /// A builder, to change the defaults.
    pub fn builder() -> WilcoxonBuilder {
        WilcoxonBuilder::default()
    }

    /// Whether `trial` is significantly worse than `reference` on objective `k`.
    fn worse_than(
        &self,
        direction: Direction,
        k: usize,
        trial: &FrozenTrial,
        reference: &FrozenTrial,
    ) -> Result<bool> {
        let mut diffs = Vec::with_capacity(trial.intermediate_values.len());
        let (mut own_sum, mut ref_sum) = (0.0, 0.0);
        for (step, values) in &trial.intermediate_values {
            let Some(&own) = values.get(k) else { continue };
            let Some(&theirs) = reference.intermediate_values.get(step).and_then(|v| v.get(k))
            else {
                continue;
            };
            if theirs.is_nan() {
                continue;
            }
            let (own, theirs) = (direction.to_minimize(own), direction.to_minimize(theirs));
            own_sum += own;
            ref_sum += theirs;
            diffs.push(own - theirs);
        }
        if diffs.len() < self.n_startup_steps {
            return Ok(false);
        }
        // Optuna's safeguard: a trial at least as good on average is never pruned.
        if own_sum <= ref_sum {
            return Ok(false);
        }
        let test =
            wilcoxon_signed_rank(&diffs, SignedRankAlternative::Greater, SignedRankMethod::Auto)?;
        Ok(test.p_value < self.p_threshold)
    }
}

impl Pruner for WilcoxonPruner {
    fn prune(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<bool> {
        let directions = study.directions();
        if let Some(bad) = trial.intermediate_values.values().find(|v| v.len() != directions.len())
        {
            return Err(Error::WrongNumberOfValues { expected: directions.len(), got: bad.len() });
        }
        if trial.intermediate_values.values().flatten().any(|v| v.is_nan()) {
            return Ok(true);
        }
        let others = study.trials().iter().map(|t| &**t).filter(|t| t.number != trial.number);
        if let [direction] = directions {
            let mut best: Option<(&FrozenTrial, f64)> = None;
            for t in others.filter(|t| t.state == TrialState::Complete && t.is_feasible()) {
                let Some(v) = t.value().filter(|v| !v.is_nan()) else { continue };
                if best.map_or(true, |(_, b)| direction.better(v, b)) {
                    best = Some((t, v));
                }
            }
            return match best {
                Some((reference, _)) => self.worse_than(*direction, 0, trial, reference),
                None => Ok(false),
            };
        }
        for reference in pareto_front(directions, others) {
            let mut worse_everywhere = true;
            for (k, d) in directions.iter().enumerate() {
                if !self.worse_than(*d, k, trial, reference)? {
                    worse_everywhere = false;
                    break;
                }
            }
            if worse_everywhere {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The alternative hypothesis of [`wilcoxon_signed_rank`], about the differences `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedRankAlternative {
    /// `d` is not symmetric about zero.
    TwoSided,
    /// `d` is stochastically greater than a distribution symmetric about zero.
    Greater,
    /// `d` is stochastically less than a distribution symmetric about zero.
    Less,
}

/// How [`wilcoxon_signed_rank`] computes the p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedRankMethod {
    /// Exact with at most [`EXACT_MAX_PAIRS`] differences, the normal approximation above.
    Auto,
    /// The exact distribution (refused with more than [`EXACT_MAX_PAIRS`] differences).
    Exact,
    /// The normal approximation with the tie correction, without continuity correction.
    Normal,
}

/// The outcome of [`wilcoxon_signed_rank`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignedRankTest {
    /// Two-sided: the smaller of the positive and negative rank sums. One-sided: the positive
    /// rank sum `T+`. (SciPy's convention.)
    pub statistic: f64,
    /// The p-value.
    pub p_value: f64,
    /// Whether the exact distribution gave it (else the normal approximation).
    pub exact: bool,
}

/// The Wilcoxon signed-rank test on paired differences `d`.
///
/// The absolute differences are ranked (mid-ranks for ties); zero differences are ranked too and
/// their ranks split half to each sign (SciPy's `zero_method="zsplit"`, which never fails,
/// even when every difference is zero). `T+` is the sum of the ranks of positive differences.
///
/// P-values, exact: from the distribution of `T+` when each difference's sign is equally likely
/// either way. Without ties or zeros that is the classical table (counts built by the
/// recurrence `c_n(t) = c_{n−1}(t) + c_{n−1}(t − n)`, once per process); with them, the same
/// count over the observed mid-ranks (the zeros' half ranks fixed), the exact permutation
/// distribution. Or by the normal approximation: mean `n(n+1)/4`, variance
/// `n(n+1)(2n+1)/24 − Σ(t³ − t)/48` over tie groups of size `t` (zeros included), no continuity
/// correction. [`SignedRankMethod::Auto`] is exact up to [`EXACT_MAX_PAIRS`] = 50 differences
/// and normal above. Statistic, zero handling and the normal approximation follow SciPy's
/// `scipy.stats.wilcoxon` (`zero_method="zsplit"`, `correction=False`), whose documented
/// examples are among the tests; unlike SciPy (which switches to the normal approximation as
/// soon as there is a zero), ties and zeros keep the exact distribution for small samples,
/// where the normal approximation is poor: with two tied folds it would give p = 0.079 where
/// the exact p is 0.25.
///
/// An empty sample gives p = 1. A NaN difference is refused.
pub fn wilcoxon_signed_rank(
    d: &[f64],
    alternative: SignedRankAlternative,
    method: SignedRankMethod,
) -> Result<SignedRankTest> {
    if d.iter().any(|x| x.is_nan()) {
        return Err(Error::InvalidConfig(
            "wilcoxon_signed_rank: a difference is NaN; leave that pair out".into(),
        ));
    }
    let n = d.len();
    if n == 0 {
        return Ok(SignedRankTest { statistic: 0.0, p_value: 1.0, exact: false });
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| d[a].abs().total_cmp(&d[b].abs()));
    let mut ranks = vec![0.0; n];
    let mut tie_term = 0.0;
    let mut ties = false;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && d[order[j]].abs() == d[order[i]].abs() {
            j += 1;
        }
        // Positions i..j (0-based) share the mid-rank of ranks i+1..=j.
        let mid = (i + 1 + j) as f64 / 2.0;
        for &o in &order[i..j] {
            ranks[o] = mid;
        }
        let t = (j - i) as f64;
        if j - i > 1 {
            ties = true;
            tie_term += t * t * t - t;
        }
        i = j;
    }
    let zeros = d.contains(&0.0);
    let mut r_plus = 0.0;
    for (x, r) in d.iter().zip(&ranks) {
        if *x > 0.0 {
            r_plus += r;
        } else if *x == 0.0 {
            r_plus += r / 2.0;
        }
    }
    let total = (n * (n + 1)) as f64 / 2.0;
    let r_minus = total - r_plus;
    let statistic = match alternative {
        SignedRankAlternative::TwoSided => r_plus.min(r_minus),
        _ => r_plus,
    };
    let exact = match method {
        SignedRankMethod::Auto => n <= EXACT_MAX_PAIRS,
        SignedRankMethod::Exact if n <= EXACT_MAX_PAIRS => true,
        SignedRankMethod::Exact => {
            return Err(Error::InvalidConfig(format!(
                "wilcoxon_signed_rank: the exact distribution is computed for at most \
                 {EXACT_MAX_PAIRS} differences, got {n}; use SignedRankMethod::Auto or Normal"
            )))
        }
        SignedRankMethod::Normal => false,
    };
    let p_value = if exact {
        let (at_most, at_least) = if !zeros && !ties {
            // Without ties the rank sums are integers, and T+ is symmetric about its mean.
            let t = r_plus.round() as usize;
            let cdf = exact_cdf(n);
            let le = |t: usize| cdf[t.min(cdf.len() - 1)];
            (le(t), le((n * (n + 1) / 2).saturating_sub(t)))
        } else {
            conditional_tails(d, &ranks)
        };
        match alternative {
            SignedRankAlternative::TwoSided => (2.0 * at_most.min(at_least)).min(1.0),
            SignedRankAlternative::Greater => at_least,
            SignedRankAlternative::Less => at_most,
        }
    } else {
        let nf = n as f64;
        let mean = nf * (nf + 1.0) / 4.0;
        let sd = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term / 48.0).sqrt();
        let z = (statistic - mean) / sd;
        match alternative {
            SignedRankAlternative::TwoSided => (2.0 * normal_upper_tail(z.abs())).min(1.0),
            SignedRankAlternative::Greater => normal_upper_tail(z),
            SignedRankAlternative::Less => normal_upper_tail(-z),
        }
    };
    Ok(SignedRankTest { statistic, p_value, exact })
}

/// `(P(T+ ≤ t), P(T+ ≥ t))` for the observed `t`, with ties or zeros: the exact distribution
/// given the observed mid-ranks (each non-zero difference's sign equally likely either way, the
/// zeros' half ranks fixed). Mid-ranks are multiples of ½, so doubled they are integers and the
/// subset-sum counts stay exact.
fn conditional_tails(d: &[f64], ranks: &[f64]) -> (f64, f64) {
    let mut counts = vec![1.0];
    let mut observed = 0usize;
    let mut m = 0i32;
    for (x, r) in d.iter().zip(ranks) {
        if *x == 0.0 {
            continue;
        }
        let w = (2.0 * r).round() as usize;
        if *x > 0.0 {
            observed += w;
        }
        m += 1;
        let mut next = counts.clone();
        next.resize(counts.len() + w, 0.0);
        for (t, c) in counts.iter().enumerate() {
            next[t + w] += c;
        }
        counts = next;
    }
    let all = 2f64.powi(m);
    let at_most: f64 = counts.iter().take(observed + 1).sum();
    let at_least: f64 = counts.iter().skip(observed).sum();
    (at_most / all, at_least / all)
}

/// `P(T+ ≤ t)` for `t = 0..=n(n+1)/2` with `n` untied, non-zero differences.
fn exact_cdf(n: usize) -> &'static [f64] {
    static TABLE: OnceLock<Vec<Vec<f64>>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        // counts[t]: subsets of {1..m} summing to t, grown one m at a time (exact in f64 up to
        // 2^53, and 2^50 subsets is the most there are).
        let mut counts = vec![1.0];
        let mut out = Vec::with_capacity(EXACT_MAX_PAIRS + 1);
        for m in 0..=EXACT_MAX_PAIRS {
            if m > 0 {
                let mut next = counts.clone();
                next.resize(counts.len() + m, 0.0);
                for (t, c) in counts.iter().enumerate() {
                    next[t + m] += c;
                }
                counts = next;
            }
            let all = 2f64.powi(m as i32);
            let mut acc = 0.0;
            out.push(
                counts
                    .iter()
                    .map(|c| {
                        acc += c;
                        acc / all
                    })
                    .collect(),
            );
        }
        out
    });
    &table[n.min(EXACT_MAX_PAIRS)]
}

/// `P(Z > z)` for a standard normal `Z`.
fn normal_upper_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    if x >= 0.0 {
        0.5 * erfc(x)
    } else {
        1.0 - 0.5 * erfc(-x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_table_of_small_n() {
        // n = 3: sums 0..6 with counts 1,1,1,2,1,1,1 over 8 subsets.
        let cdf = exact_cdf(3);
        let expected = [1.0, 2.0, 3.0, 5.0, 6.0, 7.0, 8.0].map(|c| c / 8.0);
        assert_eq!(cdf, &expected);
    }

    #[test]
    fn normal_tail_matches_known_values() {
        // Φ(−1.959963984540054) = 0.025, Φ(−3) = 0.0013498980316300946.
        assert!((normal_upper_tail(1.959963984540054) - 0.025).abs() < 1e-13);
        assert!((normal_upper_tail(3.0) - 0.0013498980316300946).abs() < 1e-15);
        assert!((normal_upper_tail(-3.0) - (1.0 - 0.0013498980316300946)).abs() < 1e-14);
        assert_eq!(normal_upper_tail(0.0), 0.5);
    }
}

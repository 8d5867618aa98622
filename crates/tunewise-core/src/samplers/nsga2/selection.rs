//! NSGA-II's elitist selection: constrained domination, non-dominated sorting and crowding
//! distance (Deb et al. 2002, sections III-A, III-B and VI).

use crate::direction::Direction;
use crate::frozen::FrozenTrial;
use crate::multi_objective::{crowding_distance, dominates, fronts_by};

/// What selection needs of a trial: its values to minimize and its total constraint violation.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Individual {
    /// One value per objective, each to minimize.
    pub(super) values: Vec<f64>,
    /// Sum of the positive constraint values; 0 for a feasible trial.
    pub(super) violation: f64,
}

impl Individual {
    /// The individual of a complete trial with one value per direction.
    pub(super) fn of(trial: &FrozenTrial, directions: &[Direction]) -> Self {
        let v = trial.values.as_deref().unwrap_or(&[]);
        Individual {
            values: directions.iter().zip(v).map(|(d, x)| d.to_minimize(*x)).collect(),
            violation: violation(&trial.constraints),
        }
    }
}

/// Total violation: the sum of the constraint values above 0. A NaN constraint counts as
/// infinitely violated (the trial is infeasible, see `FrozenTrial::is_feasible`, and `f64::max`
/// would drop the NaN).
pub(super) fn violation(constraints: &[f64]) -> f64 {
    constraints.iter().map(|c| if c.is_nan() { f64::INFINITY } else { c.max(0.0) }).sum()
}

/// Deb's constrained domination: a feasible individual beats an infeasible one; of two
/// infeasible ones the smaller total violation wins; two feasible ones compare by Pareto
/// dominance.
pub(super) fn constrained_dominates(a: &Individual, b: &Individual) -> bool {
    match (a.violation > 0.0, b.violation > 0.0) {
        (false, true) => true,
        (true, false) => false,
        (true, true) => a.violation < b.violation,
        (false, false) => dominates(&a.values, &b.values),
    }
}

/// A selected individual: its index among the candidates, its front (0 best) and its crowding
/// distance within that front.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Ranked {
    pub(super) index: usize,
    pub(super) rank: usize,
    pub(super) crowding: f64,
}

impl Ranked {
    /// The crowded-comparison operator: lower front first, then larger crowding distance.
    pub(super) fn beats(&self, other: &Ranked) -> bool {
        self.rank < other.rank || (self.rank == other.rank && self.crowding > other.crowding)
    }
}

/// Keeps `k` of `candidates`: whole fronts (by constrained domination) while they fit, then the
/// most isolated members of the first front that does not (largest crowding distance, ties to
/// the lower index). Returned fronts in order, members of a front by index, the cut front by
/// crowding; each with the rank and crowding computed among the candidates, as in Deb's
/// algorithm.
pub(super) fn select(candidates: &[Individual], k: usize) -> Vec<Ranked> {
    let fronts =
        fronts_by(candidates.len(), |i, j| constrained_dominates(&candidates[i], &candidates[j]));
    let mut out = Vec::with_capacity(k.min(candidates.len()));
    for (rank, front) in fronts.iter().enumerate() {
        let room = k - out.len();
        if room == 0 {
            break;
        }
        let points: Vec<&[f64]> = front.iter().map(|&i| candidates[i].values.as_slice()).collect();
        let crowding = crowding_distance(&points);
        let mut members: Vec<Ranked> = front
            .iter()
            .zip(&crowding)
            .map(|(&index, &crowding)| Ranked { index, rank, crowding })
            .collect();
        if members.len() > room {
            members.sort_by(|a, b| b.crowding.total_cmp(&a.crowding).then(a.index.cmp(&b.index)));
            members.truncate(room);
        }
        out.extend(members);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(values: &[f64], violation: f64) -> Individual {
        Individual { values: values.to_vec(), violation }
    }

    #[test]
    fn constrained_domination_follows_deb() {
        let feasible_bad = ind(&[9.0, 9.0], 0.0);
        let infeasible_good = ind(&[0.0, 0.0], 0.5);
        let more_infeasible = ind(&[0.0, 0.0], 2.0);
        assert!(constrained_dominates(&feasible_bad, &infeasible_good));
        assert!(!constrained_dominates(&infeasible_good, &feasible_bad));
        assert!(constrained_dominates(&infeasible_good, &more_infeasible));
        assert!(!constrained_dominates(&more_infeasible, &infeasible_good));
        // Equal violations: neither dominates, whatever the values.
        assert!(!constrained_dominates(&ind(&[0.0, 0.0], 1.0), &ind(&[5.0, 5.0], 1.0)));
        // Both feasible: Pareto dominance.
        assert!(constrained_dominates(&ind(&[1.0, 1.0], 0.0), &ind(&[1.0, 2.0], 0.0)));
        assert!(!constrained_dominates(&ind(&[1.0, 3.0], 0.0), &ind(&[2.0, 2.0], 0.0)));
        assert!(!constrained_dominates(&ind(&[1.0, 1.0], 0.0), &ind(&[1.0, 1.0], 0.0)));
    }

    #[test]
    fn violation_sums_positive_constraints_and_nan_is_infinite() {
        assert_eq!(violation(&[]), 0.0);
        assert_eq!(violation(&[-1.0, 0.0]), 0.0);
        assert_eq!(violation(&[0.5, -3.0, 1.5]), 2.0);
        assert_eq!(violation(&[f64::NAN]), f64::INFINITY);
    }

    #[test]
    fn selection_keeps_fronts_then_the_most_isolated() {
        let c = vec![
            ind(&[0.0, 4.0], 0.0), // front 0
            ind(&[4.0, 0.0], 0.0), // front 0
            ind(&[1.0, 3.5], 0.0), // front 0: neither [0, 4] nor [2, 2] dominates it
            ind(&[5.0, 5.0], 0.0), // front 2
            ind(&[0.0, 0.0], 1.0), // infeasible: last
            ind(&[2.0, 2.0], 0.0), // front 0
        ];
        let all = select(&c, 6);
        let ranks: Vec<(usize, usize)> = all.iter().map(|r| (r.index, r.rank)).collect();
        assert_eq!(ranks, vec![(0, 0), (1, 0), (2, 0), (5, 0), (3, 1), (4, 2)]);
        // Keep 3 of front 0's four: the two ends (infinite crowding), then the more isolated of
        // [1, 3.5] and [2, 2].
        let three = select(&c, 3);
        let idx: Vec<usize> = three.iter().map(|r| r.index).collect();
        assert_eq!(&idx[..2], &[0, 1]);
        assert_eq!(idx[2], 5, "{three:?}");
        assert!(three[0].crowding.is_infinite() && three[2].crowding.is_finite());
    }

    #[test]
    fn one_objective_sorts_by_value() {
        let c: Vec<Individual> = [3.0, 1.0, 2.0, 1.0].iter().map(|v| ind(&[*v], 0.0)).collect();
        let r = select(&c, 3);
        assert_eq!(
            r.iter().map(|r| (r.index, r.rank)).collect::<Vec<_>>(),
            [(1, 0), (3, 0), (2, 1)]
        );
        assert!(r[2].beats(&Ranked { index: 0, rank: 2, crowding: f64::INFINITY }));
    }
}

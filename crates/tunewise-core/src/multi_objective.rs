//! Non-domination sorting shared by the multi-objective samplers (MOTPE's split, NSGA-II's
//! selection). Points are vectors of values to minimize.
//!
//! [`pareto_front`](crate::pareto_front) stays separate: it only needs the first front, which a
//! sort-and-sweep finds in O(n log n + n·f) instead of the O(n²) of a full sort.

/// Whether `a` Pareto-dominates `b` (minimization): no worse everywhere, better somewhere.
pub(crate) fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut strictly = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        if x < y {
            strictly = true;
        }
    }
    strictly
}

/// Fronts of non-domination of `n` items under the strict partial order `dominates(i, j)`, best
/// first, each front in increasing index order (Deb et al.'s fast non-dominated sort, O(n²)
/// comparisons).
pub(crate) fn fronts_by(n: usize, dominates: impl Fn(usize, usize) -> bool) -> Vec<Vec<usize>> {
    let mut dominated_by = vec![0usize; n];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in i + 1..n {
            if dominates(i, j) {
                dominates_list[i].push(j);
                dominated_by[j] += 1;
            } else if dominates(j, i) {
                dominates_list[j].push(i);
                dominated_by[i] += 1;
            }
        }
    }
    let mut out = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|i| dominated_by[*i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dominates_list[i] {
                dominated_by[j] -= 1;
                if dominated_by[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        out.push(std::mem::replace(&mut current, next));
    }
    out
}

/// Fronts of non-domination of `points` (Pareto dominance, minimization), best first, as indices.
pub(crate) fn fronts(points: &[Vec<f64>]) -> Vec<Vec<usize>> {
    fronts_by(points.len(), |i, j| dominates(&points[i], &points[j]))
}

/// Crowding distance of each point of one front (Deb et al. 2002): per objective, the points
/// sorted by value, the two ends get infinity and the others the gap between their neighbours
/// divided by the objective's spread; summed over objectives. An objective on which every point
/// is equal adds nothing (and its ends get no infinity: nothing is at an end).
pub(crate) fn crowding_distance(points: &[&[f64]]) -> Vec<f64> {
    let n = points.len();
    let mut distance = vec![0.0; n];
    if n <= 2 {
        return vec![f64::INFINITY; n];
    }
    let m = points[0].len();
    let mut order: Vec<usize> = (0..n).collect();
    #[allow(clippy::needless_range_loop)] // `k` indexes the objectives of every point.
    for k in 0..m {
        // Ties broken by index, so the result does not depend on the sort's stability.
        order.sort_by(|&a, &b| points[a][k].total_cmp(&points[b][k]).then(a.cmp(&b)));
        let (lo, hi) = (points[order[0]][k], points[order[n - 1]][k]);
        let spread = hi - lo;
        // All equal (or all the same infinity): nothing is at an end.
        if spread.is_nan() || spread <= 0.0 {
            continue;
        }
        distance[order[0]] = f64::INFINITY;
        distance[order[n - 1]] = f64::INFINITY;
        // An infinite value: only the ends can be told apart.
        if spread.is_infinite() {
            continue;
        }
        for w in 1..n - 1 {
            let gap = points[order[w + 1]][k] - points[order[w - 1]][k];
            distance[order[w]] += gap / spread;
        }
    }
    distance
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fronts_rank_points() {
        let pts = vec![vec![1.0, 1.0], vec![2.0, 2.0], vec![0.5, 3.0], vec![3.0, 3.0]];
        assert_eq!(fronts(&pts), vec![vec![0, 2], vec![1], vec![3]]);
    }

    #[test]
    fn fronts_of_three_objectives_and_duplicates() {
        // Equal points do not dominate each other: they share a front.
        let pts = vec![
            vec![1.0, 2.0, 3.0],
            vec![1.0, 2.0, 3.0],
            vec![3.0, 2.0, 1.0],
            vec![2.0, 3.0, 4.0],
            vec![4.0, 4.0, 4.0],
        ];
        assert_eq!(fronts(&pts), vec![vec![0, 1, 2], vec![3], vec![4]]);
    }

    #[test]
    fn crowding_distance_of_a_known_front() {
        // A front of four points on f2 = 3 - f1: ends infinite, interior points' distances are
        // the normalized gaps of their neighbours summed over both objectives.
        let pts: [&[f64]; 4] = [&[0.0, 3.0], &[1.0, 2.0], &[2.5, 0.5], &[3.0, 0.0]];
        let d = crowding_distance(&pts);
        assert_eq!(d[0], f64::INFINITY);
        assert_eq!(d[3], f64::INFINITY);
        assert!((d[1] - 2.0 * (2.5 / 3.0)).abs() < 1e-12, "{d:?}");
        assert!((d[2] - 2.0 * (2.0 / 3.0)).abs() < 1e-12, "{d:?}");
        assert!(d[1] > d[2], "the point in the sparser region is more isolated");
        // Two points or fewer: all ends.
        assert_eq!(crowding_distance(&pts[..2]), vec![f64::INFINITY; 2]);
    }
}

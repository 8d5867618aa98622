//! Multi-objective pieces of MOTPE: hypervolume and greedy hypervolume subset selection (the
//! non-domination fronts are shared with NSGA-II, in `crate::multi_objective`). Every point is a
//! vector of values to minimize.

/// The reference point of the hypervolume subset selection (Optuna 5's rule): the worst value
/// of each objective over `points`, moved 10 % of its magnitude outwards (1e-12 for a zero).
pub(crate) fn reference_point(points: &[&[f64]]) -> Vec<f64> {
    let m = points.first().map_or(0, |p| p.len());
    (0..m)
        .map(|j| {
            let worst = points.iter().map(|p| p[j]).fold(f64::NEG_INFINITY, f64::max);
            let r = (1.1 * worst).max(0.9 * worst);
            if r == 0.0 {
                1e-12
            } else {
                r
            }
        })
        .collect()
}

/// Hypervolume dominated by `points` up to `reference` (slicing on the last objective; exact,
/// O(n² log n) for three objectives, which is plenty for the good group's few dozen points).
pub(crate) fn hypervolume(points: &[&[f64]], reference: &[f64]) -> f64 {
    let m = reference.len();
    let mut pts: Vec<&[f64]> =
        points.iter().copied().filter(|p| p.iter().zip(reference).all(|(x, r)| x < r)).collect();
    if pts.is_empty() || m == 0 {
        return 0.0;
    }
    if m == 1 {
        return reference[0] - pts.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
    }
    if m == 2 {
        pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
        let mut best_y = reference[1];
        let mut area = 0.0;
        for p in pts {
            if p[1] < best_y {
                area += (reference[0] - p[0]) * (best_y - p[1]);
                best_y = p[1];
            }
        }
        return area;
    }
    pts.sort_by(|a, b| a[m - 1].total_cmp(&b[m - 1]));
    let mut volume = 0.0;
    for i in 0..pts.len() {
        let top = if i + 1 < pts.len() { pts[i + 1][m - 1] } else { reference[m - 1] };
        let height = top - pts[i][m - 1];
        if height > 0.0 {
            let slice: Vec<&[f64]> = pts[..=i].iter().map(|p| &p[..m - 1]).collect();
            volume += height * hypervolume(&slice, &reference[..m - 1]);
        }
    }
    volume
}

/// Greedily picks `k` of `candidates` that together dominate the most hypervolume (ties to the
/// earlier candidate). Returns indices into `candidates`.
pub(crate) fn greedy_subset(candidates: &[&[f64]], k: usize, reference: &[f64]) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::with_capacity(k);
    let mut taken = vec![false; candidates.len()];
    let mut set: Vec<&[f64]> = Vec::with_capacity(k + 1);
    while chosen.len() < k.min(candidates.len()) {
        let mut best: Option<(usize, f64)> = None;
        for (i, c) in candidates.iter().enumerate() {
            if taken[i] {
                continue;
            }
            set.push(c);
            let hv = hypervolume(&set, reference);
            set.pop();
            if best.map_or(true, |(_, b)| hv > b) {
                best = Some((i, hv));
            }
        }
        let Some((i, _)) = best else { break };
        taken[i] = true;
        chosen.push(i);
        set.push(candidates[i]);
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypervolume_of_known_sets() {
        let r = [4.0, 4.0];
        let pts: [&[f64]; 3] = [&[1.0, 3.0], &[2.0, 2.0], &[3.0, 1.0]];
        assert_eq!(hypervolume(&pts, &r), 3.0 + 2.0 + 1.0);
        let r3 = [1.0, 1.0, 1.0];
        let one: [&[f64]; 1] = [&[0.0, 0.0, 0.0]];
        assert!((hypervolume(&one, &r3) - 1.0).abs() < 1e-12);
        let two: [&[f64]; 2] = [&[0.0, 0.5, 0.5], &[0.5, 0.0, 0.0]];
        // 0.5 + 0.5 − overlap 0.25 (x ≥ 0.5, y ≥ 0.5, z ≥ 0.5 … inclusion–exclusion).
        let exact = 1.0 * 0.5 * 0.5 + 0.5 * 1.0 * 1.0 - 0.5 * 0.5 * 0.5;
        assert!((hypervolume(&two, &r3) - exact).abs() < 1e-12);
    }
}

//! Hypervolume of a set of points, every objective minimized: the measure of the region the points
//! dominate, bounded by a reference point.
//!
//! Exact, by dimension sweep: one objective is a sum over the points sorted by their first
//! coordinate, two a sweep keeping the running minimum of the second, three or more by slicing
//! along the last objective and summing the hypervolume of each slice one dimension down
//! (O(n² log n) for three objectives, plenty for the hundreds of points of a benchmark run).
//! Points that do not strictly dominate the reference point add nothing.

/// The hypervolume dominated by `points` (one slice of `reference.len()` values each, smaller is
/// better) and bounded by `reference`.
///
/// Points with a NaN, or not strictly better than the reference in every objective, are ignored.
///
/// # Panics
///
/// If a point has a different number of objectives from the reference.
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let d = reference.len();
    let mut inside: Vec<&[f64]> = Vec::with_capacity(points.len());
    for p in points {
        assert_eq!(p.len(), d, "a point has {} objectives, the reference point {d}", p.len());
        if p.iter().zip(reference).all(|(x, r)| x < r) {
            inside.push(p);
        }
    }
    if d == 0 {
        return 0.0;
    }
    slice_volume(&mut inside, reference)
}

/// The hypervolume of `points`, all strictly inside the box of `reference`, in `reference.len()`
/// dimensions (only the first `reference.len()` coordinates of each point are read).
fn slice_volume(points: &mut [&[f64]], reference: &[f64]) -> f64 {
    let d = reference.len();
    if points.is_empty() {
        return 0.0;
    }
    match d {
        1 => reference[0] - points.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min),
        2 => {
            points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
            let mut volume = 0.0;
            let mut lowest = reference[1];
            for p in points.iter() {
                if p[1] < lowest {
                    volume += (reference[0] - p[0]) * (lowest - p[1]);
                    lowest = p[1];
                }
            }
            volume
        }
        _ => {
            let last = d - 1;
            points.sort_by(|a, b| a[last].total_cmp(&b[last]));
            let mut volume = 0.0;
            for i in 0..points.len() {
                let top = if i + 1 < points.len() { points[i + 1][last] } else { reference[last] };
                let depth = top - points[i][last];
                if depth > 0.0 {
                    let mut slice: Vec<&[f64]> = points[..=i].to_vec();
                    volume += depth * slice_volume(&mut slice, &reference[..last]);
                }
            }
            volume
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_point_is_a_box() {
        assert_eq!(hypervolume(&[vec![1.0, 2.0]], &[3.0, 5.0]), 6.0);
        assert_eq!(hypervolume(&[vec![1.0, 2.0, 0.5]], &[3.0, 5.0, 1.5]), 6.0);
        assert_eq!(hypervolume(&[vec![0.25]], &[1.0]), 0.75);
    }

    #[test]
    fn points_outside_the_reference_box_count_for_nothing() {
        assert_eq!(hypervolume(&[vec![4.0, 0.0], vec![0.0, 5.0]], &[3.0, 5.0]), 0.0);
        assert_eq!(hypervolume(&[], &[3.0, 5.0]), 0.0);
        assert_eq!(hypervolume(&[vec![f64::NAN, 1.0]], &[3.0, 5.0]), 0.0);
    }
}

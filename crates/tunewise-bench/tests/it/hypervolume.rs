use tunewise_bench::hypervolume;

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

#[test]
fn two_objectives_staircase() {
    // Three non-dominated points and one dominated: the union of three boxes up to (4, 4).
    let points = vec![vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0], vec![2.5, 2.5]];
    // Columns [1,2): height 1; [2,3): 2; [3,4): 3.
    close(hypervolume(&points, &[4.0, 4.0]), 6.0);
    // Order does not matter, nor do duplicates.
    let mut shuffled = points.clone();
    shuffled.reverse();
    shuffled.push(vec![2.0, 2.0]);
    close(hypervolume(&shuffled, &[4.0, 4.0]), 6.0);
}

#[test]
fn three_objectives_by_hand() {
    // Two boxes up to (2, 2, 2): [0,2]×[1,2]×[1,2] (volume 2) and [1,2]×[0,2]×[0,2] (volume 4),
    // overlapping in [1,2]×[1,2]×[1,2] (volume 1): 5 in all.
    let points = vec![vec![0.0, 1.0, 1.0], vec![1.0, 0.0, 0.0]];
    close(hypervolume(&points, &[2.0, 2.0, 2.0]), 5.0);
    // Three boxes of volume 2, each pair and all three meeting in the unit cube [1,2]³:
    // inclusion–exclusion gives 3·2 − 3·1 + 1 = 4.
    let points = vec![vec![0.0, 1.0, 1.0], vec![1.0, 0.0, 1.0], vec![1.0, 1.0, 0.0]];
    close(hypervolume(&points, &[2.0, 2.0, 2.0]), 4.0);
    // A point that is dominated adds nothing.
    let mut more = points.clone();
    more.push(vec![1.5, 1.5, 1.5]);
    close(hypervolume(&more, &[2.0, 2.0, 2.0]), 4.0);
}

#[test]
fn matches_a_monte_carlo_estimate_on_a_random_front() {
    // A deterministic pseudo-random set of points in [0, 1]³, and a grid count of the dominated
    // cells of the unit cube.
    let mut state = 12345u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let points: Vec<Vec<f64>> = (0..15).map(|_| vec![next(), next(), next()]).collect();
    let n = 60;
    let mut dominated = 0usize;
    for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                let c = [
                    (i as f64 + 0.5) / n as f64,
                    (j as f64 + 0.5) / n as f64,
                    (k as f64 + 0.5) / n as f64,
                ];
                if points.iter().any(|p| p.iter().zip(&c).all(|(p, c)| p <= c)) {
                    dominated += 1;
                }
            }
        }
    }
    let estimate = dominated as f64 / (n * n * n) as f64;
    let exact = hypervolume(&points, &[1.0, 1.0, 1.0]);
    assert!((exact - estimate).abs() < 0.02, "exact {exact}, grid estimate {estimate}");
}

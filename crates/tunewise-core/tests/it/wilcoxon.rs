//! The Wilcoxon signed-rank test against documented values, and the Wilcoxon pruner's
//! decisions on hand-made fold scores.

use std::sync::Arc;

use tunewise_core::{
    wilcoxon_signed_rank, Direction, Error, FrozenTrial, Pruner, SignedRankAlternative as Alt,
    SignedRankMethod as Method, StudyView, TrialState, WilcoxonPruner,
};

use Direction::{Maximize, Minimize};
use TrialState::{Complete, Running};

/// Darwin's differences in height between cross- and self-fertilized Zea mays plants (Fisher,
/// "The Design of Experiments"), the example of SciPy's `scipy.stats.wilcoxon` documentation.
const DARWIN: [f64; 15] =
    [6.0, 8.0, 14.0, 16.0, 23.0, 24.0, 28.0, 29.0, 41.0, -48.0, 49.0, 56.0, 60.0, -67.0, 75.0];

#[test]
fn darwin_example_matches_scipy_documentation() {
    // SciPy's documentation: `wilcoxon(d)` gives (24.0, 0.041259765625), exact.
    let two = wilcoxon_signed_rank(&DARWIN, Alt::TwoSided, Method::Auto).unwrap();
    assert!(two.exact);
    assert_eq!(two.statistic, 24.0);
    assert_eq!(two.p_value, 0.041259765625);
    // `wilcoxon(d, alternative='greater')` gives (96.0, 0.0206298828125), exact.
    let greater = wilcoxon_signed_rank(&DARWIN, Alt::Greater, Method::Auto).unwrap();
    assert_eq!((greater.statistic, greater.p_value), (96.0, 0.0206298828125));
    // `wilcoxon(d, method='approx')` gives (24.0, 0.04088813291185591).
    let approx = wilcoxon_signed_rank(&DARWIN, Alt::TwoSided, Method::Normal).unwrap();
    assert!(!approx.exact);
    assert_eq!(approx.statistic, 24.0);
    assert!((approx.p_value - 0.04088813291185591).abs() < 1e-14, "{}", approx.p_value);
    // The other tail: P(T+ ≤ 96) = 1 − P(T+ ≥ 97) = 1 − P(T+ ≤ 23) by symmetry, and
    // P(T+ ≤ 24) = 0.0206298828125 from above, so 1 − P(T+ ≤ 23) > 1 − 0.0206.
    let less = wilcoxon_signed_rank(&DARWIN, Alt::Less, Method::Exact).unwrap();
    assert!(less.p_value > 1.0 - 0.0206298828125 && less.p_value < 1.0, "{}", less.p_value);
}

#[test]
fn smallest_samples_have_the_textbook_exact_p_values() {
    // All n differences positive: T+ = n(n+1)/2, the largest, with probability 1/2ⁿ.
    for n in 1..=10i32 {
        let d: Vec<f64> = (1..=n).map(f64::from).collect();
        let t = wilcoxon_signed_rank(&d, Alt::Greater, Method::Auto).unwrap();
        assert_eq!(t.p_value, 0.5f64.powi(n), "n = {n}");
        assert_eq!(t.statistic, (n * (n + 1) / 2) as f64);
    }
    // n = 3, d = (−1, 2, 3): T+ = 5; subsets of {1,2,3} with sum ≥ 5: {2,3}, {1,2,3}: 2/8.
    let t = wilcoxon_signed_rank(&[-1.0, 2.0, 3.0], Alt::Greater, Method::Auto).unwrap();
    assert_eq!((t.statistic, t.p_value), (5.0, 0.25));
}

#[test]
fn ties_and_zeros_exact_and_normal() {
    // d = (0, 1, −1, 2, 2, 3). |d| mid-ranks: 0 → 1, 1 and 1 → 2.5, 2 and 2 → 4.5, 3 → 6. The
    // zero's rank is split: T+ = 0.5 + 2.5 + 4.5 + 4.5 + 6 = 18.
    let d = [0.0, 1.0, -1.0, 2.0, 2.0, 3.0];
    // Normal (SciPy's `method='approx'`, `zero_method='zsplit'`): mean 6·7/4 = 10.5; variance
    // 6·7·13/24 − (6 + 6)/48 = 22.5; z = 7.5/√22.5 = 1.5811…; P(Z > z) = 0.05692314900332906
    // (Python's math.erfc).
    let t = wilcoxon_signed_rank(&d, Alt::Greater, Method::Normal).unwrap();
    assert!(!t.exact);
    assert_eq!(t.statistic, 18.0);
    assert!((t.p_value - 0.05692314900332906).abs() < 1e-14, "{}", t.p_value);
    let less = wilcoxon_signed_rank(&d, Alt::Less, Method::Normal).unwrap();
    assert!((less.p_value - (1.0 - 0.05692314900332906)).abs() < 1e-14);
    // Exact given the ranks: the non-zero ranks 2.5, 2.5, 4.5, 4.5, 6 sum to 20 and the
    // positive ones to 17.5; of the 32 sign patterns, those with a positive sum ≥ 17.5 leave
    // ≤ 2.5 negative: none, or either 2.5: p = 3/32.
    let t = wilcoxon_signed_rank(&d, Alt::Greater, Method::Auto).unwrap();
    assert!(t.exact);
    assert_eq!((t.statistic, t.p_value), (18.0, 3.0 / 32.0));
    // Two tied folds, both worse: 1/4 exactly (the normal approximation would say 0.079).
    let two = wilcoxon_signed_rank(&[0.05, 0.05], Alt::Greater, Method::Auto).unwrap();
    assert_eq!(two.p_value, 0.25);
    let normal = wilcoxon_signed_rank(&[0.05, 0.05], Alt::Greater, Method::Normal).unwrap();
    assert!((normal.p_value - 0.0786496).abs() < 1e-6, "{}", normal.p_value);
    // All zeros: no evidence either way.
    let zeros = wilcoxon_signed_rank(&[0.0; 4], Alt::Greater, Method::Auto).unwrap();
    assert_eq!(zeros.p_value, 1.0);
    let zeros = wilcoxon_signed_rank(&[0.0; 4], Alt::Greater, Method::Normal).unwrap();
    assert_eq!(zeros.p_value, 0.5);
    // More than 50 pairs: normal, even untied.
    let many: Vec<f64> = (1..=51).map(|i| i as f64).collect();
    assert!(!wilcoxon_signed_rank(&many, Alt::Greater, Method::Auto).unwrap().exact);
    let fifty: Vec<f64> = (1..=50).map(|i| i as f64).collect();
    assert!(wilcoxon_signed_rank(&fifty, Alt::Greater, Method::Auto).unwrap().exact);
}

#[test]
fn impossible_requests_are_errors() {
    let many: Vec<f64> = (1..=51).map(|i| i as f64).collect();
    assert!(wilcoxon_signed_rank(&many, Alt::Greater, Method::Exact).is_err());
    assert!(wilcoxon_signed_rank(&[1.0, f64::NAN], Alt::Greater, Method::Auto).is_err());
    let empty = wilcoxon_signed_rank(&[], Alt::Greater, Method::Auto).unwrap();
    assert_eq!(empty.p_value, 1.0);
}

/// A trial with `scores[i]` at fold `i` (each a vector of one value per objective), complete
/// with `value` when given.
fn folds(number: u64, scores: &[&[f64]], value: Option<&[f64]>) -> FrozenTrial {
    let state = if value.is_some() { Complete } else { Running };
    let mut t = FrozenTrial::new(number, number, state);
    for (i, s) in scores.iter().enumerate() {
        t.intermediate_values.insert(i as u64, s.to_vec());
    }
    t.values = value.map(|v| v.to_vec());
    t
}

fn decide(p: &WilcoxonPruner, dirs: &[Direction], others: &[FrozenTrial], j: &FrozenTrial) -> bool {
    let mut trials: Vec<Arc<FrozenTrial>> = others.iter().cloned().map(Arc::new).collect();
    trials.push(Arc::new(j.clone()));
    p.prune(&StudyView::new(dirs, &trials), j).unwrap()
}

const BEST: [f64; 5] = [0.80, 0.82, 0.78, 0.85, 0.81];

/// A running trial whose first `n` folds score `BEST − gap`.
fn behind(n: usize, gap: f64) -> FrozenTrial {
    let scores: Vec<[f64; 1]> = BEST[..n].iter().map(|b| [b - gap]).collect();
    let refs: Vec<&[f64]> = scores.iter().map(|s| &s[..]).collect();
    folds(9, &refs, None)
}

#[test]
fn a_trial_worse_on_every_fold_is_pruned_once_significant() {
    // Accuracy, maximized. All n differences go the same way: exact p = 1/2ⁿ. With the
    // threshold 0.1: 2 folds 0.25, 3 folds 0.125 (kept), 4 folds 0.0625 (pruned).
    let best =
        folds(0, &BEST.map(|b| [b]).iter().map(|s| &s[..]).collect::<Vec<_>>(), Some(&[0.81]));
    let p = WilcoxonPruner::new();
    let others = [best];
    assert!(!decide(&p, &[Maximize], &others, &behind(1, 0.05)), "below n_startup_steps");
    assert!(!decide(&p, &[Maximize], &others, &behind(2, 0.05)));
    assert!(!decide(&p, &[Maximize], &others, &behind(3, 0.05)));
    assert!(decide(&p, &[Maximize], &others, &behind(4, 0.05)));
    assert!(decide(&p, &[Maximize], &others, &behind(5, 0.05)));
    // Ahead on every fold: never pruned.
    assert!(!decide(&p, &[Maximize], &others, &behind(5, -0.05)));
    // A stricter threshold waits for the fifth fold (1/32 < 0.05 < 1/16).
    let strict = WilcoxonPruner::builder().p_threshold(0.05).build().unwrap();
    assert!(!decide(&strict, &[Maximize], &others, &behind(4, 0.05)));
    assert!(decide(&strict, &[Maximize], &others, &behind(5, 0.05)));
    // More startup folds wait too.
    let patient = WilcoxonPruner::builder().n_startup_steps(5).build().unwrap();
    assert!(!decide(&patient, &[Maximize], &others, &behind(4, 0.05)));
}

#[test]
fn minimize_flips_the_sign() {
    // Loss, minimized: a trial whose losses are higher is worse.
    let best =
        folds(0, &BEST.map(|b| [b]).iter().map(|s| &s[..]).collect::<Vec<_>>(), Some(&[0.81]));
    let p = WilcoxonPruner::new();
    let others = [best];
    assert!(decide(&p, &[Minimize], &others, &behind(4, -0.05)), "higher loss on 4 folds");
    assert!(!decide(&p, &[Minimize], &others, &behind(4, 0.05)), "lower loss");
}

#[test]
fn a_trial_better_on_average_is_spared() {
    // Behind on four folds by a little, ahead on the fifth by a lot: ranks 1–4 are the worse
    // ones, T+ = 10 of 15, p = P(T+ ≥ 10) = 10/32 = 0.3125 < 0.5; but the mean is better, so
    // it is kept.
    let best =
        folds(0, &BEST.map(|b| [b]).iter().map(|s| &s[..]).collect::<Vec<_>>(), Some(&[0.81]));
    let scores = [[0.79], [0.81], [0.77], [0.84], [0.95]];
    let refs: Vec<&[f64]> = scores.iter().map(|s| &s[..]).collect();
    let p = WilcoxonPruner::builder().p_threshold(0.5).build().unwrap();
    assert!(!decide(&p, &[Maximize], &[best], &folds(9, &refs, None)));
}

#[test]
fn the_reference_is_the_best_complete_trial() {
    // Maximize. A is best (0.9 on every fold), B worse (0.5). A trial at 0.7 is pruned after
    // four folds against A, though it beats B everywhere.
    let a = folds(0, &[&[0.9], &[0.9], &[0.9], &[0.9]], Some(&[0.9]));
    let b = folds(1, &[&[0.5], &[0.5], &[0.5], &[0.5]], Some(&[0.5]));
    let j = folds(9, &[&[0.7], &[0.71], &[0.72], &[0.73]], None);
    let p = WilcoxonPruner::new();
    assert!(decide(&p, &[Maximize], &[b.clone(), a.clone()], &j));
    // With A running (not complete), B is the reference and the trial is kept.
    let mut a_running = a;
    a_running.state = Running;
    a_running.values = None;
    assert!(!decide(&p, &[Maximize], &[b, a_running], &j));
    // No complete trial: never pruned.
    assert!(!decide(&p, &[Maximize], &[], &j));
}

#[test]
fn only_shared_folds_are_paired() {
    // The best trial has folds 0, 1, 2 only; the trial's folds 3–5 are not paired: three pairs,
    // p = 1/8, kept.
    let best = folds(0, &[&[0.9], &[0.9], &[0.9]], Some(&[0.9]));
    let j = folds(9, &[&[0.1], &[0.1], &[0.1], &[0.1], &[0.1], &[0.1]], None);
    assert!(!decide(&WilcoxonPruner::new(), &[Maximize], &[best], &j));
}

#[test]
fn a_nan_fold_score_is_pruned() {
    let best = folds(0, &[&[0.9], &[0.9]], Some(&[0.9]));
    let j = folds(9, &[&[0.95], &[f64::NAN]], None);
    assert!(decide(&WilcoxonPruner::new(), &[Maximize], &[best], &j));
}

#[test]
fn several_objectives_prune_only_when_worse_on_every_objective_than_a_front_trial() {
    // Accuracy (max) and time (min). Front: P (0.9, 10 s) and Q (0.6, 1 s).
    let dirs = [Maximize, Minimize];
    let p_trial = folds(0, &[&[0.9, 10.0][..]; 4], Some(&[0.9, 10.0]));
    let q_trial = folds(1, &[&[0.6, 1.0][..]; 4], Some(&[0.6, 1.0]));
    let others = [p_trial, q_trial];
    let pruner = WilcoxonPruner::new();
    // Worse than Q on both (lower accuracy, slower) on four folds: pruned.
    let worse = folds(9, &[&[0.5, 2.0], &[0.55, 2.1], &[0.52, 2.2], &[0.58, 2.3]], None);
    assert!(decide(&pruner, &dirs, &others, &worse));
    // Less accurate than P and slower than Q, but beaten by no single front trial on both.
    let between = folds(9, &[&[0.8, 5.0], &[0.81, 5.1], &[0.82, 5.2], &[0.83, 5.3]], None);
    assert!(!decide(&pruner, &dirs, &others, &between));
}

#[test]
fn bad_settings_are_refused_with_the_setting_named() {
    let cases = [
        (WilcoxonPruner::builder().p_threshold(0.0).build(), "p_threshold"),
        (WilcoxonPruner::builder().p_threshold(1.5).build(), "p_threshold"),
        (WilcoxonPruner::builder().p_threshold(f64::NAN).build(), "p_threshold"),
        (WilcoxonPruner::builder().n_startup_steps(0).build(), "n_startup_steps"),
    ];
    for (result, field) in cases {
        match result {
            Err(Error::InvalidConfig(m)) => {
                assert!(m.contains(&format!("WilcoxonPruner {field}")), "{m}")
            }
            other => panic!("expected InvalidConfig naming {field}, got {other:?}"),
        }
    }
}

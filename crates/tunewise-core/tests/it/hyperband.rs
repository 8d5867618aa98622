//! Hyperband on hand-made curves: brackets, their assignment, comparisons within a bracket,
//! several objectives, bad settings.

use std::sync::Arc;

use tunewise_core::{
    Direction, Error, FrozenTrial, HyperbandPruner, Pruner, StudyView, TrialState,
};

use Direction::{Maximize, Minimize};
use TrialState::{Complete, Running};

fn trial(number: u64, state: TrialState, curve: &[(u64, &[f64])]) -> FrozenTrial {
    let mut t = FrozenTrial::new(1000 + number, number, state);
    for (step, values) in curve {
        t.intermediate_values.insert(*step, values.to_vec());
    }
    t
}

fn decide(
    p: &HyperbandPruner,
    dirs: &[Direction],
    others: &[FrozenTrial],
    j: &FrozenTrial,
) -> bool {
    let mut trials: Vec<Arc<FrozenTrial>> = others.iter().cloned().map(Arc::new).collect();
    trials.push(Arc::new(j.clone()));
    p.prune(&StudyView::new(dirs, &trials), j).unwrap()
}

fn hyperband(max_resource: u64) -> HyperbandPruner {
    HyperbandPruner::builder().max_resource(max_resource).build().unwrap()
}

/// The first `count` trial numbers in `bracket`.
fn numbers_in(p: &HyperbandPruner, bracket: usize, count: usize) -> Vec<u64> {
    (0..).filter(|n| p.bracket_of(*n) == bracket).take(count).collect()
}

#[test]
fn bracket_count_is_floor_log_eta_of_the_resource_ratio_plus_one() {
    assert_eq!(hyperband(27).n_brackets(), 4);
    assert_eq!(hyperband(26).n_brackets(), 3);
    assert_eq!(hyperband(1).n_brackets(), 1);
    let p = HyperbandPruner::builder()
        .min_resource(2)
        .max_resource(100)
        .reduction_factor(2)
        .build()
        .unwrap();
    assert_eq!(p.n_brackets(), 6, "2·2⁵ = 64 ≤ 100 < 128");
}

#[test]
fn bracket_shares_follow_the_papers_allocation() {
    // n = 4, η = 3: budgets ⌈4·3^h/(h+1)⌉ for h = 3, 2, 1, 0: 27, 12, 6, 4 (total 49).
    let p = hyperband(27);
    let expected = [27.0 / 49.0, 12.0 / 49.0, 6.0 / 49.0, 4.0 / 49.0];
    for (got, want) in p.bracket_shares().iter().zip(expected) {
        assert!((got - want).abs() < 1e-12, "{:?}", p.bracket_shares());
    }
}

#[test]
fn bracket_assignment_is_a_fixed_function_of_the_number() {
    let p = hyperband(27);
    let q = hyperband(27);
    let first: Vec<usize> = (0..20).map(|n| p.bracket_of(n)).collect();
    assert_eq!(first, (0..20).map(|n| q.bracket_of(n)).collect::<Vec<_>>());
    // Fixed across versions and platforms: SplitMix64 of the number, modulo 49, against the
    // cumulative budgets 27, 39, 45, 49 (computed independently, in Python).
    assert_eq!(first, [0, 0, 0, 1, 1, 3, 0, 0, 2, 1, 1, 0, 1, 2, 0, 0, 0, 1, 0, 0]);
    // Over many numbers each bracket gets about its share.
    let n = 49_000;
    let mut counts = [0usize; 4];
    for number in 0..n {
        counts[p.bracket_of(number)] += 1;
    }
    for (c, share) in counts.iter().zip(p.bracket_shares()) {
        let got = *c as f64 / n as f64;
        assert!((got - share).abs() < 0.01, "{counts:?}");
    }
}

#[test]
fn trials_compete_only_within_their_bracket() {
    let p = hyperband(27);
    let mates = numbers_in(&p, 0, 3);
    let strangers = numbers_in(&p, 1, 3);
    let judged_n = numbers_in(&p, 0, 4)[3];
    let at1 = |n: u64, v: f64| trial(n, Complete, &[(1, &[v]), (3, &[v])]);
    // Bracket 0's rungs are at steps 1, 3, 9. Strangers are far better; mates are worse.
    let mut others: Vec<FrozenTrial> = strangers.iter().map(|n| at1(*n, 0.0)).collect();
    others.extend(mates.iter().map(|n| at1(*n, 5.0)));
    let judged = |v: f64| trial(judged_n, Running, &[(1, &[v])]);
    assert!(!decide(&p, &[Minimize], &others, &judged(1.0)), "best of its bracket");
    // A better mate: n = 4 with η = 3 gives one slot.
    others.push(at1(mates[0], 0.5));
    others.remove(3);
    assert!(decide(&p, &[Minimize], &others, &judged(1.0)));
    assert!(!decide(&p, &[Maximize], &others, &judged(9.0)));
}

#[test]
fn later_brackets_first_judge_later() {
    let p = hyperband(27);
    // Bracket i's first rung is at 3^i: a bad trial of bracket 2 is safe until step 9.
    let mates = numbers_in(&p, 2, 3);
    let judged_n = numbers_in(&p, 2, 4)[3];
    let others: Vec<FrozenTrial> = mates
        .iter()
        .map(|n| trial(*n, Complete, &[(1, &[0.0]), (3, &[0.0]), (9, &[0.0])]))
        .collect();
    let bad = |steps: &[u64]| {
        let curve: Vec<(u64, &[f64])> = steps.iter().map(|s| (*s, &[9.0][..])).collect();
        trial(judged_n, Running, &curve)
    };
    assert!(!decide(&p, &[Minimize], &others, &bad(&[1, 2, 3, 4, 5, 6, 7, 8])));
    assert!(decide(&p, &[Minimize], &others, &bad(&[1, 9])));
}

#[test]
fn several_objectives_within_a_bracket() {
    let p = hyperband(27);
    let mates = numbers_in(&p, 0, 2);
    let judged_n = numbers_in(&p, 0, 3)[2];
    let dirs = [Minimize, Maximize];
    let others = vec![
        trial(mates[0], Complete, &[(1, &[1.0, 5.0])]),
        trial(mates[1], Complete, &[(1, &[2.0, 4.0])]),
    ];
    // n = 3, one slot: dominated by mate 0 → pruned; dominating both → promoted.
    assert!(decide(&p, &dirs, &others, &trial(judged_n, Running, &[(1, &[1.5, 4.5])])));
    assert!(!decide(&p, &dirs, &others, &trial(judged_n, Running, &[(1, &[0.5, 6.0])])));
}

#[test]
fn bad_settings_are_refused_with_the_setting_named() {
    let cases = [
        (HyperbandPruner::builder().build(), "max_resource"),
        (HyperbandPruner::builder().min_resource(10).max_resource(5).build(), "max_resource"),
        (HyperbandPruner::builder().max_resource(5).min_resource(0).build(), "min_resource"),
        (
            HyperbandPruner::builder().max_resource(5).reduction_factor(1).build(),
            "reduction_factor",
        ),
    ];
    for (result, field) in cases {
        match result {
            Err(Error::InvalidConfig(m)) => {
                assert!(m.contains(&format!("HyperbandPruner {field}")), "{m}")
            }
            other => panic!("expected InvalidConfig naming {field}, got {other:?}"),
        }
    }
}

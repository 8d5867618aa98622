//! Splitters: partitions, stratification, groups, time order, determinism and refusals.

use tunewise_ml::{
    train_test_split, train_test_split_n, Dataset, Error, GroupKFold, KFold, RepeatedKFold,
    RepeatedStratifiedKFold, ShuffleSplit, Split, Splitter, StratifiedKFold, TimeSeriesSplit,
};

fn err_text<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(e) => e.to_string(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

/// `n` rows; the target cycles through `class_sizes` unevenly: class c has class_sizes[c] rows,
/// interleaved so that consecutive rows are not of one class.
fn classified(class_sizes: &[usize]) -> Dataset {
    let mut target = Vec::new();
    let mut left = class_sizes.to_vec();
    while left.iter().any(|&l| l > 0) {
        for (c, l) in left.iter_mut().enumerate() {
            if *l > 0 {
                target.push(c as f64);
                *l -= 1;
            }
        }
    }
    let features = (0..target.len()).map(|i| vec![i as f64]).collect();
    Dataset::new(features, target).unwrap()
}

fn plain(n: usize) -> Dataset {
    classified(&[n])
}

/// Every split is a partition of 0..n into sorted, disjoint train and test sets.
fn assert_partitions(splits: &[Split], n: usize) {
    for s in splits {
        assert!(s.train.windows(2).all(|w| w[0] < w[1]), "train sorted and unique");
        assert!(s.test.windows(2).all(|w| w[0] < w[1]), "test sorted and unique");
        assert!(!s.test.is_empty() && !s.train.is_empty());
        let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..n).collect::<Vec<_>>(), "train ∪ test = all rows, disjoint");
    }
}

/// Each row is in exactly one test fold.
fn assert_each_row_tested_once(splits: &[Split], n: usize) {
    let mut seen = vec![0usize; n];
    for s in splits {
        for &i in &s.test {
            seen[i] += 1;
        }
    }
    assert!(seen.iter().all(|&c| c == 1), "test counts per row: {seen:?}");
}

fn count_class(data: &Dataset, rows: &[usize], class: f64) -> usize {
    rows.iter().filter(|&&i| data.target()[i] == class).count()
}

#[test]
fn kfold_partitions_with_balanced_sizes() {
    for n in [2usize, 7, 10, 23] {
        for k in 2..=n.min(6) {
            for splitter in [KFold::new(k), KFold::shuffled(k, 42)] {
                let splits = splitter.splits(&plain(n)).unwrap();
                assert_eq!(splits.len(), k);
                assert_partitions(&splits, n);
                assert_each_row_tested_once(&splits, n);
                let sizes: Vec<usize> = splits.iter().map(|s| s.test.len()).collect();
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1, "n {n} k {k}: {sizes:?}");
            }
        }
    }
    // Unshuffled folds are consecutive blocks, bigger ones first.
    let s = KFold::new(3).splits(&plain(7)).unwrap();
    assert_eq!(s[0].test, vec![0, 1, 2]);
    assert_eq!(s[1].test, vec![3, 4]);
    assert_eq!(s[2].test, vec![5, 6]);
}

/// A splitter made from a seed.
type MakeSplitter = Box<dyn Fn(u64) -> Box<dyn Splitter>>;

#[test]
fn same_seed_same_splits_other_seed_other_splits() {
    let d = classified(&[30, 12, 8]);
    let seeded: Vec<(MakeSplitter, &str)> = vec![
        (Box::new(|s| Box::new(KFold::shuffled(5, s))), "KFold"),
        (Box::new(|s| Box::new(StratifiedKFold::shuffled(5, s))), "StratifiedKFold"),
        (Box::new(|s| Box::new(RepeatedKFold { k: 4, n_repeats: 3, seed: s })), "RepeatedKFold"),
        (
            Box::new(|s| Box::new(RepeatedStratifiedKFold { k: 4, n_repeats: 3, seed: s })),
            "RepeatedStratifiedKFold",
        ),
        (
            Box::new(|s| Box::new(ShuffleSplit { n_splits: 4, test_fraction: 0.3, seed: s })),
            "ShuffleSplit",
        ),
    ];
    for (make, name) in &seeded {
        let a = make(7).splits(&d).unwrap();
        assert_eq!(a, make(7).splits(&d).unwrap(), "{name}: same seed");
        assert_ne!(a, make(8).splits(&d).unwrap(), "{name}: other seed");
    }
    assert_eq!(
        train_test_split(&d, 0.25, 3, true).unwrap(),
        train_test_split(&d, 0.25, 3, true).unwrap()
    );
    assert_ne!(
        train_test_split(&d, 0.25, 3, false).unwrap(),
        train_test_split(&d, 0.25, 4, false).unwrap()
    );
}

#[test]
fn stratified_folds_keep_class_proportions_within_one() {
    for sizes in [vec![30, 12, 8], vec![5, 5], vec![97, 3], vec![10, 11, 12, 13]] {
        let d = classified(&sizes);
        let n = d.n_rows();
        let k = 3.min(*sizes.iter().min().unwrap());
        for splitter in [StratifiedKFold::new(k), StratifiedKFold::shuffled(k, 5)] {
            let splits = splitter.splits(&d).unwrap();
            assert_partitions(&splits, n);
            assert_each_row_tested_once(&splits, n);
            for (c, &size) in sizes.iter().enumerate() {
                let expected = size as f64 / k as f64;
                for s in &splits {
                    let got = count_class(&d, &s.test, c as f64) as f64;
                    assert!(
                        (got - expected).abs() < 1.0,
                        "sizes {sizes:?} class {c}: {got} vs {expected}"
                    );
                }
            }
            let lens: Vec<usize> = splits.iter().map(|s| s.test.len()).collect();
            assert!(lens.iter().max().unwrap() - lens.iter().min().unwrap() <= 1, "{lens:?}");
        }
    }
}

#[test]
fn repeated_kfolds_are_k_times_repeats_and_each_repeat_partitions() {
    let d = classified(&[20, 10]);
    let n = d.n_rows();
    let splits = RepeatedKFold { k: 5, n_repeats: 3, seed: 1 }.splits(&d).unwrap();
    assert_eq!(splits.len(), 15);
    for rep in splits.chunks(5) {
        assert_partitions(rep, n);
        assert_each_row_tested_once(rep, n);
    }
    assert_ne!(splits[..5], splits[5..10], "repeats differ");
    let splits = RepeatedStratifiedKFold { k: 5, n_repeats: 2, seed: 1 }.splits(&d).unwrap();
    assert_eq!(splits.len(), 10);
    for rep in splits.chunks(5) {
        assert_each_row_tested_once(rep, n);
        for s in rep {
            assert_eq!(count_class(&d, &s.test, 0.0), 4);
            assert_eq!(count_class(&d, &s.test, 1.0), 2);
        }
    }
    assert_ne!(splits[..5], splits[5..10], "repeats differ");
}

#[test]
fn shuffle_split_sizes() {
    let splits =
        ShuffleSplit { n_splits: 6, test_fraction: 0.25, seed: 9 }.splits(&plain(10)).unwrap();
    assert_eq!(splits.len(), 6);
    assert_partitions(&splits, 10);
    // ceil(0.25 × 10) = 3 test rows, as scikit-learn rounds.
    assert!(splits.iter().all(|s| s.test.len() == 3 && s.train.len() == 7));
}

#[test]
fn train_test_split_sizes_and_stratification() {
    let d = classified(&[60, 30, 10]);
    let s = train_test_split(&d, 0.2, 0, false).unwrap();
    assert_partitions(std::slice::from_ref(&s), 100);
    assert_eq!(s.test.len(), 20);
    let s = train_test_split(&d, 0.2, 0, true).unwrap();
    assert_partitions(std::slice::from_ref(&s), 100);
    assert_eq!(
        (
            count_class(&d, &s.test, 0.0),
            count_class(&d, &s.test, 1.0),
            count_class(&d, &s.test, 2.0)
        ),
        (12, 6, 2)
    );
    // Uneven quotas: 0.3 × 7 = 2.1 → 3 test rows; class quotas 3×4/7 = 1.71, 3×3/7 = 1.29.
    let d = classified(&[4, 3]);
    let s = train_test_split(&d, 0.3, 1, true).unwrap();
    assert_eq!(s.test.len(), 3);
    assert_eq!((count_class(&d, &s.test, 0.0), count_class(&d, &s.test, 1.0)), (2, 1));
    let s = train_test_split_n(9, 0.5, 2).unwrap();
    assert_eq!((s.train.len(), s.test.len()), (4, 5));
}

#[test]
fn group_kfold_keeps_groups_apart() {
    let n = 40;
    // 9 groups of uneven sizes.
    let groups: Vec<u64> =
        (0..n).map(|i| [3, 1, 4, 1, 5, 9, 2, 6, 5][i % 9] * 10 + (i % 9) as u64).collect();
    let d = plain(n).with_groups(groups.clone()).unwrap();
    let splits = GroupKFold { k: 4 }.splits(&d).unwrap();
    assert_eq!(splits.len(), 4);
    assert_partitions(&splits, n);
    assert_each_row_tested_once(&splits, n);
    for s in &splits {
        for &i in &s.test {
            assert!(
                s.train.iter().all(|&j| groups[j] != groups[i]),
                "group {} on both sides",
                groups[i]
            );
        }
    }
    // Greedy balancing: with 9 groups of 4–5 rows the folds hold 9 to 14 rows.
    let lens: Vec<usize> = splits.iter().map(|s| s.test.len()).collect();
    assert!(lens.iter().all(|&l| (8..=14).contains(&l)), "{lens:?}");
    assert_eq!(splits, GroupKFold { k: 4 }.splits(&d).unwrap());
}

#[test]
fn time_series_split_trains_on_the_past_only() {
    let splits = TimeSeriesSplit { n_splits: 3 }.splits(&plain(10)).unwrap();
    // As scikit-learn: test blocks of 10 / 4 = 2 rows, the first train block takes the rest.
    let expect = [(0..4, 4..6), (0..6, 6..8), (0..8, 8..10)];
    for (s, (tr, te)) in splits.iter().zip(expect) {
        assert_eq!(s.train, tr.collect::<Vec<_>>());
        assert_eq!(s.test, te.collect::<Vec<_>>());
    }
    for n in [3usize, 11, 50] {
        for k in 2..n.min(8) {
            for s in (TimeSeriesSplit { n_splits: k }).splits(&plain(n)).unwrap() {
                assert!(!s.test.is_empty() && !s.train.is_empty());
                assert!(s.train.iter().max() < s.test.iter().min(), "train before test");
            }
        }
    }
}

#[test]
fn bad_settings_are_refused_with_the_problem_named() {
    let d = plain(5);
    let m = err_text(KFold::new(1).splits(&d));
    assert!(m.contains("k = 1") && m.contains("at least 2 folds"), "{m}");
    let m = err_text(KFold::new(6).splits(&d));
    assert!(m.contains("k = 6 folds but the data has only 5 records"), "{m}");
    let m = err_text(RepeatedKFold { k: 6, n_repeats: 2, seed: 0 }.splits(&d));
    assert!(m.contains("only 5 records"), "{m}");
    let m = err_text(RepeatedKFold { k: 2, n_repeats: 0, seed: 0 }.splits(&d));
    assert!(m.contains("n_repeats"), "{m}");
    for f in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
        let m = err_text(train_test_split(&d, f, 0, false));
        assert!(m.contains("test_fraction") && m.contains("between 0 and 1"), "{m}");
        let m = err_text(ShuffleSplit { n_splits: 2, test_fraction: f, seed: 0 }.splits(&d));
        assert!(m.contains("test_fraction"), "{m}");
    }
    let m = err_text(train_test_split(&d, 0.9, 0, false));
    assert!(m.contains("both sides need at least one"), "{m}");
    let m = err_text(ShuffleSplit { n_splits: 0, test_fraction: 0.5, seed: 0 }.splits(&d));
    assert!(m.contains("n_splits"), "{m}");

    let d = classified(&[10, 2]);
    let m = err_text(StratifiedKFold::new(3).splits(&d));
    assert!(
        m.contains("class 1 has only 2 member(s) but 3 folds") && m.contains("at most 2 folds"),
        "{m}"
    );
    let m = err_text(RepeatedStratifiedKFold { k: 3, n_repeats: 2, seed: 0 }.splits(&d));
    assert!(m.contains("class 1 has only 2"), "{m}");
    let m = err_text(train_test_split(&classified(&[10, 1]), 0.2, 0, true));
    assert!(m.contains("class 1 has only 1 member(s) but a stratified hold-out needs 2"), "{m}");
    let continuous = Dataset::new(vec![vec![0.0]; 6], vec![0.5, 1.5, 2.5, 3.5, 4.5, 5.5]).unwrap();
    let m = err_text(StratifiedKFold::new(2).splits(&continuous));
    assert!(m.contains("class 0.5 has only 1") && m.contains("target continuous"), "{m}");

    let m = err_text(GroupKFold { k: 2 }.splits(&plain(6)));
    assert!(m.contains("no groups") && m.contains("with_groups"), "{m}");
    let d = plain(6).with_groups(vec![1, 1, 2, 2, 2, 1]).unwrap();
    let m = err_text(GroupKFold { k: 3 }.splits(&d));
    assert!(m.contains("only 2 distinct groups"), "{m}");

    let m = err_text(TimeSeriesSplit { n_splits: 5 }.splits(&plain(5)));
    assert!(m.contains("n_splits = 5") && m.contains("at most 4 splits"), "{m}");
    let m = err_text(TimeSeriesSplit { n_splits: 1 }.splits(&plain(5)));
    assert!(m.contains("at least 2"), "{m}");
}

#[test]
fn splitters_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<KFold>();
    check::<StratifiedKFold>();
    check::<GroupKFold>();
    check::<TimeSeriesSplit>();
    check::<ShuffleSplit>();
    check::<Split>();
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A dataset with the given class sizes and group labels `0..groups_mod` spread over rows.
    fn dataset(sizes: &[usize], groups_mod: u64) -> Dataset {
        let d = classified(sizes);
        let groups = (0..d.n_rows() as u64).map(|i| (i * 7 + i / 3) % groups_mod).collect();
        d.with_groups(groups).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn kfold_variants_partition_and_cover(
            sizes in proptest::collection::vec(1usize..30, 1..4),
            k in 2usize..7,
            seed in any::<u64>(),
        ) {
            let d = dataset(&sizes, 5);
            let n = d.n_rows();
            prop_assume!(k <= n);
            for s in [KFold::new(k), KFold::shuffled(k, seed)] {
                let splits = s.splits(&d).unwrap();
                assert_partitions(&splits, n);
                assert_each_row_tested_once(&splits, n);
            }
            let min_class = *sizes.iter().min().unwrap();
            let strat = StratifiedKFold::shuffled(k, seed).splits(&d);
            if min_class < k {
                prop_assert!(strat.is_err());
            } else {
                let splits = strat.unwrap();
                assert_partitions(&splits, n);
                assert_each_row_tested_once(&splits, n);
                for (c, &size) in sizes.iter().enumerate() {
                    for s in &splits {
                        let got = count_class(&d, &s.test, c as f64) as f64;
                        prop_assert!((got - size as f64 / k as f64).abs() < 1.0);
                    }
                }
                prop_assert_eq!(splits, StratifiedKFold::shuffled(k, seed).splits(&d).unwrap());
            }
            let groups = d.groups().unwrap().to_vec();
            if let Ok(splits) = (GroupKFold { k }).splits(&d) {
                assert_partitions(&splits, n);
                assert_each_row_tested_once(&splits, n);
                for s in &splits {
                    for &i in &s.test {
                        prop_assert!(s.train.iter().all(|&j| groups[j] != groups[i]));
                    }
                }
            } else {
                let mut distinct = groups.clone();
                distinct.sort_unstable();
                distinct.dedup();
                prop_assert!(distinct.len() < k);
            }
        }

        #[test]
        fn holdouts_have_the_asked_size(
            sizes in proptest::collection::vec(2usize..30, 1..4),
            fraction in 0.05f64..0.95,
            seed in any::<u64>(),
            stratify in any::<bool>(),
        ) {
            let d = dataset(&sizes, 3);
            let n = d.n_rows();
            let n_test = (fraction * n as f64).ceil() as usize;
            match train_test_split(&d, fraction, seed, stratify) {
                Ok(s) => {
                    assert_partitions(std::slice::from_ref(&s), n);
                    prop_assert_eq!(s.test.len(), n_test);
                    if stratify {
                        for (c, &size) in sizes.iter().enumerate() {
                            let want = n_test as f64 * size as f64 / n as f64;
                            let got = count_class(&d, &s.test, c as f64) as f64;
                            prop_assert!((got - want).abs() < 1.0, "class {} {} vs {}", c, got, want);
                        }
                    }
                }
                Err(_) => prop_assert!(n_test == 0 || n_test >= n),
            }
        }

        #[test]
        fn time_series_trains_before_testing(n in 3usize..200, s in 2usize..10) {
            let d = plain(n);
            match (TimeSeriesSplit { n_splits: s }).splits(&d) {
                Ok(splits) => {
                    prop_assert_eq!(splits.len(), s);
                    for w in splits.windows(2) {
                        prop_assert!(w[0].train.len() < w[1].train.len());
                    }
                    for sp in &splits {
                        prop_assert!(sp.train.iter().max() < sp.test.iter().min());
                    }
                    prop_assert_eq!(*splits[s - 1].test.last().unwrap(), n - 1);
                }
                Err(_) => prop_assert!(s + 1 > n),
            }
        }
    }
}

//! Reproducibility: a seed gives the same trials on every run, platform and thread count.
//!
//! The golden values below were printed by the first run of this test. If they change, seeded
//! studies of every user change with them: that is a breaking change to announce, not a test to
//! update quietly.

use std::collections::BTreeMap;

use tunewise_core::prelude::*;

const SEED: u64 = 20261127;

/// One trial's values; floats by their bits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Values {
    x: u64,
    lr: u64,
    dropout: u64,
    layers: i64,
    units: i64,
    optimizer: String,
}

fn objective(t: &mut Trial) -> Result<Values, TrialError> {
    Ok(Values {
        x: t.suggest_float("x", -10.0, 10.0)?.to_bits(),
        lr: t.suggest_float_log("lr", 1e-5, 1e-1)?.to_bits(),
        dropout: t.suggest_float_step("dropout", 0.0, 0.5, 0.1)?.to_bits(),
        layers: t.suggest_int("layers", 1, 8)?,
        units: t.suggest_int_log("units", 1, 1024)?,
        optimizer: t.suggest_categorical("optimizer", &["adam", "sgd", "rmsprop"])?.to_owned(),
    })
}

/// Runs `n` trials and returns each trial's values by number.
fn run(study: &Study, n: usize, threads: usize) -> BTreeMap<u64, Values> {
    let seen = std::sync::Mutex::new(BTreeMap::new());
    study
        .optimize_parallel(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let v = objective(t)?;
                let score = f64::from_bits(v.x).abs() + v.layers as f64;
                seen.lock().unwrap().insert(t.number(), v);
                Ok(score)
            },
            Budget::trials(n),
            threads,
        )
        .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), n);
    // What the objective saw is what was stored.
    for t in study.trials().unwrap() {
        let v = &seen[&t.number];
        assert_eq!(t.param_value("x"), Some(ParamValue::Float(f64::from_bits(v.x))));
        assert_eq!(t.param_value("units"), Some(ParamValue::Int(v.units)));
        assert_eq!(t.param_value("optimizer"), Some(ParamValue::from(v.optimizer.as_str())));
    }
    seen
}

fn golden(x: u64, lr: u64, dropout: u64, layers: i64, units: i64, optimizer: &str) -> Values {
    Values { x, lr, dropout, layers, units, optimizer: optimizer.to_owned() }
}

#[test]
fn a_seeded_random_study_gives_the_golden_values() {
    let study = Study::builder().sampler(RandomSampler::with_seed(SEED)).create().unwrap();
    let seen = run(&study, 5, 1);
    // x = -3.119769384780115, lr = 0.03790004017302842, dropout = 0.4, …
    let expected = [
        golden(
            0xc008_f549_a6b5_8a84,
            0x3fa3_67a2_521e_d834,
            0x3fd9_9999_9999_999a,
            2,
            36,
            "rmsprop",
        ),
        golden(0x4016_880d_3671_c6c4, 0x3fb8_ad86_eded_a644, 0x3fd3_3333_3333_3334, 4, 1, "sgd"),
        golden(
            0xc010_3288_15d1_afbe,
            0x3f70_4178_0e6c_7468,
            0x3fb9_9999_9999_999a,
            4,
            1,
            "rmsprop",
        ),
        golden(
            0x4010_e860_a240_8100,
            0x3ef8_3446_8df5_a973,
            0x3fd9_9999_9999_999a,
            2,
            13,
            "rmsprop",
        ),
        golden(0xbff6_aff2_f03f_b348, 0x3f78_03f6_e43b_e12d, 0x3fd3_3333_3333_3334, 5, 792, "sgd"),
    ];
    for (n, want) in expected.iter().enumerate() {
        assert_eq!(&seen[&(n as u64)], want, "trial {n} differs from the golden values");
    }
    assert_eq!(f64::from_bits(expected[0].x), -3.119769384780115);
    assert_eq!(f64::from_bits(expected[0].dropout), 0.4);
}

#[test]
fn the_same_seed_gives_the_same_fifty_trials() {
    let random = |seed| Study::builder().sampler(RandomSampler::new()).seed(seed);
    let first = run(&random(SEED).create().unwrap(), 50, 1);
    let second = run(&random(SEED).create().unwrap(), 50, 1);
    assert_eq!(first, second);
    // The builder's seed and the sampler's seed are the same thing.
    let sampler = RandomSampler::with_seed(SEED);
    let third = run(&Study::builder().sampler(sampler).create().unwrap(), 50, 1);
    assert_eq!(first, third);
    // And the seed matters.
    let other = run(&random(SEED + 1).create().unwrap(), 50, 1);
    assert_ne!(first, other);
    // The default sampler (the automatic one) is seeded by the builder too.
    let auto = run(&Study::builder().seed(SEED).create().unwrap(), 30, 1);
    assert_eq!(auto, run(&Study::builder().seed(SEED).create().unwrap(), 30, 1));
}

#[test]
fn the_random_sampler_gives_the_same_trials_on_four_threads() {
    // Each value depends only on the seed, the trial number and the parameter's name.
    let random = || Study::builder().sampler(RandomSampler::with_seed(SEED));
    let serial = run(&random().create().unwrap(), 40, 1);
    let parallel = run(&random().create().unwrap(), 40, 4);
    assert_eq!(serial, parallel);
}

//! Property tests of distributions: the external ↔ internal transforms, snapping, grids and
//! uniform sampling, over random valid distributions.

use proptest::prelude::*;
use tunewise_core::rng::Rng;
use tunewise_core::samplers::sample_uniform;
use tunewise_core::{Distribution, ParamValue};

/// A float range written the way people write them: decimal bounds and steps
/// (`0.0, 0.3, step 0.1`), whose binary values do not add up exactly.
fn decimal_step() -> impl Strategy<Value = (f64, f64, f64, u64)> {
    (-1000_i64..1000, 1_i64..100, 0_u64..200, 0_i32..4).prop_map(|(a, s, n, digits)| {
        let scale = 10_f64.powi(digits);
        let (low, step) = (a as f64 / scale, s as f64 / scale);
        let high = (a + n as i64 * s) as f64 / scale;
        (low, high, step, n)
    })
}

fn float_uniform() -> impl Strategy<Value = Distribution> {
    (-1e6_f64..1e6, prop_oneof![Just(0.0), 1e-9_f64..1e6])
        .prop_map(|(low, width)| Distribution::float(low, low + width))
}

fn float_log() -> impl Strategy<Value = Distribution> {
    (-12_i32..6, 0.0_f64..12.0, 1.0_f64..10.0).prop_map(|(e, decades, m)| {
        let low = m * 10_f64.powi(e);
        Distribution::float_log(low, low * 10_f64.powf(decades))
    })
}

fn float_step() -> impl Strategy<Value = Distribution> {
    decimal_step().prop_map(|(low, high, step, _)| Distribution::float_step(low, high, step))
}

fn int_uniform() -> impl Strategy<Value = Distribution> {
    (-1_000_000_i64..1_000_000, 0_i64..100_000).prop_map(|(low, w)| Distribution::int(low, low + w))
}

fn int_log() -> impl Strategy<Value = Distribution> {
    (1_i64..10_000, 0_i64..1_000_000).prop_map(|(low, w)| Distribution::int_log(low, low + w))
}

fn int_step() -> impl Strategy<Value = Distribution> {
    (-10_000_i64..10_000, 1_i64..100, 0_i64..500)
        .prop_map(|(low, step, n)| Distribution::int_step(low, low + n * step, step))
}

fn choice() -> impl Strategy<Value = ParamValue> {
    prop_oneof![
        any::<bool>().prop_map(ParamValue::Bool),
        any::<i64>().prop_map(ParamValue::Int),
        any::<f64>().prop_filter("finite", |x| !x.is_nan()).prop_map(ParamValue::Float),
        "[a-z]{0,6}".prop_map(ParamValue::from),
    ]
}

/// Equality of values, floats by bits (0.0 and -0.0 are two choices).
fn same(a: &ParamValue, b: &ParamValue) -> bool {
    match (a, b) {
        (ParamValue::Float(x), ParamValue::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

fn categorical() -> impl Strategy<Value = Distribution> {
    proptest::collection::vec(choice(), 1..12).prop_map(|mut choices| {
        let mut unique: Vec<ParamValue> = Vec::new();
        for c in choices.drain(..) {
            if !unique.iter().any(|u| same(u, &c)) {
                unique.push(c);
            }
        }
        Distribution::categorical(unique)
    })
}

fn any_distribution() -> impl Strategy<Value = Distribution> {
    prop_oneof![
        float_uniform(),
        float_log(),
        float_step(),
        int_uniform(),
        int_log(),
        int_step(),
        categorical(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_distributions_are_valid(d in any_distribution()) {
        prop_assert!(d.validate("p").is_ok(), "{d}: {:?}", d.validate("p"));
    }

    #[test]
    fn int_values_round_trip_exactly(d in prop_oneof![int_uniform(), int_log(), int_step()],
                                     t in 0.0_f64..=1.0) {
        let Distribution::Int(i) = &d else { unreachable!() };
        let n = (i.high - i.low) / i.step;
        let x = i.low + ((n as f64 * t).round() as i64) * i.step;
        let internal = d.to_internal(&ParamValue::Int(x));
        prop_assert_eq!(internal, Some(x as f64));
        prop_assert_eq!(d.to_external(x as f64), ParamValue::Int(x));
        for bound in [i.low, i.high] {
            let internal = d.to_internal(&ParamValue::Int(bound));
            prop_assert_eq!(internal.map(|v| d.to_external(v)), Some(ParamValue::Int(bound)));
        }
    }

    #[test]
    fn stepped_float_values_round_trip_exactly((low, high, step, n) in decimal_step(),
                                               t in 0.0_f64..=1.0) {
        let d = Distribution::float_step(low, high, step);
        prop_assert!(d.validate("p").is_ok());
        // Every grid point as a user computes it, and both bounds as written.
        let k = (n as f64 * t).round();
        for x in [low + k * step, low, high] {
            let internal = d.to_internal(&ParamValue::Float(x));
            prop_assert!(internal.is_some(), "{x} refused by {d}");
            let back = d.to_external(internal.unwrap_or(f64::NAN));
            let Some(back) = back.as_f64() else { panic!("{d} gave a non-float") };
            // The one value snapping may move is the last grid point: `high` as written.
            prop_assert!(back == x || (back == high && (x - high).abs() <= step * 1e-6),
                         "{x} came back as {back} in {d}");
            prop_assert_eq!(d.to_internal(&ParamValue::Float(back)), Some(back));
        }
    }

    #[test]
    fn categorical_values_round_trip_exactly(d in categorical()) {
        let Distribution::Categorical(c) = &d else { unreachable!() };
        for (i, choice) in c.choices.iter().enumerate() {
            prop_assert_eq!(d.to_internal(choice), Some(i as f64));
            prop_assert!(same(&d.to_external(i as f64), choice));
        }
    }

    #[test]
    fn snapping_is_idempotent(d in any_distribution(),
                              x in prop_oneof![-1e7_f64..1e7, any::<f64>()
                                  .prop_filter("finite", |x| x.is_finite())]) {
        let once = d.snap_internal(x);
        prop_assert_eq!(d.snap_internal(once).to_bits(), once.to_bits(), "{} in {}", x, d);
        prop_assert!(d.contains_internal(once), "{x} snapped to {once}, outside {d}");
    }

    #[test]
    fn any_finite_internal_value_maps_inside(d in any_distribution(),
                                             x in prop_oneof![-1e7_f64..1e7, any::<f64>()
                                                 .prop_filter("finite", |x| x.is_finite())]) {
        let value = d.to_external(x);
        let internal = d.to_internal(&value);
        prop_assert!(internal.is_some(), "{x} gave {value}, outside {d}");
        prop_assert!(d.contains_internal(internal.unwrap_or(f64::NAN)));
        if let (Distribution::Float(f), Some(v)) = (&d, value.as_f64()) {
            prop_assert!(v >= f.low && v <= f.high, "{x} gave {v}, outside {d}");
        }
    }

    #[test]
    fn grid_points_are_contained_and_increasing(d in any_distribution(), n in 1_usize..40) {
        let points = d.grid_points(n);
        prop_assert!(!points.is_empty());
        for p in &points {
            prop_assert!(d.contains_internal(*p), "grid point {p} outside {d}");
        }
        prop_assert!(points.windows(2).all(|w| w[0] < w[1]), "{points:?} not increasing");
        if let Some(card) = d.cardinality() {
            if card as usize <= n {
                prop_assert_eq!(points.len() as u64, card, "a small range gives every value");
            }
        }
    }

    #[test]
    fn uniform_samples_stay_inside(d in any_distribution(), seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        for _ in 0..16 {
            let x = sample_uniform(&mut rng, &d);
            prop_assert!(d.contains_internal(x), "sampled {x} outside {d}");
            prop_assert_eq!(d.snap_internal(x).to_bits(), x.to_bits(), "{} is not snapped", x);
        }
    }
}

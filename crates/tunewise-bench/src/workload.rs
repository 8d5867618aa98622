//! The engine benchmark's workload: ten parameters of every kind and a trivial objective, so
//! that what is measured is the engine, not the objective.

use tunewise_core::{Budget, FrozenTrial, ParamValue, RandomSampler, Study, Trial, TrialError};

/// Seed of the random sampler in the engine benchmarks.
pub const SEED: u64 = 42;

const ACTIVATIONS: [&str; 3] = ["relu", "tanh", "gelu"];
const OPTIMIZERS: [&str; 4] = ["adam", "sgd", "rmsprop", "adagrad"];

/// Suggests ten parameters — three uniform floats, two log-scaled floats, two uniform ints, a
/// log-scaled int and two string categoricals — and returns their sum (a categorical counts its
/// choice's length).
pub fn ten_params(trial: &mut Trial) -> Result<f64, TrialError> {
    let mut sum = trial.suggest_float("x0", -10.0, 10.0)?;
    sum += trial.suggest_float("x1", 0.0, 1.0)?;
    sum += trial.suggest_float("dropout", 0.0, 0.5)?;
    sum += trial.suggest_float_log("lr", 1e-5, 1e-1)?;
    sum += trial.suggest_float_log("weight_decay", 1e-6, 1e-2)?;
    sum += trial.suggest_int("epochs", 1, 100)? as f64;
    sum += trial.suggest_int("layers", 1, 8)? as f64;
    sum += trial.suggest_int_log("units", 8, 1024)? as f64;
    sum += trial.suggest_categorical("activation", &ACTIVATIONS)?.len() as f64;
    sum += trial.suggest_categorical("optimizer", &OPTIMIZERS)?.len() as f64;
    Ok(sum)
}

/// The names [`ten_params`] suggests, in the order it adds them.
pub const TEN_PARAMS: [&str; 10] = [
    "x0",
    "x1",
    "dropout",
    "lr",
    "weight_decay",
    "epochs",
    "layers",
    "units",
    "activation",
    "optimizer",
];

/// [`ten_params`]'s value recomputed from a stored trial's parameters, in the order it adds
/// them (so the sum is bit-identical): a check that a storage returned the trial it was given.
pub fn ten_params_value(trial: &FrozenTrial) -> Option<f64> {
    let mut sum = 0.0;
    for name in TEN_PARAMS {
        sum += match trial.param_value(name)? {
            ParamValue::Float(v) => v,
            ParamValue::Int(v) => v as f64,
            ParamValue::Str(s) => s.len() as f64,
            ParamValue::Bool(_) => return None,
        };
    }
    Some(sum)
}

/// A new study with the seeded random sampler and in-memory storage.
pub fn new_study() -> tunewise_core::Result<Study> {
    Study::builder().minimize().sampler(RandomSampler::with_seed(SEED)).create()
}

/// A study of the workload holding `trials` completed trials.
pub fn prefilled_study(trials: usize) -> tunewise_core::Result<Study> {
    let study = new_study()?;
    if trials > 0 {
        study.optimize(ten_params, Budget::trials(trials))?;
    }
    Ok(study)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunewise_core::TrialState;

    #[test]
    fn ten_params_completes_with_ten_parameters() {
        let study = prefilled_study(50).unwrap();
        let trials = study.trials().unwrap();
        assert_eq!(trials.len(), 50);
        for t in trials {
            assert_eq!(t.state, TrialState::Complete);
            assert_eq!(t.params.len(), 10);
        }
    }
}

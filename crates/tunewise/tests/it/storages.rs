//! Studies moved between backends opened by URL: memory, SQLite and (when
//! `TUNEWISE_TEST_POSTGRES_URL` is set and the `postgres` feature is on) PostgreSQL.

use std::sync::Arc;

use tunewise::prelude::*;
use tunewise::storage::{copy_study, delete_study_by_name, open, Storage};

fn objective(t: &mut Trial) -> Result<f64, TrialError> {
    let x = t.suggest_float("x", -3.0, 3.0)?;
    let n = t.suggest_int_log("n", 1, 64)?;
    let kind = t.suggest_categorical("kind", &["a", "b"])?;
    t.report(0, x)?;
    if kind == "b" {
        t.set_user_attr("branch", "b")?;
    }
    Ok(x * x + n as f64)
}

/// Runs a study in `from`, copies it to `to`, and checks every trial arrived unchanged.
fn round_trip(from: &Arc<dyn Storage>, to: &Arc<dyn Storage>, name: &str) {
    let study = Study::builder().name(name).storage(from.clone()).seed(5).create().unwrap();
    study.optimize(objective, Budget::trials(25)).unwrap();
    study.enqueue_trial([("x", 1.0)]).unwrap();
    copy_study(&**from, name, &**to, None).unwrap();
    let copied = Study::builder().name(name).storage(to.clone()).load().unwrap();
    let (a, b) = (study.trials().unwrap(), copied.trials().unwrap());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.number, y.number);
        assert_eq!(x.state, y.state);
        assert_eq!(x.values, y.values);
        assert_eq!(x.params, y.params);
        assert_eq!(x.fixed_params, y.fixed_params);
        assert_eq!(x.intermediate_values, y.intermediate_values);
        assert_eq!(x.user_attrs, y.user_attrs);
    }
    assert_eq!(study.best_trial().unwrap().number, copied.best_trial().unwrap().number);
    // The copy resumes: its enqueued trial runs first.
    copied.optimize(objective, Budget::trials(2)).unwrap();
    assert_eq!(copied.trial(25).unwrap().param_value("x"), Some(ParamValue::Float(1.0)));
    delete_study_by_name(&**to, name).unwrap();
    assert!(to.find_study(name).unwrap().is_none());
}

#[test]
fn studies_copy_between_memory_and_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let memory = open("memory").unwrap();
    let sqlite = open(&format!("sqlite://{}", dir.path().join("a.db").display())).unwrap();
    round_trip(&memory, &sqlite, "mem-to-sqlite");
    round_trip(&sqlite, &memory, "sqlite-to-mem");
}

#[cfg(feature = "postgres")]
#[test]
fn studies_copy_between_sqlite_and_postgres() {
    let Ok(url) = std::env::var("TUNEWISE_TEST_POSTGRES_URL") else {
        eprintln!("skipped: TUNEWISE_TEST_POSTGRES_URL is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = open(dir.path().join("b.db").to_str().unwrap()).unwrap();
    let postgres = open(&url).unwrap();
    let suffix = format!("{}-{}", std::process::id(), tunewise::rng::Rng::os_seed() % 1_000_000);
    round_trip(&sqlite, &postgres, &format!("sqlite-to-pg-{suffix}"));
    round_trip(&postgres, &sqlite, &format!("pg-to-sqlite-{suffix}"));
    for name in [format!("sqlite-to-pg-{suffix}"), format!("pg-to-sqlite-{suffix}")] {
        let _ = delete_study_by_name(&*postgres, &name);
    }
}

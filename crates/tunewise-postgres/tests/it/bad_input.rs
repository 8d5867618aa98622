//! Bad input gets a clear error, fast, and changes nothing stored.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tunewise_core::rng::Rng;
use tunewise_core::{Budget, Direction, Error, Storage, Study, TrialError};
use tunewise_postgres::PostgresStorage;

use crate::common;

#[test]
fn an_unreachable_server_fails_fast_and_clearly() {
    // A port nothing listens on: bound, then closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("address").port()
    };
    let url = format!("postgres://postgres@127.0.0.1:{port}/test");
    let started = Instant::now();
    let r = PostgresStorage::connect(&url);
    let took = started.elapsed();
    let Err(Error::Storage(message)) = r else { panic!("expected a storage error, got {r:?}") };
    eprintln!("unreachable server: {message}");
    assert!(
        message.contains("cannot reach PostgreSQL") && message.contains(&port.to_string()),
        "{message}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?} to fail");
}

#[test]
fn a_url_that_does_not_parse_says_what_is_expected() {
    let r = PostgresStorage::connect("postgres://u@h:notaport/db");
    assert!(
        matches!(&r, Err(Error::StorageUrl { reason, .. }) if reason.contains("postgres://USER")),
        "{r:?}"
    );
    let r = PostgresStorage::connect("postgres://u:hunter2@h:notaport/db");
    assert!(!format!("{r:?}").contains("hunter2"), "the password leaked into the error: {r:?}");
    let r = PostgresStorage::builder("postgres://u@localhost/db").max_connections(0).connect();
    assert!(matches!(&r, Err(Error::InvalidConfig(m)) if m.contains("max_connections")), "{r:?}");
}

#[cfg(not(feature = "tls"))]
#[test]
fn tls_without_the_feature_names_the_feature() {
    let r = PostgresStorage::connect("postgres://u@localhost/db?sslmode=require");
    assert!(
        matches!(&r, Err(Error::StorageUrl { reason, .. }) if reason.contains("feature `tls`")),
        "{r:?}"
    );
}

#[test]
fn a_wrong_database_name_says_so() {
    let Some(url) = common::url("a_wrong_database_name_says_so") else { return };
    let mut config: postgres::Config = url.parse().expect("the test URL");
    let missing = format!("tunewise_missing_{:x}", Rng::os_seed());
    config.dbname(&missing);
    let user = config.get_user().unwrap_or("postgres").to_owned();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let url = format!("postgres://{user}@127.0.0.1:{port}/{missing}");
    let r = PostgresStorage::connect(&url);
    let Err(Error::Storage(message)) = r else { panic!("expected a storage error, got {r:?}") };
    eprintln!("wrong database: {message}");
    assert!(message.contains(&missing) && message.contains("createdb"), "{message}");
}

#[test]
fn a_newer_schema_is_refused_and_left_unchanged() {
    let Some(url) = common::url("a_newer_schema_is_refused_and_left_unchanged") else { return };
    // A PostgreSQL schema of its own, so that the shared tables are not touched.
    let schema = format!("tunewise_newer_{:x}", Rng::os_seed());
    let s = PostgresStorage::builder(&url).schema(&schema).connect().expect("create the schema");
    let st = s.create_study("kept", &[Direction::Minimize]).expect("create");
    s.start_trial(st.id, "w", None).expect("a trial");
    drop(s);

    let mut raw = postgres::Client::connect(&url, postgres::NoTls).expect("a raw connection");
    raw.batch_execute(&format!("UPDATE {schema}.tunewise_schema_version SET version = 99"))
        .expect("pretend a newer tunewise wrote it");
    let r = PostgresStorage::builder(&url).schema(&schema).connect();
    let outcome = format!("{r:?}");
    let counts = raw
        .query_one(
            &format!(
                "SELECT (SELECT max(version) FROM {schema}.tunewise_schema_version), \
                        (SELECT count(*) FROM {schema}.tunewise_studies), \
                        (SELECT count(*) FROM {schema}.tunewise_trials)"
            ),
            &[],
        )
        .map(|row| (row.get::<_, i32>(0), row.get::<_, i64>(1), row.get::<_, i64>(2)));
    raw.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).expect("clean up");
    let Err(Error::Storage(message)) = r else {
        panic!("a newer schema must be refused: {outcome}")
    };
    eprintln!("newer schema: {message}");
    assert!(message.contains("version 99") && message.contains("upgrade"), "{message}");
    assert_eq!(counts.expect("read back"), (99, 1, 1), "a refused open changed the database");
}

#[test]
fn loading_a_missing_study_or_creating_a_taken_name_fails_and_changes_nothing() {
    let test = "loading_a_missing_study_or_creating_a_taken_name_fails_and_changes_nothing";
    let Some(url) = common::url(test) else { return };
    let storage: Arc<dyn Storage> = common::storage(&url);
    let missing = common::unique("missing");
    let r = Study::builder().name(&missing).storage(storage.clone()).load();
    assert!(matches!(&r, Err(Error::StudyNotFound(n)) if *n == missing), "{r:?}");
    assert!(storage.find_study(&missing).expect("find").is_none(), "loading created a study");

    let name = common::unique("taken");
    let study =
        Study::builder().name(&name).maximize().storage(storage.clone()).create().expect("create");
    study
        .optimize(|t| Ok::<f64, TrialError>(t.suggest_float("x", 0.0, 1.0)?), Budget::trials(3))
        .expect("optimize");
    let before = study.trials().expect("trials");
    let r = Study::builder().name(&name).minimize().storage(storage.clone()).create();
    assert!(matches!(&r, Err(Error::StudyExists(n)) if *n == name), "{r:?}");
    let r = storage.create_study(&name, &[Direction::Minimize]);
    assert!(matches!(&r, Err(Error::StudyExists(n)) if *n == name), "{r:?}");
    let record = storage.find_study(&name).expect("find").expect("still there");
    assert_eq!(record.directions, [Direction::Maximize], "the refused create changed it");
    let after = storage.trials_since(record.id, 0).expect("read").trials;
    assert_eq!(after.len(), before.len());
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(**a, **b, "the refused create changed trial {}", a.number);
    }
    storage.delete_study(record.id).expect("delete");
    let r = storage.delete_study(record.id);
    assert!(matches!(r, Err(Error::StudyNotFound(_))), "{r:?}");
}

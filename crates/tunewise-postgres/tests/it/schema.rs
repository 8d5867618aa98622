//! The schema: created once by concurrent first connects, kept in a PostgreSQL schema of its own
//! when asked.

use tunewise_core::rng::Rng;
use tunewise_core::{Direction, Storage};
use tunewise_postgres::PostgresStorage;

use crate::common;

#[test]
fn concurrent_first_connects_create_the_schema_once() {
    let Some(url) = common::url("concurrent_first_connects_create_the_schema_once") else {
        return;
    };
    let schema = format!("tunewise_race_{:x}", Rng::os_seed());
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (url, schema) = (&url, &schema);
                scope.spawn(move || {
                    let s = PostgresStorage::builder(url).schema(schema).connect()?;
                    s.create_study(&format!("s{i}"), &[Direction::Minimize]).map(|_| ())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a connecting thread panicked")).collect()
    });
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).expect("a raw connection");
    let counts = raw
        .query_one(
            &format!(
                "SELECT (SELECT count(*) FROM {schema}.tunewise_schema_version), \
                        (SELECT count(*) FROM {schema}.tunewise_studies), \
                        (SELECT count(*) FROM public.tunewise_studies WHERE name ~ '^s[0-5]$')"
            ),
            &[],
        )
        .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1), r.get::<_, i64>(2)));
    raw.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).expect("clean up");
    for r in results {
        r.expect("every concurrent first connect succeeds");
    }
    assert_eq!(counts.expect("read back"), (1, 6, 0), "one version row, six studies, all in it");
}

#[test]
fn a_read_only_storage_reads_and_refuses_writes_and_a_missing_schema() {
    let Some(url) =
        common::url("a_read_only_storage_reads_and_refuses_writes_and_a_missing_schema")
    else {
        return;
    };
    let schema = format!("tunewise_ro_{:x}", Rng::os_seed());
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).expect("a raw connection");
    let exists = |raw: &mut postgres::Client| {
        raw.query_one("SELECT count(*) FROM pg_namespace WHERE nspname = $1", &[&schema])
            .map(|r| r.get::<_, i64>(0))
            .expect("read pg_namespace")
    };

    // No schema yet: refused, and nothing is created.
    let err = PostgresStorage::builder(&url).schema(&schema).read_only().connect().unwrap_err();
    assert!(err.to_string().contains("no tunewise schema"), "{err}");
    assert_eq!(exists(&mut raw), 0, "a read-only connect created the schema");

    // A writer makes a study; the reader sees it and its trials, and cannot write.
    let writer = PostgresStorage::builder(&url).schema(&schema).connect().expect("writer");
    let study = writer.create_study("ro", &[Direction::Minimize]).expect("create");
    let reader = PostgresStorage::builder(&url).schema(&schema).read_only().connect();
    let reader = reader.expect("a read-only connect to an existing schema");
    let listed = reader.list_studies().expect("list");
    assert_eq!(listed.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["ro"]);
    assert!(reader.trials_since(study.id, 0).expect("read trials").trials.is_empty());
    let err = reader.create_study("other", &[Direction::Minimize]).unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(writer.find_study("other").expect("find").is_none(), "the refused write landed");
    raw.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).expect("clean up");
}

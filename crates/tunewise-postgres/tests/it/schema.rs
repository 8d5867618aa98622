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

//! The file format: settings, stamping, reopening, and migration from version 0.

use rusqlite::Connection;
use tunewise_core::prelude::*;
use tunewise_sqlite::SCHEMA_VERSION;

use crate::common::{db_path, one_float, open, temp_dir};

fn pragma<T: rusqlite::types::FromSql>(conn: &Connection, name: &str) -> T {
    conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0)).unwrap()
}

#[test]
fn a_new_file_is_a_stamped_wal_database_that_reopens_without_writing() {
    let dir = temp_dir();
    let path = db_path(&dir);
    let storage = open(&path);
    assert_eq!(storage.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(storage.path(), path);
    let conn = Connection::open(&path).unwrap();
    assert_eq!(pragma::<String>(&conn, "journal_mode"), "wal");
    assert_eq!(pragma::<i32>(&conn, "application_id"), 0x5457_5351);
    let versions: Vec<(i64, String)> = conn
        .prepare("SELECT version, tunewise FROM schema_version ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(versions, [(1, env!("CARGO_PKG_VERSION").to_owned())]);
    drop(conn);
    drop(storage);

    let again = open(&path);
    assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(again.commits(), 0, "reopening an up-to-date file writes nothing");
}

#[test]
fn an_empty_file_is_version_zero_and_is_migrated() {
    let dir = temp_dir();
    let path = db_path(&dir);
    std::fs::write(&path, b"").unwrap();
    let storage = open(&path);
    assert_eq!(storage.schema_version().unwrap(), SCHEMA_VERSION);
    let study = Study::builder().name("s").storage(storage).create().unwrap();
    study.optimize(one_float, Budget::trials(2)).unwrap();
    assert_eq!(study.trials().unwrap().len(), 2);
}

#[test]
fn two_handles_on_one_file_run_in_parallel_with_dense_numbers() {
    // Two connections to one file, writing at once: SQLite serializes them, numbers stay dense.
    let dir = temp_dir();
    let path = db_path(&dir);
    let a = open(&path);
    let b = open(&path);
    let study = Study::builder().name("s").storage(a.clone()).create().unwrap();
    let from_b = Study::builder().name("s").storage(b.clone()).load().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| study.optimize(one_float, Budget::trials(20)));
        s.spawn(|| from_b.optimize(one_float, Budget::trials(20)));
    });
    let numbers: Vec<u64> = study.trials().unwrap().iter().map(|t| t.number).collect();
    assert_eq!(numbers, (0..40).collect::<Vec<_>>());
    let conn = Connection::open(&path).unwrap();
    assert_eq!(pragma::<String>(&conn, "integrity_check"), "ok");
    assert_eq!(pragma::<String>(&conn, "journal_mode"), "wal");
}

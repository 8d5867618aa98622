//! The shared storage conformance suite, on SQLite.

use std::sync::Arc;

use tunewise_core::conformance::storage::check_storage;
use tunewise_core::Storage;

use crate::common::{db_path, open, temp_dir};

#[test]
fn sqlite_passes_the_storage_suite_on_a_fresh_file() {
    let dir = temp_dir();
    let storage = open(&db_path(&dir));
    check_storage(&|| storage.clone() as Arc<dyn Storage>);
}

#[test]
fn sqlite_passes_the_storage_suite_with_the_file_reopened_for_each_check() {
    let dir = temp_dir();
    let path = db_path(&dir);
    // Each check gets a new handle on the same file: nothing may depend on one process's cache.
    check_storage(&|| open(&path) as Arc<dyn Storage>);
}

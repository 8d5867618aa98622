//! The shared storage conformance suite, on PostgreSQL.

use std::sync::Arc;

use tunewise_core::conformance::storage::check_storage;
use tunewise_core::Storage;

use crate::common;

#[test]
fn postgres_storage_passes_the_conformance_suite() {
    let Some(url) = common::url("postgres_storage_passes_the_conformance_suite") else { return };
    let storage = common::storage(&url);
    check_storage(&|| storage.clone() as Arc<dyn Storage>);
}

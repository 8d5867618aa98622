//! The integration tests of tunewise-postgres, in one binary (one link on small machines).
//!
//! Tests that need PostgreSQL read its URL from `TUNEWISE_TEST_POSTGRES_URL`; without it they
//! print that they were skipped and pass. Tests that stop or restart a server start a private one
//! with `initdb` / `pg_ctl` on a free port.

#[path = "it/common.rs"]
mod common;

#[path = "it/conformance.rs"]
mod conformance;

#[path = "it/workers.rs"]
mod workers;

#[path = "it/study.rs"]
mod study;

#[path = "it/chaos.rs"]
mod chaos;

#[path = "it/proxy.rs"]
mod proxy;

#[path = "it/robustness.rs"]
mod robustness;

#[path = "it/bad_input.rs"]
mod bad_input;

#[cfg(feature = "tls")]
#[path = "it/tls.rs"]
mod tls;

#[path = "it/schema.rs"]
mod schema;

#[path = "it/incremental.rs"]
mod incremental;

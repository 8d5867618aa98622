//! The dashboard's HTTP interface, driven through its router (no socket): pages, the JSON API,
//! the trial table, CSV, figures, the URL prefix, read-only mode and live updates.

#[path = "it/common.rs"]
mod common;

#[path = "it/api.rs"]
mod api;

#[path = "it/table.rs"]
mod table;

#[path = "it/figures.rs"]
mod figures;

#[path = "it/writes.rs"]
mod writes;

#[path = "it/live.rs"]
mod live;

#[path = "it/sqlite_sharing.rs"]
mod sqlite_sharing;

//! The schema, its version, and the migrations from every earlier version.
//!
//! A database's version is the highest row of its `schema_version` table; an empty file is
//! version 0. `MIGRATIONS[i]` takes a database from version `i` to `i + 1`, so a new version is
//! one more function at the end of the list. Every migration a file needs runs in one
//! transaction: a file is at one version or the next, never half-way.

use rusqlite::{Connection, OptionalExtension};

use crate::codec;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// `PRAGMA application_id` of a tunewise database ("TWSQ"), so that an SQLite file of another
/// program is told apart even when it happens to have a table called `schema_version`.
pub(crate) const APPLICATION_ID: i32 = 0x5457_5351;

/// One step: from version `i` to `i + 1`.
pub(crate) type Migration = fn(&Connection) -> rusqlite::Result<()>;

/// `MIGRATIONS[i]` migrates version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[Migration] = &[v0_to_v1];

/// Version 1: studies, interned parameter keys, trials, intermediate values.
fn v0_to_v1(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE schema_version (
             version INTEGER PRIMARY KEY,
             applied INTEGER NOT NULL,
             tunewise TEXT NOT NULL
         );
         CREATE TABLE studies (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             name TEXT NOT NULL UNIQUE,
             directions TEXT NOT NULL,
             user_attrs TEXT,
             created INTEGER NOT NULL,
             next_number INTEGER NOT NULL DEFAULT 0,
             seq INTEGER NOT NULL DEFAULT 0
         );
         CREATE TABLE param_keys (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             study_id INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
             name TEXT NOT NULL,
             distribution TEXT NOT NULL,
             UNIQUE (study_id, name, distribution)
         );
         CREATE TABLE trials (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             study_id INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
             number INTEGER NOT NULL,
             state TEXT NOT NULL
                 CHECK (state IN ('waiting', 'running', 'complete', 'pruned', 'failed')),
             attempt INTEGER NOT NULL DEFAULT 0,
             worker_id TEXT,
             lease_expires INTEGER,
             params BLOB,
             fixed_params TEXT,
             vals BLOB,
             constraints BLOB,
             user_attrs TEXT,
             fail_reason TEXT,
             datetime_start INTEGER,
             datetime_complete INTEGER,
             reported INTEGER NOT NULL DEFAULT 0,
             seq INTEGER NOT NULL
         );
         CREATE UNIQUE INDEX trials_by_number ON trials (study_id, number);
         CREATE INDEX trials_by_seq ON trials (study_id, seq);
         CREATE INDEX trials_by_state ON trials (study_id, state, number);
         CREATE TABLE intermediate_values (
             trial_id INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
             step INTEGER NOT NULL,
             vals BLOB NOT NULL,
             PRIMARY KEY (trial_id, step)
         ) WITHOUT ROWID;",
    )
}

/// What the 100-byte header of a file says, read with plain file I/O before SQLite opens it (a
/// read-only SQLite connection would already leave `-wal` and `-shm` files beside a WAL file).
///
/// The header of the main file can lag behind a live `-wal` file; that is why everything it
/// accepts is inspected again inside a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Header {
    /// An empty file, or an SQLite file whose schema was never changed.
    Empty,
    /// Not an SQLite file.
    NotSqlite,
    /// A tunewise file at this version (`PRAGMA user_version`, which mirrors `schema_version`).
    Tunewise(u32),
    /// Another program's SQLite file: its application id, and whether it is in WAL mode.
    Foreign { application_id: i32, wal: bool },
}

/// Reads a file's header.
pub(crate) fn header(bytes: &[u8]) -> Header {
    if bytes.is_empty() {
        return Header::Empty;
    }
    if bytes.len() < 100 || &bytes[..16] != b"SQLite format 3\0" {
        return Header::NotSqlite;
    }
    let be =
        |at: usize| i32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let (schema_cookie, user_version, application_id) = (be(40), be(60), be(68));
    let wal = bytes[18] == 2;
    match application_id {
        APPLICATION_ID => Header::Tunewise(user_version.max(0) as u32),
        0 if schema_cookie == 0 => Header::Empty,
        _ => Header::Foreign { application_id, wal },
    }
}

/// What a file holds, read without changing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// A new or empty SQLite file: version 0.
    Empty,
    /// A tunewise database at this version.
    Tunewise(u32),
    /// An SQLite file of something else: its application id and its first few objects.
    Foreign { application_id: i32, objects: Vec<String> },
}

/// Looks at a file without writing to it.
pub(crate) fn inspect(conn: &Connection) -> rusqlite::Result<Found> {
    let application_id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT type || ' ' || name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let objects: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    if application_id == 0 && objects.is_empty() {
        return Ok(Found::Empty);
    }
    if application_id == APPLICATION_ID && objects.iter().any(|o| o == "table schema_version") {
        let version: Option<i64> =
            conn.query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))?;
        return Ok(Found::Tunewise(version.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32));
    }
    Ok(Found::Foreign { application_id, objects: objects.into_iter().take(5).collect() })
}

/// Runs `migrations[from..]` on a connection inside a transaction the caller holds, recording
/// each step in `schema_version`. The caller commits.
pub(crate) fn migrate(
    conn: &Connection,
    from: u32,
    migrations: &[Migration],
) -> rusqlite::Result<()> {
    if from == 0 {
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    conn.pragma_update(None, "user_version", migrations.len() as i64)?;
    for (version, step) in migrations.iter().enumerate().skip(from as usize) {
        step(conn)?;
        conn.execute(
            "INSERT INTO schema_version (version, applied, tunewise) VALUES (?1, ?2, ?3)",
            rusqlite::params![
                version as i64 + 1,
                codec::micros(codec::now()),
                env!("CARGO_PKG_VERSION")
            ],
        )?;
    }
    Ok(())
}

/// The version recorded in a tunewise database, if it has one.
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<Option<u32>> {
    conn.query_row("SELECT max(version) FROM schema_version", [], |r| r.get::<_, Option<u32>>(0))
        .optional()
        .map(Option::flatten)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up version 2, to show that the framework runs only the missing steps.
    fn v1_to_v2(conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch(
            "ALTER TABLE studies ADD COLUMN note TEXT;
             UPDATE studies SET note = 'migrated from v1';",
        )
    }

    fn failing_step(conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch("ALTER TABLE studies ADD COLUMN half TEXT; SELECT * FROM missing;")
    }

    fn v1_database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("BEGIN").unwrap();
        migrate(&conn, 0, MIGRATIONS).unwrap();
        conn.execute(
            "INSERT INTO studies (name, directions, created) VALUES ('s', '[\"minimize\"]', 0)",
            [],
        )
        .unwrap();
        conn.execute_batch("COMMIT").unwrap();
        conn
    }

    #[test]
    fn a_new_database_is_stamped_with_the_current_version() {
        let conn = v1_database();
        assert_eq!(inspect(&conn).unwrap(), Found::Tunewise(SCHEMA_VERSION));
        assert_eq!(version(&conn).unwrap(), Some(SCHEMA_VERSION));
        let app: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap();
        assert_eq!(app, APPLICATION_ID);
        let user_version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(user_version, SCHEMA_VERSION, "the header mirrors the version");
    }

    #[test]
    fn headers_are_told_apart() {
        let mut h = b"SQLite format 3\0".to_vec();
        h.resize(100, 0);
        assert_eq!(header(&h), Header::Empty);
        assert_eq!(header(&[]), Header::Empty);
        assert_eq!(header(&h[..99]), Header::NotSqlite);
        assert_eq!(header(&[b'x'; 200]), Header::NotSqlite);
        h[40..44].copy_from_slice(&3i32.to_be_bytes());
        assert_eq!(header(&h), Header::Foreign { application_id: 0, wal: false });
        h[18] = 2;
        h[68..72].copy_from_slice(&7i32.to_be_bytes());
        assert_eq!(header(&h), Header::Foreign { application_id: 7, wal: true });
        h[68..72].copy_from_slice(&APPLICATION_ID.to_be_bytes());
        h[60..64].copy_from_slice(&5i32.to_be_bytes());
        assert_eq!(header(&h), Header::Tunewise(5));
    }

    #[test]
    fn an_older_database_runs_only_the_missing_steps_and_keeps_its_data() {
        let conn = v1_database();
        conn.execute_batch("BEGIN").unwrap();
        migrate(&conn, 1, &[v0_to_v1, v1_to_v2]).unwrap();
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(inspect(&conn).unwrap(), Found::Tunewise(2));
        let note: String =
            conn.query_row("SELECT note FROM studies WHERE name = 's'", [], |r| r.get(0)).unwrap();
        assert_eq!(note, "migrated from v1");
        let steps: Vec<i64> = conn
            .prepare("SELECT version FROM schema_version ORDER BY version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(steps, [1, 2]);
    }

    #[test]
    fn a_failing_migration_leaves_the_database_at_its_version() {
        let conn = v1_database();
        conn.execute_batch("BEGIN").unwrap();
        assert!(migrate(&conn, 1, &[v0_to_v1, failing_step]).is_err());
        conn.execute_batch("ROLLBACK").unwrap();
        assert_eq!(inspect(&conn).unwrap(), Found::Tunewise(1));
        let columns: i64 = conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info('studies') WHERE name = 'half'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(columns, 0, "the failed step's change was rolled back");
    }

    #[test]
    fn foreign_files_are_told_apart() {
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(inspect(&conn).unwrap(), Found::Empty);
        conn.execute_batch("CREATE TABLE schema_version (version INTEGER)").unwrap();
        assert!(matches!(inspect(&conn).unwrap(), Found::Foreign { application_id: 0, .. }));
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "application_id", 7).unwrap();
        assert!(matches!(inspect(&conn).unwrap(), Found::Foreign { application_id: 7, .. }));
    }
}

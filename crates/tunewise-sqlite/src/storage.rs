//! [`SqliteStorage`]: the storage protocol on one SQLite file.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use tunewise_core::storage::{Lease, Storage, StudyId, StudyRecord, TrialChanges, TrialFinish};
use tunewise_core::{AttrValue, Direction, Error, FrozenTrial, Param, Result, TrialState};

use crate::cache::{Cache, TRIAL_COLUMNS};
use crate::codec;
use crate::error::{busy, sql_error, sql_message, Fail};
use crate::schema::{self, Found, Header, MIGRATIONS, SCHEMA_VERSION};

/// How long an operation waits for another process's lock before it fails.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// The database clock, in milliseconds since the Unix epoch.
const DB_NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/// Studies and trials in one SQLite file, shared safely by the threads of a process and by the
/// processes of one machine.
///
/// See the [crate documentation](crate) for the file format, the durability settings and what
/// is safe across processes.
pub struct SqliteStorage {
    path: PathBuf,
    db: Mutex<Db>,
    commits: Arc<AtomicU64>,
    lock_timeout: Duration,
}

impl fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("path", &self.path)
            .field("commits", &self.commits())
            .finish_non_exhaustive()
    }
}

/// The connection and what this process caches of the database.
struct Db {
    conn: Connection,
    cache: Cache,
}

/// What a fenced write reads of the trial it writes to.
struct Held {
    params: Option<Vec<u8>>,
    user_attrs: Option<String>,
}

fn study_not_found(id: i64) -> Error {
    Error::StudyNotFound(format!("#{id}"))
}

/// Trial numbers, ids and steps are `u64` in the API and `INTEGER` (`i64`) in SQLite; the
/// values round-trip through `as`.
fn int(v: u64) -> i64 {
    v as i64
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Db {
    /// Runs `f` in a transaction opened with `begin`, committing if it succeeds.
    fn attempt<T>(
        &mut self,
        begin: &str,
        f: &mut impl FnMut(&mut Db) -> Result<T, Fail>,
    ) -> Result<T, Fail> {
        let result = self
            .conn
            .execute_batch(begin)
            .map_err(Fail::from)
            .and_then(|()| f(self))
            .and_then(|v| self.conn.execute_batch("COMMIT").map(|()| v).map_err(Fail::from));
        match result {
            Ok(v) => {
                self.cache.committed();
                Ok(v)
            }
            Err(e) => {
                if !self.conn.is_autocommit() {
                    // The error being reported matters more than a failed rollback, which
                    // SQLite completes on its own when the connection closes.
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                self.cache.rolled_back();
                Err(e)
            }
        }
    }

    fn study_exists(&self, study: i64) -> Result<bool, Fail> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM studies WHERE id = ?1")?
            .query_row([study], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Bumps the study's change counter; the new value marks every trial this transaction
    /// changes.
    fn bump(&self, study: i64) -> Result<i64, Fail> {
        self.conn
            .prepare_cached("UPDATE studies SET seq = seq + 1 WHERE id = ?1 RETURNING seq")?
            .query_row([study], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Fail::Core(study_not_found(study)))
    }

    /// Checks that `lease` still holds its trial, and reads what a write needs.
    fn fence(&self, lease: &Lease) -> Result<Held, Fail> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT study_id, number, attempt, state, params, user_attrs FROM trials \
                 WHERE id = ?1",
            )?
            .query_row([int(lease.trial_id)], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<Vec<u8>>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .optional()?;
        let study = int(lease.study.0);
        match row {
            Some((s, n, _, _, _, _)) if s != study || n != int(lease.number) => {
                Err(Error::TrialNotFound(lease.number.to_string()).into())
            }
            Some((_, _, attempt, _, _, _)) if attempt != lease.attempt => {
                Err(Error::StaleAttempt {
                    number: lease.number,
                    attempt: lease.attempt,
                    reason: format!("the trial was reclaimed as attempt {attempt}"),
                }
                .into())
            }
            Some((_, _, _, state, _, _)) if state != "running" => {
                Err(Error::TrialFinished(lease.number).into())
            }
            Some((_, _, _, _, params, user_attrs)) => Ok(Held { params, user_attrs }),
            None if self.study_exists(study)? => {
                Err(Error::TrialNotFound(lease.number.to_string()).into())
            }
            None => Err(study_not_found(study).into()),
        }
    }

    /// The trial a write returned (its row in [`TRIAL_COLUMNS`]), with its intermediate values.
    fn returned(
        &mut self,
        study: i64,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Option<FrozenTrial>, Fail> {
        let (mut trial, reported) = {
            let Db { conn, cache } = &mut *self;
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query(params)?;
            let Some(row) = rows.next()? else { return Ok(None) };
            cache.trial(conn, study, row)?
        };
        if reported {
            trial.intermediate_values = self.intermediate_values(trial.id)?;
        }
        Ok(Some(trial))
    }

    fn intermediate_values(&self, trial_id: u64) -> Result<BTreeMap<u64, Vec<f64>>, Fail> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT step, vals FROM intermediate_values WHERE trial_id = ?1 ORDER BY step",
        )?;
        let mut rows = stmt.query([int(trial_id)])?;
        let mut out = BTreeMap::new();
        while let Some(row) = rows.next()? {
            let step: i64 = row.get(0)?;
            let vals = codec::decode_f64s(row.get_ref(1)?.as_bytes().unwrap_or(&[]), "report")?;
            out.insert(step as u64, vals);
        }
        Ok(out)
    }

    /// A running trial goes back to a new attempt: parameters become fixed values and its
    /// reports are cleared. Returns the new fixed values.
    fn requeue(
        &mut self,
        study: i64,
        id: i64,
        params: Option<&[u8]>,
        fixed: Option<&str>,
    ) -> Result<Option<String>, Fail> {
        let Db { conn, cache } = self;
        let fixed = cache.requeued_fixed(conn, study, params, fixed)?;
        conn.prepare_cached("DELETE FROM intermediate_values WHERE trial_id = ?1")?
            .execute([id])?;
        Ok(fixed)
    }

    fn study_record(row: &rusqlite::Row<'_>) -> Result<StudyRecord, Fail> {
        let id: i64 = row.get(0)?;
        Ok(StudyRecord {
            id: StudyId(id as u64),
            name: row.get(1)?,
            directions: codec::decode_directions(&row.get::<_, String>(2)?)?,
            user_attrs: codec::decode_attrs(row.get::<_, Option<String>>(3)?.as_deref())?,
            created: codec::from_micros(row.get(4)?)?,
        })
    }

    fn studies(&self, filter: &str, args: impl rusqlite::Params) -> Result<Vec<StudyRecord>, Fail> {
        let sql = format!(
            "SELECT id, name, directions, user_attrs, created FROM studies {filter} ORDER BY id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(args)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(Self::study_record(row)?);
        }
        Ok(out)
    }
}

impl SqliteStorage {
    /// Opens (or creates) the tunewise database in the file at `path`, waiting up to
    /// [`DEFAULT_LOCK_TIMEOUT`] for other processes' locks.
    ///
    /// A new or empty file becomes a tunewise database; an older schema is migrated. A file
    /// that is not a tunewise database, or that a newer tunewise wrote, is refused with an
    /// error that says so, and is not changed. The directory must exist.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStorage> {
        Self::open_with(path, DEFAULT_LOCK_TIMEOUT)
    }

    /// Like [`open`](Self::open), waiting up to `lock_timeout` for another process's lock
    /// before an operation fails.
    pub fn open_with(path: impl AsRef<Path>, lock_timeout: Duration) -> Result<SqliteStorage> {
        let path = path.as_ref().to_path_buf();
        check_path(&path)?;
        let fail = |what: &str, e: rusqlite::Error| sql_error(&path, what, &e);
        // Look before SQLite writes anything: even switching to WAL changes a foreign file.
        refuse_by_header(&path, lock_timeout)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| open_error(&path, e))?;
        conn.busy_timeout(lock_timeout).map_err(|e| fail("setting the busy timeout", e))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| fail("enabling foreign keys", e))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| fail("setting synchronous = FULL", e))?;
        conn.set_prepared_statement_cache_capacity(64);
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        conn.commit_hook(Some(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            false
        }));
        let mode: String = retry(lock_timeout, || {
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        })
        .map_err(|e| refuse_unreadable(&path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Storage(format!(
                "SQLite file {}: cannot use write-ahead logging (journal mode stays '{mode}'); \
                 put the file on a local disk",
                path.display()
            )));
        }
        let storage = SqliteStorage {
            path,
            db: Mutex::new(Db { conn, cache: Cache::default() }),
            commits,
            lock_timeout,
        };
        let found =
            storage.read("reading the schema version", |db| Ok(schema::inspect(&db.conn)?))?;
        if found != Found::Tunewise(SCHEMA_VERSION) {
            storage.write("creating or migrating the schema", |db| {
                // Again under the write lock: another process may have done it meanwhile.
                let found = schema::inspect(&db.conn)?;
                acceptable(&storage.path, &found)?;
                match found {
                    Found::Empty => schema::migrate(&db.conn, 0, MIGRATIONS)?,
                    Found::Tunewise(v) if v < SCHEMA_VERSION => {
                        schema::migrate(&db.conn, v, MIGRATIONS)?
                    }
                    _ => {}
                }
                Ok(())
            })?;
        }
        Ok(storage)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many transactions this handle has committed (writes only; counted by SQLite's commit
    /// hook). A trial run by `Study::optimize` without reports costs two: start and finish.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// The schema version of the file (this build's [`SCHEMA_VERSION`] once opened).
    pub fn schema_version(&self) -> Result<u32> {
        self.read("reading the schema version", |db| Ok(schema::version(&db.conn)?.unwrap_or(0)))
    }

    fn lock(&self) -> MutexGuard<'_, Db> {
        // A panic inside a transaction rolls it back as the stack unwinds (or SQLite does when
        // the next BEGIN fails and is retried), so the connection stays usable.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write<T>(&self, what: &str, f: impl FnMut(&mut Db) -> Result<T, Fail>) -> Result<T> {
        self.transact(what, "BEGIN IMMEDIATE", f)
    }

    fn read<T>(&self, what: &str, f: impl FnMut(&mut Db) -> Result<T, Fail>) -> Result<T> {
        self.transact(what, "BEGIN", f)
    }

    /// One transaction, tried again while another process holds the lock, up to the lock
    /// timeout. SQLite's busy handler already waits on most locks; this loop covers the cases
    /// where SQLite reports "busy" without waiting.
    fn transact<T>(
        &self,
        what: &str,
        begin: &str,
        mut f: impl FnMut(&mut Db) -> Result<T, Fail>,
    ) -> Result<T> {
        let mut db = self.lock();
        let deadline = Instant::now() + self.lock_timeout;
        let mut pause = Duration::from_millis(1);
        loop {
            match db.attempt(begin, &mut f) {
                Err(e) if e.is_busy() && Instant::now() < deadline => {
                    std::thread::sleep(jitter(pause));
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                result => return result.map_err(|e| e.into_error(&self.path, what)),
            }
        }
    }
}

/// A pause between `d / 2` and `d * 3 / 2`, so that waiting processes do not retry in step.
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    d.mul_f64(0.5 + f64::from(nanos % 1000) / 1000.0)
}

/// Retries an operation outside a transaction (opening, pragmas) while the file is busy.
fn retry<T>(timeout: Duration, mut op: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        match op() {
            Err(e) if busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(jitter(pause));
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            r => return r,
        }
    }
}

/// Clear errors for paths SQLite would only call "unable to open".
fn check_path(path: &Path) -> Result<()> {
    let shown = path.display();
    if path.as_os_str().is_empty() {
        return Err(Error::Storage("the SQLite file path is empty; give a file path".into()));
    }
    if path.is_dir() {
        return Err(Error::Storage(format!(
            "{shown} is a directory; give the path of a file, such as {}",
            path.join("study.db").display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            return Err(Error::Storage(format!(
                "cannot open the SQLite file {shown}: directory {} does not exist; create it first",
                dir.display()
            )));
        }
        if !dir.is_dir() {
            return Err(Error::Storage(format!(
                "cannot open the SQLite file {shown}: {} is not a directory",
                dir.display()
            )));
        }
    }
    Ok(())
}

/// An error from opening the file, with the operating system's reason where it has one.
fn open_error(path: &Path, e: rusqlite::Error) -> Error {
    let os = match std::fs::OpenOptions::new().read(true).write(true).open(path) {
        Err(io) if path.exists() => format!(" ({io})"),
        _ => String::new(),
    };
    Error::Storage(format!("{}{os}", sql_message(path, "opening", &e)))
}

fn not_sqlite(path: &Path) -> Error {
    Error::Storage(format!(
        "{} is not a tunewise database (it is not an SQLite file at all); it was not changed. \
         Give the path of a new file or of a tunewise study file",
        path.display()
    ))
}

/// The error for a file whose first read failed: for a file that is not SQLite at all, a clear
/// refusal.
fn refuse_unreadable(path: &Path, e: rusqlite::Error) -> Error {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
        not_sqlite(path)
    } else {
        sql_error(path, "reading the file's header", &e)
    }
}

/// Refuses, from its header alone, a file this build must not open.
fn refuse_by_header(path: &Path, lock_timeout: Duration) -> Result<()> {
    let mut head = Vec::with_capacity(100);
    match std::fs::File::open(path) {
        Ok(f) => {
            use std::io::Read;
            f.take(100)
                .read_to_end(&mut head)
                .map_err(|e| Error::Storage(format!("cannot read {}: {e}", path.display())))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::Storage(format!("cannot open {}: {e}", path.display()))),
    }
    let found = match schema::header(&head) {
        Header::Empty => return Ok(()),
        Header::NotSqlite => return Err(not_sqlite(path)),
        Header::Tunewise(v) => Found::Tunewise(v),
        Header::Foreign { application_id, wal } => {
            // A file in rollback mode can be read for its table names without leaving anything
            // behind; a WAL file would get `-wal` and `-shm` files, so it is refused unread.
            let objects = if wal { Vec::new() } else { foreign_objects(path, lock_timeout) };
            Found::Foreign { application_id, objects }
        }
    };
    acceptable(path, &found)
}

/// The first few objects of a foreign file in rollback mode, read through a read-only
/// connection; empty if they cannot be read.
fn foreign_objects(path: &Path, lock_timeout: Duration) -> Vec<String> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let Ok(conn) = Connection::open_with_flags(path, flags) else { return Vec::new() };
    let _ = conn.busy_timeout(lock_timeout);
    match schema::inspect(&conn) {
        Ok(Found::Foreign { objects, .. }) => objects,
        _ => Vec::new(),
    }
}

/// Refuses what this build must not open: another program's database, or a newer schema.
fn acceptable(path: &Path, found: &Found) -> Result<()> {
    match found {
        Found::Empty => Ok(()),
        Found::Tunewise(v) if *v <= SCHEMA_VERSION => Ok(()),
        Found::Tunewise(v) => Err(Error::Storage(format!(
            "{} was written by a newer tunewise (schema version {v}; this build reads versions up \
             to {SCHEMA_VERSION}); upgrade tunewise to open it. The file was not changed",
            path.display()
        ))),
        Found::Foreign { application_id, objects } => {
            let what = if *application_id != 0 && *application_id != schema::APPLICATION_ID {
                format!(
                    "an SQLite database of another program (application id {application_id:#x})"
                )
            } else if objects.is_empty() {
                "an SQLite database of another program".to_owned()
            } else {
                format!("an SQLite database of another program (it holds {})", objects.join(", "))
            };
            Err(Error::Storage(format!(
                "{} is {what}, not a tunewise database; it was not changed. Give the path of a new \
                 file or of a tunewise study file",
                path.display()
            )))
        }
    }
}

impl Storage for SqliteStorage {
    fn create_study(&self, name: &str, directions: &[Direction]) -> Result<StudyRecord> {
        let created = codec::now();
        self.write("create_study", |db| {
            let taken = db
                .conn
                .prepare_cached("SELECT 1 FROM studies WHERE name = ?1")?
                .query_row([name], |_| Ok(()))
                .optional()?;
            if taken.is_some() {
                return Err(Error::StudyExists(name.to_owned()).into());
            }
            let id: i64 = db
                .conn
                .prepare_cached(
                    "INSERT INTO studies (name, directions, created) VALUES (?1, ?2, ?3) \
                     RETURNING id",
                )?
                .query_row(
                    params![name, codec::encode_directions(directions), codec::micros(created)],
                    |r| r.get(0),
                )?;
            Ok(StudyRecord {
                id: StudyId(id as u64),
                name: name.to_owned(),
                directions: directions.to_vec(),
                user_attrs: BTreeMap::new(),
                created,
            })
        })
    }

    fn find_study(&self, name: &str) -> Result<Option<StudyRecord>> {
        self.read("find_study", |db| Ok(db.studies("WHERE name = ?1", [name])?.pop()))
    }

    fn list_studies(&self) -> Result<Vec<StudyRecord>> {
        self.read("list_studies", |db| db.studies("", []))
    }

    fn delete_study(&self, study: StudyId) -> Result<()> {
        let id = int(study.0);
        self.write("delete_study", |db| {
            let n = db.conn.prepare_cached("DELETE FROM studies WHERE id = ?1")?.execute([id])?;
            if n == 0 {
                return Err(study_not_found(id).into());
            }
            db.cache.forget_study(id);
            Ok(())
        })
    }

    fn set_study_user_attr(&self, study: StudyId, key: &str, value: AttrValue) -> Result<()> {
        let id = int(study.0);
        self.write("set_study_user_attr", |db| {
            let text: Option<String> = db
                .conn
                .prepare_cached("SELECT user_attrs FROM studies WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?
                .ok_or_else(|| study_not_found(id))?;
            let mut attrs = codec::decode_attrs(text.as_deref())?;
            attrs.insert(key.to_owned(), value.clone());
            db.conn
                .prepare_cached("UPDATE studies SET user_attrs = ?2 WHERE id = ?1")?
                .execute(params![id, codec::encode_attrs(&attrs)])?;
            Ok(())
        })
    }

    fn insert_trial(&self, study: StudyId, trial: &FrozenTrial) -> Result<Arc<FrozenTrial>> {
        if !(trial.state == TrialState::Waiting || trial.state.is_finished()) {
            return Err(Error::InvalidConfig(
                "insert_trial takes a waiting or finished trial; running trials come from start_trial"
                    .into(),
            ));
        }
        let study = int(study.0);
        let complete = match trial.datetime_complete {
            None if trial.state.is_finished() => Some(codec::now()),
            t => t,
        };
        self.write("insert_trial", |db| {
            let (seq, number): (i64, i64) = db
                .conn
                .prepare_cached(
                    "UPDATE studies SET seq = seq + 1, next_number = next_number + 1 \
                     WHERE id = ?1 RETURNING seq, next_number - 1",
                )?
                .query_row([study], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| study_not_found(study))?;
            let params = {
                let Db { conn, cache } = &mut *db;
                cache.merge_params(conn, study, None, &trial.params)?
            };
            let sql = format!(
                "INSERT INTO trials (study_id, number, state, attempt, params, fixed_params, \
                 vals, constraints, user_attrs, fail_reason, datetime_start, datetime_complete, \
                 reported, seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
                 RETURNING {TRIAL_COLUMNS}"
            );
            let args = params![
                study,
                number,
                trial.state.as_str(),
                trial.attempt,
                (!trial.params.is_empty()).then_some(params),
                codec::encode_fixed(&trial.fixed_params),
                trial.values.as_deref().map(codec::encode_f64s),
                (!trial.constraints.is_empty()).then(|| codec::encode_f64s(&trial.constraints)),
                codec::encode_attrs(&trial.user_attrs),
                trial.fail_reason,
                trial.datetime_start.map(codec::micros),
                complete.map(codec::micros),
                !trial.intermediate_values.is_empty(),
                seq,
            ];
            let stored = db.returned(study, &sql, args)?;
            let mut stored =
                stored.ok_or_else(|| Error::Storage("the insert returned no row".into()))?;
            let mut add = db.conn.prepare_cached(
                "INSERT INTO intermediate_values (trial_id, step, vals) VALUES (?1, ?2, ?3)",
            )?;
            for (step, vals) in &trial.intermediate_values {
                add.execute(params![int(stored.id), int(*step), codec::encode_f64s(vals)])?;
            }
            stored.intermediate_values = trial.intermediate_values.clone();
            Ok(Arc::new(stored))
        })
    }

    fn start_trial(
        &self,
        study: StudyId,
        worker: &str,
        lease: Option<Duration>,
    ) -> Result<Arc<FrozenTrial>> {
        let study = int(study.0);
        self.write("start_trial", |db| {
            let (seq, next, now_ms): (i64, i64, i64) = db
                .conn
                .prepare_cached(&format!(
                    "UPDATE studies SET seq = seq + 1 WHERE id = ?1 \
                     RETURNING seq, next_number, {DB_NOW_MS}"
                ))?
                .query_row([study], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?
                .ok_or_else(|| study_not_found(study))?;
            let expires = lease.map(|d| now_ms.saturating_add(ms(d)));
            let started = codec::micros(codec::now());

            // 1. The oldest waiting trial.
            let sql = format!(
                "UPDATE trials SET state = 'running', worker_id = ?2, lease_expires = ?3, \
                 datetime_start = ?4, seq = ?5 \
                 WHERE id = (SELECT id FROM trials WHERE study_id = ?1 AND state = 'waiting' \
                             ORDER BY number LIMIT 1) \
                 RETURNING {TRIAL_COLUMNS}"
            );
            if let Some(t) =
                db.returned(study, &sql, params![study, worker, expires, started, seq])?
            {
                return Ok(Arc::new(t));
            }

            // 2. A running trial whose lease expired, as its next attempt.
            let expired = db
                .conn
                .prepare_cached(
                    "SELECT id, params, fixed_params FROM trials \
                     WHERE study_id = ?1 AND state = 'running' AND lease_expires <= ?2 \
                     ORDER BY number LIMIT 1",
                )?
                .query_row(params![study, now_ms], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Option<Vec<u8>>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })
                .optional()?;
            if let Some((id, params, fixed)) = expired {
                let fixed = db.requeue(study, id, params.as_deref(), fixed.as_deref())?;
                let sql = format!(
                    "UPDATE trials SET attempt = attempt + 1, params = NULL, fixed_params = ?2, \
                     worker_id = ?3, lease_expires = ?4, datetime_start = ?5, seq = ?6, \
                     reported = 0 \
                     WHERE id = ?1 RETURNING {TRIAL_COLUMNS}"
                );
                let args = params![id, fixed, worker, expires, started, seq];
                let t = db
                    .returned(study, &sql, args)?
                    .ok_or_else(|| Error::Storage("the reclaimed trial vanished".into()))?;
                return Ok(Arc::new(t));
            }

            // 3. A new trial, numbered by the study's counter.
            let sql = format!(
                "INSERT INTO trials (study_id, number, state, worker_id, lease_expires, \
                 datetime_start, seq) VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6) \
                 RETURNING {TRIAL_COLUMNS}"
            );
            let t = db
                .returned(study, &sql, params![study, next, worker, expires, started, seq])?
                .ok_or_else(|| Error::Storage("the insert returned no row".into()))?;
            db.conn
                .prepare_cached("UPDATE studies SET next_number = next_number + 1 WHERE id = ?1")?
                .execute([study])?;
            Ok(Arc::new(t))
        })
    }

    fn renew_lease(&self, lease: &Lease, duration: Duration) -> Result<()> {
        self.write("renew_lease", |db| {
            let n = db
                .conn
                .prepare_cached(&format!(
                    "UPDATE trials SET lease_expires = {DB_NOW_MS} + ?5 \
                     WHERE id = ?1 AND attempt = ?2 AND state = 'running' AND study_id = ?3 \
                     AND number = ?4"
                ))?
                .execute(params![
                    int(lease.trial_id),
                    lease.attempt,
                    int(lease.study.0),
                    int(lease.number),
                    ms(duration)
                ])?;
            if n == 0 {
                db.fence(lease)?;
                return Err(Error::Storage("renew_lease changed no trial".into()).into());
            }
            Ok(())
        })
    }

    fn set_trial_params(&self, lease: &Lease, params: &[Param]) -> Result<()> {
        let study = int(lease.study.0);
        self.write("set_trial_params", |db| {
            let held = db.fence(lease)?;
            let seq = db.bump(study)?;
            let blob = {
                let Db { conn, cache } = &mut *db;
                cache.merge_params(conn, study, held.params.as_deref(), params)?
            };
            db.conn
                .prepare_cached(
                    "UPDATE trials SET params = ?3, seq = ?4 \
                     WHERE id = ?1 AND attempt = ?2 AND state = 'running'",
                )?
                .execute(params![int(lease.trial_id), lease.attempt, blob, seq])?;
            Ok(())
        })
    }

    fn set_trial_user_attr(&self, lease: &Lease, key: &str, value: AttrValue) -> Result<()> {
        let study = int(lease.study.0);
        self.write("set_trial_user_attr", |db| {
            let held = db.fence(lease)?;
            let seq = db.bump(study)?;
            let mut attrs = codec::decode_attrs(held.user_attrs.as_deref())?;
            attrs.insert(key.to_owned(), value.clone());
            db.conn
                .prepare_cached(
                    "UPDATE trials SET user_attrs = ?3, seq = ?4 \
                     WHERE id = ?1 AND attempt = ?2 AND state = 'running'",
                )?
                .execute(params![
                    int(lease.trial_id),
                    lease.attempt,
                    codec::encode_attrs(&attrs),
                    seq
                ])?;
            Ok(())
        })
    }

    fn report(&self, lease: &Lease, step: u64, values: &[f64]) -> Result<()> {
        let study = int(lease.study.0);
        self.write("report", |db| {
            db.fence(lease)?;
            let seq = db.bump(study)?;
            db.conn
                .prepare_cached(
                    "INSERT OR REPLACE INTO intermediate_values (trial_id, step, vals) \
                     VALUES (?1, ?2, ?3)",
                )?
                .execute(params![int(lease.trial_id), int(step), codec::encode_f64s(values)])?;
            db.conn
                .prepare_cached(
                    "UPDATE trials SET reported = 1, seq = ?3 \
                     WHERE id = ?1 AND attempt = ?2 AND state = 'running'",
                )?
                .execute(params![int(lease.trial_id), lease.attempt, seq])?;
            Ok(())
        })
    }

    fn finish_trial(&self, lease: &Lease, finish: &TrialFinish) -> Result<Arc<FrozenTrial>> {
        if !finish.state.is_finished() {
            return Err(Error::InvalidConfig(format!(
                "a trial finishes as complete, pruned or failed, not {}",
                finish.state
            )));
        }
        let study = int(lease.study.0);
        let complete = codec::micros(codec::now());
        self.write("finish_trial", |db| {
            let held = db.fence(lease)?;
            let seq = db.bump(study)?;
            let blob = if finish.params.is_empty() {
                held.params.clone()
            } else {
                let Db { conn, cache } = &mut *db;
                Some(cache.merge_params(conn, study, held.params.as_deref(), &finish.params)?)
            };
            let sql = format!(
                "UPDATE trials SET state = ?3, vals = ?4, constraints = ?5, fail_reason = ?6, \
                 params = ?7, datetime_complete = ?8, lease_expires = NULL, seq = ?9 \
                 WHERE id = ?1 AND attempt = ?2 AND state = 'running' \
                 RETURNING {TRIAL_COLUMNS}"
            );
            let args = params![
                int(lease.trial_id),
                lease.attempt,
                finish.state.as_str(),
                finish.values.as_deref().map(codec::encode_f64s),
                (!finish.constraints.is_empty()).then(|| codec::encode_f64s(&finish.constraints)),
                finish.fail_reason,
                blob,
                complete,
                seq,
            ];
            let t = db
                .returned(study, &sql, args)?
                .ok_or_else(|| Error::Storage("the fenced update matched no trial".into()))?;
            Ok(Arc::new(t))
        })
    }

    fn trials_since(&self, study: StudyId, cursor: u64) -> Result<TrialChanges> {
        let study = int(study.0);
        self.read("trials_since", |db| {
            let seq: i64 = db
                .conn
                .prepare_cached("SELECT seq FROM studies WHERE id = ?1")?
                .query_row([study], |r| r.get(0))
                .optional()?
                .ok_or_else(|| study_not_found(study))?;
            let next = TrialChanges { trials: Vec::new(), cursor: seq as u64 };
            if seq as u64 <= cursor {
                return Ok(next);
            }
            // Forced indexes: every trial in number order for a full read; only the changed
            // trials (then sorted) for an incremental one, whatever the planner guesses.
            let (sql, args) = if cursor == 0 {
                let sql = format!(
                    "SELECT {TRIAL_COLUMNS} FROM trials INDEXED BY trials_by_number \
                     WHERE study_id = ?1 ORDER BY number"
                );
                (sql, vec![study])
            } else {
                let sql = format!(
                    "SELECT {TRIAL_COLUMNS} FROM trials INDEXED BY trials_by_seq \
                     WHERE study_id = ?1 AND seq > ?2 ORDER BY number"
                );
                (sql, vec![study, int(cursor)])
            };
            let Db { conn, cache } = &mut *db;
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
            let mut trials = Vec::new();
            let mut reported: HashMap<u64, usize> = HashMap::new();
            while let Some(row) = rows.next()? {
                let (t, r) = cache.trial(conn, study, row)?;
                if r {
                    reported.insert(t.id, trials.len());
                }
                trials.push(t);
            }
            drop(rows);
            if !reported.is_empty() {
                let mut stmt = conn.prepare_cached(
                    "SELECT iv.trial_id, iv.step, iv.vals \
                     FROM trials AS t INDEXED BY trials_by_seq \
                     JOIN intermediate_values AS iv ON iv.trial_id = t.id \
                     WHERE t.study_id = ?1 AND t.seq > ?2 AND t.reported = 1",
                )?;
                let mut rows = stmt.query(params![study, int(cursor)])?;
                while let Some(row) = rows.next()? {
                    let id: i64 = row.get(0)?;
                    let step: i64 = row.get(1)?;
                    let vals =
                        codec::decode_f64s(row.get_ref(2)?.as_bytes().unwrap_or(&[]), "report")?;
                    if let Some(i) = reported.get(&(id as u64)) {
                        trials[*i].intermediate_values.insert(step as u64, vals);
                    }
                }
            }
            Ok(TrialChanges { trials: trials.into_iter().map(Arc::new).collect(), ..next })
        })
    }

    fn trial(&self, study: StudyId, number: u64) -> Result<Arc<FrozenTrial>> {
        let study = int(study.0);
        self.read("trial", |db| {
            let sql =
                format!("SELECT {TRIAL_COLUMNS} FROM trials WHERE study_id = ?1 AND number = ?2");
            match db.returned(study, &sql, params![study, int(number)])? {
                Some(t) => Ok(Arc::new(t)),
                None if db.study_exists(study)? => {
                    Err(Error::TrialNotFound(number.to_string()).into())
                }
                None => Err(study_not_found(study).into()),
            }
        })
    }

    fn release_worker(&self, study: StudyId, worker: &str) -> Result<usize> {
        let study = int(study.0);
        let count_sql = "SELECT count(*) FROM trials \
                         WHERE study_id = ?1 AND state = 'running' AND worker_id = ?2";
        // Most restarts have nothing to release: find out without taking the write lock.
        let held = self.read("release_worker", |db| {
            if !db.study_exists(study)? {
                return Err(study_not_found(study).into());
            }
            Ok(db
                .conn
                .prepare_cached(count_sql)?
                .query_row(params![study, worker], |r| r.get::<_, i64>(0))?)
        })?;
        if held == 0 {
            return Ok(0);
        }
        self.write("release_worker", |db| {
            let seq = db.bump(study)?;
            let mine: Vec<(i64, Option<Vec<u8>>, Option<String>)> = db
                .conn
                .prepare_cached(
                    "SELECT id, params, fixed_params FROM trials \
                     WHERE study_id = ?1 AND state = 'running' AND worker_id = ?2 ORDER BY number",
                )?
                .query_map(params![study, worker], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, params, fixed) in &mine {
                let fixed = db.requeue(study, *id, params.as_deref(), fixed.as_deref())?;
                db.conn
                    .prepare_cached(
                        "UPDATE trials SET state = 'waiting', attempt = attempt + 1, \
                         params = NULL, fixed_params = ?2, worker_id = NULL, \
                         lease_expires = NULL, reported = 0, seq = ?3 WHERE id = ?1",
                    )?
                    .execute(params![id, fixed, seq])?;
            }
            Ok(mine.len())
        })
    }
}

//! [`SqliteStorage`]: the storage protocol on one SQLite file.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, OptionalExtension};
use tunewise_core::storage::{Lease, Storage, StudyId, StudyRecord, TrialChanges, TrialFinish};
use tunewise_core::{AttrValue, Direction, Error, FrozenTrial, Param, Result, TrialState};

use crate::cache::TRIAL_COLUMNS;
use crate::codec;
use crate::db::{int, ms, study_not_found, Db};
use crate::schema;

/// How long an operation waits for another process's lock before it fails.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest lock timeout SQLite takes (`i32::MAX` milliseconds); longer ones are cut to it.
pub const MAX_LOCK_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// The database clock, in milliseconds since the Unix epoch.
const DB_NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/// Studies and trials in one SQLite file, shared safely by the threads of a process and by the
/// processes of one machine.
///
/// See the [crate documentation](crate) for the file format, the durability settings and what
/// is safe across processes.
pub struct SqliteStorage {
    pub(crate) path: PathBuf,
    pub(crate) db: Mutex<Db>,
    pub(crate) commits: Arc<AtomicU64>,
    pub(crate) lock_timeout: Duration,
    /// Opened by [`SqliteStorage::open_read_only`]: every write is refused.
    pub(crate) read_only: bool,
}

impl fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("path", &self.path)
            .field("commits", &self.commits())
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl SqliteStorage {
    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this handle was opened by [`open_read_only`](Self::open_read_only).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// How many transactions this handle has committed (writes only; counted by SQLite's commit
    /// hook). A trial run by `Study::optimize` without reports costs two: start and finish.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// `start_trial`, or `start_trial_capped` with `max`: one `BEGIN IMMEDIATE` transaction.
    fn start(
        &self,
        study: StudyId,
        worker: &str,
        lease: Option<Duration>,
        max: Option<u64>,
    ) -> Result<Option<Arc<FrozenTrial>>> {
        let study = int(study.0);
        self.write_relaxed("start_trial", |db| {
            if let Some(max) = max {
                // The number of the trial the claim below would return, checked first; the
                // write lock held since BEGIN IMMEDIATE keeps it true until the claim.
                let next: Option<i64> = db
                    .conn
                    .prepare_cached(&format!(
                        "SELECT coalesce(\
                           (SELECT number FROM trials WHERE study_id = ?1 AND state = 'waiting' \
                            ORDER BY number LIMIT 1), \
                           (SELECT number FROM trials WHERE study_id = ?1 AND state = 'running' \
                            AND lease_expires <= {DB_NOW_MS} ORDER BY number LIMIT 1), \
                           (SELECT next_number FROM studies WHERE id = ?1))"
                    ))?
                    .query_row([study], |r| r.get(0))?;
                if next.is_some_and(|n| n >= int(max)) {
                    return Ok(None);
                }
            }
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
                return Ok(Some(Arc::new(t)));
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
                return Ok(Some(Arc::new(t)));
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
            Ok(Some(Arc::new(t)))
        })
    }

    /// The schema version of the file (this build's [`SCHEMA_VERSION`](crate::SCHEMA_VERSION) once opened).
    pub fn schema_version(&self) -> Result<u32> {
        self.read("reading the schema version", |db| Ok(schema::version(&db.conn)?.unwrap_or(0)))
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
                let Db { conn, cache, .. } = &mut *db;
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
        self.start(study, worker, lease, None)?
            .ok_or_else(|| Error::Storage("start_trial without a cap claimed nothing".into()))
    }

    fn start_trial_capped(
        &self,
        study: StudyId,
        worker: &str,
        lease: Option<Duration>,
        max_trials: u64,
    ) -> Result<Option<Arc<FrozenTrial>>> {
        self.start(study, worker, lease, Some(max_trials))
    }

    fn renew_lease(&self, lease: &Lease, duration: Duration) -> Result<()> {
        self.write_relaxed("renew_lease", |db| {
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
        self.write_relaxed("set_trial_params", |db| {
            let held = db.fence(lease)?;
            let seq = db.bump(study)?;
            let blob = {
                let Db { conn, cache, .. } = &mut *db;
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
        self.write_relaxed("set_trial_user_attr", |db| {
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
        self.write_relaxed("report", |db| {
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
                let Db { conn, cache, .. } = &mut *db;
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
            let Db { conn, cache, .. } = &mut *db;
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

//! The connection, its transactions, and the statements every operation shares.

use std::collections::BTreeMap;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension};
use tunewise_core::storage::{Lease, StudyId, StudyRecord};
use tunewise_core::{Error, FrozenTrial, Result};

use crate::cache::Cache;
use crate::codec;
use crate::error::{busy, Fail};
use crate::storage::SqliteStorage;

/// The connection and what this process caches of the database.
pub(crate) struct Db {
    pub(crate) conn: Connection,
    pub(crate) cache: Cache,
    /// `synchronous` is `NORMAL` (a relaxed write is under way, or panicked before putting
    /// `FULL` back).
    pub(crate) relaxed: bool,
}

/// What a fenced write reads of the trial it writes to.
pub(crate) struct Held {
    pub(crate) params: Option<Vec<u8>>,
    pub(crate) user_attrs: Option<String>,
}

pub(crate) fn study_not_found(id: i64) -> Error {
    Error::StudyNotFound(format!("#{id}"))
}

/// Trial numbers, ids and steps are `u64` in the API and `INTEGER` (`i64`) in SQLite; the
/// values round-trip through `as`.
pub(crate) fn int(v: u64) -> i64 {
    v as i64
}

pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Db {
    /// Rolls back a transaction left open by a panic on another thread: it never committed.
    fn recover(&mut self) -> Result<(), Fail> {
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("ROLLBACK")?;
            self.cache.rolled_back();
        }
        Ok(())
    }

    /// Runs `f` in a transaction opened with `begin`, committing if it succeeds.
    fn attempt<T>(
        &mut self,
        begin: &str,
        f: &mut impl FnMut(&mut Db) -> Result<T, Fail>,
    ) -> Result<T, Fail> {
        self.recover()?;
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

    pub(crate) fn study_exists(&self, study: i64) -> Result<bool, Fail> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM studies WHERE id = ?1")?
            .query_row([study], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Bumps the study's change counter; the new value marks every trial this transaction
    /// changes.
    pub(crate) fn bump(&self, study: i64) -> Result<i64, Fail> {
        self.conn
            .prepare_cached("UPDATE studies SET seq = seq + 1 WHERE id = ?1 RETURNING seq")?
            .query_row([study], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Fail::Core(study_not_found(study)))
    }

    /// Checks that `lease` still holds its trial, and reads what a write needs.
    pub(crate) fn fence(&self, lease: &Lease) -> Result<Held, Fail> {
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
    pub(crate) fn returned(
        &mut self,
        study: i64,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Option<FrozenTrial>, Fail> {
        let (mut trial, reported) = {
            let Db { conn, cache, .. } = &mut *self;
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

    pub(crate) fn intermediate_values(
        &self,
        trial_id: u64,
    ) -> Result<BTreeMap<u64, Vec<f64>>, Fail> {
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
    pub(crate) fn requeue(
        &mut self,
        study: i64,
        id: i64,
        params: Option<&[u8]>,
        fixed: Option<&str>,
    ) -> Result<Option<String>, Fail> {
        let Db { conn, cache, .. } = self;
        let fixed = cache.requeued_fixed(conn, study, params, fixed)?;
        conn.prepare_cached("DELETE FROM intermediate_values WHERE trial_id = ?1")?
            .execute([id])?;
        Ok(fixed)
    }

    pub(crate) fn study_record(row: &rusqlite::Row<'_>) -> Result<StudyRecord, Fail> {
        let id: i64 = row.get(0)?;
        Ok(StudyRecord {
            id: StudyId(id as u64),
            name: row.get(1)?,
            directions: codec::decode_directions(&row.get::<_, String>(2)?)?,
            user_attrs: codec::decode_attrs(row.get::<_, Option<String>>(3)?.as_deref())?,
            created: codec::from_micros(row.get(4)?)?,
        })
    }

    pub(crate) fn studies(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<StudyRecord>, Fail> {
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
    pub(crate) fn lock(&self) -> MutexGuard<'_, Db> {
        // A panic inside a transaction leaves it open; the next transaction rolls it back
        // first (`Db::attempt`), so the connection stays usable.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write<T>(
        &self,
        what: &str,
        f: impl FnMut(&mut Db) -> Result<T, Fail>,
    ) -> Result<T> {
        self.writable(what)?;
        self.transact(what, "BEGIN IMMEDIATE", f)
    }

    /// A write that only a live worker depends on: claiming a trial, renewing its lease, and
    /// the writes to a running trial that are not its outcome (its parameters so far,
    /// intermediate reports, user attributes). Committed with `synchronous = NORMAL`, so the
    /// commit does not wait for the disk. In WAL mode the transaction is still atomic and
    /// survives a crash of the process; it becomes durable against a power cut with the next
    /// `FULL` commit (a trial's finish syncs the whole write-ahead log, earlier frames
    /// included). A power cut in between loses only such writes, and every worker that made
    /// them dies with the machine (SQLite is for one machine): after the restart the trial is
    /// as if it had not been claimed, and nobody holds it. Outcomes, enqueued trials and study
    /// changes are never written this way. A trial then costs one disk sync (its finish)
    /// however many folds or epochs it reports.
    pub(crate) fn write_relaxed<T>(
        &self,
        what: &str,
        f: impl FnMut(&mut Db) -> Result<T, Fail>,
    ) -> Result<T> {
        self.writable(what)?;
        let mut db = self.lock();
        self.synchronous(&mut db, what, true)?;
        let result = self.transact_locked(&mut db, what, "BEGIN IMMEDIATE", f);
        // Back to FULL before anyone else uses the connection, whatever the result.
        let restored = self.synchronous(&mut db, what, false);
        let value = result?;
        restored?;
        Ok(value)
    }

    /// Refuses a write through a handle opened read-only.
    fn writable(&self, what: &str) -> Result<()> {
        if self.read_only {
            return Err(Error::Storage(format!(
                "SQLite file {}: cannot {what}: this handle was opened read-only (as the \
                 dashboard opens it without --allow-writes)",
                self.path.display()
            )));
        }
        Ok(())
    }

    /// Sets `synchronous` to `NORMAL` (`relaxed`) or `FULL`.
    fn synchronous(&self, db: &mut Db, what: &str, relaxed: bool) -> Result<()> {
        let mode = if relaxed { "NORMAL" } else { "FULL" };
        // The safety level cannot change inside a transaction.
        db.recover()
            .and_then(|()| Ok(db.conn.pragma_update(None, "synchronous", mode)?))
            .map_err(|e| e.into_error(&self.path, what))?;
        db.relaxed = relaxed;
        Ok(())
    }

    pub(crate) fn read<T>(
        &self,
        what: &str,
        f: impl FnMut(&mut Db) -> Result<T, Fail>,
    ) -> Result<T> {
        self.transact(what, "BEGIN", f)
    }

    /// One transaction, tried again while another process holds the lock, up to the lock
    /// timeout. SQLite's busy handler already waits on most locks; this loop covers the cases
    /// where SQLite reports "busy" without waiting.
    pub(crate) fn transact<T>(
        &self,
        what: &str,
        begin: &str,
        f: impl FnMut(&mut Db) -> Result<T, Fail>,
    ) -> Result<T> {
        let mut db = self.lock();
        if db.relaxed {
            // A relaxed write panicked before restoring FULL.
            self.synchronous(&mut db, what, false)?;
        }
        self.transact_locked(&mut db, what, begin, f)
    }

    fn transact_locked<T>(
        &self,
        db: &mut Db,
        what: &str,
        begin: &str,
        mut f: impl FnMut(&mut Db) -> Result<T, Fail>,
    ) -> Result<T> {
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
pub(crate) fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    d.mul_f64(0.5 + f64::from(nanos % 1000) / 1000.0)
}

/// Retries an operation outside a transaction (opening, pragmas) while the file is busy.
pub(crate) fn retry<T>(
    timeout: Duration,
    mut op: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tunewise_core::{Direction, Storage};

    #[test]
    fn a_panic_inside_a_transaction_rolls_it_back_and_leaves_the_handle_usable() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path().join("t.db")).unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = storage.write("panicking", |db| -> Result<(), Fail> {
                db.conn.execute(
                    "INSERT INTO studies (name, directions, created) VALUES ('half', '[]', 0)",
                    [],
                )?;
                panic!("boom")
            });
        }));
        assert!(panicked.is_err());
        storage.create_study("after", &[Direction::Minimize]).unwrap();
        let names: Vec<String> =
            storage.list_studies().unwrap().into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["after"], "the panicking transaction's insert was rolled back");
    }

    fn synchronous(storage: &SqliteStorage) -> i64 {
        storage.lock().conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap()
    }

    #[test]
    fn relaxed_writes_put_full_synchronous_back_even_after_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path().join("t.db")).unwrap();
        assert_eq!(synchronous(&storage), 2, "FULL");
        let inside = storage.write_relaxed("probe", |db| -> Result<i64, Fail> {
            Ok(db.conn.pragma_query_value(None, "synchronous", |r| r.get(0))?)
        });
        assert_eq!(inside.unwrap(), 1, "NORMAL inside a relaxed write");
        assert_eq!(synchronous(&storage), 2, "FULL again after it");
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = storage.write_relaxed("panicking", |_| -> Result<(), Fail> { panic!("boom") });
        }));
        assert!(panicked.is_err());
        let during = storage.write("after", |db| -> Result<i64, Fail> {
            Ok(db.conn.pragma_query_value(None, "synchronous", |r| r.get(0))?)
        });
        assert_eq!(during.unwrap(), 2, "an ordinary write is FULL again after the panic");
    }
}

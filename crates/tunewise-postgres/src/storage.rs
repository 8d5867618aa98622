//! [`PostgresStorage`]: the `Storage` trait on PostgreSQL.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio_postgres::types::Type;
use tokio_postgres::Row;
use tunewise_core::rng::{mix64, Rng};
use tunewise_core::storage::{Lease, Storage, StudyId, StudyRecord, TrialChanges, TrialFinish};
use tunewise_core::{AttrValue, Direction, Error, FrozenTrial, Param, Result, TrialState};

use crate::codec::{self, trial_columns, DecodeError, StudyKeys, Workers};
use crate::conn::{Conn, Fail, Pool, Settings};
use crate::options::PostgresBuilder;
use crate::schema;

const Q_FIND_STUDY: &str = "SELECT id, name, directions, user_attrs::text, created \
                            FROM tunewise_studies WHERE name = $1";
const Q_LIST_STUDIES: &str = "SELECT id, name, directions, user_attrs::text, created \
                              FROM tunewise_studies ORDER BY id";
const Q_CREATE_STUDY: &str = "INSERT INTO tunewise_studies (name, directions, create_token) \
                              VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING \
                              RETURNING id, name, directions, user_attrs::text, created";
const Q_CREATED_STUDY: &str = "SELECT id, name, directions, user_attrs::text, created \
                               FROM tunewise_studies WHERE name = $1 AND create_token = $2";
const Q_DELETE_STUDY: &str = "SELECT tunewise_delete_study($1)";
const Q_STUDY_ATTR: &str = "UPDATE tunewise_studies \
                            SET user_attrs = user_attrs || jsonb_build_object($2::text, $3::text) \
                            WHERE id = $1 RETURNING id";
const Q_STUDY_EXISTS: &str = "SELECT 1 FROM tunewise_studies WHERE id = $1";
const Q_KEYS_ADD: &str = "INSERT INTO tunewise_param_keys (study_id, name, distribution) \
                          SELECT $1, n, d FROM unnest($2::text[], $3::text[]) AS u(n, d) \
                          ON CONFLICT (study_id, name, distribution) DO NOTHING";
const Q_KEYS_LOAD: &str =
    "SELECT id, name, distribution FROM tunewise_param_keys WHERE study_id = $1";
const Q_INSERT_TRIAL: &str = concat!(
    "SELECT ",
    trial_columns!(),
    " FROM tunewise_insert_trial($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, \
     $10::text::jsonb, $11, $12, $13, $14, $15)"
);
const Q_START_TRIAL: &str =
    concat!("SELECT ", trial_columns!(), " FROM tunewise_start_trial($1, $2, $3, $4, $5)");
/// `start_trial` for a study-wide budget: the claim is undone when the trial it returns is
/// numbered `$6` or more. The function cannot be told to stop short, and adding an argument
/// would change the schema; so the filter raises an error (a division by zero, which the
/// planner cannot fold away since it divides a column), and the error rolls the whole statement
/// back, claim included. One statement, as every state change: no lock outlives the call.
const Q_START_TRIAL_CAPPED: &str = concat!(
    "SELECT ",
    trial_columns!(),
    " FROM tunewise_start_trial($1, $2, $3, $4, $5) \
     WHERE CASE WHEN number >= $6 THEN number / 0 = 0 ELSE true END"
);
/// SQLSTATE of a division by zero: here, the capped claim refused.
const OVER_CAP: &str = "22012";
const Q_RENEW: &str = "SELECT tunewise_renew_lease($1, $2, $3, $4, $5)";
const Q_SET_PARAMS: &str = "SELECT tunewise_set_params($1, $2, $3, $4, $5, $6)";
const Q_TRIAL_ATTR: &str = "SELECT tunewise_set_trial_attr($1, $2, $3, $4, $5, $6)";
const Q_REPORT: &str = "SELECT tunewise_report($1, $2, $3, $4, $5, $6)";
const Q_FINISH: &str = concat!(
    "SELECT ",
    trial_columns!(),
    " FROM tunewise_finish_trial($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
);
/// The study's change counter and the trials changed after a cursor, in one statement (one
/// snapshot), so that the cursor returned covers exactly the trials returned. Run unprepared
/// (planned for its cursor each time): a generic plan would scan the whole study.
const Q_SINCE: &str = concat!(
    "SELECT s.seq, ",
    trial_columns!("t"),
    " FROM tunewise_studies s LEFT JOIN tunewise_trials t ON t.study_id = s.id AND t.seq > $2 \
     WHERE s.id = $1 ORDER BY t.number"
);
const Q_TRIAL: &str = concat!(
    "SELECT ",
    trial_columns!(),
    " FROM tunewise_trials WHERE study_id = $1 AND number = $2"
);
const Q_RELEASE: &str = "SELECT tunewise_release_worker($1, $2)";

/// Storage on PostgreSQL, for many worker processes on many machines sharing studies.
///
/// Cheap to share (`Arc<dyn Storage>`): it holds a small pool of connections and the interned
/// parameter keys of the studies it has read. See the [crate documentation](crate) for the
/// schema, the protocol and what each guarantee rests on.
pub struct PostgresStorage {
    pool: Pool,
    schema: Option<String>,
    keys: RwLock<HashMap<StudyId, Arc<StudyKeys>>>,
    workers: Mutex<Workers>,
    token_base: u64,
    token_count: AtomicU64,
}

impl fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStorage")
            .field("target", &self.pool.settings.target)
            .field("schema", &self.schema)
            .field("tls", &self.pool.settings.tls)
            .finish_non_exhaustive()
    }
}

/// What a storage has done so far, for benchmarks and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PostgresStats {
    /// Connections opened.
    pub connections_opened: u64,
    /// Operations retried after a connection error or a transient error.
    pub retries: u64,
}

/// Where an error happened, for its message and its kind.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    what: &'static str,
    study: Option<StudyId>,
    lease: Option<&'a Lease>,
    number: Option<u64>,
}

impl<'a> Ctx<'a> {
    fn study(what: &'static str, study: StudyId) -> Self {
        Ctx { what, study: Some(study), lease: None, number: None }
    }

    fn lease(what: &'static str, lease: &'a Lease) -> Self {
        Ctx { what, study: Some(lease.study), lease: Some(lease), number: Some(lease.number) }
    }

    fn none(what: &'static str) -> Self {
        Ctx { what, study: None, lease: None, number: None }
    }

    fn error(self, fail: Fail) -> Error {
        let study = || format!("#{}", self.study.map_or(0, |s| s.0));
        match fail {
            Fail::Db { code, message, detail } => match code.as_str() {
                "TW404" => Error::StudyNotFound(study()),
                // A parameter key or trial for a study deleted meanwhile (foreign key).
                "23503" if self.study.is_some() => Error::StudyNotFound(study()),
                "TW405" => Error::TrialNotFound(self.number.unwrap_or(0).to_string()),
                "TW409" => Error::StaleAttempt {
                    number: self.number.unwrap_or(0),
                    attempt: self.lease.map_or(0, |l| l.attempt),
                    reason: message,
                },
                "TW410" => Error::TrialFinished(self.number.unwrap_or(0)),
                "57014" => Error::Storage(format!(
                    "{}: the server cancelled the statement (statement_timeout): {message}",
                    self.what
                )),
                _ => {
                    let detail =
                        if detail.is_empty() { String::new() } else { format!("; {detail}") };
                    Error::Storage(format!("{}: {message} (SQLSTATE {code}){detail}", self.what))
                }
            },
            Fail::Connection(m) | Fail::Transient(m) | Fail::Other(m) | Fail::Unavailable(m) => {
                Error::Storage(format!("{}: {m}", self.what))
            }
        }
    }
}

fn decode_fail(e: DecodeError) -> Fail {
    match e {
        DecodeError::MissingKey(id) => Fail::Other(format!(
            "a trial refers to parameter key {id}, which tunewise_param_keys does not hold"
        )),
        DecodeError::Bad(m) => Fail::Other(m),
    }
}

fn lease_ms(d: Duration) -> i64 {
    i64::try_from(d.as_micros().div_ceil(1000)).unwrap_or(i64::MAX)
}

fn sid(study: StudyId) -> i64 {
    study.0 as i64
}

impl PostgresStorage {
    /// Connects to the database of `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`,
    /// with the URL parameters tokio-postgres reads, plus `sslrootcert=FILE`), with the default
    /// options; creates the schema if missing.
    ///
    /// Fails at once, without retrying, when the server cannot be reached, the database does not
    /// exist, the credentials are refused, or the schema is newer than this build.
    pub fn connect(url: &str) -> Result<PostgresStorage> {
        PostgresBuilder::new(url).connect()
    }

    /// A builder for options beyond the URL (timeouts, reconnect budget, schema, TLS CA file).
    pub fn builder(url: &str) -> PostgresBuilder {
        PostgresBuilder::new(url)
    }

    /// The schema version this build reads and writes.
    pub const SCHEMA_VERSION: i32 = schema::SCHEMA_VERSION;

    pub(crate) fn open(
        settings: Settings,
        schema: Option<String>,
        read_only: bool,
    ) -> Result<PostgresStorage> {
        let target = settings.target.clone();
        let pool = Pool::new(settings);
        let first = |fail: Fail| {
            Ctx::none("connect").error(match fail {
                Fail::Connection(m) | Fail::Transient(m) => Fail::Other(format!(
                    "cannot reach PostgreSQL at {target}: {m}; check that the server runs and \
                     the host and port of the URL"
                )),
                Fail::Db { code, message, .. } if code == "3D000" => Fail::Other(format!(
                    "{message} at {target}; create it (createdb) or fix the database name in \
                     the URL"
                )),
                Fail::Db { code, message, .. } if code.starts_with("28") => Fail::Other(format!(
                    "{message} at {target}; check the user and password of the URL"
                )),
                other => other,
            })
        };
        let mut conn = pool.first().map_err(first)?;
        if read_only {
            schema::check_existing(&mut conn, &target).map_err(first)?;
        } else {
            schema::ensure(&mut conn, schema.as_deref()).map_err(first)?;
        }
        pool.give_back(conn);
        Ok(PostgresStorage {
            pool,
            schema,
            keys: RwLock::new(HashMap::new()),
            workers: Mutex::new(Workers::default()),
            token_base: Rng::os_seed(),
            token_count: AtomicU64::new(0),
        })
    }

    /// Counters of what this storage has done.
    pub fn stats(&self) -> PostgresStats {
        PostgresStats {
            connections_opened: self.pool.counters.connects.load(Ordering::Relaxed),
            retries: self.pool.counters.retries.load(Ordering::Relaxed),
        }
    }

    /// A token no other call uses, that makes a retried write recognize its own first try.
    fn token(&self) -> i64 {
        mix64(self.token_base.wrapping_add(self.token_count.fetch_add(1, Ordering::Relaxed))) as i64
    }

    fn run<T>(
        &self,
        ctx: Ctx<'_>,
        op: impl FnMut(&mut Conn, bool) -> Result<T, Fail>,
    ) -> Result<T> {
        self.pool.run(op).map_err(|f| ctx.error(f))
    }

    fn cached_keys(&self, study: StudyId) -> Arc<StudyKeys> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.get(&study).cloned().unwrap_or_default()
    }

    /// Reloads the parameter keys of a study (another worker may have registered new ones).
    fn reload_keys(&self, conn: &mut Conn, study: StudyId) -> Result<Arc<StudyKeys>, Fail> {
        let rows = conn.query(Q_KEYS_LOAD, &[&sid(study)])?;
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        let merged = keys.get(&study).cloned().unwrap_or_default().merged(&rows);
        let merged = Arc::new(merged.map_err(decode_fail)?);
        keys.insert(study, merged.clone());
        Ok(merged)
    }

    /// The key ids and internal values of parameters, registering new keys first.
    fn encode_params(
        &self,
        ctx: Ctx<'_>,
        study: StudyId,
        params: &[Param],
    ) -> Result<(Vec<i32>, Vec<f64>)> {
        let values: Vec<f64> = params.iter().map(|p| p.internal).collect();
        let known = |keys: &StudyKeys| params.iter().map(|p| keys.id_of(p)).collect::<Option<_>>();
        if let Some(ids) = known(&self.cached_keys(study)) {
            return Ok((ids, values));
        }
        let mut names = Vec::with_capacity(params.len());
        let mut dists = Vec::with_capacity(params.len());
        for p in params {
            names.push(&*p.name);
            dists.push(serde_json::to_string(&*p.distribution).map_err(|e| {
                Error::Storage(format!("{}: cannot encode a distribution: {e}", ctx.what))
            })?);
        }
        let keys = self.run(ctx, |c, _| {
            c.query(Q_KEYS_ADD, &[&sid(study), &names, &dists])?;
            self.reload_keys(c, study)
        })?;
        match known(&keys) {
            Some(ids) => Ok((ids, values)),
            None => Err(Error::Storage(format!(
                "{}: a parameter key was registered but not found again",
                ctx.what
            ))),
        }
    }

    /// Decodes trial rows, reloading the study's keys once if a row names one not yet loaded.
    fn decode(
        &self,
        conn: &mut Conn,
        study: StudyId,
        rows: &[Row],
        at: usize,
    ) -> Result<Vec<FrozenTrial>, Fail> {
        let mut keys = self.cached_keys(study);
        let mut reloaded = false;
        loop {
            let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
            let decoded: Result<Vec<FrozenTrial>, DecodeError> =
                rows.iter().map(|r| codec::trial(r, at, &keys, &mut workers)).collect();
            drop(workers);
            match decoded {
                Ok(trials) => return Ok(trials),
                Err(DecodeError::MissingKey(_)) if !reloaded => {
                    keys = self.reload_keys(conn, study)?;
                    reloaded = true;
                }
                Err(e) => return Err(decode_fail(e)),
            }
        }
    }

    fn decode_one(
        &self,
        conn: &mut Conn,
        study: StudyId,
        rows: &[Row],
    ) -> Result<FrozenTrial, Fail> {
        let Some(row) = rows.first() else {
            return Err(Fail::Other("the server returned no trial".into()));
        };
        let mut trials = self.decode(conn, study, std::slice::from_ref(row), 0)?;
        trials.pop().ok_or_else(|| Fail::Other("the server returned no trial".into()))
    }
}

fn study_one(rows: &[Row]) -> Result<Option<StudyRecord>, Fail> {
    rows.first().map(codec::study).transpose().map_err(decode_fail)
}

impl Storage for PostgresStorage {
    fn create_study(&self, name: &str, directions: &[Direction]) -> Result<StudyRecord> {
        let dirs: Vec<&str> = directions.iter().map(|d| codec::direction_str(*d)).collect();
        let token = self.token();
        let created = self.run(Ctx::none("create_study"), |c, retry| {
            if let Some(s) = study_one(&c.query(Q_CREATE_STUDY, &[&name, &dirs, &token])?)? {
                return Ok(Some(s));
            }
            // A retry whose first try committed finds its own study.
            if retry {
                return study_one(&c.query(Q_CREATED_STUDY, &[&name, &token])?);
            }
            Ok(None)
        })?;
        created.ok_or_else(|| Error::StudyExists(name.to_owned()))
    }

    fn find_study(&self, name: &str) -> Result<Option<StudyRecord>> {
        self.run(Ctx::none("find_study"), |c, _| study_one(&c.query(Q_FIND_STUDY, &[&name])?))
    }

    fn list_studies(&self) -> Result<Vec<StudyRecord>> {
        self.run(Ctx::none("list_studies"), |c, _| {
            let rows = c.query(Q_LIST_STUDIES, &[])?;
            rows.iter().map(codec::study).collect::<Result<_, _>>().map_err(decode_fail)
        })
    }

    fn delete_study(&self, study: StudyId) -> Result<()> {
        let deleted = self.run(Ctx::study("delete_study", study), |c, retry| {
            let rows = c.query(Q_DELETE_STUDY, &[&sid(study)])?;
            let deleted = rows
                .first()
                .and_then(|r| r.try_get::<_, Option<bool>>(0).ok().flatten())
                .unwrap_or(false);
            // A retry whose first try committed finds nothing left to delete: that is success.
            Ok(deleted || retry)
        })?;
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.remove(&study);
        if deleted {
            Ok(())
        } else {
            Err(Error::StudyNotFound(format!("#{}", study.0)))
        }
    }

    fn set_study_user_attr(&self, study: StudyId, key: &str, value: AttrValue) -> Result<()> {
        let text = codec::attr_text(&value).map_err(Error::Storage)?;
        let updated = self.run(Ctx::study("set_study_user_attr", study), |c, _| {
            Ok(!c.query(Q_STUDY_ATTR, &[&sid(study), &key, &text])?.is_empty())
        })?;
        if updated {
            Ok(())
        } else {
            Err(Error::StudyNotFound(format!("#{}", study.0)))
        }
    }

    fn insert_trial(&self, study: StudyId, trial: &FrozenTrial) -> Result<Arc<FrozenTrial>> {
        if !(trial.state == TrialState::Waiting || trial.state.is_finished()) {
            return Err(Error::InvalidConfig(
                "insert_trial takes a waiting or finished trial; running trials come from start_trial"
                    .into(),
            ));
        }
        let ctx = Ctx::study("insert_trial", study);
        let (keys, values) = self.encode_params(ctx, study, &trial.params)?;
        let (keys, values) =
            if keys.is_empty() { (None, None) } else { (Some(keys), Some(values)) };
        let fixed = codec::fixed_json(&trial.fixed_params).map_err(Error::Storage)?;
        let intermediate = codec::intermediate_json(&trial.intermediate_values);
        let attrs = codec::attrs_json(&trial.user_attrs).map_err(Error::Storage)?;
        let constraints = (!trial.constraints.is_empty()).then_some(&trial.constraints);
        let attempt = i32::try_from(trial.attempt).unwrap_or(i32::MAX);
        let token = self.token();
        let stored = self.run(ctx, |c, retry| {
            let rows = c.query(
                Q_INSERT_TRIAL,
                &[
                    &sid(study),
                    &trial.state.as_str(),
                    &attempt,
                    &keys,
                    &values,
                    &fixed,
                    &trial.values,
                    &constraints,
                    &intermediate,
                    &attrs,
                    &trial.fail_reason,
                    &trial.datetime_start,
                    &trial.datetime_complete,
                    &token,
                    &retry,
                ],
            )?;
            self.decode_one(c, study, &rows)
        })?;
        Ok(Arc::new(stored))
    }

    fn start_trial(
        &self,
        study: StudyId,
        worker: &str,
        lease: Option<Duration>,
    ) -> Result<Arc<FrozenTrial>> {
        let lease = lease.map(lease_ms);
        let token = self.token();
        let trial = self.run(Ctx::study("start_trial", study), |c, retry| {
            let rows = c.query(Q_START_TRIAL, &[&sid(study), &worker, &lease, &token, &retry])?;
            self.decode_one(c, study, &rows)
        })?;
        Ok(Arc::new(trial))
    }

    fn start_trial_capped(
        &self,
        study: StudyId,
        worker: &str,
        lease: Option<Duration>,
        max_trials: u64,
    ) -> Result<Option<Arc<FrozenTrial>>> {
        let lease = lease.map(lease_ms);
        let token = self.token();
        let max = i64::try_from(max_trials).unwrap_or(i64::MAX);
        self.run(Ctx::study("start_trial_capped", study), |c, retry| {
            let args: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
                [&sid(study), &worker, &lease, &token, &retry, &max];
            match c.query(Q_START_TRIAL_CAPPED, &args) {
                Ok(rows) => self.decode_one(c, study, &rows).map(|t| Some(Arc::new(t))),
                Err(Fail::Db { code, .. }) if code == OVER_CAP => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn renew_lease(&self, lease: &Lease, duration: Duration) -> Result<()> {
        let ms = lease_ms(duration);
        self.run(Ctx::lease("renew_lease", lease), |c, _| {
            c.query(
                Q_RENEW,
                &[
                    &sid(lease.study),
                    &(lease.trial_id as i64),
                    &(lease.number as i64),
                    &(lease.attempt as i32),
                    &ms,
                ],
            )?;
            Ok(())
        })
    }

    fn set_trial_params(&self, lease: &Lease, params: &[Param]) -> Result<()> {
        let ctx = Ctx::lease("set_trial_params", lease);
        let (keys, values) = self.encode_params(ctx, lease.study, params)?;
        self.run(ctx, |c, _| {
            c.query(
                Q_SET_PARAMS,
                &[
                    &sid(lease.study),
                    &(lease.trial_id as i64),
                    &(lease.number as i64),
                    &(lease.attempt as i32),
                    &keys,
                    &values,
                ],
            )?;
            Ok(())
        })
    }

    fn set_trial_user_attr(&self, lease: &Lease, key: &str, value: AttrValue) -> Result<()> {
        let text = codec::attr_text(&value).map_err(Error::Storage)?;
        self.run(Ctx::lease("set_trial_user_attr", lease), |c, _| {
            c.query(
                Q_TRIAL_ATTR,
                &[
                    &sid(lease.study),
                    &(lease.trial_id as i64),
                    &(lease.number as i64),
                    &(lease.attempt as i32),
                    &key,
                    &text,
                ],
            )?;
            Ok(())
        })
    }

    fn report(&self, lease: &Lease, step: u64, values: &[f64]) -> Result<()> {
        let text = codec::values_text(values);
        let step = i64::try_from(step).map_err(|_| {
            Error::InvalidConfig(format!("step {step} is too large (at most 2^63 - 1)"))
        })?;
        self.run(Ctx::lease("report", lease), |c, _| {
            c.query(
                Q_REPORT,
                &[
                    &sid(lease.study),
                    &(lease.trial_id as i64),
                    &(lease.number as i64),
                    &(lease.attempt as i32),
                    &step,
                    &text,
                ],
            )?;
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
        let ctx = Ctx::lease("finish_trial", lease);
        let (keys, values) = self.encode_params(ctx, lease.study, &finish.params)?;
        let constraints = (!finish.constraints.is_empty()).then_some(&finish.constraints);
        let token = self.token();
        let trial = self.run(ctx, |c, retry| {
            let rows = c.query(
                Q_FINISH,
                &[
                    &sid(lease.study),
                    &(lease.trial_id as i64),
                    &(lease.number as i64),
                    &(lease.attempt as i32),
                    &finish.state.as_str(),
                    &finish.values,
                    &constraints,
                    &finish.fail_reason,
                    &keys,
                    &values,
                    &token,
                    &retry,
                ],
            )?;
            self.decode_one(c, lease.study, &rows)
        })?;
        Ok(Arc::new(trial))
    }

    fn trials_since(&self, study: StudyId, cursor: u64) -> Result<TrialChanges> {
        let since = i64::try_from(cursor).unwrap_or(i64::MAX);
        self.run(Ctx::study("trials_since", study), |c, _| {
            let study_id = sid(study);
            let rows = c.query_typed(Q_SINCE, &[(&study_id, Type::INT8), (&since, Type::INT8)])?;
            let Some(first) = rows.first() else {
                return Err(Fail::Db {
                    code: "TW404".into(),
                    message: String::new(),
                    detail: String::new(),
                });
            };
            let seq: i64 = first.try_get(0).map_err(|e| Fail::Other(e.to_string()))?;
            // A study without changed trials gives one row of NULL trial columns.
            let changed = match first.try_get::<_, Option<i64>>(1) {
                Ok(None) => Vec::new(),
                _ => self.decode(c, study, &rows, 1)?,
            };
            Ok(TrialChanges {
                trials: changed.into_iter().map(Arc::new).collect(),
                cursor: seq.max(0) as u64,
            })
        })
    }

    fn trial(&self, study: StudyId, number: u64) -> Result<Arc<FrozenTrial>> {
        let n = i64::try_from(number).unwrap_or(i64::MAX);
        let ctx = Ctx { number: Some(number), ..Ctx::study("trial", study) };
        let found = self.run(ctx, |c, _| {
            let rows = c.query(Q_TRIAL, &[&sid(study), &n])?;
            if rows.is_empty() {
                let code = if c.query(Q_STUDY_EXISTS, &[&sid(study)])?.is_empty() {
                    "TW404"
                } else {
                    "TW405"
                };
                return Err(Fail::Db {
                    code: code.into(),
                    message: String::new(),
                    detail: String::new(),
                });
            }
            self.decode_one(c, study, &rows)
        })?;
        Ok(Arc::new(found))
    }

    fn release_worker(&self, study: StudyId, worker: &str) -> Result<usize> {
        self.run(Ctx::study("release_worker", study), |c, _| {
            let rows = c.query(Q_RELEASE, &[&sid(study), &worker])?;
            let n = rows.first().and_then(|r| r.try_get::<_, Option<i32>>(0).ok().flatten());
            let n = n.unwrap_or(0);
            Ok(n.max(0) as usize)
        })
    }
}

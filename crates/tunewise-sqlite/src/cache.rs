//! What a process keeps of the database between transactions: interned parameter keys (name and
//! distribution, shared as `Arc`s by every trial that uses them) and interned strings (worker
//! ids, names of fixed values). And the decoding of trial rows, which needs both.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row};
use tunewise_core::{Distribution, Error, FrozenTrial, Param};

use crate::codec::{self, damaged};
use crate::error::Fail;

/// The columns of a trial row, in the order [`Cache::trial`] decodes them.
pub(crate) const TRIAL_COLUMNS: &str = "id, number, state, attempt, worker_id, params, \
     fixed_params, vals, constraints, user_attrs, fail_reason, datetime_start, \
     datetime_complete, reported";

/// A parameter key: one (name, distribution) pair of one study.
#[derive(Debug)]
struct Key {
    study: i64,
    name: Arc<str>,
    distribution: Arc<Distribution>,
}

/// A study's keys by name: each name may have several distributions.
type KeysByName = BTreeMap<Arc<str>, Vec<(Arc<Distribution>, i64)>>;

/// Keys and strings seen by this process. Key rows never change and their ids are never reused
/// (`AUTOINCREMENT`), so a cached key stays right for as long as its study exists.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    by_id: HashMap<i64, Key>,
    /// Study → name → (distribution, key id).
    by_name: BTreeMap<i64, KeysByName>,
    strings: BTreeSet<Arc<str>>,
    /// Keys inserted by the open transaction: if it rolls back, the cache is dropped.
    inserted_keys: bool,
}

impl Cache {
    /// Called when a transaction commits.
    pub(crate) fn committed(&mut self) {
        self.inserted_keys = false;
    }

    /// Called when a transaction rolls back: keys it inserted do not exist.
    pub(crate) fn rolled_back(&mut self) {
        if self.inserted_keys {
            self.by_id.clear();
            self.by_name.clear();
            self.inserted_keys = false;
        }
    }

    /// Forgets a deleted study's keys.
    pub(crate) fn forget_study(&mut self, study: i64) {
        self.by_name.remove(&study);
        self.by_id.retain(|_, k| k.study != study);
    }

    pub(crate) fn intern(&mut self, s: &str) -> Arc<str> {
        match self.strings.get(s) {
            Some(a) => a.clone(),
            None => {
                let a: Arc<str> = Arc::from(s);
                self.strings.insert(a.clone());
                a
            }
        }
    }

    fn remember(&mut self, id: i64, study: i64, name: Arc<str>, distribution: Arc<Distribution>) {
        self.by_name
            .entry(study)
            .or_default()
            .entry(name.clone())
            .or_default()
            .push((distribution.clone(), id));
        self.by_id.insert(id, Key { study, name, distribution });
    }

    /// Reads every key of a study this process has not seen yet.
    fn load_keys(&mut self, conn: &Connection, study: i64) -> Result<(), Fail> {
        let mut stmt = conn
            .prepare_cached("SELECT id, name, distribution FROM param_keys WHERE study_id = ?1")?;
        let mut rows = stmt.query([study])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if self.by_id.contains_key(&id) {
                continue;
            }
            let name = self.intern(row.get_ref(1)?.as_str().map_err(conv(1))?);
            let text = row.get_ref(2)?.as_str().map_err(conv(2))?;
            let distribution: Distribution = serde_json::from_str(text)
                .map_err(|_| damaged(format_args!("distribution of parameter '{name}'")))?;
            self.remember(id, study, name, Arc::new(distribution));
        }
        Ok(())
    }

    fn key(&mut self, conn: &Connection, study: i64, id: i64) -> Result<&Key, Fail> {
        if !self.by_id.contains_key(&id) {
            self.load_keys(conn, study)?;
        }
        self.by_id.get(&id).ok_or_else(|| Fail::Core(damaged(format_args!("parameter key {id}"))))
    }

    /// The key id of a parameter, inserting the key if the study has none for it yet. Runs
    /// inside a write transaction.
    pub(crate) fn key_id(
        &mut self,
        conn: &Connection,
        study: i64,
        param: &Param,
    ) -> Result<i64, Fail> {
        let cached = |cache: &Cache| {
            let list = cache.by_name.get(&study)?.get(&*param.name)?;
            list.iter()
                .find(|(d, _)| Arc::ptr_eq(d, &param.distribution) || **d == *param.distribution)
                .map(|(_, id)| *id)
        };
        if let Some(id) = cached(self) {
            return Ok(id);
        }
        self.load_keys(conn, study)?;
        if let Some(id) = cached(self) {
            return Ok(id);
        }
        let text = serde_json::to_string(&*param.distribution).ok();
        let readable = text
            .as_deref()
            .and_then(|t| serde_json::from_str::<Distribution>(t).ok())
            .is_some_and(|d| d == *param.distribution);
        let (Some(text), true) = (text, readable) else {
            return Err(Fail::Core(Error::Storage(format!(
                "parameter '{}': its distribution {} cannot be stored exactly (a choice or bound \
                 that is not a finite number?)",
                param.name, param.distribution
            ))));
        };
        let id: i64 = conn
            .prepare_cached(
                "INSERT INTO param_keys (study_id, name, distribution) VALUES (?1, ?2, ?3) \
                 RETURNING id",
            )?
            .query_row(rusqlite::params![study, &*param.name, text], |r| r.get(0))?;
        self.inserted_keys = true;
        let name = self.intern(&param.name);
        self.remember(id, study, name, param.distribution.clone());
        Ok(id)
    }

    /// Decodes a parameter blob.
    pub(crate) fn params(
        &mut self,
        conn: &Connection,
        study: i64,
        blob: Option<&[u8]>,
    ) -> Result<Vec<Param>, Fail> {
        let Some(blob) = blob else { return Ok(Vec::new()) };
        let mut out = Vec::with_capacity(blob.len() / codec::PARAM_BYTES);
        for (id, internal) in codec::decode_params(blob)? {
            let key = self.key(conn, study, id)?;
            out.push(Param {
                name: key.name.clone(),
                distribution: key.distribution.clone(),
                internal,
            });
        }
        Ok(out)
    }

    /// Adds parameters to a stored list, replacing any of the same name (as `InMemoryStorage`).
    pub(crate) fn merge_params(
        &mut self,
        conn: &Connection,
        study: i64,
        stored: Option<&[u8]>,
        params: &[Param],
    ) -> Result<Vec<u8>, Fail> {
        let mut list: Vec<(i64, f64)> = match stored {
            Some(b) => codec::decode_params(b)?.collect(),
            None => Vec::new(),
        };
        for p in params {
            let id = self.key_id(conn, study, p)?;
            let mut same = None;
            for (i, (k, _)) in list.iter().enumerate() {
                if *k == id || *self.key(conn, study, *k)?.name == *p.name {
                    same = Some(i);
                    break;
                }
            }
            match same {
                Some(i) => list[i] = (id, p.internal),
                None => list.push((id, p.internal)),
            }
        }
        Ok(codec::encode_params(&list))
    }

    /// The fixed values of a trial run again: its fixed values, then its parameters' values
    /// (a name fixed already keeps its fixed value), as `InMemoryStorage` does.
    pub(crate) fn requeued_fixed(
        &mut self,
        conn: &Connection,
        study: i64,
        params: Option<&[u8]>,
        fixed: Option<&str>,
    ) -> Result<Option<String>, Fail> {
        let mut list = match fixed {
            Some(t) => codec::decode_fixed(t, &mut |s| self.intern(s))?,
            None => Vec::new(),
        };
        for p in self.params(conn, study, params)? {
            if !list.iter().any(|(n, _)| *n == p.name) {
                let value = p.value();
                list.push((p.name, value));
            }
        }
        Ok(codec::encode_fixed(&list))
    }

    /// Decodes a row of [`TRIAL_COLUMNS`]; the second value says whether the trial has
    /// intermediate values to read from their table.
    pub(crate) fn trial(
        &mut self,
        conn: &Connection,
        study: i64,
        row: &Row<'_>,
    ) -> Result<(FrozenTrial, bool), Fail> {
        let id: i64 = row.get(0)?;
        let number: i64 = row.get(1)?;
        let state = codec::state_from_str(row.get_ref(2)?.as_bytes().map_err(conv(2))?)?;
        let mut t = FrozenTrial::new(id as u64, number as u64, state);
        t.attempt = row.get(3)?;
        t.worker_id = match row.get_ref(4)? {
            ValueRef::Null => None,
            v => Some(self.intern(v.as_str().map_err(conv(4))?)),
        };
        t.params = self.params(conn, study, row.get_ref(5)?.as_blob_or_null().map_err(conv(5))?)?;
        if let Some(text) = row.get_ref(6)?.as_str_or_null().map_err(conv(6))? {
            t.fixed_params = codec::decode_fixed(text, &mut |s| self.intern(s))?;
        }
        if let Some(b) = row.get_ref(7)?.as_blob_or_null().map_err(conv(7))? {
            t.values = Some(codec::decode_f64s(b, "list of values")?);
        }
        if let Some(b) = row.get_ref(8)?.as_blob_or_null().map_err(conv(8))? {
            t.constraints = codec::decode_f64s(b, "list of constraints")?;
        }
        t.user_attrs = codec::decode_attrs(row.get_ref(9)?.as_str_or_null().map_err(conv(9))?)?;
        t.fail_reason = row.get(10)?;
        t.datetime_start = row.get::<_, Option<i64>>(11)?.map(codec::from_micros).transpose()?;
        t.datetime_complete = row.get::<_, Option<i64>>(12)?.map(codec::from_micros).transpose()?;
        let reported = row.get::<_, i64>(13)? != 0;
        Ok((t, reported))
    }
}

/// Turns a column type mismatch into a rusqlite error naming the column.
fn conv(column: usize) -> impl Fn(rusqlite::types::FromSqlError) -> rusqlite::Error {
    move |e| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Null, e.into())
    }
}

//! The database schema: tables, indexes and the functions that make each state change one
//! statement, and its creation under an advisory lock.

use crate::conn::{Conn, Fail};

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i32 = 1;

/// Key of the advisory lock held while the schema is created or migrated (`"tunewise"` in
/// ASCII), so that concurrent first connections do not race on `CREATE`.
const SCHEMA_LOCK: i64 = 0x74_75_6e_65_77_69_73_65;

/// Tables and indexes of schema version 1.
///
/// - `tunewise_studies.seq` is the study's change counter: every transaction that changes a
///   trial bumps it (so writers of one study serialize on that row) and stamps the trial with
///   the new value; `trials_since(cursor)` reads `seq > cursor`.
/// - `tunewise_param_keys` interns (name, distribution) pairs per study; a trial stores its
///   parameters as two arrays, key ids and internal values.
/// - Numbers, floats and timestamps are typed columns (exact in the binary protocol); JSON is
///   kept as text or as JSON strings, so that values read back exactly as written.
const TABLES_V1: &str = r#"
CREATE TABLE IF NOT EXISTS tunewise_studies (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    directions   text[] NOT NULL,
    -- key -> the value's JSON text
    user_attrs   jsonb NOT NULL DEFAULT '{}'::jsonb,
    created      timestamptz NOT NULL DEFAULT clock_timestamp(),
    next_number  bigint NOT NULL DEFAULT 0,
    seq          bigint NOT NULL DEFAULT 0,
    create_token bigint
);

CREATE TABLE IF NOT EXISTS tunewise_param_keys (
    id           serial PRIMARY KEY,
    study_id     bigint NOT NULL REFERENCES tunewise_studies (id) ON DELETE CASCADE,
    name         text NOT NULL,
    -- the distribution as tunewise serializes it (tagged JSON)
    distribution text NOT NULL,
    UNIQUE (study_id, name, distribution)
);

CREATE TABLE IF NOT EXISTS tunewise_trials (
    id                bigserial PRIMARY KEY,
    study_id          bigint NOT NULL REFERENCES tunewise_studies (id) ON DELETE CASCADE,
    number            bigint NOT NULL,
    state             text NOT NULL
                      CHECK (state IN ('waiting', 'running', 'complete', 'pruned', 'failed')),
    attempt           integer NOT NULL DEFAULT 0,
    seq               bigint NOT NULL,
    worker_id         text,
    -- while running: when the lease expires (NULL: never)
    lease_until       timestamptz,
    -- client-generated tokens that make retried writes idempotent
    claim_token       bigint,
    insert_token      bigint,
    finish_token      bigint,
    param_keys        integer[],
    param_values      double precision[],
    -- fixed values given when enqueued: JSON [[name, value], ...]
    fixed_params      text,
    -- fixed values of earlier attempts, as (key id, internal value)
    fixed_keys        integer[],
    fixed_values      double precision[],
    objective_values  double precision[],
    constraint_values double precision[],
    -- step -> the values as text, 'v1 v2 ...'
    intermediate      jsonb,
    -- key -> the value's JSON text
    user_attrs        jsonb,
    fail_reason       text,
    datetime_start    timestamptz,
    datetime_complete timestamptz,
    UNIQUE (study_id, number)
);

CREATE INDEX IF NOT EXISTS tunewise_trials_changes ON tunewise_trials (study_id, seq);
CREATE INDEX IF NOT EXISTS tunewise_trials_waiting
    ON tunewise_trials (study_id, number) WHERE state = 'waiting';
CREATE INDEX IF NOT EXISTS tunewise_trials_running
    ON tunewise_trials (study_id, lease_until) WHERE state = 'running';
"#;

/// Functions of schema version 1: one call is one statement, so one transaction whose locks are
/// held only while the server runs it, never across a round trip to a client that may freeze.
///
/// Lock order, to rule out deadlocks: a transaction locks trial rows first and the study row
/// (`tunewise_bump`) last; nothing that holds the study row waits for a trial row.
///
/// Refusals are raised with SQLSTATEs of our own: `TW404` no such study, `TW405` no such trial,
/// `TW409` the attempt no longer holds the trial, `TW410` the trial has finished.
const FUNCTIONS_V1: &str = r#"
CREATE OR REPLACE FUNCTION tunewise_bump(p_study bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    UPDATE tunewise_studies SET seq = seq + 1 WHERE id = p_study RETURNING seq INTO v;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no study #%', p_study USING ERRCODE = 'TW404';
    END IF;
    RETURN v;
END $$;

CREATE OR REPLACE FUNCTION tunewise_refuse(p_study bigint, p_id bigint, p_number bigint,
                                           p_attempt integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_attempt integer;
    v_state text;
BEGIN
    SELECT attempt, state INTO v_attempt, v_state FROM tunewise_trials
     WHERE id = p_id AND study_id = p_study AND number = p_number;
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT 1 FROM tunewise_studies WHERE id = p_study) THEN
            RAISE EXCEPTION 'no study #%', p_study USING ERRCODE = 'TW404';
        END IF;
        RAISE EXCEPTION 'no trial % with id %', p_number, p_id USING ERRCODE = 'TW405';
    END IF;
    IF v_attempt <> p_attempt THEN
        RAISE EXCEPTION 'the trial was reclaimed as attempt %', v_attempt USING ERRCODE = 'TW409';
    END IF;
    RAISE EXCEPTION 'trial % is %', p_number, v_state USING ERRCODE = 'TW410';
END $$;

-- Locks the running trial a lease names, or raises why the lease does not hold.
CREATE OR REPLACE FUNCTION tunewise_lock_running(p_study bigint, p_id bigint, p_number bigint,
                                                 p_attempt integer) RETURNS tunewise_trials
LANGUAGE plpgsql AS $$
DECLARE
    t tunewise_trials;
BEGIN
    SELECT * INTO t FROM tunewise_trials
     WHERE id = p_id AND study_id = p_study AND number = p_number AND attempt = p_attempt
       AND state = 'running'
       FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM tunewise_refuse(p_study, p_id, p_number, p_attempt);
    END IF;
    RETURN t;
END $$;

-- Adds parameters, replacing any of the same name in place.
CREATE OR REPLACE FUNCTION tunewise_merge_params(INOUT keys integer[],
                                                 INOUT vals double precision[],
                                                 p_keys integer[], p_vals double precision[])
LANGUAGE plpgsql AS $$
DECLARE
    names text[];
    new_name text;
    i integer;
BEGIN
    IF p_keys IS NULL OR cardinality(p_keys) = 0 THEN
        RETURN;
    END IF;
    IF keys IS NULL OR cardinality(keys) = 0 THEN
        keys := p_keys;
        vals := p_vals;
        RETURN;
    END IF;
    SELECT array_agg(k.name ORDER BY o.ord) INTO names
      FROM unnest(keys) WITH ORDINALITY AS o(id, ord)
      LEFT JOIN tunewise_param_keys k ON k.id = o.id;
    FOR j IN 1 .. cardinality(p_keys) LOOP
        SELECT name INTO new_name FROM tunewise_param_keys WHERE id = p_keys[j];
        i := array_position(names, new_name);
        IF i IS NULL THEN
            keys := keys || p_keys[j];
            vals := vals || p_vals[j];
            names := names || new_name;
        ELSE
            keys[i] := p_keys[j];
            vals[i] := p_vals[j];
        END IF;
    END LOOP;
END $$;

-- Claims the oldest waiting trial, else a running trial whose lease expired (attempt + 1, its
-- parameters kept as fixed values), else creates a trial. A retry after an ambiguous failure
-- first looks for the trial the first try may have claimed.
CREATE OR REPLACE FUNCTION tunewise_start_trial(p_study bigint, p_worker text, p_lease_ms bigint,
                                                p_token bigint, p_retry boolean)
RETURNS tunewise_trials
LANGUAGE plpgsql AS $$
DECLARE
    t tunewise_trials;
    v_id bigint;
    v_seq bigint;
    v_number bigint;
    v_now timestamptz := clock_timestamp();
    v_lease timestamptz;
BEGIN
    IF p_lease_ms IS NOT NULL THEN
        v_lease := v_now + p_lease_ms * interval '1 millisecond';
    END IF;
    IF p_retry THEN
        SELECT * INTO t FROM tunewise_trials
         WHERE study_id = p_study AND state = 'running' AND claim_token = p_token;
        IF FOUND THEN
            RETURN t;
        END IF;
    END IF;

    SELECT id INTO v_id FROM tunewise_trials
     WHERE study_id = p_study AND state = 'waiting'
     ORDER BY number LIMIT 1
       FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
        v_seq := tunewise_bump(p_study);
        UPDATE tunewise_trials
           SET state = 'running', worker_id = p_worker, lease_until = v_lease,
               claim_token = p_token, datetime_start = v_now, seq = v_seq
         WHERE id = v_id
        RETURNING * INTO t;
        RETURN t;
    END IF;

    SELECT id INTO v_id FROM tunewise_trials
     WHERE study_id = p_study AND state = 'running' AND lease_until <= v_now
     ORDER BY lease_until LIMIT 1
       FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
        v_seq := tunewise_bump(p_study);
        UPDATE tunewise_trials
           SET attempt = attempt + 1, worker_id = p_worker, lease_until = v_lease,
               claim_token = p_token, datetime_start = v_now, seq = v_seq,
               fixed_keys = coalesce(fixed_keys, '{}') || coalesce(param_keys, '{}'),
               fixed_values = coalesce(fixed_values, '{}') || coalesce(param_values, '{}'),
               param_keys = NULL, param_values = NULL, intermediate = NULL
         WHERE id = v_id
        RETURNING * INTO t;
        RETURN t;
    END IF;

    UPDATE tunewise_studies SET seq = seq + 1, next_number = next_number + 1
     WHERE id = p_study
    RETURNING seq, next_number - 1 INTO v_seq, v_number;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no study #%', p_study USING ERRCODE = 'TW404';
    END IF;
    INSERT INTO tunewise_trials (study_id, number, state, seq, worker_id, lease_until,
                                 claim_token, datetime_start)
    VALUES (p_study, v_number, 'running', v_seq, p_worker, v_lease, p_token, v_now)
    RETURNING * INTO t;
    RETURN t;
END $$;

-- Inserts a waiting or finished trial with the next number.
CREATE OR REPLACE FUNCTION tunewise_insert_trial(
    p_study bigint, p_state text, p_attempt integer, p_keys integer[],
    p_vals double precision[], p_fixed text, p_values double precision[],
    p_constraints double precision[], p_intermediate jsonb, p_attrs jsonb, p_fail text,
    p_start timestamptz, p_complete timestamptz, p_token bigint, p_retry boolean)
RETURNS tunewise_trials
LANGUAGE plpgsql AS $$
DECLARE
    t tunewise_trials;
    v_seq bigint;
    v_number bigint;
BEGIN
    IF p_retry THEN
        SELECT * INTO t FROM tunewise_trials WHERE study_id = p_study AND insert_token = p_token;
        IF FOUND THEN
            RETURN t;
        END IF;
    END IF;
    UPDATE tunewise_studies SET seq = seq + 1, next_number = next_number + 1
     WHERE id = p_study
    RETURNING seq, next_number - 1 INTO v_seq, v_number;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no study #%', p_study USING ERRCODE = 'TW404';
    END IF;
    INSERT INTO tunewise_trials (study_id, number, state, attempt, seq, insert_token, param_keys,
                                 param_values, fixed_params, objective_values,
                                 constraint_values, intermediate, user_attrs, fail_reason,
                                 datetime_start, datetime_complete)
    VALUES (p_study, v_number, p_state, p_attempt, v_seq, p_token, p_keys, p_vals, p_fixed,
            p_values, p_constraints, p_intermediate, p_attrs, p_fail, p_start,
            CASE WHEN p_state IN ('complete', 'pruned', 'failed')
                 THEN coalesce(p_complete, clock_timestamp()) ELSE p_complete END)
    RETURNING * INTO t;
    RETURN t;
END $$;

CREATE OR REPLACE FUNCTION tunewise_renew_lease(p_study bigint, p_id bigint, p_number bigint,
                                                p_attempt integer, p_lease_ms bigint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tunewise_trials
       SET lease_until = clock_timestamp() + p_lease_ms * interval '1 millisecond'
     WHERE id = p_id AND study_id = p_study AND number = p_number AND attempt = p_attempt
       AND state = 'running';
    IF NOT FOUND THEN
        PERFORM tunewise_refuse(p_study, p_id, p_number, p_attempt);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION tunewise_set_params(p_study bigint, p_id bigint, p_number bigint,
                                               p_attempt integer, p_keys integer[],
                                               p_vals double precision[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t tunewise_trials;
    v_seq bigint;
    k integer[];
    v double precision[];
BEGIN
    t := tunewise_lock_running(p_study, p_id, p_number, p_attempt);
    SELECT m.keys, m.vals INTO k, v
      FROM tunewise_merge_params(t.param_keys, t.param_values, p_keys, p_vals) AS m;
    v_seq := tunewise_bump(p_study);
    UPDATE tunewise_trials SET param_keys = k, param_values = v, seq = v_seq
     WHERE id = p_id AND attempt = p_attempt AND state = 'running';
END $$;

CREATE OR REPLACE FUNCTION tunewise_set_trial_attr(p_study bigint, p_id bigint,
                                                   p_number bigint, p_attempt integer,
                                                   p_key text, p_value text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t tunewise_trials;
    v_seq bigint;
BEGIN
    t := tunewise_lock_running(p_study, p_id, p_number, p_attempt);
    v_seq := tunewise_bump(p_study);
    UPDATE tunewise_trials
       SET user_attrs = coalesce(user_attrs, '{}'::jsonb) || jsonb_build_object(p_key, p_value),
           seq = v_seq
     WHERE id = p_id AND attempt = p_attempt AND state = 'running';
END $$;

CREATE OR REPLACE FUNCTION tunewise_report(p_study bigint, p_id bigint, p_number bigint,
                                           p_attempt integer, p_step bigint, p_values text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t tunewise_trials;
    v_seq bigint;
BEGIN
    t := tunewise_lock_running(p_study, p_id, p_number, p_attempt);
    v_seq := tunewise_bump(p_study);
    UPDATE tunewise_trials
       SET intermediate = coalesce(intermediate, '{}'::jsonb)
                          || jsonb_build_object(p_step::text, p_values),
           seq = v_seq
     WHERE id = p_id AND attempt = p_attempt AND state = 'running';
END $$;

-- Finishes a running trial; a retry after an ambiguous failure that finds the trial finished by
-- this very call (same attempt, same token) returns it.
CREATE OR REPLACE FUNCTION tunewise_finish_trial(
    p_study bigint, p_id bigint, p_number bigint, p_attempt integer, p_state text,
    p_values double precision[], p_constraints double precision[], p_fail text,
    p_keys integer[], p_vals double precision[], p_token bigint, p_retry boolean)
RETURNS tunewise_trials
LANGUAGE plpgsql AS $$
DECLARE
    t tunewise_trials;
    v_seq bigint;
    k integer[];
    v double precision[];
BEGIN
    IF p_retry THEN
        SELECT * INTO t FROM tunewise_trials
         WHERE id = p_id AND study_id = p_study AND number = p_number AND attempt = p_attempt
           AND state <> 'running' AND finish_token = p_token;
        IF FOUND THEN
            RETURN t;
        END IF;
    END IF;
    t := tunewise_lock_running(p_study, p_id, p_number, p_attempt);
    SELECT m.keys, m.vals INTO k, v
      FROM tunewise_merge_params(t.param_keys, t.param_values, p_keys, p_vals) AS m;
    v_seq := tunewise_bump(p_study);
    UPDATE tunewise_trials
       SET state = p_state, objective_values = p_values, constraint_values = p_constraints,
           fail_reason = p_fail, param_keys = k, param_values = v, lease_until = NULL,
           finish_token = p_token, datetime_complete = clock_timestamp(), seq = v_seq
     WHERE id = p_id AND attempt = p_attempt AND state = 'running'
    RETURNING * INTO t;
    RETURN t;
END $$;

-- Puts a worker's running trials back to waiting (attempt + 1, parameters kept as fixed).
CREATE OR REPLACE FUNCTION tunewise_release_worker(p_study bigint, p_worker text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    v_seq bigint;
BEGIN
    SELECT array_agg(x.id ORDER BY x.id) INTO ids FROM (
        SELECT id FROM tunewise_trials
         WHERE study_id = p_study AND state = 'running' AND worker_id = p_worker
         ORDER BY id
           FOR UPDATE
    ) AS x;
    IF ids IS NULL THEN
        IF NOT EXISTS (SELECT 1 FROM tunewise_studies WHERE id = p_study) THEN
            RAISE EXCEPTION 'no study #%', p_study USING ERRCODE = 'TW404';
        END IF;
        RETURN 0;
    END IF;
    v_seq := tunewise_bump(p_study);
    UPDATE tunewise_trials
       SET state = 'waiting', attempt = attempt + 1, worker_id = NULL, lease_until = NULL,
           claim_token = NULL, seq = v_seq,
           fixed_keys = coalesce(fixed_keys, '{}') || coalesce(param_keys, '{}'),
           fixed_values = coalesce(fixed_values, '{}') || coalesce(param_values, '{}'),
           param_keys = NULL, param_values = NULL, intermediate = NULL
     WHERE id = ANY (ids);
    RETURN cardinality(ids);
END $$;

-- Deletes a study, its trials first (the lock order of every other writer: trials, then study).
CREATE OR REPLACE FUNCTION tunewise_delete_study(p_study bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tunewise_trials WHERE study_id = p_study;
    DELETE FROM tunewise_param_keys WHERE study_id = p_study;
    DELETE FROM tunewise_studies WHERE id = p_study;
    RETURN FOUND;
END $$;
"#;

/// The schema's version table, created first so that a newer schema is recognized before
/// anything else is touched.
const VERSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS tunewise_schema_version (version integer NOT NULL)";

/// Creates the schema if it is missing, or checks that it is the one this build knows.
///
/// A database whose schema is newer is refused without a change. Everything happens in one
/// transaction under an advisory lock, so that concurrent first connections do not race.
pub(crate) fn ensure(conn: &mut Conn, schema: Option<&str>) -> Result<(), Fail> {
    // Fast path: the schema exists at this version (one read, no lock).
    if let Some(v) = read_version(conn)? {
        return check(v);
    }
    conn.batch("BEGIN")?;
    let result = (|| {
        conn.batch(&format!("SELECT pg_advisory_xact_lock({})", lock_key(schema)))?;
        if let Some(name) = schema {
            conn.batch(&format!("CREATE SCHEMA IF NOT EXISTS {name}"))?;
        }
        conn.batch(VERSION_TABLE)?;
        let rows = conn.query_dyn("SELECT max(version) FROM tunewise_schema_version", &[])?;
        let found: Option<i32> = rows.first().and_then(|r| r.try_get(0).ok().flatten());
        match found {
            Some(v) => check(v),
            None => {
                conn.batch(TABLES_V1)?;
                conn.batch(FUNCTIONS_V1)?;
                conn.batch(&format!(
                    "INSERT INTO tunewise_schema_version (version) VALUES ({SCHEMA_VERSION})"
                ))
            }
        }
    })();
    match result {
        Ok(()) => conn.batch("COMMIT"),
        Err(e) => {
            // Best effort: the connection is dropped on a connection error anyway.
            let _ = conn.batch("ROLLBACK");
            Err(e)
        }
    }
}

/// For a read-only connection: checks the schema's version without creating anything.
pub(crate) fn check_existing(conn: &mut Conn, target: &str) -> Result<(), Fail> {
    match read_version(conn)? {
        Some(v) => check(v),
        None => Err(Fail::Other(format!(
            "no tunewise schema in the database at {target}, and a read-only connection does not \
             create one; run a study there first, or check the database name and schema of the URL"
        ))),
    }
}

fn lock_key(schema: Option<&str>) -> i64 {
    match schema {
        None => SCHEMA_LOCK,
        Some(s) => SCHEMA_LOCK ^ tunewise_core::rng::hash_str(s) as i64,
    }
}

/// The schema version, or `None` when there is no tunewise schema yet.
fn read_version(conn: &mut Conn) -> Result<Option<i32>, Fail> {
    let rows = conn.query_dyn(
        "SELECT to_regclass('tunewise_schema_version') IS NOT NULL, \
                to_regclass('tunewise_trials') IS NOT NULL",
        &[],
    )?;
    let flag = |r: &tokio_postgres::Row, i| r.try_get::<_, bool>(i).unwrap_or(false);
    let exists = rows.first().map(|r| (flag(r, 0), flag(r, 1)));
    match exists {
        Some((true, _)) => {
            let rows = conn.query_dyn("SELECT max(version) FROM tunewise_schema_version", &[])?;
            Ok(rows.first().and_then(|r| r.try_get(0).ok().flatten()))
        }
        Some((false, true)) => Err(Fail::Other(
            "the database has tunewise tables but no tunewise_schema_version table; it was not \
             written by tunewise (or was damaged): use another database or schema"
                .into(),
        )),
        _ => Ok(None),
    }
}

fn check(version: i32) -> Result<(), Fail> {
    if version > SCHEMA_VERSION {
        return Err(Fail::Other(format!(
            "the database holds tunewise schema version {version}, newer than version \
             {SCHEMA_VERSION} that this build knows; upgrade tunewise to use it (nothing was \
             changed)"
        )));
    }
    // Version 1 is the first: nothing to migrate yet. A later version migrates from every
    // earlier one here, in the same locked transaction as the creation.
    Ok(())
}

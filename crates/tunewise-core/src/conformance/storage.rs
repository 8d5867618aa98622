//! The storage conformance suite: [`check_storage`].
//!
//! It checks the contract of [`Storage`] as its documentation states it, through the trait only,
//! so that every backend (in memory, SQLite, PostgreSQL) runs the same checks:
//!
//! - studies: create, find, list (in id order), user attributes, delete (with their trials);
//!   a taken name is refused with [`Error::StudyExists`]; a missing study is
//!   [`Error::StudyNotFound`];
//! - numbering: unique and dense per study, also with eight threads starting and inserting
//!   trials at once;
//! - `insert_trial`: waiting (enqueued) and finished trials round-trip exactly (parameters of
//!   every distribution kind, values including infinities, intermediate values, constraints,
//!   user attributes); a running trial is refused and takes no number;
//! - `start_trial`: waiting trials first, oldest first, each claimed by one worker only; then
//!   trials whose lease expired (attempt + 1, parameters kept as fixed values, intermediate
//!   values cleared); else a new trial; a lease of `None` never expires; leases renew;
//! - fencing: a write naming a reclaimed attempt fails with [`Error::StaleAttempt`]; a write to
//!   a finished trial fails ([`Error::TrialFinished`] or [`Error::StaleAttempt`]) and changes
//!   nothing; of eight threads finishing one trial at once, exactly one succeeds;
//! - `trials_since`: exactly the trials changed after a cursor, each once, in its latest state,
//!   and a cursor that grows with every change;
//! - `release_worker`: a worker's running trials go back to waiting with attempt + 1;
//! - `start_trial_capped`: eight threads with a cap of 20 create trials 0 to 19, each once, and
//!   nothing more; a full study refuses without a change; an expired lease below the cap is
//!   still reclaimed; a waiting trial at or beyond the cap stays waiting.
//!
//! Study names carry a random suffix and every study is deleted at the end, so a backend may
//! run the suite against a shared, non-empty database. Leases of a few hundred milliseconds
//! keep the whole suite around one second on the in-memory storage.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::ok;
use crate::rng::Rng;
use crate::storage::{Lease, Storage, StudyId, StudyRecord, TrialFinish};
use crate::{Direction, Distribution, Error, FrozenTrial, Param, ParamValue, TrialState};

const SUITE: &str = "storage";

/// Runs the storage conformance suite; panics with a message naming the check and the
/// violation.
///
/// `make` gives a storage to test; it is called once per check, and may return the same
/// storage (or one on the same database) each time: the suite only touches studies it created,
/// under unique names, and deletes them at the end of each check.
///
/// ```no_run
/// use std::sync::Arc;
/// use tunewise_core::conformance::storage::check_storage;
/// use tunewise_core::InMemoryStorage;
///
/// check_storage(&|| Arc::new(InMemoryStorage::new()));
/// ```
pub fn check_storage(make: &dyn Fn() -> Arc<dyn Storage>) {
    studies(&*make());
    numbering(make());
    concurrent_claims(make());
    insert_trial(&*make());
    claiming_order(&*make());
    writes(&*make());
    fencing(&*make());
    concurrent_finish(make());
    incremental_reads(&*make());
    release_worker(&*make());
    leases(&*make());
    capped_claims(make());
}

/// A study name no other run uses.
fn unique(tag: &str) -> String {
    format!("conformance-{tag}-{:016x}", Rng::os_seed())
}

fn create(s: &dyn Storage, tag: &str, directions: &[Direction]) -> StudyRecord {
    ok(SUITE, s.create_study(&unique(tag), directions), "create_study")
}

fn delete(s: &dyn Storage, study: &StudyRecord) {
    ok(SUITE, s.delete_study(study.id), "delete_study");
}

fn start(s: &dyn Storage, study: StudyId, worker: &str, lease: Option<Duration>) -> FrozenTrial {
    (*ok(SUITE, s.start_trial(study, worker, lease), "start_trial")).clone()
}

fn trial(s: &dyn Storage, study: StudyId, number: u64) -> FrozenTrial {
    (*ok(SUITE, s.trial(study, number), "trial")).clone()
}

fn insert(s: &dyn Storage, study: StudyId, t: &FrozenTrial) -> FrozenTrial {
    (*ok(SUITE, s.insert_trial(study, t), "insert_trial")).clone()
}

fn waiting(fixed: &[(&str, ParamValue)]) -> FrozenTrial {
    let mut t = FrozenTrial::new(0, 0, TrialState::Waiting);
    t.fixed_params = fixed.iter().map(|(n, v)| (Arc::from(*n), v.clone())).collect();
    t
}

fn complete(values: Vec<f64>) -> FrozenTrial {
    let mut t = FrozenTrial::new(0, 0, TrialState::Complete);
    t.values = Some(values);
    t
}

fn finish(state: TrialState, values: Option<Vec<f64>>) -> TrialFinish {
    TrialFinish { state, values, constraints: Vec::new(), fail_reason: None, params: Vec::new() }
}

fn param(name: &str, distribution: Distribution, internal: f64) -> Param {
    Param { name: Arc::from(name), distribution: Arc::new(distribution), internal }
}

/// One parameter of every distribution kind, with values that must round-trip exactly.
fn every_kind_of_param() -> Vec<Param> {
    vec![
        param("x", Distribution::float(-1.5, 2.5), 0.1),
        param("lr", Distribution::float_log(1e-5, 1.0), 3.2e-4),
        param("dropout", Distribution::float_step(0.0, 0.5, 0.1), 0.2),
        param("layers", Distribution::int(1, 10), 7.0),
        param("units", Distribution::int_log(1, 1024), 64.0),
        param("batch", Distribution::int_step(0, 30, 5), 15.0),
        param("optimizer", Distribution::categorical(["adam", "sgd"]), 1.0),
        param(
            "mixed",
            Distribution::categorical([
                ParamValue::Bool(true),
                ParamValue::Int(1),
                ParamValue::Float(1.0),
                ParamValue::from("1"),
            ]),
            2.0,
        ),
    ]
}

/// Fixed values of every kind (a float with an integral value must stay a float).
fn every_kind_of_value() -> Vec<(&'static str, ParamValue)> {
    vec![
        ("a", ParamValue::Float(0.1)),
        ("b", ParamValue::Int(-3)),
        ("c", ParamValue::Bool(true)),
        ("d", ParamValue::from("relu")),
        ("e", ParamValue::Float(2.0)),
    ]
}

/// Two timestamps that a backend may have rounded (to the microsecond, say).
#[track_caller]
fn assert_close_time(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>, what: &str) {
    match (a, b) {
        (Some(a), Some(b)) => assert!(
            (a - b).num_milliseconds().abs() <= 1,
            "storage conformance: {what}: {a} read back as {b}"
        ),
        (None, None) => {}
        _ => panic!("storage conformance: {what}: {a:?} read back as {b:?}"),
    }
}

/// The numbers of `trials`, sorted, panicking on a duplicate.
#[track_caller]
fn numbers(trials: &[Arc<FrozenTrial>], what: &str) -> Vec<u64> {
    let mut n: Vec<u64> = trials.iter().map(|t| t.number).collect();
    n.sort_unstable();
    assert!(
        n.windows(2).all(|w| w[0] != w[1]),
        "storage conformance: {what}: a trial appears twice: {n:?}"
    );
    n
}

#[track_caller]
fn assert_stale<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) {
    assert!(
        matches!(result, Err(Error::StaleAttempt { .. })),
        "storage conformance: {what} with a reclaimed attempt must fail with StaleAttempt, got \
         {result:?}"
    );
}

#[track_caller]
fn assert_refused_finished<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) {
    assert!(
        matches!(result, Err(Error::TrialFinished(_) | Error::StaleAttempt { .. })),
        "storage conformance: {what} on a finished trial must fail with TrialFinished or \
         StaleAttempt, got {result:?}"
    );
}

#[track_caller]
fn assert_study_not_found<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) {
    assert!(
        matches!(result, Err(Error::StudyNotFound(_))),
        "storage conformance: {what} on a deleted study must fail with StudyNotFound, got \
         {result:?}"
    );
}

/// Create, find, list, attributes, duplicates and deletion of studies.
fn studies(s: &dyn Storage) {
    let a_name = unique("studies-a");
    let b_name = unique("studies-b");
    let a = ok(SUITE, s.create_study(&a_name, &[Direction::Minimize]), "create_study");
    assert_eq!(a.name, a_name);
    assert_eq!(a.directions, [Direction::Minimize]);
    assert!(a.user_attrs.is_empty(), "storage conformance: a new study has user attributes");
    let two = [Direction::Minimize, Direction::Maximize];
    let b = ok(SUITE, s.create_study(&b_name, &two), "create_study");
    assert_ne!(a.id, b.id, "storage conformance: two studies share an id");
    match s.create_study(&a_name, &[Direction::Maximize]) {
        Err(Error::StudyExists(name)) => assert_eq!(name, a_name),
        other => {
            panic!("storage conformance: a taken name must fail with StudyExists, got {other:?}")
        }
    }

    let found = ok(SUITE, s.find_study(&b_name), "find_study");
    let Some(found) = found else { panic!("storage conformance: find_study misses a study") };
    assert_eq!((found.id, &found.name, &found.directions), (b.id, &b_name, &b.directions.clone()));
    assert_close_time(Some(found.created), Some(b.created), "the study's creation time");
    assert_eq!(ok(SUITE, s.find_study(&unique("missing")), "find_study"), None);

    let list = ok(SUITE, s.list_studies(), "list_studies");
    assert!(
        list.windows(2).all(|w| w[0].id < w[1].id),
        "storage conformance: list_studies is not in id order"
    );
    for st in [&a, &b] {
        assert!(
            list.iter().any(|r| r.id == st.id && r.name == st.name),
            "storage conformance: list_studies misses study '{}'",
            st.name
        );
    }

    let attrs = [
        ("k", json!("v")),
        ("nested", json!({"x": [1, 2.5, null, true], "y": "z"})),
        ("k", json!(3)),
    ];
    for (key, value) in attrs {
        ok(SUITE, s.set_study_user_attr(a.id, key, value), "set_study_user_attr");
    }
    let expected: BTreeMap<String, serde_json::Value> = [
        ("k".to_owned(), json!(3)),
        ("nested".to_owned(), json!({"x": [1, 2.5, null, true], "y": "z"})),
    ]
    .into();
    let found = ok(SUITE, s.find_study(&a_name), "find_study");
    assert_eq!(found.map(|r| r.user_attrs), Some(expected.clone()), "study user attributes");
    let listed = ok(SUITE, s.list_studies(), "list_studies");
    let listed = listed.into_iter().find(|r| r.id == a.id).map(|r| r.user_attrs);
    assert_eq!(listed, Some(expected), "study user attributes in list_studies");
    let other = ok(SUITE, s.find_study(&b_name), "find_study");
    assert_eq!(other.map(|r| r.user_attrs.len()), Some(0), "attributes leaked to another study");

    // Deleting a study deletes its trials; the name can be used again.
    start(s, b.id, "w", None);
    insert(s, b.id, &complete(vec![1.0, 2.0]));
    ok(SUITE, s.delete_study(b.id), "delete_study");
    assert_eq!(ok(SUITE, s.find_study(&b_name), "find_study"), None, "a deleted study is found");
    let list = ok(SUITE, s.list_studies(), "list_studies");
    assert!(!list.iter().any(|r| r.id == b.id), "list_studies shows a deleted study");
    assert_study_not_found(s.delete_study(b.id), "delete_study");
    assert_study_not_found(s.trials_since(b.id, 0), "trials_since");
    assert_study_not_found(s.start_trial(b.id, "w", None), "start_trial");
    assert_study_not_found(s.set_study_user_attr(b.id, "k", json!(1)), "set_study_user_attr");
    let again = ok(SUITE, s.create_study(&b_name, &two), "create_study after delete");
    let changes = ok(SUITE, s.trials_since(again.id, 0), "trials_since");
    assert!(changes.trials.is_empty(), "storage conformance: a re-created study has old trials");
    assert_eq!(start(s, again.id, "w", None).number, 0, "a re-created study numbers from 0");

    delete(s, &a);
    delete(s, &again);
}

/// Numbers are unique and dense per study, also under eight threads at once.
fn numbering(s: Arc<dyn Storage>) {
    let st = create(&*s, "numbering", &[Direction::Minimize]);
    let other = create(&*s, "numbering-other", &[Direction::Minimize]);
    let t0 = start(&*s, st.id, "w", None);
    assert_eq!((t0.number, t0.attempt, t0.state), (0, 0, TrialState::Running));
    assert_eq!(t0.worker_id.as_deref(), Some("w"), "start_trial records the worker");
    assert!(t0.datetime_start.is_some(), "start_trial records the start time");
    assert!(t0.params.is_empty() && t0.fixed_params.is_empty() && t0.values.is_none());
    let t1 = insert(&*s, st.id, &complete(vec![1.0]));
    let t2 = start(&*s, st.id, "w", None);
    assert_eq!((t1.number, t2.number), (1, 2), "numbers are not dense");
    assert_eq!(start(&*s, other.id, "w", None).number, 0, "each study numbers from 0");

    let (threads, starts, inserts) = (8, 20, 5);
    let mut ids = vec![t0.id, t1.id, t2.id];
    let mut got: Vec<u64> = Vec::new();
    thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let s = &s;
                scope.spawn(move || {
                    let worker = format!("w{i}");
                    let mut out = Vec::new();
                    for k in 0..starts + inserts {
                        let t = if k % 5 == 4 {
                            s.insert_trial(st.id, &complete(vec![k as f64]))
                        } else {
                            s.start_trial(st.id, &worker, None)
                        };
                        let t = ok(SUITE, t, "start_trial or insert_trial from a thread");
                        out.push((t.number, t.id));
                    }
                    out
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(out) => out.into_iter().for_each(|(n, id)| {
                    got.push(n);
                    ids.push(id);
                }),
                Err(_) => panic!("storage conformance: a numbering thread panicked"),
            }
        }
    });
    got.sort_unstable();
    let total = 3 + threads * (starts + inserts);
    assert_eq!(
        got,
        (3..total as u64).collect::<Vec<_>>(),
        "storage conformance: concurrent trial numbers are not unique and dense"
    );
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "storage conformance: two trials share an id");
    let all = ok(SUITE, s.trials_since(st.id, 0), "trials_since");
    assert_eq!(numbers(&all.trials, "trials_since(0)"), (0..total as u64).collect::<Vec<_>>());
    delete(&*s, &st);
    delete(&*s, &other);
}

/// Eight threads claiming forty waiting trials: each is claimed exactly once.
fn concurrent_claims(s: Arc<dyn Storage>) {
    let st = create(&*s, "claims", &[Direction::Minimize]);
    for i in 0..40 {
        insert(&*s, st.id, &waiting(&[("i", ParamValue::Int(i))]));
    }
    let mut claimed: Vec<(u64, Option<ParamValue>)> = Vec::new();
    thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let s = &s;
                scope.spawn(move || {
                    let worker = format!("w{i}");
                    (0..5)
                        .map(|_| {
                            let t = ok(SUITE, s.start_trial(st.id, &worker, None), "start_trial");
                            assert_eq!(t.state, TrialState::Running);
                            assert_eq!(t.worker_id.as_deref(), Some(worker.as_str()));
                            (t.number, t.fixed_params.first().map(|(_, v)| v.clone()))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(out) => claimed.extend(out),
                Err(_) => panic!("storage conformance: a claiming thread panicked"),
            }
        }
    });
    claimed.sort_by_key(|c| c.0);
    let expected: Vec<(u64, Option<ParamValue>)> =
        (0..40).map(|i| (i, Some(ParamValue::Int(i as i64)))).collect();
    assert_eq!(
        claimed, expected,
        "storage conformance: waiting trials must each be claimed exactly once, with their values"
    );
    assert_eq!(start(&*s, st.id, "w", None).number, 40, "after the queue, a new trial");
    delete(&*s, &st);
}

/// Waiting and finished trials round-trip; running ones are refused.
fn insert_trial(s: &dyn Storage) {
    let two = [Direction::Minimize, Direction::Maximize];
    let st = create(s, "insert", &two);

    let mut w = waiting(&every_kind_of_value());
    (w.id, w.number) = (777, 999);
    let stored = insert(s, st.id, &w);
    assert_eq!(stored.number, 0, "insert_trial must assign the number, not take the given one");
    assert_eq!(stored.state, TrialState::Waiting);
    assert_eq!(stored.attempt, 0);
    assert_eq!(stored.fixed_params, w.fixed_params, "fixed values must round-trip");
    if let Some((_, ParamValue::Float(_))) = stored.fixed_params.get(4) {
    } else {
        panic!("storage conformance: the fixed float 2.0 came back as {:?}", stored.fixed_params);
    }
    assert_eq!(trial(s, st.id, 0), stored, "trial() differs from what insert_trial returned");

    let now = Utc::now();
    let mut c = complete(vec![0.1, f64::INFINITY]);
    c.params = every_kind_of_param();
    c.intermediate_values = [(0, vec![1.0, 2.0]), (5, vec![0.5, f64::NEG_INFINITY])].into();
    c.constraints = vec![-1.0, 0.0, 2.5e-300];
    c.user_attrs =
        [("note".to_owned(), json!("x")), ("obj".to_owned(), json!({"a": [1, 2]}))].into();
    c.datetime_start = Some(now - chrono::Duration::seconds(3));
    c.datetime_complete = Some(now);
    let mut p = FrozenTrial::new(0, 0, TrialState::Pruned);
    p.params = every_kind_of_param()[..3].to_vec();
    p.intermediate_values = [(1, vec![3.0, 4.0])].into();
    let mut f = FrozenTrial::new(0, 0, TrialState::Failed);
    f.fail_reason = Some("boom: out of memory".into());
    f.params = every_kind_of_param()[3..].to_vec();
    for (i, t) in [&c, &p, &f].into_iter().enumerate() {
        let stored = insert(s, st.id, t);
        let what = format!("inserting a {} trial", t.state);
        assert_eq!(stored.number, i as u64 + 1, "{what}: numbers are not dense");
        assert_eq!(stored.state, t.state, "{what}: state");
        assert_eq!(stored.params, t.params, "{what}: parameters must round-trip exactly");
        let bits = |v: &Option<Vec<f64>>| {
            v.as_ref().map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
        };
        assert_eq!(bits(&stored.values), bits(&t.values), "{what}: values");
        assert_eq!(stored.intermediate_values, t.intermediate_values, "{what}: intermediate");
        assert_eq!(stored.constraints, t.constraints, "{what}: constraints");
        assert_eq!(stored.user_attrs, t.user_attrs, "{what}: user attributes");
        assert_eq!(stored.fail_reason, t.fail_reason, "{what}: fail reason");
        if t.datetime_complete.is_some() {
            assert_close_time(stored.datetime_start, t.datetime_start, &what);
            assert_close_time(stored.datetime_complete, t.datetime_complete, &what);
        }
        assert_eq!(trial(s, st.id, stored.number), stored, "{what}: trial() differs");
    }

    let running = FrozenTrial::new(0, 0, TrialState::Running);
    let refused = s.insert_trial(st.id, &running);
    assert!(refused.is_err(), "storage conformance: insert_trial must refuse a running trial");
    let next = insert(s, st.id, &complete(vec![1.0, 1.0]));
    assert_eq!(next.number, 4, "a refused insert must not take a number");
    // The waiting trial inserted first is the one a worker claims.
    let claimed = start(s, st.id, "w", None);
    assert_eq!((claimed.number, claimed.state), (0, TrialState::Running));
    assert_eq!(claimed.fixed_params, w.fixed_params, "claiming keeps the fixed values");
    delete(s, &st);
}

/// Waiting trials first, oldest first; then new trials.
fn claiming_order(s: &dyn Storage) {
    let st = create(s, "claiming", &[Direction::Minimize]);
    assert_eq!(start(s, st.id, "w", None).number, 0);
    for i in 1..=3 {
        let w = insert(s, st.id, &waiting(&[("x", ParamValue::Int(i))]));
        assert_eq!(w.number, i as u64);
    }
    for i in 1..=3 {
        let t = start(s, st.id, "v", None);
        assert_eq!(t.number, i, "storage conformance: waiting trials are claimed oldest first");
        assert_eq!(t.fixed_params, vec![(Arc::from("x"), ParamValue::Int(i as i64))]);
        assert_eq!((t.state, t.attempt), (TrialState::Running, 0));
        assert_eq!(t.worker_id.as_deref(), Some("v"));
        assert!(t.datetime_start.is_some(), "claiming records the start time");
    }
    let fresh = start(s, st.id, "v", None);
    assert_eq!(fresh.number, 4, "with nothing waiting, start_trial creates a trial");
    assert!(fresh.fixed_params.is_empty());
    let late = insert(s, st.id, &waiting(&[]));
    assert_eq!(start(s, st.id, "v", None).number, late.number, "a trial enqueued later");
    delete(s, &st);
}

/// Parameters, reports and user attributes of a running trial.
fn writes(s: &dyn Storage) {
    let st = create(s, "writes", &[Direction::Minimize, Direction::Maximize]);
    let t = start(s, st.id, "w", Some(Duration::from_secs(60)));
    let lease = Lease::of(st.id, &t);
    let params = every_kind_of_param();
    ok(SUITE, s.set_trial_params(&lease, &params[..2]), "set_trial_params");
    ok(SUITE, s.set_trial_params(&lease, &params[2..5]), "set_trial_params");
    ok(SUITE, s.report(&lease, 0, &[1.0, 2.0]), "report");
    ok(SUITE, s.report(&lease, 10, &[0.5, 3.0]), "report");
    ok(SUITE, s.set_trial_user_attr(&lease, "a", json!("x")), "set_trial_user_attr");
    let nested = json!({"nested": [1, 2.5, true, null]});
    ok(SUITE, s.set_trial_user_attr(&lease, "b", nested.clone()), "set_trial_user_attr");
    ok(SUITE, s.set_trial_user_attr(&lease, "a", json!(42)), "set_trial_user_attr");
    let stored = trial(s, st.id, t.number);
    assert_eq!(stored.state, TrialState::Running);
    assert_eq!(stored.params, params[..5], "parameters are appended in order, exactly");
    let reported: BTreeMap<u64, Vec<f64>> = [(0, vec![1.0, 2.0]), (10, vec![0.5, 3.0])].into();
    assert_eq!(stored.intermediate_values, reported, "intermediate values");
    let attrs: BTreeMap<String, serde_json::Value> =
        [("a".to_owned(), json!(42)), ("b".to_owned(), nested)].into();
    assert_eq!(stored.user_attrs, attrs, "trial user attributes");

    let mut end = finish(TrialState::Complete, Some(vec![0.25, -1.0]));
    end.params = params[5..].to_vec();
    end.constraints = vec![-0.5];
    let done = (*ok(SUITE, s.finish_trial(&lease, &end), "finish_trial")).clone();
    assert_eq!(done, trial(s, st.id, t.number), "finish_trial returns the stored trial");
    assert_eq!(done.state, TrialState::Complete);
    assert_eq!(done.values, Some(vec![0.25, -1.0]));
    assert_eq!(done.constraints, vec![-0.5]);
    assert_eq!(done.params, params, "finish_trial appends its parameters");
    assert_eq!(done.intermediate_values, reported, "finishing keeps intermediate values");
    assert_eq!(done.user_attrs, attrs, "finishing keeps user attributes");
    let (Some(started), Some(ended)) = (done.datetime_start, done.datetime_complete) else {
        panic!("storage conformance: a finished trial needs its start and end times");
    };
    assert!(ended >= started, "storage conformance: the trial ended before it started");

    // Pruned and failed ends.
    let t = start(s, st.id, "w", None);
    let lease = Lease::of(st.id, &t);
    ok(SUITE, s.report(&lease, 3, &[1.0, 1.0]), "report");
    let pruned = ok(SUITE, s.finish_trial(&lease, &finish(TrialState::Pruned, None)), "finish");
    assert_eq!((pruned.state, pruned.values.clone()), (TrialState::Pruned, None));
    assert_eq!(pruned.intermediate_values.len(), 1, "a pruned trial keeps its reports");
    let t = start(s, st.id, "w", None);
    let lease = Lease::of(st.id, &t);
    for bad in [TrialState::Running, TrialState::Waiting] {
        let r = s.finish_trial(&lease, &finish(bad, None));
        assert!(r.is_err(), "storage conformance: finishing as {bad} must be refused");
    }
    assert_eq!(trial(s, st.id, t.number).state, TrialState::Running, "a refused finish");
    let mut failed = finish(TrialState::Failed, None);
    failed.fail_reason = Some("the objective panicked: index out of bounds".into());
    let failed = ok(SUITE, s.finish_trial(&lease, &failed), "finish_trial");
    assert_eq!(failed.state, TrialState::Failed);
    assert_eq!(failed.fail_reason.as_deref(), Some("the objective panicked: index out of bounds"));

    // A lease naming another trial's id is refused.
    let t = start(s, st.id, "w", None);
    let wrong = Lease { trial_id: t.id.wrapping_add(1_000_000), ..Lease::of(st.id, &t) };
    assert!(s.report(&wrong, 0, &[1.0, 1.0]).is_err(), "a lease with a wrong trial id");
    assert!(trial(s, st.id, t.number).intermediate_values.is_empty(), "a wrong lease wrote");
    delete(s, &st);
}

/// Writes to a finished trial, and a second finish, are refused and change nothing.
fn fencing(s: &dyn Storage) {
    let st = create(s, "fencing", &[Direction::Minimize]);
    let t = start(s, st.id, "w", Some(Duration::from_secs(60)));
    let lease = Lease::of(st.id, &t);
    ok(SUITE, s.report(&lease, 0, &[5.0]), "report");
    ok(SUITE, s.finish_trial(&lease, &finish(TrialState::Complete, Some(vec![1.0]))), "finish");
    let before = trial(s, st.id, t.number);
    let again = s.finish_trial(&lease, &finish(TrialState::Complete, Some(vec![2.0])));
    assert_refused_finished(again, "a second finish_trial");
    let failed = s.finish_trial(&lease, &finish(TrialState::Failed, None));
    assert_refused_finished(failed, "finishing a complete trial as failed");
    assert_refused_finished(s.report(&lease, 1, &[0.0]), "report");
    let p = every_kind_of_param();
    assert_refused_finished(s.set_trial_params(&lease, &p[..1]), "set_trial_params");
    assert_refused_finished(s.set_trial_user_attr(&lease, "k", json!(1)), "set_trial_user_attr");
    assert_refused_finished(s.renew_lease(&lease, Duration::from_secs(60)), "renew_lease");
    assert_eq!(trial(s, st.id, t.number), before, "a refused write changed a finished trial");
    match s.trial(st.id, 1000) {
        Err(Error::TrialNotFound(_)) => {}
        other => {
            panic!("storage conformance: a missing trial must be TrialNotFound, got {other:?}")
        }
    }
    delete(s, &st);
}

/// Eight threads finish one trial at once: exactly one finish is accepted.
fn concurrent_finish(s: Arc<dyn Storage>) {
    let st = create(&*s, "finish-race", &[Direction::Minimize]);
    for _ in 0..10 {
        let t = start(&*s, st.id, "w", None);
        let lease = Lease::of(st.id, &t);
        let winners: Vec<f64> = thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (s, lease) = (&s, &lease);
                    scope.spawn(move || {
                        let end = finish(TrialState::Complete, Some(vec![f64::from(i)]));
                        s.finish_trial(lease, &end).ok().map(|_| f64::from(i))
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok().flatten()).collect()
        });
        assert_eq!(
            winners.len(),
            1,
            "storage conformance: {} of 8 concurrent finishes of one trial were accepted",
            winners.len()
        );
        assert_eq!(trial(&*s, st.id, t.number).values, Some(winners), "the accepted finish");
    }
    delete(&*s, &st);
}

/// `trials_since` returns exactly the changed trials, each once, and a growing cursor.
fn incremental_reads(s: &dyn Storage) {
    let st = create(s, "since", &[Direction::Minimize]);
    let other = create(s, "since-other", &[Direction::Minimize]);
    let c0 = ok(SUITE, s.trials_since(st.id, 0), "trials_since");
    assert!(c0.trials.is_empty(), "storage conformance: a new study has trials");

    let t0 = start(s, st.id, "w", None);
    let t1 = start(s, st.id, "w", None);
    insert(s, st.id, &complete(vec![3.0]));
    let r1 = ok(SUITE, s.trials_since(st.id, 0), "trials_since");
    assert_eq!(numbers(&r1.trials, "trials_since"), [0, 1, 2]);
    assert!(r1.cursor > c0.cursor, "storage conformance: the cursor must grow with changes");
    let quiet = ok(SUITE, s.trials_since(st.id, r1.cursor), "trials_since");
    assert!(quiet.trials.is_empty(), "storage conformance: trials_since returns unchanged trials");
    assert!(quiet.cursor >= r1.cursor, "storage conformance: the cursor went back");

    let (l0, l1) = (Lease::of(st.id, &t0), Lease::of(st.id, &t1));
    ok(SUITE, s.report(&l0, 0, &[1.0]), "report");
    let r2 = ok(SUITE, s.trials_since(st.id, r1.cursor), "trials_since");
    assert_eq!(numbers(&r2.trials, "trials_since"), [0], "only the reported trial changed");
    assert_eq!(r2.trials[0].intermediate_values.len(), 1, "the change is in the record");
    assert!(r2.cursor > r1.cursor, "storage conformance: the cursor must grow with changes");

    ok(SUITE, s.finish_trial(&l1, &finish(TrialState::Complete, Some(vec![2.0]))), "finish");
    ok(SUITE, s.set_trial_user_attr(&l0, "k", json!("v")), "set_trial_user_attr");
    ok(SUITE, s.set_trial_params(&l0, &every_kind_of_param()[..1]), "set_trial_params");
    insert(s, st.id, &waiting(&[]));
    start(s, other.id, "w", None);
    let r3 = ok(SUITE, s.trials_since(st.id, r2.cursor), "trials_since");
    assert_eq!(numbers(&r3.trials, "trials_since"), [0, 1, 3], "exactly the changed trials");
    for t in &r3.trials {
        assert_eq!(**t, trial(s, st.id, t.number), "trials_since must give the latest state");
    }
    assert!(r3.cursor > r2.cursor, "storage conformance: the cursor must grow with changes");

    let claimed = start(s, st.id, "w", None);
    assert_eq!(claimed.number, 3);
    let r4 = ok(SUITE, s.trials_since(st.id, r3.cursor), "trials_since");
    assert_eq!(numbers(&r4.trials, "trials_since"), [3], "a claimed trial is a change");
    assert_eq!(r4.trials[0].state, TrialState::Running);
    start(s, other.id, "w", None);
    let r5 = ok(SUITE, s.trials_since(st.id, r4.cursor), "trials_since");
    assert!(r5.trials.is_empty(), "storage conformance: another study's change leaked");

    let all = ok(SUITE, s.trials_since(st.id, 0), "trials_since");
    assert_eq!(numbers(&all.trials, "trials_since(0)"), [0, 1, 2, 3]);
    for t in &all.trials {
        assert_eq!(**t, trial(s, st.id, t.number), "trials_since must give the latest state");
    }
    delete(s, &st);
    delete(s, &other);
}

/// A worker's running trials go back to waiting, and are claimed again first.
fn release_worker(s: &dyn Storage) {
    let st = create(s, "release", &[Direction::Minimize]);
    let a1 = start(s, st.id, "w", None);
    let l1 = Lease::of(st.id, &a1);
    let x = every_kind_of_param()[..2].to_vec();
    ok(SUITE, s.set_trial_params(&l1, &x), "set_trial_params");
    ok(SUITE, s.report(&l1, 0, &[1.0]), "report");
    let a2 = start(s, st.id, "w", Some(Duration::from_secs(60)));
    let b = start(s, st.id, "x", None);
    let a3 = start(s, st.id, "w", None);
    let end = finish(TrialState::Complete, Some(vec![1.0]));
    ok(SUITE, s.finish_trial(&Lease::of(st.id, &a3), &end), "finish_trial");

    assert_eq!(ok(SUITE, s.release_worker(st.id, "w"), "release_worker"), 2);
    for t in [&a1, &a2] {
        let r = trial(s, st.id, t.number);
        assert_eq!(
            (r.state, r.attempt),
            (TrialState::Waiting, 1),
            "storage conformance: a released trial waits as the next attempt"
        );
        assert!(r.params.is_empty(), "a released trial's parameters become fixed values");
        assert!(r.intermediate_values.is_empty(), "a released trial's reports are cleared");
    }
    let r1 = trial(s, st.id, a1.number);
    let fixed: Vec<(Arc<str>, ParamValue)> =
        x.iter().map(|p| (p.name.clone(), p.value())).collect();
    assert_eq!(r1.fixed_params, fixed, "a released trial keeps its values as fixed");
    let rb = trial(s, st.id, b.number);
    assert_eq!((rb.state, rb.attempt), (TrialState::Running, 0), "another worker's trial");
    assert_eq!(trial(s, st.id, a3.number).state, TrialState::Complete, "a finished trial");
    assert_stale(s.report(&l1, 1, &[1.0]), "report");
    assert_eq!(ok(SUITE, s.release_worker(st.id, "w"), "release_worker"), 0);
    assert_eq!(ok(SUITE, s.release_worker(st.id, "nobody"), "release_worker"), 0);

    let mut again: Vec<u64> = (0..2)
        .map(|_| {
            let t = start(s, st.id, "w", None);
            assert_eq!((t.state, t.attempt), (TrialState::Running, 1));
            t.number
        })
        .collect();
    again.sort_unstable();
    assert_eq!(again, [a1.number, a2.number], "released trials are claimed before new ones");
    assert_eq!(start(s, st.id, "w", None).number, 4);
    delete(s, &st);
}

/// Sleeps until `at`.
fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        thread::sleep(at - now);
    }
}

/// Expired leases are reclaimed as the next attempt, renewed ones are not, `None` never
/// expires, and the old attempt's writes are fenced off.
fn leases(s: &dyn Storage) {
    let ms = Duration::from_millis;
    let st = create(s, "leases", &[Direction::Minimize]);
    let t0 = Instant::now();
    let a = start(s, st.id, "a", Some(ms(400)));
    let la = Lease::of(st.id, &a);
    let pa = every_kind_of_param()[..3].to_vec();
    ok(SUITE, s.set_trial_params(&la, &pa), "set_trial_params");
    ok(SUITE, s.report(&la, 0, &[1.0]), "report");
    let b = start(s, st.id, "b", Some(ms(400)));
    let lb = Lease::of(st.id, &b);
    let c = start(s, st.id, "c", None);
    assert_eq!((a.number, b.number, c.number), (0, 1, 2));

    sleep_until(t0 + ms(100));
    ok(SUITE, s.renew_lease(&lb, ms(700)), "renew_lease"); // now until about t0 + 800 ms
    sleep_until(t0 + ms(500));
    // a has expired, b was renewed, c never expires. A waiting trial still comes first.
    let w = insert(s, st.id, &waiting(&[]));
    assert_eq!(start(s, st.id, "d", None).number, w.number, "waiting trials before expired ones");
    let e = start(s, st.id, "e", None);
    assert_eq!(e.number, a.number, "storage conformance: an expired lease must be reclaimed");
    assert_eq!((e.state, e.attempt), (TrialState::Running, 1), "a reclaimed trial");
    assert_eq!(e.worker_id.as_deref(), Some("e"), "a reclaimed trial changes worker");
    assert!(e.params.is_empty(), "a reclaimed trial's parameters become fixed values");
    let fixed: Vec<(Arc<str>, ParamValue)> =
        pa.iter().map(|p| (p.name.clone(), p.value())).collect();
    assert_eq!(e.fixed_params, fixed, "a reclaimed trial keeps its values as fixed");
    assert!(e.intermediate_values.is_empty(), "a reclaimed trial's reports are cleared");
    let f = start(s, st.id, "f", None);
    assert_eq!(
        f.number,
        4,
        "storage conformance: a renewed lease or a lease of None was reclaimed (elapsed {:?})",
        t0.elapsed()
    );

    // The first attempt is fenced off.
    assert_stale(s.set_trial_params(&la, &pa[..1]), "set_trial_params");
    assert_stale(s.set_trial_user_attr(&la, "k", json!(1)), "set_trial_user_attr");
    assert_stale(s.report(&la, 1, &[1.0]), "report");
    assert_stale(s.renew_lease(&la, ms(400)), "renew_lease");
    assert_stale(s.finish_trial(&la, &finish(TrialState::Complete, Some(vec![1.0]))), "finish");
    let now = trial(s, st.id, a.number);
    assert_eq!((now.state, now.attempt), (TrialState::Running, 1), "a fenced write changed it");
    assert!(now.intermediate_values.is_empty() && now.user_attrs.is_empty());
    let le = Lease::of(st.id, &e);
    ok(SUITE, s.report(&le, 0, &[2.0]), "report by the new attempt");
    let done = ok(SUITE, s.finish_trial(&le, &finish(TrialState::Complete, Some(vec![2.0]))), "");
    assert_eq!((done.state, done.values.clone()), (TrialState::Complete, Some(vec![2.0])));

    sleep_until(t0 + ms(900));
    let g = start(s, st.id, "g", None);
    assert_eq!((g.number, g.attempt), (b.number, 1), "a renewed lease expires in the end");
    assert_stale(s.finish_trial(&lb, &finish(TrialState::Failed, None)), "finish");
    let h = start(s, st.id, "h", None);
    assert_eq!(h.number, 5, "storage conformance: a lease of None must never expire");
    assert_eq!(trial(s, st.id, c.number).attempt, 0, "a lease of None must never expire");
    delete(s, &st);
}

/// `start_trial_capped`: exactly the cap, however many claim at once.
fn capped_claims(s: Arc<dyn Storage>) {
    const CAP: u64 = 20;
    let st = create(&*s, "capped", &[Direction::Minimize]);
    let capped = |worker: &str, lease: Option<Duration>, max: u64| {
        ok(SUITE, s.start_trial_capped(st.id, worker, lease, max), "start_trial_capped")
    };
    let mut got: Vec<u64> = Vec::new();
    thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let capped = &capped;
                scope.spawn(move || {
                    let worker = format!("w{i}");
                    std::iter::from_fn(|| capped(&worker, None, CAP).map(|t| t.number))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(out) => got.extend(out),
                Err(_) => panic!("storage conformance: a capped claiming thread panicked"),
            }
        }
    });
    got.sort_unstable();
    assert_eq!(
        got,
        (0..CAP).collect::<Vec<_>>(),
        "storage conformance: eight workers capped at {CAP} must create trials 0..{CAP}, each once"
    );
    assert!(capped("w", None, CAP).is_none(), "storage conformance: a full study gave a trial");
    let all = ok(SUITE, s.trials_since(st.id, 0), "trials_since");
    assert_eq!(all.trials.len() as u64, CAP, "storage conformance: a refused claim left a trial");
    delete(&*s, &st);

    let st2 = create(&*s, "capped-lease", &[Direction::Minimize]);
    let capped = |worker: &str, lease: Option<Duration>, max: u64| {
        ok(SUITE, s.start_trial_capped(st2.id, worker, lease, max), "start_trial_capped")
    };
    let lease = Duration::from_millis(150);
    let first = capped("a", Some(lease), 1).map(|t| (t.number, t.attempt));
    assert_eq!(first, Some((0, 0)), "storage conformance: the first capped claim");
    assert!(capped("b", Some(lease), 1).is_none(), "a live lease must not be claimed");
    thread::sleep(lease * 3);
    let again = capped("b", Some(lease), 1).map(|t| (t.number, t.attempt));
    assert_eq!(again, Some((0, 1)), "storage conformance: an expired lease below the cap");
    let queued = insert(&*s, st2.id, &waiting(&[]));
    assert_eq!(queued.number, 1);
    assert!(capped("c", None, 1).is_none(), "a waiting trial beyond the cap was claimed");
    assert_eq!(trial(&*s, st2.id, 1).state, TrialState::Waiting, "a refused claim changed it");
    assert_eq!(capped("c", None, 2).map(|t| t.number), Some(1), "the waiting trial, cap 2");
    delete(&*s, &st2);
}

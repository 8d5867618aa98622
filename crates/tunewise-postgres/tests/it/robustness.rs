//! Faults between the storage and the server, made by a proxy: a connection cut right after a
//! commit (an ambiguous commit), a server gone away for longer than the reconnect budget, a
//! server that never answers; and a statement stuck on a lock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tunewise_core::storage::{Lease, TrialFinish};
use tunewise_core::{Direction, Error, FrozenTrial, Storage, TrialState};
use tunewise_postgres::PostgresStorage;

use crate::common;
use crate::proxy::{Mode, Proxy};

fn complete(values: Vec<f64>) -> TrialFinish {
    TrialFinish {
        state: TrialState::Complete,
        values: Some(values),
        constraints: Vec::new(),
        fail_reason: None,
        params: Vec::new(),
    }
}

#[test]
fn ambiguous_commits_are_retried_idempotently() {
    let Some(url) = common::url("ambiguous_commits_are_retried_idempotently") else { return };
    let proxy = Proxy::start(&url);
    let s = PostgresStorage::builder(proxy.url())
        .reconnect_budget(Duration::from_secs(20))
        .connect()
        .expect("connect through the proxy");
    let direct = common::storage(&url);
    let name = common::unique("ambiguous");
    let mut cuts = 0;
    let mut cut = |what: &str| {
        cuts += 1;
        assert_eq!(proxy.cuts(), cuts - 1, "{what}: an earlier cut did not happen");
        proxy.set(Mode::CutAfterCommit);
    };

    // Each write below commits, loses its answer, and is retried on a new connection.
    cut("create_study");
    let st = s.create_study(&name, &[Direction::Minimize]).expect("a retried create_study");
    assert_eq!(proxy.cuts(), 1, "the answer to create_study was not cut");

    cut("start_trial");
    let t0 = s.start_trial(st.id, "w", None).expect("a retried start_trial");
    cut("insert_trial");
    let mut waiting = FrozenTrial::new(0, 0, TrialState::Waiting);
    waiting.fixed_params = vec![(Arc::from("k"), 7i64.into())];
    let w = s.insert_trial(st.id, &waiting).expect("a retried insert_trial");
    cut("claim");
    let t1 = s.start_trial(st.id, "w", None).expect("a retried claim");
    assert_eq!(t1.number, w.number, "the retry returned the trial its first try claimed");
    cut("finish_trial");
    let done = s
        .finish_trial(&Lease::of(st.id, &t0), &complete(vec![1.5]))
        .expect("a retried finish_trial succeeds");
    assert_eq!((done.state, done.values.clone()), (TrialState::Complete, Some(vec![1.5])));
    assert_eq!(proxy.cuts(), 5, "every answer was cut once");
    assert!(s.stats().retries >= 5, "retries: {:?}", s.stats());

    // Nothing was done twice: two trials, the first complete, the claimed one running once.
    let trials = direct.trials_since(st.id, 0).expect("read").trials;
    let summary: Vec<(u64, TrialState, u32)> =
        trials.iter().map(|t| (t.number, t.state, t.attempt)).collect();
    assert_eq!(
        summary,
        [(0, TrialState::Complete, 0), (1, TrialState::Running, 0)],
        "a retried write was applied twice"
    );
    // A second finish is still refused: the retry rule only accepts the call's own first try.
    let again = s.finish_trial(&Lease::of(st.id, &t0), &complete(vec![1.5]));
    assert!(matches!(again, Err(Error::TrialFinished(0))), "{again:?}");

    cut("delete_study");
    s.delete_study(st.id).expect("a retried delete_study");
    assert!(direct.find_study(&name).expect("find").is_none());
}

#[test]
fn an_outage_beyond_the_reconnect_budget_fails_clearly_and_the_storage_recovers() {
    let test = "an_outage_beyond_the_reconnect_budget_fails_clearly_and_the_storage_recovers";
    let Some(url) = common::url(test) else { return };
    let proxy = Proxy::start(&url);
    let s = PostgresStorage::builder(proxy.url())
        .reconnect_budget(Duration::from_millis(1500))
        .connect()
        .expect("connect through the proxy");
    let name = common::unique("outage");
    let st = s.create_study(&name, &[Direction::Minimize]).expect("create");

    proxy.set(Mode::Down);
    let started = Instant::now();
    let r = s.start_trial(st.id, "w", None);
    let took = started.elapsed();
    match &r {
        Err(Error::Storage(m)) => {
            assert!(m.contains("did not answer") && m.contains("reconnect budget"), "{m}")
        }
        other => panic!("an outage must end in a clear storage error, got {other:?}"),
    }
    assert!(took < Duration::from_secs(5), "the reconnect budget of 1.5 s took {took:?}");
    assert!(s.stats().retries >= 3, "it backed off and retried: {:?}", s.stats());

    // The server is back: the same storage reconnects by itself.
    proxy.set(Mode::Forward);
    let t = s.start_trial(st.id, "w", None).expect("works again after the outage");
    assert_eq!(t.number, 0, "the failed start left no trial behind");
    s.delete_study(st.id).expect("delete");
}

#[test]
fn a_server_that_never_answers_does_not_hang_the_worker() {
    let Some(url) = common::url("a_server_that_never_answers_does_not_hang_the_worker") else {
        return;
    };
    let proxy = Proxy::start(&url);
    let s = PostgresStorage::builder(proxy.url())
        .statement_timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_millis(300))
        .reconnect_budget(Duration::from_secs(1))
        .connect()
        .expect("connect through the proxy");
    let name = common::unique("blackhole");
    let st = s.create_study(&name, &[Direction::Minimize]).expect("create");
    proxy.set(Mode::Blackhole);
    let started = Instant::now();
    let r = s.trials_since(st.id, 0);
    let took = started.elapsed();
    assert!(matches!(&r, Err(Error::Storage(m)) if m.contains("no answer within")), "{r:?}");
    assert!(took < Duration::from_secs(5), "gave up after {took:?}");
    proxy.set(Mode::Forward);
    s.delete_study(st.id).expect("delete after the server answers again");
}

#[test]
fn a_statement_stuck_on_a_lock_is_cancelled_by_the_statement_timeout() {
    let test = "a_statement_stuck_on_a_lock_is_cancelled_by_the_statement_timeout";
    let Some(url) = common::url(test) else { return };
    let s = PostgresStorage::builder(&url)
        .statement_timeout(Duration::from_millis(300))
        .connect()
        .expect("connect");
    let name = common::unique("stuck");
    let st = s.create_study(&name, &[Direction::Minimize]).expect("create");
    let mut other = postgres::Client::connect(&url, postgres::NoTls).expect("a raw connection");
    let mut tx = other.transaction().expect("begin");
    tx.execute("SELECT 1 FROM tunewise_studies WHERE id = $1 FOR UPDATE", &[&(st.id.0 as i64)])
        .expect("lock the study row");
    let started = Instant::now();
    let r = s.start_trial(st.id, "w", None);
    let took = started.elapsed();
    assert!(matches!(&r, Err(Error::Storage(m)) if m.contains("statement_timeout")), "{r:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    tx.rollback().expect("rollback");
    assert_eq!(s.start_trial(st.id, "w", None).expect("start").number, 0);
    s.delete_study(st.id).expect("delete");
}

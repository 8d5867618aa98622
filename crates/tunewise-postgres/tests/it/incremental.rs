//! Incremental reads under concurrent writers: a reader that only ever asks for the changes since
//! its cursor ends with exactly the study's final state. (A cursor over a global sequence would
//! miss a change whose transaction took a smaller number but committed after the reader passed
//! it.)

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tunewise_core::storage::{Lease, TrialFinish};
use tunewise_core::{Direction, FrozenTrial, Storage, TrialState};

use crate::common;

#[test]
fn a_reader_following_its_cursor_misses_no_change_of_concurrent_writers() {
    let test = "a_reader_following_its_cursor_misses_no_change_of_concurrent_writers";
    let Some(url) = common::url(test) else { return };
    let storage = common::storage(&url);
    let st =
        storage.create_study(&common::unique("since"), &[Direction::Minimize]).expect("create");
    let mut seen: BTreeMap<u64, Arc<FrozenTrial>> = BTreeMap::new();
    let mut reads = 0;
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..6)
            .map(|w| {
                let storage = &storage;
                scope.spawn(move || {
                    let worker = format!("w{w}");
                    let started = Instant::now();
                    while started.elapsed() < Duration::from_millis(1500) {
                        let t = storage.start_trial(st.id, &worker, None).expect("start");
                        let lease = Lease::of(st.id, &t);
                        storage.report(&lease, 0, &[t.number as f64]).expect("report");
                        let end = TrialFinish {
                            state: TrialState::Complete,
                            values: Some(vec![t.number as f64]),
                            constraints: Vec::new(),
                            fail_reason: None,
                            params: Vec::new(),
                        };
                        storage.finish_trial(&lease, &end).expect("finish");
                    }
                })
            })
            .collect();
        // The reader: changes since its cursor, over and over, while the writers run.
        let mut cursor = 0;
        loop {
            let finished = writers.iter().all(|w| w.is_finished());
            let changes = storage.trials_since(st.id, cursor).expect("read changes");
            assert!(changes.cursor >= cursor, "the cursor went back");
            for t in changes.trials {
                seen.insert(t.number, t);
            }
            cursor = changes.cursor;
            reads += 1;
            if finished {
                break;
            }
        }
    });
    let all = storage.trials_since(st.id, 0).expect("read everything").trials;
    assert!(all.len() > 50, "the writers made only {} trials", all.len());
    assert_eq!(seen.len(), all.len(), "the reader missed trials");
    for t in &all {
        assert_eq!(**t, *seen[&t.number], "the reader has an old state of trial {}", t.number);
        assert_eq!(t.state, TrialState::Complete);
    }
    eprintln!("{reads} incremental reads followed {} trials written by 6 threads", all.len());
    storage.delete_study(st.id).expect("delete");
}

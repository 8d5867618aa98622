//! `SqliteStorage::open_read_only`: reads what writers wrote, never writes, refuses files it
//! must not read.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use tunewise_core::{Budget, Direction, FrozenTrial, RandomSampler, Storage, Study, TrialState};
use tunewise_sqlite::SqliteStorage;

use crate::common::{db_path, one_float, open, temp_dir};

fn stamp(path: &Path) -> (Vec<u8>, SystemTime) {
    (std::fs::read(path).unwrap(), std::fs::metadata(path).unwrap().modified().unwrap())
}

fn fill(path: &Path, trials: usize) {
    let study = Study::builder()
        .name("s")
        .minimize()
        .sampler(RandomSampler::with_seed(1))
        .storage(open(path))
        .load_if_exists(true)
        .create()
        .unwrap();
    study.optimize(one_float, Budget::trials(trials)).unwrap();
}

#[test]
fn read_only_open_reads_the_study_and_never_writes_the_file() {
    let dir = temp_dir();
    let path = db_path(&dir);
    fill(&path, 10);
    // The writer is closed: its last connection checkpointed the log into the file.
    let before = stamp(&path);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let reader = SqliteStorage::open_read_only(&path).unwrap();
    assert!(reader.is_read_only());
    let record = reader.find_study("s").unwrap().unwrap();
    assert_eq!(reader.list_studies().unwrap().len(), 1);
    let changes = reader.trials_since(record.id, 0).unwrap();
    assert_eq!(changes.trials.len(), 10);
    assert!(reader.trials_since(record.id, changes.cursor).unwrap().trials.is_empty());
    assert_eq!(reader.trial(record.id, 3).unwrap().number, 3);
    for err in [
        reader.create_study("t", &[Direction::Minimize]).unwrap_err(),
        reader.delete_study(record.id).unwrap_err(),
        reader.insert_trial(record.id, &FrozenTrial::new(0, 0, TrialState::Waiting)).unwrap_err(),
        reader.start_trial(record.id, "w", None).unwrap_err(),
    ] {
        assert!(err.to_string().contains("read-only"), "{err}");
    }
    drop(reader);
    assert!(stamp(&path) == before, "the file's bytes and mtime are unchanged");
    assert_eq!(reader_commits(&path), 0);
}

fn reader_commits(path: &Path) -> u64 {
    let reader = SqliteStorage::open_read_only(path).unwrap();
    let _ = reader.list_studies().unwrap();
    reader.commits()
}

#[test]
fn read_only_open_follows_a_writer_without_blocking_it() {
    let dir = temp_dir();
    let path = db_path(&dir);
    fill(&path, 3);
    let reader = Arc::new(SqliteStorage::open_read_only(&path).unwrap());
    let record = reader.find_study("s").unwrap().unwrap();
    let first = reader.trials_since(record.id, 0).unwrap();
    assert_eq!(first.trials.len(), 3);
    // A reader in the middle of a read (an open read transaction would be the worst case)
    // does not stop the writer: the writer's trials all finish.
    let writer = std::thread::spawn({
        let path = path.clone();
        move || fill(&path, 20)
    });
    let mut seen = first.cursor;
    let mut total = 3;
    while !writer.is_finished() {
        let c = reader.trials_since(record.id, seen).unwrap();
        seen = c.cursor;
        total = total.max(c.trials.iter().map(|t| t.number + 1).max().unwrap_or(0) as usize);
    }
    writer.join().unwrap();
    let last = reader.trials_since(record.id, seen).unwrap();
    total = total.max(last.trials.iter().map(|t| t.number + 1).max().unwrap_or(0) as usize);
    assert_eq!(total, 23, "the reader saw every trial the writer added");
    let all = reader.trials_since(record.id, 0).unwrap().trials;
    assert!(all.iter().all(|t| t.state == TrialState::Complete));
}

#[test]
fn read_only_open_refuses_missing_empty_foreign_and_non_sqlite_files_and_leaves_them() {
    let dir = temp_dir();
    let missing = dir.path().join("missing.db");
    let err = SqliteStorage::open_read_only(&missing).unwrap_err().to_string();
    assert!(err.contains("does not exist"), "{err}");
    assert!(!missing.exists(), "nothing is created");

    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = SqliteStorage::open_read_only(&empty).unwrap_err().to_string();
    assert!(err.contains("empty") && err.contains("no tunewise study"), "{err}");
    assert_eq!(std::fs::read(&empty).unwrap(), b"");

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database at all, just some words to fill a page\n".repeat(4))
        .unwrap();
    let before = stamp(&text);
    let err = SqliteStorage::open_read_only(&text).unwrap_err().to_string();
    assert!(err.contains("not a tunewise database"), "{err}");
    assert!(stamp(&text) == before);

    let foreign = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&foreign).unwrap();
        conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);").unwrap();
    }
    let before = stamp(&foreign);
    let err = SqliteStorage::open_read_only(&foreign).unwrap_err().to_string();
    assert!(err.contains("another program") && err.contains("invoices"), "{err}");
    assert!(stamp(&foreign) == before);

    let a_dir = dir.path().join("sub");
    std::fs::create_dir(&a_dir).unwrap();
    let err = SqliteStorage::open_read_only(&a_dir).unwrap_err().to_string();
    assert!(err.contains("is a directory"), "{err}");
}

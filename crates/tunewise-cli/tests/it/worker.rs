//! `tunewise worker`: several worker processes share one study (SQLite file, PostgreSQL),
//! the study-wide budget is exact, and a killed worker's trial runs again elsewhere.

use std::path::Path;
use std::process::{Child, Command as Process, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use tunewise::{FrozenTrial, TrialState};

use super::{assert_fails, lines_with, stderr, stdout};

/// A study file for a shared study of `trials` trials in total.
fn study_file(trials: usize) -> String {
    format!(
        "[study]\nseed = 11\n[sampler]\nkind = \"random\"\n[budget]\ntrials = {trials}\n\
         [params.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n"
    )
}

/// A study name no other test run uses (the PostgreSQL database is shared).
fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("cli-worker-{tag}-{}-{nanos:08x}", std::process::id())
}

fn postgres_url(test: &str) -> Option<String> {
    let url = std::env::var("TUNEWISE_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!("TUNEWISE_TEST_POSTGRES_URL is not set: skipping {test}");
    }
    url
}

fn tunewise(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("tunewise").expect("binary");
    cmd.current_dir(dir);
    cmd
}

/// `tunewise run --trials 0`: creates the study and stores its definition, runs nothing.
fn create_study(dir: &Path, url: &str, name: &str, trials: usize, program: &str) {
    std::fs::write(dir.join("study.toml"), study_file(trials)).expect("write the study file");
    let out = tunewise(dir)
        .args(["run", "--config", "study.toml", "--trials", "0", "--storage", url])
        .args(["--study", name, "--", "sh", "-c", program, "sh", "{x}"])
        .output()
        .expect("run tunewise run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 trial(s) run"), "{}", stdout(&out));
}

fn spawn_worker(dir: &Path, url: &str, name: &str, extra: &[&str]) -> Child {
    Process::new(assert_cmd::cargo::cargo_bin("tunewise"))
        .current_dir(dir)
        .args(["worker", "--storage", url, "--study", name])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tunewise worker")
}

fn trials_of(url: &str, name: &str) -> Vec<FrozenTrial> {
    let storage = tunewise::storage::open(url).expect("open the storage");
    let study = storage.find_study(name).expect("find_study").expect("the study exists");
    let mut trials: Vec<FrozenTrial> = storage
        .trials_since(study.id, 0)
        .expect("trials_since")
        .trials
        .iter()
        .map(|t| (**t).clone())
        .collect();
    trials.sort_by_key(|t| t.number);
    trials
}

fn delete_study(url: &str, name: &str) {
    if let Ok(storage) = tunewise::storage::open(url) {
        let _ = tunewise::storage::delete_study_by_name(&*storage, name);
    }
}

/// Each trial's program logs `number worker-id` (from its environment) and sleeps a little,
/// so that every worker gets trials.
const LOGGING_PROGRAM: &str =
    r#"echo "$TUNEWISE_TRIAL_NUMBER $TUNEWISE_WORKER_ID" >> trials.log; sleep 0.2; echo "$1""#;

/// Three workers at once, two trials at a time each, on a study of 15 trials.
fn three_workers_share_the_budget(url: &str, name: &str, dir: &Path) {
    const TOTAL: usize = 15;
    create_study(dir, url, name, TOTAL, LOGGING_PROGRAM);
    let workers: Vec<Child> =
        (0..3).map(|_| spawn_worker(dir, url, name, &["-j", "2", "--lease", "5s"])).collect();
    let outputs: Vec<Output> =
        workers.into_iter().map(|w| w.wait_with_output().expect("wait for a worker")).collect();
    let mut run_by_workers = 0;
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr(out));
        let summary = lines_with(&stdout(out), "trial(s) run").pop().unwrap_or_default().to_owned();
        assert!(summary.contains("the study holds its 15 trials"), "{}", stdout(out));
        run_by_workers +=
            summary.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
    }
    assert_eq!(run_by_workers, TOTAL, "the workers' own counts");

    let trials = trials_of(url, name);
    let numbers: Vec<u64> = trials.iter().map(|t| t.number).collect();
    assert_eq!(
        numbers,
        (0..TOTAL as u64).collect::<Vec<_>>(),
        "exactly the budget, numbered densely"
    );
    for t in &trials {
        assert_eq!(t.state, TrialState::Complete, "trial {} is {}", t.number, t.state);
        assert_eq!(t.attempt, 0, "trial {} ran twice", t.number);
    }
    let mut ids: Vec<&str> = trials.iter().filter_map(|t| t.worker_id.as_deref()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert!(ids.len() > 1, "one worker ran every trial: {ids:?}");
    let pid_of = |id: &str| id.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
    assert!(ids.iter().all(|id| pid_of(id).is_some()), "ids are hostname-pid: {ids:?}");
    // The program saw its worker's id in TUNEWISE_WORKER_ID.
    let log = std::fs::read_to_string(dir.join("trials.log")).expect("the programs' log");
    let mut logged: Vec<(u64, String)> = log
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, w)| (n.parse().unwrap_or(u64::MAX), w.to_owned()))
        .collect();
    logged.sort();
    let stored: Vec<(u64, String)> = trials
        .iter()
        .map(|t| (t.number, t.worker_id.as_deref().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(logged, stored, "each program ran once, and knew its worker");

    // The study is full: a late worker runs nothing and says why.
    let late =
        tunewise(dir).args(["worker", "--storage", url, "--study", name]).output().expect("run");
    assert!(late.status.success(), "{}", stderr(&late));
    assert!(stdout(&late).contains("0 trial(s) run"), "{}", stdout(&late));
    assert_eq!(trials_of(url, name).len(), TOTAL);
}

#[test]
fn sqlite_workers_share_a_study_wide_budget() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    three_workers_share_the_budget(&url, "shared", dir.path());
}

#[test]
fn postgres_workers_share_a_study_wide_budget() {
    let Some(url) = postgres_url("postgres_workers_share_a_study_wide_budget") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let name = unique("share");
    three_workers_share_the_budget(&url, &name, dir.path());
    delete_study(&url, &name);
}

/// Trial 0's first run records its shell's pid and hangs; every other run is quick.
const HANGING_PROGRAM: &str = r#"if [ "$TUNEWISE_TRIAL_NUMBER" = 0 ] && [ ! -e hung ]; then
        echo $$ > hung.tmp; mv hung.tmp hung; exec sleep 60
    fi
    echo "$1""#;

/// A worker is killed (SIGKILL) in the middle of trial 0; another worker finishes the budget
/// and, once the dead worker's lease has expired, runs trial 0 again.
fn a_killed_workers_trial_runs_again(url: &str, name: &str, dir: &Path) {
    create_study(dir, url, name, 4, HANGING_PROGRAM);
    let mut victim = spawn_worker(dir, url, name, &["--lease", "2s", "--worker-id", "victim"]);
    let started = Instant::now();
    while !dir.join("hung").exists() {
        assert!(started.elapsed() < Duration::from_secs(30), "trial 0 never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    victim.kill().expect("SIGKILL the worker");
    let _ = victim.wait();
    // The hanging program outlives its worker (it has its own process group): end it too.
    let pid = std::fs::read_to_string(dir.join("hung")).expect("pid").trim().to_owned();
    let _ = Process::new("kill").args(["-KILL", &pid]).status();
    assert_eq!(
        trials_of(url, name)[0].state,
        TrialState::Running,
        "left running by the dead worker"
    );

    let rescue = tunewise(dir)
        .args(["worker", "--storage", url, "--study", name, "--lease", "2s"])
        .args(["--worker-id", "rescuer"])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run the second worker");
    assert!(rescue.status.success(), "{}", stderr(&rescue));
    assert!(stderr(&rescue).contains("trial 0: complete"), "{}", stderr(&rescue));
    assert!(stdout(&rescue).contains("4 trial(s) run"), "{}", stdout(&rescue));
    let trials = trials_of(url, name);
    assert_eq!(trials.len(), 4, "no trial more than the budget");
    assert!(trials.iter().all(|t| t.state == TrialState::Complete), "{trials:?}");
    assert_eq!((trials[0].attempt, trials[0].worker_id.as_deref()), (1, Some("rescuer")));
}

#[cfg(unix)]
#[test]
fn sqlite_a_killed_workers_trial_runs_again_after_its_lease() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    a_killed_workers_trial_runs_again(&url, "killed", dir.path());
}

#[cfg(unix)]
#[test]
fn postgres_a_killed_workers_trial_runs_again_after_its_lease() {
    let Some(url) = postgres_url("postgres_a_killed_workers_trial_runs_again_after_its_lease")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let name = unique("killed");
    a_killed_workers_trial_runs_again(&url, &name, dir.path());
    delete_study(&url, &name);
}

#[test]
fn a_worker_needs_a_study_with_a_definition_and_its_program_here() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("w.db").display());
    let worker = |extra: &[&str]| {
        tunewise(dir.path())
            .args(["worker", "--storage", &url, "--study", "s"])
            .args(extra)
            .output()
            .expect("run tunewise worker")
    };
    assert_fails(&worker(&[]), &["there is no study 's'", "tunewise run --config"]);
    let storage = tunewise::storage::open(&url).expect("open the storage");
    let bare = tunewise::Study::builder().name("bare").storage(storage).create();
    bare.expect("a study made by the library, without a definition");
    let out = tunewise(dir.path())
        .args(["worker", "--storage", &url, "--study", "bare"])
        .output()
        .expect("run tunewise worker");
    assert_fails(&out, &["study 'bare'", "has no stored definition", "tunewise run --config"]);
    create_study(dir.path(), &url, "s", 2, "echo 1");
    assert_fails(&worker(&["--lease", "0s"]), &["--lease '0s'", "60s"]);
    assert_fails(&worker(&["--worker-id", " "]), &["--worker-id is empty"]);
    assert_fails(&worker(&["-j", "0"]), &["-j/--jobs"]);
    let out = worker(&["--", "tunewise-no-such-program", "{x}"]);
    assert_fails(&out, &["'tunewise-no-such-program' was not found in PATH"]);
    assert!(trials_of(&url, "s").is_empty(), "no trial before the checks pass");
    // A study file given to the worker is checked like run's, against the stored study.
    let max = study_file(2).replace("[study]\n", "[study]\ndirection = \"maximize\"\n");
    std::fs::write(dir.path().join("max.toml"), max).expect("write");
    assert_fails(&worker(&["--config", "max.toml"]), &["directions"]);
    // The stored definition runs as is: 2 trials in total.
    let out = worker(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines_with(&stderr(&out), ": complete 1 (").len(), 2, "{}", stderr(&out));
}

#[test]
fn the_study_files_trials_are_the_study_total_for_run_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("study.toml"), study_file(3)).expect("write the study file");
    let run = |extra: &[&str]| {
        tunewise(dir.path())
            .args(["run", "--config", "study.toml", "--storage", "sqlite://s.db"])
            .args(extra)
            .args(["--", "sh", "-c", "echo 1"])
            .output()
            .expect("run tunewise run")
    };
    let first = run(&["--trials", "2"]);
    assert!(stdout(&first).contains("2 trial(s) run; stopped because the trial budget was used\n"));
    let second = run(&[]);
    assert!(stdout(&second).contains("1 trial(s) run"), "{}", stdout(&second));
    let third = run(&["--trials", "5"]);
    assert!(third.status.success(), "{}", stderr(&third));
    assert!(
        stdout(&third).contains("0 trial(s) run; stopped because the trial budget was used: the study holds its 3 trials"),
        "{}",
        stdout(&third)
    );
}

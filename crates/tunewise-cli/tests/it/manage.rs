//! The managing commands (`studies`, `trials`, `best`, `delete`, `copy`, `export`, `enqueue`)
//! and `ask` / `tell`, through the real binary, each with its bad inputs.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

use super::{stderr, stdout};

const SPACE: &str = r#"
[study]
name = "quad"
storage = "sqlite://study.db"
seed = 11

[sampler]
kind = "random"

[params.x]
type = "float"
low = -4.0
high = 4.0

[params.n]
type = "int"
low = 0
high = 4

[params.opt]
type = "categorical"
choices = ["sgd", "adam"]
"#;

/// A directory with the study file above; commands run in it.
struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("study.toml"), SPACE).expect("write study file");
        Dir(dir)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// `tunewise ARGS` in the directory.
    fn tw(&self, args: &[&str]) -> Output {
        Command::cargo_bin("tunewise")
            .expect("binary")
            .current_dir(self.path())
            .args(args)
            .output()
            .expect("run tunewise")
    }

    /// Like [`tw`](Self::tw), with `--storage study.db --study quad` after the command's name.
    fn on_quad(&self, command: &str, args: &[&str]) -> Output {
        let mut all = vec![command, "--storage", "study.db", "--study", "quad"];
        all.extend(args);
        self.tw(&all)
    }

    /// Runs `trials` trials of the quadratic study with the program printing x^2 + n.
    fn run(&self, trials: &str) {
        let out = self.tw(&[
            "run",
            "--config",
            "study.toml",
            "--trials",
            trials,
            "--",
            "awk",
            "-v",
            "x={x}",
            "-v",
            "n={n}",
            "BEGIN { print x * x + n }",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "stdout: {}\nstderr: {}", stdout(out), stderr(out));
    stdout(out)
}

/// The command failed with a message holding every one of `parts`.
fn fails_with(out: &Output, parts: &[&str]) -> String {
    let err = stderr(out);
    assert!(!out.status.success(), "expected a failure; stdout: {}", stdout(out));
    for p in parts {
        assert!(err.contains(p), "'{p}' not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn json(out: &Output) -> Value {
    let text = ok(out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn trial_count(dir: &Dir) -> usize {
    json(&dir.on_quad("trials", &["--format", "json"]))["trials"].as_array().map_or(0, Vec::len)
}

#[test]
fn studies_lists_each_study_as_a_table_csv_and_json() {
    let dir = Dir::new();
    dir.run("4");
    let table = ok(&dir.tw(&["studies", "--storage", "study.db"]));
    let header = table.lines().next().unwrap_or_default();
    for column in ["name", "directions", "complete", "failed", "running", "waiting", "best"] {
        assert!(header.contains(column), "{table}");
    }
    assert!(table.lines().nth(2).is_some_and(|l| l.starts_with("quad ")), "{table}");

    let csv = ok(&dir.tw(&["studies", "--storage", "study.db", "--format", "csv"]));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "name,directions,complete,pruned,failed,running,waiting,best_value,pareto_size,\
             last_activity"
        )
    );
    assert!(lines.next().is_some_and(|l| l.starts_with("quad,minimize,4,0,0,0,0,")), "{csv}");

    let doc = json(&dir.tw(&["studies", "--storage", "study.db", "--format", "json"]));
    assert_eq!(doc[0]["name"], "quad");
    assert_eq!(doc[0]["complete"], 4);
    let best = json(&dir.on_quad("best", &["--format", "json"]))["value"].clone();
    assert_eq!(doc[0]["best_value"], best);
}

#[test]
fn trials_come_as_a_table_csv_or_json_and_filter_by_state() {
    let dir = Dir::new();
    dir.run("3");
    let asked = json(&dir.tw(&["ask", "--storage", "study.db", "--study", "quad"]));
    let n = asked["trial"].to_string();
    ok(&dir.on_quad("tell", &[&n, "--state", "failed", "--message", "out of memory"]));

    let table = ok(&dir.on_quad("trials", &[]));
    let header: Vec<&str> = table.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["number", "state", "value", "n", "opt", "x", "duration_s", "started"]);
    assert_eq!(table.lines().count(), 2 + 4, "{table}");

    let csv = ok(&dir.on_quad("trials", &["--format", "csv"]));
    assert!(
        csv.starts_with("number,state,value,params_n,params_opt,params_x,"),
        "a pandas-ready header: {csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 4);
    let failed = ok(&dir.on_quad("trials", &["--format", "csv", "--state", "failed"]));
    assert_eq!(failed.lines().count(), 2, "{failed}");
    assert!(failed.contains("out of memory"), "{failed}");

    let doc = json(&dir.on_quad("trials", &["--format", "json", "--state", "complete"]));
    let trials = doc["trials"].as_array().cloned().unwrap_or_default();
    assert_eq!(trials.len(), 3);
    assert!(trials.iter().all(|t| t["state"] == "complete" && t["params"]["opt"].is_string()));
}

#[test]
fn best_prints_the_best_trial_as_text_or_json() {
    let dir = Dir::new();
    dir.run("5");
    let all = json(&dir.on_quad("trials", &["--format", "json"]));
    let min = all["trials"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["values"][0].as_f64())
        .fold(f64::INFINITY, f64::min);
    let best = json(&dir.on_quad("best", &["--format", "json"]));
    assert_eq!(best["value"].as_f64(), Some(min));
    assert!(best["params"]["x"].is_number() && best["params"]["opt"].is_string(), "{best}");
    let text = ok(&dir.on_quad("best", &[]));
    assert!(text.starts_with(&format!("trial {}: value {min}\n", best["number"])), "{text}");
    assert!(text.contains("  opt = "), "{text}");
}

#[test]
fn best_of_a_study_without_complete_trials_says_so() {
    let dir = Dir::new();
    ok(&dir.tw(&["ask", "--config", "study.toml"]));
    fails_with(&dir.on_quad("best", &[]), &["no complete trial", "tunewise tell"]);
}

#[test]
fn a_storage_that_cannot_be_opened_is_named_with_the_fix() {
    let dir = Dir::new();
    for command in ["studies", "trials", "best", "export", "delete", "copy", "enqueue", "tell"] {
        let mut args = vec![command, "--storage", "missing.db"];
        if command != "studies" {
            args.extend(["--study", "quad"]);
        }
        if command == "tell" {
            args.extend(["0", "1.0"]);
        }
        if command == "copy" {
            args.extend(["--to", "other"]);
        }
        fails_with(&dir.tw(&args), &["'missing.db' does not exist", "--storage"]);
    }
    assert!(!dir.path().join("missing.db").exists(), "no empty storage was created");
    fails_with(&dir.tw(&["studies", "--storage", "redis://x"]), &["unknown scheme 'redis'"]);
    std::fs::write(dir.path().join("notes.txt"), "not a database, but text").expect("write");
    fails_with(&dir.tw(&["studies", "--storage", "notes.txt"]), &["cannot open the storage"]);
    let notes = std::fs::read_to_string(dir.path().join("notes.txt")).expect("read");
    assert_eq!(notes, "not a database, but text", "the file was left alone");
}

#[test]
fn an_unknown_study_is_named_with_the_studies_there_are() {
    let dir = Dir::new();
    dir.run("1");
    for command in ["trials", "best", "export", "delete", "enqueue", "tell", "ask"] {
        let mut args = vec![command, "--storage", "study.db", "--study", "qaud"];
        if command == "tell" {
            args.extend(["0", "1.0"]);
        }
        if command == "enqueue" {
            args.push("x=1");
        }
        fails_with(&dir.tw(&args), &["no study named 'qaud'", "its studies are: quad"]);
    }
    let err = fails_with(&dir.tw(&["ask", "--storage", "study.db", "--study", "qaud"]), &[]);
    assert!(err.contains("--config FILE"), "{err}");
}

#[test]
fn delete_needs_yes_and_names_an_unknown_study() {
    let dir = Dir::new();
    dir.run("2");
    fails_with(&dir.on_quad("delete", &[]), &["without --yes", "2 trial(s)", "--yes"]);
    assert_eq!(trial_count(&dir), 2, "nothing was deleted");
    fails_with(
        &dir.tw(&["delete", "--storage", "study.db", "--study", "nope", "--yes"]),
        &["no study named 'nope'"],
    );
    let out = ok(&dir.on_quad("delete", &["--yes"]));
    assert!(out.contains("deleted study 'quad' (2 trial(s))"), "{out}");
    let list = ok(&dir.tw(&["studies", "--storage", "study.db"]));
    assert!(list.contains("no study"), "{list}");
}

#[test]
fn copy_keeps_every_trial_and_refuses_an_existing_destination() {
    let dir = Dir::new();
    dir.run("3");
    let out = ok(&dir.on_quad("copy", &["--to-storage", "sqlite://other.db"]));
    assert!(out.contains("copied study 'quad' (3 trial(s))"), "{out}");
    let copied =
        json(&dir.tw(&["trials", "--storage", "other.db", "--study", "quad", "--format", "json"]));
    let original = json(&dir.on_quad("trials", &["--format", "json"]));
    assert_eq!(copied["trials"].as_array().map(Vec::len), Some(3));
    assert_eq!(copied["trials"][2]["params"], original["trials"][2]["params"]);
    assert_eq!(copied["trials"][2]["values"], original["trials"][2]["values"]);

    // Copying again: the destination exists, and is left as it was.
    dir.run("2");
    fails_with(
        &dir.on_quad("copy", &["--to-storage", "sqlite://other.db"]),
        &["'quad' already exists in 'sqlite://other.db'", "nothing was copied", "--to NAME"],
    );
    let after =
        json(&dir.tw(&["trials", "--storage", "other.db", "--study", "quad", "--format", "json"]));
    assert_eq!(after["trials"].as_array().map(Vec::len), Some(3));

    // Within one storage, under a new name; onto itself is refused.
    ok(&dir.on_quad("copy", &["--to", "quad-backup"]));
    let list = ok(&dir.tw(&["studies", "--storage", "study.db", "--format", "csv"]));
    assert!(list.contains("\nquad-backup,minimize,5,"), "{list}");
    fails_with(&dir.on_quad("copy", &[]), &["onto itself"]);
}

#[test]
fn export_writes_csv_or_json_to_a_file_or_standard_output() {
    let dir = Dir::new();
    dir.run("3");
    let out = ok(&dir.on_quad("export", &["--output", "trials.csv"]));
    assert!(out.is_empty(), "the data went to the file: {out}");
    let csv = std::fs::read_to_string(dir.path().join("trials.csv")).expect("csv written");
    assert!(csv.starts_with("number,state,value,params_n,"), "{csv}");
    assert_eq!(csv.lines().count(), 4);

    ok(&dir.on_quad("export", &["--output", "trials.json"]));
    let text = std::fs::read_to_string(dir.path().join("trials.json")).expect("json written");
    let doc: Value = serde_json::from_str(&text).expect("JSON by the file's extension");
    assert_eq!(doc["trials"].as_array().map(Vec::len), Some(3));

    let stdout_csv = ok(&dir.on_quad("export", &[]));
    assert_eq!(stdout_csv, csv);
    let doc = json(&dir.on_quad("export", &["--format", "json"]));
    assert_eq!(doc["directions"][0], "minimize");

    fails_with(
        &dir.on_quad("export", &["--output", "no/such/dir/t.csv"]),
        &["cannot write 'no/such/dir/t.csv'", "--output"],
    );
}

#[test]
fn enqueued_values_are_typed_by_the_search_space_and_run_first() {
    let dir = Dir::new();
    dir.run("2");
    let out = ok(&dir.on_quad("enqueue", &["x=0.5", "n=3", "opt=adam"]));
    assert!(out.contains("enqueued trial 2"), "{out}");
    ok(&dir.on_quad("enqueue", &["--json", r#"{"x": 1, "opt": "sgd"}"#]));
    let waiting = ok(&dir.on_quad("trials", &["--state", "waiting"]));
    assert_eq!(waiting.lines().count(), 4, "{waiting}");

    dir.run("2");
    let doc = json(&dir.on_quad("trials", &["--format", "json"]));
    let t2 = &doc["trials"][2];
    assert_eq!(
        (&t2["state"], &t2["params"]["x"], &t2["params"]["n"], &t2["params"]["opt"]),
        (&Value::from("complete"), &Value::from(0.5), &Value::from(3), &Value::from("adam"))
    );
    assert_eq!(t2["values"][0].as_f64(), Some(3.25));
    let t3 = &doc["trials"][3];
    assert_eq!(
        (&t3["params"]["x"], &t3["params"]["opt"]),
        (&Value::from(1.0), &Value::from("sgd"))
    );
}

#[test]
fn enqueue_refuses_unknown_parameters_and_bad_values() {
    let dir = Dir::new();
    dir.run("1");
    fails_with(&dir.on_quad("enqueue", &["lr=0.1"]), &["no parameter 'lr'", "n, opt, x"]);
    fails_with(&dir.on_quad("enqueue", &["x=9"]), &["value 9 is not in float [-4, 4]"]);
    fails_with(&dir.on_quad("enqueue", &["x=abc"]), &["'abc' is not a number"]);
    fails_with(&dir.on_quad("enqueue", &["n=1.5"]), &["'1.5' is not an integer"]);
    fails_with(&dir.on_quad("enqueue", &["opt=rmsprop"]), &["not one of its choices"]);
    fails_with(&dir.on_quad("enqueue", &["x"]), &["'x' is not NAME=VALUE"]);
    fails_with(&dir.on_quad("enqueue", &["x=1", "x=2"]), &["given twice"]);
    fails_with(&dir.on_quad("enqueue", &["--json", "[1]"]), &["not a JSON object"]);
    fails_with(&dir.on_quad("enqueue", &[]), &["nothing to enqueue"]);
    assert_eq!(trial_count(&dir), 1, "nothing was enqueued");
}

#[test]
fn enqueue_without_a_study_file_reads_numbers_booleans_and_strings() {
    let dir = Dir::new();
    let out = dir.tw(&[
        "run",
        "--storage",
        "plain.db",
        "--study",
        "plain",
        "--trials",
        "1",
        "--",
        "sh",
        "-c",
        "echo 1",
    ]);
    ok(&out);
    let on_plain = |args: &[&str]| {
        let mut all = vec!["enqueue", "--storage", "plain.db", "--study", "plain"];
        all.extend(args);
        dir.tw(&all)
    };
    ok(&on_plain(&["a=3", "b=0.25", "c=true", "d=relu"]));
    let doc =
        json(&dir.tw(&["trials", "--storage", "plain.db", "--study", "plain", "--format", "json"]));
    assert_eq!(doc["trials"][1]["state"], "waiting");
    let table =
        ok(&dir.tw(&["trials", "--storage", "plain.db", "--study", "plain", "--state", "waiting"]));
    assert!(table.contains("3  0.25  true  relu"), "{table}");
}

#[test]
fn ask_creates_the_study_from_a_study_file_and_tell_finishes_the_trial() {
    let dir = Dir::new();
    let asked = json(&dir.tw(&["ask", "--config", "study.toml"]));
    assert_eq!(asked["trial"], 0);
    let x = asked["params"]["x"].as_f64().expect("x");
    assert!((-4.0..=4.0).contains(&x));
    assert!(asked["params"]["n"].is_i64() && asked["params"]["opt"].is_string(), "{asked}");
    let running = json(&dir.on_quad("trials", &["--format", "json"]));
    assert_eq!(running["trials"][0]["state"], "running", "the trial outlives the ask process");
    assert_eq!(running["trials"][0]["params"], asked["params"]);

    // The study file is now stored in the study: a later ask needs only the study's name.
    let env = ok(&dir.tw(&["ask", "--storage", "study.db", "--study", "quad", "--format", "env"]));
    assert!(env.starts_with("TUNEWISE_TRIAL=1\n"), "{env}");
    assert!(env.contains("\nTUNEWISE_PARAM_X=") && env.contains("\nTUNEWISE_PARAM_OPT="), "{env}");

    let told = ok(&dir.on_quad("tell", &["0", "-1.5"]));
    assert_eq!(told.trim(), "trial 0: complete -1.5");
    ok(&dir.on_quad("tell", &["1", "--state", "pruned"]));
    let doc = json(&dir.on_quad("trials", &["--format", "json"]));
    assert_eq!(
        (&doc["trials"][0]["values"][0], &doc["trials"][1]["state"]),
        (&Value::from(-1.5), &Value::from("pruned"))
    );
}

#[test]
fn tell_refuses_bad_input_and_changes_nothing() {
    let dir = Dir::new();
    ok(&dir.tw(&["ask", "--config", "study.toml"]));
    fails_with(&dir.on_quad("tell", &["0", "nan"]), &["NaN", "--state failed"]);
    fails_with(
        &dir.on_quad("tell", &["0", "1", "2"]),
        &["1 objective(s)", "give 1 value(s), got 2"],
    );
    fails_with(&dir.on_quad("tell", &["0", "fast"]), &["'fast' is not a number"]);
    fails_with(&dir.on_quad("tell", &["0"]), &["--state pruned|failed"]);
    fails_with(&dir.on_quad("tell", &["0", "1", "--state", "pruned"]), &["not both"]);
    fails_with(&dir.on_quad("tell", &["0", "1", "--message", "x"]), &["--state failed"]);
    fails_with(&dir.on_quad("tell", &["7", "1"]), &["no trial 7", "its only trial is 0"]);
    let doc = json(&dir.on_quad("trials", &["--format", "json"]));
    assert_eq!(doc["trials"][0]["state"], "running", "refused tells leave the trial running");

    ok(&dir.on_quad("tell", &["0", "2.5"]));
    fails_with(&dir.on_quad("tell", &["0", "1"]), &["trial 0", "already complete (2.5)"]);
    let doc = json(&dir.on_quad("trials", &["--format", "json"]));
    assert_eq!(doc["trials"][0]["values"][0], 2.5, "the second tell changed nothing");

    ok(&dir.on_quad("enqueue", &["x=1"]));
    fails_with(&dir.on_quad("tell", &["1", "1"]), &["trial 1", "waiting"]);
}

#[test]
fn ask_takes_an_enqueued_trial_first() {
    let dir = Dir::new();
    ok(&dir.tw(&["ask", "--config", "study.toml"]));
    ok(&dir.on_quad("enqueue", &["x=2.5", "opt=adam"]));
    let asked = json(&dir.on_quad("ask", &[]));
    assert_eq!(asked["trial"], 1);
    assert_eq!(
        (&asked["params"]["x"], &asked["params"]["opt"]),
        (&Value::from(2.5), &Value::from("adam"))
    );
    assert!(asked["params"]["n"].is_i64(), "the parameter not enqueued is sampled: {asked}");
}

#[test]
fn ask_without_a_search_space_says_to_give_config() {
    let dir = Dir::new();
    ok(&dir.tw(&[
        "run",
        "--storage",
        "plain.db",
        "--study",
        "plain",
        "--trials",
        "1",
        "--",
        "sh",
        "-c",
        "echo 1",
    ]));
    fails_with(
        &dir.tw(&["ask", "--storage", "plain.db", "--study", "plain"]),
        &["study 'plain' has no study file stored", "--config FILE"],
    );
    fails_with(&dir.tw(&["ask", "--config", "missing.toml"]), &["cannot read the study file"]);
}

#[test]
fn several_objectives_give_a_pareto_front() {
    let dir = Dir::new();
    let two = SPACE.replace("seed = 11", "seed = 11\ndirections = [\"minimize\", \"maximize\"]");
    std::fs::write(dir.path().join("two.toml"), two).expect("write");
    let pairs = [("1", "1"), ("2", "3"), ("0.5", "0"), ("3", "2")];
    for (i, (a, b)) in pairs.iter().enumerate() {
        ok(&dir.tw(&["ask", "--config", "two.toml"]));
        ok(&dir.on_quad("tell", &[&i.to_string(), a, b]));
    }
    fails_with(&dir.on_quad("tell", &["0", "1"]), &["2 objective(s) (minimize, maximize)"]);
    let front = json(&dir.on_quad("best", &["--format", "json"]));
    let numbers: Vec<u64> =
        front.as_array().into_iter().flatten().filter_map(|t| t["number"].as_u64()).collect();
    assert_eq!(numbers, [0, 1, 2], "{front}");
    let text = ok(&dir.on_quad("best", &[]));
    assert!(text.starts_with("Pareto front (minimize, maximize): 3 trial(s)"), "{text}");
    let csv = ok(&dir.tw(&["studies", "--storage", "study.db", "--format", "csv"]));
    assert!(csv.contains("quad,\"minimize,maximize\",4,0,0,0,0,,3,"), "{csv}");
}

/// An outer loop in shell: ask, evaluate, tell, ten times; `best` finds the best told value.
#[test]
fn an_ask_tell_loop_in_shell_finds_the_best_told_value() {
    let dir = Dir::new();
    let script = r#"
set -e
"$TW" ask --config study.toml > /dev/null
"$TW" tell --storage study.db --study quad 0 100
i=1
while [ $i -lt 10 ]; do
    eval "$("$TW" ask --storage study.db --study quad --format env)"
    score=$(awk -v x="$TUNEWISE_PARAM_X" -v n="$TUNEWISE_PARAM_N" 'BEGIN { print (x - 1) ^ 2 + n }')
    "$TW" tell --storage study.db --study quad "$TUNEWISE_TRIAL" "$score"
    i=$((i + 1))
done
"#;
    let binary = assert_cmd::cargo::cargo_bin("tunewise");
    let out = std::process::Command::new("sh")
        .current_dir(dir.path())
        .env("TW", &binary)
        .args(["-c", script])
        .output()
        .expect("sh");
    ok(&out);
    assert_eq!(stdout(&out).lines().filter(|l| l.contains(": complete ")).count(), 10);
    let doc = json(&dir.on_quad("trials", &["--format", "json"]));
    let trials = doc["trials"].as_array().cloned().unwrap_or_default();
    assert_eq!(trials.len(), 10);
    assert!(trials.iter().all(|t| t["state"] == "complete"));
    let (mut best_n, mut best_v) = (0, f64::INFINITY);
    for t in &trials {
        let v = t["values"][0].as_f64().unwrap_or(f64::INFINITY);
        if v < best_v {
            (best_n, best_v) = (t["number"].as_u64().unwrap_or(0), v);
        }
    }
    let best = json(&dir.on_quad("best", &["--format", "json"]));
    assert_eq!((best["number"].as_u64(), best["value"].as_f64()), (Some(best_n), Some(best_v)));
    assert!(best_v < 100.0);
}

/// Copy a SQLite study to PostgreSQL, then ask, tell, read and delete it there.
#[cfg(feature = "postgres")]
#[test]
fn a_study_copied_to_postgres_is_managed_there() {
    let Ok(url) = std::env::var("TUNEWISE_TEST_POSTGRES_URL") else {
        eprintln!("skipped: TUNEWISE_TEST_POSTGRES_URL is not set");
        return;
    };
    let dir = Dir::new();
    dir.run("2");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!("cli-manage-{}-{nanos}", std::process::id());
    ok(&dir.on_quad("copy", &["--to-storage", &url, "--to", &name]));
    let on_pg = |command: &str, args: &[&str]| {
        let mut all = vec![command, "--storage", url.as_str(), "--study", name.as_str()];
        all.extend(args);
        dir.tw(&all)
    };
    // The study file came with the copy: ask needs no --config.
    let asked = json(&on_pg("ask", &[]));
    assert_eq!(asked["trial"], 2);
    ok(&on_pg("tell", &["2", "-100"]));
    fails_with(&on_pg("tell", &["2", "1"]), &["already complete"]);
    let best = json(&on_pg("best", &["--format", "json"]));
    assert_eq!((&best["number"], &best["value"]), (&Value::from(2), &Value::from(-100.0)));
    let doc = json(&on_pg("trials", &["--format", "json"]));
    assert_eq!(doc["trials"].as_array().map(Vec::len), Some(3));
    ok(&on_pg("delete", &["--yes"]));
    let list = ok(&dir.tw(&["studies", "--storage", &url, "--format", "csv"]));
    assert!(!list.contains(&name), "{list}");
}

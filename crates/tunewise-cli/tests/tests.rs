//! Drives the real `tunewise` binary: runs, score rules, failures, bad input, resume.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

#[path = "it/dashboard.rs"]
mod dashboard;
#[path = "it/manage.rs"]
mod manage;
#[path = "it/worker.rs"]
mod worker;

/// A study file in a fresh directory; the storage is a SQLite file next to it.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(study_file: &str) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("study.toml"), study_file).expect("write study file");
        Setup { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `tunewise run --config study.toml EXTRA -- COMMAND`.
    fn run(&self, extra: &[&str], command: &[&str]) -> Output {
        let mut cmd = Command::cargo_bin("tunewise").expect("binary");
        cmd.current_dir(self.path()).args(["run", "--config", "study.toml"]).args(extra);
        if !command.is_empty() {
            cmd.arg("--").args(command);
        }
        cmd.output().expect("run tunewise")
    }
}

/// A file in the setup's directory (written by a trial's program or a command), or "" if absent.
fn read_file(setup: &Setup, name: &str) -> String {
    std::fs::read_to_string(setup.path().join(name)).unwrap_or_default()
}

/// `PATH` with the directory of the `tunewise` under test first, so that a trial's program
/// finds it.
fn path_with_tunewise() -> std::ffi::OsString {
    let bin = assert_cmd::cargo::cargo_bin("tunewise");
    let mut dirs: Vec<std::path::PathBuf> =
        bin.parent().map(Path::to_path_buf).into_iter().collect();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).expect("PATH")
}

/// Starts `tunewise ARGS` in the setup's directory, sends it SIGINT after `after`, and waits.
#[cfg(unix)]
fn interrupted_run(setup: &Setup, args: &[&str], after: std::time::Duration) -> Output {
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tunewise"))
        .current_dir(setup.path())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start tunewise");
    std::thread::sleep(after);
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn lines_with<'a>(text: &'a str, what: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(what)).collect()
}

const QUADRATIC: &str = r#"
[study]
name = "quad"
storage = "sqlite://study.db"
seed = 7

[sampler]
kind = "tpe"

[budget]
trials = 20

[params.x]
type = "float"
low = -4.0
high = 4.0

[params.n]
type = "int"
low = 0
high = 4
"#;

/// Prints (x - 1)^2 + (n - 2)^2 with awk.
const QUAD_PROGRAM: [&str; 5] = ["awk", "-v", "x={x}", "-v", "n={n}"];

fn quad(setup: &Setup, extra: &[&str]) -> Output {
    let mut command: Vec<&str> = QUAD_PROGRAM.to_vec();
    command.push("BEGIN { print (x - 1) ^ 2 + (n - 2) ^ 2 }");
    setup.run(extra, &command)
}

fn best_value(out: &str) -> f64 {
    let line = lines_with(out, "best: trial").pop().unwrap_or_default();
    line.split_whitespace().nth(4).and_then(|v| v.parse().ok()).unwrap_or(f64::INFINITY)
}

#[test]
fn quadratic_over_20_trials_finds_a_good_point() {
    let setup = Setup::new(QUADRATIC);
    let out = quad(&setup, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(lines_with(&err, ": complete ").len(), 20, "{err}");
    let best = best_value(&stdout(&out));
    assert!(best < 0.5, "best {best}\n{}", stdout(&out));
    assert!(stdout(&out).contains("the trial budget was used"), "{}", stdout(&out));
    assert!(setup.path().join("study.db").exists());
}

#[test]
fn parallel_jobs_run_every_trial() {
    let setup = Setup::new(QUADRATIC);
    let out = quad(&setup, &["-j", "3", "--trials", "9"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines_with(&stderr(&out), ": complete ").len(), 9, "{}", stderr(&out));
}

#[test]
fn resuming_accumulates_trials() {
    let setup = Setup::new(QUADRATIC);
    assert!(quad(&setup, &["--trials", "3"]).status.success());
    let out = quad(&setup, &["--trials", "4"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("3 trial(s) so far"), "{err}");
    assert!(err.contains("trial 6: complete"), "{err}");
    assert!(!err.contains("trial 7:"), "{err}");
}

#[test]
fn parameters_reach_the_program_as_env_vars_and_a_json_file() {
    let setup = Setup::new(QUADRATIC);
    let script = r#"test -n "$TUNEWISE_PARAM_X" && test -n "$TUNEWISE_PARAM_N" \
        && test -n "$TUNEWISE_TRIAL_NUMBER" \
        && grep -q '"x":' "$TUNEWISE_PARAMS_FILE" && grep -q '"n":' "$TUNEWISE_PARAMS_FILE" \
        && test "$1" = "$TUNEWISE_PARAM_X" && echo "$TUNEWISE_TRIAL_NUMBER""#;
    let out = setup.run(&["--trials", "3"], &["sh", "-c", script, "sh", "{x}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    // The score is the trial number: every trial completed with its own number.
    for n in 0..3 {
        assert!(err.contains(&format!("trial {n}: complete {n} (")), "{err}");
    }
}

fn score_rule_study(rule: &str) -> String {
    format!(
        "[study]\nstorage = \"sqlite://study.db\"\n[budget]\ntrials = 2\n[command]\nscore = \
         {rule:?}\n[params.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n"
    )
}

#[test]
fn score_from_the_last_line() {
    let setup = Setup::new(&score_rule_study("last-line"));
    let out = setup.run(&[], &["sh", "-c", "echo noise; echo 42.5; echo; echo '  '"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines_with(&stderr(&out), "complete 42.5 (").len(), 2, "{}", stderr(&out));
}

#[test]
fn score_from_a_json_line() {
    let setup = Setup::new(&score_rule_study("json:loss"));
    let script = r#"echo '{"loss": 9}'; echo '{"loss": 0.75, "acc": 1}'; echo done"#;
    let out = setup.run(&[], &["sh", "-c", script]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines_with(&stderr(&out), "complete 0.75 (").len(), 2, "{}", stderr(&out));
}

#[test]
fn score_from_a_regex() {
    let setup = Setup::new(&score_rule_study(r"regex:val_loss=([0-9.]+)"));
    let script = "echo 'epoch 1 val_loss=3.5'; echo 'epoch 2 val_loss=1.25'; echo bye";
    let out = setup.run(&[], &["sh", "-c", script]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines_with(&stderr(&out), "complete 1.25 (").len(), 2, "{}", stderr(&out));
}

#[test]
fn failures_become_failed_trials_and_the_run_goes_on() {
    let mut study = score_rule_study("last-line");
    study = study.replace("trials = 2", "trials = 5");
    let setup = Setup::new(&study.replace("[command]\n", "[command]\ntimeout = 0.5\n"));
    // Trial by trial: non-zero exit with stderr, no output, not a number, too slow, fine.
    let script = r#"case "$TUNEWISE_TRIAL_NUMBER" in
        0) for i in $(seq 1 30); do echo "err line $i" >&2; done; exit 3;;
        1) ;;
        2) echo 'nan-ish';;
        3) sleep 5; echo 1;;
        *) echo 0.5;;
    esac"#;
    let started = std::time::Instant::now();
    let out = setup.run(&[], &["sh", "-c", script]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("trial 0: failed: the program exited with exit status: 3"), "{err}");
    assert!(err.contains("err line 30") && err.contains("err line 11"), "{err}");
    assert!(!err.contains("err line 10\n"), "only the tail of stderr is kept: {err}");
    assert!(err.contains("trial 1: failed: the program printed no score"), "{err}");
    assert!(err.contains("trial 2: failed: the score \"nan-ish\" is not a number"), "{err}");
    assert!(err.contains("trial 3: failed: timed out after 500ms"), "{err}");
    assert!(err.contains("trial 4: complete 0.5"), "{err}");
    assert!(started.elapsed().as_secs_f64() < 4.5, "the slow program was not killed");
    assert!(stdout(&out).contains("best: trial 4 value 0.5"), "{}", stdout(&out));
}

fn assert_fails(out: &Output, needles: &[&str]) {
    assert!(!out.status.success(), "expected a failure; stderr: {}", stderr(out));
    let err = stderr(out);
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in: {err}");
    }
}

#[test]
fn a_missing_study_file_is_an_error() {
    let setup = Setup::new("");
    let mut cmd = Command::cargo_bin("tunewise").expect("binary");
    let out = cmd
        .current_dir(setup.path())
        .args(["run", "--config", "nope.toml", "--trials", "1", "--", "true"])
        .output()
        .expect("run");
    assert_fails(&out, &["cannot read the study file 'nope.toml'", "--config"]);
}

#[test]
fn unparsable_toml_names_the_line() {
    let setup = Setup::new("[study]\nname = \"a\"\n\nseed = = 3\n");
    assert_fails(&setup.run(&["--trials", "1"], &["true"]), &["line 4"]);
}

#[test]
fn unknown_fields_are_refused_with_their_line() {
    let setup = Setup::new(
        "[budget]\ntrials = 1\n[params.x]\ntype = \"float\"\nlow = 0\nhigh = 1\nlgo = true\n",
    );
    assert_fails(&setup.run(&[], &["true"]), &["line 7", "unknown field `lgo`"]);
}

#[test]
fn semantic_errors_name_the_field() {
    let setup = Setup::new("[params.lr]\ntype = \"float\"\nlow = 1.0\nhigh = 0.1\n");
    assert_fails(&setup.run(&["--trials", "1"], &["true"]), &["[params.lr]", "low", "high"]);
    let setup = Setup::new("[sampler]\nkind = \"bayes\"\n");
    assert_fails(&setup.run(&["--trials", "1"], &["true"]), &["line 2", "bayes", "tpe"]);
    let setup = Setup::new(
        "[params.x]\ntype = \"float\"\nlow = 0\nhigh = 1\nwhen = { optimizer = \"sgd\" }\n",
    );
    assert_fails(&setup.run(&["--trials", "1"], &["true"]), &["'optimizer'", "[params.x]"]);
    let setup = Setup::new("[pruner]\nkind = \"median\"\nlower = 1.0\n");
    assert_fails(&setup.run(&["--trials", "1"], &["true"]), &["[pruner] 'lower'", "median"]);
    let setup = Setup::new("[pruner]\nkind = \"percentile\"\npercentile = 150.0\n");
    assert_fails(&setup.run(&["--trials", "1"], &["true"]), &["[pruner]", "150"]);
    let setup = Setup::new("[command]\nscore = \"regex:(a)(b)\"\n");
    assert_fails(&setup.run(&["--trials", "1"], &["true"]), &["[command] score", "capture"]);
}

#[test]
fn an_unknown_placeholder_is_an_error_before_any_trial() {
    let setup = Setup::new(QUADRATIC);
    let out = setup.run(&[], &["echo", "{lr}"]);
    assert_fails(&out, &["unknown parameter {lr}", "x", "n"]);
    assert!(!stderr(&out).contains("trial 0"));
    assert!(!setup.path().join("study.db").exists(), "nothing may be stored");
}

#[test]
fn a_budget_the_study_cannot_use_is_refused_before_the_study_is_created() {
    let two =
        "[study]\nstorage = \"sqlite://study.db\"\ndirections = [\"minimize\", \"minimize\"]\n";
    for rule in ["target = 0.1", "patience = 5"] {
        let setup = Setup::new(&format!("{two}[budget]\ntrials = 3\n{rule}\n"));
        let out = setup.run(&[], &["echo", "1 2"]);
        let name = rule.split(' ').next().unwrap_or_default();
        assert_fails(&out, &["[budget]", name, "single-objective"]);
        assert!(!setup.path().join("study.db").exists(), "nothing may be stored ({rule})");
    }
}

#[test]
fn a_program_that_does_not_exist_is_an_error() {
    let setup = Setup::new(QUADRATIC);
    let out = setup.run(&[], &["tunewise-no-such-program", "{x}"]);
    assert_fails(&out, &["'tunewise-no-such-program' was not found in PATH"]);
    let out = setup.run(&[], &["./missing.sh", "{x}"]);
    assert_fails(&out, &["'./missing.sh' does not exist"]);
}

#[test]
fn a_storage_that_cannot_be_opened_is_an_error() {
    let setup = Setup::new(QUADRATIC);
    let out = quad(&setup, &["--storage", "ftp://host/x"]);
    assert_fails(&out, &["cannot open the storage 'ftp://host/x'", "--storage"]);
    let out = quad(&setup, &["--storage", "sqlite:///no/such/dir/x.db"]);
    assert_fails(&out, &["cannot open the storage"]);
}

#[test]
fn no_budget_and_no_command_are_errors() {
    let setup = Setup::new("[params.x]\ntype = \"float\"\nlow = 0\nhigh = 1\n");
    assert_fails(&setup.run(&[], &["true"]), &["--trials"]);
    assert_fails(&setup.run(&["--trials", "1"], &[]), &["no command to run"]);
}

#[test]
fn the_python_example_runs_when_python3_exists() {
    let has_python = std::process::Command::new("python3").arg("--version").output().is_ok();
    if !has_python {
        eprintln!("python3 not found: skipping the example");
        return;
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cli");
    let dir = tempfile::tempdir().expect("temp dir");
    for f in ["study.toml", "train.py"] {
        std::fs::copy(examples.join(f), dir.path().join(f)).expect("copy the example");
    }
    let out = Command::cargo_bin("tunewise")
        .expect("binary")
        .current_dir(dir.path())
        .args(["run", "--config", "study.toml", "--trials", "8"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines_with(&stderr(&out), ": complete ").len(), 8, "{}", stderr(&out));
    assert!(stdout(&out).contains("best: trial"), "{}", stdout(&out));
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly_and_the_study_resumes() {
    let setup = Setup::new(QUADRATIC);
    let args = ["run", "--config", "study.toml", "--trials", "1000", "--"];
    let command = ["sh", "-c", "echo 1; sleep 0.2; echo {x}"];
    let out = interrupted_run(
        &setup,
        &[&args[..], &command[..]].concat(),
        std::time::Duration::from_millis(1500),
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("interrupted"), "{err}");
    let done = lines_with(&err, ": complete ").len();
    assert!((1..1000).contains(&done), "{err}");
    assert!(stdout(&out).contains("stopped because of Ctrl-C"), "{}", stdout(&out));
    // The next run resumes the same study.
    let again = quad(&setup, &["--trials", "1"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("trial(s) so far"), "{}", stderr(&again));
    assert!(!stderr(&again).contains(" 0 trial(s) so far"), "{}", stderr(&again));
}

#[test]
fn conditional_parameters_only_when_their_condition_holds() {
    let setup = Setup::new(
        "[study]\nstorage = \"sqlite://study.db\"\nseed = 3\n[sampler]\nkind = \"random\"\n\
         [budget]\ntrials = 12\n[params.opt]\ntype = \"categorical\"\nchoices = [\"sgd\", \
         \"adam\"]\n[params.momentum]\ntype = \"float\"\nlow = 0.0\nhigh = 0.9\nwhen = { opt = \
         \"sgd\" }\n",
    );
    // Fails unless momentum is set exactly when opt = sgd (in the variables and the JSON file).
    let script = r#"if [ "$TUNEWISE_PARAM_OPT" = sgd ]; then
            test -n "$TUNEWISE_PARAM_MOMENTUM" && grep -q momentum "$TUNEWISE_PARAMS_FILE" || exit 1
        else
            test -z "$TUNEWISE_PARAM_MOMENTUM" && ! grep -q momentum "$TUNEWISE_PARAMS_FILE" || exit 1
        fi
        echo 1"#;
    let out = setup.run(&[], &["sh", "-c", script]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(lines_with(&err, ": complete 1 (").len(), 12, "{err}");
    assert!(lines_with(&err, "opt=adam").iter().all(|l| !l.contains("momentum")), "{err}");
    assert!(lines_with(&err, "opt=sgd").iter().all(|l| l.contains("momentum=")), "{err}");
    assert!(err.contains("opt=adam") && err.contains("opt=sgd"), "{err}");
}

#[test]
fn several_objectives_print_the_pareto_front() {
    let setup = Setup::new(
        "[study]\nstorage = \"sqlite://study.db\"\ndirections = [\"minimize\", \"maximize\"]\n\
         [budget]\ntrials = 6\n[params.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n",
    );
    let out = setup.run(&[], &["awk", "-v", "x={x}", "BEGIN { print x, x * x }"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("best (Pareto front"), "{}", stdout(&out));
    // Another study: this one holds its 6 trials ([budget] trials is the study's total).
    let out = setup.run(&["--study", "one-value"], &["sh", "-c", "echo 1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("has 1 value(s) but the study has 2 objective(s)"));
}

#[path = "it/output.rs"]
mod output;
#[path = "it/plot.rs"]
mod plot;
#[path = "it/sklearn_example.rs"]
mod sklearn_example;
mod suggest;

//! `tunewise suggest` and `tunewise report`: define-by-run from the trial's program, pruning, and
//! their errors inside and outside a trial.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

use super::{assert_fails, lines_with, path_with_tunewise, read_file, stderr, stdout, Setup};

/// `tunewise run --config study.toml EXTRA -- COMMAND`, its program able to call `tunewise`.
fn run(setup: &Setup, extra: &[&str], command: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("tunewise").expect("binary");
    cmd.current_dir(setup.path())
        .env("PATH", path_with_tunewise())
        .args(["run", "--config", "study.toml"])
        .args(extra)
        .arg("--")
        .args(command);
    cmd.output().expect("run tunewise")
}

/// `tunewise ARGS` outside any trial.
fn outside(args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("tunewise").expect("binary");
    cmd.env_remove("TUNEWISE_SOCKET").args(args).output().expect("run tunewise")
}

const NO_PARAMS: &str =
    "[study]\nstorage = \"sqlite://study.db\"\nseed = 5\n[budget]\ntrials = 4\n";

#[test]
fn suggest_prints_a_value_of_each_kind_in_its_range() {
    let setup = Setup::new(NO_PARAMS);
    // Fails (no score) unless every value is in its range and asking twice gives the same value.
    let script = r#"set -e
        lr=$(tunewise suggest float lr 1e-5 1e-1 --log)
        test "$lr" = "$(tunewise suggest float lr 1e-5 1e-1 --log)"
        s=$(tunewise suggest float s -1 1 --step 0.25)
        n=$(tunewise suggest int n -3 3)
        k=$(tunewise suggest int k 1 1000 --log)
        e=$(tunewise suggest int e 0 10 --step 5)
        o=$(tunewise suggest categorical o sgd adam -x)
        b=$(tunewise suggest bool b)
        awk -v lr="$lr" -v s="$s" -v n="$n" -v k="$k" -v e="$e" 'BEGIN {
            ok = lr >= 1e-5 && lr <= 0.1 && s >= -1 && s <= 1 && s * 4 == int(s * 4)
            ok = ok && n >= -3 && n <= 3 && n == int(n) && k >= 1 && k <= 1000 && k == int(k)
            exit !(ok && (e == 0 || e == 5 || e == 10)) }'
        case "$o" in sgd|adam|-x) ;; *) exit 1;; esac
        case "$b" in true|false) ;; *) exit 1;; esac
        echo "$n""#;
    let out = run(&setup, &["-j", "2"], &["sh", "-c", script]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let complete = lines_with(&err, ": complete ");
    assert_eq!(complete.len(), 4, "{err}");
    for name in ["lr=", "s=", "n=", "k=", "e=", "o=", "b="] {
        assert!(complete.iter().all(|l| l.contains(name)), "{name} stored: {err}");
    }
}

#[test]
fn suggested_and_study_file_parameters_mix() {
    let setup = Setup::new(
        "[study]\nstorage = \"sqlite://study.db\"\nseed = 2\n[budget]\ntrials = 3\n\
         [params.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n",
    );
    // The study file's x, asked again with its distribution, is the value the program was given.
    let script = r#"set -e
        x=$(tunewise suggest float x 0 1)
        test "$x" = "$TUNEWISE_PARAM_X" && test "$x" = "$1"
        y=$(tunewise suggest int y 1 9)
        awk -v x="$x" -v y="$y" 'BEGIN { print x + y }'"#;
    let out = run(&setup, &[], &["sh", "-c", script, "sh", "{x}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let complete = lines_with(&err, ": complete ");
    assert_eq!(complete.len(), 3, "{err}");
    assert!(complete.iter().all(|l| l.contains("(x=") && l.contains(", y=")), "{err}");
}

#[test]
fn bad_suggestions_inside_a_trial_are_errors() {
    let setup = Setup::new(
        "[study]\nstorage = \"sqlite://study.db\"\n[budget]\ntrials = 1\n\
         [params.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n",
    );
    // Each attempt's status and message go to files; the trial itself completes.
    let script = r#"
        tunewise suggest int x 0 4 2> conflict.err; echo $? > conflict.status
        tunewise suggest float y 0 1 >/dev/null
        tunewise suggest float y 0 2 2> redefined.err; echo $? > redefined.status
        tunewise suggest float z 1 0 2> swapped.err; echo $? > swapped.status
        tunewise suggest float z 0 1 --log 2> log.err; echo $? > log.status
        tunewise suggest float z 0.5 1 --log --step 0.5 2> logstep.err; echo $? > logstep.status
        tunewise suggest int z 0 1x 2> number.err; echo $? > number.status
        tunewise suggest categorical z 2> nochoice.err; echo $? > nochoice.status
        tunewise suggest categorical z a a 2> twice.err; echo $? > twice.status
        echo 1"#;
    let out = run(&setup, &[], &["sh", "-c", script]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("trial 0: complete 1"), "{}", stderr(&out));
    let cases = [
        ("conflict", "1", "parameter 'x' was already suggested in this trial as float [0, 1]"),
        ("redefined", "1", "now asked as float [0, 2]"),
        ("swapped", "1", "low (1) is greater than high (0); swap them"),
        ("log", "1", "a log scale needs low > 0"),
        ("logstep", "1", "both log and step"),
        ("number", "2", "invalid value '1x'"),
        ("nochoice", "2", "<CHOICES>"),
        ("twice", "1", "appears more than once"),
    ];
    for (name, status, message) in cases {
        assert_eq!(read_file(&setup, &format!("{name}.status")).trim(), status, "{name}");
        let err = read_file(&setup, &format!("{name}.err"));
        assert!(err.contains(message), "{name}: expected {message:?} in {err}");
    }
}

#[test]
fn suggest_and_report_outside_a_trial_say_how_to_run_them() {
    for args in [&["suggest", "float", "lr", "0", "1"][..], &["report", "1", "0.5"]] {
        let out = outside(args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_fails(&out, &["TUNEWISE_SOCKET is not set", "tunewise run", "tunewise worker"]);
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    }
    // A trial's socket that is gone (the trial ended).
    let dir = tempfile::tempdir().expect("temp dir");
    let gone = dir.path().join("socket");
    let out = Command::cargo_bin("tunewise")
        .expect("binary")
        .env("TUNEWISE_SOCKET", &gone)
        .args(["report", "1", "0.5"])
        .output()
        .expect("run");
    assert_fails(&out, &["cannot reach the trial", "tunewise run"]);
    // Bad input is refused before looking for the trial.
    let out = outside(&["suggest", "float", "lr", "0.1", "1e-5"]);
    assert_fails(&out, &["parameter 'lr': low (0.1) is greater than high (0.00001); swap them"]);
    let out = outside(&["suggest", "float", "lr", "abc", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert_fails(&out, &["invalid value 'abc' for '<LOW>'"]);
    let out = outside(&["report", "x", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert_fails(&out, &["invalid value 'x' for '[STEP]'"]);
    let out = outside(&["report", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert_fails(&out, &["give the intermediate value(s) after the step"]);
    let out = outside(&["report", "1", "nan"]);
    assert_fails(&out, &["NaN is not a finite number"]);
    let out = outside(&["suggest", "float", "lr", "0", "inf"]);
    assert_fails(&out, &["bounds must be finite numbers"]);
}

#[test]
fn the_socket_is_gone_after_its_trial() {
    let setup = Setup::new(NO_PARAMS);
    let out = run(
        &setup,
        &["--trials", "1"],
        &["sh", "-c", "echo \"$TUNEWISE_SOCKET\" > socket; echo 1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let socket = PathBuf::from(read_file(&setup, "socket").trim());
    assert!(socket.is_absolute(), "{socket:?}");
    assert!(!socket.exists(), "the socket stays after its trial: {socket:?}");
    let dir = socket.parent().expect("the socket's directory");
    assert!(!dir.exists(), "the sockets' directory stays after the run: {dir:?}");
    let out = Command::cargo_bin("tunewise")
        .expect("binary")
        .env("TUNEWISE_SOCKET", &socket)
        .args(["suggest", "int", "n", "1", "2"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_fails(&out, &["cannot reach the trial", "tunewise run"]);
}

#[test]
fn reports_reach_the_pruner_and_pruned_trials_are_stored_pruned() {
    let setup = Setup::new(
        "[study]\nstorage = \"sqlite://study.db\"\nseed = 1\n[sampler]\nkind = \"random\"\n\
         [pruner]\nkind = \"median\"\nn_startup_trials = 2\n[budget]\ntrials = 12\n\
         [params.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n",
    );
    // Loss x + 1/epoch: a trial whose x is above the median is pruned. After being pruned, the
    // script goes on as if nothing happened, or fails, or prints a score: it is pruned anyway.
    let script = r#"for epoch in 1 2 3 4; do
            loss=$(awk -v x="$TUNEWISE_PARAM_X" -v e=$epoch 'BEGIN { print x + 1 / e }')
            tunewise report $epoch "$loss"; status=$?
            if [ $status -ne 0 ]; then
                echo $status >> statuses
                case $((TUNEWISE_TRIAL_NUMBER % 3)) in
                    0) exit 1;;
                    1) echo "$loss"; exit 0;;
                    *) ;;
                esac
            fi
        done
        echo "$loss""#;
    let out = run(&setup, &[], &["sh", "-c", script]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let pruned = lines_with(&err, ": pruned at step ");
    let complete = lines_with(&err, ": complete ");
    assert!(!pruned.is_empty() && !complete.is_empty(), "{err}");
    assert_eq!(pruned.len() + complete.len(), 12, "no trial failed: {err}");
    // `report` said stop with status 3, at least once per pruned trial.
    let statuses = read_file(&setup, "statuses");
    assert!(statuses.lines().all(|s| s == "3"), "{statuses}");
    assert!(statuses.lines().count() >= pruned.len(), "{statuses}");
    // The trials pruned are the poor ones: every pruned x is above the best complete x.
    let x_of = |line: &str| -> f64 {
        line.split("(x=").nth(1).and_then(|r| r.trim_end_matches(')').parse().ok()).unwrap_or(-1.0)
    };
    let best = complete.iter().map(|l| x_of(l)).fold(f64::INFINITY, f64::min);
    assert!(pruned.iter().all(|l| x_of(l) > best), "{err}");
    // The first two trials complete: the pruner waits for n_startup_trials.
    assert!(err.contains("trial 0: complete") && err.contains("trial 1: complete"), "{err}");
}

#[test]
fn bad_reports_inside_a_trial_are_errors() {
    let setup = Setup::new(
        "[study]\nstorage = \"sqlite://study.db\"\ndirections = [\"minimize\", \"maximize\"]\n\
         [budget]\ntrials = 1\n",
    );
    let script = r#"
        tunewise report 1 0.5 2> one.err; echo $? > one.status
        tunewise report 1 0.5 0.25; echo $? > two.status
        tunewise report 1 0.5 0.75 2> again.err; echo $? > again.status
        tunewise report 2 -0.5 -1e3; echo $? > negative.status
        tunewise report 3 0.5 inf 2> inf.err; echo $? > inf.status
        echo 1 2"#;
    let out = run(&setup, &[], &["sh", "-c", script]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("trial 0: complete 1, 2"), "{}", stderr(&out));
    assert_eq!(read_file(&setup, "one.status").trim(), "1");
    assert!(read_file(&setup, "one.err").contains("expected 2 objective value(s), got 1"));
    assert_eq!(read_file(&setup, "two.status").trim(), "0");
    assert_eq!(read_file(&setup, "again.status").trim(), "1");
    assert!(read_file(&setup, "again.err").contains("step 1 was already reported"));
    assert_eq!(read_file(&setup, "negative.status").trim(), "0");
    assert_eq!(read_file(&setup, "inf.status").trim(), "1");
    assert!(read_file(&setup, "inf.err").contains("inf is not a finite number"));
}

#[test]
fn a_program_can_speak_the_protocol_itself() {
    let has_python = std::process::Command::new("python3").arg("--version").output().is_ok();
    if !has_python {
        eprintln!("python3 not found: skipping the protocol test");
        return;
    }
    let setup = Setup::new(NO_PARAMS);
    // The documented protocol, without the `tunewise` binary.
    let program = r#"
import json, os, socket

def ask(request):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(os.environ["TUNEWISE_SOCKET"])
        s.sendall((json.dumps(request) + "\n").encode())
        return json.loads(s.makefile().readline())

d = {"type": "int", "low": 1, "high": 5}
n = ask({"op": "suggest", "name": "n", "distribution": d})
assert n["ok"] and 1 <= n["value"] <= 5, n
c = ask({"op": "suggest", "name": "c", "distribution": {"type": "categorical", "choices": ["a", 2]}})
assert c["ok"] and c["value"] in ("a", 2), c
r = ask({"op": "report", "step": 1, "values": [n["value"]]})
assert r == {"ok": True, "prune": False}, r
bad = ask({"op": "suggest", "name": "n", "distribution": {"type": "int", "low": 1, "high": 6}})
assert not bad["ok"] and "already suggested" in bad["error"], bad
bad = ask({"op": "fly"})
assert not bad["ok"] and "invalid request" in bad["error"], bad
print(n["value"])
"#;
    // In a file: the command's `}}` would be a template's escaped brace.
    std::fs::write(setup.path().join("program.py"), program).expect("write the program");
    let out = run(&setup, &["--trials", "2"], &["python3", "program.py"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines_with(&stderr(&out), ": complete ").len(), 2, "{}", stderr(&out));
}

#[test]
fn the_shell_example_runs_and_prunes() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cli/shell");
    let setup = Setup::new("");
    for f in ["study.toml", "train.sh"] {
        std::fs::copy(example.join(f), setup.path().join(f)).expect("copy the example");
    }
    let out = Command::cargo_bin("tunewise")
        .expect("binary")
        .current_dir(setup.path())
        .env("PATH", path_with_tunewise())
        .args(["run", "--config", "study.toml", "--trials", "20"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let pruned = lines_with(&err, ": pruned at step ").len();
    let complete = lines_with(&err, ": complete ").len();
    assert!(pruned > 0 && complete > 0, "{err}");
    assert_eq!(pruned + complete, 20, "{err}");
    assert!(err.contains("lr=") && err.contains("layers=") && err.contains("optimizer="), "{err}");
    assert!(stdout(&out).contains("best: trial"), "{}", stdout(&out));
}

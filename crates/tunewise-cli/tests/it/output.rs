//! Watching a run: `--progress auto|bar|plain|none` and `--json` (the tests' output is not a
//! terminal, so `auto` means `plain` here).

use serde_json::Value;

#[cfg(unix)]
use super::interrupted_run;
use super::{lines_with, quad, stderr, stdout, Setup, QUADRATIC};

/// Trial 1 fails, the others print the trial number.
const FAIL_SECOND: [&str; 3] =
    ["sh", "-c", r#"test "$TUNEWISE_TRIAL_NUMBER" = 1 && exit 4; echo "$TUNEWISE_TRIAL_NUMBER""#];

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

#[test]
fn plain_prints_a_line_per_trial_and_the_summary() {
    let setup = Setup::new(QUADRATIC);
    let out = quad(&setup, &["--trials", "4", "--progress", "plain"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(lines_with(&err, ": complete ").len(), 4, "{err}");
    for n in 0..4 {
        assert!(err.contains(&format!("trial {n}: complete ")), "{err}");
    }
    let out_text = stdout(&out);
    assert!(out_text.contains("4 trial(s) run; stopped because the trial budget"), "{out_text}");
    assert!(out_text.contains("best: trial"), "{out_text}");
}

#[test]
fn json_lines_on_stdout_hold_every_trial_and_the_end() {
    let setup = Setup::new(&QUADRATIC.replace("seed = 7", "seed = 7\ndirection = \"maximize\""));
    let out = setup.run(&["--trials", "4", "--json"], &FAIL_SECOND);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = json_lines(&stdout(&out));
    assert_eq!(events.len(), 5, "4 trials and the end: {}", stdout(&out));
    for (n, e) in events[..4].iter().enumerate() {
        assert_eq!(e["event"], "trial", "{e}");
        assert_eq!(e["number"], n, "{e}");
        assert!(e["params"]["x"].is_f64() && e["params"]["n"].is_i64(), "{e}");
        assert!(e["duration_s"].as_f64().is_some_and(|d| d >= 0.0), "{e}");
        if n == 1 {
            assert_eq!(e["state"], "failed", "{e}");
            assert!(e["values"].is_null(), "{e}");
            let message = e["message"].as_str().unwrap_or_default();
            assert!(message.contains("exit status: 4"), "{e}");
        } else {
            assert_eq!(e["state"], "complete", "{e}");
            assert_eq!(e["values"], serde_json::json!([n as f64]), "{e}");
            assert!(e["message"].is_null(), "{e}");
        }
    }
    let end = &events[4];
    assert_eq!(end["event"], "end", "{end}");
    assert_eq!(end["trials"], 4, "{end}");
    let counts = [&end["complete"], &end["pruned"], &end["failed"]];
    assert_eq!(counts.map(|c| c.as_u64()), [Some(3), Some(0), Some(1)], "{end}");
    assert_eq!(end["stop_reason"], "trial_budget", "{end}");
    assert_eq!(end["stop_message"], "the trial budget was used", "{end}");
    // Maximized: trial 3 printed the largest number.
    let best = end["best"].as_array().expect("best is an array");
    assert_eq!(best.len(), 1, "{end}");
    assert_eq!(best[0]["number"], 3, "{end}");
    assert_eq!(best[0]["values"], serde_json::json!([3.0]), "{end}");
    assert!(best[0]["params"]["x"].is_f64(), "{end}");
    // Human text stays on stderr: the trial lines (auto is plain here) and the summary.
    let err = stderr(&out);
    assert!(err.contains("trial 1: failed: ") && err.contains("best: trial 3 value 3"), "{err}");
}

#[test]
fn json_with_several_objectives_ends_with_the_pareto_front() {
    let setup = Setup::new(
        "[study]\nstorage = \"sqlite://study.db\"\ndirections = [\"minimize\", \"maximize\"]\n\
         [budget]\ntrials = 5\n[params.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n",
    );
    let out = setup.run(
        &["--json", "--progress", "none"],
        &["awk", "-v", "x={x}", "BEGIN { print x, x * x }"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let events = json_lines(&stdout(&out));
    assert_eq!(events.len(), 6, "{}", stdout(&out));
    let front = events[5]["best"].as_array().expect("best is an array");
    // x and x² grow together: every trial is on the front.
    assert_eq!(front.len(), 5, "{}", events[5]);
    assert!(front.iter().all(|t| t["values"].as_array().is_some_and(|v| v.len() == 2)));
    assert!(!stderr(&out).contains(": complete "), "{}", stderr(&out));
}

#[test]
fn none_prints_no_trial_lines_but_the_summary() {
    let setup = Setup::new(QUADRATIC);
    let out = setup.run(&["--trials", "3", "--progress", "none"], &FAIL_SECOND);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains("trial 0:") && !err.contains("trial 1:"), "{err}");
    assert!(stdout(&out).contains("3 trial(s) run"), "{}", stdout(&out));
    assert!(stdout(&out).contains("best: trial 0 value 0"), "{}", stdout(&out));
}

#[test]
fn a_bar_without_a_terminal_keeps_failures_and_the_summary() {
    let setup = Setup::new(QUADRATIC);
    let out = setup.run(&["--trials", "3", "--progress", "bar"], &FAIL_SECOND);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    // The bar is not drawn on a pipe; the failed trial's line is printed all the same.
    assert!(err.contains("trial 1: failed: the program exited with exit status: 4"), "{err}");
    assert!(!err.contains(": complete "), "{err}");
    let out_text = stdout(&out);
    assert!(out_text.contains("3 trial(s) run; stopped because the trial budget"), "{out_text}");
    assert!(out_text.contains("best: trial 0 value 0"), "{out_text}");
}

#[test]
fn an_unknown_progress_mode_is_refused_with_the_choices() {
    let setup = Setup::new(QUADRATIC);
    let out = quad(&setup, &["--progress", "loud"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("'loud'") && err.contains("--progress"), "{err}");
    assert!(err.contains("[possible values: auto, bar, plain, none]"), "{err}");
    assert!(!setup.path().join("study.db").exists(), "nothing may be stored");
}

#[cfg(unix)]
#[test]
fn json_after_ctrl_c_ends_with_interrupted() {
    let setup = Setup::new(QUADRATIC);
    let args = ["run", "--config", "study.toml", "--trials", "1000", "--json", "--"];
    let command = ["sh", "-c", "sleep 0.2; echo {x}"];
    let out = interrupted_run(
        &setup,
        &[&args[..], &command[..]].concat(),
        std::time::Duration::from_millis(1200),
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let events = json_lines(&stdout(&out));
    let (end, trials) = events.split_last().expect("at least the end object");
    assert_eq!(end["event"], "end", "{end}");
    assert_eq!(end["stop_reason"], "interrupted", "{end}");
    assert_eq!(end["trials"].as_u64(), Some(trials.len() as u64), "{end}");
    assert!(!trials.is_empty(), "{}", stdout(&out));
    assert!(trials.iter().all(|t| t["event"] == "trial"), "{}", stdout(&out));
}

//! examples/cli/sklearn: scikit-learn tuned through the command. Needs the example's `.venv`
//! (`sh examples/cli/sklearn/setup.sh`, which scripts/test.sh runs before the tests); without it
//! the tests say they were skipped.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

use super::{lines_with, stderr, stdout};

/// The example's directory, or `None` (and a note) when setup.sh has not made its `.venv`.
fn example_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/cli/sklearn");
    if dir.join(".venv/bin/python").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {} has no .venv; run `sh examples/cli/sklearn/setup.sh` first",
            dir.display()
        );
        None
    }
}

/// `tunewise run --config study.toml` in the example's directory, on a fresh SQLite file.
fn run_example(dir: &Path, extra: &[&str]) -> std::process::Output {
    let storage = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", storage.path().join("sklearn.db").display());
    Command::cargo_bin("tunewise")
        .expect("binary")
        .current_dir(dir)
        .args(["run", "--config", "study.toml", "--storage", &url])
        .args(extra)
        .output()
        .expect("run tunewise")
}

#[test]
fn the_sklearn_example_completes_trials_with_a_cv_accuracy() {
    let Some(dir) = example_dir() else { return };
    let out = run_example(&dir, &["--trials", "3", "-j", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let complete = lines_with(&err, ": complete ");
    assert_eq!(complete.len(), 3, "{err}");
    for line in complete {
        // "trial N: complete VALUE (params)": the mean accuracy read with score = "json:accuracy".
        let value: f64 = line.split_whitespace().nth(3).and_then(|v| v.parse().ok()).unwrap_or(0.0);
        assert!((0.5..=1.0).contains(&value), "not an accuracy: {line}");
        assert!(line.contains("model="), "{line}");
    }
    let out_text = stdout(&out);
    assert!(
        out_text.contains("3 trial(s) run; stopped because the trial budget was used"),
        "{out_text}"
    );
    assert!(out_text.contains("best: trial"), "{out_text}");
}

#[test]
fn a_bad_parameter_fails_the_sklearn_trial_with_its_message() {
    let Some(dir) = example_dir() else { return };
    let mut args = vec!["--trials", "1", "--", ".venv/bin/python", "train.py"];
    args.extend(["--model", "svc", "--C", "-1"]);
    let out = run_example(&dir, &args);
    assert!(out.status.success(), "a failed trial does not stop the run: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("trial 0: failed: the program exited with exit status: 2"), "{err}");
    assert!(err.contains("train.py: bad parameter: C = -1.0 must be > 0"), "{err}");
    assert!(stdout(&out).contains("no trial has completed yet"), "{}", stdout(&out));
}

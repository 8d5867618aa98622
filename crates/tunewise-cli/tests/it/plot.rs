//! `tunewise plot`: an SVG of each kind and the HTML report from a study made with
//! `tunewise run`, and the bad inputs.

use std::process::Output;

use assert_cmd::Command;

use super::{assert_fails, path_with_tunewise, read_file, stderr, Setup};

/// x (log), n (int), opt (categorical); the program reports two intermediate values and the
/// median pruner stops some trials.
const STUDY: &str = r#"
[study]
name = "plots"
storage = "sqlite://study.db"
seed = 4

[sampler]
kind = "random"

[pruner]
kind = "median"
n_startup_trials = 2

[budget]
trials = 10

[params.x]
type = "float"
low = 0.01
high = 10.0
log = true

[params.n]
type = "int"
low = 0
high = 4

[params.opt]
type = "categorical"
choices = ["sgd", "adam"]
"#;

const PROGRAM: &str = r#"for step in 1 2 3; do
        loss=$(awk -v x="$1" -v n="$2" -v s=$step 'BEGIN { print log(x) ^ 2 + n + 1 / s }')
        tunewise report $step "$loss" || exit 0
    done
    echo "$loss""#;

/// A directory holding the study above, run for 10 trials.
fn made_study() -> Setup {
    let setup = Setup::new(STUDY);
    let out = Command::cargo_bin("tunewise")
        .expect("binary")
        .current_dir(setup.path())
        .env("PATH", path_with_tunewise())
        .args(["run", "--config", "study.toml", "--", "sh", "-c", PROGRAM, "sh", "{x}", "{n}"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    setup
}

/// `tunewise plot KIND --storage study.db --study plots EXTRA`.
fn plot(setup: &Setup, kind: &str, extra: &[&str]) -> Output {
    Command::cargo_bin("tunewise")
        .expect("binary")
        .current_dir(setup.path())
        .args(["plot", kind, "--storage", "study.db", "--study", "plots"])
        .args(extra)
        .output()
        .expect("run tunewise plot")
}

#[test]
fn plot_writes_an_svg_of_each_kind() {
    let setup = made_study();
    let kinds: [(&str, &[&str], &str); 11] = [
        ("history", &[], "best so far"),
        ("slice", &["--param", "x"], "x (log)"),
        ("slice", &["--param", "opt"], "adam"),
        ("intermediate", &[], "pruned here"),
        ("edf", &[], "fraction of trials"),
        ("timeline", &["--by-worker"], "worker"),
        ("parallel", &[], "x (log)"),
        ("contour", &["--param", "x", "--param", "n"], "Contour: x and n"),
        ("parallel", &["--param", "n", "--param", "opt"], "Parallel coordinates"),
        ("importance", &[], "Parameter importance (fANOVA, seed 0): value (minimize)"),
        ("importance", &["--evaluator", "ped-anova"], "Parameter importance (PED-ANOVA)"),
    ];
    for (i, (kind, extra, needle)) in kinds.iter().enumerate() {
        let file = format!("{kind}-{i}.svg");
        let mut args = extra.to_vec();
        args.extend(["-o", &file]);
        let out = plot(&setup, kind, &args);
        assert!(out.status.success(), "{kind}: {}", stderr(&out));
        let svg = read_file(&setup, &file);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
        assert!(svg.contains(needle), "{kind}: {needle:?} in {svg}");
    }
    // The study above has pruned trials (the median pruner after two).
    let out = plot(&setup, "timeline", &["-o", "t.svg"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        read_file(&setup, "t.svg").contains(">pruned</text>"),
        "{}",
        read_file(&setup, "t.svg")
    );
}

#[test]
fn plot_report_writes_one_html_page_with_every_figure() {
    let setup = made_study();
    let out = plot(&setup, "report", &["-o", "report.html", "--max-points", "100"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = read_file(&setup, "report.html");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<h1>Study plots</h1>"));
    // history, edf, a slice per parameter (n, opt, x), parallel coordinates, importance,
    // intermediate, timeline.
    assert_eq!(html.matches("<svg").count(), 9, "{html}");
    assert!(html.contains("Parameter importance (fANOVA, seed 0)"), "{html}");
    assert!(!html.contains("left out"), "{html}");
    assert!(html.contains("<tr><th>best trial</th>"));
    assert!(!html.contains("<script") && !html.contains("src="));
}

#[test]
fn tunewise_report_with_a_study_writes_the_same_html_report_as_plot_report() {
    let setup = made_study();
    let out = plot(&setup, "report", &["-o", "plot.html", "--evaluator", "ped-anova"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = |extra: &[&str]| {
        Command::cargo_bin("tunewise")
            .expect("binary")
            .current_dir(setup.path())
            .args(["report", "--storage", "study.db"])
            .args(extra)
            .output()
            .expect("run tunewise report")
    };
    let out = report(&["--study", "plots", "-o", "report.html", "--evaluator", "ped-anova"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = read_file(&setup, "report.html");
    assert!(html.contains("<h1>Study plots</h1>"), "{html}");
    assert_eq!(html, read_file(&setup, "plot.html"), "the same page as `plot report`");

    // The two uses of the name do not mix, and each says what is missing.
    assert_fails(&report(&["3", "0.5", "--study", "plots", "-o", "r.html"]), &["cannot be used"]);
    assert_fails(&report(&["--study", "plots"]), &["--output"]);
    assert_fails(&report(&["-o", "r.html"]), &["--study"]);
    assert_fails(&report(&["--study", "nope", "-o", "r.html"]), &["nope"]);
    assert!(!setup.path().join("r.html").exists(), "a refused report wrote a file");
    // Outside a trial, `report STEP` without a value names what is missing first.
    let out = Command::cargo_bin("tunewise")
        .expect("binary")
        .current_dir(setup.path())
        .args(["report", "3"])
        .output()
        .expect("run tunewise report");
    assert_fails(&out, &["give the intermediate value(s) after the step"]);
}

#[test]
fn importance_plot_is_reproducible_with_a_seed() {
    let setup = made_study();
    for file in ["a.svg", "b.svg"] {
        let out = plot(&setup, "importance", &["--seed", "3", "-o", file]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let a = read_file(&setup, "a.svg");
    assert!(a.contains("Parameter importance (fANOVA, seed 3)"), "{a}");
    assert_eq!(a, read_file(&setup, "b.svg"), "same seed, same bytes");
    // One bar per parameter, each labelled with its share.
    for name in ["x", "n", "opt"] {
        assert!(a.contains(&format!(">{name}</text>")), "{name} in {a}");
    }
    assert_eq!(a.matches("class=\"bar-labels\"").count(), 1, "{a}");
}

#[test]
fn the_report_leaves_out_an_importance_it_cannot_compute_with_a_note() {
    let setup = Setup::new(STUDY);
    let out = setup.run(&["--trials", "1"], &["echo", "1.5"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = plot(&setup, "report", &["-o", "r.html"]);
    assert!(out.status.success(), "the report is written all the same: {}", stderr(&out));
    let html = read_file(&setup, "r.html");
    assert!(
        html.contains("<p class=\"note\">Parameter importance left out: the parameter importance plot needs at least 2 complete trials, and the study has 1"),
        "{html}"
    );
    assert!(!html.contains("Parameter importance ("), "no importance figure: {html}");
    assert!(html.contains("Optimization history"), "{html}");
    // Asked for on its own, it is an error that says what to do.
    assert_fails(
        &plot(&setup, "importance", &["-o", "i.svg"]),
        &["needs at least 2 complete trials", "has 1", "run more trials"],
    );
}

#[test]
fn pareto_plot_of_a_two_objective_study() {
    let setup = Setup::new(
        "[study]\nname = \"plots\"\nstorage = \"sqlite://study.db\"\ndirections = \
         [\"minimize\", \"minimize\"]\n[budget]\ntrials = 6\n[params.x]\ntype = \"float\"\nlow \
         = 0.0\nhigh = 1.0\n",
    );
    let out = setup.run(&[], &["awk", "-v", "x={x}", "BEGIN { print x, (1 - x) ^ 2 }"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = plot(&setup, "pareto", &["-o", "p.svg"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(read_file(&setup, "p.svg").contains("Pareto front"));
    let out = plot(&setup, "history", &["--objective", "1", "-o", "h.svg"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(read_file(&setup, "h.svg").contains("objective 1 (minimize)"));
    let out = plot(&setup, "importance", &["--objective", "1", "-o", "i.svg"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(read_file(&setup, "i.svg").contains("objective 1 (minimize)"));
    let out = plot(&setup, "report", &["-o", "r.html"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // One importance figure per objective.
    let html = read_file(&setup, "r.html");
    assert_eq!(html.matches("Parameter importance (fANOVA, seed 0)").count(), 2, "{html}");
}

#[test]
fn bad_inputs_are_clear_errors() {
    let setup = made_study();
    assert_fails(&plot(&setup, "violin", &["-o", "a.svg"]), &["invalid value 'violin'", "history"]);
    assert_fails(
        &plot(&setup, "slice", &["--param", "lr", "-o", "a.svg"]),
        &["no trial has a parameter named 'lr'", "n, opt, x"],
    );
    assert_fails(&plot(&setup, "slice", &["-o", "a.svg"]), &["--param", "n, opt, x"]);
    assert_fails(
        &plot(&setup, "contour", &["--param", "x", "-o", "a.svg"]),
        &["two parameters", "got 1", "n, opt, x"],
    );
    assert_fails(
        &plot(&setup, "parallel", &["--param", "x", "--param", "depth", "-o", "a.svg"]),
        &["no trial has a parameter named 'depth'"],
    );
    assert_fails(
        &plot(&setup, "history", &["--objective", "2", "-o", "a.svg"]),
        &["objective 2 does not exist", "1 objective"],
    );
    assert_fails(&plot(&setup, "pareto", &["-o", "a.svg"]), &["at least two objectives"]);
    assert_fails(
        &plot(&setup, "importance", &["--evaluator", "shap", "-o", "a.svg"]),
        &["invalid value 'shap'", "fanova", "ped-anova"],
    );
    assert_fails(
        &plot(&setup, "importance", &["--evaluator", "ped-anova", "--seed", "1", "-o", "a.svg"]),
        &["--seed applies to --evaluator fanova only"],
    );
    assert_fails(
        &plot(&setup, "importance", &["--objective", "1", "-o", "a.svg"]),
        &["objective 1 does not exist"],
    );
    assert_fails(
        &plot(&setup, "history", &["-o", "no/such/dir/a.svg"]),
        &["cannot write 'no/such/dir/a.svg'", "-o"],
    );
    let out = Command::cargo_bin("tunewise")
        .expect("binary")
        .current_dir(setup.path())
        .args(["plot", "history", "--storage", "study.db", "--study", "nope", "-o", "a.svg"])
        .output()
        .expect("run");
    assert_fails(&out, &["no study named 'nope'", "plots"]);
    let out = plot(&Setup::new(STUDY), "history", &["-o", "a.svg"]);
    assert_fails(&out, &["does not exist"]);
    assert!(!setup.path().join("a.svg").exists(), "nothing written on error");
}

#[test]
fn a_study_without_complete_trials_is_an_error() {
    let setup = Setup::new(STUDY);
    let out = setup.run(&["--trials", "2"], &["sh", "-c", "exit 1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for kind in ["history", "edf", "report"] {
        assert_fails(&plot(&setup, kind, &["-o", "a.out"]), &["needs at least one complete trial"]);
    }
}

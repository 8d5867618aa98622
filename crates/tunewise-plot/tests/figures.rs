//! Figure data and SVG snapshots on a small hand-made study.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use tunewise_core::{
    dominates, Direction, Distribution, FanovaEvaluator, FrozenTrial, Param, PedAnovaEvaluator,
    TrialState,
};
use tunewise_plot::{
    contour, edf, history, importance, intermediate, parallel_coordinates, pareto, report_html,
    slice, timeline, Error, Figure, ImportanceFigure, Summary,
};

fn param(name: &str, d: &Arc<Distribution>, internal: f64) -> Param {
    Param { name: name.into(), distribution: d.clone(), internal }
}

/// Ten trials: lr (log float), layers (int), opt (categorical); states mixed; intermediate
/// values; two workers; start/end times one second apart.
fn study() -> Vec<FrozenTrial> {
    let lr = Arc::new(Distribution::float_log(1e-5, 1e-1));
    let layers = Arc::new(Distribution::int(1, 4));
    let opt = Arc::new(Distribution::categorical(["sgd", "adam"]));
    let values = [5.0, 3.5, 4.0, 2.25, 6.0, 1.5, 1.75, 0.5, 3.0, 0.75];
    let states = [
        TrialState::Complete,
        TrialState::Complete,
        TrialState::Pruned,
        TrialState::Complete,
        TrialState::Failed,
        TrialState::Complete,
        TrialState::Complete,
        TrialState::Complete,
        TrialState::Pruned,
        TrialState::Complete,
    ];
    let t0 = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().expect("a date");
    (0..10u64)
        .map(|i| {
            let mut t = FrozenTrial::new(i + 1, i, states[i as usize]);
            let k = i as f64;
            t.params = vec![
                param("lr", &lr, 10f64.powf(-5.0 + 0.4 * k)),
                param("layers", &layers, (1 + i % 4) as f64),
                param("opt", &opt, (i % 2) as f64),
            ];
            let v = values[i as usize];
            if t.state == TrialState::Complete {
                t.values = Some(vec![v]);
            }
            if t.state != TrialState::Failed {
                let steps = if t.state == TrialState::Pruned { 2 } else { 4 };
                for s in 0..steps {
                    t.intermediate_values.insert(s, vec![v + 2.0 / (s as f64 + 1.0)]);
                }
            }
            t.datetime_start = Some(t0 + chrono::Duration::milliseconds(500 * i as i64));
            t.datetime_complete = Some(t0 + chrono::Duration::milliseconds(500 * i as i64 + 1500));
            t.worker_id = Some(if i % 2 == 0 { "w-a" } else { "w-b" }.into());
            t
        })
        .collect()
}

/// Six two-objective trials: 0, 2, 3 on the front (minimize both), 1 and 4 dominated, 5
/// infeasible.
fn two_objective_study() -> Vec<FrozenTrial> {
    let values = [[1.0, 5.0], [2.0, 5.5], [2.0, 3.0], [4.0, 1.0], [4.5, 3.5], [0.5, 0.5]];
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut t = FrozenTrial::new(i as u64 + 1, i as u64, TrialState::Complete);
            t.values = Some(v.to_vec());
            if i == 5 {
                t.constraints = vec![1.0];
            }
            t
        })
        .collect()
}

const MIN: [Direction; 1] = [Direction::Minimize];

fn well_formed(svg: &str) {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
}

#[test]
fn history_best_so_far_when_minimizing() {
    let f = history(&study(), &MIN, 0).expect("history");
    let numbers: Vec<u64> = f.points.iter().map(|p| p.number).collect();
    assert_eq!(numbers, vec![0, 1, 3, 5, 6, 7, 9], "pruned and failed trials are left out");
    let best: Vec<(u64, f64)> = f.best.iter().map(|p| (p.number, p.y)).collect();
    assert_eq!(best, vec![(0, 5.0), (1, 3.5), (3, 2.25), (5, 1.5), (7, 0.5), (9, 0.5)]);
    assert_eq!(f.best_at(6), Some(1.5));
}

#[test]
fn history_best_so_far_when_maximizing() {
    let f = history(&study(), &[Direction::Maximize], 0).expect("history");
    let best: Vec<(u64, f64)> = f.best.iter().map(|p| (p.number, p.y)).collect();
    assert_eq!(best, vec![(0, 5.0), (9, 5.0)]);
}

#[test]
fn downsampling_keeps_the_best_so_far_exact() {
    // 5,000 trials of a noisy decreasing series.
    let trials: Vec<FrozenTrial> = (0..5000u64)
        .map(|i| {
            let mut t = FrozenTrial::new(i, i, TrialState::Complete);
            let noise = ((i * 7919) % 1000) as f64 / 100.0;
            t.values = Some(vec![100.0 / (1.0 + i as f64 / 50.0) + noise]);
            t
        })
        .collect();
    let full = history(&trials, &MIN, 0).expect("history");
    let mut small = full.clone();
    small.downsample(300);
    assert!(small.points.len() <= 300 + 2, "{} points", small.points.len());
    assert_eq!(small.best, full.best, "the best-so-far line is untouched");
    for b in &full.best {
        assert!(small.points.iter().any(|p| p.number == b.number), "improvement {} kept", b.number);
    }
    let running_best = |n: u64| {
        trials[..=n as usize].iter().filter_map(FrozenTrial::value).fold(f64::INFINITY, f64::min)
    };
    for n in [0, 1, 17, 999, 4999] {
        assert_eq!(small.best_at(n), Some(running_best(n)));
    }
    // The extremes of the values survive.
    let max = |ps: &[tunewise_plot::TrialPoint]| ps.iter().map(|p| p.y).fold(f64::MIN, f64::max);
    assert_eq!(max(&small.points), max(&full.points));
}

#[test]
fn slice_uses_the_distribution_scale() {
    let trials = study();
    let f = slice(&trials, &MIN, "lr", 0).expect("slice");
    assert!(f.x.log);
    assert_eq!(f.points.len(), 7);
    let f = slice(&trials, &MIN, "opt", 0).expect("slice");
    assert_eq!(f.x.categories, Some(vec!["sgd".to_owned(), "adam".to_owned()]));
    let err = slice(&trials, &MIN, "momentum", 0).expect_err("unknown");
    assert!(err.to_string().contains("layers, lr, opt"), "{err}");
    assert!(matches!(
        slice(&trials, &MIN, "lr", 1),
        Err(Error::UnknownObjective { index: 1, count: 1 })
    ));
}

#[test]
fn intermediate_marks_pruned_trials() {
    let f = intermediate(&study(), &MIN, 0).expect("intermediate");
    assert_eq!(f.lines.len(), 9, "the failed trial reported nothing");
    let pruned: Vec<u64> = f.lines.iter().filter(|l| l.pruned).map(|l| l.number).collect();
    assert_eq!(pruned, vec![2, 8]);
    assert_eq!(f.lines[2].points.len(), 2);
    let none: Vec<FrozenTrial> = two_objective_study();
    assert_eq!(intermediate(&none, &MIN, 0), Err(Error::NoIntermediateValues));
}

#[test]
fn pareto_front_matches_dominance() {
    let trials = two_objective_study();
    let dirs = [Direction::Minimize, Direction::Minimize];
    let f = pareto(&trials, &dirs).expect("pareto");
    let front: Vec<u64> = f.points.iter().filter(|p| p.on_front).map(|p| p.number).collect();
    assert_eq!(front, vec![0, 2, 3]);
    // Brute force over the feasible points agrees.
    for p in f.points.iter().filter(|p| p.feasible) {
        let dominated = f
            .points
            .iter()
            .filter(|q| q.feasible)
            .any(|q| dominates(&dirs, &[q.x, q.y], &[p.x, p.y]));
        assert_eq!(p.on_front, !dominated, "trial {}", p.number);
    }
    // Maximizing the second objective changes the front.
    let f = pareto(&trials, &[Direction::Minimize, Direction::Maximize]).expect("pareto");
    let front: Vec<u64> = f.points.iter().filter(|p| p.on_front).map(|p| p.number).collect();
    assert_eq!(front, vec![0, 1]);
    assert_eq!(pareto(&trials, &MIN), Err(Error::NeedTwoObjectives { count: 1 }));
}

#[test]
fn edf_is_monotone_and_ends_at_one() {
    let mut f = edf(&study(), &MIN, 0).expect("edf");
    assert_eq!(f.points.len(), 7);
    assert!(f.points.windows(2).all(|w| w[0][0] <= w[1][0] && w[0][1] <= w[1][1]));
    assert_eq!(f.points.last().map(|p| p[1]), Some(1.0));
    f.downsample(3);
    assert_eq!(f.points, vec![[0.5, 1.0 / 7.0], [1.75, 4.0 / 7.0], [5.0, 1.0]]);
}

#[test]
fn timeline_rows_by_trial_or_worker() {
    let f = timeline(&study(), false).expect("timeline");
    assert_eq!(f.bars.len(), 10);
    assert_eq!((f.bars[3].start, f.bars[3].end), (1.5, 3.0));
    let f = timeline(&study(), true).expect("timeline");
    assert_eq!(f.y.categories, Some(vec!["w-a".to_owned(), "w-b".to_owned()]));
    assert_eq!(
        f.bars.iter().map(|b| b.row).collect::<Vec<_>>(),
        vec![0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
    );
    let unstarted = vec![FrozenTrial::new(1, 0, TrialState::Waiting)];
    assert_eq!(timeline(&unstarted, false), Err(Error::NoStartedTrials));
}

#[test]
fn parallel_coordinates_one_line_per_complete_trial() {
    let trials = study();
    let mut f = parallel_coordinates(&trials, &MIN, &[], 0).expect("pc");
    let labels: Vec<&str> = f.axes.iter().map(|a| a.label.as_str()).collect();
    assert_eq!(labels, vec!["layers", "lr", "opt", "value (minimize)"]);
    assert!(f.axes[1].log && f.axes[2].categories.is_some());
    assert_eq!(f.lines.len(), 7);
    assert_eq!(f.lines[0].coords, vec![1.0, 1e-5, 0.0, 5.0]);
    f.downsample(3);
    let kept: Vec<u64> = f.lines.iter().map(|l| l.number).collect();
    assert_eq!(kept, vec![0, 6, 7], "worst, median and best by value");
    let err = parallel_coordinates(&trials, &MIN, &["lr", "depth"], 0).expect_err("unknown");
    assert!(matches!(err, Error::UnknownParam { .. }), "{err}");
}

#[test]
fn contour_grid_is_exact_at_the_trials_and_within_their_range() {
    let trials = study();
    let f = contour(&trials, &MIN, "lr", "layers", 0).expect("contour");
    assert!(f.x.log && !f.y.log);
    assert_eq!((f.grid_x.len(), f.grid_y.len(), f.z.len()), (24, 24, 24));
    assert!(f.grid_x[0] > 0.0, "a log grid stays positive");
    let values: Vec<f64> = [5.0, 3.5, 2.25, 1.5, 1.75, 0.5, 0.75].to_vec();
    for z in f.z.iter().flatten() {
        assert!((0.5..=5.0).contains(z), "{z} is an average of the values");
    }
    // Trial 0 sits at the grid's first corner (lowest lr, layers 1): its value there.
    assert_eq!(f.z[0][0], values[0]);
    let f = contour(&trials, &MIN, "opt", "lr", 0).expect("contour");
    assert_eq!(f.grid_x, vec![0.0, 1.0]);
    assert!(matches!(contour(&trials, &MIN, "lr", "depth", 0), Err(Error::UnknownParam { .. })));
}

#[test]
fn no_complete_trial_is_an_error_naming_the_figure() {
    let trials = vec![FrozenTrial::new(1, 0, TrialState::Failed)];
    let err = history(&trials, &MIN, 0).expect_err("no trials");
    assert!(err.to_string().contains("history plot needs at least one complete trial"), "{err}");
    assert!(edf(&trials, &MIN, 0).is_err());
}

#[test]
fn figures_serialize_to_tagged_json() {
    let f = Figure::History(history(&study(), &MIN, 0).expect("history"));
    let json = serde_json::to_value(&f).expect("json");
    assert_eq!(json["kind"], "history");
    let back: Figure = serde_json::from_value(json).expect("back");
    assert_eq!(back, f);
}

fn figures() -> Vec<(&'static str, Figure)> {
    let trials = study();
    let two = two_objective_study();
    vec![
        ("history", Figure::History(history(&trials, &MIN, 0).expect("history"))),
        ("slice_log", Figure::Slice(slice(&trials, &MIN, "lr", 0).expect("slice"))),
        ("slice_categorical", Figure::Slice(slice(&trials, &MIN, "opt", 0).expect("slice"))),
        ("intermediate", Figure::Intermediate(intermediate(&trials, &MIN, 0).expect("int"))),
        (
            "pareto",
            Figure::Pareto(pareto(&two, &[Direction::Minimize, Direction::Minimize]).expect("p")),
        ),
        ("edf", Figure::Edf(edf(&trials, &MIN, 0).expect("edf"))),
        ("timeline", Figure::Timeline(timeline(&trials, false).expect("timeline"))),
        ("timeline_by_worker", Figure::Timeline(timeline(&trials, true).expect("timeline"))),
        ("contour", Figure::Contour(contour(&trials, &MIN, "lr", "layers", 0).expect("contour"))),
        (
            "contour_categorical",
            Figure::Contour(contour(&trials, &MIN, "opt", "lr", 0).expect("contour")),
        ),
        (
            "parallel_coordinates",
            Figure::ParallelCoordinates(parallel_coordinates(&trials, &MIN, &[], 0).expect("pc")),
        ),
    ]
}

#[test]
fn svg_snapshots() {
    for (name, figure) in figures() {
        let svg = figure.to_svg();
        well_formed(&svg);
        assert_eq!(svg, figure.to_svg(), "deterministic");
        insta::assert_snapshot!(name, svg);
    }
}

#[test]
fn the_report_is_self_contained_html_with_every_figure() {
    let trials = study();
    let figs: Vec<Figure> = figures().into_iter().map(|f| f.1).collect();
    let html = report_html("demo <&>", &Summary::of(&trials, &MIN), &figs);
    assert_eq!(html.matches("<svg").count(), figs.len());
    assert!(html.contains("<h1>Study demo &lt;&amp;&gt;</h1>"));
    assert!(html.contains("<tr><th>best trial</th><td>7</td></tr>"), "{html}");
    assert!(html.contains("<tr><th>pruned</th><td>2</td></tr>"));
    assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("<script"));
    // Well-formed as XML too (the page is written in XHTML-compatible syntax apart from the
    // doctype).
    well_formed_html(&html);
    insta::assert_snapshot!("report", html);
}

fn well_formed_html(html: &str) {
    let body = html.trim_start_matches("<!DOCTYPE html>\n");
    let body = body.replace("<meta charset=\"utf-8\">", "<meta charset=\"utf-8\"/>");
    roxmltree::Document::parse(&body).unwrap_or_else(|e| panic!("{e}"));
}

/// 80 complete trials over x, y, z in [-1, 1] (a low-discrepancy lattice, no generator):
/// objective 0 is `10 x² + y + 0.1 z`, objective 1 is `10 y² + 0.1 x`.
fn importance_study() -> Vec<Arc<FrozenTrial>> {
    let d = Arc::new(Distribution::float(-1.0, 1.0));
    (0..80u64)
        .map(|i| {
            let k = i as f64;
            let [x, y, z] = [0.618_034, 0.414_214, 0.732_051].map(|a| 2.0 * ((k * a) % 1.0) - 1.0);
            let mut t = FrozenTrial::new(i + 1, i, TrialState::Complete);
            t.params = vec![param("x", &d, x), param("y", &d, y), param("z", &d, z)];
            t.values = Some(vec![10.0 * x * x + y + 0.1 * z, 10.0 * y * y + 0.1 * x]);
            Arc::new(t)
        })
        .collect()
}

const MIN2: [Direction; 2] = [Direction::Minimize, Direction::Minimize];

fn fanova_figure(trials: &[Arc<FrozenTrial>], seed: u64, objective: usize) -> ImportanceFigure {
    let evaluator = FanovaEvaluator::new().seed(seed).n_trees(16);
    importance(trials, &MIN2, &evaluator, &format!("fANOVA, seed {seed}"), objective)
        .expect("importance")
}

#[test]
fn importance_ranks_the_parameter_the_objective_depends_on_first() {
    let trials = importance_study();
    let f = fanova_figure(&trials, 0, 0);
    let order: Vec<&str> = f.bars.iter().map(|b| b.param.as_str()).collect();
    assert_eq!(order, vec!["x", "y", "z"], "{:?}", f.bars);
    assert!(f.bars[0].importance > 0.5, "{:?}", f.bars);
    let total: f64 = f.bars.iter().map(|b| b.importance).sum();
    assert!((total - 1.0).abs() < 1e-9, "fANOVA shares sum to 1: {total}");
    assert_eq!(f.y.categories, Some(vec!["x".to_owned(), "y".to_owned(), "z".to_owned()]));
    assert_eq!(f.title, "Parameter importance (fANOVA, seed 0): objective 0 (minimize)");
    assert_eq!(f.complete_trials, 80);
    // Objective 1 depends on y.
    let f = fanova_figure(&trials, 0, 1);
    assert_eq!(f.bars[0].param, "y", "{:?}", f.bars);
    assert!(f.title.ends_with("objective 1 (minimize)"), "{}", f.title);
    // PED-ANOVA (what the best trials share) agrees on the first.
    let f =
        importance(&trials, &MIN2, &PedAnovaEvaluator::new(), "PED-ANOVA", 0).expect("importance");
    assert_eq!(f.bars[0].param, "x", "{:?}", f.bars);
    assert_eq!(f.evaluator, "PED-ANOVA");
}

#[test]
fn importance_is_reproducible_with_a_seed() {
    let trials = importance_study();
    let a = Figure::Importance(fanova_figure(&trials, 7, 0));
    let b = Figure::Importance(fanova_figure(&trials, 7, 0));
    assert_eq!(a.to_svg(), b.to_svg(), "same seed, same bytes");
    let other = fanova_figure(&trials, 8, 0);
    let Figure::Importance(a) = a else { unreachable!("built above") };
    assert_ne!(a.bars, other.bars, "the seed is the forest's");
}

#[test]
fn importance_errors_name_the_problem() {
    let trials = importance_study();
    let fanova = FanovaEvaluator::new();
    let failed: Vec<Arc<FrozenTrial>> = vec![Arc::new(FrozenTrial::new(1, 0, TrialState::Failed))];
    let err = importance(&failed, &MIN, &fanova, "fANOVA", 0).expect_err("no complete trial");
    assert_eq!(err, Error::NoCompleteTrials { figure: "parameter importance" });
    assert!(err.to_string().contains("needs at least one complete trial"), "{err}");
    let err = importance(&trials[..1], &MIN, &fanova, "fANOVA", 0).expect_err("one trial");
    assert_eq!(err, Error::TooFewTrials { figure: "parameter importance", needed: 2, found: 1 });
    assert!(err.to_string().contains("at least 2 complete trials"), "{err}");
    // Two trials with nothing in common.
    let d = Arc::new(Distribution::float(0.0, 1.0));
    let disjoint: Vec<Arc<FrozenTrial>> = ["a", "b"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut t = FrozenTrial::new(i as u64 + 1, i as u64, TrialState::Complete);
            t.params = vec![param(name, &d, 0.5)];
            t.values = Some(vec![i as f64]);
            Arc::new(t)
        })
        .collect();
    let err = importance(&disjoint, &MIN, &fanova, "fANOVA", 0).expect_err("nothing shared");
    assert_eq!(err, Error::NoSharedParams { known: "a, b".to_owned() });
    let err = importance(&trials, &MIN2, &fanova, "fANOVA", 2).expect_err("objective 2");
    assert_eq!(err, Error::UnknownObjective { index: 2, count: 2 });
    // The evaluator's own errors come through, with its message.
    let err = importance(&trials, &MIN2, &FanovaEvaluator::new().n_trees(0), "fANOVA", 0)
        .expect_err("no trees");
    assert!(matches!(err, Error::Importance(_)), "{err}");
    assert!(err.to_string().contains("n_trees"), "{err}");
}

#[test]
fn importance_svg_snapshot_and_json() {
    let trials: Vec<Arc<FrozenTrial>> = study().into_iter().map(Arc::new).collect();
    let evaluator = FanovaEvaluator::new().seed(0);
    let f = Figure::Importance(
        importance(&trials, &MIN, &evaluator, "fANOVA, seed 0", 0).expect("importance"),
    );
    let svg = f.to_svg();
    well_formed(&svg);
    assert_eq!(svg.matches("<rect").count(), 2 + 3, "background, frame, one bar per parameter");
    for name in ["lr", "layers", "opt"] {
        assert!(svg.contains(&format!(">{name}</text>")), "{name} labelled in {svg}");
    }
    insta::assert_snapshot!("importance", svg);
    let json = serde_json::to_value(&f).expect("json");
    assert_eq!(json["kind"], "importance");
    let back: Figure = serde_json::from_value(json).expect("back");
    assert_eq!(back, f);
    let mut small = f.clone();
    small.downsample(1);
    assert_eq!(small, f, "one bar per parameter: nothing to downsample");
}

#[test]
fn long_parameter_names_widen_the_margin_and_are_cut_past_it() {
    let d = Arc::new(Distribution::float(0.0, 1.0));
    let long = "the_learning_rate_of_the_optimizer_in_the_first_stage";
    let trials: Vec<Arc<FrozenTrial>> = (0..20u64)
        .map(|i| {
            let u = ((i * 7) % 20) as f64 / 20.0;
            let mut t = FrozenTrial::new(i + 1, i, TrialState::Complete);
            t.params = vec![param(long, &d, u), param("momentum", &d, 1.0 - u * u)];
            t.values = Some(vec![u]);
            Arc::new(t)
        })
        .collect();
    let f = importance(&trials, &MIN, &FanovaEvaluator::new(), "fANOVA", 0).expect("importance");
    let svg = f.to_svg();
    well_formed(&svg);
    assert!(svg.contains(">the_learning_rate_of_the_op…</text>"), "{svg}");
    assert!(svg.contains(">momentum</text>"));
    // The frame starts after the widest label (200 units), not at the usual 72.
    assert!(svg.contains(r#"<rect x="200.00""#), "{svg}");
}

#[test]
fn report_notes_are_shown_under_the_summary() {
    let trials = study();
    let mut summary = Summary::of(&trials, &MIN);
    summary.note("parameter importance left out: <reason>");
    let html = report_html("demo", &summary, &[]);
    assert!(
        html.contains(
            "</table>\n<p class=\"note\">parameter importance left out: &lt;reason&gt;</p>"
        ),
        "{html}"
    );
    well_formed_html(&html);
}

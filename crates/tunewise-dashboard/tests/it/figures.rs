//! Figures as JSON and SVG, their options, and their errors.

use axum::http::StatusCode;
use tunewise_core::{Direction, Storage};

use crate::common::*;

#[tokio::test]
async fn every_applicable_kind_is_served_as_json_and_as_svg() {
    let app = app(storage_with(30), options());
    let summary = get_json(&app, "/api/studies/demo").await;
    let kinds: Vec<String> = summary["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.len() >= 7, "{kinds:?}");
    for kind in &kinds {
        let json = get_json(&app, &format!("/api/studies/demo/figures/{kind}")).await;
        assert_eq!(json["kind"], kind.as_str(), "tunewise-plot's Figure, tagged by kind");
        let svg = get(&app, &format!("/api/studies/demo/figures/{kind}?format=svg")).await;
        assert_eq!(svg.status, StatusCode::OK, "{kind}: {}", svg.body);
        assert_eq!(svg.content_type, "image/svg+xml");
        assert!(svg.body.starts_with("<svg") && svg.body.trim_end().ends_with("</svg>"), "{kind}");
    }
}

#[tokio::test]
async fn figure_options_choose_parameters_and_objectives() {
    let app = app(storage_with(30), options());
    let slice = get_json(&app, "/api/studies/demo/figures/slice?param=n").await;
    assert!(slice.to_string().contains("\"n\""), "the slice is over n");
    let contour = get(&app, "/api/studies/demo/figures/contour?x=x&y=n&format=svg").await;
    assert_eq!(contour.status, StatusCode::OK);
    let bad = get(&app, "/api/studies/demo/figures/slice?param=nope").await;
    assert!(bad.status.is_client_error());
    assert!(bad.error().contains("nope"), "{}", bad.body);
    let bad = get(&app, "/api/studies/demo/figures/history?objective=3").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.error().contains("objective 3"));
    let bad = get(&app, "/api/studies/demo/figures/pie").await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
    assert!(bad.error().contains("history"), "lists the kinds: {}", bad.body);
    let bad = get(&app, "/api/studies/demo/figures/history?format=png").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let timeline = get_json(&app, "/api/studies/demo/figures/timeline?by_worker=true").await;
    assert_eq!(timeline["kind"], "timeline");
    let fanova = get_json(&app, "/api/studies/demo/figures/importance?evaluator=fanova").await;
    assert!(fanova["evaluator"].as_str().unwrap().contains("fANOVA"));
    let ped = get_json(&app, "/api/studies/demo/figures/importance").await;
    assert_eq!(ped["evaluator"], "PED-ANOVA", "the default: fast on large studies");
    let bad = get(&app, "/api/studies/demo/figures/importance?evaluator=guess").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.error().contains("ped-anova"));
}

#[tokio::test]
async fn a_study_without_complete_trials_answers_with_the_reason() {
    let storage = storage_with(1);
    storage.create_study("empty", &[Direction::Minimize]).unwrap();
    let app = app(storage, options());
    let a = get(&app, "/api/studies/empty/figures/history?format=svg").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.error().contains("complete trial"), "{}", a.body);
}

#[tokio::test]
async fn large_figures_are_downsampled_on_the_server() {
    let options = options().max_points(50);
    let app = app(storage_with(300), options);
    let history = get_json(&app, "/api/studies/demo/figures/history").await;
    let points = history["points"].as_array().expect("history points").len();
    assert!(points <= 80, "at most about max_points points, got {points}");
    let full = get_json(
        &crate::common::app(storage_with(300), crate::common::options()),
        "/api/studies/demo/figures/history",
    )
    .await;
    assert!(full["points"].as_array().unwrap().len() > points);
    assert_eq!(history["best"], full["best"], "the best-so-far line stays exact");
}

#[tokio::test]
async fn per_trial_figures_draw_a_sample_that_keeps_the_best_trial() {
    let storage = storage_with(300);
    let app = app(storage.clone(), options().max_points(40));
    let summary = get_json(&app, "/api/studies/demo").await;
    let best = summary["best"]["number"].as_u64().unwrap();
    let slice = get_json(&app, "/api/studies/demo/figures/slice?param=x").await;
    let points = slice["points"].as_array().unwrap();
    assert!(points.len() <= 41, "{} points", points.len());
    assert!(points.iter().any(|p| p["number"] == best), "the best trial is drawn");
    assert!(slice["title"].as_str().unwrap().contains("sampled"), "{}", slice["title"]);
    let timeline = get_json(&app, "/api/studies/demo/figures/timeline").await;
    assert!(timeline["bars"].as_array().unwrap().len() <= 40);
    assert!(timeline["title"].as_str().unwrap().contains("the last"));
    let intermediate = get_json(&app, "/api/studies/demo/figures/intermediate").await;
    assert!(intermediate["lines"].as_array().unwrap().len() < 300);
}

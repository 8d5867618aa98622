//! Pages, the studies list, a study's summary, unknown studies and the URL prefix.

use axum::http::StatusCode;
use tunewise_core::{Direction, Storage, TrialState};

use crate::common::*;

#[tokio::test]
async fn pages_are_html_with_the_contract_s_landmarks_and_relative_urls() {
    let app = app(storage_with(5), options());
    let index = get(&app, "/").await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(index.content_type.starts_with("text/html"));
    assert!(index.body.contains(r#"data-page="studies""#));
    assert!(index.body.contains(r#"id="studies""#));
    let study = get(&app, "/study/demo").await;
    assert_eq!(study.status, StatusCode::OK);
    for landmark in [
        r#"data-page="study""#,
        r#"id="trial-count""#,
        r#"id="best-value""#,
        r#"id="plots""#,
        r#"id="trials""#,
        r#"id="filter""#,
        r#"id="filter-error""#,
        r#"id="state""#,
        r#"id="trial-total""#,
        r#"id="csv""#,
        r#"id="prev""#,
        r#"id="next""#,
        r#"id="live""#,
    ] {
        assert!(study.body.contains(landmark), "the study page lacks {landmark}");
    }
    for page in [&index.body, &study.body] {
        assert!(!page.contains("href=\"/") && !page.contains("src=\"/"), "absolute URL in {page}");
        assert!(!page.contains("http://") && !page.contains("https://"), "external URL");
    }
    let js = get(&app, "/assets/app.js").await;
    assert!(js.content_type.starts_with("text/javascript"));
    assert!(!js.body.contains("fetch(\"/"), "the script fetches relative URLs only");
    assert!(get(&app, "/assets/app.css").await.content_type.starts_with("text/css"));
}

#[tokio::test]
async fn the_studies_list_has_each_study_with_its_count_and_best() {
    let storage = storage_with(12);
    storage.create_study("empty", &[Direction::Maximize]).unwrap();
    let app = app(storage.clone(), options());
    let list = get_json(&app, "/api/studies").await;
    let studies = list["studies"].as_array().unwrap();
    let names: Vec<&str> = studies.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["demo", "empty"]);
    assert_eq!(studies[0]["n_trials"], 12);
    let demo = storage.find_study("demo").unwrap().unwrap();
    let trials = storage.trials_since(demo.id, 0).unwrap().trials;
    let best = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .filter_map(|t| t.value())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(studies[0]["best"]["value"].as_f64().unwrap(), best);
    assert_eq!(studies[1]["n_trials"], 0);
    assert!(studies[1]["best"].is_null());
    assert_eq!(list["writable"], false);
}

#[tokio::test]
async fn a_summary_has_the_cursor_counts_best_parameters_and_figures() {
    let storage = storage_with(30);
    let app = app(storage.clone(), options());
    let s = get_json(&app, "/api/studies/demo").await;
    let record = storage.find_study("demo").unwrap().unwrap();
    let changes = storage.trials_since(record.id, 0).unwrap();
    assert_eq!(s["cursor"].as_u64().unwrap(), changes.cursor);
    assert_eq!(s["n_trials"], 30);
    let count = |state: TrialState| changes.trials.iter().filter(|t| t.state == state).count();
    for state in [TrialState::Complete, TrialState::Failed, TrialState::Pruned] {
        assert_eq!(s["counts"][state.as_str()].as_u64().unwrap() as usize, count(state));
    }
    assert!(count(TrialState::Failed) > 0 && count(TrialState::Pruned) > 0, "seed covers states");
    let params: Vec<&str> =
        s["params"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(params, ["c", "n", "x"]);
    assert_eq!(s["params"][0]["categorical"], true);
    let figures: Vec<&str> =
        s["figures"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    for kind in
        ["history", "edf", "slice", "contour", "parallel_coordinates", "intermediate", "timeline"]
    {
        assert!(figures.contains(&kind), "{kind} missing from {figures:?}");
    }
    assert!(!figures.contains(&"pareto"), "one objective: no Pareto front");
    assert!(s["best"]["params"]["x"].is_string());
}

#[tokio::test]
async fn an_unknown_study_is_a_404_everywhere() {
    let app = app(storage_with(3), options());
    let page = get(&app, "/study/%3Cb%3Enope").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.content_type.starts_with("text/html"));
    assert!(page.body.contains("&lt;b&gt;nope") && !page.body.contains("<b>"), "{}", page.body);
    for uri in [
        "/api/studies/nope",
        "/api/studies/nope/trials",
        "/api/studies/nope/trials.csv",
        "/api/studies/nope/figures/history",
        "/api/studies/nope/changes?wait=0",
    ] {
        let a = get(&app, uri).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(a.error().contains("nope"), "{uri}: {}", a.body);
    }
    assert_eq!(get(&app, "/no/such/page").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_study_name_with_spaces_and_slashes_is_percent_encoded() {
    let storage = storage_with(2);
    storage.create_study("a b/c", &[Direction::Minimize]).unwrap();
    let app = app(storage, options());
    assert_eq!(get(&app, "/study/a%20b%2Fc").await.status, StatusCode::OK);
    assert_eq!(get_json(&app, "/api/studies/a%20b%2Fc").await["name"], "a b/c");
}

#[tokio::test]
async fn everything_is_served_under_the_url_prefix_and_nothing_outside_it() {
    let options = options().url_prefix("tw/").unwrap();
    let app = app(storage_with(3), options);
    assert_eq!(get(&app, "/tw/").await.status, StatusCode::OK);
    assert_eq!(get(&app, "/tw/study/demo").await.status, StatusCode::OK);
    assert_eq!(get_json(&app, "/tw/api/studies").await["studies"][0]["name"], "demo");
    assert_eq!(get(&app, "/tw/assets/app.js").await.status, StatusCode::OK);
    assert_eq!(get(&app, "/tw/api/studies/demo/trials").await.status, StatusCode::OK);
    let bare = get(&app, "/tw").await;
    assert_eq!(bare.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.headers["location"], "tw/", "a relative redirect also works behind a proxy");
    assert_eq!(get(&app, "/").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/api/studies").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_study_with_two_objectives_has_a_pareto_front_and_a_column_per_objective() {
    use std::sync::Arc;
    use tunewise_core::{Budget, InMemoryStorage, RandomSampler, Study, TrialError};
    let storage = Arc::new(InMemoryStorage::new());
    let study = Study::builder()
        .name("two")
        .directions([Direction::Minimize, Direction::Maximize])
        .sampler(RandomSampler::with_seed(2))
        .storage(storage.clone())
        .create()
        .unwrap();
    study
        .optimize(
            |t| -> Result<Vec<f64>, TrialError> {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                Ok(vec![x, x * x])
            },
            Budget::trials(12),
        )
        .unwrap();
    let app = app(storage, options());
    let s = get_json(&app, "/api/studies/two").await;
    assert!(!s["best"]["pareto_front"].as_array().unwrap().is_empty());
    assert!(s["figures"].as_array().unwrap().iter().any(|k| k == "pareto"));
    let keys: Vec<&str> =
        s["columns"].as_array().unwrap().iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["number", "state", "value0", "value1", "x", "worker", "duration"]);
    let page = get_json(
        &app,
        &format!(
            "/api/studies/two/trials?limit=100&sort=value1&order=desc&filter={}",
            enc("value1 > 0.25")
        ),
    )
    .await;
    let v1: Vec<f64> = page["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["values"][1].as_f64().unwrap())
        .collect();
    assert!(!v1.is_empty() && v1.iter().all(|v| *v > 0.25));
    assert!(v1.windows(2).all(|w| w[0] >= w[1]));
    let pareto = get(&app, "/api/studies/two/figures/pareto?format=svg").await;
    assert_eq!(pareto.status, StatusCode::OK, "{}", pareto.body);
    // The CSV names its columns as `tunewise export` does.
    let csv = get(&app, "/api/studies/two/trials.csv").await;
    let header = csv.body.lines().next().unwrap_or_default().to_owned();
    assert!(header.starts_with("number,state,values_0,values_1,params_"), "{header}");
}

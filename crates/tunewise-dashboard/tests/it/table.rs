//! The trial table: paging, sorting, filtering (the contract's syntax) and CSV.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::Value;
use tunewise_core::{FrozenTrial, InMemoryStorage, Storage, TrialState};

use crate::common::*;

fn all_trials(storage: &Arc<InMemoryStorage>) -> Vec<Arc<FrozenTrial>> {
    let record = storage.find_study("demo").unwrap().unwrap();
    storage.trials_since(record.id, 0).unwrap().trials
}

fn numbers(page: &Value) -> Vec<u64> {
    page["trials"].as_array().unwrap().iter().map(|t| t["number"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn pages_have_fifty_rows_by_default_and_follow_offset_and_limit() {
    let app = app(storage_with(60), options());
    let first = get_json(&app, "/api/studies/demo/trials").await;
    assert_eq!(first["total"], 60);
    assert_eq!(first["matched"], 60);
    assert_eq!(numbers(&first), (0..50).collect::<Vec<u64>>());
    let rest = get_json(&app, "/api/studies/demo/trials?offset=50&limit=20").await;
    assert_eq!(numbers(&rest), (50..60).collect::<Vec<u64>>());
    let row = &first["trials"][3];
    assert_eq!(row["number"], 3);
    assert!(row["params"]["x"].is_number() && row["params"]["c"].is_string());
    assert!(row["state"].is_string());
    let bad = get(&app, "/api/studies/demo/trials?offset=minus").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.error().contains("offset"), "{}", bad.body);
}

#[tokio::test]
async fn any_column_sorts_both_ways_with_missing_cells_last() {
    let storage = storage_with(40);
    let app = app(storage.clone(), options());
    let page = get_json(&app, "/api/studies/demo/trials?sort=value&order=asc&limit=1000").await;
    let values: Vec<Option<f64>> =
        page["trials"].as_array().unwrap().iter().map(|t| t["values"][0].as_f64()).collect();
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    assert!(present.windows(2).all(|w| w[0] <= w[1]), "ascending: {present:?}");
    let first_missing = values.iter().position(Option::is_none).expect("failed trials exist");
    assert!(values[first_missing..].iter().all(Option::is_none), "missing values come last");
    let desc = get_json(&app, "/api/studies/demo/trials?sort=value&order=desc&limit=1000").await;
    let values: Vec<f64> =
        desc["trials"].as_array().unwrap().iter().filter_map(|t| t["values"][0].as_f64()).collect();
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "descending: {values:?}");
    let by_x = get_json(&app, "/api/studies/demo/trials?sort=x&order=desc&limit=1000").await;
    let xs: Vec<f64> = by_x["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["params"]["x"].as_f64().unwrap())
        .collect();
    assert!(xs.windows(2).all(|w| w[0] >= w[1]));
    let by_number = get_json(&app, "/api/studies/demo/trials?sort=number&order=desc&limit=3").await;
    assert_eq!(numbers(&by_number), [39, 38, 37]);
    let by_state = get_json(&app, "/api/studies/demo/trials?sort=state&limit=1000").await;
    let states: Vec<&str> = by_state["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert!(states.windows(2).all(|w| w[0] <= w[1]));
    let bad = get(&app, "/api/studies/demo/trials?sort=colour").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.error().contains("colour") && bad.error().contains("value"), "{}", bad.body);
    let bad = get(&app, "/api/studies/demo/trials?order=sideways").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn filters_select_exactly_the_matching_trials() {
    let storage = storage_with(60);
    let trials = all_trials(&storage);
    let app = app(storage.clone(), options());
    let check = |filter: &str, state: &str, expected: Vec<u64>| {
        let uri =
            format!("/api/studies/demo/trials?limit=1000&state={state}&filter={}", enc(filter));
        let (app, label) = (app.clone(), format!("{filter} / {state}"));
        async move {
            let page = get_json(&app, &uri).await;
            assert_eq!(numbers(&page), expected, "{label}");
            assert_eq!(page["matched"].as_u64().unwrap() as usize, expected.len());
            assert_eq!(page["total"], 60);
        }
    };
    let pick = |f: &dyn Fn(&FrozenTrial) -> bool| -> Vec<u64> {
        trials.iter().filter(|t| f(t)).map(|t| t.number).collect()
    };
    let x = |t: &FrozenTrial| t.param_value("x").unwrap().as_f64().unwrap();
    let n = |t: &FrozenTrial| t.param_value("n").unwrap().as_f64().unwrap();
    let c = |t: &FrozenTrial| t.param_value("c").unwrap().to_string();
    check(
        "value < 0.2 and x > 0.3",
        "all",
        pick(&|t| t.value().is_some_and(|v| v < 0.2) && x(t) > 0.3),
    )
    .await;
    check("value<0.2, x>0.3", "all", pick(&|t| t.value().is_some_and(|v| v < 0.2) && x(t) > 0.3))
        .await;
    check("n >= 2 AND c = b", "all", pick(&|t| n(t) >= 2.0 && c(t) == "b")).await;
    check("c != 'a'", "all", pick(&|t| c(t) != "a")).await;
    check("number <= 9", "all", (0..10).collect()).await;
    check("number > 55", "all", (56..60).collect()).await;
    check("", "failed", pick(&|t| t.state == TrialState::Failed)).await;
    check("state = pruned", "all", pick(&|t| t.state == TrialState::Pruned)).await;
    check(
        "state != complete and x > 0.5",
        "all",
        pick(&|t| t.state != TrialState::Complete && x(t) > 0.5),
    )
    .await;
    check("n = 1", "complete", pick(&|t| t.state == TrialState::Complete && n(t) == 1.0)).await;
    check("value0 >= 0", "all", pick(&|t| t.value().is_some())).await;
    check("worker != nobody", "all", pick(&|t| t.worker_id.is_some())).await;
    assert!(!pick(&|t| t.state == TrialState::Failed).is_empty());
}

#[tokio::test]
async fn a_bad_filter_is_a_400_that_names_the_problem() {
    let app = app(storage_with(5), options());
    for (filter, says) in [
        ("x >> 1", "unknown operator"),
        ("x ~ 1", "no operator"),
        ("colour = red", "unknown column 'colour'"),
        ("x < abc", "'abc' is not a number"),
        ("value <", "no value"),
        ("state < complete", "only with = or !="),
        ("state = finished", "unknown state 'finished'"),
        ("c > a", "categorical"),
        ("x > 1 and", "empty condition"),
        ("value1 < 3", "unknown column 'value1'"),
    ] {
        let uri = format!("/api/studies/demo/trials?filter={}", enc(filter));
        let a = get(&app, &uri).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{filter}");
        assert!(a.error().contains(says), "{filter}: {}", a.error());
    }
    let a = get(&app, "/api/studies/demo/trials?state=done").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.error().contains("unknown state 'done'"));
    let a = get(&app, &format!("/api/studies/demo/trials.csv?filter={}", enc("x ~ 1"))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "the CSV refuses a bad filter too");
}

#[tokio::test]
async fn the_csv_holds_every_matching_row_in_the_table_s_order() {
    let storage = storage_with(60);
    let app = app(storage.clone(), options());
    let filter = enc("x > 0.2");
    let page = get_json(
        &app,
        &format!("/api/studies/demo/trials?filter={filter}&sort=x&order=desc&limit=1000"),
    )
    .await;
    let csv =
        get(&app, &format!("/api/studies/demo/trials.csv?filter={filter}&sort=x&order=desc")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(csv.headers["content-disposition"].to_str().unwrap().contains("demo-trials.csv"));
    let mut lines = csv.body.lines();
    assert_eq!(
        lines.next().unwrap(),
        "number,state,value,params_c,params_n,params_x,worker,datetime_start,datetime_complete,duration_s"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), page["matched"].as_u64().unwrap() as usize, "all rows, not one page");
    assert!(rows.len() > 20, "more rows than a default page would hold is not needed here");
    let expected: Vec<String> = numbers(&page).iter().map(u64::to_string).collect();
    let got: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(got, expected);
    let trials = all_trials(&storage);
    for row in &rows {
        let t = &trials[row[0].parse::<usize>().unwrap()];
        assert_eq!(row[1], t.state.as_str());
        assert_eq!(row[2], t.value().map_or(String::new(), |v| v.to_string()));
        assert_eq!(row[5].parse::<f64>().unwrap(), t.param_value("x").unwrap().as_f64().unwrap());
    }
}

//! Read-only by default; deleting a study and enqueueing a trial with `allow_writes`.

use axum::http::StatusCode;
use serde_json::json;
use tunewise_core::{ParamValue, Storage, TrialState};

use crate::common::*;

#[tokio::test]
async fn without_allow_writes_the_write_endpoints_answer_403_and_change_nothing() {
    let storage = storage_with(4);
    let app = app(storage.clone(), options());
    let delete = request(&app, "POST", "/api/studies/demo/delete", None).await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    assert!(delete.error().contains("--allow-writes"), "{}", delete.body);
    let enqueue =
        request(&app, "POST", "/api/studies/demo/enqueue", Some(json!({"params": {"x": 0.5}})))
            .await;
    assert_eq!(enqueue.status, StatusCode::FORBIDDEN);
    assert!(enqueue.error().contains("--allow-writes"));
    assert_eq!(get_json(&app, "/api/studies/demo").await["n_trials"], 4);
    assert_eq!(get_json(&app, "/api/studies/demo").await["writable"], false);
    assert!(storage.find_study("demo").unwrap().is_some());
}

#[tokio::test]
async fn with_allow_writes_a_study_is_deleted() {
    let storage = storage_with(4);
    let app = app(storage.clone(), options().allow_writes(true));
    assert_eq!(get_json(&app, "/api/studies/demo").await["writable"], true);
    let delete = request(&app, "POST", "/api/studies/demo/delete", None).await;
    assert_eq!(delete.status, StatusCode::OK, "{}", delete.body);
    assert!(storage.find_study("demo").unwrap().is_none());
    assert_eq!(get(&app, "/api/studies/demo").await.status, StatusCode::NOT_FOUND);
    let again = request(&app, "POST", "/api/studies/demo/delete", None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn with_allow_writes_a_trial_is_enqueued_with_checked_values() {
    let storage = storage_with(4);
    let app = app(storage.clone(), options().allow_writes(true));
    let body = json!({"params": {"x": 0.25, "n": 3, "c": "b"}});
    let a = request(&app, "POST", "/api/studies/demo/enqueue", Some(body)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.json()["enqueued"], 4);
    let record = storage.find_study("demo").unwrap().unwrap();
    let t = storage.trial(record.id, 4).unwrap();
    assert_eq!(t.state, TrialState::Waiting);
    let fixed: Vec<(String, ParamValue)> =
        t.fixed_params.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
    assert!(fixed.contains(&("x".into(), ParamValue::Float(0.25))));
    assert!(fixed.contains(&("n".into(), ParamValue::Int(3))));
    assert!(fixed.contains(&("c".into(), ParamValue::Str("b".into()))));
    let page = get_json(&app, "/api/studies/demo/trials?state=waiting").await;
    assert_eq!(page["matched"], 1);
    for (params, says) in [
        (json!({"x": 2.0}), "not in its distribution"),
        (json!({"c": "z"}), "not in its distribution"),
        (json!({"colour": 1}), "no parameter 'colour'"),
        (json!({"x": [1]}), "not a number, bool or string"),
        (json!({}), "nothing to enqueue"),
    ] {
        let a =
            request(&app, "POST", "/api/studies/demo/enqueue", Some(json!({ "params": params })))
                .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{params}");
        assert!(a.error().contains(says), "{params}: {}", a.error());
    }
    let a = request(&app, "POST", "/api/studies/demo/enqueue", Some(json!([1, 2]))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.error().contains("params"), "{}", a.body);
}

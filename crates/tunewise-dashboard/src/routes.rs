//! The HTTP interface: pages, JSON API, CSV, figures, live updates and (with `allow_writes`)
//! the two write endpoints. See `docs/dashboard.md`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tunewise_core::{FrozenTrial, ParamValue, TrialState};

use crate::error::ApiError;
use crate::figures::{self, FigureQuery, Rendered};
use crate::hub::{blocking, Hub, Snapshot};
use crate::table::{self, Filter, Sort, DEFAULT_LIMIT, MAX_LIMIT};
use crate::Options;

const INDEX_HTML: &str = include_str!("../assets/index.html");
const STUDY_HTML: &str = include_str!("../assets/study.html");
const APP_CSS: &str = include_str!("../assets/app.css");
const APP_JS: &str = include_str!("../assets/app.js");

/// The longest a `changes` request waits for a change, in seconds.
const MAX_WAIT_S: u64 = 60;

pub(crate) struct App {
    pub(crate) hub: Arc<Hub>,
    pub(crate) options: Options,
    /// Becomes true when the server shuts down: long polls answer at once.
    pub(crate) shutdown: tokio::sync::watch::Receiver<bool>,
    /// The sender of a router that nobody shuts down (kept so that the channel stays open).
    pub(crate) _never: Option<tokio::sync::watch::Sender<bool>>,
}

type Shared = State<Arc<App>>;

/// A query string, or a 400 whose JSON message names the bad field.
struct Query<T>(T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(q)) => Ok(Query(q)),
            Err(e) => Err(ApiError::bad_request(format!("bad query string: {}", e.body_text()))),
        }
    }
}

pub(crate) fn routes(app: Arc<App>) -> Router {
    let p = app.options.url_prefix.clone();
    let mut router = Router::new();
    if !p.is_empty() {
        // `/p` → `/p/`, so that the page's relative links resolve under the prefix.
        let last = p.rsplit('/').next().unwrap_or("").to_owned();
        router = router.route(
            &p,
            get(move || async move {
                (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, format!("{last}/"))])
            }),
        );
    }
    router
        .route(&format!("{p}/"), get(index))
        .route(&format!("{p}/study/{{name}}"), get(study_page))
        .route(&format!("{p}/assets/app.css"), get(css))
        .route(&format!("{p}/assets/app.js"), get(js))
        .route(&format!("{p}/api/studies"), get(studies))
        .route(&format!("{p}/api/studies/{{name}}"), get(summary))
        .route(&format!("{p}/api/studies/{{name}}/trials"), get(trials))
        .route(&format!("{p}/api/studies/{{name}}/trials.csv"), get(trials_csv))
        .route(&format!("{p}/api/studies/{{name}}/figures/{{kind}}"), get(figure))
        .route(&format!("{p}/api/studies/{{name}}/changes"), get(changes))
        .route(&format!("{p}/api/studies/{{name}}/delete"), post(delete_study))
        .route(&format!("{p}/api/studies/{{name}}/enqueue"), post(enqueue))
        .fallback(not_found)
        .with_state(app)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such page or endpoint; the dashboard's pages are / and /study/NAME")
}

fn page(html: &'static str) -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], Html(html)).into_response()
}

async fn index() -> Response {
    page(INDEX_HTML)
}

async fn study_page(State(app): Shared, Path(name): Path<String>) -> Result<Response, ApiError> {
    // An unknown study is a 404 page that says so, not an empty study page.
    match app.hub.study(&name).await {
        Ok(_) => Ok(page(STUDY_HTML)),
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            let html = format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <title>no such study</title><link rel=\"icon\" href=\"data:,\"></head>\
                 <body data-page=\"not-found\"><p>There is no study named \u{201c}{}\u{201d} \
                 in this storage.</p><p><a href=\"../\">All studies</a></p></body></html>",
                escape_html(&name)
            );
            Ok((StatusCode::NOT_FOUND, Html(html)).into_response())
        }
        Err(e) => Err(e),
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS).into_response()
}

async fn js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], APP_JS).into_response()
}

fn counts_json(snap: &Snapshot) -> Value {
    let map: serde_json::Map<String, Value> = TrialState::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), json!(snap.counts.get(s).copied().unwrap_or(0))))
        .collect();
    Value::Object(map)
}

async fn studies(State(app): Shared) -> Result<Json<Value>, ApiError> {
    let records = app.hub.list().await?;
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let snap = match app.hub.study(&r.name).await {
            Ok(s) => s,
            // Deleted between the list and now.
            Err(e) if e.status == StatusCode::NOT_FOUND => continue,
            Err(e) => return Err(e),
        };
        out.push(json!({
            "name": r.name,
            "directions": r.directions,
            "n_trials": snap.trials.len(),
            "counts": counts_json(&snap),
            "best": snap.best,
            "created": r.created.to_rfc3339(),
            "last_activity": snap.last_activity,
            "cursor": snap.cursor,
        }));
    }
    Ok(Json(json!({ "studies": out, "writable": app.options.allow_writes })))
}

async fn summary(State(app): Shared, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let snap = app.hub.study(&name).await?;
    Ok(Json(json!({
        "name": snap.record.name,
        "directions": snap.record.directions,
        "user_attrs": snap.record.user_attrs,
        "created": snap.record.created.to_rfc3339(),
        "cursor": snap.cursor,
        "n_trials": snap.trials.len(),
        "counts": counts_json(&snap),
        "best": snap.best,
        "params": snap.params,
        "figures": figures::applicable(&snap),
        "columns": table::columns_json(&snap),
        "last_activity": snap.last_activity,
        "writable": app.options.allow_writes,
    })))
}

/// The query of `trials` and `trials.csv`.
#[derive(Debug, Default, Deserialize)]
struct TrialsQuery {
    state: Option<String>,
    filter: Option<String>,
    sort: Option<String>,
    order: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

/// The study and the positions (in `trials`) of the trials that match the query, in its
/// order.
async fn matching(
    app: &App,
    name: &str,
    q: TrialsQuery,
) -> Result<(Arc<Snapshot>, Vec<usize>, TrialsQuery), ApiError> {
    let snap = app.hub.study(name).await?;
    let s = snap.clone();
    let (positions, q) = blocking(move || {
        let filter = Filter::parse(q.state.as_deref(), q.filter.as_deref(), &s)?;
        let sort = Sort::parse(q.sort.as_deref(), q.order.as_deref(), &s)?;
        Ok((table::select(&s, &filter, &sort), q))
    })
    .await?;
    Ok((snap, positions, q))
}

async fn trials(
    State(app): Shared,
    Path(name): Path<String>,
    Query(q): Query<TrialsQuery>,
) -> Result<Json<Value>, ApiError> {
    let (snap, positions, q) = matching(&app, &name, q).await?;
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let rows: Vec<Value> = positions
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&i| table::row_json(&snap.trials[i]))
        .collect();
    Ok(Json(json!({
        "total": snap.trials.len(),
        "matched": positions.len(),
        "offset": offset,
        "limit": limit,
        "cursor": snap.cursor,
        "trials": rows,
    })))
}

async fn trials_csv(
    State(app): Shared,
    Path(name): Path<String>,
    Query(q): Query<TrialsQuery>,
) -> Result<Response, ApiError> {
    let (snap, positions, _) = matching(&app, &name, q).await?;
    let text = blocking(move || {
        let rows: Vec<&FrozenTrial> = positions.iter().map(|&i| &*snap.trials[i]).collect();
        table::csv(&snap, &rows)
    })
    .await?;
    let file: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}-trials.csv\"")),
        ],
        text,
    )
        .into_response())
}

async fn figure(
    State(app): Shared,
    Path((name, kind)): Path<(String, String)>,
    Query(q): Query<FigureQuery>,
) -> Result<Response, ApiError> {
    let svg = match q.format.as_deref().unwrap_or("json") {
        "json" => false,
        "svg" => true,
        f => return Err(ApiError::bad_request(format!("unknown format '{f}'; give json or svg"))),
    };
    if !figures::KINDS.contains(&kind.as_str()) {
        return Err(ApiError::not_found(format!(
            "unknown figure kind '{kind}'; the kinds are: {}",
            figures::KINDS.join(", ")
        )));
    }
    let snap = app.hub.study(&name).await?;
    let key = q.key(&kind);
    let rendered = match app.hub.cached_figure(&name, &key, snap.cursor) {
        Some(r) => r,
        None => {
            let (s, max_points) = (snap.clone(), app.options.max_points);
            let r: Arc<Rendered> =
                Arc::new(blocking(move || figures::render(&s, &kind, &q, max_points)).await?);
            app.hub.keep_figure(&name, key, snap.cursor, r.clone());
            r
        }
    };
    let (content_type, body) = if svg {
        ("image/svg+xml", rendered.svg.clone())
    } else {
        ("application/json", rendered.json.clone())
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

#[derive(Debug, Deserialize)]
struct ChangesQuery {
    cursor: Option<u64>,
    /// Seconds to wait for a change (long poll); 0 answers at once. Default 25.
    wait: Option<u64>,
}

/// `changes?cursor=C`: answers as soon as the study's cursor passes C (or after `wait`
/// seconds, or at once with `wait=0`), with the new cursor.
async fn changes(
    State(app): Shared,
    Path(name): Path<String>,
    Query(q): Query<ChangesQuery>,
) -> Result<Json<Value>, ApiError> {
    let since = q.cursor.unwrap_or(0);
    let wait = Duration::from_secs(q.wait.unwrap_or(25).min(MAX_WAIT_S));
    let deadline = tokio::time::Instant::now() + wait;
    let mut shutdown = app.shutdown.clone();
    loop {
        let snap = app.hub.study(&name).await?;
        let now = tokio::time::Instant::now();
        if snap.cursor != since || now >= deadline || *shutdown.borrow() {
            return Ok(Json(json!({
                "cursor": snap.cursor,
                "changed": snap.cursor != since,
                "n_trials": snap.trials.len(),
            })));
        }
        // However short the refresh interval, a poll does not spin.
        let pause = app.options.refresh_interval.max(Duration::from_millis(10)).min(deadline - now);
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => {}
        }
    }
}

fn read_only() -> ApiError {
    ApiError::forbidden(
        "this dashboard is read-only: start it with `tunewise dashboard --allow-writes` to delete \
         studies or enqueue trials from the page",
    )
}

async fn delete_study(
    State(app): Shared,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !app.options.allow_writes {
        return Err(read_only());
    }
    let storage = app.hub.storage.clone();
    let n = name.clone();
    blocking(move || {
        tunewise_core::storage::delete_study_by_name(&*storage, &n)
            .map_err(|e| ApiError::storage(&e))
    })
    .await?;
    Ok(Json(json!({ "deleted": name })))
}

#[derive(Debug, Deserialize)]
struct EnqueueBody {
    params: serde_json::Map<String, Value>,
}

async fn enqueue(
    State(app): Shared,
    Path(name): Path<String>,
    body: Result<Json<EnqueueBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    if !app.options.allow_writes {
        return Err(read_only());
    }
    let Json(body) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be JSON such as {{\"params\": {{\"x\": 0.5}}}}: {}",
            e.body_text()
        ))
    })?;
    let snap = app.hub.study(&name).await?;
    let mut record = FrozenTrial::new(0, 0, TrialState::Waiting);
    for (key, value) in body.params {
        record.fixed_params.push((Arc::from(key.as_str()), typed(&snap, &key, &value)?));
    }
    if record.fixed_params.is_empty() {
        return Err(ApiError::bad_request("nothing to enqueue: give at least one parameter"));
    }
    let storage = app.hub.storage.clone();
    let id = snap.record.id;
    let stored =
        blocking(move || storage.insert_trial(id, &record).map_err(|e| ApiError::storage(&e)))
            .await?;
    Ok(Json(json!({ "enqueued": stored.number })))
}

/// A parameter value from JSON, checked against the parameter's distribution when some trial
/// has it.
fn typed(snap: &Snapshot, name: &str, value: &Value) -> Result<ParamValue, ApiError> {
    if name.is_empty() {
        return Err(ApiError::bad_request("a parameter has an empty name"));
    }
    let value: ParamValue = match value {
        Value::Bool(b) => ParamValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => ParamValue::Int(i),
            None => ParamValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => ParamValue::Str(Arc::from(s.as_str())),
        other => {
            return Err(ApiError::bad_request(format!(
                "parameter '{name}': {other} is not a number, bool or string"
            )))
        }
    };
    if matches!(value, ParamValue::Float(f) if !f.is_finite()) {
        return Err(ApiError::bad_request(format!("parameter '{name}' must be finite")));
    }
    let known = snap.trials.iter().rev().find_map(|t| t.param(name));
    let Some(param) = known else {
        if snap.params.is_empty() {
            return Ok(value);
        }
        let names: Vec<&str> = snap.params.iter().map(|p| p.name.as_str()).collect();
        return Err(ApiError::bad_request(format!(
            "the study has no parameter '{name}'; its parameters are: {}",
            names.join(", ")
        )));
    };
    let d = &param.distribution;
    // An integer given for a float parameter is the same number.
    let value = match (&**d, value) {
        (tunewise_core::Distribution::Float(_), ParamValue::Int(i)) => ParamValue::Float(i as f64),
        (_, v) => v,
    };
    match d.to_internal(&value) {
        Some(internal) if d.contains_internal(internal) => Ok(value),
        _ => Err(ApiError::bad_request(format!(
            "parameter '{name}': {value} is not in its distribution {d}"
        ))),
    }
}

//! A seeded study in memory and a client for the router.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;
use tunewise_core::{Budget, InMemoryStorage, RandomSampler, Storage, Study, TrialError};
use tunewise_dashboard::{router, Options};

/// A storage with study "demo": `n` trials of x (float in [0, 1]), n (int in [0, 4]) and c
/// (categorical a/b/c), value (x - 0.3)² + n / 10; trials whose x > 0.85 fail, those whose
/// x < 0.1 are pruned; each trial reports two intermediate values. Seeded.
pub fn storage_with(n: usize) -> Arc<InMemoryStorage> {
    let storage = Arc::new(InMemoryStorage::new());
    let study = Study::builder()
        .name("demo")
        .minimize()
        .sampler(RandomSampler::with_seed(5))
        .storage(storage.clone())
        .create()
        .unwrap();
    study
        .optimize(
            |t| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                let n = t.suggest_int("n", 0, 4)?;
                let _c = t.suggest_categorical("c", &["a", "b", "c"])?;
                let value = (x - 0.3).powi(2) + n as f64 / 10.0;
                t.report(0, value + 1.0)?;
                t.report(1, value + 0.5)?;
                if x > 0.85 {
                    return Err(TrialError::Failed("x too large".into()));
                }
                if x < 0.1 {
                    return Err(TrialError::Pruned);
                }
                Ok(value)
            },
            Budget::trials(n),
        )
        .unwrap();
    storage
}

/// The default options with refreshes as often as asked (tests see changes at once).
pub fn options() -> Options {
    Options::default().refresh_interval(Duration::ZERO)
}

/// The router over `storage` with `options`.
pub fn app(storage: Arc<dyn Storage>, options: Options) -> axum::Router {
    router(storage, options)
}

/// An answer: status, content type and body.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `error` message of a JSON error answer.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_else(|| panic!("no error in {}", self.body)).into()
    }
}

pub async fn request(app: &axum::Router, method: &str, uri: &str, body: Option<Value>) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let content_type =
        headers.get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    Answer { status, content_type, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
}

pub async fn get(app: &axum::Router, uri: &str) -> Answer {
    request(app, "GET", uri, None).await
}

/// GET, expecting 200 and JSON.
pub async fn get_json(app: &axum::Router, uri: &str) -> Value {
    let a = get(app, uri).await;
    assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.body);
    a.json()
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

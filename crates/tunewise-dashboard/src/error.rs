//! The errors of the dashboard: those that stop it from starting, and those an HTTP request
//! answers with.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Why the dashboard could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The options are not valid (for example a URL prefix with a `?` in it).
    #[error("{0}")]
    InvalidOptions(String),
    /// The address could not be bound (in use, or not allowed).
    #[error("cannot listen on {addr}: {source}; {hint}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The operating system's reason.
        source: std::io::Error,
        /// What to do about it.
        hint: String,
    },
    /// The server's runtime could not start or the server failed while running.
    #[error("the dashboard's server failed: {0}")]
    Server(std::io::Error),
}

/// The answer to a request that cannot be served: a status and a message naming the problem,
/// sent as `{"error": "…"}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::NOT_FOUND, message: message.into() }
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::FORBIDDEN, message: message.into() }
    }

    pub(crate) fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, message: message.into() }
    }

    pub(crate) fn storage(e: &tunewise_core::Error) -> ApiError {
        match e {
            tunewise_core::Error::StudyNotFound(name) => {
                ApiError::not_found(format!("no study named '{name}' in the storage"))
            }
            e => ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: format!("cannot read the storage: {e}"),
            },
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "error": self.message }))).into_response()
    }
}

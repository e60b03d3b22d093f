//! The service's error answers: `{"error": {"code", "message"}}` with the right status.
//! Bad input is the client's to fix and is not logged as an error; internal failures get a
//! generic message and the cause is logged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable, machine-readable code (`bad_gzip`, `unauthorized` …).
    pub code: &'static str,
    /// What a person should know.
    pub message: String,
}

impl ApiError {
    /// An answer with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 503: a dependency failed; the edge retries. The cause is logged, not sent.
    pub fn unavailable(what: &'static str, cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "{what} failed; batch not acknowledged.");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("{what} is unavailable; retry later"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

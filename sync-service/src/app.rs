//! The service: its state, its router and the health endpoints.
//!
//! - `POST /v1/batches`: [`crate::batches`].
//! - `GET /healthz`: 200 while the process serves.
//! - `GET /readyz`: 200 when PostgreSQL and InfluxDB answer, else 503 saying which not.
//! - `GET /metrics`: Prometheus text ([`crate::metrics`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::influx::Influx;
use crate::metrics::Metrics;

/// What every request shares.
pub struct AppState {
    /// PostgreSQL connections.
    pub pool: deadpool_postgres::Pool,
    /// The InfluxDB writer.
    pub influx: Influx,
    /// Counters.
    pub metrics: Metrics,
    /// The body limit as sent, bytes.
    pub max_body: usize,
    /// The body limit inflated, bytes.
    pub max_decompressed: usize,
    /// The time a batch may take.
    pub request_timeout: Duration,
}

/// The router.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        // The batch handler applies its own limits (http.max_body_mib, inflated size).
        .route(
            "/v1/batches",
            post(crate::batches::post).layer(DefaultBodyLimit::disable()),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn ready(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let postgres = match state.pool.get().await {
        Ok(db) => db
            .simple_query("SELECT 1")
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let influxdb = state.influx.ready().await;
    let show = |r: &Result<(), String>| match r {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.clone(),
    };
    let status = if postgres.is_ok() && influxdb.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({"postgres": show(&postgres), "influxdb": show(&influxdb)});
    (status, Json(body))
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

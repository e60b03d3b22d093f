//! The service: its state, its router, the layers every answer goes through, and the health
//! endpoints.
//!
//! Every answer gets the security headers and, unless a handler set one, `Cache-Control:
//! no-store`; bodies of 1 KiB or more are gzipped for clients that accept it; a request that takes longer than
//! `http.request_timeout` is answered 503 `timeout`. Unknown paths get 404 `no_route`, a
//! wrong method 405 `method_not_allowed`, both as JSON errors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sha2::{Digest, Sha256};

use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;

use crate::auth::{KeyCache, RateLimiter};
use crate::cache::{Answer, ReadCache};
use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// What every request shares.
pub struct AppState {
    /// PostgreSQL connections.
    pub pool: deadpool_postgres::Pool,
    /// API keys looked up recently.
    pub keys: KeyCache,
    /// The rate limit per key.
    pub limiter: RateLimiter,
    /// Counters.
    pub metrics: Metrics,
    /// Cached availability answers.
    pub cache: Arc<ReadCache>,
    /// The settings.
    pub config: Config,
}

impl AppState {
    /// The state for `config` over `pool`.
    pub fn new(config: Config, pool: deadpool_postgres::Pool) -> AppState {
        AppState {
            pool,
            keys: KeyCache::new(config.http.key_cache_ttl),
            limiter: RateLimiter::new(config.rate_limit.per_second, config.rate_limit.burst),
            metrics: Metrics::default(),
            cache: Arc::new(ReadCache::new(config.http.read_cache_max_age)),
            config,
        }
    }
}

/// The routes, as (method, path) in OpenAPI's notation; `/openapi.json` documents exactly
/// these (a test holds the two together).
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/v1/products"),
    ("get", "/v1/products/{sku}"),
    ("get", "/v1/farms/{farm}/inventory"),
    ("post", "/v1/reservations"),
    ("get", "/v1/reservations/{id}"),
    ("delete", "/v1/reservations/{id}"),
    ("post", "/v1/reservations/{id}/commit"),
    ("post", "/v1/inventory/adjustments"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
];

/// Bodies smaller than this many bytes go uncompressed: gzip saves a few hundred bytes on
/// them at the cost of a 300 KB deflate state per response (measured: 40 % of the CPU of a
/// product read).
pub const GZIP_ABOVE: u16 = 1024;

/// The OpenAPI 3.1 document.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// The router with every layer.
pub fn app(state: Arc<AppState>) -> Router {
    use crate::{adjustments, products, reservations};
    let body_limit = (state.config.http.max_body_kib as usize) << 10;
    Router::new()
        .route("/v1/products", get(products::list))
        .route("/v1/products/{sku}", get(products::one))
        .route("/v1/farms/{farm}/inventory", get(products::farm_inventory))
        .route("/v1/reservations", post(reservations::create))
        .route(
            "/v1/reservations/{id}",
            get(reservations::show).delete(reservations::release),
        )
        .route("/v1/reservations/{id}/commit", post(reservations::commit))
        .route("/v1/inventory/adjustments", post(adjustments::create))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }),
        )
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_route",
                "no such endpoint; see /openapi.json",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method; see /openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), around))
        .layer(
            CompressionLayer::new()
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(GZIP_ABOVE))),
        )
        .with_state(state)
}

/// Times the request out, counts it, and adds the security headers.
async fn around(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| {
            ROUTES
                .iter()
                .find(|r| r.1 == p.as_str())
                .map_or("other", |r| r.1)
        });
    let started = Instant::now();
    let timeout = state.config.http.request_timeout;
    let mut response = match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long; retry later",
        )
        .into_response(),
    };
    state
        .metrics
        .request(route, response.status().as_u16(), started.elapsed());
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
        ("referrer-policy", "no-referrer"),
        ("strict-transport-security", "max-age=31536000"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A JSON `body` with a weak `ETag` (over the body) and `Cache-Control`; 304 with no body
/// when `If-None-Match` names that ETag.
pub fn cacheable(state: &AppState, request: &HeaderMap, body: String) -> Response {
    respond(state, request, &answer(body))
}

/// `body` (PostgreSQL's JSON) compacted, with its weak ETag.
pub fn answer(body: String) -> Answer {
    let body = crate::request::compact(&body);
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    Answer {
        body: body.into(),
        etag: format!("W/\"{hex}\"").into(),
    }
}

/// `answer` with its ETag and `Cache-Control`, or 304 when `If-None-Match` names the ETag.
pub fn respond(state: &AppState, request: &HeaderMap, answer: &Answer) -> Response {
    let etag = &*answer.etag;
    let max_age = state.config.http.cache_max_age.as_secs();
    let cache_control = format!("private, max-age={max_age}");
    let matches = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == &etag[2..]);
    let headers = [
        (header::ETAG, etag.to_owned()),
        (header::CACHE_CONTROL, cache_control),
    ];
    if matches {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let content_type = (header::CONTENT_TYPE, "application/json".to_owned());
    let body = axum::body::Body::from(answer.body.to_string());
    (StatusCode::OK, headers, [content_type], body).into_response()
}

async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let postgres = match state.pool.get().await {
        Ok(db) => db
            .simple_query("SELECT 1")
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let status = if postgres.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let shown = postgres.err().unwrap_or_else(|| "ok".to_owned());
    (status, Json(serde_json::json!({ "postgres": shown }))).into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&state.cache),
    )
        .into_response()
}

/// How long the sweeper waits between passes.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

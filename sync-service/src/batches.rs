//! `POST /v1/batches` (DESIGN.md §3.3): authenticate the device, decode and check the batch,
//! write its readings to InfluxDB, then store its events and raise the device's watermark in
//! PostgreSQL; answer `200 {"acked_seq": N}` only after both.
//!
//! Every refusal says why, as `{"error": {"code", "message"}}`, and writes nothing:
//! no or unknown token → 401 `unauthorized`; a batch for another device → 403
//! `wrong_device`; body over `http.max_body_mib` or, inflated, over
//! `http.max_decompressed_mib`, or more than 5,000 readings → 413 `too_large`; a
//! `Content-Encoding` other than gzip or identity → 415 `unsupported_encoding`; bad gzip →
//! 400 `bad_gzip`; bad JSON (also NaN, which JSON cannot carry) → 400 `bad_json`; a schema
//! other than 1 → 422 `unsupported_schema`; broken invariants (seq outside the range,
//! duplicates, implausible values, empty names) → 422 `invalid_batch`. InfluxDB or
//! PostgreSQL failing → 503 `unavailable` (the edge retries; nothing was acknowledged).

use std::io::Read;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use farm_protocol::{Batch, BatchAck, BatchError, SCHEMA_VERSION};

use crate::app::AppState;
use crate::devices::{self, Device};
use crate::error::ApiError;
use crate::influx::{self, WriteError};
use crate::store;

/// The handler.
pub async fn post(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let timeout = state.request_timeout;
    let answer = tokio::time::timeout(timeout, handle(&state, &headers, body)).await;
    let result = answer.unwrap_or_else(|_| {
        Err(ApiError::unavailable(
            "the batch (timed out)",
            &humantime::format_duration(timeout),
        ))
    });
    match result {
        Ok(ack) => {
            state.metrics.accepted.fetch_add(1, Relaxed);
            Json(ack).into_response()
        }
        Err(e) => {
            if e.status == StatusCode::SERVICE_UNAVAILABLE {
                state.metrics.unavailable.fetch_add(1, Relaxed);
            } else {
                state.metrics.reject(e.code);
            }
            e.into_response()
        }
    }
}

async fn handle(state: &AppState, headers: &HeaderMap, body: Body) -> Result<BatchAck, ApiError> {
    let token = bearer(headers)?;
    let body = read_body(headers, body, state.max_body).await?;
    // One connection serves the token lookup and the batch's transaction.
    let mut db = state
        .pool
        .get()
        .await
        .map_err(|e| ApiError::unavailable("PostgreSQL", &e))?;
    let device = devices::by_token(&**db, &token)
        .await
        .map_err(|e| ApiError::unavailable("PostgreSQL", &e))?
        .ok_or_else(|| unauthorized("the device token is not known"))?;
    let gzip = content_encoding(headers)?;
    let limit = state.max_decompressed;
    let batch = tokio::task::spawn_blocking(move || decode(&body, gzip, limit))
        .await
        .map_err(|e| ApiError::unavailable("decoding", &e))??;
    check(&batch, &device)?;
    write(state, &mut db, &batch, &device).await
}

/// Writes the readings, then applies the rest in PostgreSQL, under the device's row lock.
async fn write(
    state: &AppState,
    db: &mut tokio_postgres::Client,
    batch: &Batch,
    device: &Device,
) -> Result<BatchAck, ApiError> {
    let pg = |e: tokio_postgres::Error| ApiError::unavailable("PostgreSQL", &e);
    let tx = db.transaction().await.map_err(pg)?;
    let locked = store::lock_device(&tx, &device.id).await.map_err(pg)?;
    if !batch.readings.is_empty() {
        let lines = influx::encode(device, &batch.readings)
            .map_err(|e| ApiError::unavailable("encoding", &e))?;
        state.influx.write(lines).await.map_err(|e| match e {
            WriteError::Unavailable(_) => ApiError::unavailable("InfluxDB", &e),
            WriteError::Refused { .. } => ApiError::unavailable("InfluxDB (refused)", &e),
        })?;
        let written = batch.readings.len() as u64;
        state.metrics.readings_written.fetch_add(written, Relaxed);
    }
    let applied = store::apply(&tx, batch, locked).await.map_err(pg)?;
    tx.commit().await.map_err(pg)?;
    let metrics = &state.metrics;
    metrics.events_stored.fetch_add(applied.new_events, Relaxed);
    metrics.lots_created.fetch_add(applied.lots, Relaxed);
    metrics
        .harvest_issues
        .fetch_add(applied.harvest_issues, Relaxed);
    if let Some((from, to)) = applied.gap {
        state.metrics.gaps.fetch_add(1, Relaxed);
        tracing::warn!(device = %device.id, from, to, "Sequence gap recorded.");
    }
    Ok(BatchAck {
        acked_seq: applied.acked_seq,
    })
}

/// The body as sent, at most `limit` bytes: a declared `Content-Length` over it is refused
/// before a byte is read (the answer reaches a client that is still sending); a body that
/// turns out longer is refused when it passes the limit.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let over = || {
        too_large(format!(
            "the body is over http.max_body_mib ({} MiB)",
            limit >> 20
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(over());
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_long = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if too_long {
            over()
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.to_string())
        }
    })
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

fn too_large(message: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
}

fn invalid(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// The bearer token, or 401.
fn bearer(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("send the device token as Authorization: Bearer <token>"))?;
    let token = value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("the Authorization header is not Bearer <token>"))?;
    Ok(token.to_owned())
}

/// Whether the body is gzipped (`Content-Encoding: gzip`) or plain (none or `identity`).
fn content_encoding(headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str()) {
        None => Ok(false),
        Some(Ok(v)) if v.eq_ignore_ascii_case("identity") => Ok(false),
        Some(Ok(v)) if v.eq_ignore_ascii_case("gzip") => Ok(true),
        Some(other) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            format!("Content-Encoding {other:?} is not supported; send gzip"),
        )),
    }
}

/// Inflates (at most `limit` bytes) and parses the body.
fn decode(body: &[u8], gzip: bool, limit: usize) -> Result<Batch, ApiError> {
    let mut json = Vec::new();
    let over = || {
        too_large(format!(
            "the body inflates to more than {} MiB",
            limit >> 20
        ))
    };
    if gzip {
        let decoder = flate2::read::MultiGzDecoder::new(body);
        decoder
            .take(limit as u64 + 1)
            .read_to_end(&mut json)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_gzip", e.to_string()))?;
    } else {
        json.extend_from_slice(body);
    }
    if json.len() > limit {
        return Err(over());
    }
    #[derive(serde::Deserialize)]
    struct SchemaOnly {
        schema: Option<u32>,
    }
    let bad_json = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_json", message);
    let peek: SchemaOnly = serde_json::from_slice(&json).map_err(|e| bad_json(e.to_string()))?;
    match peek.schema {
        Some(SCHEMA_VERSION) => {}
        Some(other) => {
            return Err(invalid(
                "unsupported_schema",
                BatchError::Schema(other).to_string(),
            ))
        }
        None => {
            return Err(invalid(
                "unsupported_schema",
                "the batch has no schema".into(),
            ))
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(&json);
    serde_path_to_error::deserialize(de)
        .map_err(|e| bad_json(format!("{}: {}", e.path(), e.inner())))
}

/// The batch's own invariants, and that it is the authenticated device's.
fn check(batch: &Batch, device: &Device) -> Result<(), ApiError> {
    if batch.device_id != device.id {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_device",
            format!(
                "this token belongs to device {:?}, not {:?}",
                device.id, batch.device_id
            ),
        ));
    }
    batch.validate().map_err(|e| match e {
        BatchError::TooLarge(_) => too_large(e.to_string()),
        e => invalid("invalid_batch", e.to_string()),
    })?;
    let unnamed = batch
        .readings
        .iter()
        .find(|r| r.room.is_empty() || r.source.name().is_empty());
    if let Some(r) = unnamed {
        let message = format!(
            "reading seq {}: room and sensor/node must not be empty",
            r.seq
        );
        return Err(invalid("invalid_batch", message));
    }
    Ok(())
}

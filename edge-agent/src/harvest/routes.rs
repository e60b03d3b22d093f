//! The handlers of `POST /api/harvests` and `GET /api/harvests`, over [`super::record`].

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::entry::{Catalogue, HarvestRequest};
use super::record::{Listed, RecordError};
use crate::api::{authorize, ApiError, ApiState};
use crate::outbox::OutboxError;

/// How many harvests `GET /api/harvests` lists without `limit`.
pub const DEFAULT_LIMIT: usize = 50;
/// The most `GET /api/harvests` lists.
pub const MAX_LIMIT: usize = 500;

/// What the harvest routes work with.
#[derive(Clone)]
pub struct HarvestState {
    /// The outbox and the API token, shared with the control API.
    pub api: ApiState,
    /// The rooms and products harvests may name.
    pub catalogue: Arc<Catalogue>,
}

/// The harvest routes.
pub fn router(state: HarvestState) -> Router {
    Router::new()
        .route("/api/harvests", get(list).post(record))
        .with_state(state)
}

/// `POST /api/harvests`: checks the harvest, commits its event durably, then answers 201.
async fn record(
    State(state): State<HarvestState>,
    headers: HeaderMap,
    body: Result<Json<HarvestRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&state.api, &headers).await?;
    let Json(request) = body?;
    let recorded = state.record(request).await.map_err(|e| match e {
        RecordError::Invalid(e) => ApiError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        RecordError::NotSaved(e) => not_recorded(e),
    })?;
    let status = if state.is_synced(recorded.seq) {
        "synced"
    } else {
        "pending"
    };
    let answer = json!({
        "id": recorded.id,
        "seq": recorded.seq,
        "lot": recorded.harvest.lot,
        "status": status,
    });
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `GET /api/harvests?limit=N`: the newest harvests still in the outbox, newest first.
async fn list(
    State(state): State<HarvestState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let limit = parse_limit(query.as_deref())
        .map_err(|message| ApiError(StatusCode::BAD_REQUEST, message))?;
    let listed = state.recent(limit).await.map_err(|e| match e {
        OutboxError::Closed => unavailable(),
        _ => ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the harvests could not be read".into(),
        ),
    })?;
    let harvests: Vec<Value> = listed.iter().map(shown).collect();
    Ok(Json(json!({ "harvests": harvests })))
}

/// A harvest as the list shows it.
fn shown(listed: &Listed) -> Value {
    let h = &listed.harvest;
    json!({
        "id": listed.id,
        "seq": listed.seq,
        "ts": listed.ts,
        "room": h.room,
        "product": h.product,
        "quantity": h.quantity,
        "unit": h.unit,
        "lot": h.lot,
        "status": listed.status(),
    })
}

/// `limit` from the query string: 1 ..= [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent. Any
/// other parameter is refused.
fn parse_limit(query: Option<&str>) -> Result<usize, String> {
    let mut limit = DEFAULT_LIMIT;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name != "limit" {
            return Err(format!(
                "unknown query parameter {name:?}; only \"limit\" is accepted"
            ));
        }
        limit = value
            .parse()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                format!("limit must be a whole number from 1 to {MAX_LIMIT}, got {value:?}")
            })?;
    }
    Ok(limit)
}

/// The event could not be committed (already logged): nothing was recorded.
fn not_recorded(e: OutboxError) -> ApiError {
    match e {
        OutboxError::Closed => unavailable(),
        _ => ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the harvest could not be saved; it was not recorded".into(),
        ),
    }
}

fn unavailable() -> ApiError {
    ApiError(
        StatusCode::SERVICE_UNAVAILABLE,
        "the agent is shutting down; try again once it is back".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_to_50_and_is_checked() {
        assert_eq!(parse_limit(None), Ok(50));
        assert_eq!(parse_limit(Some("")), Ok(50));
        assert_eq!(parse_limit(Some("limit=1")), Ok(1));
        assert_eq!(parse_limit(Some("limit=500")), Ok(500));
        for bad in [
            "limit=0",
            "limit=501",
            "limit=-1",
            "limit=ten",
            "limit",
            "limit=",
        ] {
            let error = parse_limit(Some(bad)).unwrap_err();
            assert!(error.starts_with("limit must be"), "{bad}: {error}");
        }
        let error = parse_limit(Some("limit=5&room=a")).unwrap_err();
        assert!(
            error.contains("unknown query parameter \"room\""),
            "{error}"
        );
    }
}

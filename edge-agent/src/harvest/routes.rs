//! The handlers of `POST /api/harvests` and `GET /api/harvests`.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use farm_protocol::{Event, EventKind, Seq};
use serde_json::{json, Value};
use uuid::Uuid;

use super::entry::{check, Catalogue, HarvestRequest};
use crate::api::{authorize, ApiError, ApiState};
use crate::outbox::{NewEvent, OutboxError};

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
    let id = Uuid::new_v4();
    let ts = crate::now_ms();
    let today = state.catalogue.date_at(ts);
    let harvest = check(request, &state.catalogue, id, today)
        .map_err(|e| ApiError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let lot = harvest.lot.clone();
    let event = NewEvent {
        id,
        ts,
        kind: EventKind::Harvest(harvest.clone()),
    };
    let seq = state
        .api
        .outbox
        .append_event(event)
        .await
        .map_err(not_recorded)?;
    tracing::info!(
        %id,
        seq,
        room = %harvest.room,
        product = %harvest.product,
        quantity = harvest.quantity,
        unit = %harvest.unit,
        lot = %harvest.lot,
        "Harvest recorded."
    );
    let status = status(seq, state.api.outbox.stats().acked_seq);
    let answer = json!({ "id": id, "seq": seq, "lot": lot, "status": status });
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `GET /api/harvests?limit=N`: the newest harvests still in the outbox, newest first.
async fn list(
    State(state): State<HarvestState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let limit = parse_limit(query.as_deref())
        .map_err(|message| ApiError(StatusCode::BAD_REQUEST, message))?;
    let (events, acked_seq) = state
        .api
        .outbox
        .read(move |store| {
            let events = store.recent_events("harvest", limit)?;
            Ok((events, store.counters().acked_seq))
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "Harvests could not be read from the outbox.");
            match e {
                OutboxError::Closed => unavailable(),
                _ => ApiError(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the harvests could not be read".into(),
                ),
            }
        })?;
    let harvests: Vec<Value> = events
        .into_iter()
        .filter_map(|event| shown(event, acked_seq))
        .collect();
    Ok(Json(json!({ "harvests": harvests })))
}

/// A harvest event as the list shows it; `None` for other kinds.
fn shown(event: Event, acked_seq: Seq) -> Option<Value> {
    let EventKind::Harvest(h) = event.kind else {
        return None;
    };
    Some(json!({
        "id": event.id,
        "seq": event.seq,
        "ts": event.ts,
        "room": h.room,
        "product": h.product,
        "quantity": h.quantity,
        "unit": h.unit,
        "lot": h.lot,
        "status": status(event.seq, acked_seq),
    }))
}

/// `synced` once the uplink's acknowledged watermark covers `seq`, else `pending`.
fn status(seq: Seq, acked_seq: Seq) -> &'static str {
    if seq <= acked_seq {
        "synced"
    } else {
        "pending"
    }
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

/// The event could not be committed: nothing was recorded.
fn not_recorded(e: OutboxError) -> ApiError {
    tracing::error!(error = %e, "Harvest not recorded.");
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

    #[test]
    fn synced_means_at_or_below_the_acked_watermark() {
        assert_eq!(status(7, 7), "synced");
        assert_eq!(status(7, 9), "synced");
        assert_eq!(status(8, 7), "pending");
        assert_eq!(status(1, 0), "pending");
    }
}

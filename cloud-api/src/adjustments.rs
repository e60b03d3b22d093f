//! `POST /v1/inventory/adjustments`: a change to one lot's stock that is not a sale, with
//! its reason: `spoilage` and `damage` take stock away, `correction` adds or takes.
//!
//! Body `{"lot": <id from /v1/farms/{farm}/inventory>, "delta": -1.5, "reason": "spoilage",
//! "note"?}` with an `Idempotency-Key`. The product row is locked first, as holds and
//! commits do. A lot never goes below 0 (409 `insufficient_stock`). Writing off stock that
//! is held is allowed (it is gone); such a hold then fails to commit.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::http::AppState;
use crate::request::{self, decimal, json, milli, Claim, RawBody};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    lot: i64,
    delta: f64,
    reason: Reason,
    #[serde(default)]
    note: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Reason {
    Spoilage,
    Damage,
    Correction,
}

impl Reason {
    fn name(self) -> &'static str {
        match self {
            Reason::Spoilage => "spoilage",
            Reason::Damage => "damage",
            Reason::Correction => "correction",
        }
    }
}

/// The longest note.
const MAX_NOTE: usize = 500;

/// `POST /v1/inventory/adjustments`: 201 with the adjustment and the lot's new remaining.
pub async fn create(
    State(state): State<Arc<AppState>>,
    tenant: Tenant,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let key = request::required_idempotency_key(&headers)?;
    let request: Body = request::json_body(&headers, &body)?;
    let delta = milli("delta", request.delta)?;
    match request.reason {
        Reason::Spoilage | Reason::Damage if delta >= 0 => {
            return Err(ApiError::invalid(format!(
                "delta: {} takes stock away; give a negative delta",
                request.reason.name()
            )))
        }
        _ if delta == 0 => return Err(ApiError::invalid("delta: must not be 0")),
        _ => {}
    }
    if request.note.chars().count() > MAX_NOTE {
        return Err(ApiError::invalid(format!(
            "note: at most {MAX_NOTE} characters"
        )));
    }
    let mut db = state.pool.get().await?;
    let tx = db.transaction().await?;
    let fingerprint: [&[u8]; 2] = [b"POST /v1/inventory/adjustments", &body];
    let replays = &state.metrics.idempotent_replays;
    if let Claim::Replay(answer) =
        request::claim(&tx, tenant.id, &key, &fingerprint, replays).await?
    {
        return Ok(answer);
    }
    let lot = tx
        .query_opt(
            "SELECT product_id FROM lots WHERE id = $1 AND tenant_id = $2",
            &[&request.lot, &tenant.id],
        )
        .await?
        .ok_or_else(|| ApiError::not_found(format!("lot {}", request.lot)))?;
    let product_id: i64 = lot.get(0);
    tx.execute(
        "SELECT 1 FROM products WHERE id = $1 FOR NO KEY UPDATE",
        &[&product_id],
    )
    .await?;
    let remaining: i64 = tx
        .query_one(
            "SELECT (remaining * 1000)::int8 FROM lots WHERE id = $1 FOR UPDATE",
            &[&request.lot],
        )
        .await?
        .get(0);
    if remaining + delta < 0 {
        return Err(ApiError::conflict(
            "insufficient_stock",
            format!(
                "lot {} has {} left; it cannot lose {}",
                request.lot,
                decimal(remaining),
                decimal(-delta)
            ),
        ));
    }
    let row = tx
        .query_one(
            "WITH lot AS (
                 UPDATE lots SET remaining = remaining + $2::text::numeric WHERE id = $1
                 RETURNING remaining)
             INSERT INTO inventory_adjustments (tenant_id, lot_id, delta, reason, note)
             VALUES ($3, $1, $2::text::numeric, $4, $5)
             RETURNING json_build_object('id', id, 'lot', lot_id, 'delta', delta,
                 'reason', reason, 'note', note, 'created_at', created_at,
                 'remaining', (SELECT remaining FROM lot))::text",
            &[
                &request.lot,
                &decimal(delta),
                &tenant.id,
                &request.reason.name(),
                &request.note,
            ],
        )
        .await?;
    let answer: String = row.get(0);
    request::remember(&tx, tenant.id, &key, StatusCode::CREATED, &answer).await?;
    tx.commit().await?;
    state.cache.forget(product_id);
    state.metrics.adjustments.fetch_add(1, Relaxed);
    Ok(json(StatusCode::CREATED, answer))
}

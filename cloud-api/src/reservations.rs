//! Holds on stock: `POST /v1/reservations`, `GET`/`DELETE /v1/reservations/{id}`,
//! `POST /v1/reservations/{id}/commit`.
//!
//! A hold is placed only if every item is available (unexpired stock − live holds) while
//! the items' product rows are locked, so concurrent holds on the last units are serialized
//! and never oversell. A hold counts until it is committed, released or past `expires_at`;
//! an expired hold simply stops counting (the sweeper later marks it `expired`). A commit
//! takes the stock from the product's unexpired lots, first expired first out, and records a
//! sale per lot.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::http::AppState;
use crate::request::{self, decimal, json, milli, Claim, PathParam, RawBody};

/// The most items one reservation may hold.
const MAX_ITEMS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    items: Vec<Item>,
    /// Seconds the hold lasts (default `holds.default_ttl`, at most `holds.max_ttl`).
    ttl_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    sku: String,
    quantity: f64,
}

/// The reservation as JSON text (`$1` id, `$2` tenant).
const RESERVATION_JSON: &str = "
SELECT json_build_object(
    'id', r.id,
    'status', CASE WHEN r.status = 'held' AND r.expires_at <= now() THEN 'expired'
                   ELSE r.status END,
    'expires_at', r.expires_at, 'created_at', r.created_at, 'closed_at', r.closed_at,
    'items', (SELECT json_agg(json_build_object('sku', p.sku, 'quantity', i.quantity)
                              ORDER BY p.sku)
              FROM reservation_items i JOIN products p ON p.id = i.product_id
              WHERE i.reservation_id = r.id),
    'sold', (SELECT coalesce(json_agg(json_build_object(
                        'sku', p.sku, 'lot', l.id, 'lot_code', l.lot_code,
                        'quantity', s.quantity, 'best_before', l.best_before)
                        ORDER BY s.id), '[]')
             FROM sales s JOIN lots l ON l.id = s.lot_id JOIN products p ON p.id = l.product_id
             WHERE s.reservation_id = r.id))::text
FROM reservations r WHERE r.id = $1 AND r.tenant_id = $2";

async fn reservation_json(
    db: &impl tokio_postgres::GenericClient,
    id: Uuid,
    tenant: i64,
) -> Result<String, ApiError> {
    let row = db.query_opt(RESERVATION_JSON, &[&id, &tenant]).await?;
    Ok(row
        .ok_or_else(|| ApiError::not_found(format!("reservation {id}")))?
        .get(0))
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id)
        .map_err(|_| ApiError::bad_request(format!("{id:?} is not a reservation id")))
}

/// The checked items: (sku, thousandths), each SKU once.
fn check_items(items: &[Item]) -> Result<Vec<(String, i64)>, ApiError> {
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(ApiError::invalid(format!(
            "items: give 1 to {MAX_ITEMS} items"
        )));
    }
    let mut checked: Vec<(String, i64)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let quantity = milli(&format!("items[{i}].quantity"), item.quantity)?;
        if quantity <= 0 {
            return Err(ApiError::invalid(format!(
                "items[{i}].quantity: must be more than 0"
            )));
        }
        if checked.iter().any(|(sku, _)| sku == &item.sku) {
            return Err(ApiError::invalid(format!(
                "items[{i}].sku: {:?} is listed twice",
                item.sku
            )));
        }
        checked.push((item.sku.clone(), quantity));
    }
    Ok(checked)
}

/// `POST /v1/reservations` `{"items": [{"sku", "quantity"}], "ttl_seconds"?}` with an
/// `Idempotency-Key`: 201 and the reservation, or 409 `insufficient_stock`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    tenant: Tenant,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let key = request::required_idempotency_key(&headers)?;
    let request: CreateBody = request::json_body(&headers, &body)?;
    let items = check_items(&request.items)?;
    let holds = &state.config.holds;
    let ttl = match request.ttl_seconds {
        None => holds.default_ttl.as_secs(),
        Some(s) if s >= 1 && s <= holds.max_ttl.as_secs() => s,
        Some(_) => {
            let max = holds.max_ttl.as_secs();
            return Err(ApiError::invalid(format!(
                "ttl_seconds: must be 1 to {max}"
            )));
        }
    };
    let mut db = state.pool.get().await?;
    let tx = db.transaction().await?;
    let fingerprint: [&[u8]; 2] = [b"POST /v1/reservations", &body];
    let replays = &state.metrics.idempotent_replays;
    if let Claim::Replay(answer) =
        request::claim(&tx, tenant.id, &key, &fingerprint, replays).await?
    {
        return Ok(answer);
    }
    let skus: Vec<&str> = items.iter().map(|(sku, _)| sku.as_str()).collect();
    // Lock the products in id order (so two holds never wait on each other in a cycle).
    let products = tx
        .query(
            "SELECT id, sku, unit FROM products WHERE tenant_id = $1 AND sku = ANY($2)
             ORDER BY id FOR NO KEY UPDATE",
            &[&tenant.id, &skus],
        )
        .await?;
    let mut lines = Vec::with_capacity(items.len());
    for (sku, quantity) in &items {
        let product = products
            .iter()
            .find(|p| p.get::<_, &str>(1) == sku)
            .ok_or_else(|| ApiError::not_found(format!("product {sku:?}")))?;
        if product.get::<_, &str>(2) == "each" && quantity % 1000 != 0 {
            return Err(ApiError::invalid(format!(
                "{sku}: sold by the piece; give a whole quantity"
            )));
        }
        lines.push((product.get::<_, i64>(0), sku, *quantity));
    }
    for (product_id, sku, quantity) in &lines {
        let available = available_milli(&tx, *product_id).await?;
        if available < *quantity {
            state.metrics.holds_refused.fetch_add(1, Relaxed);
            return Err(ApiError::conflict(
                "insufficient_stock",
                format!(
                    "{sku}: {} available, {} asked for",
                    decimal(available.max(0)),
                    decimal(*quantity)
                ),
            ));
        }
    }
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO reservations (id, tenant_id, status, expires_at)
         VALUES ($1, $2, 'held', now() + make_interval(secs => $3))",
        &[&id, &tenant.id, &(ttl as f64)],
    )
    .await?;
    for (product_id, _, quantity) in &lines {
        tx.execute(
            "INSERT INTO reservation_items (reservation_id, product_id, quantity, held_until)
             SELECT $1, $2, $3::text::numeric, expires_at FROM reservations WHERE id = $1",
            &[&id, product_id, &decimal(*quantity)],
        )
        .await?;
    }
    let answer = reservation_json(&*tx, id, tenant.id).await?;
    request::remember(&tx, tenant.id, &key, StatusCode::CREATED, &answer).await?;
    tx.commit().await?;
    lines.iter().for_each(|(p, _, _)| state.cache.forget(*p));
    state.metrics.holds_placed.fetch_add(1, Relaxed);
    Ok(json(StatusCode::CREATED, answer))
}

/// What of a product can still be held, thousandths (negative after spoilage of held stock).
async fn available_milli(tx: &Transaction<'_>, product_id: i64) -> Result<i64, ApiError> {
    let row = tx
        .query_one(
            "SELECT (((SELECT coalesce(sum(remaining), 0) FROM lots
                       WHERE product_id = $1 AND remaining > 0 AND best_before > now())
                    - (SELECT coalesce(sum(quantity), 0) FROM reservation_items
                       WHERE product_id = $1 AND held_until > now())) * 1000)::int8",
            &[&product_id],
        )
        .await?;
    Ok(row.get(0))
}

/// `GET /v1/reservations/{id}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    tenant: Tenant,
    PathParam(id): PathParam,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let db = state.pool.get().await?;
    Ok(json(
        StatusCode::OK,
        reservation_json(&**db, id, tenant.id).await?,
    ))
}

/// The reservation's status, locked for the rest of `tx`; 404 if absent or another
/// tenant's. A held reservation past its expiry is `expired`.
async fn lock(tx: &Transaction<'_>, id: Uuid, tenant: i64) -> Result<String, ApiError> {
    let row = tx
        .query_opt(
            "SELECT CASE WHEN status = 'held' AND expires_at <= now() THEN 'expired'
                         ELSE status END
             FROM reservations WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
            &[&id, &tenant],
        )
        .await?;
    Ok(row
        .ok_or_else(|| ApiError::not_found(format!("reservation {id}")))?
        .get(0))
}

/// Marks a reservation closed with `status`; its items stop counting as held. Returns their
/// products.
async fn close(tx: &Transaction<'_>, id: Uuid, status: &str) -> Result<Vec<i64>, ApiError> {
    tx.execute(
        "UPDATE reservations SET status = $2, closed_at = now() WHERE id = $1",
        &[&id, &status],
    )
    .await?;
    let products = tx
        .query(
            "UPDATE reservation_items SET held_until = NULL WHERE reservation_id = $1
             RETURNING product_id",
            &[&id],
        )
        .await?;
    Ok(products.iter().map(|r| r.get(0)).collect())
}

/// `DELETE /v1/reservations/{id}`: release a hold (200 again for a released or expired
/// one; 409 `reservation_committed` for a sold one).
pub async fn release(
    State(state): State<Arc<AppState>>,
    tenant: Tenant,
    PathParam(id): PathParam,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let mut db = state.pool.get().await?;
    let tx = db.transaction().await?;
    match lock(&tx, id, tenant.id).await?.as_str() {
        "committed" => {
            return Err(ApiError::conflict(
                "reservation_committed",
                "the reservation is sold; it cannot be released",
            ))
        }
        "held" => {
            let products = close(&tx, id, "released").await?;
            let answer = reservation_json(&*tx, id, tenant.id).await?;
            tx.commit().await?;
            products.into_iter().for_each(|p| state.cache.forget(p));
            state.metrics.holds_released.fetch_add(1, Relaxed);
            return Ok(json(StatusCode::OK, answer));
        }
        _ => {}
    }
    let answer = reservation_json(&*tx, id, tenant.id).await?;
    tx.commit().await?;
    Ok(json(StatusCode::OK, answer))
}

/// `POST /v1/reservations/{id}/commit`: sell what is held, from the earliest-expiring lots
/// first. Committing a committed reservation answers it again; a released or expired one
/// gets 409.
pub async fn commit(
    State(state): State<Arc<AppState>>,
    tenant: Tenant,
    PathParam(id): PathParam,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    // Committing is idempotent by itself; a key, if sent, must still be well-formed.
    request::idempotency_key(&headers)?;
    let mut db = state.pool.get().await?;
    let tx = db.transaction().await?;
    match lock(&tx, id, tenant.id).await?.as_str() {
        "held" => {}
        "committed" => {
            let answer = reservation_json(&*tx, id, tenant.id).await?;
            return Ok(json(StatusCode::OK, answer));
        }
        status => {
            return Err(ApiError::conflict(
                if status == "expired" {
                    "reservation_expired"
                } else {
                    "reservation_released"
                },
                format!("the reservation is {status}; place a new one"),
            ))
        }
    }
    let items = tx
        .query(
            "SELECT p.id, p.sku, (i.quantity * 1000)::int8
             FROM reservation_items i JOIN products p ON p.id = i.product_id
             WHERE i.reservation_id = $1 ORDER BY p.id FOR NO KEY UPDATE OF p",
            &[&id],
        )
        .await?;
    for item in &items {
        let (product_id, sku, quantity): (i64, &str, i64) = (item.get(0), item.get(1), item.get(2));
        consume_fefo(&tx, id, product_id, sku, quantity).await?;
    }
    let products = close(&tx, id, "committed").await?;
    let answer = reservation_json(&*tx, id, tenant.id).await?;
    tx.commit().await?;
    products.into_iter().for_each(|p| state.cache.forget(p));
    state.metrics.holds_committed.fetch_add(1, Relaxed);
    Ok(json(StatusCode::OK, answer))
}

/// Takes `quantity` thousandths of a product from its unexpired lots, earliest best-before
/// first, recording a sale per lot; 409 `insufficient_stock` if they hold less (stock that
/// expired or was written off while held).
async fn consume_fefo(
    tx: &Transaction<'_>,
    reservation: Uuid,
    product_id: i64,
    sku: &str,
    quantity: i64,
) -> Result<(), ApiError> {
    let lots = tx
        .query(
            "SELECT id, (remaining * 1000)::int8 FROM lots
             WHERE product_id = $1 AND remaining > 0 AND best_before > now()
             ORDER BY best_before, harvested_at, id FOR UPDATE",
            &[&product_id],
        )
        .await?;
    let mut left = quantity;
    for lot in &lots {
        if left == 0 {
            break;
        }
        let (lot_id, remaining): (i64, i64) = (lot.get(0), lot.get(1));
        let take = left.min(remaining);
        tx.execute(
            "UPDATE lots SET remaining = remaining - $2::text::numeric WHERE id = $1",
            &[&lot_id, &decimal(take)],
        )
        .await?;
        tx.execute(
            "INSERT INTO sales (reservation_id, lot_id, quantity) VALUES ($1, $2, $3::text::numeric)",
            &[&reservation, &lot_id, &decimal(take)],
        )
        .await?;
        left -= take;
    }
    if left > 0 {
        return Err(ApiError::conflict(
            "insufficient_stock",
            format!(
                "{sku}: only {} of the {} held is still in stock (expired or written off)",
                decimal(quantity - left),
                decimal(quantity)
            ),
        ));
    }
    Ok(())
}

//! Availability reads: `GET /v1/products`, `GET /v1/products/{sku}`,
//! `GET /v1/farms/{farm}/inventory`.
//!
//! Availability of a product = Σ remaining of its unexpired lots (`on_hand`) − Σ its live
//! holds (`reserved`), never below 0; `status` is `out_of_stock` at 0, `low_stock` at or
//! below the product's `low_stock_threshold`, else `in_stock`. PostgreSQL builds the JSON
//! (quantities as exact decimals, times in RFC 3339 UTC); the answers carry an `ETag` and
//! `Cache-Control` ([`crate::http::cacheable`]). One product's availability is served from
//! [`crate::cache`] while nothing changed.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::http::{cacheable, AppState};
use crate::request::PathParam;

/// One product with its availability, as JSON text, then its SKU, its id and the seconds
/// until its availability changes by the clock alone (a hold or lot expiring; NULL if
/// never). `$1` is the tenant.
const PRODUCT_JSON: &str = "
SELECT json_build_object(
    'sku', p.sku, 'name', p.name, 'unit', p.unit,
    'available', greatest(s.on_hand - r.reserved, 0),
    'status', CASE WHEN s.on_hand - r.reserved <= 0 THEN 'out_of_stock'
                   WHEN s.on_hand - r.reserved <= p.low_stock_threshold THEN 'low_stock'
                   ELSE 'in_stock' END,
    'on_hand', s.on_hand, 'reserved', r.reserved,
    'low_stock_threshold', p.low_stock_threshold,
    'next_best_before', s.next_best_before,
    'farms', s.farms)::text, p.sku, p.id,
    extract(epoch FROM (
        SELECT min(t) FROM (
            SELECT min(held_until) AS t FROM reservation_items
            WHERE product_id = p.id AND held_until > now()
            UNION ALL
            SELECT min(best_before) FROM lots
            WHERE product_id = p.id AND remaining > 0 AND best_before > now()) changes
    ) - now())::float8
FROM products p
CROSS JOIN LATERAL (
    SELECT coalesce(sum(on_hand), 0) AS on_hand, min(next_best_before) AS next_best_before,
           coalesce(json_agg(json_build_object('farm', slug, 'on_hand', on_hand,
                                               'next_best_before', next_best_before)
                             ORDER BY slug), '[]') AS farms
    FROM (SELECT f.slug, sum(l.remaining) AS on_hand, min(l.best_before) AS next_best_before
          FROM lots l JOIN farms f ON f.id = l.farm_id
          WHERE l.product_id = p.id AND l.remaining > 0 AND l.best_before > now()
          GROUP BY f.slug) per_farm
) s
CROSS JOIN LATERAL (
    SELECT coalesce(sum(quantity), 0) AS reserved FROM reservation_items
    WHERE product_id = p.id AND held_until > now()
) r
WHERE p.tenant_id = $1";

/// The fields a product has, for `fields=`.
const FIELDS: &[&str] = &[
    "sku",
    "name",
    "unit",
    "available",
    "status",
    "on_hand",
    "reserved",
    "low_stock_threshold",
    "next_best_before",
    "farms",
];

/// Page size when `limit` is not given, and the largest allowed.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// `GET /v1/products` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<String>,
}

/// `GET /v1/products/{sku}` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneQuery {
    fields: Option<String>,
}

/// The fields asked for, checked.
fn selection(fields: Option<&str>) -> Result<Option<Vec<&str>>, ApiError> {
    let Some(fields) = fields else {
        return Ok(None);
    };
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    if let Some(bad) = wanted.iter().find(|f| !FIELDS.contains(f)) {
        return Err(ApiError::invalid(format!(
            "fields: unknown field {bad:?}; choose from {}",
            FIELDS.join(",")
        )));
    }
    Ok(Some(wanted))
}

/// `product` (JSON text) cut down to `fields`.
fn select(product: String, fields: Option<&[&str]>) -> Result<String, ApiError> {
    let Some(fields) = fields else {
        return Ok(product);
    };
    let mut value: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&product)
        .map_err(|e| ApiError::unavailable("building the answer", &e))?;
    value.retain(|k, _| fields.contains(&k.as_str()));
    serde_json::to_string(&value).map_err(|e| ApiError::unavailable("building the answer", &e))
}

/// Cursors are the last SKU of the page, hex-encoded (opaque to clients).
fn encode_cursor(sku: &str) -> String {
    sku.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    let bad = || ApiError::bad_request("cursor: not a cursor from a previous page's next_cursor");
    if cursor.len() % 2 != 0 || cursor.len() > 256 {
        return Err(bad());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    String::from_utf8(bytes).map_err(|_| bad())
}

/// `GET /v1/products`: the tenant's products by SKU, a page at a time.
pub async fn list(
    State(state): State<Arc<AppState>>,
    tenant: Tenant,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "limit: must be 1 to {MAX_LIMIT}"
        )));
    }
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let fields = selection(query.fields.as_deref())?;
    let db = state.pool.get().await?;
    let sql = format!("{PRODUCT_JSON} AND p.sku > $2 ORDER BY p.sku LIMIT $3");
    let rows = db
        .query(
            &sql,
            &[
                &tenant.id,
                &after.unwrap_or_default(),
                &(i64::from(limit) + 1),
            ],
        )
        .await?;
    let more = rows.len() > limit as usize;
    let mut body = String::from("{\"products\":[");
    let mut last = None;
    for (i, row) in rows.iter().take(limit as usize).enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&select(row.get(0), fields.as_deref())?);
        last = Some(row.get::<_, String>(1));
    }
    let next = match last.filter(|_| more) {
        Some(sku) => format!("\"{}\"", encode_cursor(&sku)),
        None => "null".to_owned(),
    };
    body.push_str(&format!("],\"next_cursor\":{next}}}"));
    Ok(cacheable(&state, &headers, body))
}

/// `GET /v1/products/{sku}`: one product's availability.
pub async fn one(
    State(state): State<Arc<AppState>>,
    tenant: Tenant,
    PathParam(sku): PathParam,
    headers: HeaderMap,
    query: Result<Query<OneQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let fields = selection(query.fields.as_deref())?;
    let answer = match state.cache.get(tenant.id, &sku) {
        Some(answer) => answer,
        None => {
            let generation = state.cache.generation();
            let db = state.pool.get().await?;
            let statement = db
                .prepare_cached(&format!("{PRODUCT_JSON} AND p.sku = $2"))
                .await?;
            let row = db.query_opt(&statement, &[&tenant.id, &sku]).await?;
            let row = row.ok_or_else(|| ApiError::not_found(format!("product {sku:?}")))?;
            let answer = crate::http::answer(row.get(0));
            let valid_for = row
                .get::<_, Option<f64>>(3)
                .map(|s| Duration::try_from_secs_f64(s).unwrap_or_default());
            let key = (tenant.id, sku);
            state
                .cache
                .put(generation, key, row.get(2), answer.clone(), valid_for);
            answer
        }
    };
    if fields.is_some() {
        let body = select(answer.body.to_string(), fields.as_deref())?;
        return Ok(cacheable(&state, &headers, body));
    }
    Ok(crate::http::respond(&state, &headers, &answer))
}

/// `GET /v1/farms/{farm}/inventory`: a farm's lots with stock left, by product.
pub async fn farm_inventory(
    State(state): State<Arc<AppState>>,
    tenant: Tenant,
    PathParam(farm): PathParam,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let db = state.pool.get().await?;
    let row = db
        .query_opt(
            "SELECT json_build_object('farm', f.slug, 'name', f.name, 'products', coalesce((
                 SELECT json_agg(product ORDER BY sku) FROM (
                     SELECT p.sku, json_build_object(
                         'sku', p.sku, 'name', p.name, 'unit', p.unit,
                         'on_hand', coalesce(sum(l.remaining)
                                                 FILTER (WHERE l.best_before > now()), 0),
                         'expired', coalesce(sum(l.remaining)
                                                 FILTER (WHERE l.best_before <= now()), 0),
                         'lots', json_agg(json_build_object(
                             'id', l.id, 'lot_code', l.lot_code, 'room', l.room,
                             'quantity', l.quantity, 'remaining', l.remaining,
                             'harvested_at', l.harvested_at, 'best_before', l.best_before,
                             'expired', l.best_before <= now())
                             ORDER BY l.best_before, l.harvested_at, l.id)) AS product
                     FROM lots l JOIN products p ON p.id = l.product_id
                     WHERE l.farm_id = f.id AND l.remaining > 0
                     GROUP BY p.id) per_product), '[]'))::text
             FROM farms f WHERE f.tenant_id = $1 AND f.slug = $2",
            &[&tenant.id, &farm],
        )
        .await?;
    let row = row.ok_or_else(|| ApiError::not_found(format!("farm {farm:?}")))?;
    Ok(cacheable(&state, &headers, row.get(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        for sku in ["A", "OYS-BLUE-250g", "z.9_x"] {
            assert_eq!(decode_cursor(&encode_cursor(sku)).unwrap(), sku);
        }
        for bad in ["abc", "zz", "ff", "4", &"00".repeat(200)] {
            assert_eq!(decode_cursor(bad).unwrap_err().code, "bad_request", "{bad}");
        }
    }

    #[test]
    fn fields_select_known_keys_only() {
        assert_eq!(selection(None).unwrap(), None);
        assert_eq!(
            selection(Some("sku,available")).unwrap(),
            Some(vec!["sku", "available"])
        );
        assert_eq!(selection(Some("sku,price")).unwrap_err().code, "invalid");
        let cut = select(
            r#"{"sku":"A","name":"n","available":1.5}"#.into(),
            Some(&["available"]),
        );
        assert_eq!(cut.unwrap(), r#"{"available":1.5}"#);
    }
}

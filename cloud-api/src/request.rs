//! What the POST handlers share: reading a JSON body strictly, quantities as exact
//! thousandths, and `Idempotency-Key` (a stored answer replayed for a retry).
//!
//! An `Idempotency-Key` is claimed by inserting its row in the request's own transaction: a
//! concurrent request with the same key waits on that row and then finds the stored answer;
//! if the first request fails (and rolls back) the key is free again. The same key with a
//! different request is refused (422 `idempotency_key_reused`).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tokio_postgres::Transaction;

use crate::error::ApiError;

/// A route's one path parameter; one that does not decode (not UTF-8) is 400 `bad_request`.
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParam(value)),
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}

/// The request body as sent; over `http.max_body_kib` is 413 `too_large`.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    "the body is over http.max_body_kib",
                ))
            }
            Err(rejection) => Err(ApiError::new(
                rejection.status(),
                "bad_request",
                rejection.body_text(),
            )),
        }
    }
}

/// The body as `T`: 415 unless JSON, 400 if malformed, 422 if well-formed but wrong.
pub fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as Content-Type: application/json",
        ));
    }
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::invalid(e.to_string()),
        _ => ApiError::new(StatusCode::BAD_REQUEST, "bad_json", e.to_string()),
    })
}

/// The largest quantity in a request, in the product's unit.
const MAX_QUANTITY: f64 = 1e9;

/// `value` (named `what`) in thousandths: finite, at most 3 decimals, not beyond 1e9.
pub fn milli(what: &str, value: f64) -> Result<i64, ApiError> {
    if !value.is_finite() || value.abs() > MAX_QUANTITY {
        return Err(ApiError::invalid(format!(
            "{what}: must be a number of at most {MAX_QUANTITY:e}"
        )));
    }
    let scaled = value * 1000.0;
    let rounded = scaled.round();
    if (scaled - rounded).abs() > 1e-6 {
        return Err(ApiError::invalid(format!("{what}: at most 3 decimals")));
    }
    Ok(rounded as i64)
}

/// Thousandths as the decimal text PostgreSQL's NUMERIC takes.
pub fn decimal(milli: i64) -> String {
    let sign = if milli < 0 { "-" } else { "" };
    let abs = milli.unsigned_abs();
    format!("{sign}{}.{:03}", abs / 1000, abs % 1000)
}

/// The request's `Idempotency-Key`: 1-255 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "Idempotency-Key: use 1-255 visible ASCII characters (a UUID is a good key)",
        ));
    }
    Ok(Some(key.to_owned()))
}

/// The key, required.
pub fn required_idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    idempotency_key(headers)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_idempotency_key",
            "send an Idempotency-Key header (e.g. a new UUID per operation, reused on retry)",
        )
    })
}

/// What claiming a key found.
pub enum Claim {
    /// The key is new: go on, then [`remember`] the answer in the same transaction.
    New,
    /// A retry: this is the first request's answer.
    Replay(Response),
}

/// Claims `key` for the request `fingerprint` (method, path and body) of `tenant`; a replay
/// is counted in `replays`.
pub async fn claim(
    tx: &Transaction<'_>,
    tenant: i64,
    key: &str,
    fingerprint: &[&[u8]],
    replays: &std::sync::atomic::AtomicU64,
) -> Result<Claim, ApiError> {
    let mut hasher = Sha256::new();
    for part in fingerprint {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    let hash: [u8; 32] = hasher.finalize().into();
    let inserted = tx
        .execute(
            "INSERT INTO idempotency_keys (tenant_id, key, request_sha256, status, body)
             VALUES ($1, $2, $3, 0, '') ON CONFLICT DO NOTHING",
            &[&tenant, &key, &hash.as_slice()],
        )
        .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let row = tx
        .query_one(
            "SELECT request_sha256, status, body FROM idempotency_keys
             WHERE tenant_id = $1 AND key = $2",
            &[&tenant, &key],
        )
        .await?;
    if row.get::<_, &[u8]>(0) != hash.as_slice() {
        return Err(ApiError::invalid(
            "Idempotency-Key was used for a different request; use a new key",
        )
        .with_code("idempotency_key_reused"));
    }
    let status = StatusCode::from_u16(row.get::<_, i16>(1) as u16).unwrap_or(StatusCode::OK);
    replays.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(Claim::Replay(json(status, row.get(2))))
}

/// Stores the answer to the request that claimed `key`.
pub async fn remember(
    tx: &Transaction<'_>,
    tenant: i64,
    key: &str,
    status: StatusCode,
    body: &str,
) -> Result<(), ApiError> {
    tx.execute(
        "UPDATE idempotency_keys SET status = $3, body = $4 WHERE tenant_id = $1 AND key = $2",
        &[&tenant, &key, &(status.as_u16() as i16), &body],
    )
    .await?;
    Ok(())
}

/// A JSON answer from JSON text (PostgreSQL's, compacted).
pub fn json(status: StatusCode, body: String) -> Response {
    let body = compact(&body);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// JSON text without the whitespace PostgreSQL's `json_build_object` and `json_agg` put
/// between tokens (`{"a" : 1}` → `{"a":1}`); strings are left as they are.
pub fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_exact_thousandths() {
        assert_eq!(milli("q", 2.5).unwrap(), 2500);
        assert_eq!(milli("q", 0.001).unwrap(), 1);
        assert_eq!(milli("q", -1.25).unwrap(), -1250);
        assert_eq!(milli("q", 0.1 + 0.2).unwrap(), 300);
        for bad in [0.0005, f64::NAN, f64::INFINITY, 2e9] {
            assert_eq!(milli("q", bad).unwrap_err().code, "invalid", "{bad}");
        }
        assert_eq!(decimal(2500), "2.500");
        assert_eq!(decimal(-1), "-0.001");
        assert_eq!(decimal(0), "0.000");
    }

    #[test]
    fn compacting_keeps_strings_and_drops_whitespace_between_tokens() {
        let pg = "{\"sku\" : \"A B\", \"q\\\" x\" : [1, \n 2], \"n\" : null}";
        assert_eq!(
            compact(pg),
            "{\"sku\":\"A B\",\"q\\\" x\":[1,2],\"n\":null}"
        );
        let value: serde_json::Value = serde_json::from_str(pg).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&compact(pg)).unwrap(),
            value
        );
    }

    #[test]
    fn bodies_must_be_json_and_well_formed() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            n: u32,
        }
        let mut headers = HeaderMap::new();
        let body = Bytes::from_static(b"{\"n\": 1}");
        let e = json_body::<Body>(&headers, &body).unwrap_err();
        assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        headers.insert(
            header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert!(json_body::<Body>(&headers, &body).is_ok());
        let e = json_body::<Body>(&headers, &Bytes::from_static(b"{\"n\": ")).unwrap_err();
        assert_eq!((e.status, e.code), (StatusCode::BAD_REQUEST, "bad_json"));
        let e = json_body::<Body>(&headers, &Bytes::from_static(b"{\"n\": -1}")).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

//! Storefront API keys: `Authorization: Bearer fsk_…` → the key's tenant, and the rate limit
//! per key.
//!
//! Only a key's SHA-256 is stored (keys are 256 random bits, so no slow hash is needed). A
//! key found in PostgreSQL is trusted for `http.key_cache_ttl` before it is looked up again,
//! so a revoked key stops working within that time; unknown keys are never cached. Every
//! authenticated request takes a token from its key's bucket (`[rate_limit]`); an empty
//! bucket gets 429 with `Retry-After`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};

use crate::error::ApiError;
use crate::http::AppState;

/// The tenant a request acts for, from its API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tenant {
    /// `tenants.id`.
    pub id: i64,
    /// `api_keys.id`.
    pub key_id: i64,
}

/// Looked-up keys, by hash.
#[derive(Debug)]
pub struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<[u8; 32], (Tenant, Instant)>>,
}

/// Above this many cached keys the cache starts over (a bound on memory).
const MAX_CACHED_KEYS: usize = 10_000;

impl KeyCache {
    /// A cache trusting a lookup for `ttl`.
    pub fn new(ttl: Duration) -> KeyCache {
        KeyCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, hash: &[u8; 32]) -> Option<Tenant> {
        let entries = self.entries.lock().ok()?;
        let (tenant, at) = entries.get(hash)?;
        (at.elapsed() < self.ttl).then_some(*tenant)
    }

    fn put(&self, hash: [u8; 32], tenant: Tenant) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_CACHED_KEYS {
                entries.clear();
            }
            entries.insert(hash, (tenant, Instant::now()));
        }
    }
}

/// A token bucket per API key.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_second` sustained, `burst` at once.
    pub fn new(per_second: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_second: f64::from(per_second),
            burst: f64::from(burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`; `Err(seconds to wait)` when there is none.
    pub fn take(&self, key: i64, now: Instant) -> Result<(), u64> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let (tokens, at) = buckets.entry(key).or_insert((self.burst, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64() * self.per_second;
        *tokens = (*tokens + refill).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *tokens) / self.per_second;
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

impl FromRequestParts<Arc<AppState>> for Tenant {
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let tenant = authenticate(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if let Err(wait) = state.limiter.take(tenant.key_id, Instant::now()) {
            state
                .metrics
                .rate_limited
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests for this key; retry in {wait} s"),
            );
            return Err(([(header::RETRY_AFTER, wait.to_string())], error).into_response());
        }
        Ok(tenant)
    }
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Tenant, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized("send Authorization: Bearer <API key>"));
    };
    let key = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| unauthorized("send Authorization: Bearer <API key>"))?;
    let hash = crate::secrets::secret_hash(key);
    if let Some(tenant) = state.keys.get(&hash) {
        return Ok(tenant);
    }
    let db = state.pool.get().await?;
    let row = db
        .query_opt(
            "SELECT tenant_id, id FROM api_keys WHERE key_sha256 = $1 AND revoked_at IS NULL",
            &[&hash.as_slice()],
        )
        .await?;
    let row = row.ok_or_else(|| unauthorized("unknown or revoked API key"))?;
    let tenant = Tenant {
        id: row.get(0),
        key_id: row.get(1),
    };
    state.keys.put(hash, tenant);
    Ok(tenant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_the_sustained_rate() {
        let limiter = RateLimiter::new(10, 3);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take(1, start), Ok(()));
        }
        assert_eq!(limiter.take(1, start), Err(1));
        // Another key has its own bucket.
        assert_eq!(limiter.take(2, start), Ok(()));
        // 100 ms later one token is back (10/s), not two.
        let later = start + Duration::from_millis(100);
        assert_eq!(limiter.take(1, later), Ok(()));
        assert!(limiter.take(1, later).is_err());
    }

    #[test]
    fn a_cached_key_expires_after_the_ttl() {
        let cache = KeyCache::new(Duration::from_millis(0));
        let tenant = Tenant { id: 1, key_id: 2 };
        cache.put([7; 32], tenant);
        assert_eq!(cache.get(&[7; 32]), None);
        let cache = KeyCache::new(Duration::from_secs(60));
        cache.put([7; 32], tenant);
        assert_eq!(cache.get(&[7; 32]), Some(tenant));
        assert_eq!(cache.get(&[8; 32]), None);
    }
}

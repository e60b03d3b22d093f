//! The service's counters, rendered as Prometheus text at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

/// Per (route, status): how many requests and their total seconds.
type RequestCounts = BTreeMap<(&'static str, u16), (u64, f64)>;

/// Counters; each is bumped in one place.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests by (route, status): count and total seconds.
    requests: Mutex<RequestCounts>,
    /// Requests refused by the rate limit.
    pub rate_limited: AtomicU64,
    /// Reservations created (holds placed).
    pub holds_placed: AtomicU64,
    /// Reservations refused for lack of stock.
    pub holds_refused: AtomicU64,
    /// Reservations committed (sold).
    pub holds_committed: AtomicU64,
    /// Reservations released by the storefront.
    pub holds_released: AtomicU64,
    /// Held reservations the sweeper marked expired.
    pub holds_expired: AtomicU64,
    /// POSTs answered from a stored Idempotency-Key answer.
    pub idempotent_replays: AtomicU64,
    /// Inventory adjustments applied.
    pub adjustments: AtomicU64,
}

impl Metrics {
    /// Counts a request to `route` answered `status` after `elapsed`.
    pub fn request(&self, route: &'static str, status: u16, elapsed: Duration) {
        if let Ok(mut map) = self.requests.lock() {
            let entry = map.entry((route, status)).or_default();
            entry.0 += 1;
            entry.1 += elapsed.as_secs_f64();
        }
    }

    /// The Prometheus text exposition (with the read cache's figures).
    pub fn render(&self, cache: &crate::cache::ReadCache) -> String {
        let mut out = String::new();
        let cache_figures = [
            (
                "farm_api_read_cache_live",
                "gauge",
                "1 while availability is cached (the stock listener is connected).",
                u64::from(cache.is_live()),
            ),
            (
                "farm_api_read_cache_hits_total",
                "counter",
                "Availability reads answered from the cache.",
                cache.hits.load(Relaxed),
            ),
            (
                "farm_api_stock_notifications_total",
                "counter",
                "Stock-change notifications heard.",
                cache.notifications.load(Relaxed),
            ),
        ];
        for (name, kind, help, value) in cache_figures {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        let counters = [
            (
                "farm_api_rate_limited_total",
                "Requests refused by the per-key rate limit.",
                &self.rate_limited,
            ),
            (
                "farm_api_holds_placed_total",
                "Reservations placed.",
                &self.holds_placed,
            ),
            (
                "farm_api_holds_refused_total",
                "Reservations refused for lack of stock.",
                &self.holds_refused,
            ),
            (
                "farm_api_holds_committed_total",
                "Reservations committed (sold).",
                &self.holds_committed,
            ),
            (
                "farm_api_holds_released_total",
                "Reservations released.",
                &self.holds_released,
            ),
            (
                "farm_api_holds_expired_total",
                "Reservations that expired while held.",
                &self.holds_expired,
            ),
            (
                "farm_api_idempotent_replays_total",
                "POSTs answered from a stored Idempotency-Key answer.",
                &self.idempotent_replays,
            ),
            (
                "farm_api_adjustments_total",
                "Inventory adjustments applied.",
                &self.adjustments,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Relaxed));
        }
        let requests = self.requests.lock().map(|m| m.clone()).unwrap_or_default();
        let _ = writeln!(
            out,
            "# HELP farm_api_requests_total Requests by route and status.\n\
             # TYPE farm_api_requests_total counter"
        );
        for ((route, status), (count, _)) in &requests {
            let _ = writeln!(
                out,
                "farm_api_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP farm_api_request_seconds_total Time spent answering, by route and status.\n\
             # TYPE farm_api_request_seconds_total counter"
        );
        for ((route, status), (_, seconds)) in &requests {
            let _ = writeln!(
                out,
                "farm_api_request_seconds_total{{route=\"{route}\",status=\"{status}\"}} {seconds:.6}"
            );
        }
        out
    }
}

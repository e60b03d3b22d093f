//! The service's counters, rendered as Prometheus text at `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters; each is bumped in one place.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Batches acknowledged (200).
    pub accepted: AtomicU64,
    /// Batches refused, by code (4xx).
    rejected: std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>,
    /// Batches answered 503 (a dependency failed).
    pub unavailable: AtomicU64,
    /// Readings written to InfluxDB (resends counted again).
    pub readings_written: AtomicU64,
    /// Events stored for the first time.
    pub events_stored: AtomicU64,
    /// Gaps recorded.
    pub gaps: AtomicU64,
    /// Lots created from harvests.
    pub lots_created: AtomicU64,
    /// Harvests kept in `harvest_issues` instead.
    pub harvest_issues: AtomicU64,
}

impl Metrics {
    /// Counts a refused batch under `code`.
    pub fn reject(&self, code: &'static str) {
        if let Ok(mut map) = self.rejected.lock() {
            *map.entry(code).or_default() += 1;
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = [
            (
                "farm_sync_batches_accepted_total",
                "Batches acknowledged.",
                &self.accepted,
            ),
            (
                "farm_sync_batches_unavailable_total",
                "Batches answered 503 because InfluxDB or PostgreSQL failed.",
                &self.unavailable,
            ),
            (
                "farm_sync_readings_written_total",
                "Readings written to InfluxDB (a resent batch counts again).",
                &self.readings_written,
            ),
            (
                "farm_sync_events_stored_total",
                "Events stored for the first time.",
                &self.events_stored,
            ),
            (
                "farm_sync_gaps_total",
                "Sequence gaps recorded.",
                &self.gaps,
            ),
            (
                "farm_sync_lots_created_total",
                "Lots created from harvest events.",
                &self.lots_created,
            ),
            (
                "farm_sync_harvest_issues_total",
                "Harvest events that could not become lots (unknown SKU, unit, quantity).",
                &self.harvest_issues,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Relaxed));
        }
        let name = "farm_sync_batches_rejected_total";
        let _ = writeln!(out, "# HELP {name} Batches refused (4xx), by error code.");
        let _ = writeln!(out, "# TYPE {name} counter");
        if let Ok(map) = self.rejected.lock() {
            for (code, n) in map.iter() {
                let _ = writeln!(out, "{name}{{code=\"{code}\"}} {n}");
            }
        }
        out
    }
}

//! Ingest counters: one place that counts and rate-limits the log line for drops.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::DropReason;

/// At most one log line per this for dropped messages (with the count since the last).
const DROP_LOG_EVERY: Duration = Duration::from_secs(10);

/// Counters of the MQTT ingest.
#[derive(Debug, Default)]
pub struct IngestStats {
    /// Messages received from the broker.
    pub messages: AtomicU64,
    /// Readings accepted into the outbox.
    pub accepted: AtomicU64,
    dropped: [AtomicU64; DropReason::ALL.len()],
    log: Mutex<Option<(Instant, u64)>>,
}

impl IngestStats {
    /// Counts a dropped reading or message, and logs at most one line every 10 s.
    pub fn count_drop(&self, reason: DropReason, topic: &str) {
        self.dropped[reason.index()].fetch_add(1, Relaxed);
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        match &mut *log {
            Some((since, suppressed)) if since.elapsed() < DROP_LOG_EVERY => *suppressed += 1,
            _ => {
                let suppressed = log.map_or(0, |(_, n)| n);
                tracing::warn!(%topic, reason = reason.name(), suppressed, "MQTT telemetry dropped.");
                *log = Some((Instant::now(), 0));
            }
        }
    }

    /// Drops so far by reason, in [`DropReason::ALL`] order.
    pub fn dropped(&self) -> Vec<(DropReason, u64)> {
        DropReason::ALL
            .iter()
            .map(|r| (*r, self.dropped[r.index()].load(Relaxed)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_counted_by_reason() {
        let stats = IngestStats::default();
        for _ in 0..1000 {
            stats.count_drop(DropReason::Payload, "farm/r/n/co2");
        }
        stats.count_drop(DropReason::Name, "farm/a b/n/co2");
        let dropped = stats.dropped();
        assert!(dropped.contains(&(DropReason::Payload, 1000)));
        assert!(dropped.contains(&(DropReason::Name, 1)));
        assert!(dropped.contains(&(DropReason::Future, 0)));
    }
}

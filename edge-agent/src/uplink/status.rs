//! What the uplink is doing, shared with `/metrics` (and later the panel): one small struct
//! behind a mutex, written by the loop a few times per batch, never held across an await.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use farm_protocol::UnixMillis;

use super::outcome::ErrorKind;

/// What the uplink is doing now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SyncState {
    /// Sync is turned off in the config.
    #[default]
    Disabled,
    /// Caught up (or between batches), looking again every `interval`.
    Idle,
    /// A batch is being prepared or is in flight.
    Sending,
    /// Waiting before retrying a batch.
    BackingOff,
    /// Stopped for good until restart (token refused, or a batch refused permanently).
    Stopped,
}

/// A copy of the uplink's status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncSnapshot {
    /// What it is doing.
    pub state: SyncState,
    /// Batches delivered (answered 200) since start.
    pub batches: u64,
    /// Readings in those batches.
    pub readings: u64,
    /// Events in those batches.
    pub events: u64,
    /// When the last batch was delivered (unix ms).
    pub last_success_ms: Option<UnixMillis>,
    /// The last failure, as text (never the token).
    pub last_error: Option<String>,
    /// The kind of the last failure.
    pub last_error_kind: Option<ErrorKind>,
    /// Failures since the last delivery.
    pub consecutive_failures: u32,
    /// The wait before the next retry, while backing off.
    pub backoff: Option<Duration>,
    /// Failures by kind, in [`ErrorKind::ALL`] order.
    pub errors: [u64; ErrorKind::ALL.len()],
}

/// The shared status. `Default` is the status of a disabled uplink.
#[derive(Debug, Default)]
pub struct SyncStatus {
    inner: Mutex<SyncSnapshot>,
}

impl SyncStatus {
    /// A copy of the current status.
    pub fn snapshot(&self) -> SyncSnapshot {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Changes the status (only the uplink loop calls it).
    pub(crate) fn update(&self, change: impl FnOnce(&mut SyncSnapshot)) {
        change(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

impl SyncSnapshot {
    /// Failures of `kind` since start.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors[kind as usize]
    }

    /// Counts one failure of `kind`.
    pub(crate) fn count_error(&mut self, kind: ErrorKind) {
        self.errors[kind as usize] += 1;
    }
}

/// Appends the `farm_sync_*` families to a `/metrics` body. They are always there (zeros and
/// `farm_sync_enabled 0` when sync is off), so dashboards and alerts need no special case.
pub fn write_metrics(out: &mut String, status: &SyncStatus) {
    let s = status.snapshot();
    for (name, kind, help, value) in plain_families(&s) {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    let backoff = s.backoff.unwrap_or_default().as_secs_f64();
    let _ = writeln!(
        out,
        "# HELP farm_sync_backoff_seconds The wait before the next retry (0 if not backing off).\n# TYPE farm_sync_backoff_seconds gauge\nfarm_sync_backoff_seconds {backoff:.3}"
    );
    let _ = writeln!(
        out,
        "# HELP farm_sync_errors_total Failed sends, by kind.\n# TYPE farm_sync_errors_total counter"
    );
    for (kind, n) in ErrorKind::ALL.iter().zip(s.errors) {
        let _ = writeln!(
            out,
            "farm_sync_errors_total{{kind=\"{}\"}} {n}",
            kind.name()
        );
    }
}

/// The families with one unlabelled value: (name, type, help, value).
fn plain_families(s: &SyncSnapshot) -> [(&'static str, &'static str, &'static str, u64); 7] {
    [
        (
            "farm_sync_enabled",
            "gauge",
            "1 if [sync] is enabled.",
            u64::from(s.state != SyncState::Disabled),
        ),
        (
            "farm_sync_stopped",
            "gauge",
            "1 if syncing stopped until restart (token refused or batch rejected; see the alarm).",
            u64::from(s.state == SyncState::Stopped),
        ),
        (
            "farm_sync_batches_total",
            "counter",
            "Batches the sync-service acknowledged.",
            s.batches,
        ),
        (
            "farm_sync_readings_total",
            "counter",
            "Readings in acknowledged batches.",
            s.readings,
        ),
        (
            "farm_sync_events_total",
            "counter",
            "Events in acknowledged batches.",
            s.events,
        ),
        (
            "farm_sync_consecutive_failures",
            "gauge",
            "Failed sends since the last acknowledged batch.",
            u64::from(s.consecutive_failures),
        ),
        (
            "farm_sync_last_success_timestamp_ms",
            "gauge",
            "When a batch was last acknowledged, unix ms (0 if never).",
            s.last_success_ms
                .map_or(0, |ms| u64::try_from(ms).unwrap_or(0)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_uplink_reports_zeros() {
        let mut out = String::new();
        write_metrics(&mut out, &SyncStatus::default());
        for line in [
            "farm_sync_enabled 0",
            "farm_sync_stopped 0",
            "farm_sync_batches_total 0",
            "farm_sync_last_success_timestamp_ms 0",
            "farm_sync_backoff_seconds 0.000",
            "farm_sync_errors_total{kind=\"timeout\"} 0",
            "farm_sync_errors_total{kind=\"local\"} 0",
        ] {
            assert!(
                out.lines().any(|l| l == line),
                "{line} missing from:\n{out}"
            );
        }
    }

    #[test]
    fn counts_and_state_show_up() {
        let status = SyncStatus::default();
        status.update(|s| {
            s.state = SyncState::Stopped;
            s.batches = 3;
            s.readings = 12_000;
            s.last_success_ms = Some(1_700_000_000_000);
            s.backoff = Some(Duration::from_millis(1500));
            s.count_error(ErrorKind::Server);
            s.count_error(ErrorKind::Server);
        });
        assert_eq!(status.snapshot().errors_of(ErrorKind::Server), 2);
        let mut out = String::new();
        write_metrics(&mut out, &status);
        for line in [
            "farm_sync_enabled 1",
            "farm_sync_stopped 1",
            "farm_sync_batches_total 3",
            "farm_sync_readings_total 12000",
            "farm_sync_last_success_timestamp_ms 1700000000000",
            "farm_sync_backoff_seconds 1.500",
            "farm_sync_errors_total{kind=\"server\"} 2",
        ] {
            assert!(
                out.lines().any(|l| l == line),
                "{line} missing from:\n{out}"
            );
        }
    }
}

//! The ingest loop: every message from the broker is parsed, its drops counted, and its good
//! readings handed to the latest-state map and the outbox exactly like a local sensor's (with
//! `node` instead of `sensor` as the source). Nodes are tracked for staleness.
//!
//! [`Ingest::handle`] is the whole per-message path and needs no broker, so it is tested on
//! its own; [`Ingest::run`] feeds it from a broker link on a dedicated thread (the link's
//! receive blocks).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use farm_protocol::{EventKind, Severity, Source};
use uuid::Uuid;

use super::{parse, IngestStats, NodeChange, NodeTracker, TimeLimits};
use crate::outbox::{NewEvent, NewReading, Outbox};
use crate::state::{Latest, LatestState};

/// The topics of room-node telemetry: `farm/<room>/<node>/telemetry` and
/// `farm/<room>/<node>/<metric>`. The agent's own `farm/agent/status`, `farm/<room>/state` and
/// `farm/<room>/<node>/cmd/<actuator>` have other depths and do not match.
pub const TELEMETRY_FILTER: &str = "farm/+/+/+";

/// What the ingest writes to, shared with the rest of the agent.
#[derive(Clone)]
pub struct Ingest {
    /// Where readings go.
    pub outbox: Outbox,
    /// The latest value of every (room, metric).
    pub state: LatestState,
    /// Counters.
    pub stats: Arc<IngestStats>,
    /// Last-heard times of nodes.
    pub nodes: Arc<Mutex<NodeTracker>>,
    /// How far node clocks may be off.
    pub limits: TimeLimits,
}

impl Ingest {
    /// Handles one message received now. Blocks while the outbox queue is full (the broker
    /// then holds further messages back) rather than dropping readings.
    pub fn handle(&self, topic: &str, payload: &[u8]) {
        self.stats.messages.fetch_add(1, Relaxed);
        let now = crate::now_ms();
        let parsed = parse(topic, payload, now, self.limits);
        for reason in parsed.dropped {
            self.stats.count_drop(reason, topic);
        }
        for r in parsed.readings {
            let back = self
                .nodes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .seen(&r.room, &r.node, now);
            if let Some(change) = back {
                record_node_change(&self.outbox, change, now);
            }
            let source = Source::Node(r.node);
            let latest = Latest {
                value: r.value,
                ts: r.ts,
                source: source.clone(),
                fault: None,
            };
            self.state.update(&r.room, r.metric, latest);
            let reading = NewReading {
                ts: r.ts,
                room: r.room,
                source,
                metric: r.metric,
                value: r.value,
            };
            match self.outbox.append_reading_blocking(reading) {
                Ok(()) => {
                    self.stats.accepted.fetch_add(1, Relaxed);
                }
                Err(e) => tracing::error!(error = %e, %topic, "Room-node reading not stored."),
            }
        }
    }

    /// Checks for silent nodes every `every` until the task is dropped.
    pub async fn watch_nodes(self, timeout: Duration, every: Duration) {
        let mut ticker = tokio::time::interval(every);
        loop {
            ticker.tick().await;
            let now = crate::now_ms();
            let changes = self
                .nodes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .check(now, timeout);
            for change in changes {
                record_node_change(&self.outbox, change, now);
            }
        }
    }
}

/// Logs a node going stale or coming back and queues the alarm event.
fn record_node_change(outbox: &Outbox, change: NodeChange, now: i64) {
    let (room, active, message) = match change {
        NodeChange::Stale {
            room,
            node,
            last_seen,
        } => {
            tracing::warn!(%room, %node, last_seen, "Room node silent; its readings are stale.");
            let message = format!("node {node} silent since {last_seen} (unix ms)");
            (room, true, message)
        }
        NodeChange::Back { room, node } => {
            tracing::info!(%room, %node, "Room node publishing again.");
            (room, false, format!("node {node} is publishing again"))
        }
    };
    let kind = EventKind::Alarm {
        room: Some(room),
        code: "node_stale".into(),
        severity: Severity::Warning,
        active,
        message,
    };
    if let Err(e) = outbox.record_event(NewEvent {
        id: Uuid::new_v4(),
        ts: now,
        kind,
    }) {
        tracing::error!(error = %e, "Node alarm not recorded.");
    }
}

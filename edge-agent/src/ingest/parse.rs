//! Parsing and validating one MQTT message from a room node (DESIGN.md §3.1), as pure logic:
//! the topic and payload in, readings or the reason each was dropped out. No clock: the
//! receive time is an argument.
//!
//! - `farm/<room>/<node>/telemetry`, JSON: `{"ts": <unix ms, optional>, "readings": {"co2": 850}}`
//! - `farm/<room>/<node>/<metric>`, a bare number: `21.4`
//!
//! A message can carry good and bad readings: the good ones are kept, each bad one is
//! dropped with its reason. A message that cannot be read at all drops as a whole.

use std::time::Duration;

use farm_protocol::{is_valid_name, Metric, UnixMillis};
use serde::Deserialize;

/// Why a message or a reading was dropped. Each has its own counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The topic is not one of the two telemetry forms.
    Topic,
    /// The room or node name is empty, too long or has characters outside `[A-Za-z0-9._-]`.
    Name,
    /// The payload is not the JSON or the number its topic calls for.
    Payload,
    /// A metric the registry does not know.
    UnknownMetric,
    /// NaN, infinite, or outside the metric's physical range.
    OutOfRange,
    /// The timestamp lies too far in the future (clock skew).
    Future,
    /// The timestamp lies too far in the past.
    TooOld,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 7] = [
        DropReason::Topic,
        DropReason::Name,
        DropReason::Payload,
        DropReason::UnknownMetric,
        DropReason::OutOfRange,
        DropReason::Future,
        DropReason::TooOld,
    ];

    /// The label used in logs and `/metrics`.
    pub const fn name(self) -> &'static str {
        match self {
            DropReason::Topic => "topic",
            DropReason::Name => "name",
            DropReason::Payload => "payload",
            DropReason::UnknownMetric => "unknown_metric",
            DropReason::OutOfRange => "out_of_range",
            DropReason::Future => "future",
            DropReason::TooOld => "too_old",
        }
    }

    /// This reason's index in [`DropReason::ALL`] (which lists them in declaration order).
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// How far a node's clock may be off before its readings are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimits {
    /// A reading may be at most this far in the future.
    pub max_clock_skew: Duration,
    /// A reading may be at most this old.
    pub max_age: Duration,
}

/// One accepted reading from a node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeReading {
    /// The room, from the topic.
    pub room: String,
    /// The node, from the topic.
    pub node: String,
    /// What was measured.
    pub metric: Metric,
    /// The value.
    pub value: f64,
    /// The node's timestamp, or the receive time if it sent none.
    pub ts: UnixMillis,
}

/// What one message gave.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// The readings to keep.
    pub readings: Vec<NodeReading>,
    /// One entry per reading (or whole message) dropped.
    pub dropped: Vec<DropReason>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Telemetry {
    ts: Option<i64>,
    readings: serde_json::Map<String, serde_json::Value>,
}

/// Parses one message received at `now`.
pub fn parse(topic: &str, payload: &[u8], now: UnixMillis, limits: TimeLimits) -> Parsed {
    let mut levels = topic.split('/');
    let (Some("farm"), Some(room), Some(node), Some(last), None) = (
        levels.next(),
        levels.next(),
        levels.next(),
        levels.next(),
        levels.next(),
    ) else {
        return dropped(DropReason::Topic);
    };
    if !is_valid_name(room) || !is_valid_name(node) {
        return dropped(DropReason::Name);
    }
    let (ts, values): (Option<i64>, Vec<(String, Option<f64>)>) = if last == "telemetry" {
        match serde_json::from_slice::<Telemetry>(payload) {
            Ok(t) => (
                t.ts,
                t.readings
                    .into_iter()
                    .map(|(k, v)| (k, v.as_f64()))
                    .collect(),
            ),
            Err(_) => return dropped(DropReason::Payload),
        }
    } else {
        let number = std::str::from_utf8(payload)
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok());
        match number {
            Some(value) => (None, vec![(last.to_owned(), Some(value))]),
            None if last.parse::<Metric>().is_err() => return dropped(DropReason::UnknownMetric),
            None => return dropped(DropReason::Payload),
        }
    };
    if values.is_empty() {
        return dropped(DropReason::Payload);
    }
    if let Some(ts) = ts {
        if ts > now.saturating_add(millis(limits.max_clock_skew)) {
            return Parsed {
                readings: vec![],
                dropped: vec![DropReason::Future; values.len()],
            };
        }
        if ts < now.saturating_sub(millis(limits.max_age)) {
            return Parsed {
                readings: vec![],
                dropped: vec![DropReason::TooOld; values.len()],
            };
        }
    }
    let mut out = Parsed::default();
    for (name, value) in values {
        let Ok(metric) = name.parse::<Metric>() else {
            out.dropped.push(DropReason::UnknownMetric);
            continue;
        };
        match value {
            Some(value) if metric.is_plausible(value) => out.readings.push(NodeReading {
                room: room.to_owned(),
                node: node.to_owned(),
                metric,
                value,
                ts: ts.unwrap_or(now),
            }),
            Some(_) => out.dropped.push(DropReason::OutOfRange),
            None => out.dropped.push(DropReason::Payload),
        }
    }
    out
}

fn dropped(reason: DropReason) -> Parsed {
    Parsed {
        readings: vec![],
        dropped: vec![reason],
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;

//! The overview's model: every room's readings with their status, its actuators and its
//! active alarms, as pure data built from the latest state and the control view at `now`.
//! [`super::overview_page`] renders it as HTML; [`super::live`] sends it as JSON.
//!
//! # The status of a reading (the first rule that applies)
//! 1. `fault`: its source is failing (the latest state marks it bad); the value shown is the
//!    last good one.
//! 2. `stale`: older than the `stale_after` of a loop reading that metric in that room (the
//!    shortest, if several), else older than [`DEFAULT_STALE_AFTER`] (2 minutes).
//! 3. `out of range`: outside the target of a loop regulating that metric in that room (of
//!    every such loop, if several). A hysteresis loop's target is `setpoint ± band`: twice the
//!    half-width at which it switches, so the usual overshoot past a switching point is not
//!    flagged. A PID loop's is `setpoint ±` [`pid_tolerance`]. With no such loop: outside the
//!    metric's physical range (farm-protocol's registry).
//! 4. `in range`.

use std::collections::BTreeMap;
use std::time::Duration;

use farm_protocol::{Metric, SwitchState, UnixMillis};
use serde::Serialize;

use crate::control::ControlView;
use crate::state::Latest;

/// How old a reading of a metric no loop reads may be before it is shown as stale.
pub(super) const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(120);

/// A reading's status; serialized as `in_range`, `out_of_range`, `stale`, `fault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Status {
    InRange,
    OutOfRange,
    Stale,
    Fault,
}

impl Status {
    /// The text shown (`out of range`).
    pub(super) const fn label(self) -> &'static str {
        match self {
            Status::InRange => "in range",
            Status::OutOfRange => "out of range",
            Status::Stale => "stale",
            Status::Fault => "fault",
        }
    }

    /// The serialized name, also the CSS class suffix (`out_of_range`).
    pub(super) const fn code(self) -> &'static str {
        match self {
            Status::InRange => "in_range",
            Status::OutOfRange => "out_of_range",
            Status::Stale => "stale",
            Status::Fault => "fault",
        }
    }
}

/// One room at a glance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct RoomOverview {
    pub room: String,
    /// In metric registry order.
    pub readings: Vec<ReadingLine>,
    /// In config order.
    pub actuators: Vec<ActuatorLine>,
    pub alarms: Vec<AlarmLine>,
}

/// One current reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct ReadingLine {
    /// The wire name (`dew_point`).
    pub metric: &'static str,
    pub value: f64,
    /// The value with its unit (`91.2 %RH`).
    pub text: String,
    /// When it was measured, unix ms.
    pub ts: UnixMillis,
    pub status: Status,
    /// Why, in words: the target, the stale threshold or the fault.
    pub detail: String,
}

/// One actuator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct ActuatorLine {
    pub name: String,
    /// `on`, `off`, or `unknown` when its last switch failed.
    pub state: &'static str,
    /// The manual override in force, in words (`held on, 9 min left`).
    #[serde(rename = "override")]
    pub manual: Option<String>,
}

/// One active alarm: a loop that cannot use its input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct AlarmLine {
    #[serde(rename = "loop")]
    pub source: String,
    pub message: String,
}

/// What decides a reading's status besides the reading itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Rule {
    /// The target `(low, high)` of the loops regulating it, if any.
    pub target: Option<(f64, f64)>,
    /// Older than this is stale.
    pub stale_after: Duration,
}

impl Rule {
    /// The rule for `metric` in `room`, from the loops in `view`.
    pub(super) fn new(view: &ControlView, room: &str, metric: Metric) -> Rule {
        let mut rule = Rule {
            target: None,
            stale_after: DEFAULT_STALE_AFTER,
        };
        let mut shortest: Option<Duration> = None;
        let loops = view
            .loops
            .iter()
            .filter(|l| l.room == room && l.metric == Some(metric.name()));
        for l in loops {
            if let Some(after) = l.stale_after {
                shortest = Some(shortest.map_or(after, |s| s.min(after)));
            }
            let Some(setpoint) = l.setpoint else { continue };
            let half = match (l.kind, l.band) {
                ("hysteresis", Some(band)) => band,
                ("pid", _) => pid_tolerance(metric),
                _ => continue,
            };
            let (low, high) = (setpoint - half, setpoint + half);
            rule.target = Some(
                rule.target
                    .map_or((low, high), |(l, h)| (l.max(low), h.min(high))),
            );
        }
        rule.stale_after = shortest.unwrap_or(DEFAULT_STALE_AFTER);
        rule
    }

    /// The status of `latest`, a reading of `metric`, at `now`.
    pub(super) fn status(&self, metric: Metric, latest: &Latest, now: UnixMillis) -> Status {
        let stale_ms = i64::try_from(self.stale_after.as_millis()).unwrap_or(i64::MAX);
        let (low, high) = self.target.unwrap_or_else(|| metric.physical_range());
        if latest.fault.is_some() {
            Status::Fault
        } else if now.saturating_sub(latest.ts) > stale_ms {
            Status::Stale
        } else if !latest.value.is_finite() || latest.value < low || latest.value > high {
            Status::OutOfRange
        } else {
            Status::InRange
        }
    }

    /// Why `status`, in words.
    fn detail(&self, metric: Metric, latest: &Latest, status: Status) -> String {
        match (status, latest.fault, self.target) {
            (Status::Fault, Some(fault), _) => format!("source failing: {fault}"),
            (Status::Stale, ..) => format!("older than {}", span(self.stale_after)),
            (_, _, Some((low, high))) => format!(
                "target {} to {}",
                number(metric, low),
                value_text(metric, high)
            ),
            _ => String::new(),
        }
    }
}

/// How far a PID loop's input may be from its setpoint and still be shown as in range.
pub(super) const fn pid_tolerance(metric: Metric) -> f64 {
    match metric {
        Metric::Temperature | Metric::DewPoint => 1.0,
        Metric::Humidity | Metric::Moisture => 5.0,
        Metric::Co2 => 150.0,
        Metric::Light => 1_000.0,
        Metric::Pressure => 10.0,
        Metric::Vpd => 0.2,
    }
}

/// Every room with a reading, an actuator or a loop, by name.
pub(super) fn overview(
    readings: &[((String, Metric), Latest)],
    view: &ControlView,
    now: UnixMillis,
) -> Vec<RoomOverview> {
    let mut rooms: BTreeMap<&str, RoomOverview> = BTreeMap::new();
    let room = |name: &str| -> RoomOverview {
        RoomOverview {
            room: name.to_owned(),
            readings: Vec::new(),
            actuators: Vec::new(),
            alarms: Vec::new(),
        }
    };
    for ((name, metric), latest) in readings {
        let rule = Rule::new(view, name, *metric);
        let status = rule.status(*metric, latest, now);
        let line = ReadingLine {
            metric: metric.name(),
            value: latest.value,
            text: value_text(*metric, latest.value),
            ts: latest.ts,
            status,
            detail: rule.detail(*metric, latest, status),
        };
        rooms
            .entry(name)
            .or_insert_with(|| room(name))
            .readings
            .push(line);
    }
    for a in &view.actuators {
        let state = match a.output {
            Some(SwitchState::On) => "on",
            Some(SwitchState::Off) => "off",
            None => "unknown",
        };
        let manual = a.manual.map(|m| {
            let left = u64::try_from(m.until.saturating_sub(now)).unwrap_or(0);
            let held = if m.state == SwitchState::On {
                "on"
            } else {
                "off"
            };
            format!("held {held}, {} left", span(Duration::from_millis(left)))
        });
        let line = ActuatorLine {
            name: a.name.clone(),
            state,
            manual,
        };
        let entry = rooms.entry(&a.room).or_insert_with(|| room(&a.room));
        entry.actuators.push(line);
    }
    for l in &view.loops {
        let entry = rooms.entry(&l.room).or_insert_with(|| room(&l.room));
        if let Some(message) = &l.fault {
            entry.alarms.push(AlarmLine {
                source: l.name.clone(),
                message: message.clone(),
            });
        }
    }
    rooms.into_values().collect()
}

/// A duration in whole seconds, minutes, hours or days (`90 s`, `12 min`, `3 h`, `2 d`).
pub(super) fn span(duration: Duration) -> String {
    let s = duration.as_secs();
    match s {
        0..90 => format!("{s} s"),
        90..5_400 => format!("{} min", s / 60),
        5_400..172_800 => format!("{} h", s / 3_600),
        _ => format!("{} d", s / 86_400),
    }
}

/// How long ago `ts` was at `now` (`12 s ago`).
pub(super) fn age_text(ts: UnixMillis, now: UnixMillis) -> String {
    let ms = u64::try_from(now.saturating_sub(ts)).unwrap_or(0);
    format!("{} ago", span(Duration::from_millis(ms)))
}

fn number(metric: Metric, value: f64) -> String {
    let decimals = match metric {
        Metric::Co2 | Metric::Light | Metric::Pressure => 0,
        Metric::Vpd => 2,
        _ => 1,
    };
    format!("{value:.decimals$}")
}

/// The value with its unit, with as many decimals as the metric deserves.
pub(super) fn value_text(metric: Metric, value: f64) -> String {
    format!("{} {}", number(metric, value), metric.unit())
}

#[cfg(test)]
#[path = "overview_tests.rs"]
mod tests;

//! Things that happened on the farm. Events are never evicted from the edge outbox and each is
//! applied once in the cloud, by its `id` (DESIGN.md §3.2, §3.3).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Seq, UnixMillis};

/// One event with its identity. On the wire the kind's fields sit beside `seq`, `id`, `ts` and
/// `kind`: `{"seq":9,"id":"…","ts":…,"kind":"harvest","room":"…","product":"…",…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The device's sequence number for this event.
    pub seq: Seq,
    /// A unique id: the cloud applies each id once.
    pub id: Uuid,
    /// When it happened, ms since the Unix epoch (device clock).
    pub ts: UnixMillis,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened, with its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// A crop was harvested: becomes an inventory lot in the cloud.
    Harvest(Harvest),
    /// An actuator was switched.
    ActuatorChange {
        /// The growing room.
        room: String,
        /// The actuator's configured name.
        actuator: String,
        /// The new state.
        state: SwitchState,
        /// Why: the loop, a manual override, a safe-state fallback…
        reason: String,
    },
    /// A control loop's setpoint was changed at run time (from the panel or the API).
    SetpointChange {
        /// The growing room.
        room: String,
        /// The loop's configured name.
        #[serde(rename = "loop")]
        control_loop: String,
        /// The loop's metric (`"humidity"`).
        metric: String,
        /// The new setpoint, in the metric's unit.
        setpoint: f64,
        /// The setpoint before.
        previous: f64,
    },
    /// A control loop's settings (other than its setpoint) were changed at run time (from the
    /// panel or the API).
    LoopChange {
        /// The growing room.
        room: String,
        /// The loop's configured name.
        #[serde(rename = "loop")]
        control_loop: String,
        /// The settings that changed, by their config key (`band`, `kp`, `ki`, `kd`, `period`,
        /// `stale_after`, `on_at`, `on_for`, `every`), with their new values; durations (and
        /// `on_at`, the time since local midnight) in seconds.
        settings: BTreeMap<String, f64>,
        /// The same settings' values before, in the same units.
        previous: BTreeMap<String, f64>,
    },
    /// A manual override of an actuator was set, or ended (cleared or expired).
    Override {
        /// The growing room.
        room: String,
        /// The actuator's configured name.
        actuator: String,
        /// The state forced while the override lasts; absent when it ended.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<SwitchState>,
        /// When it expires, ms since the Unix epoch; absent when it ended.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<UnixMillis>,
        /// Why: `set`, `cleared` or `expired`, with who asked when known.
        reason: String,
    },
    /// An alarm was raised or cleared.
    Alarm {
        /// The growing room, if the alarm is about one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<String>,
        /// A stable machine-readable code (`sensor_stale`, `outbox_eviction`, …).
        code: String,
        /// How bad it is.
        severity: Severity,
        /// Whether the condition started (`true`) or ended (`false`).
        active: bool,
        /// A human-readable explanation.
        message: String,
    },
}

/// A harvest recorded by the farm manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Harvest {
    /// The growing room it came from.
    pub room: String,
    /// The product's SKU in the tenant's catalogue.
    pub product: String,
    /// How much was harvested, in `unit`.
    pub quantity: f64,
    /// The unit of `quantity` (`"kg"`, `"g"`, `"each"`…).
    pub unit: String,
    /// The farm's lot code.
    pub lot: String,
}

/// An actuator's switch state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SwitchState {
    /// Energised.
    On,
    /// De-energised.
    Off,
}

/// How urgent an alarm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Needs attention soon.
    Warning,
    /// Crop or data is at risk now.
    Critical,
}

impl EventKind {
    /// The wire name of the kind (`"harvest"`).
    pub const fn name(&self) -> &'static str {
        match self {
            EventKind::Harvest(_) => "harvest",
            EventKind::ActuatorChange { .. } => "actuator_change",
            EventKind::SetpointChange { .. } => "setpoint_change",
            EventKind::LoopChange { .. } => "loop_change",
            EventKind::Override { .. } => "override",
            EventKind::Alarm { .. } => "alarm",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn harvest() -> Event {
        Event {
            seq: 12,
            id: Uuid::from_u128(0x1234),
            ts: 1_700_000_000_000,
            kind: EventKind::Harvest(Harvest {
                room: "fruiting-1".into(),
                product: "OYS-BLUE-250".into(),
                quantity: 4.5,
                unit: "kg".into(),
                lot: "2026-11-22-A".into(),
            }),
        }
    }

    #[test]
    fn harvest_fields_sit_beside_kind_on_the_wire() {
        let json = serde_json::to_value(harvest()).unwrap();
        assert_eq!(json["kind"], "harvest");
        assert_eq!(json["product"], "OYS-BLUE-250");
        assert_eq!(json["quantity"], 4.5);
        assert_eq!(json["id"], "00000000-0000-0000-0000-000000001234");
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), harvest());
    }

    #[test]
    fn every_kind_round_trips() {
        let kinds = [
            harvest().kind,
            EventKind::ActuatorChange {
                room: "r".into(),
                actuator: "humidifier".into(),
                state: SwitchState::On,
                reason: "hysteresis".into(),
            },
            EventKind::SetpointChange {
                room: "r".into(),
                control_loop: "r-humidity".into(),
                metric: "humidity".into(),
                setpoint: 91.5,
                previous: 90.0,
            },
            EventKind::LoopChange {
                room: "r".into(),
                control_loop: "r-lights".into(),
                settings: BTreeMap::from([("on_at".into(), 21_600.0), ("on_for".into(), 43_200.0)]),
                previous: BTreeMap::from([("on_at".into(), 18_000.0), ("on_for".into(), 36_000.0)]),
            },
            EventKind::Override {
                room: "r".into(),
                actuator: "fan".into(),
                state: Some(SwitchState::On),
                until: Some(1_700_000_600_000),
                reason: "set".into(),
            },
            EventKind::Override {
                room: "r".into(),
                actuator: "fan".into(),
                state: None,
                until: None,
                reason: "expired".into(),
            },
            EventKind::Alarm {
                room: None,
                code: "outbox_eviction".into(),
                severity: Severity::Critical,
                active: true,
                message: "evicted 10 readings".into(),
            },
        ];
        for (i, kind) in kinds.into_iter().enumerate() {
            let e = Event {
                seq: i as u64,
                id: Uuid::new_v4(),
                ts: 1,
                kind,
            };
            let text = serde_json::to_string(&e).unwrap();
            assert!(text.contains(&format!("\"kind\":\"{}\"", e.kind.name())));
            assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), e);
        }
    }

    #[test]
    fn a_loop_change_names_its_loop_and_keeps_settings_by_key() {
        let kind = EventKind::LoopChange {
            room: "r".into(),
            control_loop: "r-humidity".into(),
            settings: BTreeMap::from([("band".into(), 3.0)]),
            previous: BTreeMap::from([("band".into(), 4.0)]),
        };
        let json = serde_json::to_value(&kind).unwrap();
        let expected = serde_json::json!({"kind": "loop_change", "room": "r",
            "loop": "r-humidity", "settings": {"band": 3.0}, "previous": {"band": 4.0}});
        assert_eq!(json, expected);
        assert_eq!(serde_json::from_value::<EventKind>(json).unwrap(), kind);
    }

    #[test]
    fn harvest_missing_product_is_rejected() {
        let mut json = serde_json::to_value(harvest()).unwrap();
        json.as_object_mut().unwrap().remove("product");
        let err = serde_json::from_value::<Event>(json).unwrap_err();
        assert!(err.to_string().contains("product"), "{err}");
    }
}

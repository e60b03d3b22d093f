//! The retained `farm/<room>/state` message (DESIGN.md §3.1), built as pure data from the
//! latest state and the actuators: one JSON document per room.
//!
//! ```json
//! {"room": "fruiting-1", "ts": 1800000000000,
//!  "readings": {"co2": {"value": 850.0, "ts": …, "source": {"sensor": "climate"}, "fault": null}},
//!  "actuators": {"fruiting-1-fan": "off"}, "setpoints": {}, "alarms": []}
//! ```
//! `setpoints` and `alarms` stay empty until the control loops (issue 5) fill them.

use std::collections::BTreeMap;

use farm_protocol::{Metric, SwitchState, UnixMillis};
use serde_json::{json, Map, Value};

use crate::state::Latest;

type Fields = Map<String, Value>;

/// `(room, document)` for every room that has a reading or an actuator.
pub fn room_states(
    readings: &[((String, Metric), Latest)],
    actuators: &[(String, String, Option<SwitchState>)],
    now: UnixMillis,
) -> Vec<(String, Value)> {
    // room → (readings by metric, actuator states by name)
    let mut rooms: BTreeMap<&str, (Fields, Fields)> = BTreeMap::new();
    for ((room, metric), latest) in readings {
        let source = match &latest.source {
            farm_protocol::Source::Sensor(name) => json!({ "sensor": name }),
            farm_protocol::Source::Node(name) => json!({ "node": name }),
        };
        let entry = json!({ "value": latest.value, "ts": latest.ts, "source": source, "fault": latest.fault });
        rooms
            .entry(room)
            .or_default()
            .0
            .insert(metric.name().to_owned(), entry);
    }
    for (name, room, state) in actuators {
        let state = match state {
            Some(SwitchState::On) => json!("on"),
            Some(SwitchState::Off) => json!("off"),
            None => Value::Null,
        };
        rooms.entry(room).or_default().1.insert(name.clone(), state);
    }
    rooms
        .into_iter()
        .map(|(room, (readings, actuators))| {
            let doc = json!({
                "room": room, "ts": now, "readings": readings, "actuators": actuators,
                "setpoints": {}, "alarms": [],
            });
            (room.to_owned(), doc)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use farm_protocol::Source;

    use super::*;

    #[test]
    fn one_document_per_room_with_its_readings_and_actuators() {
        let latest = |value, fault| Latest {
            value,
            ts: 5,
            source: Source::Sensor("climate".into()),
            fault,
        };
        let readings = vec![
            (("fruiting-1".to_owned(), Metric::Co2), latest(850.0, None)),
            (
                ("fruiting-1".to_owned(), Metric::Humidity),
                latest(91.0, Some("stuck")),
            ),
            (
                ("incubation-1".to_owned(), Metric::Co2),
                latest(700.0, None),
            ),
        ];
        let actuators = vec![
            (
                "fan".to_owned(),
                "fruiting-1".to_owned(),
                Some(SwitchState::Off),
            ),
            ("heater".to_owned(), "spawn-room".to_owned(), None),
        ];
        let docs = room_states(&readings, &actuators, 42);
        let rooms: Vec<&str> = docs.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(rooms, ["fruiting-1", "incubation-1", "spawn-room"]);
        let fruiting = &docs[0].1;
        assert_eq!(fruiting["readings"]["co2"]["value"], 850.0);
        assert_eq!(fruiting["readings"]["co2"]["source"]["sensor"], "climate");
        assert_eq!(fruiting["readings"]["humidity"]["fault"], "stuck");
        assert_eq!(fruiting["actuators"]["fan"], "off");
        assert_eq!(fruiting["ts"], 42);
        assert_eq!(
            docs[2].1["actuators"]["heater"],
            Value::Null,
            "unknown after a failed switch"
        );
    }
}

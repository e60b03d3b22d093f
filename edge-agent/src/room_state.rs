//! The retained `farm/<room>/state` message (DESIGN.md §3.1), built as pure data from the
//! latest state and the actuators: one JSON document per room.
//!
//! ```json
//! {"room": "fruiting-1", "ts": 1800000000000,
//!  "readings": {"co2": {"value": 850.0, "ts": …, "source": {"sensor": "climate"}, "fault": null}},
//!  "actuators": {"fruiting-1-fan": "off"},
//!  "setpoints": {"fruiting-1-co2": {"metric": "co2", "setpoint": 850.0}},
//!  "alarms": [{"loop": "fruiting-1-humidity", "message": "newest humidity reading is 2m old"}]}
//! ```
//! An actuator is `null` when its last switch failed or it could not be opened.

use std::collections::BTreeMap;

use farm_protocol::{Metric, SwitchState, UnixMillis};
use serde_json::{json, Map, Value};

use crate::control::ControlView;
use crate::state::Latest;

type Fields = Map<String, Value>;

#[derive(Default)]
struct Room {
    readings: Fields,
    actuators: Fields,
    setpoints: Fields,
    alarms: Vec<Value>,
}

/// `(room, document)` for every room that has a reading, an actuator or a loop.
pub fn room_states(
    readings: &[((String, Metric), Latest)],
    control: &ControlView,
    now: UnixMillis,
) -> Vec<(String, Value)> {
    let mut rooms: BTreeMap<&str, Room> = BTreeMap::new();
    for ((room, metric), latest) in readings {
        let source = match &latest.source {
            farm_protocol::Source::Sensor(name) => json!({ "sensor": name }),
            farm_protocol::Source::Node(name) => json!({ "node": name }),
        };
        let entry = json!({ "value": latest.value, "ts": latest.ts, "source": source, "fault": latest.fault });
        rooms
            .entry(room)
            .or_default()
            .readings
            .insert(metric.name().to_owned(), entry);
    }
    for actuator in &control.actuators {
        let state = match actuator.output {
            Some(SwitchState::On) => json!("on"),
            Some(SwitchState::Off) => json!("off"),
            None => Value::Null,
        };
        let room = rooms.entry(&actuator.room).or_default();
        room.actuators.insert(actuator.name.clone(), state);
    }
    for l in &control.loops {
        let room = rooms.entry(&l.room).or_default();
        if let (Some(metric), Some(setpoint)) = (l.metric, l.setpoint) {
            let entry = json!({ "metric": metric, "setpoint": setpoint });
            room.setpoints.insert(l.name.clone(), entry);
        }
        if let Some(message) = &l.fault {
            room.alarms
                .push(json!({ "loop": l.name, "message": message }));
        }
    }
    rooms
        .into_iter()
        .map(|(name, room)| {
            let doc = json!({
                "room": name, "ts": now, "readings": room.readings,
                "actuators": room.actuators, "setpoints": room.setpoints, "alarms": room.alarms,
            });
            (name.to_owned(), doc)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use farm_protocol::Source;

    use super::*;
    use crate::control::{ActuatorView, LoopView};

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
        let actuator = |name: &str, room: &str, output| ActuatorView {
            name: name.into(),
            room: room.into(),
            state: SwitchState::Off,
            output,
            since: 0,
            safe_state: SwitchState::Off,
            manual: None,
        };
        let control = ControlView {
            actuators: vec![
                actuator("fan", "fruiting-1", Some(SwitchState::Off)),
                actuator("heater", "spawn-room", None),
            ],
            loops: vec![LoopView {
                name: "fruiting-1-co2".into(),
                room: "fruiting-1".into(),
                actuator: "fan".into(),
                kind: "hysteresis",
                metric: Some("co2"),
                setpoint: Some(850.0),
                settings: Default::default(),
                value: None,
                duty: None,
                fault: Some("no co2 reading yet".into()),
                band: Some(100.0),
                stale_after: None,
            }],
        };
        let docs = room_states(&readings, &control, 42);
        let rooms: Vec<&str> = docs.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(rooms, ["fruiting-1", "incubation-1", "spawn-room"]);
        let fruiting = &docs[0].1;
        assert_eq!(fruiting["readings"]["co2"]["value"], 850.0);
        assert_eq!(fruiting["readings"]["co2"]["source"]["sensor"], "climate");
        assert_eq!(fruiting["readings"]["humidity"]["fault"], "stuck");
        assert_eq!(fruiting["actuators"]["fan"], "off");
        assert_eq!(fruiting["setpoints"]["fruiting-1-co2"]["setpoint"], 850.0);
        assert_eq!(fruiting["alarms"][0]["message"], "no co2 reading yet");
        assert_eq!(fruiting["ts"], 42);
        assert_eq!(
            docs[2].1["actuators"]["heater"],
            Value::Null,
            "unknown after a failed switch"
        );
    }
}

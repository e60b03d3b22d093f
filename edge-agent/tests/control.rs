//! The control loop of the running agent, seen from a room node: its readings over MQTT
//! switch its relay through a hysteresis loop; when its readings stop the relay goes to its
//! safe state with an alarm, and comes back when they return; at shutdown every relay is
//! switched to its safe state before the agent exits. What happened is in the outbox.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{config, events, start, switches, Node};
use farm_e2e::temp_dir;

/// How long a command may take: a reading wakes the loop at once, the period is 1 s.
const PROMPT: Duration = Duration::from_secs(5);

#[test]
fn room_node_readings_drive_its_relay_and_a_silent_node_gets_its_safe_state() {
    let dir = temp_dir();
    let text = config(&dir.path().join("data"), None, "stale_after = \"2s\"");
    let mut agent = start(dir.path(), &text);
    let mut node = Node::connect(agent.mqtt_port, "node-1");

    // Below the band (88) → on; above it (92) → off; below → on again.
    node.publish_humidity(80.0);
    node.expect("on", PROMPT);
    node.publish_humidity(97.0);
    node.expect("off", PROMPT);
    node.publish_humidity(80.0);
    node.expect("on", PROMPT);

    // The node falls silent: 2 s later its reading is stale and the humidifier goes off.
    let took = node.expect("off", Duration::from_secs(10));
    assert!(
        took >= Duration::from_millis(1500),
        "switched off after {took:?}, before the reading was 2 s old"
    );
    // Good readings again: the loop takes over again.
    node.publish_humidity(80.0);
    node.expect("on", PROMPT);

    agent.stop();
    let events = events(&agent.data);
    let on = "loop fruiting-1-humidity (hysteresis): humidity 80.0 < 88";
    let off = "loop fruiting-1-humidity (hysteresis): humidity 97.0 > 92";
    let stale = "safe state: loop fruiting-1-humidity: newest humidity reading is";
    let got = switches(&events);
    let expected = [
        ("off", "start-up: safe state"),
        ("on", on),
        ("off", off),
        ("on", on),
        ("off", stale),
        ("on", on),
        ("off", "shutdown: safe state"),
    ];
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for ((state, reason), (want_state, want_reason)) in got.iter().zip(expected) {
        assert_eq!(state, want_state, "{got:#?}");
        assert!(reason.starts_with(want_reason), "{reason:?} in {got:#?}");
    }

    // One alarm when the input went stale, one "cleared" when it came back. (If the node's
    // first reading came later than 2 s after start, "no humidity reading yet" was alarmed
    // and cleared as well.)
    let alarms: Vec<(bool, &str)> = events
        .iter()
        .filter(|(kind, body)| kind == "alarm" && body["code"] == "control_input_fault")
        .map(|(_, body)| {
            let message = body["message"].as_str().unwrap();
            (body["active"].as_bool().unwrap(), message)
        })
        .collect();
    let raised = |(active, message): &&(bool, &str)| *active && message.contains("reading is");
    assert_eq!(alarms.iter().filter(raised).count(), 1, "{alarms:#?}");
    let at = alarms.iter().position(|a| raised(&a)).unwrap();
    assert!(
        alarms[at]
            .1
            .contains("fruiting-1-humidifier held in its safe state (off)"),
        "{alarms:#?}"
    );
    assert_eq!(
        alarms.get(at + 1),
        Some(&(false, "loop fruiting-1-humidity: input good again")),
        "the stale alarm is cleared when readings return: {alarms:#?}"
    );
    assert_eq!(alarms.len(), at + 2, "no other alarm after it: {alarms:#?}");
    for pair in alarms.chunks(2) {
        assert!(
            pair[0].0 && pair.get(1).is_some_and(|c| !c.0),
            "{alarms:#?}"
        );
    }
}

#[test]
fn shutdown_switches_a_running_humidifier_off_before_the_agent_exits() {
    let dir = temp_dir();
    let text = config(&dir.path().join("data"), None, "");
    let mut agent = start(dir.path(), &text);
    let mut node = Node::connect(agent.mqtt_port, "node-1");
    node.publish_humidity(80.0);
    node.expect("on", PROMPT);

    agent.stop();
    // The broker lives in the agent: an `off` that arrives at all was sent before it exited.
    node.expect("off", PROMPT);

    let events = events(&agent.data);
    let got = switches(&events);
    assert_eq!(
        got.last(),
        Some(&("off".to_owned(), "shutdown: safe state".to_owned())),
        "{got:#?}"
    );
}

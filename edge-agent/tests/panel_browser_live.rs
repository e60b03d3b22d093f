//! The panel at work in a real browser (headless Chromium over WebDriver) against the
//! running agent and a room node on its MQTT broker: a reading the node publishes shows up
//! on the open overview without a reload (Server-Sent Events); on the room page a setpoint
//! typed into the form is applied (the loop switches the node's relay because of it), a bad
//! one is refused at its form with nothing changed, and a manual override holds the relay
//! until it is ended. Each change is in the outbox as an event.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (`scripts/test.sh` installs them).
#![allow(clippy::unwrap_used)]

mod common;

use common::panel::{start_agent, PASSWORD, USER};
use common::{events, Agent, Node, HUMIDIFIER, LOOP, WAIT};
use farm_e2e::browser::Browser;
use farm_e2e::{http_get, temp_dir, wait_until};
use serde_json::Value;

const HUMIDITY: &str =
    r#"[data-room="fruiting-1"] tr[data-metric="humidity"] [data-field="value"]"#;
const STATUS: &str = r#"[data-room="fruiting-1"] tr[data-metric="humidity"] [data-field="status"]"#;

fn agent(dir: &std::path::Path) -> Agent {
    start_agent(dir, "max_failures = 20", true)
}

fn base(agent: &Agent) -> String {
    format!("http://{}", agent.http)
}

/// The humidity loop as `GET /api/control` shows it.
fn humidity_loop(agent: &Agent) -> Value {
    let control: Value = serde_json::from_str(&http_get(&agent.http, "/api/control")).unwrap();
    control["loops"][0].clone()
}

/// Publishes `value` and waits until the loop has evaluated it.
fn publish(node: &Node, agent: &Agent, value: f64) {
    node.publish_humidity(value);
    wait_until("the loop has the reading", WAIT, || {
        humidity_loop(agent)["value"].as_f64() == Some(value)
    });
}

#[test]
fn a_room_node_reading_updates_the_open_overview_without_a_reload() {
    let dir = temp_dir();
    let agent = agent(dir.path());
    let node = Node::connect(agent.mqtt_port, "node-live");
    publish(&node, &agent, 89.0);
    let browser = Browser::start();
    browser.sign_in(&base(&agent), USER, PASSWORD, WAIT);
    assert_eq!(browser.find(HUMIDITY).text(), "89.0 %RH");
    assert_eq!(browser.find(STATUS).text(), "in range");
    // A mark that a reload would wipe, then wait for the stream to be open.
    browser.execute("window.farmTestMark = 'still here';", &[]);
    browser.wait_for_text("[data-field=live]", "Live", WAIT);

    node.publish_humidity(97.5);
    browser.wait_for_text(HUMIDITY, "97.5 %RH", WAIT);
    assert_eq!(browser.find(STATUS).text(), "out of range");
    assert_eq!(
        browser.execute("return window.farmTestMark;", &[]),
        "still here",
        "the page was reloaded instead of updated"
    );
}

#[test]
fn the_room_page_changes_the_setpoint_and_holds_the_actuator() {
    let dir = temp_dir();
    let mut agent = agent(dir.path());
    let mut node = Node::connect(agent.mqtt_port, "node-room");
    // 89 %RH is inside the dead band of 90 ± 2: the humidifier stays off.
    publish(&node, &agent, 89.0);
    let browser = Browser::start();
    let base = base(&agent);
    browser.sign_in(&base, USER, PASSWORD, WAIT);
    browser.find("a[href=\"/rooms/fruiting-1\"]").click();
    browser.wait_for_text("#page-title", "Room fruiting-1", WAIT);
    // The reading is on the page and in the chart of the last 24 hours.
    assert_eq!(browser.find(HUMIDITY).text(), "89.0 %RH");
    wait_until("the humidity chart", WAIT, || {
        browser.goto(&format!("{base}/rooms/fruiting-1"));
        browser.try_find("#chart-humidity-24h svg").is_some()
    });

    // A setpoint out of the physical range is refused at its form, the value kept.
    let form = format!("#loop-{LOOP}-setpoint");
    let input = format!("{form}-value");
    browser.find(&input).clear();
    browser.find(&input).send_keys("150");
    browser.find(&format!("{form} button")).click();
    let error = browser.wait_for_text(&format!("{form}-error"), "Not changed", WAIT);
    assert!(error.contains("outside the physical range"), "{error}");
    assert_eq!(browser.find(&input).property("value"), "150");
    assert_eq!(humidity_loop(&agent)["setpoint"], 90.0);

    // 95: the humidifier switches on below 93, so at 89 it goes on.
    browser.find(&input).clear();
    browser.find(&input).send_keys("95");
    browser.find(&format!("{form} button")).click();
    browser.wait_for_text(&format!("{form}-hint"), "Now 95.0 %RH", WAIT);
    assert_eq!(
        browser.path_on(&base),
        format!("/rooms/fruiting-1#loop-{LOOP}")
    );
    assert_eq!(humidity_loop(&agent)["setpoint"], 95.0);
    node.expect("on", WAIT);

    // Held off for 15 minutes beats the loop; ending the hold gives it back.
    let hold = format!("#actuator-{HUMIDIFIER}-hold");
    browser
        .find(&format!("{hold}-state option[value=off]"))
        .click();
    browser
        .find(&format!("{hold}-for option[value='15m']"))
        .click();
    browser.find(&format!("{hold} button")).click();
    let held = format!("#actuator-{HUMIDIFIER} [data-field=held]");
    let text = browser.wait_for_text(&held, "Held off until", WAIT);
    assert!(text.contains("min") && text.contains("left"), "{text}");
    node.expect("off", WAIT);
    browser
        .find(&format!("#actuator-{HUMIDIFIER}-end button"))
        .click();
    browser.wait_for_text(&held, "No override", WAIT);
    node.expect("on", WAIT);

    agent.stop();
    let logged: Vec<String> = events(&agent.data)
        .into_iter()
        .filter(|(kind, _)| kind == "setpoint_change" || kind == "override")
        .map(|(kind, body)| format!("{kind} {}", body["reason"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        logged,
        ["setpoint_change ", "override set", "override cleared"],
        "one event per change, none for the refused one"
    );
}

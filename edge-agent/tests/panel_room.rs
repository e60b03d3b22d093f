//! The room page on the running agent, over HTTP: it shows the room now, a chart of each
//! metric from the stored history (24 hours or 7 days) and forms for every loop's setpoint and
//! settings and every actuator's override. Each change posted from those forms (with the
//! session's CSRF token) is applied, survives a restart and is logged as an event before the
//! 303; each bad one gets its status and reason, the typed value kept, and changes nothing.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::panel::{get, post_form, session, start_agent_with, Answer};
use common::{events, Agent, Node, HUMIDIFIER, LOOP, WAIT};
use farm_e2e::{http_get, temp_dir, wait_until};
use serde_json::{json, Value};

const ROOM: &str = "/rooms/fruiting-1";
const LIGHTS: &str = "fruiting-1-lights";

/// Lights on a photoperiod in the same room, and a fan on an interval in another room.
const MORE: &str = r#"
[[actuators]]
name = "fruiting-1-lights"
room = "fruiting-1"
device = "lights"
kind = "mqtt"
node = "node-1"
min_on = "0s"
min_off = "0s"

[[actuators]]
name = "spawn-fan"
room = "spawn-run"
device = "fresh_air_fan"
kind = "mqtt"
node = "node-2"
min_on = "0s"
min_off = "0s"

[[loops]]
name = "fruiting-1-lights"
actuator = "fruiting-1-lights"
kind = "photoperiod"
on_at = "06:00"
on_for = "12h"

[[loops]]
name = "spawn-fresh-air"
actuator = "spawn-fan"
kind = "interval"
every = "15m"
on_for = "1m"
"#;

fn start(dir: &Path) -> Agent {
    start_agent_with(dir, "max_failures = 20", true, MORE)
}

fn control(agent: &Agent) -> Value {
    serde_json::from_str(&http_get(&agent.http, "/api/control")).unwrap()
}

/// What a person can change: each loop's setpoint and settings, each actuator's override.
fn changeable(agent: &Agent) -> Vec<Value> {
    let control = control(agent);
    let loops = control["loops"].as_array().unwrap().iter();
    let loops = loops.map(|l| json!([l["name"], l["setpoint"], l["settings"]]));
    let actuators = control["actuators"].as_array().unwrap().iter();
    loops
        .chain(actuators.map(|a| json!([a["name"], a["override"]])))
        .collect()
}

/// The loop or actuator `name` in `GET /api/control`'s `list`.
fn find(agent: &Agent, list: &str, name: &str) -> Value {
    let control = control(agent);
    let found = control[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name);
    found
        .cloned()
        .unwrap_or_else(|| panic!("no {name} in {control}"))
}

/// The room page with the session; its CSRF token.
fn page(agent: &Agent, cookie: &str, path: &str) -> (Answer, String) {
    let answer = get(agent, path, Some(cookie));
    let token = if answer.status == 200 {
        answer.csrf_field()
    } else {
        String::new()
    };
    (answer, token)
}

fn post(agent: &Agent, cookie: &str, path: &str, token: &str, form: &str) -> Answer {
    post_form(
        agent,
        path,
        Some(cookie),
        &[],
        &format!("csrf={token}&{form}"),
    )
}

#[test]
fn the_room_page_shows_the_room_its_history_and_its_forms() {
    let dir = temp_dir();
    let agent = start(dir.path());
    let node = Node::connect(agent.mqtt_port, "node-page");
    node.publish_humidity(88.5);
    wait_until("the loop has the reading", WAIT, || {
        find(&agent, "loops", LOOP)["value"] == 88.5
    });
    let cookie = session(&agent);

    let mut answer = get(&agent, ROOM, Some(&cookie));
    // The reading reaches the history at the outbox's next commit.
    wait_until("the humidity chart", WAIT, || {
        answer = get(&agent, ROOM, Some(&cookie));
        answer.body.contains("id=\"chart-humidity-24h\"")
    });
    assert_eq!(answer.status, 200);
    let body = &answer.body;
    for part in [
        "<h1 id=\"page-title\">Room fruiting-1</h1>",
        "data-overview=\"room\"",
        "<td data-field=\"value\">88.5 %RH</td>",
        "<svg",
        "role=\"img\"",
        "History, last 24 hours",
        // The setpoint form, prefilled, and the loop's settings.
        "action=\"/rooms/fruiting-1/loops/fruiting-1-humidity/setpoint\"",
        "name=\"setpoint\" type=\"text\" inputmode=\"decimal\" autocomplete=\"off\" required value=\"90\"",
        "action=\"/rooms/fruiting-1/loops/fruiting-1-humidity/settings\"",
        "name=\"band\" type=\"text\" inputmode=\"decimal\" autocomplete=\"off\" required value=\"4\"",
        "name=\"on_at\" type=\"text\" autocomplete=\"off\" required value=\"06:00\"",
        "name=\"on_for\" type=\"text\" autocomplete=\"off\" required value=\"12h\"",
        // The override forms, labelled.
        "action=\"/rooms/fruiting-1/actuators/fruiting-1-humidifier/override\"",
        "<label for=\"actuator-fruiting-1-humidifier-hold-for\">For</label>",
        "<option value=\"15m\">15 minutes</option>",
    ] {
        assert!(body.contains(part), "{part} in {body}");
    }
    // The humidifier is off: holding it on is offered first.
    let start = body.find("id=\"actuator-fruiting-1-humidifier\"").unwrap();
    let humidifier = &body[start..start + body[start..].find("</article>").unwrap()];
    assert!(
        humidifier.contains("<option value=\"on\" selected>on</option>"),
        "{humidifier}"
    );
    // Another room's loop is not on this page; no override to end yet.
    assert!(!body.contains("spawn-fresh-air"));
    assert!(!body.contains("override/end"));

    let week = get(&agent, &format!("{ROOM}?range=7d"), Some(&cookie));
    assert_eq!(week.status, 200);
    assert!(
        week.body.contains("id=\"chart-humidity-7d\""),
        "{}",
        week.body
    );
    assert!(week.body.contains("aria-current=\"page\">last 7 days</a>"));

    let missing = get(&agent, "/rooms/nowhere", Some(&cookie));
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("No such room"));
}

#[test]
fn changes_from_the_room_page_are_applied_saved_and_logged() {
    let dir = temp_dir();
    let mut agent = start(dir.path());
    let cookie = session(&agent);
    let (_, token) = page(&agent, &cookie, ROOM);
    let changes = [
        (
            format!("{ROOM}/loops/{LOOP}/setpoint"),
            "setpoint=93,5",
            format!("#loop-{LOOP}"),
        ),
        (
            format!("{ROOM}/loops/{LOOP}/settings"),
            "band=3&stale_after=90s",
            format!("#loop-{LOOP}"),
        ),
        (
            format!("{ROOM}/loops/{LIGHTS}/settings"),
            "on_at=07%3A30&on_for=12h",
            format!("#loop-{LIGHTS}"),
        ),
        (
            format!("{ROOM}/actuators/{HUMIDIFIER}/override"),
            "state=off&for=2h",
            format!("#actuator-{HUMIDIFIER}"),
        ),
    ];
    for (path, form, anchor) in &changes {
        let answer = post(&agent, &cookie, path, &token, form);
        assert_eq!(answer.status, 303, "{path} {form}: {}", answer.body);
        assert_eq!(
            answer.header("location"),
            Some(format!("{ROOM}{anchor}").as_str())
        );
    }
    let humidity = find(&agent, "loops", LOOP);
    assert_eq!(humidity["setpoint"], 93.5);
    assert_eq!(humidity["settings"]["band"], 3.0);
    assert_eq!(humidity["settings"]["stale_after"], 90.0);
    assert_eq!(
        find(&agent, "loops", LIGHTS)["settings"]["on_at"],
        7.5 * 3600.0
    );
    let held = find(&agent, "actuators", HUMIDIFIER);
    assert_eq!(held["override"]["state"], "off");
    // The page shows the hold and offers to end it.
    let (answer, _) = page(&agent, &cookie, ROOM);
    assert!(
        answer.body.contains("Held <strong>off</strong> until"),
        "{}",
        answer.body
    );
    let end = format!("{ROOM}/actuators/{HUMIDIFIER}/override/end");
    assert!(answer.body.contains(&format!("action=\"{end}\"")));
    assert_eq!(post(&agent, &cookie, &end, &token, "").status, 303);
    assert!(find(&agent, "actuators", HUMIDIFIER)["override"].is_null());

    // After a restart the changes hold.
    agent.stop();
    let mut agent = start(dir.path());
    let humidity = find(&agent, "loops", LOOP);
    assert_eq!(
        (
            humidity["setpoint"].as_f64(),
            humidity["settings"]["band"].as_f64()
        ),
        (Some(93.5), Some(3.0))
    );
    assert_eq!(
        find(&agent, "loops", LIGHTS)["settings"]["on_at"],
        7.5 * 3600.0
    );
    agent.stop();
    let logged: Vec<String> = events(&agent.data)
        .into_iter()
        .filter(|(kind, _)| ["setpoint_change", "loop_change", "override"].contains(&kind.as_str()))
        .map(|(kind, body)| match kind.as_str() {
            "setpoint_change" => format!("{kind} {} -> {}", body["previous"], body["setpoint"]),
            "loop_change" => format!(
                "{kind} {} {}",
                body["loop"].as_str().unwrap(),
                body["settings"]
            ),
            _ => format!("{kind} {}", body["reason"].as_str().unwrap()),
        })
        .collect();
    assert_eq!(
        logged,
        [
            "setpoint_change 90.0 -> 93.5".to_owned(),
            format!("loop_change {LOOP} {{\"band\":3.0,\"stale_after\":90.0}}"),
            format!("loop_change {LIGHTS} {{\"on_at\":27000.0}}"),
            "override set".to_owned(),
            "override cleared".to_owned(),
        ]
    );
}

#[test]
fn bad_changes_get_their_reason_and_change_nothing() {
    let dir = temp_dir();
    let mut agent = start(dir.path());
    let cookie = session(&agent);
    let (_, token) = page(&agent, &cookie, ROOM);
    let before = changeable(&agent);
    let setpoint = format!("{ROOM}/loops/{LOOP}/setpoint");
    let settings = format!("{ROOM}/loops/{LOOP}/settings");
    let hold = format!("{ROOM}/actuators/{HUMIDIFIER}/override");
    let cases: [(&str, &str, u16, &str); 14] = [
        (
            &setpoint,
            "setpoint=abc",
            422,
            "the setpoint must be a number, got “abc”",
        ),
        (&setpoint, "setpoint=", 422, "the setpoint must be a number"),
        (&setpoint, "", 422, "the setpoint must be a number"),
        (
            &setpoint,
            "setpoint=150",
            422,
            "outside the physical range of humidity",
        ),
        (&settings, "band=-1", 422, "band"),
        (&settings, "band=wide", 422, "Dead band must be a number"),
        (&settings, "stale_after=soon", 422, "Input stale after:"),
        (&settings, "on_at=06%3A00", 422, "on_at"),
        (&settings, "nothing=1", 422, "no settings to change"),
        (&hold, "state=maybe&for=1h", 422, "choose on or off"),
        (&hold, "state=on&for=13m", 422, "choose how long"),
        (
            "/rooms/fruiting-1/loops/spawn-fresh-air/setpoint",
            "setpoint=1",
            404,
            "has no loop named",
        ),
        (
            "/rooms/fruiting-1/loops/nope/settings",
            "band=1",
            404,
            "has no loop named",
        ),
        (
            "/rooms/nowhere/actuators/spawn-fan/override/end",
            "",
            404,
            "has no actuator named",
        ),
    ];
    for (path, form, status, needle) in cases {
        let answer = post(&agent, &cookie, path, &token, form);
        assert_eq!(answer.status, status, "{path} {form}: {}", answer.body);
        assert!(
            answer.body.contains(needle),
            "{path} {form}: {needle} in {}",
            answer.body
        );
        if status == 422 {
            assert!(answer.body.contains("role=\"alert\""), "{path} {form}");
        }
    }
    // What was typed is kept in the form.
    let answer = post(&agent, &cookie, &setpoint, &token, "setpoint=abc");
    assert!(
        answer.body.contains("required value=\"abc\""),
        "{}",
        answer.body
    );
    assert_eq!(changeable(&agent), before);
    agent.stop();
    let changes = events(&agent.data)
        .into_iter()
        .filter(|(kind, _)| ["setpoint_change", "loop_change", "override"].contains(&kind.as_str()))
        .count();
    assert_eq!(changes, 0);
}

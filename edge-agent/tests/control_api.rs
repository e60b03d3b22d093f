//! The control API of the running agent, as the panel and an operator use it: a manual
//! override beats the loop and a setpoint or loop settings change takes effect, each survives
//! a restart and is logged in the outbox; bad requests get a clear 4xx and change nothing.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{config, events, start, switches, Agent, Node, HUMIDIFIER, LOOP, TOKEN, WAIT};
use farm_e2e::{http_request, temp_dir};
use serde_json::{json, Value};

const PROMPT: Duration = Duration::from_secs(5);

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// `method path` with `token` as bearer token and `body` as JSON; the status and the body,
/// which must be JSON.
fn call(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer.as_str()));
    }
    let (status, text) = http_request(addr, method, path, &headers, body);
    let value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("{method} {path}: {status} with a body that is not JSON ({e}): {text:?}")
    });
    (status, value)
}

fn view(addr: &str) -> Value {
    let (status, body) = call(addr, "GET", "/api/control", None, None);
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls `GET /api/control` until `ready` holds; returns that view.
fn wait_for_view(addr: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let mut body = Value::Null;
    farm_e2e::wait_until("the control view", WAIT, || {
        body = view(addr);
        ready(&body)
    });
    body
}

fn start_with_token(dir: &std::path::Path) -> Agent {
    let hash = farm_broker::hash_password(TOKEN).unwrap();
    // The node hears its state again every second, also right after a restart.
    let text = config(&dir.join("data"), Some(&hash), "command_refresh = \"1s\"");
    start(dir, &text)
}

const OVERRIDE: &str = "/api/actuators/fruiting-1-humidifier/override";
const SETPOINT: &str = "/api/loops/fruiting-1-humidity/setpoint";
const SETTINGS: &str = "/api/loops/fruiting-1-humidity/settings";

/// The humidifier as `GET /api/control` shows it, without `since` (a time).
fn humidifier(view: &Value) -> Value {
    let mut shown = view["actuators"][0].clone();
    shown.as_object_mut().unwrap().remove("since");
    shown
}

/// Each `(path, body, status, fragment)`: `PUT path body` answers `status` with an error
/// containing `fragment`.
fn assert_refused(agent: &Agent, refused: &[(&str, &str, u16, &str)]) {
    for &(path, body, want, fragment) in refused {
        let (status, answer) = call(&agent.http, "PUT", path, Some(TOKEN), Some(body));
        assert_eq!(status, want, "PUT {path} {body}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(fragment), "PUT {path} {body}: {answer}");
    }
}

/// Checks that the setpoint, the loop's settings and the override are as configured, stops
/// the agent and checks that its outbox holds no setpoint or settings change or override.
fn stop_unchanged(mut agent: Agent) {
    let shown = view(&agent.http);
    assert_eq!(shown["loops"][0]["setpoint"], 90.0, "{shown:#}");
    let settings = json!({"band": 4.0, "stale_after": 60.0});
    assert_eq!(shown["loops"][0]["settings"], settings, "{shown:#}");
    assert_eq!(shown["actuators"][0]["override"], Value::Null, "{shown:#}");
    agent.stop();
    let events = events(&agent.data);
    let changes = |(kind, _): &(String, Value)| {
        ["override", "setpoint_change", "loop_change"].contains(&kind.as_str())
    };
    assert!(!events.iter().any(changes), "{events:#?}");
}

#[test]
fn an_override_beats_the_loop_and_it_and_a_new_setpoint_survive_a_restart() {
    let dir = temp_dir();
    let mut agent = start_with_token(dir.path());
    let mut node = Node::connect(agent.mqtt_port, "node-1");
    // Humid enough: the loop wants the humidifier off.
    node.publish_humidity(97.0);
    let shown = wait_for_view(&agent.http, |v| v["loops"][0]["value"] == 97.0);
    let humidifier_off = json!({"name": HUMIDIFIER, "room": "fruiting-1", "state": "off",
        "output": "off", "safe_state": "off", "override": null});
    assert_eq!(humidifier(&shown), humidifier_off, "{shown:#}");
    let control_loop = json!({"name": LOOP, "room": "fruiting-1", "actuator": HUMIDIFIER,
        "kind": "hysteresis", "metric": "humidity", "setpoint": 90.0,
        "settings": {"band": 4.0, "stale_after": 60.0}, "value": 97.0, "duty": null,
        "fault": null});
    assert_eq!(shown["loops"], json!([control_loop]), "{shown:#}");

    let before = now_ms();
    let body = r#"{"state": "on", "for": "10m"}"#;
    let (status, answer) = call(&agent.http, "PUT", OVERRIDE, Some(TOKEN), Some(body));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["events"][0]["kind"], "override", "{answer}");
    node.expect("on", PROMPT);
    let shown = wait_for_view(&agent.http, |v| v["actuators"][0]["state"] == "on");
    let until = shown["actuators"][0]["override"]["until"].as_i64().unwrap();
    let held = json!({"name": HUMIDIFIER, "room": "fruiting-1", "state": "on", "output": "on",
        "safe_state": "off", "override": {"state": "on", "until": until}});
    assert_eq!(humidifier(&shown), held, "{shown:#}");
    let ten_minutes = 600_000;
    assert!(
        (before + ten_minutes..=now_ms() + ten_minutes).contains(&until),
        "until {until} is not 10 minutes from the request"
    );

    let body = Some(r#"{"setpoint": 92.5}"#);
    let (status, answer) = call(&agent.http, "PUT", SETPOINT, Some(TOKEN), body);
    assert_eq!(status, 200, "{answer}");
    wait_for_view(&agent.http, |v| v["loops"][0]["setpoint"] == 92.5);

    // A restart on the same data dir keeps both.
    agent.stop();
    drop(node);
    let mut agent = start_with_token(dir.path());
    let mut node = Node::connect(agent.mqtt_port, "node-1");
    node.expect("on", PROMPT);
    let shown = wait_for_view(&agent.http, |v| v["actuators"][0]["state"] == "on");
    assert_eq!(humidifier(&shown), held, "{shown:#}");
    assert_eq!(shown["loops"][0]["setpoint"], 92.5, "{shown:#}");

    // Ending the override hands the humidifier back to its loop, which has no reading since
    // the restart: safe state, off.
    let (status, answer) = call(&agent.http, "DELETE", OVERRIDE, Some(TOKEN), None);
    assert_eq!(status, 200, "{answer}");
    node.expect("off", PROMPT);
    let shown = wait_for_view(&agent.http, |v| v["actuators"][0]["state"] == "off");
    assert_eq!(humidifier(&shown), humidifier_off, "{shown:#}");

    agent.stop();
    let events = events(&agent.data);
    let of = |kind: &str| -> Vec<Value> {
        let bodies = events.iter().filter(|(k, _)| k == kind);
        bodies.map(|(_, body)| body.clone()).collect()
    };
    let changes = json!({"kind": "override", "room": "fruiting-1", "actuator": HUMIDIFIER});
    let mut set = changes.clone();
    set["state"] = json!("on");
    set["until"] = json!(until);
    set["reason"] = json!("set");
    let mut cleared = changes;
    cleared["reason"] = json!("cleared");
    assert_eq!(of("override"), [set, cleared]);
    let setpoint = json!({"kind": "setpoint_change", "room": "fruiting-1", "loop": LOOP,
        "metric": "humidity", "setpoint": 92.5, "previous": 90.0});
    assert_eq!(of("setpoint_change"), [setpoint]);
    let switched = switches(&events);
    let by_override = |(state, reason): &(String, String)| {
        state == "on" && reason.starts_with("manual override until")
    };
    assert!(switched.iter().any(by_override), "{switched:#?}");
}

#[test]
fn bad_requests_get_a_clear_4xx_and_change_nothing() {
    let dir = temp_dir();
    let agent = start_with_token(dir.path());
    let (setpoint, on) = (r#"{"setpoint": 91}"#, r#"{"state": "on", "for": "10m"}"#);
    let no_token: [(&str, &str, Option<&str>, Option<&str>); 4] = [
        ("PUT", SETPOINT, None, Some(setpoint)),
        ("PUT", SETPOINT, Some("wrong"), Some(setpoint)),
        ("PUT", OVERRIDE, Some("wrong"), Some(on)),
        ("DELETE", OVERRIDE, None, None),
    ];
    for (method, path, token, body) in no_token {
        let (status, answer) = call(&agent.http, method, path, token, body);
        assert_eq!(status, 401, "{method} {path} {token:?}: {answer}");
        assert_eq!(answer["error"], "missing or wrong bearer token");
    }

    let until_past = format!(r#"{{"state": "on", "until": {}}}"#, now_ms() - 60_000);
    let both = format!(
        r#"{{"state": "on", "for": "1m", "until": {}}}"#,
        now_ms() + 60_000
    );
    let refused: [(&str, &str, u16, &str); 8] = [
        (
            "/api/loops/nope/setpoint",
            setpoint,
            404,
            "no loop named \"nope\"",
        ),
        (
            "/api/actuators/nope/override",
            on,
            404,
            "no actuator named \"nope\"",
        ),
        (
            SETPOINT,
            r#"{"setpoint": 150}"#,
            422,
            "setpoint 150 is outside the physical range",
        ),
        (
            SETPOINT,
            r#"{"setpoint": "#,
            400,
            "Failed to parse the request body as JSON",
        ),
        (
            OVERRIDE,
            r#"{"state": "on", "for": "soon"}"#,
            422,
            "\"for\": ",
        ),
        (OVERRIDE, &both, 422, "give exactly one of \"for\""),
        (
            OVERRIDE,
            &until_past,
            422,
            "an override must end between now and",
        ),
        (
            OVERRIDE,
            r#"{"state": "dim", "for": "1m"}"#,
            422,
            "Failed to deserialize",
        ),
    ];
    assert_refused(&agent, &refused);

    // Still running, and nothing changed.
    stop_unchanged(agent);
}

#[test]
fn without_a_token_hash_changes_are_refused_and_reading_works() {
    let dir = temp_dir();
    let text = config(&dir.path().join("data"), None, "");
    let agent = start(dir.path(), &text);
    for (method, path, body) in [
        ("PUT", SETPOINT, Some(r#"{"setpoint": 91}"#)),
        ("PUT", OVERRIDE, Some(r#"{"state": "on", "for": "10m"}"#)),
        ("DELETE", OVERRIDE, None),
    ] {
        let (status, answer) = call(&agent.http, method, path, Some(TOKEN), body);
        assert_eq!(status, 403, "{method} {path}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains("set http.api_token_hash"), "{answer}");
    }
    stop_unchanged(agent);
}

#[test]
fn a_loop_settings_change_takes_effect_is_logged_once_and_survives_a_restart() {
    let dir = temp_dir();
    let mut agent = start_with_token(dir.path());
    let mut node = Node::connect(agent.mqtt_port, "node-1");
    // 88.3 %RH is inside 90 ± 2 and below 90 ± 1.5.
    node.publish_humidity(88.3);
    wait_for_view(&agent.http, |v| v["loops"][0]["value"] == 88.3);
    let body = Some(r#"{"band": 3.0, "stale_after": "2m"}"#);
    let (status, answer) = call(&agent.http, "PUT", SETTINGS, Some(TOKEN), body);
    assert_eq!(status, 200, "{answer}");
    let change = json!({"kind": "loop_change", "room": "fruiting-1", "loop": LOOP,
        "settings": {"band": 3.0, "stale_after": 120.0},
        "previous": {"band": 4.0, "stale_after": 60.0}});
    assert_eq!(answer, json!({"events": [change]}));
    node.expect("on", PROMPT);
    let changed = json!({"band": 3.0, "stale_after": 120.0});
    assert_eq!(view(&agent.http)["loops"][0]["settings"], changed);
    // The same values again change nothing and log nothing.
    let (status, answer) = call(&agent.http, "PUT", SETTINGS, Some(TOKEN), body);
    assert_eq!((status, answer), (200, json!({"events": []})));

    agent.stop();
    drop(node);
    let mut agent = start_with_token(dir.path());
    assert_eq!(view(&agent.http)["loops"][0]["settings"], changed);
    agent.stop();
    let events = events(&agent.data);
    let changes: Vec<&Value> = events
        .iter()
        .filter(|(k, _)| k == "loop_change")
        .map(|(_, b)| b)
        .collect();
    assert_eq!(changes, [&change], "logged once, not again at the restart");

    // The config file's band changed since: it wins; the saved stale_after stays.
    let hash = farm_broker::hash_password(TOKEN).unwrap();
    let text = config(&dir.path().join("data"), Some(&hash), "");
    let mut agent = start(dir.path(), &text.replace("band = 4.0", "band = 5.0"));
    let shown = view(&agent.http);
    let expected = json!({"band": 5.0, "stale_after": 120.0});
    assert_eq!(shown["loops"][0]["settings"], expected, "{shown:#}");
    agent.stop();
}

#[test]
fn bad_loop_settings_get_a_clear_4xx_and_change_nothing() {
    let dir = temp_dir();
    let agent = start_with_token(dir.path());
    let band = r#"{"band": 3.0}"#;
    let (status, answer) = call(&agent.http, "PUT", SETTINGS, None, Some(band));
    assert_eq!(status, 401, "{answer}");
    let refused: [(&str, &str, u16, &str); 9] = [
        (
            "/api/loops/nope/settings",
            band,
            404,
            "no loop named \"nope\"",
        ),
        (SETTINGS, "{}", 422, "give at least one setting"),
        (
            SETTINGS,
            r#"{"kp": 0.1}"#,
            422,
            "is a hysteresis loop and has no setting \"kp\"",
        ),
        (
            SETTINGS,
            r#"{"band": -1}"#,
            422,
            "band: must be greater than 0, got -1",
        ),
        (
            SETTINGS,
            r#"{"band": 3, "stale_after": "0s"}"#,
            422,
            "stale_after: must be between 1s",
        ),
        (
            SETTINGS,
            r#"{"stale_after": "soon"}"#,
            422,
            "\"stale_after\": invalid duration",
        ),
        (
            SETTINGS,
            r#"{"on_at": "25:00"}"#,
            422,
            "\"on_at\": \"25:00\" is not a time of day",
        ),
        (
            SETTINGS,
            r#"{"setpoint": 91}"#,
            422,
            "unknown field `setpoint`",
        ),
        (
            SETTINGS,
            r#"{"band": "#,
            400,
            "Failed to parse the request body as JSON",
        ),
    ];
    assert_refused(&agent, &refused);
    stop_unchanged(agent);
}

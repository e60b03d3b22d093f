//! Room nodes publishing to the agent's embedded broker with real MQTT clients (Debian's
//! mosquitto-clients): telemetry in both forms lands in the outbox with room, node, metric,
//! value and timestamp; bad credentials are refused; the agent's status and room states are
//! retained for late subscribers.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use farm_e2e::{temp_dir, wait_for_metric, Process};
use rustix::process::Signal;

const BIN: &str = env!("CARGO_BIN_EXE_edge-agent");
const WAIT: Duration = Duration::from_secs(30);

fn config(data_dir: &Path, hash: &str) -> String {
    format!(
        r#"
[agent]
device_id = "test-pi"
data_dir = "{}"

[http]
listen = "127.0.0.1:0"

[mqtt]
enabled = true
listen = "127.0.0.1:0"
state_interval = "1s"

[[mqtt.users]]
name = "room-node"
password_hash = "{hash}"

[[actuators]]
name = "fan"
room = "fruiting-1"
device = "fresh_air_fan"
kind = "simulated"
"#,
        data_dir.display()
    )
}

/// The agent running on `extra` added to [`config`]: the process, its HTTP address, its MQTT
/// port and its data dir.
fn start(dir: &Path, extra: &str) -> (Process, String, String, PathBuf) {
    let data = dir.join("data");
    let hash = farm_broker::hash_password("s3cret").unwrap();
    let text = config(&data, &hash).replace(
        "state_interval = \"1s\"",
        &format!("state_interval = \"1s\"\n{extra}"),
    );
    std::fs::write(dir.join("c.toml"), text).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--config", "c.toml"])
        .current_dir(dir)
        .env("RUST_LOG", "info");
    let mut agent = Process::spawn("edge-agent", cmd);
    let http = agent.wait_for_address("HTTP", WAIT);
    let mqtt = agent.wait_for_address("MQTT", WAIT);
    let port = mqtt.rsplit(':').next().unwrap().to_owned();
    (agent, http, port, data)
}

/// The values of the readings in the agent's outbox, in seq order (after it stopped).
fn stored_values(data: &Path) -> Vec<f64> {
    let db = rusqlite::Connection::open(data.join("outbox.sqlite")).unwrap();
    let mut stmt = db
        .prepare("SELECT value FROM readings ORDER BY seq")
        .unwrap();
    let values = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    values
}

fn pub_(port: &str, user: &str, password: &str, topic: &str, message: &str, qos: &str) -> Output {
    Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-u",
            user,
            "-P",
            password,
            "-q",
            qos,
            "-t",
            topic,
            "-m",
            message,
        ])
        .output()
        .unwrap()
}

fn sub_one(port: &str, topic: &str) -> String {
    let out = Command::new("mosquitto_sub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-u",
            "room-node",
            "-P",
            "s3cret",
            "-t",
            topic,
            "-C",
            "1",
            "-W",
            "20",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn room_node_telemetry_lands_in_the_outbox_and_status_is_retained() {
    let dir = temp_dir();
    let (mut agent, http, port, data) = start(dir.path(), "");

    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 2_000;
    let json = format!(r#"{{"ts": {ts}, "readings": {{"temperature": 21.4, "co2": 850}}}}"#);
    let ok = pub_(
        &port,
        "room-node",
        "s3cret",
        "farm/fruiting-1/esp32-a/telemetry",
        &json,
        "1",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(pub_(
        &port,
        "room-node",
        "s3cret",
        "farm/fruiting-1/esp32-b/humidity",
        "91.5",
        "0"
    )
    .status
    .success());

    let refused = pub_(
        &port,
        "room-node",
        "wrong",
        "farm/fruiting-1/esp32-c/co2",
        "999",
        "1",
    );
    assert!(!refused.status.success(), "a wrong password is refused");
    let anonymous = Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-q",
            "1",
            "-t",
            "farm/fruiting-1/esp32-d/co2",
            "-m",
            "999",
        ])
        .output()
        .unwrap();
    assert!(
        !anonymous.status.success(),
        "anonymous access is refused by default"
    );

    assert_eq!(sub_one(&port, "farm/agent/status"), "online");
    let state: serde_json::Value =
        serde_json::from_str(&sub_one(&port, "farm/fruiting-1/state")).unwrap();
    assert_eq!(state["actuators"]["fan"], "off");

    // A PUBACK means routed, not stored: wait until the ingest has taken all three readings.
    wait_for_metric(&http, "farm_mqtt_readings_accepted_total 3", WAIT);
    let (status, log) = agent.stop(Signal::TERM, WAIT);
    assert_eq!(status.code(), Some(0), "{}", log.join("\n"));
    let db = rusqlite::Connection::open(data.join("outbox.sqlite")).unwrap();
    let mut stmt = db
        .prepare(
            "SELECT s.room, s.kind, s.name, r.metric, r.value, r.ts FROM readings r \
             JOIN sources s ON s.id = r.source ORDER BY r.seq",
        )
        .unwrap();
    let rows: Vec<(String, i64, String, u8, f64, i64)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let find = |node: &str, metric: u8| rows.iter().find(|r| r.2 == node && r.3 == metric).cloned();
    let temp = find("esp32-a", 1).expect("temperature from esp32-a");
    assert_eq!(
        (temp.0.as_str(), temp.1, temp.4, temp.5),
        ("fruiting-1", 1, 21.4, ts),
        "room, node kind, value, node ts"
    );
    assert_eq!(find("esp32-a", 3).map(|r| r.4), Some(850.0));
    assert_eq!(find("esp32-b", 2).map(|r| r.4), Some(91.5));
    assert!(
        rows.iter().all(|r| r.2 != "esp32-c" && r.2 != "esp32-d"),
        "refused clients stored nothing"
    );
}

/// A rumqttc client; a thread drives its event loop and reports each PUBACK on the channel.
fn rumqttc_client(port: u16) -> (rumqttc::Client, std::sync::mpsc::Receiver<()>) {
    let mut options = rumqttc::MqttOptions::new("bench-node", "127.0.0.1", port);
    options.set_credentials("room-node", "s3cret");
    let (client, mut connection) = rumqttc::Client::new(options, 64);
    let (acks, acked) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for event in connection.iter() {
            match event {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) => {
                    if acks.send(()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    (client, acked)
}

#[test]
fn a_thousand_malformed_payloads_over_mqtt_are_counted_and_later_readings_still_land() {
    let dir = temp_dir();
    let (mut agent, http, port, data) = start(dir.path(), "");
    let port: u16 = port.parse().unwrap();

    let (client, acked) = rumqttc_client(port);
    let qos = rumqttc::QoS::AtLeastOnce;
    let malformed: [(&str, &[u8]); 4] = [
        ("farm/fruiting-1/n1/telemetry", b"{\"readings\": [1, 2]}"),
        ("farm/fruiting-1/n1/co2", b"\xff\xfe"),
        ("farm/fruiting-1/n1/ph", b"7"),
        ("farm/fruiting-1/n1/humidity", b"-5"),
    ];
    for i in 0..1000 {
        let (topic, payload) = malformed[i % malformed.len()];
        client.publish(topic, qos, false, payload.to_vec()).unwrap();
    }
    client
        .publish(
            "farm/fruiting-1/n1/telemetry",
            qos,
            false,
            br#"{"readings": {"co2": 777}}"#.to_vec(),
        )
        .unwrap();
    client
        .publish(
            "farm/fruiting-1/n2/temperature",
            rumqttc::QoS::AtMostOnce,
            false,
            b"19.5".to_vec(),
        )
        .unwrap();
    for _ in 0..1001 {
        acked
            .recv_timeout(WAIT)
            .expect("every QoS 1 publish is acknowledged");
    }

    // The broker acknowledged everything; wait (bounded) until the ingest has handled all 1002.
    let metrics = wait_for_metric(&http, "farm_mqtt_messages_received_total 1002", WAIT);
    wait_for_metric(&http, "farm_mqtt_connected_clients 1", WAIT);
    for line in [
        "farm_mqtt_readings_accepted_total 2",
        "farm_mqtt_dropped_total{reason=\"payload\"} 500",
        "farm_mqtt_dropped_total{reason=\"unknown_metric\"} 250",
        "farm_mqtt_dropped_total{reason=\"out_of_range\"} 250",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    drop(client);
    let (status, log) = agent.stop(Signal::TERM, WAIT);
    assert_eq!(status.code(), Some(0), "{}", log.join("\n"));
    let values = stored_values(&data);
    assert_eq!(values, [777.0, 19.5]);
}

#[test]
fn a_payload_over_the_maximum_is_refused_and_stores_nothing() {
    let dir = temp_dir();
    let (mut agent, http, port, data) = start(dir.path(), "max_payload = \"1KiB\"");
    let big = format!(
        "{{\"readings\": {{\"co2\": 900}}, \"pad\": \"{}\"}}",
        "x".repeat(4096)
    );
    let out = pub_(
        &port,
        "room-node",
        "s3cret",
        "farm/fruiting-1/big/telemetry",
        &big,
        "1",
    );
    assert!(
        !out.status.success(),
        "the broker disconnects a client that sends too much"
    );
    let ok = pub_(
        &port,
        "room-node",
        "s3cret",
        "farm/fruiting-1/small/co2",
        "901",
        "1",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // A PUBACK means routed, not stored: wait for the ingest before stopping.
    wait_for_metric(&http, "farm_mqtt_readings_accepted_total 1", WAIT);
    let (status, _) = agent.stop(Signal::TERM, WAIT);
    assert_eq!(status.code(), Some(0));
    let values = stored_values(&data);
    assert_eq!(
        values,
        [901.0],
        "only the message within the limit was stored"
    );
}

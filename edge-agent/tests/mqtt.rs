//! Room nodes publishing to the agent's embedded broker with real MQTT clients (Debian's
//! mosquitto-clients): telemetry in both forms lands in the outbox with room, node, metric,
//! value and timestamp; bad credentials are refused; the agent's status and room states are
//! retained for late subscribers.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use farm_e2e::{temp_dir, Process};
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
listen = ""

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
    let data = dir.path().join("data");
    let hash = farm_broker::hash_password("s3cret").unwrap();
    std::fs::write(dir.path().join("c.toml"), config(&data, &hash)).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--config", "c.toml"])
        .current_dir(dir.path())
        .env("RUST_LOG", "info");
    let mut agent = Process::spawn("edge-agent", cmd);
    let line = agent.wait_for_line("service=MQTT", WAIT);
    let port = line.rsplit(':').next().unwrap().trim().to_owned();

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

    // Wait until the ingest has seen both nodes, then stop and look at the outbox.
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

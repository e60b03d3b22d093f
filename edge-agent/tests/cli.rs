//! The `edge-agent` binary as a technician and systemd use it: `--version`, `generate-config`,
//! `validate`, and `run` stopped by SIGTERM/SIGINT.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use farm_e2e::{http_get, temp_dir, Process};
use rustix::process::Signal;

const BIN: &str = env!("CARGO_BIN_EXE_edge-agent");
const WAIT: Duration = Duration::from_secs(30);

fn edge_agent(args: &[&str], cwd: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn config(data_dir: &Path) -> String {
    format!(
        r#"
[agent]
device_id = "test-pi"
data_dir = "{}"

[outbox]
commit_interval = "50ms"

[simulation]
speed = 600.0

[http]
listen = "127.0.0.1:0"

[mqtt]
enabled = false

[[sensors]]
name = "climate-a"
kind = "simulated"
room = "fruiting-1"
interval = "100ms"

[[sensors]]
name = "light-a"
kind = "simulated"
room = "fruiting-1"
interval = "100ms"
metrics = ["light"]

[[actuators]]
name = "fan-a"
room = "fruiting-1"
device = "fresh_air_fan"
kind = "simulated"
"#,
        data_dir.display()
    )
}

#[test]
fn version_names_the_binary_and_its_version() {
    let out = edge_agent(&["--version"], Path::new("."));
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("edge-agent {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn generated_config_validates_and_validation_creates_nothing() {
    let dir = temp_dir();
    let out = edge_agent(&["generate-config"], dir.path());
    assert!(out.status.success());
    std::fs::write(dir.path().join("config.toml"), &out.stdout).unwrap();
    let out = edge_agent(&["validate", "--config", "config.toml"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
    // The example's data_dir is ./farm-data: validate must not create it.
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, vec!["config.toml"]);
}

#[test]
fn a_bad_config_is_refused_by_validate_and_run_listing_every_problem() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    let text = config(&data)
        .replace(
            "commit_interval = \"50ms\"",
            "commit_interval = \"soon\"\ncolour = \"green\"",
        )
        .replace("name = \"light-a\"", "name = \"climate-a\"");
    std::fs::write(dir.path().join("bad.toml"), text).unwrap();
    for cmd in ["validate", "run"] {
        let out = edge_agent(&[cmd, "--config", "bad.toml"], dir.path());
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        for key in ["outbox.commit_interval", "outbox.colour", "sensors[1].name"] {
            assert!(
                err.contains(&format!("bad.toml: {key}")),
                "{cmd}: {key} missing from:\n{err}"
            );
        }
        assert!(!data.exists(), "{cmd} created the data dir of a bad config");
    }
}

#[test]
fn an_unwritable_data_dir_is_refused_before_anything_is_created() {
    let dir = temp_dir();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    std::fs::write(dir.path().join("c.toml"), config(&file.join("data"))).unwrap();
    let out = edge_agent(&["run", "--config", "c.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("c.toml: agent.data_dir"));
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}

fn run_until(signal: Signal) {
    let dir = temp_dir();
    let data = dir.path().join("data");
    std::fs::write(dir.path().join("c.toml"), config(&data)).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--config", "c.toml"])
        .current_dir(dir.path())
        .env("RUST_LOG", "info");
    let mut agent = Process::spawn("edge-agent", cmd);
    agent.wait_for_line("Sensor online. sensor=climate-a", WAIT);
    agent.wait_for_line("Sensor online. sensor=light-a", WAIT);
    let (status, log) = agent.stop(signal, WAIT);
    assert_eq!(status.code(), Some(0), "{}", log.join("\n"));

    // Every reading taken before the signal was flushed: the count the agent reports is in the file.
    let flushed = log.iter().find(|l| l.contains("Outbox flushed")).unwrap();
    let committed: i64 = flushed
        .split("committed_seq=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let db = rusqlite::Connection::open(data.join("outbox.sqlite")).unwrap();
    let rows: i64 = db
        .query_row(
            "SELECT (SELECT count(*) FROM readings) + (SELECT count(*) FROM events)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        committed >= 8,
        "climate (3 metrics + VPD + dew point), light and two actuator events"
    );
    assert_eq!(rows, committed);
    let sensors: i64 = db
        .query_row("SELECT count(DISTINCT name) FROM sources", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sensors, 2);
    // The actuator was put in its safe state at start-up and again at shutdown, on record.
    let mut stmt = db
        .prepare("SELECT body FROM events WHERE kind = 'actuator_change' ORDER BY seq")
        .unwrap();
    let reasons: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|body| {
            serde_json::from_str::<serde_json::Value>(&body.unwrap()).unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(reasons, ["start-up: safe state", "shutdown: safe state"]);
}

#[test]
fn sigterm_flushes_the_outbox_and_exits_zero() {
    run_until(Signal::TERM);
}

#[test]
fn sigint_flushes_the_outbox_and_exits_zero() {
    run_until(Signal::INT);
}

#[test]
fn a_foreign_file_at_the_outbox_path_is_refused_and_left_alone() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let foreign = rusqlite::Connection::open(data.join("outbox.sqlite")).unwrap();
    foreign
        .execute_batch("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup');")
        .unwrap();
    drop(foreign);
    let before = std::fs::read(data.join("outbox.sqlite")).unwrap();
    std::fs::write(dir.path().join("c.toml"), config(&data)).unwrap();
    let out = edge_agent(&["run", "--config", "c.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an edge-agent outbox"), "{err}");
    assert!(err.contains("outbox.sqlite"), "{err}");
    assert_eq!(std::fs::read(data.join("outbox.sqlite")).unwrap(), before);
}

#[test]
fn sensors_read_prints_one_line_per_sensor_and_fails_if_one_cannot_be_read() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("c.toml"), config(&dir.path().join("data"))).unwrap();
    let out = edge_agent(&["sensors", "read", "--config", "c.toml"], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("climate-a") && l.contains("vpd=") && l.contains("dew_point=")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("light-a") && l.contains("light=")),
        "{text}"
    );

    let missing = config(&dir.path().join("data")).replace(
        "kind = \"simulated\"\nroom = \"fruiting-1\"\ninterval = \"100ms\"\nmetrics = [\"light\"]",
        "kind = \"bh1750\"\nroom = \"fruiting-1\"\nbus = \"/dev/i2c-97\"",
    );
    std::fs::write(dir.path().join("hw.toml"), missing).unwrap();
    let out = edge_agent(&["sensors", "read", "--config", "hw.toml"], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let line = text.lines().find(|l| l.starts_with("light-a")).unwrap();
    assert!(
        line.contains("FAILED") && line.contains("/dev/i2c-97") && line.contains("(absent)"),
        "{line}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "reading sensors creates no outbox"
    );
}

#[test]
fn i2c_scan_of_a_missing_bus_says_how_to_enable_it() {
    let out = edge_agent(&["i2c", "scan", "--bus", "/dev/i2c-97"], Path::new("."));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/dev/i2c-97") && err.contains("i2c-dev"),
        "{err}"
    );
}

#[test]
fn metrics_are_served_in_prometheus_text_on_the_http_port() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("c.toml"), config(&dir.path().join("data"))).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--config", "c.toml"])
        .current_dir(dir.path())
        .env("RUST_LOG", "info");
    let mut agent = Process::spawn("edge-agent", cmd);
    let addr = agent.wait_for_address("HTTP", WAIT);
    agent.wait_for_line("Sensor online. sensor=climate-a", WAIT);
    let body = http_get(&addr, "/metrics");
    for family in [
        "# TYPE farm_mqtt_messages_received_total counter",
        "farm_mqtt_dropped_total{reason=\"unknown_metric\"} 0",
        "# TYPE farm_outbox_depth gauge",
        "# TYPE farm_outbox_oldest_unsynced_age_seconds gauge",
        "farm_sensor_faults_total{sensor=\"climate-a\"} 0",
    ] {
        assert!(body.contains(family), "{family} missing from:\n{body}");
    }
    let readings: u64 = body
        .lines()
        .find_map(|l| l.strip_prefix("farm_sensor_readings_total{sensor=\"climate-a\"} "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        readings >= 5,
        "the first read (3 metrics + VPD + dew point) is counted"
    );
    let (status, log) = agent.stop(Signal::TERM, WAIT);
    assert_eq!(status.code(), Some(0), "{}", log.join("\n"));
}

//! An edge agent (simulated sensors and a fan on a timer) syncing to a [`Cloud`], and the
//! check the exactly-once tests end with: after the outbox is drained, InfluxDB holds
//! exactly the readings the outbox committed and PostgreSQL exactly its events.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use farm_e2e::cloud::{Cloud, DEVICE, INFLUX_DB, TENANT};
use farm_e2e::{temp_dir, workspace_bin, Process, Storefront, TempDir};
use farm_protocol::Metric;
use rustix::process::Signal;

pub const WAIT: Duration = Duration::from_secs(60);

/// A running (or stopped) agent in its own dir, whose data stays across restarts.
pub struct Edge {
    pub process: Option<Process>,
    pub http: String,
    /// Lines added to `[sync]` (e.g. `ca_file`).
    pub sync_extra: String,
    /// Lines added to `[http]` (e.g. `api_token_hash`).
    pub http_extra: String,
    /// Sections added at the end (e.g. `[[products]]`).
    pub extra: String,
    dir: TempDir,
}

/// What the agent runs: sensors and the fan, or nothing (only the uplink, to drain).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Farm {
    Running,
    Idle,
}

/// `sync_url` is `host:port` (plain HTTP) or a whole URL; `edge`'s extras go in `[sync]`,
/// `[http]` and at the end.
fn config(data: &Path, sync_url: &str, sync: bool, farm: Farm, edge: &Edge) -> String {
    let url = if sync_url.contains("://") {
        sync_url.to_owned()
    } else {
        format!("http://{sync_url}")
    };
    let farm = match farm {
        Farm::Idle => String::new(),
        Farm::Running => r#"
[[sensors]]
name = "climate-a"
kind = "simulated"
room = "fruiting-1"
interval = "100ms"

[[sensors]]
name = "climate-b"
kind = "simulated"
room = "fruiting-2"
interval = "100ms"

[[actuators]]
name = "fan"
room = "fruiting-1"
device = "fresh_air_fan"
kind = "simulated"
min_on = "0s"
min_off = "0s"

[[loops]]
name = "fresh-air"
actuator = "fan"
kind = "interval"
every = "2s"
on_for = "1s"
"#
        .to_owned(),
    };
    format!(
        r#"
[agent]
device_id = "{DEVICE}"
data_dir = "{data}"

[outbox]
commit_interval = "50ms"

[simulation]
speed = 60.0

[http]
listen = "127.0.0.1:0"
{http_extra}
{farm}
[sync]
enabled = {sync}
url = "{url}"
token_file = "token"
batch_readings = 50
interval = "200ms"
timeout = "2s"
max_backoff = "1s"
{sync_extra}
{extra}
"#,
        data = data.join("data").display(),
        sync_extra = edge.sync_extra,
        http_extra = edge.http_extra,
        extra = edge.extra,
    )
}

impl Edge {
    /// A new agent dir with the cloud's device token; not started.
    pub fn new(cloud: &Cloud) -> Edge {
        let dir = temp_dir();
        std::fs::write(dir.path().join("token"), &cloud.token).expect("write the token");
        Edge {
            process: None,
            http: String::new(),
            sync_extra: String::new(),
            http_extra: String::new(),
            extra: String::new(),
            dir,
        }
    }

    /// Starts the agent syncing to `sync_url` (if `sync`), running `farm`.
    pub fn start(&mut self, sync_url: &str, sync: bool, farm: Farm) {
        let text = config(self.dir.path(), sync_url, sync, farm, self);
        std::fs::write(self.dir.path().join("edge.toml"), text).expect("write the config");
        let mut command = Command::new(workspace_bin("edge-agent"));
        command
            .args(["run", "--config", "edge.toml"])
            .current_dir(self.dir.path())
            .env("RUST_LOG", "info");
        let mut process = Process::spawn("edge-agent", command);
        self.http = process.wait_for_address("HTTP", WAIT);
        self.process = Some(process);
    }

    /// A value from the agent's /metrics (the exact series name, labels included); 0 if absent.
    pub fn metric(&self, series: &str) -> u64 {
        farm_e2e::metric(&self.http, series).map_or(0, |v| v as u64)
    }

    /// Polls until `ready` holds (bounded by [`WAIT`]).
    pub fn wait_for(&self, what: &str, ready: impl Fn(&Edge) -> bool) {
        farm_e2e::wait_until(what, WAIT, || ready(self));
    }

    pub fn acked(&self) -> u64 {
        self.metric("farm_outbox_acked_seq")
    }

    pub fn committed(&self) -> u64 {
        self.metric("farm_outbox_committed_seq")
    }

    /// SIGTERM (must exit 0) or SIGKILL.
    pub fn stop(&mut self, signal: Signal) -> Vec<String> {
        let mut process = self.process.take().expect("the agent runs");
        let (status, log) = process.stop(signal, WAIT);
        if signal == Signal::TERM {
            assert_eq!(status.code(), Some(0), "{}", log.join("\n"));
        }
        log
    }

    /// Stops the running farm (SIGTERM), then runs the uplink alone until everything
    /// committed is acknowledged, and stops it.
    pub fn drain(&mut self, sync_url: &str) {
        if self.process.is_some() {
            self.stop(Signal::TERM);
        }
        self.start(sync_url, true, Farm::Idle);
        let committed = self.committed();
        assert!(committed > 0, "nothing was committed");
        self.wait_for("everything acknowledged", |e| e.acked() == committed);
        self.stop(Signal::TERM);
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("data").join("outbox.sqlite")
    }
}

/// The argon2 hash of `secret`, from the agent's own CLI (`mqtt hash-password`), for the
/// agent's API token and panel users.
pub fn hash(secret: &str) -> String {
    let mut child = Command::new(workspace_bin("edge-agent"))
        .args(["mqtt", "hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run edge-agent mqtt hash-password");
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(secret.as_bytes()).expect("send the secret");
    drop(stdin);
    let output = child.wait_with_output().expect("wait for the hash");
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .trim()
        .to_owned()
}

/// cloud-api on the cloud's database with product `OYS-BLUE` (Blue oyster, kg, 7 days'
/// shelf life) in [`TENANT`]'s catalogue; the storefront and an API key of the tenant.
pub fn storefront_selling_blue_oyster(cloud: &Cloud) -> (Storefront, String) {
    let storefront = Storefront::start_on(&cloud.postgres.url("sync"), "");
    storefront.admin(&[
        "product",
        "add",
        "--tenant",
        TENANT,
        "--sku",
        "OYS-BLUE",
        "--name",
        "Blue oyster",
        "--unit",
        "kg",
        "--shelf-life-days",
        "7",
    ]);
    let key = storefront.key(TENANT);
    (storefront, key)
}

/// One reading as both sides know it: (metric, room, sensor, ts, value bits).
type Point = (String, String, String, i64, u64);

/// Every reading in the outbox, sorted.
fn outbox_points(outbox: &Path) -> Vec<Point> {
    let db = rusqlite::Connection::open(outbox).expect("open the outbox");
    let mut stmt = db
        .prepare(
            "SELECT r.metric, s.room, s.name, r.ts, r.value FROM readings r \
             JOIN sources s ON s.id = r.source",
        )
        .expect("prepare");
    let rows = stmt
        .query_map([], |r| {
            let code: u8 = r.get(0)?;
            let metric = Metric::from_code(code).expect("a known metric").name();
            let value: f64 = r.get(4)?;
            Ok((
                metric.to_owned(),
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                value.to_bits(),
            ))
        })
        .expect("query");
    let mut points: Vec<Point> = rows.map(|r| r.expect("a row")).collect();
    points.sort_unstable();
    points
}

/// Every point in InfluxDB, sorted.
fn influx_points(cloud: &Cloud) -> Vec<Point> {
    let answer = cloud
        .influxd
        .query(INFLUX_DB, "SELECT value, room, sensor FROM /.*/");
    let mut points = Vec::new();
    let series = answer["results"][0]["series"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for s in series {
        let measurement = s["name"].as_str().expect("a name").to_owned();
        for row in s["values"].as_array().expect("values") {
            let value = row[1].as_f64().expect("a float value");
            points.push((
                measurement.clone(),
                row[2].as_str().expect("room").to_owned(),
                row[3].as_str().expect("sensor").to_owned(),
                row[0].as_i64().expect("ms"),
                value.to_bits(),
            ));
        }
    }
    points.sort_unstable();
    points
}

/// After the drain: InfluxDB holds exactly the outbox's readings (none lost, none doubled)
/// and PostgreSQL exactly its events. Returns (readings, events).
pub fn assert_exactly_once(cloud: &Cloud, edge: &Edge) -> (usize, usize) {
    let committed = outbox_points(&edge.outbox());
    let stored = influx_points(cloud);
    if committed != stored {
        let count = |p: &[Point]| {
            let mut by: BTreeMap<String, usize> = BTreeMap::new();
            for point in p {
                *by.entry(point.0.clone()).or_default() += 1;
            }
            by
        };
        panic!(
            "InfluxDB differs from the outbox: outbox {} {:?}, InfluxDB {} {:?}",
            committed.len(),
            count(&committed),
            stored.len(),
            count(&stored)
        );
    }
    let db = rusqlite::Connection::open(edge.outbox()).expect("open the outbox");
    let mut stmt = db.prepare("SELECT id FROM events").expect("prepare");
    let mut events: Vec<String> = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .expect("query")
        .map(|id| uuid_text(&id.expect("an id")))
        .collect();
    events.sort_unstable();
    let cloud_events = cloud.sql("SELECT event_id FROM device_events ORDER BY event_id");
    let cloud_events: Vec<&str> = cloud_events.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(events, cloud_events, "events in the outbox vs PostgreSQL");
    (committed.len(), events.len())
}

fn uuid_text(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

//! The uplink end to end: the real agent binary, with simulated sensors, syncing to the
//! scripted sync-service of `sync_service/` that runs in the test.
#![allow(clippy::unwrap_used)]

mod sync_service;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use farm_e2e::{http_get, temp_dir, Process};
use rustix::process::Signal;
use sync_service::{Recorded, Reply, Service, WAIT};

const BIN: &str = env!("CARGO_BIN_EXE_edge-agent");
const TOKEN: &str = "tok-e2e-2f9c1b7d-secret";

/// The config: two fast simulated sensors (~100 readings/s), no actuators (so no events),
/// `/metrics` on a free port, and `sync` as the body of `[sync]` (empty: sync off).
fn config(data: &Path, sync: &str) -> String {
    format!(
        r#"
[agent]
device_id = "test-pi"
data_dir = "{}"

[outbox]
commit_interval = "50ms"

[simulation]
speed = 60.0

[http]
listen = "127.0.0.1:0"

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

[sync]
{sync}
"#,
        data.display()
    )
}

/// `[sync]` for `service` with the token in `token` (a path relative to the agent's working
/// directory) and `extra` keys.
fn sync_to(service: &Service, extra: &str) -> String {
    format!(
        "enabled = true\nurl = \"http://{}\"\ntoken_file = \"token\"\n{extra}",
        service.addr
    )
}

/// A running agent in `dir` (config `c.toml`, token file `token`, data dir `data`).
struct Agent {
    process: Process,
    http: String,
}

fn start(dir: &Path, config: &str, log: &str) -> Agent {
    std::fs::write(dir.join("token"), format!("{TOKEN}\n")).unwrap();
    std::fs::write(dir.join("c.toml"), config).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--config", "c.toml"])
        .current_dir(dir)
        .env("RUST_LOG", log);
    let mut process = Process::spawn("edge-agent", cmd);
    let http = process.wait_for_address("HTTP", WAIT);
    Agent { process, http }
}

impl Agent {
    /// SIGTERM; expects exit 0 within a few seconds; returns the log, checked for the token.
    fn stop(mut self) -> Vec<String> {
        let asked = Instant::now();
        let (status, log) = self.process.stop(Signal::TERM, WAIT);
        assert_eq!(status.code(), Some(0), "{}", log.join("\n"));
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "shutdown waited {:?}",
            asked.elapsed()
        );
        assert!(
            log.iter().all(|line| !line.contains(TOKEN)),
            "the token was logged"
        );
        log
    }

    /// The value of the unlabelled metric `name`.
    fn metric(&self, name: &str) -> u64 {
        let value = farm_e2e::metric(&self.http, name);
        value.unwrap_or_else(|| panic!("no {name} in /metrics")) as u64
    }

    /// Waits until the metric `name` is at least `min`.
    fn wait_metric(&self, name: &str, min: u64) {
        let what = format!("{name} >= {min}");
        farm_e2e::wait_until(&what, WAIT, || self.metric(name) >= min);
    }
}

/// Runs the agent without sync until its outbox holds at least `rows`; returns the last seq.
fn fill_outbox(dir: &Path, rows: u64) -> u64 {
    let agent = start(dir, &config(&dir.join("data"), "enabled = false"), "info");
    assert_eq!(agent.metric("farm_sync_enabled"), 0);
    agent.wait_metric("farm_outbox_committed_seq", rows);
    agent.stop();
    meta(&dir.join("data"), "next_seq") - 1
}

/// A value of the outbox's `meta` table (read after the agent stopped).
fn meta(data: &Path, key: &str) -> u64 {
    let db = rusqlite::Connection::open(data.join("outbox.sqlite")).unwrap();
    db.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .unwrap()
}

/// The alarm events in the outbox: (code, severity, message).
fn alarms(data: &Path) -> Vec<(String, String, String)> {
    let db = rusqlite::Connection::open(data.join("outbox.sqlite")).unwrap();
    let mut stmt = db
        .prepare("SELECT body FROM events WHERE kind = 'alarm' ORDER BY seq")
        .unwrap();
    let bodies: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    bodies
        .iter()
        .map(|body| {
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            let text = |k: &str| v[k].as_str().unwrap().to_owned();
            (text("code"), text("severity"), text("message"))
        })
        .collect()
}

/// Every request carries the token, gzip JSON, and a valid batch of this device.
fn check_wire_format(requests: &[Recorded], max_readings: usize) {
    for r in requests {
        assert_eq!(
            r.authorization.as_deref(),
            Some(&*format!("Bearer {TOKEN}"))
        );
        assert_eq!(r.content_encoding.as_deref(), Some("gzip"));
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        r.batch.validate().unwrap();
        assert_eq!(r.batch.device_id, "test-pi");
        assert!(
            r.batch.readings.len() <= max_readings,
            "{:?}",
            r.batch.readings.len()
        );
    }
}

#[test]
fn a_backlog_is_sent_in_seq_order_at_full_speed_and_acked() {
    let dir = temp_dir();
    let backlog = fill_outbox(dir.path(), 300);
    let service = Service::start(Vec::new());
    // interval = 1h: had the uplink waited between batches, the backlog would not drain.
    let agent = start(
        dir.path(),
        &config(
            &dir.path().join("data"),
            &sync_to(&service, "batch_readings = 50\ninterval = \"1h\""),
        ),
        "info",
    );
    let requests = service.wait_for("the backlog", |r| {
        r.iter().any(|r| r.batch.last_seq >= backlog)
    });
    agent.wait_metric("farm_outbox_acked_seq", backlog);
    assert!(agent.metric("farm_sync_batches_total") >= 6);
    assert!(agent.metric("farm_sync_last_success_timestamp_ms") > 0);
    let log = agent.stop();

    check_wire_format(&requests, 50);
    assert_eq!(requests[0].batch.first_seq, 1);
    for pair in requests.windows(2) {
        assert_eq!(
            pair[1].batch.first_seq,
            pair[0].batch.last_seq + 1,
            "contiguous, in order"
        );
    }
    assert!(
        requests
            .iter()
            .filter(|r| r.batch.readings.len() == 50)
            .count()
            >= 6
    );
    assert!(meta(&dir.path().join("data"), "acked_seq") >= backlog);
    assert!(log.iter().any(|l| l.contains("Catching up")), "{log:#?}");
    assert!(log.iter().any(|l| l.contains("Caught up")), "{log:#?}");
}

#[test]
fn a_batch_too_large_is_resent_from_the_same_seq_in_halves() {
    let dir = temp_dir();
    let backlog = fill_outbox(dir.path(), 200);
    let service = Service::start(vec![
        Reply::Status(413, "too large"),
        Reply::Status(413, "still too large"),
    ]);
    let agent = start(
        dir.path(),
        &config(
            &dir.path().join("data"),
            &sync_to(&service, "batch_readings = 40\ninterval = \"1h\""),
        ),
        "info",
    );
    let requests = service.wait_for("the backlog", |r| {
        r.iter().any(|r| r.batch.last_seq >= backlog)
    });
    agent.wait_metric("farm_outbox_acked_seq", backlog);
    let metrics = http_get(&agent.http, "/metrics");
    assert!(
        metrics.contains("farm_sync_errors_total{kind=\"too_large\"} 2\n"),
        "{metrics}"
    );
    agent.stop();

    check_wire_format(&requests, 40);
    let sizes: Vec<usize> = requests
        .iter()
        .take(4)
        .map(|r| r.batch.readings.len())
        .collect();
    assert_eq!(
        sizes,
        [40, 20, 10, 40],
        "halved twice, then the configured size again"
    );
    let first = requests[0].batch.first_seq;
    assert_eq!(
        (requests[1].batch.first_seq, requests[2].batch.first_seq),
        (first, first)
    );
    for pair in requests[2..].windows(2) {
        assert_eq!(
            pair[1].batch.first_seq,
            pair[0].batch.last_seq + 1,
            "nothing skipped"
        );
    }
    assert!(meta(&dir.path().join("data"), "acked_seq") >= requests[0].batch.last_seq);
}

#[test]
fn server_errors_and_timeouts_are_retried_with_the_same_batch() {
    let dir = temp_dir();
    let service = Service::start(vec![
        Reply::Status(500, "{\"error\":\"influx down\"}"),
        Reply::Hang(Duration::from_secs(3)),
        Reply::Status(503, ""),
    ]);
    let sync = sync_to(
        &service,
        "interval = \"200ms\"\ntimeout = \"500ms\"\nmax_backoff = \"1s\"",
    );
    let agent = start(
        dir.path(),
        &config(&dir.path().join("data"), &sync),
        "debug",
    );
    let requests = service.wait_for("four requests", |r| r.len() >= 4);
    let first = &requests[0].batch;
    agent.wait_metric("farm_outbox_acked_seq", first.last_seq);
    let metrics = http_get(&agent.http, "/metrics");
    for line in [
        "farm_sync_errors_total{kind=\"server\"} 2",
        "farm_sync_errors_total{kind=\"timeout\"} 1",
        "farm_sync_consecutive_failures 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing:\n{metrics}"
        );
    }
    let log = agent.stop();

    check_wire_format(&requests, 5000);
    for retry in &requests[1..4] {
        assert_eq!(&retry.batch, first, "a retry resends the same batch");
    }
    let warnings = log.iter().filter(|l| l.contains("Sync failed")).count();
    assert_eq!(warnings, 1, "one warning per failure streak: {log:#?}");
    assert!(log
        .iter()
        .any(|l| l.contains("Sync recovered") && l.contains("failures=3")));
}

/// Starts an agent whose first batch gets `status` + `body`; checks syncing stopped after one
/// request with one critical alarm `code` while the agent kept running; returns its message.
fn refused(status: u16, body: &'static str, code: &str) -> String {
    let dir = temp_dir();
    let service = Service::start(vec![Reply::Status(status, body)]);
    let mut agent = start(
        dir.path(),
        &config(
            &dir.path().join("data"),
            &sync_to(&service, "interval = \"200ms\""),
        ),
        "info",
    );
    agent.process.wait_for_line("Syncing stopped", WAIT);
    assert_eq!(agent.metric("farm_sync_stopped"), 1);
    // Ingest goes on: more rows are committed after the stop.
    let committed = agent.metric("farm_outbox_committed_seq");
    agent.wait_metric("farm_outbox_committed_seq", committed + 20);
    agent.stop();

    assert_eq!(service.requests().len(), 1, "no request after the refusal");
    let data = dir.path().join("data");
    assert_eq!(meta(&data, "acked_seq"), 0, "nothing acked");
    let alarms: Vec<_> = alarms(&data)
        .into_iter()
        .filter(|(c, _, _)| c.starts_with("sync_"))
        .collect();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    let (got, severity, message) = alarms.into_iter().next().unwrap();
    assert_eq!((got.as_str(), severity.as_str()), (code, "critical"));
    message
}

#[test]
fn a_refused_token_stops_syncing_with_one_alarm() {
    let message = refused(401, "{\"error\":\"unknown device\"}", "sync_unauthorized");
    assert!(message.contains("refused the device token"), "{message}");
    assert!(message.contains("unknown device") && message.contains("until the agent restarts"));
}

#[test]
fn a_permanently_refused_batch_stops_syncing_and_acks_nothing() {
    let message = refused(
        422,
        "{\"error\":\"schema 1 is not supported\"}",
        "sync_rejected",
    );
    assert!(
        message.contains("422: schema 1 is not supported"),
        "{message}"
    );
    assert!(
        message.contains("the data stays in the outbox"),
        "{message}"
    );
}

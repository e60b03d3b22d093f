//! A real InfluxDB 1.x (Debian's `influxdb` package, `/usr/bin/influxd`, v1 API only) on free
//! ports of 127.0.0.1 with its meta, data and WAL dirs in a temp dir.
//!
//! Invariants: the HTTP port and the data dir stay the same across [`Influxd::stop`] and
//! [`Influxd::start_again`], so a test can take InfluxDB away and bring it back with its data;
//! the process is killed (SIGKILL) when the value is dropped, also when a test panics.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{free_port, temp_dir, try_http_request, Process, TempDir};

/// Where Debian's `influxdb` package puts the server.
const INFLUXD: &str = "/usr/bin/influxd";
/// How long `influxd` may take to answer `/ping` after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a clean shutdown (SIGTERM) may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a start with freshly picked ports is tried when `influxd` exits at once (another
/// process took a port between [`free_port`] and `influxd` binding it).
const START_ATTEMPTS: usize = 3;

/// A running `influxd` with a generated config in its own temp dir. Killed when dropped.
pub struct Influxd {
    // Declared before `dir`: fields drop in order, so the process ends before its files go.
    process: Option<Process>,
    addr: String,
    config: PathBuf,
    dir: TempDir,
}

impl Influxd {
    /// Starts `influxd` on free ports of 127.0.0.1 (HTTP and the RPC bind address) with
    /// reporting disabled and warnings-only logging, and waits until `GET /ping` answers 204.
    /// Panics with its log if it does not within 30 s.
    pub fn start() -> Influxd {
        assert!(
            Path::new(INFLUXD).exists(),
            "{INFLUXD} is missing: apt-get install influxdb"
        );
        let dir = temp_dir();
        for attempt in 1..=START_ATTEMPTS {
            let addr = format!("127.0.0.1:{}", free_port());
            let config = write_config(dir.path(), &addr);
            let mut process = spawn(&config);
            if wait_until_ready(&mut process, &addr, attempt == START_ATTEMPTS) {
                return Influxd {
                    process: Some(process),
                    addr,
                    config,
                    dir,
                };
            }
        }
        unreachable!("the last attempt panics when influxd does not come up")
    }

    /// The HTTP address, e.g. `127.0.0.1:41234`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The HTTP base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The temp dir holding the config and the meta, data and WAL dirs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `CREATE DATABASE "name"` (a no-op when it exists).
    pub fn create_database(&self, name: &str) {
        self.query("", &format!("CREATE DATABASE {}", quote_ident(name)));
    }

    /// Runs `influxql` against database `db` (`""` for none) with `POST /query` and returns the
    /// whole JSON answer (`{"results":[{"statement_id":0,"series":[…]}]}`, times as unix
    /// milliseconds: the query is sent with `epoch=ms`). Panics if the
    /// request fails or the answer carries an error, top-level or in any statement's result.
    pub fn query(&self, db: &str, influxql: &str) -> Value {
        let form = format!("db={}&q={}", form_encode(db), form_encode(influxql));
        let (status, body) = try_http_request(
            &self.addr,
            "POST",
            "/query?epoch=ms",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(&form),
        )
        .unwrap_or_else(|e| panic!("influxd query {influxql:?}: {e}"));
        let answer: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("influxd query {influxql:?}: {e} in {status} {body:?}"));
        let statement_error = answer["results"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|result| result.get("error"));
        if let Some(error) = answer.get("error").or(statement_error) {
            panic!("influxd query {influxql:?} on {db:?} failed ({status}): {error}");
        }
        assert_eq!(status, 200, "influxd query {influxql:?}: {body}");
        answer
    }

    /// The number of points stored in `measurement` of `db`: one per series and timestamp,
    /// counted as the rows of `SELECT * FROM "measurement"` (all time), so a point counts
    /// once however many fields it has. (InfluxDB 1.6's `count(*)` instead counts the
    /// non-null values of each field separately.) 0 when the measurement does not exist;
    /// panics when the database does not.
    pub fn count(&self, db: &str, measurement: &str) -> u64 {
        let answer = self.query(db, &format!("SELECT * FROM {}", quote_ident(measurement)));
        answer["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|result| result["series"].as_array())
            .flatten()
            .filter_map(|series| series["values"].as_array())
            .map(|values| values.len() as u64)
            .sum()
    }

    /// Stops `influxd` cleanly (SIGTERM, waits up to 30 s). Its port and data stay for
    /// [`Influxd::start_again`]; requests meanwhile are refused.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop(rustix::process::Signal::TERM, STOP_TIMEOUT);
        }
    }

    /// Starts `influxd` again after [`Influxd::stop`] on the same port with the same data dir,
    /// and waits until it answers `/ping`. Panics with its log if it does not within 30 s.
    pub fn start_again(&mut self) {
        assert!(self.process.is_none(), "influxd is still running");
        let mut process = spawn(&self.config);
        wait_until_ready(&mut process, &self.addr, true);
        self.process = Some(process);
    }
}

/// Writes `influxdb.conf` into `dir` for HTTP on `addr` and the RPC service on another free
/// port; returns its path.
fn write_config(dir: &Path, addr: &str) -> PathBuf {
    let rpc_addr = format!("127.0.0.1:{}", free_port());
    let path = |name: &str| dir.join(name).display().to_string();
    let config = format!(
        r#"reporting-disabled = true
bind-address = "{rpc_addr}"

[meta]
  dir = "{meta}"

[data]
  dir = "{data}"
  wal-dir = "{wal}"
  query-log-enabled = false

[http]
  enabled = true
  bind-address = "{addr}"
  auth-enabled = false
  log-enabled = false
  max-row-limit = 0

[logging]
  level = "warn"
  suppress-logo = true

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false
"#,
        meta = path("meta"),
        data = path("data"),
        wal = path("wal"),
    );
    let file = dir.join("influxdb.conf");
    std::fs::write(&file, config).expect("write influxdb.conf");
    file
}

fn spawn(config: &Path) -> Process {
    let mut command = Command::new(INFLUXD);
    command.arg("run").arg("-config").arg(config);
    // influxd logs to stderr; stdout carries nothing of interest.
    command.stdout(std::process::Stdio::null());
    Process::spawn("influxd", command)
}

/// Polls `GET /ping` until it answers 204. Returns false if the process ended first (unless
/// `last_try`, then it panics with the log, as it does on the timeout).
fn wait_until_ready(process: &mut Process, addr: &str, last_try: bool) -> bool {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok((204, _)) = try_http_request(addr, "GET", "/ping", &[], None) {
            return true;
        }
        if let Some(status) = process.try_wait() {
            if !last_try {
                return false;
            }
            process.fail(&format!("exited with {status} before answering /ping"));
        }
        if Instant::now() >= deadline {
            process.fail(&format!(
                "no 204 from /ping at {addr} within {START_TIMEOUT:?}"
            ));
        }
        // Polling a starting service: bounded by the deadline, ends as soon as it answers.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An InfluxQL identifier in double quotes.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub(crate) fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

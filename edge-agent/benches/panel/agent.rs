//! The agent under the bench and plain-HTTP clients of its panel: its config, starting and
//! stopping it, signing in, fetching pages byte for byte, holding `/events` streams.

#![allow(clippy::wildcard_imports)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use farm_e2e::Process;

use super::*;

pub(crate) const CONFIG: &str = r#"
[agent]
device_id = "bench-farm"
data_dir = "DATA"

[http]
listen = "127.0.0.1:0"

[[sensors]]
name = "fruiting-1-climate"
kind = "simulated"
room = "fruiting-1"
interval = "1s"
metrics = ["temperature", "humidity", "co2"]

[[sensors]]
name = "fruiting-1-light"
kind = "simulated"
room = "fruiting-1"
interval = "1s"
metrics = ["light"]

[[sensors]]
name = "incubation-1-climate"
kind = "simulated"
room = "incubation-1"
interval = "1s"
metrics = ["temperature", "humidity", "co2"]

[[actuators]]
name = "fruiting-1-humidifier"
room = "fruiting-1"
device = "humidifier"
kind = "simulated"
safe_state = "off"
min_on = "3s"
min_off = "3s"

[[actuators]]
name = "fruiting-1-fan"
room = "fruiting-1"
device = "fresh_air_fan"
kind = "simulated"
safe_state = "off"
min_on = "3s"
min_off = "3s"

[[actuators]]
name = "incubation-1-heater"
room = "incubation-1"
device = "heater"
kind = "simulated"
safe_state = "off"
min_on = "6s"
min_off = "6s"

[control]
period = "1s"
stale_after = "1m"

[[loops]]
name = "fruiting-1-humidity"
actuator = "fruiting-1-humidifier"
kind = "hysteresis"
metric = "humidity"
setpoint = 90.0
band = 4.0

[[loops]]
name = "fruiting-1-co2"
actuator = "fruiting-1-fan"
kind = "hysteresis"
metric = "co2"
setpoint = 850.0
band = 200.0

[[loops]]
name = "incubation-1-temperature"
actuator = "incubation-1-heater"
kind = "hysteresis"
metric = "temperature"
setpoint = 24.0
band = 1.0

[panel]

[[panel.users]]
name = "USER"
password_hash = "HASH"
"#;

/// The agent process (`farm_e2e::Process`: killed on drop if it is still running).
pub(crate) struct Agent {
    process: Process,
    pub(crate) http: String,
}

impl Agent {
    /// Writes the config into `dir` and starts the agent; returns once it serves HTTP.
    pub(crate) fn start(dir: &Path, hash: &str) -> Agent {
        let config = CONFIG
            .replace("DATA", &dir.join("data").display().to_string())
            .replace("USER", USER)
            .replace("HASH", hash);
        let path = dir.join("agent.toml");
        std::fs::write(&path, config).expect("write the agent config");
        let mut command = Command::new(BIN);
        command
            .args(["run", "--config"])
            .arg(&path)
            .env("RUST_LOG", "warn,edge_agent::agent=info")
            .stdout(Stdio::null());
        let mut process = Process::spawn("edge-agent", command);
        let http = process.wait_for_address("HTTP", WAIT);
        Agent { process, http }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.process.id()
    }

    /// SIGTERM, and waits for it to exit 0.
    pub(crate) fn stop(&mut self) {
        let (status, log) = self.process.stop(rustix::process::Signal::TERM, WAIT);
        assert!(
            status.success(),
            "agent exit: {status:?}\n{}",
            log.join("\n")
        );
    }
}

/// One HTTP/1.1 exchange with `Connection: close`: (status, request bytes sent, response
/// bytes received, head, body).
pub(crate) fn exchange(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, u64, u64, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the agent");
    stream
        .set_read_timeout(Some(WAIT))
        .expect("set a read timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if method == "POST" {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .expect("send the request");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("read the response");
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (
        status,
        request.len() as u64,
        response.len() as u64,
        head.to_owned(),
        body.to_owned(),
    )
}

/// `GET path` with the session `cookie`: (status, request bytes, response bytes).
pub(crate) fn wire_get(addr: &str, path: &str, cookie: &str) -> (u16, u64, u64) {
    let headers = [("Cookie", cookie), ("Accept-Encoding", "gzip, deflate, br")];
    let (status, sent, received, _, _) = exchange(addr, "GET", path, &headers, "");
    (status, sent, received)
}

/// The `name=value` of cookie `name` set in `head`.
pub(crate) fn set_cookie(head: &str, name: &str) -> String {
    let prefix = format!("{name}=");
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.trim())
        .find(|v| v.starts_with(&prefix))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie in {head}"))
        .to_owned()
}

/// Signs in through the form with a plain client; the session cookie as `name=value`.
pub(crate) fn sign_in(addr: &str) -> String {
    let (status, _, _, head, body) = exchange(addr, "GET", "/login", &[], "");
    assert_eq!(status, 200, "GET /login");
    let login_cookie = set_cookie(&head, "farm_login_csrf");
    let marker = "name=\"csrf\" value=\"";
    let token = body
        .split_once(marker)
        .and_then(|(_, rest)| rest.split('"').next())
        .expect("a csrf field in the login form");
    let form = format!(
        "csrf={token}&username={USER}&password={}&next=%2F",
        PASSWORD.replace(' ', "+")
    );
    let headers = [
        ("Cookie", login_cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let (status, _, _, head, _) = exchange(addr, "POST", "/login", &headers, &form);
    assert_eq!(status, 303, "sign in: {head}");
    set_cookie(&head, "farm_session")
}

/// A signed-in `GET /events` held open and read on a thread, counting bytes and events.
pub(crate) struct SseClient {
    pub(crate) stream: TcpStream,
    pub(crate) bytes: Arc<AtomicU64>,
    pub(crate) events: Arc<AtomicU64>,
    pub(crate) reader: JoinHandle<()>,
}

impl SseClient {
    pub(crate) fn open(addr: &str, cookie: &str) -> SseClient {
        let mut stream = TcpStream::connect(addr).expect("connect to the agent");
        let request = format!(
            "GET /events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\
             Cookie: {cookie}\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .expect("send GET /events");
        let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
        let mut status = String::new();
        reader
            .read_line(&mut status)
            .expect("read the /events status");
        assert!(status.starts_with("HTTP/1.1 200"), "GET /events: {status}");
        let bytes = Arc::new(AtomicU64::new(status.len() as u64));
        let events = Arc::new(AtomicU64::new(0));
        let (b, e) = (Arc::clone(&bytes), Arc::clone(&events));
        let reader = std::thread::spawn(move || {
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        b.fetch_add(n as u64, Ordering::Relaxed);
                        if line.starts_with("event: overview") || line.starts_with("event:overview")
                        {
                            e.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        });
        SseClient {
            stream,
            bytes,
            events,
            reader,
        }
    }

    /// Closes the connection; (bytes received, overview events received).
    pub(crate) fn close(self) -> (u64, u64) {
        let _ = self.stream.shutdown(Shutdown::Both);
        let _ = self.reader.join();
        (
            self.bytes.load(Ordering::Relaxed),
            self.events.load(Ordering::Relaxed),
        )
    }
}

//! The one shared harness for tests that start real processes and services: a temp dir per
//! test, child processes that are always stopped, and waiting on what a process prints
//! instead of sleeping. Later issues add Chromium here.
//!
//! # Layout
//! - [`Process`]: a child process whose stderr is collected line by line; killed on drop.
//! - [`temp_dir`]: a fresh temporary directory, removed on drop.
//! - [`free_port`]: a port on 127.0.0.1 that nothing listens on right now.
//! - [`http_get`], [`wait_for_metric`], [`metric`]: plain HTTP/1.0 GETs against a service
//!   under test; [`wait_until`] polls any condition with a deadline.
//! - [`http_request`]: any method, headers and body over plain HTTP/1.1; any status.
//!   [`try_http_request`] is the same but returns an error when no answer comes.
//! - [`Influxd`] (`influxd.rs`): Debian's InfluxDB 1.6 on a free port with a temp dir.
//! - [`Postgres`] (`postgres.rs`): a PostgreSQL cluster (`initdb` + `postgres`) in a temp dir.
//! - [`InfluxV2Gateway`] (`nginx.rs`): nginx mapping the InfluxDB v2 write API onto an influxd;
//!   [`TlsTerminator`]: nginx serving HTTPS with a fresh self-signed certificate in front of
//!   a plain-HTTP service.
//! - [`FaultProxy`] (`fault_proxy.rs`): a TCP proxy that can lose a response or refuse
//!   connections, for "the answer was lost" and "the service is down" tests.
//! - [`Cloud`] (`cloud.rs`): PostgreSQL + influxd (+ the v2 gateway) + the `sync-service`
//!   binary with one provisioned device; [`workspace_bin`] finds a workspace binary.

pub mod browser;
pub mod cloud;
mod fault_proxy;
mod influxd;
mod nginx;
mod postgres;
pub mod storefront;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub use cloud::{workspace_bin, Cloud, InfluxApi};
pub use fault_proxy::FaultProxy;
pub use influxd::Influxd;
pub use nginx::{InfluxV2Gateway, TlsTerminator};
pub use postgres::Postgres;
pub use storefront::Storefront;
pub use tempfile::TempDir;

/// A fresh temporary directory, removed when dropped.
pub fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("farm-test-")
        .tempdir()
        .expect("create a temp dir")
}

/// A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it; the listener is
/// closed again). For services that cannot be told to bind port 0 and report the port; the
/// helpers that use it retry with a new port if another process takes it first.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A running child process. Its stderr is read on a thread so the child never blocks on a
/// full pipe; [`Process::wait_for_line`] waits for a line to appear. Killed (SIGKILL) when
/// dropped if it is still running.
pub struct Process {
    name: String,
    child: Child,
    lines: Receiver<String>,
    log: Vec<String>,
}

impl Process {
    /// Starts `command` with stderr captured (stdout is inherited).
    pub fn spawn(name: &str, mut command: Command) -> Process {
        let mut child = command
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Process {
            name: name.to_owned(),
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// The process id (for `/proc/<pid>/status`).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits until a line containing `needle` appears on stderr and returns it. Panics with
    /// everything printed so far if it does not appear within `timeout` or the process ends.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(&format!("no line with {needle:?} within {timeout:?}"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.fail(&format!("ended before printing {needle:?}"))
                }
            }
        }
    }

    /// Waits for the agent's `Listening.` line of `service` (e.g. `HTTP`, `MQTT`) and returns
    /// the address it reports, e.g. `127.0.0.1:41234` (tests bind port 0).
    pub fn wait_for_address(&mut self, service: &str, timeout: Duration) -> String {
        let line = self.wait_for_line(&format!("service={service}"), timeout);
        match line
            .split("address=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
        {
            Some(address) => address.to_owned(),
            None => self.fail(&format!("no address in {line:?}")),
        }
    }

    /// Sends `signal` (e.g. `rustix::process::Signal::TERM`) and waits up to `timeout` for the
    /// process to exit; returns its status and everything it printed on stderr.
    pub fn stop(
        &mut self,
        signal: rustix::process::Signal,
        timeout: Duration,
    ) -> (ExitStatus, Vec<String>) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("a live pid");
        rustix::process::kill_process(pid, signal).expect("send signal");
        // The child's stderr closes when it exits: wait for that, bounded by `timeout`.
        let deadline = Instant::now() + timeout;
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => self.log.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(&format!("did not exit within {timeout:?} of {signal:?}"))
                }
            }
        }
        let status = self.child.wait().expect("wait for the child");
        (status, self.log.clone())
    }

    /// The exit status if the process has ended (without waiting), `None` while it runs.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("query the child's status")
    }

    /// Panics with `what` and everything the process printed on stderr so far (when it has
    /// ended, waiting up to 2 s for its last lines to arrive).
    pub fn fail(&mut self, what: &str) -> ! {
        let ended = matches!(self.child.try_wait(), Ok(Some(_)));
        let grace = if ended {
            Duration::from_secs(2)
        } else {
            Duration::ZERO
        };
        let deadline = Instant::now() + grace;
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.log.push(line);
        }
        panic!(
            "{}: {what}; stderr so far:\n{}",
            self.name,
            self.log.join("\n")
        );
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `bin run --config <config>` (RUST_LOG=info) as `name`, once it serves HTTP on `addr`
/// (within a minute; panics with its log if it does not, or serves elsewhere).
pub fn start_service(
    name: &str,
    bin: &std::path::Path,
    config: &std::path::Path,
    addr: &str,
) -> Process {
    let mut command = Command::new(bin);
    command
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "info");
    let mut process = Process::spawn(name, command);
    let listening = process.wait_for_address("HTTP", Duration::from_secs(60));
    assert_eq!(listening, addr, "{name} moved");
    process
}

/// `bin <args> --config <config>`, run to completion: (exit code, stdout, stderr).
pub fn run_with_config(
    bin: &std::path::Path,
    args: &[&str],
    config: &std::path::Path,
) -> (Option<i32>, String, String) {
    let output = Command::new(bin)
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

/// `GET path` from `addr` over plain TCP (HTTP/1.0, so the server closes the connection);
/// panics unless the status is 200; returns the body.
pub fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(
        response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
        "{response}"
    );
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

/// `method path` to `addr` over plain TCP (HTTP/1.1 with `Connection: close`, so the server
/// closes the connection), with `headers` and an optional `body` (sent with its
/// `Content-Length`). Returns the status code, whatever it is, and the body (a chunked body
/// decoded). Panics if the server does not answer within 30 s or the answer is not HTTP.
pub fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    try_http_request(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path} at {addr}: {e}"))
}

/// [`http_request`] that returns an error instead of panicking when the connection fails, no
/// answer comes within 30 s, or the connection closes before a whole HTTP head arrived
/// (`UnexpectedEof`, e.g. a response lost on the way); still panics on a malformed status.
pub fn try_http_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    try_http_exchange(addr, method, path, headers, body).map(|(status, _, body)| (status, body))
}

/// [`try_http_request`] that also returns the response's head (status line and headers,
/// `\r\n`-separated), for tests of response headers; see [`header`].
pub fn try_http_exchange(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<(u16, String, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or(""));
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    if let Err(e) = stream.read_to_end(&mut response) {
        // A reset after a complete answer still counts as the answer.
        if response.is_empty() {
            return Err(e);
        }
    }
    let Some(split) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!(
                "no complete HTTP answer, got {:?}",
                String::from_utf8_lossy(&response)
            ),
        ));
    };
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let body = &response[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let chunked = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Ok((status, head, String::from_utf8_lossy(&body).into_owned()))
}

/// The value of header `name` (any case) in a response `head`, if present.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The payload of a `Transfer-Encoding: chunked` body.
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let line = String::from_utf8_lossy(&rest[..end]);
        let size = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size, 16).unwrap_or_else(|_| panic!("bad chunk size {size:?}"));
        if size == 0 {
            break;
        }
        let after = &rest[end + 2..];
        body.extend_from_slice(&after[..size]);
        let next = &after[size..];
        rest = next.strip_prefix(b"\r\n").unwrap_or(next);
    }
    body
}

/// Polls `/metrics` at `addr` until it has the exact line `line`; returns the body. Panics
/// with the last body after `timeout`.
pub fn wait_for_metric(addr: &str, line: &str, timeout: Duration) -> String {
    let mut body = String::new();
    wait_until(&format!("{line:?} in /metrics"), timeout, || {
        body = http_get(addr, "/metrics");
        body.lines().any(|l| l == line)
    });
    body
}

/// The value of `series` (a metric name with its labels, exactly as printed, e.g.
/// `farm_sync_errors_total{kind="connect"}`) in `/metrics` at `addr`, if it is there.
pub fn metric(addr: &str, series: &str) -> Option<f64> {
    http_get(addr, "/metrics").lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok())?
    })
}

/// Polls `ready` every 20 ms until it holds; panics naming `what` after `timeout`. For
/// waiting on a service's observable state (metrics, an API, a database), never on time.
pub fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ready() {
        assert!(Instant::now() < deadline, "not within {timeout:?}: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

//! The InfluxDB **v2** write API in front of a v1 `influxd`, the way InfluxDB 1.8 maps it
//! internally, made with a real nginx (Debian's `nginx-light`, `/usr/sbin/nginx`) on a free port
//! of 127.0.0.1, so the v2 writer path is tested against a real database.
//!
//! The mapping:
//! - `POST /api/v2/write?org=O&bucket=B&precision=P` → `POST /write?db=B&precision=P`; a
//!   bucket `db/rp` (also `db%2Frp`) → `db=db&rp=rp`; the v2 precisions `ns`/`us` become the v1
//!   `n`/`u` (1.6 would silently read `us` as nanoseconds). Headers (`Authorization: Token …`,
//!   which an influxd without auth ignores, `Content-Encoding: gzip`) and the body pass as they
//!   are; no body size limit of its own (influxd's applies). Other methods: 405.
//! - `GET /health` → 200 `{"name":"influxdb","message":"ready for queries and writes",
//!   "status":"pass",…}` when the upstream's `/ping` answers, else 503 `{…"status":"fail"}`.
//! - every other path → 404.
//!
//! nginx runs in the foreground as one process (`daemon off; master_process off;`) with its
//! config, pid file and temp paths in a temp dir and its error log on stderr; killed on drop.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, temp_dir, Process, TempDir};

/// Where Debian's nginx packages put the server.
const NGINX: &str = "/usr/sbin/nginx";
/// How long nginx may take to accept connections after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a start on a freshly picked port is tried when nginx exits at once.
const START_ATTEMPTS: usize = 3;

/// A running nginx that serves the InfluxDB v2 write and health API from a v1 influxd.
/// Killed when dropped.
pub struct InfluxV2Gateway {
    // Declared before `dir`: fields drop in order, so the process ends before its files go.
    _process: Process,
    addr: String,
    _dir: TempDir,
}

impl InfluxV2Gateway {
    /// Starts nginx on a free port of 127.0.0.1 in front of the influxd HTTP API at
    /// `influx_addr` (e.g. [`crate::Influxd::addr`]) and waits until it accepts connections.
    /// Panics with its log if it does not within 30 s.
    pub fn start(influx_addr: &str) -> InfluxV2Gateway {
        assert!(
            Path::new(NGINX).exists(),
            "{NGINX} is missing: apt-get install nginx-light"
        );
        let dir = temp_dir();
        let health = dir.path().join("health.json");
        std::fs::write(
            &health,
            r#"{"name":"influxdb","message":"ready for queries and writes","status":"pass","checks":[],"version":"1.8-compatible (nginx in front of influxd)"}"#,
        )
        .expect("write health.json");
        let (process, addr) = run_nginx(&dir, |addr| nginx_config(dir.path(), addr, influx_addr));
        InfluxV2Gateway {
            _process: process,
            addr,
            _dir: dir,
        }
    }

    /// The address, e.g. `127.0.0.1:41234`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The base URL to give a v2 client, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts nginx with the config `config(addr)` on a free port (a new one if it exits at once:
/// another process took the port); returns it and its address.
fn run_nginx(dir: &TempDir, config: impl Fn(&str) -> String) -> (Process, String) {
    for attempt in 1..=START_ATTEMPTS {
        let addr = format!("127.0.0.1:{}", free_port());
        let file = dir.path().join("nginx.conf");
        std::fs::write(&file, config(&addr)).expect("write nginx.conf");
        let mut command = Command::new(NGINX);
        command
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg("stderr")
            .arg("-c")
            .arg(&file)
            .stdout(Stdio::null());
        let mut process = Process::spawn("nginx", command);
        if wait_until_listening(&mut process, &addr, attempt == START_ATTEMPTS) {
            return (process, addr);
        }
    }
    unreachable!("the last attempt panics when nginx does not come up")
}

/// HTTPS in front of a plain-HTTP service: nginx with a fresh certificate for `localhost` /
/// `127.0.0.1` signed by a fresh private CA (openssl, P-256, one day), proxying everything to
/// the upstream. Trust [`TlsTerminator::ca`] to reach it.
pub struct TlsTerminator {
    _process: Process,
    addr: String,
    ca: std::path::PathBuf,
    _dir: TempDir,
}

impl TlsTerminator {
    /// Starts it in front of `upstream_addr` (`127.0.0.1:PORT`).
    pub fn start(upstream_addr: &str) -> TlsTerminator {
        let dir = temp_dir();
        let (ca, cert, key) = make_certificates(dir.path());
        let (process, addr) = run_nginx(&dir, |addr| {
            let body = format!(
                "server {{\n    listen {addr} ssl;\n    ssl_certificate {};\n    \
                 ssl_certificate_key {};\n    location / {{\n        \
                 proxy_http_version 1.1;\n        proxy_set_header Connection \"\";\n        \
                 proxy_pass http://{upstream_addr};\n    }}\n}}",
                cert.display(),
                key.display()
            );
            http_config(dir.path(), &body)
        });
        TlsTerminator {
            _process: process,
            addr,
            ca,
            _dir: dir,
        }
    }

    /// The base URL, e.g. `https://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The PEM certificate to trust.
    pub fn ca(&self) -> &Path {
        &self.ca
    }
}

/// Runs `openssl` with `args` in `dir`; panics with its output if it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (apt-get install openssl)");
    assert!(output.status.success(), "openssl {args:?}: {output:?}");
}

/// A CA (`ca.pem`) and a server certificate it signed (`cert.pem`, `key.pem`) for
/// `localhost` and `127.0.0.1` in `dir`. rustls wants a real chain: a self-signed
/// certificate with `CA:TRUE` is refused as a server's own certificate.
fn make_certificates(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "1", "-subj", "/CN=farm test CA"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca-key.pem", "-out", "ca.pem"]);
    openssl(dir, &ca);
    let mut request = vec!["req", "-new", "-subj", "/CN=localhost"];
    request.extend(ec);
    request.extend(["-keyout", "key.pem", "-out", "cert.csr"]);
    openssl(dir, &request);
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("write ext.cnf");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "cert.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
            "-out",
            "cert.pem",
        ],
    );
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}

/// An nginx config with `servers` (and any other http-level lines) in its `http` block;
/// all nginx writes lives in `dir`.
fn http_config(dir: &Path, servers: &str) -> String {
    let dir = dir.display();
    // `user` only matters (and is only accepted quietly) when started as root.
    let user = if rustix::process::geteuid().is_root() {
        "user root;"
    } else {
        ""
    };
    format!(
        r#"{user}
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log stderr warn;

events {{
    worker_connections 256;
}}

http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 0;
    default_type application/octet-stream;

{servers}
}}
"#
    )
}

/// The gateway's config: the v2 mapping in front of `influx_addr`.
fn nginx_config(dir: &Path, addr: &str, influx_addr: &str) -> String {
    let health = dir.display();
    let servers = format!(
        r#"    upstream influxd {{
        server {influx_addr};
    }}

    # v2 precision -> v1 precision (1.6 reads an unknown one, e.g. `us`, as nanoseconds).
    map $arg_precision $v1_precision {{
        ns n;
        us u;
        default $arg_precision;
    }}

    server {{
        listen {addr};

        location = /api/v2/write {{
            if ($request_method != POST) {{
                return 405;
            }}
            set $db $arg_bucket;
            set $rp "";
            if ($arg_bucket ~ "^(.+?)(/|%2[Ff])(.+)$") {{
                set $db $1;
                set $rp $3;
            }}
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://influxd/write?db=$db&rp=$rp&precision=$v1_precision;
        }}

        location = /health {{
            auth_request /_influxd_ping;
            error_page 500 502 503 504 =503 @health_fail;
            default_type application/json;
            alias {dir}/health.json;
        }}

        location @health_fail {{
            default_type application/json;
            return 503 '{{"name":"influxdb","message":"influxd does not answer /ping","status":"fail","checks":[]}}';
        }}

        location = /_influxd_ping {{
            internal;
            proxy_pass http://influxd/ping;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_connect_timeout 2s;
            proxy_read_timeout 5s;
        }}

        location / {{
            return 404;
        }}
    }}
"#,
        dir = health
    );
    http_config(dir, &servers)
}

/// Polls a TCP connect to `addr` until nginx accepts. Returns false if the process ended first
/// (unless `last_try`, then it panics with the log, as it does on the timeout).
fn wait_until_listening(process: &mut Process, addr: &str, last_try: bool) -> bool {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if std::net::TcpStream::connect(addr).is_ok() {
            return true;
        }
        if let Some(status) = process.try_wait() {
            if !last_try {
                return false;
            }
            process.fail(&format!("exited with {status} before listening on {addr}"));
        }
        if Instant::now() >= deadline {
            process.fail(&format!("not listening on {addr} within {START_TIMEOUT:?}"));
        }
        // Polling a starting service: bounded by the deadline, ends as soon as it listens.
        std::thread::sleep(Duration::from_millis(50));
    }
}

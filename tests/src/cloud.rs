//! The cloud side for tests: a real PostgreSQL and a real influxd (with the nginx v2 gateway
//! in front when the v2 API is tested), and the `sync-service` binary on a fixed free port,
//! with one device provisioned through its CLI.
//!
//! `sync-service` is a binary of another package, so it is found next to the test binary
//! ([`workspace_bin`]); `cargo test --workspace` builds it first. With `cargo test -p X`
//! alone, build it too (`cargo build -p sync-service`), or a stale one is used.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{free_port, temp_dir, InfluxV2Gateway, Influxd, Postgres, Process, TempDir};

/// The InfluxDB database (v1) or bucket (v2) the service writes to.
pub const INFLUX_DB: &str = "farm";
/// The tenant, farm and device provisioned at start.
pub const TENANT: &str = "acme";
/// See [`TENANT`].
pub const FARM: &str = "north";
/// See [`TENANT`].
pub const DEVICE: &str = "pi-1";
/// How long the service may take to start.
const START: Duration = Duration::from_secs(60);

/// Which InfluxDB write API the service speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfluxApi {
    /// `/write` straight to influxd.
    V1,
    /// `/api/v2/write` (the influxdb2 crate) through [`InfluxV2Gateway`].
    V2,
}

/// A binary of this workspace, built by `cargo test --workspace` next to the test binaries
/// (`target/<profile>/<name>`). Panics, saying how to build it, if it is not there.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary is in target/<profile>/deps");
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} is not built; run `cargo build -p {name}` (or `cargo test --workspace`)",
        bin.display()
    );
    bin
}

/// PostgreSQL, InfluxDB and a running sync-service with one provisioned device.
pub struct Cloud {
    /// The running service (`None` while stopped).
    pub service: Option<Process>,
    /// `127.0.0.1:PORT` of the service; the same across restarts.
    pub addr: String,
    /// The device token of [`DEVICE`].
    pub token: String,
    /// The gateway, with [`InfluxApi::V2`].
    pub gateway: Option<InfluxV2Gateway>,
    /// The influxd.
    pub influxd: Influxd,
    /// The PostgreSQL server; the service's database is `sync`.
    pub postgres: Postgres,
    bin: PathBuf,
    config: PathBuf,
    dir: TempDir,
}

impl Cloud {
    /// Starts everything and provisions [`DEVICE`] on [`FARM`] of [`TENANT`].
    pub fn start(api: InfluxApi) -> Cloud {
        let postgres = Postgres::start();
        let pg_url = postgres.create_database("sync");
        let influxd = Influxd::start();
        influxd.create_database(INFLUX_DB);
        let gateway = (api == InfluxApi::V2).then(|| InfluxV2Gateway::start(influxd.addr()));
        let dir = temp_dir();
        let port = free_port();
        let influx = match &gateway {
            None => format!(
                "api = \"v1\"\nurl = \"{}\"\ndatabase = \"{INFLUX_DB}\"",
                influxd.url()
            ),
            Some(gateway) => {
                let token = dir.path().join("influx-token");
                std::fs::write(&token, "test-token\n").expect("write the InfluxDB token");
                format!(
                    "api = \"v2\"\nurl = \"{}\"\norg = \"farm-org\"\nbucket = \"{INFLUX_DB}\"\n\
                     token_file = \"{}\"",
                    gateway.url(),
                    token.display()
                )
            }
        };
        let config = dir.path().join("sync.toml");
        let text = format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\n\n[postgres]\nurl = \"{pg_url}\"\n\n\
             [influxdb]\n{influx}\ntimeout = \"5s\"\n"
        );
        std::fs::write(&config, text).expect("write the sync-service config");
        let mut cloud = Cloud {
            service: None,
            addr: format!("127.0.0.1:{port}"),
            token: String::new(),
            gateway,
            influxd,
            postgres,
            bin: workspace_bin("sync-service"),
            config,
            dir,
        };
        cloud.token = cloud.provision(TENANT, FARM, DEVICE);
        cloud.start_service();
        cloud
    }

    /// `sync-service <args> --config <config>`, run to completion: (exit code, stdout,
    /// stderr).
    pub fn cli(&self, args: &[&str]) -> (Option<i32>, String, String) {
        crate::run_with_config(&self.bin, args, &self.config)
    }

    /// Provisions a device through the CLI; returns its token.
    pub fn provision(&self, tenant: &str, farm: &str, device: &str) -> String {
        let args = [
            "provision",
            "--tenant",
            tenant,
            "--farm",
            farm,
            "--device",
            device,
        ];
        let (code, stdout, stderr) = self.cli(&args);
        assert_eq!(code, Some(0), "provision failed: {stderr}");
        stdout.trim().to_owned()
    }

    /// Starts the service (again) on its port and waits until it listens.
    pub fn start_service(&mut self) {
        let process = crate::start_service("sync-service", &self.bin, &self.config, &self.addr);
        self.service = Some(process);
    }

    /// Kills the service (SIGKILL: no graceful anything) and returns its log.
    pub fn kill_service(&mut self) -> Vec<String> {
        let mut process = self.service.take().expect("the service is running");
        let (_, log) = process.stop(rustix::process::Signal::KILL, START);
        log
    }

    /// `psql` on the service's database.
    pub fn sql(&self, sql: &str) -> String {
        self.postgres.psql("sync", sql)
    }

    /// The number of points of `measurement` in InfluxDB.
    pub fn points(&self, measurement: &str) -> u64 {
        self.influxd.count(INFLUX_DB, measurement)
    }

    /// The service's temp dir (config, secrets).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

//! The service's config file (TOML). Unknown keys are refused; every problem names its key.
//! Secrets (the InfluxDB token or password) are read from files named here, never inline.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use cloud_api::config::duration;
pub use cloud_api::config::{ConfigError, PostgresConfig};

/// The whole config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[http]`: the batch API.
    #[serde(default)]
    pub http: HttpConfig,
    /// `[postgres]`: devices, watermarks, gaps and events.
    pub postgres: PostgresConfig,
    /// `[influxdb]`: where telemetry goes.
    pub influxdb: InfluxConfig,
}

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on (`127.0.0.1:0` picks a free port; the log says which).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Largest request body accepted as sent (gzip), MiB; larger gets 413.
    #[serde(default = "default_max_body_mib")]
    pub max_body_mib: u32,
    /// Largest body after decompression, MiB; larger gets 413.
    #[serde(default = "default_max_decompressed_mib")]
    pub max_decompressed_mib: u32,
    /// A request that takes longer is answered 503 (the edge retries).
    #[serde(default = "default_request_timeout", deserialize_with = "duration")]
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: default_listen(),
            max_body_mib: default_max_body_mib(),
            max_decompressed_mib: default_max_decompressed_mib(),
            request_timeout: default_request_timeout(),
        }
    }
}

/// Which InfluxDB write API to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InfluxApi {
    /// InfluxDB 1.x: `POST /write?db=…` with optional user and password.
    V1,
    /// InfluxDB 2.x / 3.x / Cloud: `POST /api/v2/write?org=…&bucket=…` with a token.
    V2,
}

/// `[influxdb]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfluxConfig {
    /// `v1` or `v2`.
    pub api: InfluxApi,
    /// Base URL, e.g. `http://127.0.0.1:8086` (no path).
    pub url: String,
    /// v1: the database.
    pub database: Option<String>,
    /// v1: the retention policy (default: the database's default).
    pub retention_policy: Option<String>,
    /// v1: user name, if the server has auth enabled.
    pub username: Option<String>,
    /// v1: file holding the user's password.
    pub password_file: Option<PathBuf>,
    /// v2: the organization.
    pub org: Option<String>,
    /// v2: the bucket.
    pub bucket: Option<String>,
    /// v2: file holding the API token.
    pub token_file: Option<PathBuf>,
    /// A write that takes longer fails (and the batch is answered 503).
    #[serde(default = "default_influx_timeout", deserialize_with = "duration")]
    pub timeout: Duration,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8470))
}
const fn default_max_body_mib() -> u32 {
    16
}
const fn default_max_decompressed_mib() -> u32 {
    64
}
const fn default_request_timeout() -> Duration {
    Duration::from_secs(60)
}
const fn default_influx_timeout() -> Duration {
    Duration::from_secs(30)
}

impl Config {
    /// Reads and checks the config at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::parse(path, &cloud_api::config::read(path)?)
    }

    /// Parses and checks config `text` (as if read from `path`).
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        cloud_api::config::parse_toml(path, text, Config::check)
    }

    fn check(&self) -> Result<(), (&'static str, String)> {
        let http = &self.http;
        if http.max_body_mib == 0 || http.max_decompressed_mib < http.max_body_mib {
            return Err((
                "http.max_decompressed_mib",
                "must be at least http.max_body_mib, which must be at least 1".into(),
            ));
        }
        if http.request_timeout.is_zero() {
            return Err(("http.request_timeout", "must be more than 0".into()));
        }
        self.postgres.check()?;
        self.influxdb.check()
    }
}

impl InfluxConfig {
    fn check(&self) -> Result<(), (&'static str, String)> {
        match reqwest::Url::parse(&self.url) {
            Ok(url) if !matches!(url.scheme(), "http" | "https") => {
                return Err(("influxdb.url", "must be http:// or https://".into()))
            }
            Ok(url) if url.path() != "/" || url.query().is_some() => {
                let message = "must be the server's base URL without a path or query";
                return Err(("influxdb.url", message.into()));
            }
            Ok(_) => {}
            Err(e) => return Err(("influxdb.url", format!("is not a URL ({e})"))),
        }
        if self.timeout.is_zero() {
            return Err(("influxdb.timeout", "must be more than 0".into()));
        }
        let required: &[(&'static str, bool)] = match self.api {
            InfluxApi::V1 => &[("influxdb.database", self.database.is_some())],
            InfluxApi::V2 => &[
                ("influxdb.org", self.org.is_some()),
                ("influxdb.bucket", self.bucket.is_some()),
                ("influxdb.token_file", self.token_file.is_some()),
            ],
        };
        if let Some((key, _)) = required.iter().find(|(_, present)| !present) {
            let api = format!("{:?}", self.api).to_lowercase();
            return Err((key, format!("is required with api = \"{api}\"")));
        }
        if self.username.is_some() != self.password_file.is_some() {
            let message = "username and password_file go together";
            return Err(("influxdb.password_file", message.into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

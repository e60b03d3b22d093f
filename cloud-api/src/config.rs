//! The config file (TOML) of `cloud-api`, and the pieces sync-service's config shares:
//! [`ConfigError`], [`parse_toml`], [`duration`], [`PostgresConfig`]. Unknown keys are
//! refused; every problem names its key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// Why a config cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// TOML syntax, a wrong type or an unknown key.
    #[error("{path}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// What and where.
        message: String,
    },
    /// A value that parses but cannot work.
    #[error("{path}: {key}: {message}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// The key, as `section.key`.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Deserializes TOML `text` (read from `path`) into `T`, naming the key of any error, then
/// runs `check`, which names the key of a value that cannot work.
pub fn parse_toml<T: DeserializeOwned>(
    path: &Path,
    text: &str,
    check: impl FnOnce(&T) -> Result<(), (&'static str, String)>,
) -> Result<T, ConfigError> {
    let parse_error = |message: String| ConfigError::Parse {
        path: path.to_owned(),
        message,
    };
    let de = toml::Deserializer::parse(text).map_err(|e| parse_error(e.to_string()))?;
    let config: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let message = e.inner().message().to_owned();
        parse_error(if key == "." {
            message
        } else {
            format!("{key}: {message}")
        })
    })?;
    check(&config).map_err(|(key, message)| ConfigError::Invalid {
        path: path.to_owned(),
        key,
        message,
    })?;
    Ok(config)
}

/// Reads the file at `path` for [`parse_toml`].
pub fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

/// A duration written the human way (`"15m"`, `"2s"`).
pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text)
        .map_err(|e| serde::de::Error::custom(format!("{text:?} is not a duration ({e})")))
}

/// `[postgres]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// A libpq-style URL, e.g. `postgres://farm@127.0.0.1:5432/farm`.
    pub url: String,
    /// Connections kept open.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
}

impl PostgresConfig {
    /// The problem with these settings, if any.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.url.parse::<tokio_postgres::Config>().is_err() {
            let message = "is not a PostgreSQL URL (postgres://user@host:port/db)";
            return Err(("postgres.url", message.into()));
        }
        if self.pool_size == 0 {
            return Err(("postgres.pool_size", "must be at least 1".into()));
        }
        Ok(())
    }
}

const fn default_pool_size() -> usize {
    8
}

/// The whole config of `cloud-api`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[http]`: the storefront API.
    #[serde(default)]
    pub http: HttpConfig,
    /// `[postgres]`: the inventory database.
    pub postgres: PostgresConfig,
    /// `[holds]`: reservation lifetimes.
    #[serde(default)]
    pub holds: HoldsConfig,
    /// `[rate_limit]`: requests per API key.
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
}

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on (`127.0.0.1:0` picks a free port; the log says which).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// A request that takes longer is answered 503 `timeout`.
    #[serde(default = "default_request_timeout", deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// Largest request body, KiB; larger gets 413.
    #[serde(default = "default_max_body_kib")]
    pub max_body_kib: u32,
    /// `Cache-Control: max-age` of availability reads.
    #[serde(default = "default_cache_max_age", deserialize_with = "duration")]
    pub cache_max_age: Duration,
    /// How long a looked-up API key is trusted before it is checked again (so a revoked key
    /// stops working within this time).
    #[serde(default = "default_key_cache_ttl", deserialize_with = "duration")]
    pub key_cache_ttl: Duration,
    /// The longest a product's availability is served from the cache (which drops it at
    /// once on any change); `"0s"` turns the cache off.
    #[serde(default = "default_read_cache_max_age", deserialize_with = "duration")]
    pub read_cache_max_age: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: default_listen(),
            request_timeout: default_request_timeout(),
            max_body_kib: default_max_body_kib(),
            cache_max_age: default_cache_max_age(),
            key_cache_ttl: default_key_cache_ttl(),
            read_cache_max_age: default_read_cache_max_age(),
        }
    }
}

/// `[holds]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldsConfig {
    /// A reservation's time to live when the request gives none.
    #[serde(default = "default_hold_ttl", deserialize_with = "duration")]
    pub default_ttl: Duration,
    /// The longest time to live a request may ask for.
    #[serde(default = "default_max_hold_ttl", deserialize_with = "duration")]
    pub max_ttl: Duration,
}

impl Default for HoldsConfig {
    fn default() -> Self {
        HoldsConfig {
            default_ttl: default_hold_ttl(),
            max_ttl: default_max_hold_ttl(),
        }
    }
}

/// `[rate_limit]`: a token bucket per API key (per process).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per second per key.
    #[serde(default = "default_per_second")]
    pub per_second: u32,
    /// Requests a key may make at once above the sustained rate.
    #[serde(default = "default_burst")]
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            per_second: default_per_second(),
            burst: default_burst(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8480))
}
const fn default_request_timeout() -> Duration {
    Duration::from_secs(10)
}
const fn default_max_body_kib() -> u32 {
    64
}
const fn default_cache_max_age() -> Duration {
    Duration::from_secs(5)
}
const fn default_key_cache_ttl() -> Duration {
    Duration::from_secs(10)
}
const fn default_read_cache_max_age() -> Duration {
    Duration::from_secs(60)
}
const fn default_hold_ttl() -> Duration {
    Duration::from_secs(15 * 60)
}
const fn default_max_hold_ttl() -> Duration {
    Duration::from_secs(2 * 3600)
}
const fn default_per_second() -> u32 {
    100
}
const fn default_burst() -> u32 {
    200
}

impl Config {
    /// Reads and checks the config at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::parse(path, &read(path)?)
    }

    /// Parses and checks config `text` (as if read from `path`).
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        parse_toml(path, text, Config::check)
    }

    fn check(&self) -> Result<(), (&'static str, String)> {
        let http = &self.http;
        if http.request_timeout.is_zero() {
            return Err(("http.request_timeout", "must be more than 0".into()));
        }
        if http.max_body_kib == 0 {
            return Err(("http.max_body_kib", "must be at least 1".into()));
        }
        self.postgres.check()?;
        let holds = &self.holds;
        if holds.default_ttl.is_zero() || holds.default_ttl > holds.max_ttl {
            let message = "must be more than 0 and at most holds.max_ttl";
            return Err(("holds.default_ttl", message.into()));
        }
        if holds.max_ttl > Duration::from_secs(7 * 86_400) {
            return Err(("holds.max_ttl", "must be at most 7 days".into()));
        }
        if self.rate_limit.per_second == 0 || self.rate_limit.burst == 0 {
            let message = "per_second and burst must be at least 1";
            return Err(("rate_limit.per_second", message.into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(Path::new("c.toml"), text).map_err(|e| e.to_string())
    }

    const MINIMAL: &str = "[postgres]\nurl = \"postgres://farm@127.0.0.1/farm\"\n";

    #[test]
    fn a_minimal_config_takes_the_documented_defaults() {
        let config = parse(MINIMAL).unwrap();
        assert_eq!(config.http.listen.port(), 8480);
        assert_eq!(config.http.request_timeout, Duration::from_secs(10));
        assert_eq!(config.http.cache_max_age, Duration::from_secs(5));
        assert_eq!(config.holds.default_ttl, Duration::from_secs(900));
        assert_eq!(config.rate_limit.per_second, 100);
        assert_eq!(config.postgres.pool_size, 8);
    }

    #[test]
    fn each_problem_names_its_key() {
        let cases = [
            ("[postgres]\nurl = \"x\"\n", "postgres.url"),
            ("[http]\nlisten = 5\n", "http.listen"),
            (
                "[http]\nrequest_timeout = \"soon\"\n",
                "http.request_timeout",
            ),
            ("[http]\nbogus = 1\n", "unknown field `bogus`"),
            ("[holds]\ndefault_ttl = \"3h\"\n", "holds.default_ttl"),
            ("[holds]\nmax_ttl = \"30d\"\n", "holds.max_ttl"),
            ("[rate_limit]\nburst = 0\n", "rate_limit.per_second"),
        ];
        for (extra, key) in cases {
            let text = if extra.starts_with("[postgres]") {
                extra.to_owned()
            } else {
                format!("{MINIMAL}{extra}")
            };
            let error = parse(&text).unwrap_err();
            assert!(error.contains(key), "{extra:?} gave {error}");
        }
        assert!(parse("").unwrap_err().contains("postgres"));
    }
}

//! `[sync]`: the uplink to the cloud sync-service (DESIGN.md §3.3). Schema, defaults, checks
//! and typed settings in one place, plus reading the two files it names: the device token
//! (`token_file`) and the optional CA bundle (`ca_file`).
//!
//! The files are read by [`super::load`] (and again by the uplink at start-up), never by
//! [`super::parse`], which looks at no file. The token never appears in a message: errors
//! name the file, not its content, and [`DeviceToken`]'s `Debug` is redacted.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use farm_protocol::MAX_BATCH_READINGS;
use reqwest::Url;
use serde::Deserialize;

use super::build::{check_duration, report_missing};
use super::error::Problem;
use super::units::HumanDuration;

/// Largest allowed `sync.batch_events`.
const MAX_BATCH_EVENTS: usize = 10_000;
/// Allowed `sync.interval`.
const INTERVAL_RANGE: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(3600));
/// Allowed `sync.timeout`.
const TIMEOUT_RANGE: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(3600));
/// Allowed `sync.max_backoff`.
const MAX_BACKOFF_RANGE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(3600));

/// `[sync]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table of sync settings ([sync])")]
pub(super) struct RawSync {
    /// Whether the uplink runs. Default false.
    #[serde(default)]
    pub enabled: bool,
    /// Base URL of the sync-service; batches go to `<url>/v1/batches`. Required when enabled.
    pub url: Option<String>,
    /// File holding the device token. Required when enabled.
    pub token_file: Option<PathBuf>,
    /// PEM bundle of extra trusted CA certificates. Default: none (webpki roots only).
    pub ca_file: Option<PathBuf>,
    /// Most readings per batch. Default 5000.
    #[serde(default = "default_batch_readings")]
    pub batch_readings: usize,
    /// Most events per batch. Default 1000.
    #[serde(default = "default_batch_events")]
    pub batch_events: usize,
    /// How often to look for new rows once caught up. Default 5s.
    #[serde(default = "default_interval")]
    pub interval: HumanDuration,
    /// Per-request timeout. Default 30s.
    #[serde(default = "default_timeout")]
    pub timeout: HumanDuration,
    /// Longest wait between retries. Default 5m.
    #[serde(default = "default_max_backoff")]
    pub max_backoff: HumanDuration,
    /// gzip level of request bodies, 0–9. Default 1.
    #[serde(default = "default_gzip_level")]
    pub gzip_level: u32,
}

/// `[sync]` when enabled: where and how batches are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfig {
    /// The sync-service's base URL (http or https, no credentials, query or fragment).
    pub url: Url,
    /// The file holding the device token (read at start-up, trimmed). A relative path is
    /// relative to the working directory of the process, like `agent.data_dir`.
    pub token_file: PathBuf,
    /// Extra trusted CA certificates (PEM), on top of the built-in webpki roots.
    pub ca_file: Option<PathBuf>,
    /// Most readings per batch (1 ..= 5000).
    pub batch_readings: usize,
    /// Most events per batch (1 ..= 10000).
    pub batch_events: usize,
    /// How long to wait before looking again once everything is synced.
    pub interval: Duration,
    /// Per-request timeout (connect, send, answer).
    pub timeout: Duration,
    /// Retries back off exponentially from 1 s up to this.
    pub max_backoff: Duration,
    /// gzip level of request bodies (0 = stored ..= 9 = smallest).
    pub gzip_level: u32,
}

impl SyncConfig {
    /// Where batches are POSTed: `<url>/v1/batches` (a path prefix of `url` is kept).
    pub fn batches_url(&self) -> Url {
        let mut url = self.url.clone();
        let path = format!("{}/v1/batches", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url
    }
}

/// The device token: sent as `Authorization: Bearer <token>`, never logged or displayed.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceToken(String);

impl DeviceToken {
    /// The secret itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceToken(<redacted>)")
    }
}

/// Reads the device token from `path`: trimmed, non-empty, printable ASCII without spaces
/// (it goes into an HTTP header). The error is a one-line message that never quotes the file.
pub fn read_token(path: &Path) -> Result<DeviceToken, String> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        format!(
            "cannot read the device token from {}: {err}",
            path.display()
        )
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!(
            "{} is empty; put the device token issued by the cloud in it",
            path.display()
        ));
    }
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(format!(
            "{} holds characters that cannot be sent in an HTTP header (the token must be printable ASCII without spaces)",
            path.display()
        ));
    }
    Ok(DeviceToken(token.to_owned()))
}

/// Reads the CA bundle at `path`: at least one PEM certificate.
pub fn read_ca(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path)
        .map_err(|err| format!("cannot read the CA bundle {}: {err}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|err| format!("{} is not a PEM certificate bundle: {err}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certs)
}

/// Checks `[sync]`; `None` when the uplink is off (its other keys are still checked).
pub(super) fn build_sync(raw: RawSync, problems: &mut Vec<Problem>) -> Option<SyncConfig> {
    let url = raw.url.as_deref().and_then(|text| base_url(text, problems));
    check_count(
        "sync.batch_readings",
        raw.batch_readings,
        MAX_BATCH_READINGS,
        problems,
    );
    check_count(
        "sync.batch_events",
        raw.batch_events,
        MAX_BATCH_EVENTS,
        problems,
    );
    check_duration("sync.interval", raw.interval.0, INTERVAL_RANGE, problems);
    check_duration("sync.timeout", raw.timeout.0, TIMEOUT_RANGE, problems);
    check_duration(
        "sync.max_backoff",
        raw.max_backoff.0,
        MAX_BACKOFF_RANGE,
        problems,
    );
    if raw.gzip_level > 9 {
        problems.push(Problem::new(
            "sync.gzip_level",
            format!("must be between 0 and 9, got {}", raw.gzip_level),
        ));
    }
    for (key, path) in [
        ("sync.token_file", &raw.token_file),
        ("sync.ca_file", &raw.ca_file),
    ] {
        if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            problems.push(Problem::new(key, "must not be empty"));
        }
    }
    if !raw.enabled {
        return None;
    }
    let when = "when [sync] enabled = true";
    if raw.url.is_none() {
        report_missing("sync.url".into(), when, problems);
    }
    if raw.token_file.is_none() {
        report_missing("sync.token_file".into(), when, problems);
    }
    Some(SyncConfig {
        url: url?,
        token_file: raw.token_file?,
        ca_file: raw.ca_file,
        batch_readings: raw.batch_readings,
        batch_events: raw.batch_events,
        interval: raw.interval.0,
        timeout: raw.timeout.0,
        max_backoff: raw.max_backoff.0,
        gzip_level: raw.gzip_level,
    })
}

/// Reads the files `[sync]` names (only [`super::load`] does): a problem for each that
/// cannot be used.
pub(super) fn check_files(sync: &SyncConfig, problems: &mut Vec<Problem>) {
    if let Err(message) = read_token(&sync.token_file) {
        problems.push(Problem::new("sync.token_file", message));
    }
    if let Some(ca_file) = &sync.ca_file {
        if let Err(message) = read_ca(ca_file) {
            problems.push(Problem::new("sync.ca_file", message));
        }
    }
}

/// The sync-service's base URL, or a problem saying why `text` is not one.
fn base_url(text: &str, problems: &mut Vec<Problem>) -> Option<Url> {
    let example = "write e.g. \"https://sync.example.com\"";
    let problem = match Url::parse(text) {
        Err(err) => format!("{text:?} is not a URL ({err}); {example}"),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => {
            format!("{text:?} must start with https:// (or http://); {example}")
        }
        Ok(url) if url.host_str().is_none_or(str::is_empty) => {
            format!("{text:?} has no host; {example}")
        }
        Ok(url) if !url.username().is_empty() || url.password().is_some() => {
            "must not hold credentials; the device token goes in token_file".to_owned()
        }
        Ok(url) if url.query().is_some() || url.fragment().is_some() => {
            format!("{text:?} must not have a query or fragment; {example}")
        }
        Ok(url) => return Some(url),
    };
    problems.push(Problem::new("sync.url", problem));
    None
}

/// Records a problem unless `1 <= value <= max`.
fn check_count(key: &str, value: usize, max: usize, problems: &mut Vec<Problem>) {
    if value == 0 || value > max {
        problems.push(Problem::new(
            key,
            format!("must be between 1 and {max}, got {value}"),
        ));
    }
}

const fn default_batch_readings() -> usize {
    MAX_BATCH_READINGS
}
const fn default_batch_events() -> usize {
    1000
}
const fn default_interval() -> HumanDuration {
    HumanDuration(Duration::from_secs(5))
}
const fn default_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(30))
}
const fn default_max_backoff() -> HumanDuration {
    HumanDuration(Duration::from_secs(300))
}
/// Level 1: JSON telemetry is repetitive, so the fastest level already shrinks it several
/// times over; higher levels save a little more at several times the CPU, which a Pi's
/// ingest and control loops share.
const fn default_gzip_level() -> u32 {
    1
}

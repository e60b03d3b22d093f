//! `[mqtt]` (the embedded broker and the ingest of room-node telemetry) and `[http]` (the
//! agent's HTTP port: `/metrics`): schema, defaults, checks and typed settings in one place.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::build::{check_duration, check_name};
use super::error::Problem;
use super::units::{ByteSize, HumanDuration};

/// `[mqtt]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table of MQTT settings ([mqtt])")]
pub(super) struct RawMqtt {
    /// Whether the broker runs. Default false: it needs users (or anonymous access) first.
    #[serde(default)]
    pub enabled: bool,
    /// Listen address. Default `0.0.0.0:1883`.
    #[serde(default = "default_mqtt_listen")]
    pub listen: String,
    /// TLS certificate chain (PEM); with `tls_key`, the broker speaks TLS only.
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Largest accepted payload. Default 16KiB.
    #[serde(default = "default_max_payload")]
    pub max_payload: ByteSize,
    /// Most simultaneous clients. Default 200.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Let clients connect without a username. Default false.
    #[serde(default)]
    pub allow_anonymous: bool,
    /// `[[mqtt.users]]`: who may connect.
    #[serde(default)]
    pub users: Vec<RawUser>,
    /// A node silent this long is reported stale. Default 2m.
    #[serde(default = "default_node_timeout")]
    pub node_timeout: HumanDuration,
    /// Readings stamped further ahead than this are dropped. Default 5m.
    #[serde(default = "default_max_clock_skew")]
    pub max_clock_skew: HumanDuration,
    /// Readings older than this are dropped. Default 24h.
    #[serde(default = "default_max_reading_age")]
    pub max_reading_age: HumanDuration,
    /// How often the retained `farm/<room>/state` is published. Default 10s.
    #[serde(default = "default_state_interval")]
    pub state_interval: HumanDuration,
}

/// One `[[mqtt.users]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a user table ([[mqtt.users]])")]
pub(super) struct RawUser {
    /// The username.
    pub name: String,
    /// The argon2 hash of the password (`edge-agent mqtt hash-password` makes one).
    pub password_hash: String,
}

/// `[http]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table of HTTP settings ([http])")]
pub(super) struct RawHttp {
    /// Listen address of `/metrics`. Default `0.0.0.0:8080`; `""` turns it off.
    #[serde(default = "default_http_listen")]
    pub listen: String,
    /// Argon2 hash of the bearer token that may change setpoints and overrides. Default
    /// none: changes are refused.
    pub api_token_hash: Option<String>,
}

/// `[mqtt]`: the embedded broker and the telemetry ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttConfig {
    /// Whether the broker runs.
    pub enabled: bool,
    /// Where it listens (port 0: any free port, for tests).
    pub listen: SocketAddr,
    /// Certificate and key (PEM) if the broker speaks TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Largest accepted payload, bytes.
    pub max_payload_bytes: usize,
    /// Most simultaneous clients.
    pub max_connections: usize,
    /// Whether clients may connect without a username.
    pub allow_anonymous: bool,
    /// (username, argon2 PHC hash) pairs.
    pub users: Vec<(String, String)>,
    /// A node silent this long is reported stale.
    pub node_timeout: Duration,
    /// Readings stamped further ahead than this are dropped.
    pub max_clock_skew: Duration,
    /// Readings older than this are dropped.
    pub max_reading_age: Duration,
    /// How often `farm/<room>/state` is published.
    pub state_interval: Duration,
}

/// `[http]`: the agent's HTTP port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Where `/metrics` and the control API are served; `None` = off.
    pub listen: Option<SocketAddr>,
    /// Argon2 (PHC string) hash of the API's bearer token; `None` refuses every change.
    pub api_token_hash: Option<String>,
}

/// Checks `[mqtt]`.
pub(super) fn build_mqtt(raw: RawMqtt, problems: &mut Vec<Problem>) -> MqttConfig {
    let listen =
        address("mqtt.listen", &raw.listen, problems).unwrap_or(([0, 0, 0, 0], 1883).into());
    let tls = match (raw.tls_cert, raw.tls_key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => {
            problems.push(Problem::new("mqtt.tls_key", "required with tls_cert"));
            None
        }
        (None, Some(_)) => {
            problems.push(Problem::new("mqtt.tls_cert", "required with tls_key"));
            None
        }
    };
    if raw.max_payload.0 < 64 || raw.max_payload.0 > 1 << 20 {
        problems.push(Problem::new(
            "mqtt.max_payload",
            "must be between 64B and 1MiB",
        ));
    }
    if raw.max_connections == 0 || raw.max_connections > 10_000 {
        problems.push(Problem::new(
            "mqtt.max_connections",
            "must be between 1 and 10000",
        ));
    }
    if raw.enabled && raw.users.is_empty() && !raw.allow_anonymous {
        problems.push(Problem::new(
            "mqtt.users",
            "no [[mqtt.users]] and allow_anonymous = false: no room node could connect; add a user (hash its password with `edge-agent mqtt hash-password`)",
        ));
    }
    if raw.allow_anonymous && !raw.users.is_empty() {
        problems.push(Problem::new(
            "mqtt.allow_anonymous",
            "cannot be combined with [[mqtt.users]]: with anonymous access every client is let in, so the passwords would check nothing",
        ));
    }
    let mut users = Vec::new();
    for (i, user) in raw.users.into_iter().enumerate() {
        let key = format!("mqtt.users[{i}]");
        check_name(&format!("{key}.name"), &user.name, problems);
        if users.iter().any(|(name, _)| *name == user.name) {
            problems.push(Problem::new(
                format!("{key}.name"),
                format!("duplicate user {:?}", user.name),
            ));
        }
        if !user.password_hash.starts_with("$argon2") {
            problems.push(Problem::new(
                format!("{key}.password_hash"),
                "not an argon2 hash (\"$argon2id$…\"); make one with `edge-agent mqtt hash-password`",
            ));
        }
        users.push((user.name, user.password_hash));
    }
    let minute = (Duration::from_secs(1), Duration::from_secs(7 * 24 * 3600));
    check_duration("mqtt.node_timeout", raw.node_timeout.0, minute, problems);
    check_duration(
        "mqtt.max_clock_skew",
        raw.max_clock_skew.0,
        minute,
        problems,
    );
    check_duration(
        "mqtt.max_reading_age",
        raw.max_reading_age.0,
        minute,
        problems,
    );
    check_duration(
        "mqtt.state_interval",
        raw.state_interval.0,
        (Duration::from_secs(1), Duration::from_secs(3600)),
        problems,
    );
    MqttConfig {
        enabled: raw.enabled,
        listen,
        tls,
        max_payload_bytes: usize::try_from(raw.max_payload.0).unwrap_or(usize::MAX),
        max_connections: raw.max_connections,
        allow_anonymous: raw.allow_anonymous,
        users,
        node_timeout: raw.node_timeout.0,
        max_clock_skew: raw.max_clock_skew.0,
        max_reading_age: raw.max_reading_age.0,
        state_interval: raw.state_interval.0,
    }
}

/// Checks `[http]`.
pub(super) fn build_http(raw: RawHttp, problems: &mut Vec<Problem>) -> HttpConfig {
    let listen = if raw.listen.is_empty() {
        None
    } else {
        address("http.listen", &raw.listen, problems)
    };
    if let Some(hash) = &raw.api_token_hash {
        if !hash.starts_with("$argon2") {
            problems.push(Problem::new(
                "http.api_token_hash",
                "not an argon2 hash; make one with `edge-agent mqtt hash-password`",
            ));
        }
    }
    HttpConfig {
        listen,
        api_token_hash: raw.api_token_hash,
    }
}

fn address(key: &str, text: &str, problems: &mut Vec<Problem>) -> Option<SocketAddr> {
    text.parse()
        .map_err(|_| {
            problems.push(Problem::new(
                key,
                format!("{text:?} is not an address like \"0.0.0.0:1883\""),
            ))
        })
        .ok()
}

fn default_mqtt_listen() -> String {
    "0.0.0.0:1883".to_owned()
}
fn default_http_listen() -> String {
    "0.0.0.0:8080".to_owned()
}
const fn default_max_payload() -> ByteSize {
    ByteSize(16 << 10)
}
const fn default_max_connections() -> usize {
    200
}
const fn default_node_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(120))
}
const fn default_max_clock_skew() -> HumanDuration {
    HumanDuration(Duration::from_secs(300))
}
const fn default_max_reading_age() -> HumanDuration {
    HumanDuration(Duration::from_secs(24 * 3600))
}
const fn default_state_interval() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}

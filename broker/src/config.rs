//! The broker's configuration and its checks.
//!
//! # Memory bound
//! rumqttd keeps, per distinct subscription *filter* (not per topic and not per client), an
//! in-memory log of at most `log_segment_count` segments of `log_segment_bytes` each (plus one
//! packet of overshoot per segment). A filter's log lives as long as the broker, even after its
//! subscribers left. So the routed data takes at most about
//! `distinct filters × log_segment_count × (log_segment_bytes + max_payload_bytes)`:
//! with the defaults (1 MiB × 2) and the agent's handful of filters, a few tens of MiB. On top
//! come one retained message per retained topic (rumqttd does not cap their number) and small
//! per-connection buffers. A subscriber that falls further behind than its filter's log skips
//! the oldest messages.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::password::check_hash;
use crate::BrokerError;

/// Default MQTT port.
pub const DEFAULT_PORT: u16 = 1883;
/// Default [`BrokerConfig::max_payload_bytes`]: 16 KiB.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 16 * 1024;
/// Default [`BrokerConfig::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 200;
/// Default [`BrokerConfig::max_inflight`].
pub const DEFAULT_MAX_INFLIGHT: u16 = 100;
/// Default [`BrokerConfig::log_segment_bytes`]: 1 MiB.
pub const DEFAULT_LOG_SEGMENT_BYTES: usize = 1024 * 1024;
/// Default [`BrokerConfig::log_segment_count`].
pub const DEFAULT_LOG_SEGMENT_COUNT: usize = 2;
/// The largest payload limit MQTT can express (its remaining-length field), less headroom.
const MQTT_MAX_PACKET: usize = 268_435_455 - crate::server::PACKET_HEADROOM;

/// Everything the embedded broker needs. `Default` gives a broker on `0.0.0.0:1883` that
/// requires a user name and password (and has no users yet: add some, or allow anonymous).
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Address of the MQTT (3.1.1) listener. Port 0 picks a free port; [`crate::Broker::local_addr`]
    /// reports it.
    pub listen: SocketAddr,
    /// Serve MQTT over TLS (rustls) on `listen` instead of plain TCP.
    pub tls: Option<TlsConfig>,
    /// Largest publish payload accepted from a network client, in bytes. A client that sends a
    /// bigger packet is disconnected (MQTT 3.1.1 has no way to refuse one publish); its message
    /// is not delivered. The limit is enforced on the whole packet with
    /// [`crate::PACKET_HEADROOM`] bytes added for the topic, so a payload of exactly this
    /// size is accepted when its topic is shorter than about 250 bytes.
    pub max_payload_bytes: usize,
    /// Most simultaneous connections, network clients and in-process links together; more are
    /// refused.
    pub max_connections: usize,
    /// Most packets read from one client in one batch before the broker serves others.
    pub max_inflight: u16,
    /// Size of one segment of a subscription filter's in-memory log, in bytes (at least 1024).
    /// See the module docs for the memory bound.
    pub log_segment_bytes: usize,
    /// Segments kept per subscription filter (at least 1).
    pub log_segment_count: usize,
    /// Accounts allowed to log in. Must be empty when `allow_anonymous` is set.
    pub users: Vec<User>,
    /// Let clients connect without checking credentials. rumqttd 0.20 cannot check passwords
    /// and allow anonymous clients at once: in this mode every client is accepted, whatever
    /// user name and password it sends, so `users` must be empty.
    pub allow_anonymous: bool,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], DEFAULT_PORT)),
            tls: None,
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_inflight: DEFAULT_MAX_INFLIGHT,
            log_segment_bytes: DEFAULT_LOG_SEGMENT_BYTES,
            log_segment_count: DEFAULT_LOG_SEGMENT_COUNT,
            users: Vec::new(),
            allow_anonymous: false,
        }
    }
}

/// Certificate and key for the TLS listener, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The server certificate chain (PEM, leaf first).
    pub cert_path: PathBuf,
    /// The server's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_path: PathBuf,
}

/// An account allowed to log in.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The MQTT user name.
    pub name: String,
    /// The password's argon2 PHC string, as made by [`crate::hash_password`].
    pub password_hash: String,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

impl BrokerConfig {
    /// Checks the config without starting anything: limits, users and their hashes, TLS files.
    /// The error names the offending field.
    pub fn validate(&self) -> Result<(), BrokerError> {
        if self.max_payload_bytes == 0 || self.max_payload_bytes > MQTT_MAX_PACKET {
            return Err(BrokerError::config(
                "max_payload_bytes",
                format!("must be between 1 and {MQTT_MAX_PACKET}"),
            ));
        }
        if self.max_connections == 0 {
            return Err(BrokerError::config("max_connections", "must be at least 1"));
        }
        if self.max_inflight == 0 {
            return Err(BrokerError::config("max_inflight", "must be at least 1"));
        }
        if self.log_segment_bytes < 1024 {
            return Err(BrokerError::config(
                "log_segment_bytes",
                "must be at least 1024",
            ));
        }
        if self.log_segment_count == 0 {
            return Err(BrokerError::config(
                "log_segment_count",
                "must be at least 1",
            ));
        }
        self.validate_users()?;
        if let Some(tls) = &self.tls {
            tls.validate()?;
        }
        Ok(())
    }

    fn validate_users(&self) -> Result<(), BrokerError> {
        if self.allow_anonymous && !self.users.is_empty() {
            return Err(BrokerError::config(
                "allow_anonymous",
                "cannot be combined with users: rumqttd 0.20 would then accept any user name \
                 and password; remove the users or set allow_anonymous = false",
            ));
        }
        if !self.allow_anonymous && self.users.is_empty() {
            return Err(BrokerError::config(
                "users",
                "no users configured and allow_anonymous is false: every client would be refused",
            ));
        }
        let mut names = HashSet::new();
        for (i, user) in self.users.iter().enumerate() {
            if user.name.is_empty() {
                return Err(BrokerError::config(format!("users[{i}].name"), "is empty"));
            }
            if !names.insert(user.name.as_str()) {
                return Err(BrokerError::config(
                    format!("users[{i}].name"),
                    format!("user {:?} is listed twice", user.name),
                ));
            }
            check_hash(&user.password_hash).map_err(|reason| {
                BrokerError::config(format!("users[{i}].password_hash"), reason)
            })?;
        }
        Ok(())
    }
}

impl TlsConfig {
    /// Checks that both files can be read, hold PEM certificates and a private key, and that
    /// rustls accepts the pair.
    pub fn validate(&self) -> Result<(), BrokerError> {
        crate::tls::server_config(self).map(drop)
    }
}

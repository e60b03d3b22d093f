//! The one error type of the crate.

use std::net::SocketAddr;

/// Why the broker, a link or a password operation failed. Messages name the config field or the
/// address involved, so they can be shown to an operator as they are.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A config value is invalid; `field` is its path in [`crate::BrokerConfig`]
    /// (`users[1].password_hash`, `tls.cert_path`, …).
    #[error("broker config `{field}`: {reason}")]
    Config {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Hashing a password failed (the system random source is unavailable).
    #[error("hashing the password failed: {0}")]
    Hash(String),
    /// A stored password hash could not be read.
    #[error("invalid password hash: {0}")]
    InvalidHash(String),
    /// The MQTT listener could not be started (address in use, no permission, not accepting
    /// connections in time).
    #[error("MQTT listener on {addr}: {reason}")]
    Listen {
        /// The address the listener was to use.
        addr: SocketAddr,
        /// What went wrong.
        reason: String,
    },
    /// A thread of the broker could not be started.
    #[error("starting the {name} thread: {source}")]
    Thread {
        /// The thread's name.
        name: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The broker refused to open an in-process link (bad client id, too many connections).
    #[error("in-process link {client_id:?}: {reason}")]
    Link {
        /// The link's client id.
        client_id: String,
        /// Why it was refused.
        reason: String,
    },
    /// The broker closed the link: another link or client took the same client id, or the broker
    /// is gone. Open a new link to go on.
    #[error("in-process link {client_id:?} was closed by the broker")]
    LinkClosed {
        /// The link's client id.
        client_id: String,
    },
    /// A topic (publish) or topic filter (subscribe) is not valid MQTT.
    #[error("invalid MQTT topic {topic:?}: {reason}")]
    Topic {
        /// The topic or filter.
        topic: String,
        /// Why it is invalid.
        reason: &'static str,
    },
}

impl BrokerError {
    pub(crate) fn config(field: impl Into<String>, reason: impl Into<String>) -> BrokerError {
        BrokerError::Config {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

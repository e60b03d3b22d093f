//! The embedded MQTT broker of the edge agent, wrapping rumqttd 0.20. This is the only crate
//! that imports rumqttd; no rumqttd type appears in its public API.
//!
//! Growing-room nodes publish to it over MQTT 3.1.1 (plain TCP, or TLS with rustls) with a user
//! name and password; the agent reads and publishes through in-process [`Link`]s.
//!
//! ```no_run
//! use farm_broker::{hash_password, Broker, BrokerConfig, User};
//!
//! let config = BrokerConfig {
//!     users: vec![User { name: "room1".into(), password_hash: hash_password("s3cret")? }],
//!     ..BrokerConfig::default()
//! };
//! let broker = Broker::start(config)?;
//! let mut link = broker.link("agent-ingest")?;
//! link.subscribe("farm/#")?;
//! link.publish("farm/agent/status", b"online", true)?;
//! let message = link.recv()?; // blocks: run on its own thread
//! println!("{} {:?}", message.topic, message.payload);
//! # Ok::<(), farm_broker::BrokerError>(())
//! ```
//!
//! # Layout
//! - `config`: [`BrokerConfig`], [`TlsConfig`], [`User`], their checks and the memory bound.
//! - `server`: [`Broker`]: starts rumqttd's router and listener, reserves port 0, makes links.
//! - `link`: [`Link`], its halves [`LinkSender`] / [`LinkReceiver`], [`Message`].
//! - `tls`: the TLS front (handshake with a timeout, then a relay to rumqttd's loopback port).
//! - `auth`: the login check (argon2 on worker threads behind rumqttd's async auth handler).
//! - `password`: [`hash_password`], [`verify_password`] and the argon2 parameters.
//! - `clients`: counting connected network clients from the kernel's socket tables.
//! - `error`: [`BrokerError`].
//!
//! # rumqttd 0.20 limits to know
//! - No shutdown: the listener runs until the process exits.
//! - No persistence: retained messages and queued data live in memory only.
//! - No per-topic ACL: a logged-in client may publish and subscribe anywhere.
//! - Authentication is all or nothing: with `allow_anonymous` every client is accepted
//!   whatever credentials it sends (so users can not be configured then).
//! - A refused login gets no CONNACK: the broker closes the connection.
//! - A packet over the size limit closes the client's connection (MQTT 3.1.1 cannot refuse one
//!   publish); its message is not delivered.
//! - rumqttd's own TLS performs the handshake inside its accept loop without a timeout (one
//!   stalled client blocks every new connection), so this crate terminates TLS itself (rustls
//!   0.23, ring) and relays to rumqttd listening on 127.0.0.1; see `tls`.
//! - rumqttd logs ordinary events (a client disconnecting, a refused login) at ERROR level
//!   under the `rumqttd` target; filter it (e.g. `rumqttd=warn` or `rumqttd=off`) in the
//!   daemon's log config.
#![deny(missing_docs)]

mod auth;
mod clients;
mod config;
mod error;
mod link;
mod password;
mod server;
mod tls;

pub use config::{
    BrokerConfig, TlsConfig, User, DEFAULT_LOG_SEGMENT_BYTES, DEFAULT_LOG_SEGMENT_COUNT,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_INFLIGHT, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_PORT,
};
pub use error::BrokerError;
pub use link::{Link, LinkReceiver, LinkSender, Message};
pub use password::{
    hash_password, verify_password, HASH_ITERATIONS, HASH_MEMORY_KIB, HASH_PARALLELISM,
    MAX_VERIFY_ITERATIONS, MAX_VERIFY_MEMORY_KIB,
};
pub use server::{Broker, LISTEN_TIMEOUT, PACKET_HEADROOM};

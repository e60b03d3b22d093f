//! The farm edge agent: samples sensors, keeps the latest state of every room and buffers every
//! reading and event durably until the cloud has it. Control loops, the embedded MQTT broker,
//! the uplink and the panel arrive with later issues.
//!
//! # Layout
//! - [`config`]: the TOML config file, parsed and validated into typed settings.
//! - [`outbox`]: the durable SQLite outbox (DESIGN.md §3.2), owned by its own thread.
//! - [`state`]: the latest value of every (room, metric).
//! - [`sampler`]: one task per sensor, feeding the state and the outbox.
//! - [`agent`]: `run`: wires the parts together and shuts down cleanly.
#![deny(missing_docs)]

pub mod agent;
pub mod config;
pub mod outbox;
pub mod sampler;
pub mod state;

use std::time::{SystemTime, UNIX_EPOCH};

use farm_protocol::UnixMillis;

/// Wall-clock now in unix ms. Only I/O code calls it; logic takes time as an argument.
pub(crate) fn now_ms() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

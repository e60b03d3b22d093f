//! The farm edge agent.
//!
//! # Layout
//! - [`config`]: the TOML config file, parsed and validated into typed settings.
//! - [`outbox`]: the durable SQLite outbox (DESIGN.md §3.2), owned by its own thread.
#![deny(missing_docs)]

pub mod config;
pub mod outbox;

use std::time::{SystemTime, UNIX_EPOCH};

use farm_protocol::UnixMillis;

/// Wall-clock now in unix ms. Only I/O code calls it; logic takes time as an argument.
pub(crate) fn now_ms() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

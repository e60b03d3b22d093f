//! The farm edge agent: samples sensors, keeps the latest state of every room and buffers every
//! reading and event durably until the cloud has it, and sends it there, and serves the
//! local control panel to farm managers.
//!
//! # Layout
//! - [`actuators`]: the configured actuators, driven to their safe state at start and stop.
//! - [`commission`]: `sensors read` and `i2c scan`, for technicians.
//! - [`config`]: the TOML config file, parsed and validated into typed settings.
//! - [`control`]: the control loops: pure `step(now, observations)` and the thread running it.
//! - [`fault`]: sensor faults as pure logic: stuck values, one alarm per outage, backoff.
//! - [`http`]: the agent's HTTP port: `/metrics`.
//! - [`ingest`]: telemetry from room nodes over MQTT: parsing, validation, drop counters.
//! - [`mqtt`]: the embedded broker: ingest thread, retained status and room states.
//! - [`outbox`]: the durable SQLite outbox (DESIGN.md §3.2), owned by its own thread.
//! - [`state`]: the latest value of every (room, metric).
//! - [`room_state`]: the retained `farm/<room>/state` document.
//! - [`sampler`]: one task per sensor, feeding the state and the outbox.
//! - [`uplink`]: sends the outbox to the cloud sync-service in seq-ordered gzip batches.
//! - [`sensors`]: turning the configured sensors into readers (direct, or on a bus thread).
//! - [`agent`]: `run`: wires the parts together and shuts down cleanly.
//! - [`api`]: the control API on the HTTP port: view, setpoints, loop settings, manual overrides.
//! - [`change`]: carrying out a control change (API and panel): apply, save, log its events.
//! - [`harvest`]: harvest entry on the HTTP port: checked, then a durable outbox event.
//! - [`panel`]: the control panel on the HTTP port: sign-in, sessions, CSRF, its pages.
#![deny(missing_docs)]

pub mod actuators;
pub mod agent;
pub mod api;
pub mod change;
pub mod commission;
pub mod config;
pub mod control;
pub mod fault;
pub mod harvest;
pub mod http;
pub mod ingest;
pub mod mqtt;
pub mod outbox;
pub mod panel;
pub mod room_state;
pub mod sampler;
pub mod sensors;
pub mod state;
pub mod uplink;

use std::time::{SystemTime, UNIX_EPOCH};

use farm_protocol::UnixMillis;

/// Wall-clock now in unix ms. Only I/O code calls it; logic takes time as an argument.
pub(crate) fn now_ms() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

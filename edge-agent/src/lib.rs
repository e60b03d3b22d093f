//! The farm edge agent: samples sensors, buffers every reading and event durably, and (in
//! later issues) runs control loops, an embedded MQTT broker and the cloud uplink.
//!
//! # Layout
//! - [`config`]: the TOML config file, parsed and validated into typed settings.
//! - [`outbox`]: the durable SQLite outbox (DESIGN.md §3.2), owned by its own thread.
#![deny(missing_docs)]

pub mod config;
pub mod outbox;

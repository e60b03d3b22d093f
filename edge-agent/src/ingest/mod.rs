//! Telemetry from growing-room nodes over MQTT (DESIGN.md §3.1): parse and validate each
//! message ([`parse`]), hand good readings to the same path as local sensors, count what is
//! dropped by reason, and notice nodes that fell silent.
//!
//! - `parse`: topic + payload → readings and drop reasons (pure).
//! - `nodes`: which nodes went silent (pure).
//! - `run`: the per-message path into state and outbox, and the node watch.
//! - `stats`: the counters, shared with `/metrics`.

pub mod nodes;
pub mod parse;
pub mod run;
pub mod stats;

pub use nodes::{NodeChange, NodeTracker};
pub use parse::{parse, DropReason, NodeReading, Parsed, TimeLimits};
pub use run::{Ingest, TELEMETRY_FILTER};
pub use stats::IngestStats;

//! Wire types shared by the edge agent and the cloud services.
//!
//! Nothing in this crate does I/O: it defines what a reading, an event and a sync batch look
//! like on the wire (DESIGN.md §3.1–§3.3) and the registry of metrics with their units and
//! physical ranges.
//!
//! # Layout
//! - [`metric`]: the metric registry ([`Metric`]): name, unit, physical range.
//! - [`reading`]: one measured value ([`Reading`]) and where it came from ([`Source`]).
//! - [`event`]: things that happened ([`Event`]): harvests, actuator changes, setpoint and loop
//!   settings changes, manual overrides, alarms.
//! - [`batch`]: the body of `POST /v1/batches` ([`Batch`]) and its answer ([`BatchAck`]).
#![deny(missing_docs)]

pub mod batch;
pub mod event;
pub mod metric;
pub mod reading;

pub use batch::{Batch, BatchAck, BatchError, MAX_BATCH_READINGS, SCHEMA_VERSION};
pub use event::{Event, EventKind, Harvest, Severity, SwitchState};
pub use metric::{Metric, MetricError};
pub use reading::{Reading, Source};

/// The longest room, node, sensor or device name.
pub const MAX_NAME_LEN: usize = 64;

/// Whether `name` is a valid room, node, sensor, actuator or device name: 1–64 characters of
/// `[A-Za-z0-9._-]`. Rooms and nodes are MQTT topic levels and InfluxDB tags, so no
/// separators, wildcards or spaces.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A per-device sequence number: strictly increasing, never reused (DESIGN.md §3.2).
pub type Seq = u64;

/// Milliseconds since the Unix epoch, as measured by the device.
pub type UnixMillis = i64;

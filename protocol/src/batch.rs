//! The sync batch: the body of `POST /v1/batches` and its answer (DESIGN.md §3.3).
//!
//! A batch carries everything the device has with `first_seq <= seq <= last_seq` that is still
//! in its outbox. Sequence numbers may be missing inside the range (telemetry evicted locally),
//! but every item's `seq` lies inside it and no `seq` appears twice.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::{Event, Reading, Seq};

/// The batch schema version this crate speaks.
pub const SCHEMA_VERSION: u32 = 1;

/// The most readings one batch may carry (InfluxDB's recommended write size).
pub const MAX_BATCH_READINGS: usize = 5_000;

/// A batch of readings and events from one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// Always [`SCHEMA_VERSION`].
    pub schema: u32,
    /// The sending device.
    pub device_id: String,
    /// The lowest sequence number the batch covers.
    pub first_seq: Seq,
    /// The highest sequence number the batch covers.
    pub last_seq: Seq,
    /// Telemetry, in any order.
    #[serde(default)]
    pub readings: Vec<Reading>,
    /// Events, in any order.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// The service's answer to an accepted batch: everything `<= acked_seq` is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchAck {
    /// The highest sequence number the cloud has durably stored for this device.
    pub acked_seq: Seq,
}

/// Why a batch is not acceptable. Each is a permanent (4xx) rejection.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatchError {
    /// `schema` is not [`SCHEMA_VERSION`].
    #[error("unsupported batch schema {0}; this service speaks schema {SCHEMA_VERSION}")]
    Schema(u32),
    /// `device_id` is empty.
    #[error("device_id is empty")]
    NoDevice,
    /// `first_seq > last_seq`.
    #[error("first_seq {first} is greater than last_seq {last}")]
    Range {
        /// The batch's `first_seq`.
        first: Seq,
        /// The batch's `last_seq`.
        last: Seq,
    },
    /// More readings than [`MAX_BATCH_READINGS`].
    #[error("batch has {0} readings; at most {MAX_BATCH_READINGS} are allowed (split it)")]
    TooLarge(usize),
    /// An item's `seq` lies outside `first_seq..=last_seq`.
    #[error("seq {0} lies outside the batch's first_seq..=last_seq")]
    SeqOutOfRange(Seq),
    /// Two items share a `seq`.
    #[error("seq {0} appears more than once")]
    DuplicateSeq(Seq),
    /// A reading's value is NaN, infinite or outside its metric's physical range.
    #[error("reading seq {seq}: {metric} value {value} is outside the physical range")]
    Implausible {
        /// The reading's seq.
        seq: Seq,
        /// The metric's name.
        metric: &'static str,
        /// The offending value.
        value: f64,
    },
}

impl Batch {
    /// Checks the invariants a receiver relies on; the first violation found is returned.
    pub fn validate(&self) -> Result<(), BatchError> {
        if self.schema != SCHEMA_VERSION {
            return Err(BatchError::Schema(self.schema));
        }
        if self.device_id.is_empty() {
            return Err(BatchError::NoDevice);
        }
        if self.first_seq > self.last_seq {
            return Err(BatchError::Range {
                first: self.first_seq,
                last: self.last_seq,
            });
        }
        if self.readings.len() > MAX_BATCH_READINGS {
            return Err(BatchError::TooLarge(self.readings.len()));
        }
        let range = self.first_seq..=self.last_seq;
        let mut seen = HashSet::with_capacity(self.readings.len() + self.events.len());
        let seqs = self
            .readings
            .iter()
            .map(|r| r.seq)
            .chain(self.events.iter().map(|e| e.seq));
        for seq in seqs {
            if !range.contains(&seq) {
                return Err(BatchError::SeqOutOfRange(seq));
            }
            if !seen.insert(seq) {
                return Err(BatchError::DuplicateSeq(seq));
            }
        }
        if let Some(r) = self
            .readings
            .iter()
            .find(|r| !r.metric.is_plausible(r.value))
        {
            return Err(BatchError::Implausible {
                seq: r.seq,
                metric: r.metric.name(),
                value: r.value,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

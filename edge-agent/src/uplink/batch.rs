//! From the outbox to the wire: [`Pending`] → [`Batch`] → JSON → gzip ([`encode`], run on a
//! blocking thread by the loop), and the smaller [`Limits`] a batch is retried with after the
//! service answered 413 ([`Limits::split`]).
//!
//! Invariants: an encoded batch covers exactly the seq range the outbox gave it
//! (`first_seq..=last_seq` with every unsynced item in it), and a split batch starts at the
//! same `first_seq` and covers a strict prefix of the refused one, so it always makes progress
//! and never skips a row.

use std::io::Write as _;

use farm_protocol::{Batch, Seq, SCHEMA_VERSION};
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::outbox::Pending;

/// How many items the next batch may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most readings.
    pub readings: usize,
    /// Most events.
    pub events: usize,
}

/// A batch ready to send: its range, its counts and its gzip-compressed JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The lowest seq the batch covers.
    pub first_seq: Seq,
    /// The highest seq the batch covers.
    pub last_seq: Seq,
    /// How many readings it carries.
    pub readings: usize,
    /// How many events it carries.
    pub events: usize,
    /// It reached a limit, so more rows may be waiting right behind it.
    pub full: bool,
    /// The request body: gzip of the JSON batch.
    pub body: Vec<u8>,
}

/// A batch could not be encoded (a bug, not a network problem).
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// serde_json refused the batch.
    #[error("cannot serialize batch: {0}")]
    Json(#[from] serde_json::Error),
    /// gzip failed (writing to memory: not expected).
    #[error("cannot compress batch: {0}")]
    Gzip(#[from] std::io::Error),
}

/// Turns `pending` (read with `limits`) into the body of `POST /v1/batches` from `device_id`,
/// compressed at `gzip_level` (0–9). CPU-bound: call it on a blocking thread.
pub fn encode(
    pending: Pending,
    device_id: &str,
    limits: Limits,
    gzip_level: u32,
) -> Result<Prepared, EncodeError> {
    let readings = pending.readings.len();
    let events = pending.events.len();
    let batch = Batch {
        schema: SCHEMA_VERSION,
        device_id: device_id.to_owned(),
        first_seq: pending.first_seq,
        last_seq: pending.last_seq,
        readings: pending.readings,
        events: pending.events,
    };
    let json = serde_json::to_vec(&batch)?;
    let mut gzip = GzEncoder::new(
        Vec::with_capacity(json.len() / 4),
        Compression::new(gzip_level.min(9)),
    );
    gzip.write_all(&json)?;
    Ok(Prepared {
        first_seq: batch.first_seq,
        last_seq: batch.last_seq,
        readings,
        events,
        full: readings >= limits.readings || events >= limits.events,
        body: gzip.finish()?,
    })
}

impl Limits {
    /// The limits to retry with after the service refused `sent` as too large (413): half
    /// of each of its counts (at least 1). The outbox then cuts a strict prefix of the same
    /// range. `None` when `sent` holds a single item and cannot be split.
    pub fn split(sent: &Prepared) -> Option<Limits> {
        if sent.readings + sent.events <= 1 {
            return None;
        }
        Some(Limits {
            readings: (sent.readings / 2).max(1),
            events: (sent.events / 2).max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use farm_protocol::{Event, EventKind, Metric, Reading, Severity, Source};
    use uuid::Uuid;

    use super::*;

    fn reading(seq: Seq) -> Reading {
        Reading {
            seq,
            ts: 1_700_000_000_000 + seq as i64,
            room: "fruiting-1".into(),
            source: Source::Sensor("climate-a".into()),
            metric: Metric::Humidity,
            value: 90.5,
        }
    }

    fn alarm(seq: Seq) -> Event {
        Event {
            seq,
            id: Uuid::from_u128(u128::from(seq)),
            ts: 1_700_000_000_000,
            kind: EventKind::Alarm {
                room: None,
                code: "test".into(),
                severity: Severity::Warning,
                active: true,
                message: "m".into(),
            },
        }
    }

    fn pending(readings: &[Seq], events: &[Seq]) -> Pending {
        Pending {
            first_seq: readings.iter().chain(events).copied().min().unwrap_or(1),
            last_seq: readings.iter().chain(events).copied().max().unwrap_or(1),
            readings: readings.iter().copied().map(reading).collect(),
            events: events.iter().copied().map(alarm).collect(),
        }
    }

    fn prepared(readings: usize, events: usize) -> Prepared {
        Prepared {
            first_seq: 1,
            last_seq: (readings + events) as Seq,
            readings,
            events,
            full: false,
            body: Vec::new(),
        }
    }

    const ROOMY: Limits = Limits {
        readings: 100,
        events: 100,
    };

    #[test]
    fn the_body_is_gzip_of_a_valid_batch_with_the_same_range_and_items() {
        let source = pending(&[3, 4, 6], &[5]);
        let sent = encode(source.clone(), "test-pi", ROOMY, 1).expect("encode");
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(sent.body.as_slice())
            .read_to_end(&mut json)
            .expect("gzip");
        let batch: Batch = serde_json::from_slice(&json).expect("a batch");
        batch.validate().expect("valid");
        assert_eq!((batch.schema, batch.device_id.as_str()), (1, "test-pi"));
        assert_eq!((batch.first_seq, batch.last_seq), (3, 6));
        assert_eq!(
            (batch.readings, batch.events),
            (source.readings, source.events)
        );
        assert_eq!(
            (sent.first_seq, sent.last_seq, sent.readings, sent.events),
            (3, 6, 3, 1)
        );
        assert!(!sent.full);
    }

    #[test]
    fn a_batch_that_reached_a_limit_is_full() {
        let limits = Limits {
            readings: 3,
            events: 10,
        };
        assert!(
            encode(pending(&[1, 2, 3], &[]), "d", limits, 0)
                .expect("encode")
                .full
        );
        let events = Limits {
            readings: 10,
            events: 1,
        };
        assert!(
            encode(pending(&[1], &[2]), "d", events, 9)
                .expect("encode")
                .full
        );
    }

    #[test]
    fn repetitive_telemetry_compresses_well_even_at_level_one() {
        let seqs: Vec<Seq> = (1..=5000).collect();
        let json = serde_json::to_vec(&pending(&seqs, &[]).readings).expect("json");
        let sent = encode(pending(&seqs, &[]), "d", ROOMY, 1).expect("encode");
        assert!(
            sent.body.len() * 5 < json.len(),
            "{} of {}",
            sent.body.len(),
            json.len()
        );
    }

    #[test]
    fn split_halves_each_count_and_stops_at_one_item() {
        let half = |r, e| Limits::split(&prepared(r, e));
        assert_eq!(
            half(5000, 3),
            Some(Limits {
                readings: 2500,
                events: 1
            })
        );
        assert_eq!(
            half(3, 0),
            Some(Limits {
                readings: 1,
                events: 1
            })
        );
        assert_eq!(
            half(1, 1),
            Some(Limits {
                readings: 1,
                events: 1
            })
        );
        assert_eq!(
            half(0, 8),
            Some(Limits {
                readings: 1,
                events: 4
            })
        );
        assert_eq!(half(1, 0), None);
        assert_eq!(half(0, 1), None);
    }
}

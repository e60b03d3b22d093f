//! The PostgreSQL side of one batch, in one transaction that holds the device's row lock
//! from before the InfluxDB write until the watermark moves: batches of one device are
//! applied one at a time, and a watermark is only raised after the readings are written.
//!
//! Invariants:
//! - `devices.acked_seq` only grows, and only past seqs whose readings InfluxDB accepted
//!   and whose events are committed here.
//! - Each event id is stored once (`device_events.event_id` is the primary key); a resent
//!   event changes nothing.
//! - A batch starting above `acked_seq + 1` records the missing range in `sync_gaps`.

use farm_protocol::{Batch, Seq};
use tokio_postgres::Transaction;

/// What applying a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// The device's watermark afterwards.
    pub acked_seq: Seq,
    /// Events stored now (not seen before).
    pub new_events: u64,
    /// The gap recorded, if the batch started above the watermark + 1.
    pub gap: Option<(Seq, Seq)>,
}

/// Locks the device's row; returns its watermark.
pub async fn lock_device(tx: &Transaction<'_>, device: &str) -> Result<Seq, tokio_postgres::Error> {
    let row = tx
        .query_one(
            "SELECT acked_seq FROM devices WHERE id = $1 FOR UPDATE",
            &[&device],
        )
        .await?;
    let acked: i64 = row.get(0);
    Ok(Seq::try_from(acked).unwrap_or(0))
}

/// Records the gap, stores the events and raises the watermark (call after the readings
/// are written; commit afterwards).
pub async fn apply(
    tx: &Transaction<'_>,
    batch: &Batch,
    acked_before: Seq,
) -> Result<Applied, tokio_postgres::Error> {
    let device = batch.device_id.as_str();
    let gap = (batch.first_seq > acked_before + 1).then(|| (acked_before + 1, batch.first_seq - 1));
    if let Some((from, to)) = gap {
        tx.execute(
            "INSERT INTO sync_gaps (device_id, from_seq, to_seq) VALUES ($1, $2, $3)
             ON CONFLICT (device_id, from_seq) DO NOTHING",
            &[&device, &as_i64(from), &as_i64(to)],
        )
        .await?;
    }
    let mut new_events = 0;
    if !batch.events.is_empty() {
        let insert = tx
            .prepare(
                "INSERT INTO device_events (event_id, device_id, seq, ts, kind, body)
                 VALUES ($1, $2, $3, to_timestamp($4::float8 / 1000), $5, $6)
                 ON CONFLICT (event_id) DO NOTHING",
            )
            .await?;
        for event in &batch.events {
            let body = serde_json::to_value(&event.kind).unwrap_or_default();
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
                &event.id,
                &device,
                &as_i64(event.seq),
                &(event.ts as f64),
                &event.kind.name(),
                &body,
            ];
            new_events += tx.execute(&insert, &params).await?;
        }
    }
    let row = tx
        .query_one(
            "UPDATE devices SET acked_seq = GREATEST(acked_seq, $2), last_batch_at = now()
             WHERE id = $1 RETURNING acked_seq",
            &[&device, &as_i64(batch.last_seq)],
        )
        .await?;
    let acked: i64 = row.get(0);
    Ok(Applied {
        acked_seq: Seq::try_from(acked).unwrap_or(0),
        new_events,
        gap,
    })
}

/// A seq as PostgreSQL's BIGINT (seqs stay far below 2^63).
fn as_i64(seq: Seq) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

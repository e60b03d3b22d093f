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
//! - A new harvest event becomes one lot (or one `harvest_issues` row) in the same
//!   transaction ([`crate::harvests`]).

use farm_protocol::{Batch, EventKind, Seq};
use tokio_postgres::Transaction;

use crate::harvests::{self, Owner};

/// What applying a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// The device's watermark afterwards.
    pub acked_seq: Seq,
    /// Events stored now (not seen before).
    pub new_events: u64,
    /// The gap recorded, if the batch started above the watermark + 1.
    pub gap: Option<(Seq, Seq)>,
    /// Lots created from new harvest events.
    pub lots: u64,
    /// New harvest events that could not become lots (see `harvest_issues`).
    pub harvest_issues: u64,
}

/// The device's row, locked: its watermark and who owns what it harvests.
#[derive(Debug, Clone, Copy)]
pub struct Locked {
    /// `devices.acked_seq`.
    pub acked_seq: Seq,
    /// The device's farm and tenant.
    pub owner: Owner,
}

/// Locks the device's row; returns its watermark and owner.
pub async fn lock_device(
    tx: &Transaction<'_>,
    device: &str,
) -> Result<Locked, tokio_postgres::Error> {
    let row = tx
        .query_one(
            "SELECT d.acked_seq, d.farm_id, f.tenant_id FROM devices d
             JOIN farms f ON f.id = d.farm_id WHERE d.id = $1 FOR UPDATE OF d",
            &[&device],
        )
        .await?;
    let acked: i64 = row.get(0);
    Ok(Locked {
        acked_seq: Seq::try_from(acked).unwrap_or(0),
        owner: Owner {
            farm_id: row.get(1),
            tenant_id: row.get(2),
        },
    })
}

/// Records the gap, stores the events and raises the watermark (call after the readings
/// are written; commit afterwards).
pub async fn apply(
    tx: &Transaction<'_>,
    batch: &Batch,
    locked: Locked,
) -> Result<Applied, tokio_postgres::Error> {
    let device = batch.device_id.as_str();
    let acked_before = locked.acked_seq;
    let (mut lots, mut harvest_issues) = (0, 0);
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
            let new = tx.execute(&insert, &params).await?;
            new_events += new;
            if let (1, EventKind::Harvest(harvest)) = (new, &event.kind) {
                let outcome =
                    harvests::apply(tx, locked.owner, event.id, event.ts, harvest).await?;
                match outcome {
                    harvests::Outcome::Lot { .. } => lots += 1,
                    harvests::Outcome::Issue(reason) => {
                        harvest_issues += 1;
                        tracing::warn!(device, event = %event.id, %reason, "Harvest not turned into stock.");
                    }
                }
            }
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
        lots,
        harvest_issues,
    })
}

/// A seq as PostgreSQL's BIGINT (seqs stay far below 2^63).
fn as_i64(seq: Seq) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

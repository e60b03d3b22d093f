//! Recording a harvest and listing the recent ones: the one path both the JSON API and the
//! panel's form take, so both check the same way and write the same durable event.

use farm_protocol::{Event, EventKind, Harvest, Seq};
use uuid::Uuid;

use super::entry::{check, EntryError, HarvestRequest};
use super::routes::HarvestState;
use crate::outbox::{NewEvent, OutboxError};

/// A harvest committed to the outbox.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The event's id.
    pub id: Uuid,
    /// The event's seq.
    pub seq: Seq,
    /// What was recorded (with the generated lot code, if none was given).
    pub harvest: Harvest,
}

/// Why a harvest was not recorded. Either way nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The harvest failed a check (the client's mistake).
    #[error(transparent)]
    Invalid(#[from] EntryError),
    /// The outbox could not commit it.
    #[error("the harvest could not be saved: {0}")]
    NotSaved(#[from] OutboxError),
}

/// A harvest as the lists show it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The event's id.
    pub id: Uuid,
    /// The event's seq.
    pub seq: Seq,
    /// When it was recorded, unix ms.
    pub ts: farm_protocol::UnixMillis,
    /// What was recorded.
    pub harvest: Harvest,
    /// Whether the uplink's acknowledged watermark covers it.
    pub synced: bool,
}

impl Listed {
    /// `synced` or `pending`.
    pub fn status(&self) -> &'static str {
        if self.synced {
            "synced"
        } else {
            "pending"
        }
    }
}

impl HarvestState {
    /// Checks `request` against the catalogue and commits its event durably (fsynced) before
    /// returning; a refused harvest writes nothing.
    pub async fn record(&self, request: HarvestRequest) -> Result<Recorded, RecordError> {
        let id = Uuid::new_v4();
        let ts = crate::now_ms();
        let today = self.catalogue.date_at(ts);
        let harvest = check(request, &self.catalogue, id, today)?;
        let event = NewEvent {
            id,
            ts,
            kind: EventKind::Harvest(harvest.clone()),
        };
        let seq = self.api.outbox.append_event(event).await.map_err(|e| {
            tracing::error!(error = %e, "Harvest not recorded.");
            e
        })?;
        tracing::info!(
            %id,
            seq,
            room = %harvest.room,
            product = %harvest.product,
            quantity = harvest.quantity,
            unit = %harvest.unit,
            lot = %harvest.lot,
            "Harvest recorded."
        );
        Ok(Recorded { id, seq, harvest })
    }

    /// Whether the harvest with `seq` is synced as of now.
    pub fn is_synced(&self, seq: Seq) -> bool {
        seq <= self.api.outbox.stats().acked_seq
    }

    /// The newest `limit` harvests still in the outbox, newest first.
    pub async fn recent(&self, limit: usize) -> Result<Vec<Listed>, OutboxError> {
        let (events, acked_seq) = self
            .api
            .outbox
            .read(move |store| {
                let events = store.recent_events("harvest", limit)?;
                Ok((events, store.counters().acked_seq))
            })
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "Harvests could not be read from the outbox.");
                e
            })?;
        Ok(events
            .into_iter()
            .filter_map(|event| listed(event, acked_seq))
            .collect())
    }
}

/// A harvest event as the lists show it; `None` for other kinds.
fn listed(event: Event, acked_seq: Seq) -> Option<Listed> {
    let EventKind::Harvest(harvest) = event.kind else {
        return None;
    };
    Some(Listed {
        id: event.id,
        seq: event.seq,
        ts: event.ts,
        harvest,
        synced: event.seq <= acked_seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: Seq) -> Event {
        Event {
            id: Uuid::nil(),
            seq,
            ts: 1,
            kind: EventKind::Harvest(Harvest {
                room: "r".into(),
                product: "P".into(),
                quantity: 1.0,
                unit: "kg".into(),
                lot: "L".into(),
            }),
        }
    }

    #[test]
    fn synced_means_at_or_below_the_acked_watermark() {
        let status = |seq, acked| listed(event(seq), acked).map(|l| l.status());
        assert_eq!(status(7, 7), Some("synced"));
        assert_eq!(status(7, 9), Some("synced"));
        assert_eq!(status(8, 7), Some("pending"));
        assert_eq!(status(1, 0), Some("pending"));
    }
}

//! Reading stored events back: for the uplink (oldest first) and for the panel and the API
//! (the harvest list: newest first, by kind). Only what retention left: synced events older than `retain_local` are gone.

use farm_protocol::{Event, Seq};
use rusqlite::params;
use uuid::Uuid;

use super::error::{Context, OutboxError};
use super::store::Store;

impl Store {
    /// The newest stored events of `kind` (its wire name, `"harvest"`), newest first, at most
    /// `limit`.
    pub fn recent_events(&self, kind: &str, limit: usize) -> Result<Vec<Event>, OutboxError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.select_events(
            "SELECT seq, id, ts, body FROM events WHERE kind = ?1 ORDER BY seq DESC LIMIT ?2",
            params![kind, limit],
        )
    }

    /// The events of a `SELECT seq, id, ts, body FROM events …` with `params`, in its order.
    pub(super) fn select_events(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Event>, OutboxError> {
        let mut stmt = self.conn.prepare_cached(sql).context("prepare")?;
        let rows = stmt
            .query_map(params, |row| {
                Ok((
                    row.get::<_, Seq>(0)?,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })
            .context("read events")?;
        let mut events = Vec::new();
        for row in rows {
            let (seq, id, ts, body) = row.context("read events")?;
            let bad = |detail: String| OutboxError::BadEvent { seq, detail };
            let id = Uuid::from_slice(&id).map_err(|e| bad(e.to_string()))?;
            let kind = serde_json::from_str(&body).map_err(|e| bad(e.to_string()))?;
            events.push(Event { seq, id, ts, kind });
        }
        Ok(events)
    }
}

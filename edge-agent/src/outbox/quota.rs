//! Keeping the outbox inside its limits: eviction over `max_bytes`, pruning after
//! `retain_local`. Both delete the oldest readings first; synced readings are always older
//! than unsynced ones, so history goes before anything the cloud has not seen.

use farm_protocol::{EventKind, Seq, Severity, UnixMillis};
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::error::{Context, OutboxError};
use super::store::{set_meta, NewEvent, Store};

/// Eviction stops once the database uses at most this share of `max_bytes`.
const LOW_WATER_PERCENT: u64 = 90;

/// What one call to [`Store::enforce_quota`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evicted {
    /// Synced readings deleted (history only).
    pub pruned: u64,
    /// Unsynced readings deleted (data lost; an alarm event was recorded).
    pub evicted: u64,
}

impl Store {
    /// Bytes the database uses: its pages less its free pages (the WAL is bounded separately).
    pub fn used_bytes(&self) -> Result<u64, OutboxError> {
        let pragma = |name: &str| -> Result<u64, OutboxError> {
            self.conn
                .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .context("measure size")
        };
        Ok((pragma("page_count")? - pragma("freelist_count")?) * pragma("page_size")?)
    }

    /// Deletes the oldest readings while the database is over `max_bytes`. Events are never
    /// deleted. When unsynced readings had to go, records an `outbox_eviction` alarm event.
    pub fn enforce_quota(&mut self, now: UnixMillis) -> Result<Evicted, OutboxError> {
        let max = self.settings.max_bytes;
        let mut used = self.used_bytes()?;
        let mut total = Evicted::default();
        if used <= max {
            return Ok(total);
        }
        let target = max / 100 * LOW_WATER_PERCENT;
        while used > target {
            let rows: u64 = self
                .conn
                .query_row("SELECT count(*) FROM readings", [], |r| r.get(0))
                .context("count readings")?;
            if rows == 0 {
                break; // Only events left: they are never evicted.
            }
            // Delete in proportion to the excess, at least a page's worth.
            let share = (used - target).saturating_mul(rows) / used.max(1);
            let batch = share.clamp(128, rows);
            let deleted = self.delete_oldest(batch)?;
            total.pruned += deleted.pruned;
            total.evicted += deleted.evicted;
            used = self.used_bytes()?;
        }
        if total.evicted > 0 {
            self.append(&[], &[eviction_alarm(now, total.evicted)])?;
        }
        Ok(total)
    }

    /// Deletes the `count` oldest readings in one transaction, counting synced and unsynced.
    fn delete_oldest(&mut self, count: u64) -> Result<Evicted, OutboxError> {
        let acked = self.counters.acked_seq;
        let tx = self.conn.transaction().context("begin")?;
        let boundary: Seq = tx
            .query_row(
                "SELECT max(seq) FROM (SELECT seq FROM readings ORDER BY seq LIMIT ?1)",
                [count],
                |r| r.get::<_, Option<Seq>>(0),
            )
            .context("find oldest")?
            .unwrap_or(0);
        let pruned = tx
            .execute(
                "DELETE FROM readings WHERE seq <= ?1",
                [boundary.min(acked)],
            )
            .context("evict")? as u64;
        let evicted = tx
            .execute(
                "DELETE FROM readings WHERE seq > ?1 AND seq <= ?2",
                params![acked, boundary],
            )
            .context("evict")? as u64;
        let counters = (
            self.counters.pruned + pruned,
            self.counters.evicted + evicted,
        );
        set_meta(&tx, "pruned", counters.0)?;
        set_meta(&tx, "evicted", counters.1)?;
        tx.commit().context("commit eviction")?;
        (self.counters.pruned, self.counters.evicted) = counters;
        Ok(Evicted { pruned, evicted })
    }

    /// Deletes synced readings and events measured before `now - retain_local`. Returns how
    /// many rows went.
    pub fn prune(&mut self, now: UnixMillis) -> Result<u64, OutboxError> {
        let retain = i64::try_from(self.settings.retain_local.as_millis()).unwrap_or(i64::MAX);
        let cutoff = now.saturating_sub(retain);
        let acked = self.counters.acked_seq;
        let tx = self.conn.transaction().context("begin")?;
        // Walk from the oldest synced reading up to the first one still young enough, so the
        // cost is the rows deleted, not the table.
        let young: Option<Seq> = tx
            .query_row(
                "SELECT seq FROM readings WHERE seq <= ?1 AND ts >= ?2 ORDER BY seq LIMIT 1",
                params![acked, cutoff],
                |r| r.get(0),
            )
            .optional()
            .context("prune")?;
        let limit = young.map_or(acked, |s| s - 1);
        let mut deleted = tx
            .execute("DELETE FROM readings WHERE seq <= ?1", [limit])
            .context("prune")? as u64;
        deleted += tx
            .execute(
                "DELETE FROM events WHERE seq <= ?1 AND ts < ?2",
                params![acked, cutoff],
            )
            .context("prune")? as u64;
        let pruned = self.counters.pruned + deleted;
        set_meta(&tx, "pruned", pruned)?;
        tx.commit().context("commit prune")?;
        self.counters.pruned = pruned;
        Ok(deleted)
    }
}

fn eviction_alarm(now: UnixMillis, evicted: u64) -> NewEvent {
    NewEvent {
        id: Uuid::new_v4(),
        ts: now,
        kind: EventKind::Alarm {
            room: None,
            code: "outbox_eviction".into(),
            severity: Severity::Critical,
            active: true,
            message: format!(
                "outbox over max_bytes: {evicted} unsynced readings evicted (oldest first); \
                 the cloud will never see them"
            ),
        },
    }
}

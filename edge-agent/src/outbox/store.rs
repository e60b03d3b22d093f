//! [`Store`]: the outbox's SQLite logic, single-threaded and synchronous. The worker thread
//! owns one; tests drive one directly.

use std::collections::HashMap;
use std::path::Path;

use farm_protocol::{Event, EventKind, Metric, Reading, Seq, Source, UnixMillis};
use rusqlite::{params, Connection, Transaction};
use uuid::Uuid;

use super::error::{Context, OutboxError};
use super::{schema, OutboxSettings, Synchronous};

/// A reading to be stored; the outbox gives it its seq.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReading {
    /// When it was measured, unix ms.
    pub ts: UnixMillis,
    /// The growing room.
    pub room: String,
    /// The sensor or node that measured it.
    pub source: Source,
    /// What was measured.
    pub metric: Metric,
    /// The value in the metric's unit.
    pub value: f64,
}

/// An event to be stored; the outbox gives it its seq.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Its unique id (the cloud applies each id once).
    pub id: Uuid,
    /// When it happened, unix ms.
    pub ts: UnixMillis,
    /// What happened.
    pub kind: EventKind,
}

/// Unsynced items, oldest first, ready to become a sync batch: every stored item with
/// `first_seq <= seq <= last_seq` is here.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The lowest seq in the batch.
    pub first_seq: Seq,
    /// The highest seq the batch covers.
    pub last_seq: Seq,
    /// Readings, by seq.
    pub readings: Vec<Reading>,
    /// Events, by seq.
    pub events: Vec<Event>,
}

/// Counters kept in the file, so they survive restarts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreCounters {
    /// The next seq to hand out.
    pub next_seq: Seq,
    /// Everything `<= acked_seq` is synced.
    pub acked_seq: Seq,
    /// Unsynced readings deleted to stay under `max_bytes` (data lost).
    pub evicted: u64,
    /// Synced readings and events deleted (retention, or quota).
    pub pruned: u64,
}

/// The outbox's SQLite logic. See the [module docs](super) for the invariants.
pub struct Store {
    pub(super) conn: Connection,
    pub(super) settings: OutboxSettings,
    pub(super) counters: StoreCounters,
    /// (room → source → sources.id), so appends need no lookup query.
    source_ids: HashMap<String, HashMap<Source, i64>>,
}

impl Store {
    /// Opens or creates the outbox at `path`; see [`schema`] for what is refused.
    pub fn open(path: &Path, settings: OutboxSettings) -> Result<Self, OutboxError> {
        let conn = schema::open(path, &settings)?;
        let counters = {
            let get = |key: &str| -> Result<u64, OutboxError> {
                conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                    .context("read counters")
            };
            StoreCounters {
                next_seq: get("next_seq")?,
                acked_seq: get("acked_seq")?,
                evicted: get("evicted")?,
                pruned: get("pruned")?,
            }
        };
        let mut store = Store {
            conn,
            settings,
            counters,
            source_ids: HashMap::new(),
        };
        store.load_sources()?;
        Ok(store)
    }

    /// The counters as of the last commit.
    pub fn counters(&self) -> StoreCounters {
        self.counters
    }

    /// Marks the outbox closed cleanly and checkpoints the WAL into the file, so the next
    /// start can skip the integrity check. Call last, before dropping the store.
    pub fn close_cleanly(&mut self) -> Result<(), OutboxError> {
        schema::set_clean_shutdown(&self.conn, true)?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .context("checkpoint")
    }

    /// The settings the store was opened with.
    pub fn settings(&self) -> &OutboxSettings {
        &self.settings
    }

    /// Commits `readings` then `events` in one transaction, numbering them in that order, and
    /// returns the last seq handed out. Events make the commit durable (fsync of the WAL)
    /// even when the store runs with `synchronous=NORMAL`.
    pub fn append(
        &mut self,
        readings: &[NewReading],
        events: &[NewEvent],
    ) -> Result<Seq, OutboxError> {
        let durable = !events.is_empty() && self.settings.synchronous == Synchronous::Normal;
        if durable {
            self.conn
                .execute_batch("PRAGMA synchronous = FULL")
                .context("set FULL")?;
        }
        let result = self.append_tx(readings, events);
        if durable {
            self.conn
                .execute_batch("PRAGMA synchronous = NORMAL")
                .context("set NORMAL")?;
        }
        let next_seq = result?;
        self.counters.next_seq = next_seq;
        Ok(next_seq - 1)
    }

    fn append_tx(
        &mut self,
        readings: &[NewReading],
        events: &[NewEvent],
    ) -> Result<Seq, OutboxError> {
        let tx = self.conn.transaction().context("begin")?;
        let mut seq = self.counters.next_seq;
        let mut new_sources = Vec::new();
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO readings (seq, ts, source, metric, value) VALUES (?1, ?2, ?3, ?4, ?5)")
                .context("prepare")?;
            for r in readings {
                let source = match self
                    .source_ids
                    .get(r.room.as_str())
                    .and_then(|m| m.get(&r.source))
                {
                    Some(id) => *id,
                    None => {
                        let id = intern_source(&tx, &r.room, &r.source)?;
                        new_sources.push((r.room.clone(), r.source.clone(), id));
                        self.source_ids
                            .entry(r.room.clone())
                            .or_default()
                            .insert(r.source.clone(), id);
                        id
                    }
                };
                insert
                    .execute(params![seq, r.ts, source, r.metric.code(), r.value])
                    .context("insert reading")?;
                seq += 1;
            }
        }
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (seq, id, ts, kind, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .context("prepare")?;
            for e in events {
                let body = serde_json::to_string(&e.kind).map_err(|err| OutboxError::BadEvent {
                    seq,
                    detail: err.to_string(),
                })?;
                insert
                    .execute(params![seq, e.id.as_bytes(), e.ts, e.kind.name(), body])
                    .context("insert event")?;
                seq += 1;
            }
        }
        set_meta(&tx, "next_seq", seq)?;
        if let Err(e) = tx.commit().context("commit") {
            // The transaction rolled back: forget the ids it created.
            for (room, source, _) in new_sources {
                if let Some(m) = self.source_ids.get_mut(&room) {
                    m.remove(&source);
                }
            }
            return Err(e);
        }
        Ok(seq)
    }

    /// Marks everything `<= seq` synced. An older ack is a no-op; an ack beyond the last seq
    /// handed out is refused.
    pub fn ack(&mut self, seq: Seq) -> Result<(), OutboxError> {
        let last = self.counters.next_seq - 1;
        if seq > last {
            return Err(OutboxError::AckBeyondEnd { acked: seq, last });
        }
        if seq > self.counters.acked_seq {
            set_meta(&self.conn, "acked_seq", seq)?;
            self.counters.acked_seq = seq;
        }
        Ok(())
    }

    /// The oldest unsynced items: at most `max_readings` readings and `max_events` events,
    /// cut so that the batch holds everything in its seq range. `None` when all is synced.
    pub fn pending(
        &self,
        max_readings: usize,
        max_events: usize,
    ) -> Result<Option<Pending>, OutboxError> {
        self.pending_after(0, max_readings, max_events)
    }

    /// Like [`Store::pending`], but only items with `seq > after` (and unsynced): the batch
    /// after one that is still in flight.
    pub fn pending_after(
        &self,
        after: Seq,
        max_readings: usize,
        max_events: usize,
    ) -> Result<Option<Pending>, OutboxError> {
        let after = after.max(self.counters.acked_seq);
        let readings = self.readings_after(after, max_readings)?;
        let events = self.events_after(after, max_events)?;
        // If a list was cut short, the batch may only cover seqs up to its last item.
        let mut last_seq = self.counters.next_seq - 1;
        if readings.len() == max_readings {
            last_seq = last_seq.min(readings.last().map_or(after, |r| r.seq));
        }
        if events.len() == max_events {
            last_seq = last_seq.min(events.last().map_or(after, |e| e.seq));
        }
        let readings: Vec<Reading> = readings.into_iter().filter(|r| r.seq <= last_seq).collect();
        let events: Vec<Event> = events.into_iter().filter(|e| e.seq <= last_seq).collect();
        let first = readings
            .first()
            .map(|r| r.seq)
            .into_iter()
            .chain(events.first().map(|e| e.seq))
            .min();
        Ok(first.map(|first_seq| Pending {
            first_seq,
            last_seq,
            readings,
            events,
        }))
    }

    /// How many items are unsynced, and the device timestamp of the oldest of them.
    pub fn backlog(&self) -> Result<(u64, Option<UnixMillis>), OutboxError> {
        let after = self.counters.acked_seq;
        let (readings, first_reading): (u64, Option<i64>) = self
            .conn
            .query_row(
                "SELECT count(*), (SELECT ts FROM readings WHERE seq > ?1 ORDER BY seq LIMIT 1) \
                 FROM readings WHERE seq > ?1",
                [after],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .context("measure backlog")?;
        let (events, first_event): (u64, Option<i64>) = self
            .conn
            .query_row(
                "SELECT count(*), min(ts) FROM events WHERE seq > ?1",
                [after],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .context("measure backlog")?;
        let oldest = first_reading.into_iter().chain(first_event).min();
        Ok((readings + events, oldest))
    }

    /// Readings with `seq > after`, oldest first, at most `limit`.
    pub fn readings_after(&self, after: Seq, limit: usize) -> Result<Vec<Reading>, OutboxError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT r.seq, r.ts, s.room, s.kind, s.name, r.metric, r.value FROM readings r \
                 JOIN sources s ON s.id = r.source WHERE r.seq > ?1 ORDER BY r.seq LIMIT ?2",
            )
            .context("prepare")?;
        let rows = stmt
            .query_map(params![after, limit as i64], |row| {
                let name: String = row.get(4)?;
                let source = if row.get::<_, i64>(3)? == 0 {
                    Source::Sensor(name)
                } else {
                    Source::Node(name)
                };
                let code: u8 = row.get(5)?;
                let metric = Metric::from_code(code)
                    .ok_or(rusqlite::Error::IntegralValueOutOfRange(5, code.into()))?;
                Ok(Reading {
                    seq: row.get(0)?,
                    ts: row.get(1)?,
                    room: row.get(2)?,
                    source,
                    metric,
                    value: row.get(6)?,
                })
            })
            .context("read readings")?;
        rows.collect::<Result<_, _>>().context("read readings")
    }

    /// Events with `seq > after`, oldest first, at most `limit`.
    pub fn events_after(&self, after: Seq, limit: usize) -> Result<Vec<Event>, OutboxError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.select_events(
            "SELECT seq, id, ts, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            params![after, limit],
        )
    }

    fn load_sources(&mut self) -> Result<(), OutboxError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, room, kind, name FROM sources")
            .context("read sources")?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })
            .context("read sources")?;
        for row in rows {
            let (id, room, kind, name) = row.context("read sources")?;
            let source = if kind == 0 {
                Source::Sensor(name)
            } else {
                Source::Node(name)
            };
            self.source_ids.entry(room).or_default().insert(source, id);
        }
        Ok(())
    }
}

fn intern_source(tx: &Transaction<'_>, room: &str, source: &Source) -> Result<i64, OutboxError> {
    let kind = match source {
        Source::Sensor(_) => 0,
        Source::Node(_) => 1,
    };
    tx.execute(
        "INSERT OR IGNORE INTO sources (room, kind, name) VALUES (?1, ?2, ?3)",
        params![room, kind, source.name()],
    )
    .context("insert source")?;
    tx.query_row(
        "SELECT id FROM sources WHERE room = ?1 AND kind = ?2 AND name = ?3",
        params![room, kind, source.name()],
        |row| row.get(0),
    )
    .context("insert source")
}

/// Writes one counter in `meta`.
pub(super) fn set_meta(conn: &Connection, key: &str, value: u64) -> Result<(), OutboxError> {
    conn.execute(
        "UPDATE meta SET value = ?2 WHERE key = ?1",
        params![key, value],
    )
    .context("write counters")?;
    Ok(())
}

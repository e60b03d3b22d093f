//! [`History`]: a room's stored readings over a time range, downsampled in SQLite to at most
//! `buckets` points per metric (min, mean, max, count per slot) for the panel's charts.
//!
//! # Invariants
//! - **Own read-only connection.** The [`Store`](super::Store) is owned by the outbox thread,
//!   which also commits incoming readings; a query of a few hundred milliseconds there would
//!   stall ingest. A [`History`] holds its own connection, opened read-only (`query_only`),
//!   and queries run in `spawn_blocking`. The outbox is in WAL mode, so a query reads the last
//!   committed snapshot and neither waits for nor blocks the writer.
//! - **No schema change.** `readings` has no index on `ts` (the file format is versioned and
//!   the quota counts pages), so the query bounds the scan by `seq`, the rowid: a binary
//!   search finds the first seq that arrived at about `from - LATE_MARGIN`, and only rows from
//!   there on are read. A probe costs one short rowid range read.
//! - **Slots.** `[from, to)` is cut into slots of `slot_ms = ceil((to - from) / buckets)`;
//!   slot `i` is `[from + i * slot_ms, from + (i + 1) * slot_ms)` (the last one may end after
//!   `to`, but rows at or after `to` are never counted), so there are at most `buckets` slots.
//!   Empty slots are absent. Readings of every sensor and node of the room are merged.
//! - **Constant memory.** Rows are folded into a fixed table of slots per metric as they are
//!   read, not grouped by SQLite (whose GROUP BY sorts every matching row: ~30 % slower over
//!   7 days and memory growing with the rows).
//!
//! # The approximation
//! `seq` follows arrival, not `ts`. A probe estimates the arrival time at a seq as the newest
//! `ts` among the `PROBE_ROWS` rows from there, which is right whenever that window holds one
//! reading that arrived on time (the agent's own sensors are stamped on arrival). The search
//! is exact while every reading arrives less than `LATE_MARGIN` after its `ts` (batched
//! commits, node clock skew up to `mqtt.max_clock_skew`, short network outages). A reading that
//! arrived later than that (a room node sending a long backlog, up to `mqtt.max_reading_age`
//! old) may be left out of a range it falls in; and if a whole probe window consists of such
//! late readings, readings stored before them in the range may be left out too. Charts are
//! an overview; the uplink and the cloud have every reading.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use farm_protocol::{Metric, UnixMillis};
use rusqlite::{params, Connection, OpenFlags};

use super::error::{Context, OutboxError};
use super::schema::APPLICATION_ID;

/// How late (arrival after `ts`) a reading may be and still be sure to be found.
const LATE_MARGIN_MS: i64 = 3_600_000;
/// Rows each binary-search probe reads.
const PROBE_ROWS: i64 = 64;
/// The rows to aggregate: ?1 lowest seq, ?2 room, ?3 from, ?4 to. The room test comes
/// first: most rows are other rooms' (measured faster than testing `ts` first).
const SERIES_SQL: &str = "\
    SELECT metric, ts, value FROM readings \
    WHERE seq >= ?1 AND source IN (SELECT id FROM sources WHERE room = ?2) \
      AND ts >= ?3 AND ts < ?4";
/// How long a query waits for a lock (only WAL recovery takes one a reader waits for).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The readings of one metric in one slot of the range.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// The start of the slot, unix ms.
    pub start: UnixMillis,
    /// The lowest value in the slot.
    pub min: f64,
    /// The mean of the values in the slot.
    pub mean: f64,
    /// The highest value in the slot.
    pub max: f64,
    /// How many readings the slot holds.
    pub count: u32,
}

/// One metric of a room over a range: its non-empty slots.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The metric.
    pub metric: Metric,
    /// The width of every slot, ms (a missing slot is a gap in the data).
    pub slot_ms: i64,
    /// The non-empty slots, by start.
    pub buckets: Vec<Bucket>,
}

/// Read-only access to the outbox's stored readings for charts. Cheap to clone; queries run
/// one at a time on a blocking thread, never on the outbox thread.
#[derive(Clone)]
pub struct History {
    conn: Arc<Mutex<Connection>>,
}

/// Which rows a query reads: from the searched seq on, or all (the benchmark's baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    FromSeq,
    Full,
}

impl History {
    /// Opens the outbox at `path` read-only. The outbox must exist (open the
    /// [`Store`](super::Store) first); a file that is not an outbox is refused.
    pub fn open(path: &Path) -> Result<History, OutboxError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).context("open history")?;
        conn.busy_timeout(BUSY_TIMEOUT).context("open history")?;
        // Sorting for GROUP BY spills into temp files beyond the cache: keep them off the card.
        conn.execute_batch("PRAGMA query_only = ON; PRAGMA temp_store = MEMORY;")
            .context("open history")?;
        let application_id: i64 = conn
            .query_row("PRAGMA application_id", [], |row| row.get(0))
            .context("open history")?;
        let application_id = u32::try_from(application_id).unwrap_or(0);
        if application_id != APPLICATION_ID {
            return Err(OutboxError::Foreign {
                path: path.to_owned(),
                application_id,
            });
        }
        Ok(History {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Every metric `room` has readings of in `[from, to)`, by metric code, each cut into at
    /// most `buckets` slots (see the [module docs](self)). Empty when `from >= to` or
    /// `buckets == 0`.
    pub async fn room_series(
        &self,
        room: &str,
        from: UnixMillis,
        to: UnixMillis,
        buckets: usize,
    ) -> Result<Vec<Series>, OutboxError> {
        self.run(room, from, to, buckets, Scan::FromSeq).await
    }

    /// [`History::room_series`] reading the whole table instead of searching the first seq:
    /// the benchmark's baseline, and the exact answer the search approximates.
    #[doc(hidden)]
    pub async fn room_series_full_scan(
        &self,
        room: &str,
        from: UnixMillis,
        to: UnixMillis,
        buckets: usize,
    ) -> Result<Vec<Series>, OutboxError> {
        self.run(room, from, to, buckets, Scan::Full).await
    }

    async fn run(
        &self,
        room: &str,
        from: UnixMillis,
        to: UnixMillis,
        buckets: usize,
        scan: Scan,
    ) -> Result<Vec<Series>, OutboxError> {
        let conn = Arc::clone(&self.conn);
        let room = room.to_owned();
        let task = tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            query(&conn, &room, from, to, buckets, scan)
        });
        match task.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // The runtime is shutting down.
            Err(_) => Err(OutboxError::Closed),
        }
    }
}

/// The width of one of `buckets` slots over `[from, to)`, or `None` for an empty range.
fn slot_width(from: UnixMillis, to: UnixMillis, buckets: usize) -> Option<i64> {
    let span = to.checked_sub(from).filter(|span| *span > 0)?;
    let buckets = i64::try_from(buckets).unwrap_or(i64::MAX);
    (buckets > 0).then(|| span / buckets + i64::from(span % buckets != 0))
}

fn query(
    conn: &Connection,
    room: &str,
    from: UnixMillis,
    to: UnixMillis,
    buckets: usize,
    scan: Scan,
) -> Result<Vec<Series>, OutboxError> {
    let Some(slot_ms) = slot_width(from, to, buckets) else {
        return Ok(Vec::new());
    };
    // One read transaction: the search and the aggregate see the same snapshot.
    let tx = conn.unchecked_transaction().context("read history")?;
    let low_seq = match scan {
        Scan::FromSeq => first_seq_from(conn, from.saturating_sub(LATE_MARGIN_MS))?,
        Scan::Full => i64::MIN,
    };
    let mut table: BTreeMap<u8, Vec<Option<Slot>>> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(SERIES_SQL).context("prepare")?;
    let mut rows = stmt
        .query(params![low_seq, room, from, to])
        .context("read history")?;
    while let Some(row) = rows.next().context("read history")? {
        let (code, ts, value): (u8, i64, f64) = (
            row.get(0).context("read history")?,
            row.get(1).context("read history")?,
            row.get(2).context("read history")?,
        );
        let index = usize::try_from((ts - from) / slot_ms).unwrap_or(usize::MAX);
        let metric = table.entry(code).or_insert_with(|| vec![None; buckets]);
        if let Some(slot) = metric.get_mut(index) {
            slot.get_or_insert(Slot::EMPTY).add(value);
        }
    }
    drop(rows);
    drop(stmt);
    tx.finish().context("read history")?;
    let series = table
        .into_iter()
        .filter_map(|(code, slots)| {
            let metric = Metric::from_code(code)?;
            let buckets = (slots.into_iter().enumerate())
                .filter_map(|(i, slot)| Some(slot?.bucket(from + i as i64 * slot_ms)))
                .collect();
            Some(Series {
                metric,
                slot_ms,
                buckets,
            })
        })
        .collect();
    Ok(series)
}

/// One slot's readings, folded as they are read.
#[derive(Debug, Clone, Copy)]
struct Slot {
    min: f64,
    max: f64,
    sum: f64,
    count: u32,
}

impl Slot {
    const EMPTY: Slot = Slot {
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        sum: 0.0,
        count: 0,
    };

    fn add(&mut self, value: f64) {
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.sum += value;
        self.count = self.count.saturating_add(1);
    }

    fn bucket(self, start: UnixMillis) -> Bucket {
        Bucket {
            start,
            min: self.min,
            mean: self.sum / f64::from(self.count),
            max: self.max,
            count: self.count,
        }
    }
}

/// The lowest seq from which on readings arrived at `at` or later, by a binary search over
/// seq (see the [module docs](self) for how exact it is); `i64::MIN` if the table is empty.
fn first_seq_from(conn: &Connection, at: UnixMillis) -> Result<i64, OutboxError> {
    let (first, last): (Option<i64>, Option<i64>) = conn
        // Two subqueries: SQLite reads min and max off the b-tree only when each is alone.
        .query_row(
            "SELECT (SELECT min(seq) FROM readings), (SELECT max(seq) FROM readings)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .context("search history")?;
    let (Some(mut low), Some(last)) = (first, last) else {
        return Ok(i64::MIN);
    };
    let mut probe = conn
        .prepare_cached(
            "SELECT max(ts) FROM \
             (SELECT ts FROM readings WHERE seq >= ?1 ORDER BY seq LIMIT ?2)",
        )
        .context("prepare")?;
    // Invariant: everything below `low` arrived before `at`; `high` is past the end or
    // arrived at or after `at`.
    let mut high = last + 1;
    while low < high {
        let mid = low + (high - low) / 2;
        let newest: Option<i64> = probe
            .query_row(params![mid, PROBE_ROWS], |row| row.get(0))
            .context("search history")?;
        match newest {
            Some(ts) if ts < at => low = mid + 1,
            _ => high = mid,
        }
    }
    Ok(low)
}

#[cfg(test)]
#[path = "series_tests.rs"]
mod tests;

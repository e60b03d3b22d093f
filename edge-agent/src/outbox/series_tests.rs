#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use farm_protocol::{Metric, Source, UnixMillis};
use tempfile::TempDir;

use super::*;
use crate::outbox::{NewReading, OutboxSettings, Store};

const HOUR: i64 = 3_600_000;
/// An arbitrary "now" for the stored data: 2023-11-14 22:13:20 UTC.
const T0: UnixMillis = 1_700_000_000_000;

fn new_store() -> (TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    let store = Store::open(&path, OutboxSettings::default()).unwrap();
    (dir, path, store)
}

fn reading(ts: UnixMillis, room: &str, sensor: &str, metric: Metric, value: f64) -> NewReading {
    NewReading {
        ts,
        room: room.to_owned(),
        source: Source::Sensor(sensor.to_owned()),
        metric,
        value,
    }
}

/// A value that is not a simple function of `i` (a small linear congruential sequence).
fn value(i: u64, lo: f64, width: f64) -> f64 {
    let x = i
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    lo + width * ((x >> 40) as f64 / (1u64 << 24) as f64)
}

async fn series(path: &Path, room: &str, from: i64, to: i64, buckets: usize) -> Vec<Series> {
    History::open(path)
        .unwrap()
        .room_series(room, from, to, buckets)
        .await
        .unwrap()
}

/// What the buckets must be, computed by hand from the readings: (metric, start) → values.
fn expected(readings: &[NewReading], room: &str, from: i64, to: i64, n: i64) -> Vec<Series> {
    let width = (to - from + n - 1) / n;
    let mut out = Vec::new();
    for metric in Metric::ALL {
        let mut buckets = Vec::new();
        for i in 0..n {
            let (start, end) = (from + i * width, (from + (i + 1) * width).min(to));
            let values: Vec<f64> = readings
                .iter()
                .filter(|r| r.room == room && r.metric == metric && r.ts >= start && r.ts < end)
                .map(|r| r.value)
                .collect();
            if values.is_empty() {
                continue;
            }
            buckets.push(Bucket {
                start,
                min: values.iter().copied().fold(f64::INFINITY, f64::min),
                mean: values.iter().sum::<f64>() / values.len() as f64,
                max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                count: values.len() as u32,
            });
        }
        if !buckets.is_empty() {
            out.push(Series {
                metric,
                slot_ms: width,
                buckets,
            });
        }
    }
    out
}

fn assert_same(got: &[Series], want: &[Series]) {
    assert_eq!(got.len(), want.len(), "metrics: {got:?}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.metric, g.slot_ms), (w.metric, w.slot_ms));
        assert_eq!(g.buckets.len(), w.buckets.len(), "{}", g.metric);
        for (gb, wb) in g.buckets.iter().zip(&w.buckets) {
            assert_eq!(
                (gb.start, gb.count, gb.min, gb.max),
                (wb.start, wb.count, wb.min, wb.max)
            );
            assert!((gb.mean - wb.mean).abs() < 1e-9, "{gb:?} vs {wb:?}");
        }
    }
}

/// Two rooms, two sensors in room `a`, three metrics, one reading a minute per series from
/// 2 h before `from` to 2 h after `to`, in ts order.
fn farm() -> Vec<NewReading> {
    let mut readings = Vec::new();
    let mut i = 0;
    for minute in 0..(12 * 60) {
        let ts = T0 - 10 * HOUR + minute * 60_000 + 7;
        for (room, sensor) in [("a", "a-1"), ("a", "a-2"), ("b", "b-1")] {
            for (metric, lo, width) in [
                (Metric::Temperature, 18.0, 6.0),
                (Metric::Humidity, 80.0, 15.0),
                (Metric::Co2, 600.0, 900.0),
            ] {
                if sensor == "a-2" && metric == Metric::Co2 {
                    continue;
                }
                readings.push(reading(ts, room, sensor, metric, value(i, lo, width)));
                i += 1;
            }
        }
    }
    readings
}

#[tokio::test]
async fn slots_hold_the_min_mean_max_and_count_of_the_room_merged_over_its_sensors() {
    let (_dir, path, mut store) = new_store();
    let readings = farm();
    store.append(&readings, &[]).unwrap();
    let (from, to) = (T0 - 8 * HOUR, T0);
    let got = series(&path, "a", from, to, 48).await;
    let want = expected(&readings, "a", from, to, 48);
    assert_same(&got, &want);
    let metrics: Vec<Metric> = got.iter().map(|s| s.metric).collect();
    assert_eq!(
        metrics,
        [Metric::Temperature, Metric::Humidity, Metric::Co2]
    );
    // Temperature and humidity from both sensors (2 × 10 a slot), CO2 from one.
    assert_eq!(got[0].buckets[0].count, 20);
    assert_eq!(got[2].buckets[0].count, 10);
    assert_eq!(got[0].buckets.len(), 48);
    // Room b's values are not in room a's buckets.
    assert_same(
        &series(&path, "b", from, to, 48).await,
        &expected(&readings, "b", from, to, 48),
    );
}

#[tokio::test]
async fn the_range_is_half_open_and_empty_slots_are_absent() {
    let (_dir, path, mut store) = new_store();
    let (from, to) = (T0, T0 + 4 * HOUR);
    let t = Metric::Temperature;
    store
        .append(
            &[
                reading(from - 1, "a", "s", t, 1.0),
                reading(from, "a", "s", t, 2.0),
                reading(from + HOUR - 1, "a", "s", t, 4.0),
                reading(to - 1, "a", "s", t, 8.0),
                reading(to, "a", "s", t, 16.0),
            ],
            &[],
        )
        .unwrap();
    let got = series(&path, "a", from, to, 4).await;
    assert_eq!(got.len(), 1);
    let buckets = &got[0].buckets;
    let summary: Vec<(i64, u32, f64)> =
        buckets.iter().map(|b| (b.start, b.count, b.mean)).collect();
    assert_eq!(summary, [(from, 2, 3.0), (from + 3 * HOUR, 1, 8.0)]);
}

#[tokio::test]
async fn late_readings_are_placed_by_their_ts_not_their_seq() {
    let (_dir, path, mut store) = new_store();
    let (from, to) = (T0 - 24 * HOUR, T0);
    let h = Metric::Humidity;
    // Two days of one reading a minute, in order; then, arriving last, one reading from
    // before the range and one from inside it that came half an hour late.
    let mut readings: Vec<NewReading> = (0..48 * 60)
        .map(|m| reading(T0 - 48 * HOUR + m * 60_000, "a", "s", h, 90.0))
        .collect();
    readings.push(reading(from - 60_000, "a", "node", h, 10.0));
    readings.push(reading(to - HOUR / 2, "a", "node", h, 50.0));
    store.append(&readings, &[]).unwrap();
    let got = series(&path, "a", from, to, 24).await;
    assert_same(&got, &expected(&readings, "a", from, to, 24));
    let last = got[0].buckets.last().unwrap();
    assert_eq!(
        (last.count, last.min),
        (61, 50.0),
        "the late reading is counted"
    );
    assert_eq!(
        got[0].buckets[0].min, 90.0,
        "the one from before `from` is not"
    );
}

#[tokio::test]
async fn there_are_at_most_buckets_points_per_metric_within_the_range() {
    let (_dir, path, mut store) = new_store();
    let readings = farm();
    store.append(&readings, &[]).unwrap();
    // 7 h 59 min 59.999 s over 7 slots: the width does not divide the range.
    let (from, to) = (T0 - 8 * HOUR + 1, T0);
    for buckets in [1, 7, 100, 5000] {
        let got = series(&path, "a", from, to, buckets).await;
        assert_same(&got, &expected(&readings, "a", from, to, buckets as i64));
        for s in &got {
            assert!(
                s.buckets.len() <= buckets,
                "{} has {}",
                s.metric,
                s.buckets.len()
            );
            assert!(s.buckets.windows(2).all(|w| w[0].start < w[1].start));
            assert!(s.buckets.iter().all(|b| b.start >= from && b.start < to));
        }
    }
}

#[tokio::test]
async fn nothing_for_an_unknown_room_an_empty_outbox_or_an_empty_range() {
    let (_dir, path, mut store) = new_store();
    assert!(
        series(&path, "a", T0 - HOUR, T0, 10).await.is_empty(),
        "empty outbox"
    );
    store.append(&farm(), &[]).unwrap();
    assert!(series(&path, "nowhere", T0 - HOUR, T0, 10).await.is_empty());
    assert!(
        series(&path, "a", T0, T0, 10).await.is_empty(),
        "from == to"
    );
    assert!(
        series(&path, "a", T0, T0 - HOUR, 10).await.is_empty(),
        "from > to"
    );
    assert!(
        series(&path, "a", T0 - HOUR, T0, 0).await.is_empty(),
        "no buckets"
    );
    assert!(
        series(&path, "a", i64::MIN, i64::MAX, 10).await.is_empty(),
        "overflow"
    );
    assert!(!series(&path, "a", T0 - HOUR, T0, 10).await.is_empty());
}

#[tokio::test]
async fn queries_read_committed_data_while_the_writer_holds_a_transaction() {
    let (_dir, path, mut store) = new_store();
    let t = Metric::Temperature;
    store
        .append(&[reading(T0, "a", "s", t, 20.0)], &[])
        .unwrap();
    let history = History::open(&path).unwrap();
    // The writer is in the middle of a commit, and has been for a while.
    store.conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    store
        .conn
        .execute(
            "INSERT INTO readings (seq, ts, source, metric, value) \
             VALUES (1000, ?1, 1, 1, 30.0)",
            [T0 + 1],
        )
        .unwrap();
    let started = std::time::Instant::now();
    let got = history.room_series("a", T0, T0 + HOUR, 1).await.unwrap();
    assert!(
        started.elapsed() < BUSY_TIMEOUT / 2,
        "the reader did not wait"
    );
    assert_eq!((got[0].buckets[0].count, got[0].buckets[0].max), (1, 20.0));
    store.conn.execute_batch("COMMIT").unwrap();
    let got = history.room_series("a", T0, T0 + HOUR, 1).await.unwrap();
    assert_eq!((got[0].buckets[0].count, got[0].buckets[0].max), (2, 30.0));
    // The history connection writes nothing, even if asked to.
    let conn = history.conn.lock().unwrap();
    assert!(conn.execute_batch("DELETE FROM readings").is_err());
}

#[tokio::test]
async fn history_opens_a_closed_outbox_and_refuses_other_files() {
    let (dir, path, mut store) = new_store();
    store.append(&farm(), &[]).unwrap();
    store.close_cleanly().unwrap();
    drop(store);
    assert!(!series(&path, "a", T0 - HOUR, T0, 10).await.is_empty());
    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let err = History::open(&other).err().unwrap();
    assert!(
        matches!(
            err,
            OutboxError::Foreign {
                application_id: 0,
                ..
            }
        ),
        "{err}"
    );
    assert!(History::open(&dir.path().join("missing.sqlite")).is_err());
}

#[test]
fn the_search_bounds_the_scan_to_the_rows_of_the_range() {
    let (_dir, path, mut store) = new_store();
    // seq i has ts T0 + i s.
    let readings: Vec<NewReading> = (1..=10_000)
        .map(|i| reading(T0 + i * 1000, "a", "s", Metric::Co2, 800.0))
        .collect();
    store.append(&readings, &[]).unwrap();
    let history = History::open(&path).unwrap();
    let conn = history.conn.lock().unwrap();
    let seq = first_seq_from(&conn, T0 + 5000 * 1000).unwrap();
    assert!((5000 - PROBE_ROWS..=5000).contains(&seq), "{seq}");
    assert_eq!(first_seq_from(&conn, T0).unwrap(), 1);
    assert_eq!(first_seq_from(&conn, T0 + 20_000_000).unwrap(), 10_001);
    // SQLite reads a rowid range, not the whole table.
    let mut explain = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {SERIES_SQL}"))
        .unwrap();
    let plan: Vec<String> = explain
        .query_map(params![1, "a", 2, 3], |row| row.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter()
            .any(|p| p.contains("SEARCH readings USING INTEGER PRIMARY KEY (rowid>?)")),
        "{plan:?}"
    );
}

#[tokio::test]
async fn the_search_gives_the_full_scans_answer_for_readings_up_to_the_margin_late() {
    let (_dir, path, mut store) = new_store();
    let mut readings = farm();
    // A node's backlog of 50 min arrives in the middle, its ts crossing `from`.
    let from = T0 - 6 * HOUR;
    let backlog: Vec<NewReading> = (0..50)
        .map(|m| {
            reading(
                from - 25 * 60_000 + m * 60_000,
                "a",
                "node",
                Metric::Co2,
                2000.0,
            )
        })
        .collect();
    let arrival = readings
        .iter()
        .position(|r| r.ts > from + 25 * 60_000)
        .unwrap();
    readings.splice(arrival..arrival, backlog);
    store.append(&readings, &[]).unwrap();
    let history = History::open(&path).unwrap();
    for (from, to, buckets) in [(from, T0, 72), (T0 - 9 * HOUR, T0 - HOUR, 5), (from, T0, 1)] {
        let searched = history.room_series("a", from, to, buckets).await.unwrap();
        let full = history
            .room_series_full_scan("a", from, to, buckets)
            .await
            .unwrap();
        assert_eq!(searched, full);
        assert_same(
            &searched,
            &expected(&readings, "a", from, to, buckets as i64),
        );
    }
}

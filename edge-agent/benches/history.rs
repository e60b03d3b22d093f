//! The panel's room charts (issue 8): time of `History::room_series` on a full outbox, with
//! the seq lower bound (the shipped query) and without it (a full scan of `readings`).
//!
//! `cargo bench -p edge-agent --bench history` (add `-- ROUNDS`; default 5).
//!
//! Builds an outbox of 2,000,000 readings over 7 days: 4 rooms × 4 metrics (temperature and
//! humidity from a sensor, CO2 and VPD from a room node), each series read every 4.84 s, in
//! arrival order (rooms interleaved, as the agent stores them). Then, for room 2 and the
//! range ending at the newest reading, times ROUNDS queries of each: the last 24 h in 288
//! slots and the last 7 d in 336 slots, searched and full scan, alternating, after one
//! untimed warm-up of each (the file is in the OS page cache throughout; the outbox was
//! just written). Checks that both give the same answer. Prints every round and the medians.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Instant;

use edge_agent::outbox::{History, NewReading, OutboxSettings, Store};
use farm_protocol::{Metric, Source};

const READINGS: i64 = 2_000_000;
const ROOMS: i64 = 4;
const METRICS: [Metric; 4] = [
    Metric::Temperature,
    Metric::Humidity,
    Metric::Co2,
    Metric::Vpd,
];
const SERIES: i64 = ROOMS * METRICS.len() as i64;
const DAY_MS: i64 = 24 * 3_600_000;
/// The newest reading's ts: 2023-11-14 22:13:20 UTC.
const END: i64 = 1_700_000_000_000;
const CHUNK: usize = 20_000;

fn fill(path: &Path) -> f64 {
    let start = Instant::now();
    let settings = OutboxSettings {
        max_bytes: 4 << 30,
        ..OutboxSettings::default()
    };
    let mut store = Store::open(path, settings).unwrap();
    let ticks = READINGS / SERIES;
    let interval = 7 * DAY_MS / ticks;
    let mut chunk = Vec::with_capacity(CHUNK);
    for i in 0..READINGS {
        let (tick, k) = (i / SERIES, i % SERIES);
        let (room, metric) = (k / METRICS.len() as i64 + 1, METRICS[(k % 4) as usize]);
        let source = if k % 4 < 2 {
            Source::Sensor(format!("room-{room}-sht"))
        } else {
            Source::Node(format!("room-{room}-node"))
        };
        let wave = ((tick as f64) / 700.0 + k as f64).sin();
        let value = match metric {
            Metric::Temperature => 21.0 + 1.5 * wave,
            Metric::Humidity => 88.0 + 4.0 * wave,
            Metric::Co2 => 900.0 + 150.0 * wave,
            _ => 0.3 + 0.1 * wave,
        };
        chunk.push(NewReading {
            ts: END - (ticks - 1 - tick) * interval + k * 37,
            room: format!("room-{room}"),
            source,
            metric,
            value,
        });
        if chunk.len() == CHUNK {
            store.append(&chunk, &[]).unwrap();
            chunk.clear();
        }
    }
    if !chunk.is_empty() {
        store.append(&chunk, &[]).unwrap();
    }
    store.close_cleanly().unwrap();
    start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    let secs = fill(&path);
    let bytes = std::fs::metadata(&path).unwrap().len();
    println!("filled {READINGS} readings in {secs:.1} s; {bytes} bytes");
    let history = History::open(&path).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let to = END + 1;
    for (name, span, buckets) in [("24 h / 288", DAY_MS, 288), ("7 d / 336", 7 * DAY_MS, 336)] {
        let from = to - span;
        let searched = rt.block_on(history.room_series("room-2", from, to, buckets));
        let full = rt.block_on(history.room_series_full_scan("room-2", from, to, buckets));
        let (searched, full) = (searched.unwrap(), full.unwrap());
        assert_eq!(searched, full, "the search changes the answer");
        let rows: u64 = searched
            .iter()
            .flat_map(|s| &s.buckets)
            .map(|b| u64::from(b.count))
            .sum();
        let points: Vec<usize> = searched.iter().map(|s| s.buckets.len()).collect();
        println!("{name}: {rows} readings of room-2 in range, points per metric {points:?}");
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let start = Instant::now();
            rt.block_on(history.room_series("room-2", from, to, buckets))
                .unwrap();
            with.push(start.elapsed().as_secs_f64() * 1e3);
            let start = Instant::now();
            rt.block_on(history.room_series_full_scan("room-2", from, to, buckets))
                .unwrap();
            without.push(start.elapsed().as_secs_f64() * 1e3);
            println!(
                "  round {round}: seq bound {:.1} ms, full scan {:.1} ms",
                with[round], without[round]
            );
        }
        println!(
            "{name}: median {:.1} ms with the seq bound, {:.1} ms full scan",
            median(with),
            median(without),
        );
    }
}

//! Outbox append throughput (issue 2): readings/s committed through the outbox thread with the
//! default settings and with `synchronous = "full"`, and bytes on disk per million readings.
//!
//! `cargo bench -p edge-agent --bench outbox` (add `-- 5` for the number of runs; default 5).
//! Each run appends 1,000,000 readings from a producer thread and counts until the last one
//! is committed. Prints every run and the median.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use edge_agent::outbox::{NewReading, Outbox, OutboxSettings, Synchronous};
use farm_protocol::{Metric, Source};

const READINGS: usize = 1_000_000;

fn run(settings: OutboxSettings) -> (f64, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("outbox.sqlite");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let outbox = Outbox::open(&path, settings).expect("open");
        let producer = outbox.clone();
        let start = Instant::now();
        let thread = std::thread::spawn(move || {
            let rooms = ["fruiting-1", "fruiting-2", "incubation-1"];
            let metrics = [Metric::Temperature, Metric::Humidity, Metric::Co2];
            for i in 0..READINGS {
                let r = NewReading {
                    ts: 1_700_000_000_000 + i as i64,
                    room: rooms[i % 3].to_owned(),
                    source: Source::Node(format!("node-{}", i % 8)),
                    metric: metrics[i % 3],
                    value: 20.0 + (i % 100) as f64 / 10.0,
                };
                producer.append_reading_blocking(r).expect("append");
            }
        });
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .expect("join")
            .expect("producer");
        let last = outbox.flush().await.expect("flush");
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(last as usize, READINGS, "every reading committed");
        outbox.close().await.expect("close");
        let bytes: u64 = std::fs::read_dir(dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").metadata().expect("metadata").len())
            .sum();
        (READINGS as f64 / secs, bytes)
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let defaults = OutboxSettings {
        max_bytes: 4 << 30,
        ..OutboxSettings::default()
    };
    let full = OutboxSettings {
        synchronous: Synchronous::Full,
        ..defaults.clone()
    };
    let mut normal_rates = Vec::new();
    let mut full_rates = Vec::new();
    let mut sizes = Vec::new();
    // Alternate the two so that machine noise hits both alike.
    for i in 0..runs {
        let (rate, bytes) = run(defaults.clone());
        println!(
            "run {i}: defaults (NORMAL, {:?}): {rate:.0} readings/s, {bytes} bytes on disk",
            defaults.commit_interval
        );
        normal_rates.push(rate);
        sizes.push(bytes as f64);
        let (rate, _) = run(full.clone());
        println!("run {i}: synchronous=FULL: {rate:.0} readings/s");
        full_rates.push(rate);
    }
    println!(
        "median defaults:          {:.0} readings/s",
        median(normal_rates)
    );
    println!(
        "median synchronous=FULL:  {:.0} readings/s",
        median(full_rates)
    );
    println!(
        "bytes on disk per 1M readings (median): {:.0}",
        median(sizes) * 1e6 / READINGS as f64
    );
}

//! Fills an outbox with a backlog of readings, for the drain benchmark (issue 6,
//! `scripts/bench-drain.sh`), and optionally writes the same readings as InfluxDB line
//! protocol, exactly as the sync-service would write them, for the direct-write ceiling.
//!
//! ```sh
//! cargo run --release --example fill_outbox -p edge-agent -- \
//!     <data_dir>/outbox.sqlite <n> [<lines.lp> <tenant> <farm> <device>]
//! ```
//!
//! The readings: 4 rooms × 5 sensors × 4 metrics (temperature, humidity, CO2, VPD) = 80
//! series, each read once a second, the newest second ending now (so `retain_local` prunes
//! nothing), values wandering smoothly with a little seeded noise. Every reading has its own
//! (measurement, tags, timestamp), so none overwrites another in InfluxDB. The outbox must be
//! new or empty of unsynced readings; it is closed cleanly (no integrity check at the agent's
//! start).
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::time::Instant;

use edge_agent::outbox::{NewReading, OutboxSettings, Store};
use farm_protocol::{Metric, Source};
use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};

const ROOMS: usize = 4;
const SENSORS: usize = 5;
const METRICS: [Metric; 4] = [
    Metric::Temperature,
    Metric::Humidity,
    Metric::Co2,
    Metric::Vpd,
];
/// Readings per second of device time: every series once.
const PER_STEP: usize = ROOMS * SENSORS * METRICS.len();
/// Readings per transaction.
const CHUNK: usize = 20_000;

/// Where the line-protocol copy goes and the tags the sync-service adds.
struct Lines {
    out: BufWriter<std::fs::File>,
    tenant: String,
    farm: String,
    device: String,
}

fn usage() -> ! {
    eprintln!("usage: fill_outbox <outbox.sqlite> <n> [<lines.lp> <tenant> <farm> <device>]");
    std::process::exit(2);
}

/// The value of series `k` at second `step`: a slow daily-ish wave plus noise, rounded the
/// way a sensor driver reports it.
fn value(metric: Metric, k: usize, step: usize, rng: &mut SmallRng) -> f64 {
    let phase = k as f64 * 0.7;
    let wave = (step as f64 / 900.0 + phase).sin();
    let noise = rng.random::<f64>() - 0.5;
    let round = |v: f64, places: i32| {
        let m = 10f64.powi(places);
        (v * m).round() / m
    };
    match metric {
        Metric::Temperature => round(20.0 + 1.5 * wave + 0.2 * noise, 2),
        Metric::Humidity => round(90.0 + 3.0 * wave + 1.0 * noise, 2),
        Metric::Co2 => round(850.0 + 120.0 * wave + 20.0 * noise, 0),
        _ => round(0.25 + 0.1 * wave + 0.02 * noise, 3),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 2 && args.len() != 6 {
        usage();
    }
    let path = Path::new(&args[0]);
    let n: usize = args[1].parse().unwrap_or_else(|_| usage());
    let mut lines = (args.len() == 6).then(|| Lines {
        out: BufWriter::with_capacity(1 << 20, std::fs::File::create(&args[2]).unwrap()),
        tenant: args[3].clone(),
        farm: args[4].clone(),
        device: args[5].clone(),
    });

    let start = Instant::now();
    let settings = OutboxSettings {
        max_bytes: 4 << 30,
        ..OutboxSettings::default()
    };
    let mut store = Store::open(path, settings).unwrap();
    let steps = n.div_ceil(PER_STEP) as i64;
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let base_ms = (now_s - steps) * 1000;
    let mut rng = SmallRng::seed_from_u64(6);
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut line = String::with_capacity(256);
    let mut last = 0;
    for i in 0..n {
        let (step, k) = (i / PER_STEP, i % PER_STEP);
        let (room, sensor, metric) = (
            k / (SENSORS * METRICS.len()),
            k / METRICS.len() % SENSORS,
            METRICS[k % METRICS.len()],
        );
        // Sensors of a room are not read in the same millisecond.
        let ts = base_ms + step as i64 * 1000 + (sensor * 37) as i64;
        let room = format!("room-{}", room + 1);
        let sensor = format!("{room}-sensor-{}", sensor + 1);
        let value = value(metric, k, step, &mut rng);
        if let Some(l) = &mut lines {
            // What the sync-service writes (influxdb2's DataPoint: tags sorted by key).
            line.clear();
            writeln!(
                line,
                "{},device={},farm={},room={room},sensor={sensor},source=sensor,tenant={} value={value} {ts}",
                metric.name(),
                l.device,
                l.farm,
                l.tenant
            )
            .unwrap();
            l.out.write_all(line.as_bytes()).unwrap();
        }
        chunk.push(NewReading {
            ts,
            room,
            source: Source::Sensor(sensor),
            metric,
            value,
        });
        if chunk.len() == CHUNK {
            last = store.append(&chunk, &[]).unwrap();
            chunk.clear();
        }
    }
    if !chunk.is_empty() {
        last = store.append(&chunk, &[]).unwrap();
    }
    store.close_cleanly().unwrap();
    drop(store);
    if let Some(mut l) = lines {
        l.out.flush().unwrap();
    }
    println!(
        "filled {n} readings (last seq {last}) in {:.2} s",
        start.elapsed().as_secs_f64()
    );
}

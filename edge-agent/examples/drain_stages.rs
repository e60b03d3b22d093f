//! Where a drain batch's time goes outside InfluxDB (a diagnostic for issue 6's drain bench):
//! times, per 5,000-reading batch, the uplink's steps on an outbox filled by `fill_outbox` —
//! reading the batch (`Store::pending`), JSON + gzip (`uplink::encode`, at several gzip
//! levels), acking it — and what the sync-service does to the body before it writes to
//! InfluxDB (gunzip + JSON parse into a `Batch`). Single-threaded, no network.
//!
//! ```sh
//! cargo run --release --example fill_outbox -p edge-agent -- /tmp/o/outbox.sqlite 1000000
//! cargo run --release --example drain_stages -p edge-agent -- /tmp/o/outbox.sqlite
//! ```
//! The outbox is acked to the end as it goes (run `fill_outbox` again for a fresh one).
#![allow(clippy::unwrap_used)]

use std::io::Read as _;
use std::path::Path;
use std::time::{Duration, Instant};

use edge_agent::outbox::{OutboxSettings, Store};
use edge_agent::uplink::{encode, Limits};
use farm_protocol::Batch;

const LEVELS: [u32; 3] = [0, 1, 6];

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        eprintln!("usage: drain_stages <outbox.sqlite>");
        std::process::exit(2);
    });
    let settings = OutboxSettings {
        max_bytes: 4 << 30,
        ..OutboxSettings::default()
    };
    let mut store = Store::open(Path::new(&path), settings).unwrap();
    let limits = Limits {
        readings: 5000,
        events: 1000,
    };
    let (mut read, mut ack, mut decode) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut enc = [Duration::ZERO; LEVELS.len()];
    let mut bytes = [0usize; LEVELS.len()];
    let mut json_bytes = 0usize;
    let mut batches = 0u32;
    loop {
        let t = Instant::now();
        let Some(pending) = store.pending(limits.readings, limits.events).unwrap() else {
            break;
        };
        read += t.elapsed();
        let last = pending.last_seq;
        let mut level1_body = Vec::new();
        for (i, level) in LEVELS.into_iter().enumerate() {
            let t = Instant::now();
            let prepared = encode(pending.clone(), "bench", limits, level).unwrap();
            enc[i] += t.elapsed();
            bytes[i] += prepared.body.len();
            if level == 1 {
                level1_body = prepared.body;
            }
        }
        // The service's side: gunzip and parse (sync-service's `decode`, without its checks).
        let t = Instant::now();
        let mut json = Vec::new();
        flate2::read::MultiGzDecoder::new(level1_body.as_slice())
            .read_to_end(&mut json)
            .unwrap();
        let _batch: Batch = serde_json::from_slice(&json).unwrap();
        decode += t.elapsed();
        json_bytes += json.len();
        let t = Instant::now();
        store.ack(last).unwrap();
        ack += t.elapsed();
        batches += 1;
    }
    let per = |d: Duration| d.as_secs_f64() * 1e3 / f64::from(batches.max(1));
    println!("{batches} batches; per batch (ms):");
    println!("  outbox read (pending):        {:.2}", per(read));
    for (i, level) in LEVELS.into_iter().enumerate() {
        println!(
            "  JSON + gzip level {level}:          {:.2}  ({} bytes a batch)",
            per(enc[i]),
            bytes[i] / batches.max(1) as usize
        );
    }
    println!(
        "  service: gunzip + JSON parse: {:.2}  ({} JSON bytes a batch)",
        per(decode),
        json_bytes / batches.max(1) as usize
    );
    println!("  outbox ack:                   {:.2}", per(ack));
}

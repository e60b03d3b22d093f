//! The quota of DESIGN.md §3.2: over `max_bytes` the oldest telemetry goes first, every event
//! survives, the eviction counter matches what is missing, and the file stays bounded.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use edge_agent::outbox::{NewEvent, NewReading, OutboxSettings, Store};
use farm_protocol::{EventKind, Harvest, Metric, Seq, Source};
use uuid::Uuid;

const MAX_BYTES: u64 = 1024 * 1024;

fn reading(i: i64) -> NewReading {
    NewReading {
        ts: 1_700_000_000_000 + i,
        room: "fruiting-1".into(),
        source: Source::Sensor("climate".into()),
        metric: Metric::Co2,
        value: 800.0 + (i % 400) as f64,
    }
}

fn harvest(i: usize) -> NewEvent {
    NewEvent {
        id: Uuid::new_v4(),
        ts: 1_700_000_000_000,
        kind: EventKind::Harvest(Harvest {
            room: "fruiting-1".into(),
            product: "OYS-BLUE".into(),
            quantity: i as f64,
            unit: "kg".into(),
            lot: format!("L{i}"),
        }),
    }
}

fn file_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[test]
fn oldest_telemetry_is_evicted_events_survive_and_the_count_matches() {
    let dir = tempfile::tempdir().unwrap();
    let settings = OutboxSettings {
        max_bytes: MAX_BYTES,
        ..OutboxSettings::default()
    };
    let mut store = Store::open(&dir.path().join("outbox.sqlite"), settings).unwrap();
    let mut reading_seqs = Vec::new();
    let mut harvests = BTreeSet::new();
    let mut i = 0;
    for round in 0..150 {
        let batch: Vec<NewReading> = (0..1_000)
            .map(|_| {
                i += 1;
                reading(i)
            })
            .collect();
        let last = store.append(&batch, &[]).unwrap();
        reading_seqs.extend(last + 1 - batch.len() as Seq..=last);
        if round % 10 == 0 {
            let e = harvest(round);
            harvests.insert(e.id);
            store.append(&[], &[e]).unwrap();
        }
        store.enforce_quota(0).unwrap();
        assert!(store.used_bytes().unwrap() <= MAX_BYTES, "round {round}");
        // The WAL is bounded to a quarter of the quota; allow a commit's worth beyond.
        assert!(
            file_bytes(dir.path()) <= MAX_BYTES * 2,
            "files hold {} bytes",
            file_bytes(dir.path())
        );
    }

    let kept: Vec<Seq> = store
        .readings_after(0, usize::MAX >> 1)
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert!(
        !kept.is_empty() && kept.len() < reading_seqs.len(),
        "nothing was evicted"
    );
    // Oldest first: what is kept is exactly the newest readings.
    assert_eq!(kept, reading_seqs[reading_seqs.len() - kept.len()..]);
    let c = store.counters();
    assert_eq!(c.evicted, (reading_seqs.len() - kept.len()) as u64);
    assert_eq!(
        c.pruned, 0,
        "nothing was synced, so nothing counts as pruned"
    );

    let events = store.events_after(0, usize::MAX >> 1).unwrap();
    let stored_harvests: BTreeSet<Uuid> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Harvest(_)))
        .map(|e| e.id)
        .collect();
    assert_eq!(stored_harvests, harvests, "an event was evicted");
    let alarmed: u64 = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Alarm { code, message, .. } if code == "outbox_eviction" => message
                .split_whitespace()
                .find_map(|w| w.parse::<u64>().ok()),
            _ => None,
        })
        .sum();
    assert_eq!(
        alarmed, c.evicted,
        "every eviction raises an alarm naming its count"
    );
}

#[test]
fn synced_history_goes_before_unsynced_telemetry() {
    let dir = tempfile::tempdir().unwrap();
    let settings = OutboxSettings {
        max_bytes: MAX_BYTES,
        ..OutboxSettings::default()
    };
    let mut store = Store::open(&dir.path().join("outbox.sqlite"), settings).unwrap();
    let batch: Vec<NewReading> = (0..40_000).map(reading).collect();
    let half = store.append(&batch, &[]).unwrap();
    store.ack(half).unwrap();
    store.append(&batch, &[]).unwrap();
    let out = store.enforce_quota(0).unwrap();
    assert!(out.pruned > 0);
    if out.evicted > 0 {
        assert_eq!(
            out.pruned, 40_000,
            "unsynced readings went while synced ones were left"
        );
    }
    let oldest = store.readings_after(0, 1).unwrap()[0].seq;
    assert_eq!(oldest, out.pruned + out.evicted + 1);
    assert_eq!(store.counters().evicted, out.evicted);
}

//! The outbox store against a simple in-memory model (DESIGN.md §3.2): appends, acks,
//! evictions, pruning and reopening, in random order. Checks after every step that the file
//! holds exactly what the model holds and that no seq is ever handed out twice.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use edge_agent::outbox::{NewEvent, NewReading, OutboxError, OutboxSettings, Store};
use farm_protocol::{EventKind, Metric, Seq, Severity, Source};
use proptest::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    Readings(usize),
    Event,
    /// Ack a share (per mille) of what was handed out; above 1000 is beyond the end.
    Ack(u32),
    Pending(usize, usize),
    EnforceQuota,
    Prune,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1usize..400).prop_map(Op::Readings),
        2 => Just(Op::Event),
        2 => (0u32..1100).prop_map(Op::Ack),
        2 => (1usize..300, 1usize..5).prop_map(|(r, e)| Op::Pending(r, e)),
        2 => Just(Op::EnforceQuota),
        1 => Just(Op::Prune),
        1 => Just(Op::Reopen),
    ]
}

/// What the outbox should hold.
#[derive(Default)]
struct Model {
    next_seq: Seq,
    acked: Seq,
    readings: BTreeMap<Seq, (i64, f64)>,
    events: BTreeMap<Seq, (&'static str, i64)>,
    evicted: u64,
    pruned: u64,
}

fn settings() -> OutboxSettings {
    OutboxSettings {
        max_bytes: 64 * 1024,
        retain_local: Duration::from_millis(5_000),
        ..OutboxSettings::default()
    }
}

fn reading(ts: i64) -> NewReading {
    NewReading {
        ts,
        room: format!("room-{}", ts % 3),
        source: if ts % 2 == 0 {
            Source::Sensor("s".into())
        } else {
            Source::Node("n".into())
        },
        metric: Metric::ALL[(ts % 6) as usize],
        value: (ts % 50) as f64,
    }
}

fn alarm() -> NewEvent {
    let kind = EventKind::Alarm {
        room: None,
        code: "test".into(),
        severity: Severity::Info,
        active: true,
        message: "m".into(),
    };
    NewEvent {
        id: Uuid::new_v4(),
        ts: 0,
        kind,
    }
}

fn check(store: &Store, model: &Model) -> Result<(), TestCaseError> {
    let c = store.counters();
    prop_assert_eq!(c.next_seq, model.next_seq);
    prop_assert_eq!(c.acked_seq, model.acked);
    prop_assert_eq!(c.evicted, model.evicted);
    prop_assert_eq!(c.pruned, model.pruned);
    let stored: BTreeMap<Seq, (i64, f64)> = store
        .readings_after(0, usize::MAX >> 1)
        .unwrap()
        .into_iter()
        .map(|r| (r.seq, (r.ts, r.value)))
        .collect();
    prop_assert_eq!(&stored, &model.readings);
    let events: BTreeMap<Seq, (&str, i64)> = store
        .events_after(0, usize::MAX >> 1)
        .unwrap()
        .into_iter()
        .map(|e| {
            let name = match &e.kind {
                EventKind::Alarm { code, .. } if code == "test" => "test",
                EventKind::Alarm { code, .. } if code == "outbox_eviction" => "eviction",
                _ => "other",
            };
            (e.seq, (name, e.ts))
        })
        .collect();
    prop_assert_eq!(&events, &model.events);
    Ok(())
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    let mut store = Store::open(&path, settings()).unwrap();
    let mut model = Model {
        next_seq: 1,
        ..Model::default()
    };
    let mut clock: i64 = 0;
    for op in ops {
        match op {
            Op::Readings(n) => {
                let batch: Vec<NewReading> = (0..n).map(|i| reading(clock + i as i64)).collect();
                let last = store.append(&batch, &[]).unwrap();
                for r in &batch {
                    model.readings.insert(model.next_seq, (r.ts, r.value));
                    model.next_seq += 1;
                }
                prop_assert_eq!(last, model.next_seq - 1);
                clock += n as i64 * 10;
            }
            Op::Event => {
                let seq = store.append(&[], &[alarm()]).unwrap();
                prop_assert_eq!(seq, model.next_seq, "seq handed out twice or skipped");
                model.events.insert(seq, ("test", 0));
                model.next_seq += 1;
            }
            Op::Ack(per_mille) => {
                let issued = model.next_seq - 1;
                let seq = issued * u64::from(per_mille) / 1000;
                match store.ack(seq) {
                    Ok(()) => model.acked = model.acked.max(seq),
                    Err(OutboxError::AckBeyondEnd { .. }) => prop_assert!(seq > issued),
                    Err(e) => return Err(TestCaseError::fail(e.to_string())),
                }
            }
            Op::Pending(max_r, max_e) => check_pending(&store, &model, max_r, max_e)?,
            Op::EnforceQuota => {
                let out = store.enforce_quota(clock).unwrap();
                let gone: Vec<Seq> = model
                    .readings
                    .keys()
                    .copied()
                    .take((out.pruned + out.evicted) as usize)
                    .collect();
                let synced = gone.iter().filter(|s| **s <= model.acked).count() as u64;
                prop_assert_eq!(out.pruned, synced, "synced readings must go first");
                for s in gone {
                    model.readings.remove(&s);
                }
                model.pruned += out.pruned;
                model.evicted += out.evicted;
                if out.evicted > 0 {
                    model.events.insert(model.next_seq, ("eviction", clock));
                    model.next_seq += 1;
                }
                if !model.readings.is_empty() {
                    prop_assert!(store.used_bytes().unwrap() <= settings().max_bytes);
                }
            }
            Op::Prune => {
                let cutoff = clock - 5_000;
                let young = model
                    .readings
                    .iter()
                    .find(|(s, (ts, _))| **s <= model.acked && *ts >= cutoff)
                    .map(|(s, _)| *s);
                let limit = young.map_or(model.acked, |s| s - 1);
                let before = model.readings.len() + model.events.len();
                model.readings.retain(|s, _| *s > limit);
                model
                    .events
                    .retain(|s, (_, ts)| *s > model.acked || *ts >= cutoff);
                model.pruned += (before - model.readings.len() - model.events.len()) as u64;
                store.prune(clock).unwrap();
            }
            Op::Reopen => {
                drop(store);
                store = Store::open(&path, settings()).unwrap();
            }
        }
        check(&store, &model)?;
    }
    Ok(())
}

fn check_pending(
    store: &Store,
    model: &Model,
    max_r: usize,
    max_e: usize,
) -> Result<(), TestCaseError> {
    let pending = store.pending(max_r, max_e).unwrap();
    let unsynced_r: Vec<Seq> = model
        .readings
        .keys()
        .copied()
        .filter(|s| *s > model.acked)
        .collect();
    let unsynced_e: Vec<Seq> = model
        .events
        .keys()
        .copied()
        .filter(|s| *s > model.acked)
        .collect();
    let Some(p) = pending else {
        prop_assert!(unsynced_r.is_empty() && unsynced_e.is_empty());
        return Ok(());
    };
    let r: Vec<Seq> = p.readings.iter().map(|r| r.seq).collect();
    let e: Vec<Seq> = p.events.iter().map(|e| e.seq).collect();
    // Everything unsynced in first..=last is in the batch, and nothing else.
    let want_r: Vec<Seq> = unsynced_r
        .iter()
        .copied()
        .filter(|s| *s <= p.last_seq)
        .collect();
    let want_e: Vec<Seq> = unsynced_e
        .iter()
        .copied()
        .filter(|s| *s <= p.last_seq)
        .collect();
    prop_assert_eq!(&r, &want_r);
    prop_assert_eq!(&e, &want_e);
    prop_assert!(r.len() <= max_r && e.len() <= max_e);
    prop_assert!(!r.is_empty() || !e.is_empty());
    prop_assert_eq!(
        p.first_seq,
        r.first()
            .copied()
            .into_iter()
            .chain(e.first().copied())
            .min()
            .unwrap()
    );
    prop_assert!(p.first_seq > model.acked && p.last_seq < model.next_seq);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn outbox_matches_model(ops in prop::collection::vec(op(), 1..60)) {
        run(ops)?;
    }
}

/// The generated cases only prove something if eviction really happens in them.
#[test]
fn the_model_settings_do_evict() {
    let ops = (0..20)
        .map(|_| Op::Readings(300))
        .chain([Op::EnforceQuota])
        .collect();
    run(ops).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("o.sqlite"), settings()).unwrap();
    store
        .append(&(0..6_000).map(reading).collect::<Vec<_>>(), &[])
        .unwrap();
    assert!(store.enforce_quota(0).unwrap().evicted > 0);
}

//! Durability under `kill -9` (DESIGN.md §3.2): a child process appends readings and events as
//! fast as it can and reports each commit; the test kills it with SIGKILL at a different point
//! each round, then checks that everything reported committed is in the file and that seq
//! carries on strictly increasing after the restart.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use edge_agent::outbox::{NewEvent, NewReading, Outbox, OutboxSettings, Store};
use farm_protocol::{EventKind, Harvest, Metric, Seq, Source};
use uuid::Uuid;

const CHILD_ENV: &str = "OUTBOX_CRASH_CHILD_PATH";
const ROUNDS: usize = 12;

/// The child half of the crash test: appends until killed. Run only by
/// `kill_nine_loses_nothing_committed`, which sets the outbox path in the environment.
#[test]
#[ignore = "child process of kill_nine_loses_nothing_committed"]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let outbox = Outbox::open(path.as_ref(), OutboxSettings::default()).unwrap();
        let mut out = std::io::stdout().lock();
        for round in 0u64.. {
            for i in 0..2_000 {
                let r = NewReading {
                    ts: (round * 2_000 + i) as i64,
                    room: "room".into(),
                    source: Source::Node(format!("node-{}", i % 4)),
                    metric: Metric::Temperature,
                    value: 20.0,
                };
                outbox.append_reading_blocking(r).unwrap();
            }
            if round % 3 == 0 {
                let id = Uuid::new_v4();
                let seq = outbox.append_event(harvest(id)).await.unwrap();
                writeln!(out, "event {seq} {id}").unwrap();
            }
            let seq = outbox.flush().await.unwrap();
            writeln!(out, "committed {seq}").unwrap();
            out.flush().unwrap();
        }
    });
}

fn harvest(id: Uuid) -> NewEvent {
    let kind = EventKind::Harvest(Harvest {
        room: "room".into(),
        product: "SKU".into(),
        quantity: 1.0,
        unit: "kg".into(),
        lot: "L".into(),
    });
    NewEvent { id, ts: 0, kind }
}

#[test]
fn kill_nine_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    let mut high_water: Seq = 0;
    let mut stored_before: Seq = 0;
    let mut events: BTreeMap<Seq, Uuid> = BTreeMap::new();
    for round in 0..ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Kill after a different number of commits each round, while it is mid-append.
        let commits_before_kill = 1 + (round * 7) % 11;
        let mut seen = 0;
        while seen < commits_before_kill {
            let line = lines.next().expect("child ended early").unwrap();
            let mut words = line.split_whitespace();
            let kind = words.next();
            if !matches!(kind, Some("event" | "committed")) {
                continue; // libtest's own output
            }
            let seq: Seq = words.next().unwrap().parse().unwrap();
            assert!(
                seq > stored_before,
                "round {round}: seq {seq} reused after restart"
            );
            if kind == Some("event") {
                events.insert(seq, words.next().unwrap().parse().unwrap());
            } else {
                seen += 1;
                high_water = high_water.max(seq);
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let store = Store::open(&path, OutboxSettings::default()).unwrap();
        let readings = store.readings_after(0, usize::MAX >> 1).unwrap();
        let stored_events = store.events_after(0, usize::MAX >> 1).unwrap();
        let mut seqs: Vec<Seq> = readings
            .iter()
            .map(|r| r.seq)
            .chain(stored_events.iter().map(|e| e.seq))
            .collect();
        seqs.sort_unstable();
        // Nothing is evicted at the default quota, so seqs are 1..=n without a hole.
        let expected: Vec<Seq> = (1..=seqs.len() as Seq).collect();
        assert_eq!(seqs, expected, "round {round}: a hole or a repeated seq");
        assert!(
            seqs.len() as Seq >= high_water,
            "round {round}: reported-committed rows missing"
        );
        for (seq, id) in &events {
            assert!(
                stored_events.iter().any(|e| e.seq == *seq && e.id == *id),
                "event {seq} lost"
            );
        }
        assert_eq!(store.counters().next_seq, seqs.len() as Seq + 1);
        drop(store);
        stored_before = seqs.len() as Seq;
    }
    assert!(
        high_water > (ROUNDS * 2_000) as Seq,
        "the child barely wrote anything"
    );
}

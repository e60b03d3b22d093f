//! The ingest path without a broker: malformed payloads are dropped and counted by reason and
//! never stop the valid readings that follow, which land in the outbox and the latest state
//! with the node's room, name, metric, value and timestamp.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use edge_agent::ingest::{DropReason, Ingest, IngestStats, NodeTracker, TimeLimits};
use edge_agent::outbox::{Outbox, OutboxSettings};
use edge_agent::state::LatestState;
use farm_protocol::{Metric, Source};

#[tokio::test]
async fn a_thousand_malformed_messages_are_counted_and_valid_ones_still_land() {
    let dir = tempfile::tempdir().unwrap();
    let outbox =
        Outbox::open(&dir.path().join("outbox.sqlite"), OutboxSettings::default()).unwrap();
    let ingest = Ingest {
        outbox: outbox.clone(),
        state: LatestState::default(),
        stats: Arc::new(IngestStats::default()),
        nodes: Arc::new(Mutex::new(NodeTracker::default())),
        limits: TimeLimits {
            max_clock_skew: Duration::from_secs(300),
            max_age: Duration::from_secs(86_400),
        },
    };
    let bad: [(&str, &[u8]); 5] = [
        (
            "farm/fruiting-1/esp32-a/telemetry",
            b"{\"readings\": {\"co2\": \"lots\"}",
        ),
        ("farm/fruiting-1/esp32-a/co2", b"\xff\xfe\x00"),
        ("farm/fruiting-1/esp32-a/co3", b"12"),
        ("farm/fruiting 1/esp32-a/co2", b"12"),
        ("farm/fruiting-1/esp32-a/humidity", b"250"),
    ];
    for i in 0..1000 {
        let (topic, payload) = bad[i % bad.len()];
        ingest.handle(topic, payload);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let sent_ts = now.as_millis() as i64 - 1_000;
    let json =
        format!("{{\"ts\": {sent_ts}, \"readings\": {{\"temperature\": 21.4, \"co2\": 850}}}}");
    ingest.handle("farm/fruiting-1/esp32-a/telemetry", json.as_bytes());
    ingest.handle("farm/fruiting-1/esp32-b/humidity", b"91.5");

    let stats = &ingest.stats;
    assert_eq!(stats.messages.load(Relaxed), 1002);
    assert_eq!(stats.accepted.load(Relaxed), 3);
    let dropped: u64 = stats.dropped().iter().map(|(_, n)| n).sum();
    assert_eq!(dropped, 1000);
    for (reason, n) in stats.dropped() {
        let expected = match reason {
            DropReason::Payload => 400,
            DropReason::UnknownMetric | DropReason::Name | DropReason::OutOfRange => 200,
            _ => 0,
        };
        assert_eq!(n, expected, "{reason:?}");
    }

    outbox.flush().await.unwrap();
    let pending = outbox.pending(100, 100).await.unwrap().unwrap();
    let mut got: Vec<(String, Source, Metric, f64, bool)> = pending
        .readings
        .iter()
        .map(|r| {
            (
                r.room.clone(),
                r.source.clone(),
                r.metric,
                r.value,
                r.ts == sent_ts,
            )
        })
        .collect();
    got.sort_by_key(|r| r.2);
    let node = |n: &str| Source::Node(n.into());
    assert_eq!(
        got,
        vec![
            (
                "fruiting-1".into(),
                node("esp32-a"),
                Metric::Temperature,
                21.4,
                true
            ),
            (
                "fruiting-1".into(),
                node("esp32-b"),
                Metric::Humidity,
                91.5,
                false
            ),
            (
                "fruiting-1".into(),
                node("esp32-a"),
                Metric::Co2,
                850.0,
                true
            ),
        ]
    );
    let humidity = ingest.state.get("fruiting-1", Metric::Humidity).unwrap();
    assert_eq!((humidity.value, humidity.source), (91.5, node("esp32-b")));
    assert_eq!(ingest.nodes.lock().unwrap().counts(), (2, 0));
}

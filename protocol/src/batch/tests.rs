use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::{EventKind, Harvest, Metric, Source};

fn reading(seq: Seq, metric: Metric, value: f64) -> Reading {
    Reading {
        seq,
        ts: 1_700_000_000_000 + seq as i64,
        room: "fruiting-1".into(),
        source: Source::Sensor("sim-1".into()),
        metric,
        value,
    }
}

fn batch(first: Seq, last: Seq, readings: Vec<Reading>) -> Batch {
    Batch {
        schema: 1,
        device_id: "pi-1".into(),
        first_seq: first,
        last_seq: last,
        readings,
        events: vec![],
    }
}

#[test]
fn a_well_formed_batch_validates_and_round_trips() {
    let mut b = batch(
        10,
        12,
        vec![
            reading(10, Metric::Co2, 900.0),
            reading(12, Metric::Humidity, 90.0),
        ],
    );
    b.events.push(Event {
        seq: 11,
        id: Uuid::from_u128(7),
        ts: 1,
        kind: EventKind::Harvest(Harvest {
            room: "fruiting-1".into(),
            product: "OYS".into(),
            quantity: 1.0,
            unit: "kg".into(),
            lot: "L1".into(),
        }),
    });
    assert_eq!(b.validate(), Ok(()));
    let text = serde_json::to_string(&b).unwrap();
    assert_eq!(serde_json::from_str::<Batch>(&text).unwrap(), b);
}

#[test]
fn each_broken_invariant_gets_its_own_error() {
    let mut b = batch(1, 1, vec![]);
    b.schema = 2;
    assert_eq!(b.validate(), Err(BatchError::Schema(2)));
    assert_eq!(
        batch(5, 4, vec![]).validate(),
        Err(BatchError::Range { first: 5, last: 4 })
    );
    assert_eq!(
        batch(5, 6, vec![reading(7, Metric::Co2, 1.0)]).validate(),
        Err(BatchError::SeqOutOfRange(7))
    );
    assert_eq!(
        batch(
            5,
            6,
            vec![reading(5, Metric::Co2, 1.0), reading(5, Metric::Light, 1.0)]
        )
        .validate(),
        Err(BatchError::DuplicateSeq(5))
    );
    assert!(matches!(
        batch(5, 6, vec![reading(5, Metric::Humidity, 120.0)]).validate(),
        Err(BatchError::Implausible { seq: 5, .. })
    ));
    let many = (0..=MAX_BATCH_READINGS as u64)
        .map(|s| reading(s, Metric::Co2, 1.0))
        .collect();
    assert_eq!(
        batch(0, MAX_BATCH_READINGS as u64, many).validate(),
        Err(BatchError::TooLarge(MAX_BATCH_READINGS + 1))
    );
    let mut nodev = batch(1, 1, vec![]);
    nodev.device_id.clear();
    assert_eq!(nodev.validate(), Err(BatchError::NoDevice));
}

#[test]
fn unknown_top_level_fields_are_rejected() {
    let text = r#"{"schema":1,"device_id":"d","first_seq":1,"last_seq":1,"readings":[],"events":[],"extra":1}"#;
    let err = serde_json::from_str::<Batch>(text).unwrap_err();
    assert!(err.to_string().contains("unknown field `extra`"), "{err}");
}

fn any_metric() -> impl Strategy<Value = Metric> {
    prop::sample::select(Metric::ALL.to_vec())
}

fn any_source() -> impl Strategy<Value = Source> {
    prop_oneof![
        "[a-z0-9-]{1,12}".prop_map(Source::Sensor),
        "[a-z0-9-]{1,12}".prop_map(Source::Node)
    ]
}

proptest! {
    #[test]
    fn readings_round_trip_through_json(
        seq in any::<u64>(),
        ts in any::<i64>(),
        room in "\\PC{0,16}",
        source in any_source(),
        metric in any_metric(),
        frac in 0.0f64..=1.0,
    ) {
        let (lo, hi) = metric.physical_range();
        let r = Reading { seq, ts, room, source, metric, value: lo + (hi - lo) * frac };
        let text = serde_json::to_string(&r).unwrap();
        prop_assert_eq!(serde_json::from_str::<Reading>(&text).unwrap(), r);
    }
}

use std::time::Duration;

use farm_protocol::Metric;

use super::*;

const NOW: i64 = 1_800_000_000_000;
const LIMITS: TimeLimits = TimeLimits {
    max_clock_skew: Duration::from_secs(300),
    max_age: Duration::from_secs(24 * 3600),
};

fn p(topic: &str, payload: &str) -> Parsed {
    parse(topic, payload.as_bytes(), NOW, LIMITS)
}

fn reading(metric: Metric, value: f64, ts: i64) -> NodeReading {
    NodeReading {
        room: "fruiting-1".into(),
        node: "esp32-a".into(),
        metric,
        value,
        ts,
    }
}

#[test]
fn json_telemetry_with_a_timestamp_keeps_it() {
    let got = p(
        "farm/fruiting-1/esp32-a/telemetry",
        r#"{"ts": 1799999999000, "readings": {"temperature": 21.4, "humidity": 91.0, "co2": 850}}"#,
    );
    assert!(got.dropped.is_empty(), "{got:?}");
    let mut readings = got.readings;
    readings.sort_by_key(|r| r.metric);
    assert_eq!(
        readings,
        vec![
            reading(Metric::Temperature, 21.4, 1_799_999_999_000),
            reading(Metric::Humidity, 91.0, 1_799_999_999_000),
            reading(Metric::Co2, 850.0, 1_799_999_999_000),
        ]
    );
}

#[test]
fn a_bare_number_on_a_metric_topic_is_stamped_with_the_receive_time() {
    let got = p("farm/fruiting-1/esp32-a/co2", " 912.5\n");
    assert_eq!(got.readings, vec![reading(Metric::Co2, 912.5, NOW)]);
    let got = p(
        "farm/fruiting-1/esp32-a/telemetry",
        r#"{"readings": {"light": 120}}"#,
    );
    assert_eq!(got.readings, vec![reading(Metric::Light, 120.0, NOW)]);
}

#[test]
fn each_bad_input_is_dropped_with_its_reason() {
    let cases: &[(&str, &str, &[DropReason])] = &[
        ("farm/fruiting-1/esp32-a", "21", &[DropReason::Topic]),
        (
            "farm/fruiting-1/esp32-a/co2/extra",
            "21",
            &[DropReason::Topic],
        ),
        ("greenhouse/r/n/co2", "21", &[DropReason::Topic]),
        ("farm/fruiting room/esp32-a/co2", "21", &[DropReason::Name]),
        ("farm/fruiting-1//co2", "21", &[DropReason::Name]),
        (
            "farm/fruiting-1/esp32-a/co2",
            "lots",
            &[DropReason::Payload],
        ),
        (
            "farm/fruiting-1/esp32-a/co2",
            "NaN",
            &[DropReason::OutOfRange],
        ),
        (
            "farm/fruiting-1/esp32-a/co3",
            "21",
            &[DropReason::UnknownMetric],
        ),
        (
            "farm/fruiting-1/esp32-a/humidity",
            "101",
            &[DropReason::OutOfRange],
        ),
        (
            "farm/fruiting-1/esp32-a/telemetry",
            "{not json",
            &[DropReason::Payload],
        ),
        (
            "farm/fruiting-1/esp32-a/telemetry",
            r#"{"readings": {}}"#,
            &[DropReason::Payload],
        ),
        (
            "farm/fruiting-1/esp32-a/telemetry",
            r#"{"readings": {"co2": 1}, "x": 1}"#,
            &[DropReason::Payload],
        ),
        (
            "farm/fruiting-1/esp32-a/telemetry",
            r#"{"readings": {"co2": "high"}}"#,
            &[DropReason::Payload],
        ),
        (
            "farm/fruiting-1/esp32-a/telemetry",
            r#"{"ts": 1800000400000, "readings": {"co2": 1}}"#,
            &[DropReason::Future],
        ),
        (
            "farm/fruiting-1/esp32-a/telemetry",
            r#"{"ts": 1700000000000, "readings": {"co2": 1, "light": 2}}"#,
            &[DropReason::TooOld, DropReason::TooOld],
        ),
    ];
    for (topic, payload, reasons) in cases {
        let got = p(topic, payload);
        assert!(got.readings.is_empty(), "{topic} {payload}: {got:?}");
        assert_eq!(got.dropped, *reasons, "{topic} {payload}");
    }
}

#[test]
fn good_readings_of_a_mixed_message_are_kept() {
    let got = p(
        "farm/fruiting-1/esp32-a/telemetry",
        r#"{"readings": {"co2": 900, "co3": 1, "humidity": 140, "temperature": 20}}"#,
    );
    let mut metrics: Vec<Metric> = got.readings.iter().map(|r| r.metric).collect();
    metrics.sort();
    assert_eq!(metrics, vec![Metric::Temperature, Metric::Co2]);
    let mut dropped = got.dropped.clone();
    dropped.sort_by_key(|r| r.index());
    assert_eq!(
        dropped,
        vec![DropReason::UnknownMetric, DropReason::OutOfRange]
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    for payload in [
        &b"\xff\xfe"[..],
        b"",
        b"{\"readings\":{\"co2\":1e999}}",
        b"[1,2]",
        b"-0",
    ] {
        let got = parse("farm/r/n/telemetry", payload, NOW, LIMITS);
        assert!(
            got.readings.is_empty() && !got.dropped.is_empty(),
            "{payload:?}: {got:?}"
        );
        let _ = parse("farm/r/n/co2", payload, NOW, LIMITS);
    }
}

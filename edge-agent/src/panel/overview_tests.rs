use farm_protocol::Source;

use super::*;
use crate::control::{ActuatorView, LoopView, Override};

const NOW: UnixMillis = 1_800_000_000_000;

fn latest(value: f64, age: Duration, fault: Option<&'static str>) -> Latest {
    Latest {
        value,
        ts: NOW - i64::try_from(age.as_millis()).unwrap(),
        source: Source::Sensor("climate".into()),
        fault,
    }
}

fn fresh(value: f64) -> Latest {
    latest(value, Duration::from_secs(5), None)
}

fn hysteresis(room: &str, metric: &'static str, setpoint: f64, band: f64) -> LoopView {
    LoopView {
        name: format!("{room}-{metric}"),
        room: room.into(),
        actuator: "a".into(),
        kind: "hysteresis",
        metric: Some(metric),
        setpoint: Some(setpoint),
        value: None,
        duty: None,
        fault: None,
        band: Some(band),
        stale_after: Some(Duration::from_secs(30)),
        settings: Default::default(),
    }
}

fn pid(room: &str, metric: &'static str, setpoint: f64) -> LoopView {
    LoopView {
        kind: "pid",
        band: None,
        stale_after: Some(Duration::from_secs(60)),
        ..hysteresis(room, metric, setpoint, 0.0)
    }
}

fn view(loops: Vec<LoopView>) -> ControlView {
    ControlView {
        actuators: Vec::new(),
        loops,
    }
}

fn status(view: &ControlView, metric: Metric, reading: &Latest) -> Status {
    Rule::new(view, "fruiting-1", metric).status(metric, reading, NOW)
}

#[test]
fn a_hysteresis_loop_targets_setpoint_plus_or_minus_its_band() {
    let view = view(vec![hysteresis("fruiting-1", "humidity", 90.0, 4.0)]);
    let rule = Rule::new(&view, "fruiting-1", Metric::Humidity);
    assert_eq!(rule.target, Some((86.0, 94.0)));
    assert_eq!(rule.stale_after, Duration::from_secs(30));
    for (value, expected) in [
        (90.0, Status::InRange),
        (86.0, Status::InRange),
        (94.0, Status::InRange),
        (85.9, Status::OutOfRange),
        (97.0, Status::OutOfRange),
        (f64::NAN, Status::OutOfRange),
    ] {
        assert_eq!(
            status(&view, Metric::Humidity, &fresh(value)),
            expected,
            "{value}"
        );
    }
}

#[test]
fn a_pid_loop_targets_setpoint_plus_or_minus_the_metrics_tolerance() {
    let view = view(vec![pid("fruiting-1", "temperature", 20.0)]);
    assert_eq!(
        status(&view, Metric::Temperature, &fresh(20.9)),
        Status::InRange
    );
    assert_eq!(
        status(&view, Metric::Temperature, &fresh(18.9)),
        Status::OutOfRange
    );
}

#[test]
fn only_loops_of_the_same_room_and_metric_count_and_several_intersect() {
    let view = view(vec![
        hysteresis("fruiting-1", "humidity", 90.0, 4.0),
        hysteresis("fruiting-1", "humidity", 85.0, 4.0),
        hysteresis("other-room", "co2", 800.0, 100.0),
        hysteresis("fruiting-1", "temperature", 20.0, 1.0),
    ]);
    assert_eq!(
        Rule::new(&view, "fruiting-1", Metric::Humidity).target,
        Some((86.0, 89.0))
    );
    // No co2 loop here: the physical range decides, and the default stale threshold.
    let rule = Rule::new(&view, "fruiting-1", Metric::Co2);
    assert_eq!(rule.target, None);
    assert_eq!(rule.stale_after, DEFAULT_STALE_AFTER);
    assert_eq!(status(&view, Metric::Co2, &fresh(5_000.0)), Status::InRange);
    assert_eq!(status(&view, Metric::Co2, &fresh(-1.0)), Status::OutOfRange);
}

#[test]
fn stale_uses_the_loops_threshold_or_two_minutes() {
    let view = view(vec![hysteresis("fruiting-1", "humidity", 90.0, 4.0)]);
    let old = |secs| latest(90.0, Duration::from_secs(secs), None);
    assert_eq!(status(&view, Metric::Humidity, &old(30)), Status::InRange);
    assert_eq!(status(&view, Metric::Humidity, &old(31)), Status::Stale);
    assert_eq!(status(&view, Metric::Co2, &old(120)), Status::InRange);
    assert_eq!(status(&view, Metric::Co2, &old(121)), Status::Stale);
}

#[test]
fn a_failing_source_is_a_fault_before_anything_else() {
    let view = view(vec![hysteresis("fruiting-1", "humidity", 90.0, 4.0)]);
    let bad = latest(20.0, Duration::from_secs(600), Some("crc"));
    assert_eq!(status(&view, Metric::Humidity, &bad), Status::Fault);
    // Stale beats out of range.
    let old = latest(20.0, Duration::from_secs(600), None);
    assert_eq!(status(&view, Metric::Humidity, &old), Status::Stale);
}

#[test]
fn the_overview_has_every_room_with_readings_actuators_and_alarms() {
    let mut loop_view = hysteresis("fruiting-1", "humidity", 90.0, 4.0);
    loop_view.fault = Some("newest humidity reading is 2 min old".into());
    let actuator = |name: &str, room: &str, output, manual| ActuatorView {
        name: name.into(),
        room: room.into(),
        state: SwitchState::Off,
        output,
        since: 0,
        safe_state: SwitchState::Off,
        manual,
    };
    let held = Override {
        state: SwitchState::On,
        until: NOW + 9 * 60_000,
    };
    let control = ControlView {
        actuators: vec![
            actuator(
                "humidifier",
                "fruiting-1",
                Some(SwitchState::On),
                Some(held),
            ),
            actuator("heater", "spawn-room", None, None),
        ],
        loops: vec![loop_view],
    };
    let readings = vec![
        (("fruiting-1".to_owned(), Metric::Humidity), fresh(97.04)),
        (
            ("fruiting-1".to_owned(), Metric::Co2),
            latest(812.4, Duration::from_secs(1), Some("stuck")),
        ),
        (("incubation-1".to_owned(), Metric::Vpd), fresh(0.456)),
    ];
    let rooms = overview(&readings, &control, NOW);
    let names: Vec<&str> = rooms.iter().map(|r| r.room.as_str()).collect();
    assert_eq!(names, ["fruiting-1", "incubation-1", "spawn-room"]);
    let fruiting = &rooms[0];
    assert_eq!(fruiting.readings[0].text, "97.0 %RH");
    assert_eq!(fruiting.readings[0].status, Status::OutOfRange);
    assert_eq!(fruiting.readings[0].detail, "target 86.0 to 94.0 %RH");
    assert_eq!(fruiting.readings[1].text, "812 ppm");
    assert_eq!(fruiting.readings[1].detail, "source failing: stuck");
    assert_eq!(fruiting.actuators[0].state, "on");
    assert_eq!(
        fruiting.actuators[0].manual.as_deref(),
        Some("held on, 9 min left")
    );
    assert_eq!(fruiting.alarms[0].source, "fruiting-1-humidity");
    assert_eq!(rooms[1].readings[0].text, "0.46 kPa");
    assert_eq!(rooms[2].actuators[0].state, "unknown");

    let json = serde_json::to_value(&rooms[0]).unwrap();
    assert_eq!(json["readings"][0]["status"], "out_of_range");
    assert_eq!(json["actuators"][0]["override"], "held on, 9 min left");
    assert_eq!(json["alarms"][0]["loop"], "fruiting-1-humidity");
}

#[test]
fn spans_and_ages_are_in_words() {
    assert_eq!(span(Duration::from_secs(89)), "89 s");
    assert_eq!(span(Duration::from_secs(90)), "1 min");
    assert_eq!(span(Duration::from_secs(3 * 3_600)), "3 h");
    assert_eq!(span(Duration::from_secs(3 * 86_400)), "3 d");
    assert_eq!(age_text(NOW - 12_000, NOW), "12 s ago");
    assert_eq!(
        age_text(NOW + 5_000, NOW),
        "0 s ago",
        "a reading from the future"
    );
    for status in [
        Status::InRange,
        Status::OutOfRange,
        Status::Stale,
        Status::Fault,
    ] {
        let json = serde_json::to_value(status).unwrap();
        assert_eq!(json, status.code());
        assert_eq!(status.label(), status.code().replace('_', " "));
    }
}

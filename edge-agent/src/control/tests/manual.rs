//! What a person changes at run time: manual overrides (with expiry), setpoints, and the
//! memory that carries both across a restart.

use std::collections::BTreeMap;

use farm_protocol::{EventKind, Metric, SwitchState};

use super::super::{ControlError, ControlMemory, LoopKind, Override, SavedSetpoint, MAX_OVERRIDE};
use super::*;
use SwitchState::{Off, On};

const HUMIDIFIER: usize = 0;
const HEATER: usize = 1;
const COOLER: usize = 2;

/// Humidifier (min off 2 min) on 88 %RH; heater (< 19.5 °C) and cooler (> 26.5 °C),
/// interlocked; a lamp on a photoperiod. `humidity` is the configured humidity setpoint.
fn site(humidity: f64) -> (ControlConfig, Vec<ActuatorSpec>) {
    let light = LoopKind::Photoperiod {
        on_at: mins(360),
        on_for: mins(720),
    };
    let loops = vec![
        hysteresis(
            "humidity",
            HUMIDIFIER,
            Metric::Humidity,
            humidity,
            4.0,
            Direction::Raise,
        ),
        hysteresis(
            "heat",
            HEATER,
            Metric::Temperature,
            20.0,
            1.0,
            Direction::Raise,
        ),
        hysteresis(
            "cool",
            COOLER,
            Metric::Temperature,
            26.0,
            1.0,
            Direction::Lower,
        ),
        schedule("light", 3, light),
    ];
    let free = timing(secs(0), secs(0));
    let actuators = vec![
        actuator("humidifier", Off, timing(secs(0), mins(2))),
        actuator("heater", Off, free),
        actuator("cooler", Off, free),
        actuator("lamp", Off, free),
    ];
    (config(loops, vec![vec![HEATER, COOLER]]), actuators)
}

/// The site at `start`, with `humidity` %RH and `celsius` °C reported at `start`.
fn rig(start: UnixMillis, humidity: f64, celsius: f64) -> Rig {
    let (cfg, actuators) = site(88.0);
    let mut rig = Rig::new(&cfg, actuators, start);
    rig.read(Metric::Humidity, humidity, start);
    rig.read(Metric::Temperature, celsius, start);
    rig
}

fn ended(step: &Step, actuator: &str, why: &str) -> bool {
    step.events.iter().any(|e| {
        *e == EventKind::Override {
            room: ROOM.into(),
            actuator: actuator.into(),
            state: None,
            until: None,
            reason: why.into(),
        }
    })
}

#[test]
fn an_override_beats_the_loop_and_a_fault_waits_for_min_off_and_expires_at_until() {
    let mut rig = rig(T0, 95.0, 22.0);
    let until = T0 + 30 * MIN;
    let event = rig
        .controller
        .set_override("humidifier", On, until, T0)
        .unwrap();
    let set = EventKind::Override {
        room: ROOM.into(),
        actuator: "humidifier".into(),
        state: Some(On),
        until: Some(until),
        reason: "set".into(),
    };
    assert_eq!(event, set);
    // Too humid for the loop, but overridden on; min off (2 min from start-up) still holds.
    let step = rig.step_fresh(T0);
    assert_eq!(
        (switches(&step), step.next_wake),
        (vec![], Some(T0 + 2 * MIN))
    );
    let step = rig.step_fresh(T0 + 2 * MIN);
    assert_eq!(switches(&step), vec![(HUMIDIFIER, On)]);
    assert!(step.commands[0].reason.contains("manual override"));
    // A faulty input does not end it (the alarm is still raised).
    rig.read(Metric::Humidity, f64::NAN, T0 + 5 * MIN);
    let step = rig.step_fresh(T0 + 5 * MIN);
    assert_eq!((switches(&step), fault_alarms(&step)), (vec![], vec![true]));
    rig.read(Metric::Humidity, 95.0, T0 + 29 * MIN);
    let step = rig.step_fresh(T0 + 29 * MIN);
    assert_eq!(switches(&step), vec![]);
    assert!(
        step.next_wake.is_some_and(|w| w <= until),
        "wakes for the expiry"
    );
    // At `until` it ends and the loop takes over again.
    rig.read(Metric::Humidity, 95.0, until);
    let step = rig.step_fresh(until);
    assert!(ended(&step, "humidifier", "expired"), "{:?}", step.events);
    assert_eq!(switches(&step), vec![(HUMIDIFIER, Off)]);
    assert_eq!(rig.controller.view().actuators[HUMIDIFIER].manual, None);
}

#[test]
fn clearing_an_override_hands_the_actuator_back_to_the_loop() {
    let mut rig = rig(T0, 80.0, 22.0);
    rig.controller
        .set_override("humidifier", Off, T0 + 60 * MIN, T0)
        .unwrap();
    assert_eq!(
        switches(&rig.step_fresh(T0 + 3 * MIN)),
        vec![],
        "held off although too dry"
    );
    let cleared = rig.controller.clear_override("humidifier").unwrap();
    let expected = EventKind::Override {
        room: ROOM.into(),
        actuator: "humidifier".into(),
        state: None,
        until: None,
        reason: "cleared".into(),
    };
    assert_eq!(cleared, Some(expected));
    assert_eq!(
        switches(&rig.step_fresh(T0 + 3 * MIN + 1)),
        vec![(HUMIDIFIER, On)]
    );
    assert_eq!(
        rig.controller.clear_override("humidifier"),
        Ok(None),
        "nothing to clear"
    );
}

#[test]
fn bad_requests_are_refused_with_what_was_wrong() {
    let mut rig = rig(T0, 80.0, 22.0);
    let c = &mut rig.controller;
    let max = MAX_OVERRIDE.as_millis() as i64;
    for until in [T0, T0 - 1, T0 + max + 1] {
        let refused = c.set_override("heater", On, until, T0);
        assert!(
            matches!(refused, Err(ControlError::BadExpiry { .. })),
            "until T0{:+}",
            until - T0
        );
    }
    assert!(
        c.set_override("heater", Off, T0 + max, T0).is_ok(),
        "a week is allowed"
    );
    let unknown = c.set_override("fogger", On, T0 + MIN, T0);
    assert_eq!(unknown, Err(ControlError::UnknownActuator("fogger".into())));
    assert_eq!(
        c.clear_override("fogger"),
        Err(ControlError::UnknownActuator("fogger".into()))
    );
    assert_eq!(
        c.set_setpoint("co2", 900.0),
        Err(ControlError::UnknownLoop("co2".into()))
    );
    for value in [f64::NAN, 100.5, -1.0, f64::INFINITY] {
        let refused = c.set_setpoint("humidity", value);
        assert!(
            matches!(refused, Err(ControlError::SetpointOutOfRange { .. })),
            "{value}"
        );
    }
    // Plausible, but 99 ± 2 (the band's half) would need 101 %RH to switch off.
    let refused = c.set_setpoint("humidity", 99.0);
    assert!(
        matches!(&refused, Err(ControlError::InvalidSetting { reason, .. })
            if reason.contains("leaves the physical range")),
        "{refused:?}"
    );
    let schedule = c.set_setpoint("light", 10.0);
    assert_eq!(
        schedule,
        Err(ControlError::NoSetpoint {
            name: "light".into(),
            kind: "photoperiod"
        })
    );
    assert_eq!(
        c.view().loops[0].setpoint,
        Some(88.0),
        "refusals change nothing"
    );
}

#[test]
fn an_override_on_is_refused_while_an_interlocked_actuator_is_overridden_on() {
    let mut rig = rig(T0, 80.0, 22.0);
    let c = &mut rig.controller;
    c.set_override("heater", On, T0 + 10 * MIN, T0).unwrap();
    let conflict = ControlError::InterlockConflict {
        actuator: "cooler".into(),
        other: "heater".into(),
    };
    assert_eq!(
        c.set_override("cooler", On, T0 + 10 * MIN, T0),
        Err(conflict)
    );
    assert!(
        c.set_override("cooler", Off, T0 + 10 * MIN, T0).is_ok(),
        "off is fine"
    );
    c.clear_override("heater").unwrap();
    assert!(c.set_override("cooler", On, T0 + 10 * MIN, T0).is_ok());
}

#[test]
fn overriding_the_cooler_on_switches_off_the_heater_its_loop_runs() {
    let mut rig = rig(T0, 95.0, 15.0);
    assert_eq!(switches(&rig.step_fresh(T0)), vec![(HEATER, On)]);
    rig.controller
        .set_override("cooler", On, T0 + 10 * MIN, T0 + MIN)
        .unwrap();
    let step = rig.step_fresh(T0 + MIN);
    assert_eq!(
        switches(&step),
        vec![(HEATER, Off), (COOLER, On)],
        "off first"
    );
    assert_eq!(
        switches(&rig.step_fresh(T0 + 5 * MIN)),
        vec![],
        "the heater's loop still wants on"
    );
    let step = rig.step_fresh(T0 + 10 * MIN);
    assert!(ended(&step, "cooler", "expired"));
    assert_eq!(switches(&step), vec![(COOLER, Off), (HEATER, On)]);
}

#[test]
fn a_setpoint_change_moves_what_the_loop_regulates_to() {
    let mut rig = rig(T0, 85.0, 22.0);
    assert_eq!(
        switches(&rig.step_fresh(T0 + 2 * MIN)),
        vec![(HUMIDIFIER, On)],
        "85 < 86"
    );
    let event = rig.controller.set_setpoint("humidity", 80.0).unwrap();
    let expected = EventKind::SetpointChange {
        room: ROOM.into(),
        control_loop: "humidity".into(),
        metric: "humidity".into(),
        setpoint: 80.0,
        previous: 88.0,
    };
    assert_eq!(event, expected);
    assert_eq!(
        switches(&rig.step_fresh(T0 + 3 * MIN)),
        vec![(HUMIDIFIER, Off)],
        "85 > 81"
    );
    let back = rig.controller.set_setpoint("humidity", 88.0).unwrap();
    assert!(matches!(back, EventKind::SetpointChange { previous, .. } if previous == 80.0));
}

/// The loops as the config file has them (the setpoints the memory compares with).
fn configured() -> Vec<LoopKind> {
    site(88.0).0.loops.into_iter().map(|l| l.kind).collect()
}

#[test]
fn memory_carries_setpoints_and_overrides_into_a_fresh_controller() {
    let mut rig = rig(T0, 85.0, 25.0);
    rig.controller.set_setpoint("humidity", 80.0).unwrap();
    let held = Override {
        state: On,
        until: T0 + 60 * MIN,
    };
    rig.controller
        .set_override("heater", On, held.until, T0)
        .unwrap();
    let memory = rig.controller.memory(&configured());
    let saved = SavedSetpoint {
        value: 80.0,
        configured: 88.0,
    };
    assert_eq!(
        memory.setpoints,
        BTreeMap::from([("humidity".to_owned(), saved)])
    );
    assert_eq!(
        memory.overrides,
        BTreeMap::from([("heater".to_owned(), held)])
    );
    // After a restart 5 minutes later.
    let restart = T0 + 5 * MIN;
    let mut fresh = self::rig(restart, 85.0, 25.0);
    assert_eq!(
        fresh.controller.restore(&memory, restart),
        Vec::<String>::new()
    );
    let view = fresh.controller.view();
    assert_eq!(
        (view.loops[0].setpoint, view.actuators[HEATER].manual),
        (Some(80.0), Some(held))
    );
    // Visible in what it does: the heater is on at 25 °C; 85 %RH is humid enough for 80.
    assert_eq!(switches(&fresh.step_fresh(restart)), vec![(HEATER, On)]);
    assert_eq!(switches(&fresh.step_fresh(restart + 3 * MIN)), vec![]);
    assert_eq!(
        fresh.controller.memory(&configured()),
        memory,
        "saved again unchanged"
    );
}

#[test]
fn restore_skips_and_reports_expired_overrides_and_setpoints_the_config_changed() {
    let memory = ControlMemory {
        setpoints: BTreeMap::from([(
            "humidity".to_owned(),
            SavedSetpoint {
                value: 80.0,
                configured: 88.0,
            },
        )]),
        overrides: BTreeMap::from([(
            "heater".to_owned(),
            Override {
                state: On,
                until: T0 + 60 * MIN,
            },
        )]),
        loops: BTreeMap::new(),
    };
    // The file now says 90 %RH, and the agent comes back two hours later.
    let (cfg, actuators) = site(90.0);
    let restart = T0 + 120 * MIN;
    let mut fresh = Rig::new(&cfg, actuators, restart);
    let skipped = fresh.controller.restore(&memory, restart);
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(
        skipped.iter().any(|s| s.contains("humidity")),
        "{skipped:?}"
    );
    assert!(skipped.iter().any(|s| s.contains("heater")), "{skipped:?}");
    let view = fresh.controller.view();
    assert_eq!(
        (view.loops[0].setpoint, view.actuators[HEATER].manual),
        (Some(90.0), None)
    );
}

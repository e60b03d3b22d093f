//! Loop settings changed at run time: each kind's change shows in what the loop switches and
//! when, the `loop_change` event carries only what changed, and the memory keeps changes
//! across a restart unless the file changed them. `settings_refused.rs`: what is refused.

use std::collections::BTreeMap;

use farm_protocol::{EventKind, Metric, SwitchState};

use super::super::{ControlMemory, LoopKind, LoopSettings, SavedLoopSettings, SavedSetting};
use super::*;
use SwitchState::{Off, On};

const HUMIDIFIER: usize = 0;
const HEATER: usize = 1;
const LAMP: usize = 2;
const MISTER: usize = 3;

/// One loop of each kind, each on its own actuator without timing limits: `humidity`
/// (hysteresis 88 ± 2, band `band`), `heat` (PID on 20 °C, kp 0.5, 2 min period), `light`
/// (06:00 for 12 h, UTC) and `mist` (30 s every 15 min).
fn site(band: f64) -> (ControlConfig, Vec<ActuatorSpec>) {
    let light = LoopKind::Photoperiod {
        on_at: mins(360),
        on_for: mins(720),
    };
    let mist = LoopKind::Interval {
        every: mins(15),
        on_for: secs(30),
    };
    let loops = vec![
        hysteresis(
            "humidity",
            HUMIDIFIER,
            Metric::Humidity,
            88.0,
            band,
            Direction::Raise,
        ),
        heat_pid(HEATER, 20.0, (0.5, 0.0, 0.0), mins(2)),
        schedule("light", LAMP, light),
        schedule("mist", MISTER, mist),
    ];
    let actuators = ["humidifier", "heater", "lamp", "mister"]
        .map(|name| actuator(name, Off, free()))
        .to_vec();
    (config(loops, vec![]), actuators)
}

pub(super) fn rig(start: UnixMillis) -> Rig {
    let (cfg, actuators) = site(4.0);
    Rig::new(&cfg, actuators, start)
}

/// The configured loop kinds, as the control thread keeps them for the memory.
fn configured(band: f64) -> Vec<LoopKind> {
    site(band).0.loops.into_iter().map(|l| l.kind).collect()
}

pub(super) fn settings_of(rig: &Rig, name: &str) -> BTreeMap<&'static str, f64> {
    let view = rig.controller.view();
    let l = view.loops.into_iter().find(|l| l.name == name).unwrap();
    l.settings
}

/// A change of the settings `given` by config key, durations in seconds.
pub(super) fn given(pairs: &[(&str, f64)]) -> LoopSettings {
    let mut settings = LoopSettings::default();
    for (key, value) in pairs {
        settings.set(key, *value).unwrap();
    }
    settings
}

/// The expected `loop_change` of `name`: `(key, new, previous)` for each changed setting.
fn loop_change(name: &str, changed: &[(&str, f64, f64)]) -> EventKind {
    let pick = |f: fn(&(&str, f64, f64)) -> f64| {
        let map = changed.iter().map(|c| (c.0.to_owned(), f(c)));
        map.collect::<BTreeMap<_, _>>()
    };
    EventKind::LoopChange {
        room: ROOM.into(),
        control_loop: name.into(),
        settings: pick(|c| c.1),
        previous: pick(|c| c.2),
    }
}

#[test]
fn a_wider_band_moves_where_the_hysteresis_loop_switches_off() {
    let mut rig = rig(T0);
    rig.read(Metric::Humidity, 85.5, T0);
    assert!(
        switches(&rig.step_fresh(T0)).contains(&(HUMIDIFIER, On)),
        "below 86"
    );
    let wider = given(&[("band", 6.0)]);
    let event = rig.controller.set_loop_settings("humidity", &wider);
    assert_eq!(
        event,
        Ok(Some(loop_change("humidity", &[("band", 6.0, 4.0)])))
    );
    rig.read(Metric::Humidity, 90.5, T0 + MIN);
    let step = rig.step_fresh(T0 + MIN);
    assert!(
        !switches(&step).contains(&(HUMIDIFIER, Off)),
        "90.5 < 91: stays on"
    );
    rig.read(Metric::Humidity, 91.5, T0 + 2 * MIN);
    let step = rig.step_fresh(T0 + 2 * MIN);
    assert!(switches(&step).contains(&(HUMIDIFIER, Off)), "above 91");
    let expected = BTreeMap::from([("band", 6.0), ("stale_after", 60.0)]);
    assert_eq!(settings_of(&rig, "humidity"), expected);
}

#[test]
fn a_new_on_at_moves_the_lights_switch_times_and_applies_at_once() {
    let mut rig = rig(utc("2024-01-01T03:00:00Z"));
    let change = LoopSettings {
        on_at: Some(mins(4 * 60)),
        on_for: Some(mins(10 * 60)),
        ..LoopSettings::default()
    };
    let event = rig.controller.set_loop_settings("light", &change).unwrap();
    let expected = [
        ("on_at", 14_400.0, 21_600.0),
        ("on_for", 36_000.0, 43_200.0),
    ];
    assert_eq!(event, Some(loop_change("light", &expected)));
    let log = rig.run(
        utc("2024-01-01T03:00:00Z"),
        utc("2024-01-01T23:59:00Z"),
        10 * MIN,
    );
    let lamp: Vec<_> = timeline(&log).into_iter().filter(|s| s.1 == LAMP).collect();
    let expected = vec![
        (utc("2024-01-01T04:00:00Z"), LAMP, On),
        (utc("2024-01-01T14:00:00Z"), LAMP, Off),
    ];
    assert_eq!(lamp, expected);
    // Moved to a later start while on: off at the next step.
    let later = given(&[("on_at", 12.0 * 3600.0)]);
    let at = utc("2024-01-02T05:00:00Z");
    assert!(switches(&rig.step_fresh(at)).contains(&(LAMP, On)));
    rig.controller.set_loop_settings("light", &later).unwrap();
    assert!(switches(&rig.step_fresh(at)).contains(&(LAMP, Off)));
}

#[test]
fn a_new_interval_cycle_and_on_time_apply_from_the_next_step() {
    let mut rig = rig(T0);
    let change = LoopSettings {
        every: Some(mins(10)),
        on_for: Some(mins(1)),
        ..LoopSettings::default()
    };
    let event = rig.controller.set_loop_settings("mist", &change).unwrap();
    let expected = [("every", 600.0, 900.0), ("on_for", 60.0, 30.0)];
    assert_eq!(event, Some(loop_change("mist", &expected)));
    let log = rig.run(T0, T0 + 25 * MIN, MIN);
    let mister: Vec<_> = timeline(&log)
        .into_iter()
        .filter(|s| s.1 == MISTER)
        .collect();
    let expected = vec![
        (T0, MISTER, On),
        (T0 + MIN, MISTER, Off),
        (T0 + 10 * MIN, MISTER, On),
        (T0 + 11 * MIN, MISTER, Off),
        (T0 + 20 * MIN, MISTER, On),
        (T0 + 21 * MIN, MISTER, Off),
    ];
    assert_eq!(mister, expected);
}

#[test]
fn a_new_pid_period_starts_a_new_duty_cycle_and_new_gains_wait_for_the_next_one() {
    let mut rig = rig(T0);
    rig.read(Metric::Temperature, 19.0, T0);
    // kp 0.5, 1 °C short: 50 % of 2 minutes.
    let step = rig.step_fresh(T0);
    assert!(switches(&step).contains(&(HEATER, On)));
    let longer = given(&[("period", 600.0)]);
    let event = rig.controller.set_loop_settings("heat", &longer).unwrap();
    assert_eq!(
        event,
        Some(loop_change("heat", &[("period", 600.0, 120.0)]))
    );
    // A new cycle from the next step: 50 % of 10 minutes from T0 + 30 s (not from T0).
    rig.step_fresh(T0 + 30 * SEC);
    let gains = given(&[("kp", 1.0), ("kd", 0.0)]);
    let event = rig.controller.set_loop_settings("heat", &gains).unwrap();
    assert_eq!(
        event,
        Some(loop_change("heat", &[("kp", 1.0, 0.5)])),
        "kd unchanged"
    );
    // The new kp (100 %: on all cycle) from the next cycle on.
    let log = rig.run(T0 + MIN, T0 + 25 * MIN, 10 * SEC);
    let heater: Vec<_> = timeline(&log)
        .into_iter()
        .filter(|s| s.1 == HEATER)
        .collect();
    let half = T0 + 30 * SEC + 5 * MIN;
    let next = T0 + 30 * SEC + 10 * MIN;
    assert_eq!(heater, vec![(half, HEATER, Off), (next, HEATER, On)]);
    assert_eq!(rig.controller.view().loops[1].duty, Some(1.0));
}

#[test]
fn giving_the_current_values_or_nothing_is_no_change_and_no_event() {
    let mut rig = rig(T0);
    let same = LoopSettings {
        band: Some(4.0),
        stale_after: Some(STALE),
        ..LoopSettings::default()
    };
    assert_eq!(
        rig.controller.set_loop_settings("humidity", &same),
        Ok(None)
    );
    let nothing = LoopSettings::default();
    assert_eq!(
        rig.controller.set_loop_settings("light", &nothing),
        Ok(None)
    );
    // Only what changed is in the event.
    let band = LoopSettings {
        band: Some(3.0),
        ..same
    };
    let event = rig.controller.set_loop_settings("humidity", &band);
    assert_eq!(
        event,
        Ok(Some(loop_change("humidity", &[("band", 3.0, 4.0)])))
    );
}

#[test]
fn memory_carries_loop_settings_into_a_fresh_controller() {
    let mut rig = rig(T0);
    let band = given(&[("band", 3.0)]);
    rig.controller.set_loop_settings("humidity", &band).unwrap();
    let timing = given(&[("every", 600.0)]);
    rig.controller.set_loop_settings("mist", &timing).unwrap();
    let memory = rig.controller.memory(&configured(4.0));
    let saved = |key: &str, value, configured| SavedLoopSettings {
        settings: BTreeMap::from([(key.to_owned(), SavedSetting { value, configured })]),
    };
    let expected = BTreeMap::from([
        ("humidity".to_owned(), saved("band", 3.0, 4.0)),
        ("mist".to_owned(), saved("every", 600.0, 900.0)),
    ]);
    assert_eq!(memory.loops, expected);
    let text = serde_json::to_value(&memory).unwrap();
    assert_eq!(
        text["loops"]["mist"],
        serde_json::json!({"every": {"value": 600.0, "configured": 900.0}})
    );

    let mut fresh = self::rig(T0 + 5 * MIN);
    assert_eq!(
        fresh.controller.restore(&memory, T0 + 5 * MIN),
        Vec::<String>::new()
    );
    assert_eq!(settings_of(&fresh, "humidity")["band"], 3.0);
    assert_eq!(settings_of(&fresh, "mist")["every"], 600.0);
    assert_eq!(
        fresh.controller.memory(&configured(4.0)),
        memory,
        "saved again unchanged"
    );
}

#[test]
fn restore_lets_the_config_file_win_for_each_setting_it_changed_since() {
    let saved = |value, configured| SavedSetting { value, configured };
    let humidity = SavedLoopSettings {
        settings: BTreeMap::from([
            ("band".to_owned(), saved(3.0, 4.0)),
            ("stale_after".to_owned(), saved(120.0, 60.0)),
        ]),
    };
    let light = SavedLoopSettings {
        settings: BTreeMap::from([("every".to_owned(), saved(600.0, 900.0))]),
    };
    let memory = ControlMemory {
        loops: BTreeMap::from([
            ("humidity".to_owned(), humidity),
            ("light".to_owned(), light.clone()),
            ("gone".to_owned(), light),
        ]),
        ..ControlMemory::default()
    };
    // The file's band is now 5: it wins; the saved stale_after still applies.
    let (cfg, actuators) = site(5.0);
    let mut fresh = Rig::new(&cfg, actuators, T0);
    let skipped = fresh.controller.restore(&memory, T0);
    let expected = [
        "settings of unknown loop \"gone\"",
        "band of loop \"humidity\": the config file changed it",
        "every of loop \"light\": not a setting of a photoperiod loop",
    ];
    assert_eq!(skipped, expected);
    let expected = BTreeMap::from([("band", 5.0), ("stale_after", 120.0)]);
    assert_eq!(settings_of(&fresh, "humidity"), expected);
}

//! A loop whose input cannot be trusted puts its actuator in the safe state at once (skipping
//! min on/off), raises one alarm per outage, clears it when good data returns and then
//! regulates again.

use farm_protocol::{Metric, SwitchState};

use super::*;
use SwitchState::{Off, On};

/// The ways a humidity input goes bad, each as "what the sensor reports at `now`".
#[derive(Debug, Clone, Copy)]
enum Bad {
    /// The newest reading is 61 s old (stale after 60 s).
    Stale,
    Crc,
    Nan,
    /// 100.5 %RH: outside 0–100.
    TooHigh,
    /// −0.1 %RH.
    TooLow,
    Missing,
}

const ALL_BAD: [Bad; 6] = [
    Bad::Stale,
    Bad::Crc,
    Bad::Nan,
    Bad::TooHigh,
    Bad::TooLow,
    Bad::Missing,
];

fn report(rig: &mut Rig, bad: Bad, now: UnixMillis) {
    match bad {
        Bad::Stale => rig.read(Metric::Humidity, 80.0, now - STALE.as_millis() as i64 - 1),
        Bad::Crc => rig.put(Metric::Humidity, 80.0, now, Some("crc")),
        Bad::Nan => rig.read(Metric::Humidity, f64::NAN, now),
        Bad::TooHigh => rig.read(Metric::Humidity, 100.5, now),
        Bad::TooLow => rig.read(Metric::Humidity, -0.1, now),
        Bad::Missing => rig.forget(Metric::Humidity),
    }
}

/// A humidifier (safe off, min on 5 min) on 88 %RH ± 2, switched on at `T0` by a controller
/// that started 10 minutes earlier (past the start-up grace for missing readings).
fn running_humidifier() -> Rig {
    let mut rig = humidifier_rig(timing(mins(5), secs(0)), T0 - 10 * MIN);
    rig.read(Metric::Humidity, 80.0, T0);
    assert_eq!(switches(&rig.step(T0)), vec![(0, On)]);
    rig
}

#[test]
fn a_bad_input_forces_the_safe_state_with_one_alarm_and_the_loop_resumes_after() {
    for bad in ALL_BAD {
        let mut rig = running_humidifier();
        // 10 s after switching on (min on is 5 min) the input goes bad.
        report(&mut rig, bad, T0 + 10 * SEC);
        let step = rig.step(T0 + 10 * SEC);
        assert_eq!(switches(&step), vec![(0, Off)], "{bad:?}");
        assert!(step.commands[0].forced, "{bad:?}: skips min on");
        assert_eq!(fault_alarms(&step), vec![true], "{bad:?}");
        // While it stays bad: no more alarms, no switching.
        for t in [20 * SEC, 40 * SEC, 3 * MIN] {
            report(&mut rig, bad, T0 + t);
            let step = rig.step(T0 + t);
            assert_eq!(
                (switches(&step), fault_alarms(&step)),
                (vec![], vec![]),
                "{bad:?}"
            );
        }
        // Good data: one cleared alarm, and the loop (still too dry) switches on again.
        rig.read(Metric::Humidity, 80.0, T0 + 4 * MIN);
        let step = rig.step(T0 + 4 * MIN);
        assert_eq!(fault_alarms(&step), vec![false], "{bad:?}");
        assert_eq!(switches(&step), vec![(0, On)], "{bad:?}");
        assert!(!step.commands[0].forced);
        rig.read(Metric::Humidity, 95.0, T0 + 10 * MIN);
        assert_eq!(
            switches(&rig.step(T0 + 10 * MIN)),
            vec![(0, Off)],
            "{bad:?}: regulates"
        );
    }
}

#[test]
fn the_alarm_names_the_code_and_is_raised_once_per_outage_whatever_the_fault() {
    let mut rig = running_humidifier();
    let mut alarms = Vec::new();
    let outage = [Bad::Crc, Bad::Nan, Bad::Stale, Bad::Missing, Bad::TooHigh];
    for (k, bad) in outage.into_iter().enumerate() {
        let now = T0 + (k as i64 + 1) * 10 * SEC;
        report(&mut rig, bad, now);
        alarms.extend(fault_alarms(&rig.step(now)));
    }
    rig.read(Metric::Humidity, 80.0, T0 + MIN);
    alarms.extend(fault_alarms(&rig.step(T0 + MIN)));
    // A second outage raises a second alarm.
    report(&mut rig, Bad::Crc, T0 + 2 * MIN);
    alarms.extend(fault_alarms(&rig.step(T0 + 2 * MIN)));
    assert_eq!(alarms, vec![true, false, true]);
}

#[test]
fn an_input_exactly_stale_after_old_is_still_used_one_ms_more_is_a_fault() {
    let mut rig = running_humidifier();
    rig.read(Metric::Humidity, 80.0, T0 + 10 * SEC);
    let step = rig.step(T0 + 10 * SEC + 60 * SEC);
    assert_eq!((switches(&step), fault_alarms(&step)), (vec![], vec![]));
    let step = rig.step(T0 + 10 * SEC + 60 * SEC + 1);
    assert_eq!(
        (switches(&step), fault_alarms(&step)),
        (vec![(0, Off)], vec![true])
    );
}

#[test]
fn a_missing_reading_at_start_up_raises_no_alarm_until_stale_after_has_passed() {
    let mut rig = humidifier_rig(free(), T0);
    let step = rig.step(T0);
    assert_eq!((switches(&step), fault_alarms(&step)), (vec![], vec![]));
    let wake = step.next_wake.expect("a wake to raise the alarm on time");
    assert!(
        wake > T0 + 60 * SEC && wake <= T0 + 61 * SEC,
        "wake at T0+{} ms",
        wake - T0
    );
    let step = rig.step(T0 + 59 * SEC);
    assert_eq!((switches(&step), fault_alarms(&step)), (vec![], vec![]));
    assert_eq!(rig.state(0), Off, "safe state meanwhile");
    let step = rig.step(wake);
    assert_eq!((switches(&step), fault_alarms(&step)), (vec![], vec![true]));
    // Nothing more while it stays missing; the first reading clears it and the loop runs.
    assert!(fault_alarms(&rig.step(T0 + 5 * MIN)).is_empty());
    rig.read(Metric::Humidity, 80.0, T0 + 6 * MIN);
    let step = rig.step(T0 + 6 * MIN);
    assert_eq!(
        (switches(&step), fault_alarms(&step)),
        (vec![(0, On)], vec![false])
    );
}

#[test]
fn a_reading_arriving_within_the_start_up_grace_raises_nothing() {
    let mut rig = humidifier_rig(free(), T0);
    assert!(rig.step(T0).events.is_empty());
    rig.read(Metric::Humidity, 80.0, T0 + 30 * SEC);
    let step = rig.step(T0 + 30 * SEC);
    assert_eq!(switches(&step), vec![(0, On)]);
    assert_eq!(step.events, vec![], "no alarm, so nothing to clear either");
}

#[test]
fn a_fault_forces_an_actuator_whose_safe_state_is_on_on_despite_min_off() {
    // A CO2 fan: safe state on (fresh air), min off 10 min.
    let loops = vec![hysteresis(
        "co2",
        0,
        Metric::Co2,
        1000.0,
        200.0,
        Direction::Lower,
    )];
    let cfg = config(loops, vec![]);
    let mut rig = Rig::new(
        &cfg,
        vec![actuator("fan", On, timing(secs(0), mins(10)))],
        T0,
    );
    rig.read(Metric::Co2, 800.0, T0);
    assert_eq!(
        switches(&rig.step(T0)),
        vec![(0, Off)],
        "starts on, air is fresh"
    );
    rig.put(Metric::Co2, 800.0, T0 + MIN, Some("bus"));
    let step = rig.step(T0 + MIN);
    assert_eq!(switches(&step), vec![(0, On)]);
    assert!(step.commands[0].forced, "skips min off");
    assert_eq!(fault_alarms(&step), vec![true]);
    // Good again, and the air is fresh: the loop switches it off (min on is 0).
    rig.read(Metric::Co2, 800.0, T0 + 2 * MIN);
    let step = rig.step(T0 + 2 * MIN);
    assert_eq!(
        (switches(&step), fault_alarms(&step)),
        (vec![(0, Off)], vec![false])
    );
}

#[test]
fn a_fault_keeps_the_actuator_in_its_safe_state_for_as_long_as_it_lasts() {
    // The last good value was dry, but a loop must not act on a value it cannot trust.
    let mut rig = running_humidifier();
    report(&mut rig, Bad::Crc, T0 + 6 * MIN);
    let step = rig.step(T0 + 6 * MIN);
    assert_eq!(switches(&step), vec![(0, Off)]);
    for t in [7 * MIN, 20 * MIN, 60 * MIN] {
        report(&mut rig, Bad::Crc, T0 + t);
        assert_eq!(switches(&rig.step(T0 + t)), vec![]);
    }
    assert_eq!(rig.state(0), Off);
}

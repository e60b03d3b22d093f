//! Per-actuator switching limits that protect the equipment: min on, min off (also right
//! after start-up) and at most `max` on-time within any `window`.

use farm_protocol::{Metric, SwitchState};

use super::*;
use SwitchState::{Off, On};

#[test]
fn min_on_holds_an_early_switch_off_and_next_wake_says_until_when() {
    let mut rig = humidifier_rig(timing(secs(60), secs(0)), T0);
    rig.read(Metric::Humidity, 80.0, T0);
    assert_eq!(switches(&rig.step(T0)), vec![(0, On)]);
    // 10 s later the loop asks for off: held until 60 s after switching on.
    rig.read(Metric::Humidity, 95.0, T0 + 10 * SEC);
    let step = rig.step(T0 + 10 * SEC);
    assert_eq!(switches(&step), vec![]);
    assert_eq!(step.next_wake, Some(T0 + MIN));
    assert_eq!(switches(&rig.step(T0 + MIN - 1)), vec![]);
    assert_eq!(rig.state(0), On);
    let step = rig.step(T0 + MIN);
    assert_eq!(switches(&step), vec![(0, Off)]);
    assert!(!step.commands[0].forced);
}

#[test]
fn min_off_holds_from_start_up_and_after_each_switch_off() {
    // The controller starts at T0 with the humidifier in its safe state (off).
    let mut rig = humidifier_rig(timing(secs(0), secs(120)), T0);
    rig.read(Metric::Humidity, 80.0, T0);
    let step = rig.step(T0);
    assert_eq!(switches(&step), vec![], "min off counts from start-up");
    assert_eq!(step.next_wake, Some(T0 + 2 * MIN));
    assert_eq!(switches(&rig.step_fresh(T0 + 2 * MIN - 1)), vec![]);
    assert_eq!(switches(&rig.step_fresh(T0 + 2 * MIN)), vec![(0, On)]);
    // Off at T0 + 3 min, asked on again 10 s later: held until T0 + 5 min.
    rig.read(Metric::Humidity, 95.0, T0 + 3 * MIN);
    assert_eq!(switches(&rig.step(T0 + 3 * MIN)), vec![(0, Off)]);
    rig.read(Metric::Humidity, 80.0, T0 + 3 * MIN + 10 * SEC);
    let step = rig.step(T0 + 3 * MIN + 10 * SEC);
    assert_eq!(
        (switches(&step), step.next_wake),
        (vec![], Some(T0 + 5 * MIN))
    );
    assert_eq!(switches(&rig.step_fresh(T0 + 5 * MIN - 1)), vec![]);
    assert_eq!(switches(&rig.step_fresh(T0 + 5 * MIN)), vec![(0, On)]);
}

/// A heater that always wants on (15 °C, setpoint 20), at most 10 min per hour, min on 2 min.
fn budget_rig() -> Rig {
    let timing = ActuatorTiming {
        min_on: mins(2),
        min_off: secs(0),
        max_on: Some((mins(10), mins(60))),
    };
    let loops = vec![hysteresis(
        "heat",
        0,
        Metric::Temperature,
        20.0,
        1.0,
        Direction::Raise,
    )];
    let mut rig = Rig::new(
        &config(loops, vec![]),
        vec![actuator("heater", Off, timing)],
        T0,
    );
    rig.read(Metric::Temperature, 15.0, T0);
    rig
}

#[test]
fn max_on_switches_off_when_the_budget_is_used_up_although_the_loop_wants_on() {
    let mut rig = budget_rig();
    let step = rig.step(T0);
    assert_eq!(switches(&step), vec![(0, On)]);
    assert_eq!(step.next_wake, Some(T0 + 10 * MIN), "the budget's end");
    rig.read(Metric::Temperature, 15.0, T0 + 10 * MIN - 1);
    assert_eq!(switches(&rig.step(T0 + 10 * MIN - 1)), vec![]);
    let step = rig.step(T0 + 10 * MIN);
    assert_eq!(switches(&step), vec![(0, Off)]);
    let reason = &step.commands[0].reason;
    assert!(reason.contains("max on-time"), "reason: {reason}");
}

#[test]
fn max_on_waits_for_min_on_of_budget_before_switching_on_again() {
    // On 0–10 min. That on-time leaves the sliding hour from 60 min on; 2 min of budget (the
    // min on) is back at 62 min. Then it runs until the hour ending then holds 10 min: 72 min.
    let mut rig = budget_rig();
    let log = timeline(&rig.run(T0, T0 + 90 * MIN, 30 * SEC));
    let expected = vec![
        (T0, 0, On),
        (T0 + 10 * MIN, 0, Off),
        (T0 + 62 * MIN, 0, On),
        (T0 + 72 * MIN, 0, Off),
    ];
    assert_eq!(log, expected);
}

#[test]
fn max_on_cut_off_is_not_reported_as_a_forced_switch() {
    // `Command::forced` means "a fault forced the safe state, skipping min on/off".
    let mut rig = budget_rig();
    rig.step_fresh(T0);
    let step = rig.step_fresh(T0 + 10 * MIN);
    assert_eq!(switches(&step), vec![(0, Off)]);
    assert!(!step.commands[0].forced, "no input is faulty");
}

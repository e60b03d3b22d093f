//! A heater and a cooler in one interlock group are never on together, even when their
//! loops (here deliberately overlapping: heat below 21.5 °C, cool above 18.5 °C) both ask.

use farm_protocol::{Metric, SwitchState};

use super::*;
use SwitchState::{Off, On};

/// An actuator and its loop, given the actuator's index.
type Member = (ActuatorSpec, fn(usize) -> LoopSpec);

fn heat() -> Member {
    let loop_of = |a| hysteresis("heat", a, Metric::Temperature, 22.0, 1.0, Direction::Raise);
    (actuator("heater", Off, timing(secs(0), secs(0))), loop_of)
}

fn cool() -> Member {
    let loop_of = |a| hysteresis("cool", a, Metric::Temperature, 18.0, 1.0, Direction::Lower);
    (actuator("cooler", Off, timing(secs(0), secs(0))), loop_of)
}

/// The actuators in this order, interlocked.
fn rig(members: Vec<Member>) -> Rig {
    let loops = members.iter().enumerate().map(|(a, m)| (m.1)(a)).collect();
    let actuators = members.into_iter().map(|m| m.0).collect();
    Rig::new(&config(loops, vec![vec![0, 1]]), actuators, T0)
}

fn at(rig: &mut Rig, t: i64, celsius: f64) -> Vec<(usize, SwitchState)> {
    rig.read(Metric::Temperature, celsius, T0 + t);
    let switched = switches(&rig.step(T0 + t));
    assert!(
        rig.state(0) == Off || rig.state(1) == Off,
        "both on at T0+{t} ms"
    );
    switched
}

#[test]
fn when_both_ask_at_once_the_first_in_config_order_wins() {
    let mut rig_heater_first = rig(vec![heat(), cool()]);
    assert_eq!(
        at(&mut rig_heater_first, 0, 20.0),
        vec![(0, On)],
        "heater wins"
    );
    assert_eq!(
        at(&mut rig_heater_first, 10 * SEC, 20.0),
        vec![],
        "cooler keeps waiting"
    );
    let mut rig_cooler_first = rig(vec![cool(), heat()]);
    assert_eq!(
        at(&mut rig_cooler_first, 0, 20.0),
        vec![(0, On)],
        "cooler wins"
    );
    assert_eq!(at(&mut rig_cooler_first, 10 * SEC, 20.0), vec![]);
}

#[test]
fn the_one_already_on_keeps_it_and_the_other_waits_then_off_comes_before_on() {
    // Cooler first in config order, so config order alone would favour it.
    let mut rig = rig(vec![cool(), heat()]);
    assert_eq!(at(&mut rig, 0, 17.0), vec![(1, On)], "only the heater asks");
    assert_eq!(
        at(&mut rig, MIN, 20.0),
        vec![],
        "both ask: the heater keeps it"
    );
    assert_eq!((rig.state(0), rig.state(1)), (Off, On));
    // Above 22.5 °C the heater lets go and the cooler takes over in the same step, the off
    // first so the two relays are never on together, even briefly.
    assert_eq!(at(&mut rig, 2 * MIN, 23.0), vec![(1, Off), (0, On)]);
}

#[test]
fn the_waiting_one_switches_on_once_the_other_has_served_its_min_on() {
    let (mut heater, heat_loop) = heat();
    heater.timing = timing(mins(5), secs(0));
    let mut rig = rig(vec![(heater, heat_loop), cool()]);
    assert_eq!(at(&mut rig, 0, 17.0), vec![(0, On)]);
    // Too warm for the heater after 1 min, but it must run 5 min: the cooler waits.
    let step = {
        rig.read(Metric::Temperature, 24.0, T0 + MIN);
        rig.step(T0 + MIN)
    };
    assert_eq!(switches(&step), vec![]);
    assert_eq!(step.next_wake, Some(T0 + 5 * MIN), "the heater's min on");
    assert_eq!(at(&mut rig, 5 * MIN - 1, 24.0), vec![]);
    assert_eq!(at(&mut rig, 5 * MIN, 24.0), vec![(0, Off), (1, On)]);
}

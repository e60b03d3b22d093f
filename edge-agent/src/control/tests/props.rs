//! Random step sequences (readings good and bad, manual overrides, time advancing by 0–120 s
//! but never past `next_wake`) replayed into an independent model of each relay's on/off
//! timeline. The model does not reuse `guard.rs`: it keeps every on period and measures
//! on-time by brute force.
//!
//! Checked after every command and step: (a) a switch that is not forced respects the
//! min on/min off of the period it ends, a forced one goes to the safe state; (b) on-time in
//! any max-on window stays within the budget (checked at every step and every switch off);
//! (c) the interlocked heater and cooler are never on together, even between two commands of
//! one step; (d) no command is forced unless one of the actuator's inputs is faulty.

use farm_protocol::{Metric, SwitchState};
use proptest::prelude::*;

use super::*;
use SwitchState::{Off, On};

const HUMIDIFIER: usize = 0;
const HEATER: usize = 1;
const COOLER: usize = 2;

/// Humidity hysteresis on a humidifier, a temperature PID on a heater (max 5 min per 30 min)
/// and a temperature hysteresis (lower) on a cooler whose band overlaps the heater's, so
/// the interlock between them has work to do.
fn site() -> (ControlConfig, Vec<ActuatorSpec>) {
    let loops = vec![
        hysteresis(
            "humidity",
            HUMIDIFIER,
            Metric::Humidity,
            85.0,
            4.0,
            Direction::Raise,
        ),
        heat_pid(HEATER, 20.0, (0.3, 0.002, 5.0), secs(120)),
        hysteresis(
            "cool",
            COOLER,
            Metric::Temperature,
            19.0,
            1.0,
            Direction::Lower,
        ),
    ];
    let heater = ActuatorTiming {
        min_on: secs(60),
        min_off: secs(60),
        max_on: Some((mins(5), mins(30))),
    };
    let actuators = vec![
        actuator("humidifier", Off, timing(secs(30), secs(60))),
        actuator("heater", Off, heater),
        actuator("cooler", Off, timing(secs(60), secs(120))),
    ];
    (config(loops, vec![vec![HEATER, COOLER]]), actuators)
}

/// What a sensor reports at a step.
#[derive(Debug, Clone, Copy)]
enum Input {
    Good(f64),
    Nan,
    /// The last reading is 61 s old (stale after 60 s).
    Stale(f64),
    OutOfRange(f64),
    Faulty(f64),
    Missing,
}

impl Input {
    fn faulty(self) -> bool {
        !matches!(self, Input::Good(_))
    }
}

fn input(good: std::ops::Range<f64>, impossible: f64, only_good: bool) -> BoxedStrategy<Input> {
    let fine = good.clone().prop_map(Input::Good);
    if only_good {
        return fine.boxed();
    }
    prop_oneof![
        12 => fine,
        1 => Just(Input::Nan),
        1 => good.clone().prop_map(Input::Stale),
        1 => Just(Input::OutOfRange(impossible)),
        1 => good.prop_map(Input::Faulty),
        1 => Just(Input::Missing),
    ]
    .boxed()
}

/// A person's change before a step.
#[derive(Debug, Clone)]
enum Manual {
    Nothing,
    Override {
        actuator: usize,
        on: bool,
        for_s: i64,
    },
    Clear(usize),
}

#[derive(Debug, Clone)]
struct Op {
    advance_ms: i64,
    humidity: Input,
    temperature: Input,
    manual: Manual,
}

fn ops(only_good: bool) -> impl Strategy<Value = Vec<Op>> {
    let manual = prop_oneof![
        20 => Just(Manual::Nothing),
        1 => (0..3usize, any::<bool>(), 1..1200i64)
            .prop_map(|(actuator, on, for_s)| Manual::Override { actuator, on, for_s }),
        1 => (0..3usize).prop_map(Manual::Clear),
    ];
    let op = (
        0..=120_000i64,
        input(70.0..99.0, 100.5, only_good),
        input(14.0..26.0, 90.0, only_good),
        manual,
    )
        .prop_map(|(advance_ms, humidity, temperature, manual)| Op {
            advance_ms,
            humidity,
            temperature,
            manual,
        });
    proptest::collection::vec(op, 1..300)
}

fn report(readings: &mut Readings, metric: Metric, input: Input, now: UnixMillis) {
    let key = (ROOM.to_owned(), metric);
    let (value, ts, fault) = match input {
        Input::Good(v) => (v, now, None),
        Input::Nan => (f64::NAN, now, None),
        Input::Stale(v) => (v, now - 61 * SEC, None),
        Input::OutOfRange(v) => (v, now, None),
        Input::Faulty(v) => (v, now, Some("crc")),
        Input::Missing => {
            readings.remove(&key);
            return;
        }
    };
    readings.insert(key, Observation { value, ts, fault });
}

/// One relay as the commands leave it: its state, since when, and every past on period.
struct Relay {
    safe_state: SwitchState,
    timing: ActuatorTiming,
    state: SwitchState,
    since: UnixMillis,
    on_periods: Vec<(UnixMillis, UnixMillis)>,
}

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

impl Relay {
    fn new(spec: &ActuatorSpec, now: UnixMillis) -> Relay {
        Relay {
            safe_state: spec.safe_state,
            timing: spec.timing,
            state: spec.safe_state,
            since: now,
            on_periods: Vec::new(),
        }
    }

    /// (a): checks a command against the timeline so far, then records it.
    fn apply(&mut self, cmd: &Command, now: UnixMillis) -> Result<(), TestCaseError> {
        prop_assert_ne!(
            cmd.state,
            self.state,
            "a command that changes nothing: {:?}",
            cmd
        );
        if cmd.forced {
            prop_assert_eq!(
                cmd.state,
                self.safe_state,
                "forced away from the safe state"
            );
        } else {
            let minimum = match self.state {
                On => self.timing.min_on,
                Off => self.timing.min_off,
            };
            let lasted = now - self.since;
            prop_assert!(
                lasted >= ms(minimum),
                "{:?} after {} ms in {:?}, minimum {:?}: {:?}",
                cmd.state,
                lasted,
                self.state,
                minimum,
                cmd
            );
        }
        if self.state == On {
            self.on_periods.push((self.since, now));
        }
        self.state = cmd.state;
        self.since = now;
        Ok(())
    }

    /// On-time within `(end - window, end]`.
    fn on_time(&self, end: UnixMillis, window: i64) -> i64 {
        let start = end - window;
        let current = (self.state == On).then_some((self.since, end));
        let overlap = |(from, to): (i64, i64)| (to.min(end) - from.max(start)).max(0);
        self.on_periods
            .iter()
            .copied()
            .chain(current)
            .map(overlap)
            .sum()
    }

    /// (b): the max-on budget holds for the window ending at `at`.
    fn check_budget(&self, at: UnixMillis) -> Result<(), TestCaseError> {
        if let Some((max, window)) = self.timing.max_on {
            let used = self.on_time(at, ms(window));
            prop_assert!(
                used <= ms(max),
                "{} ms on within {:?} up to {}",
                used,
                window,
                at
            );
        }
        Ok(())
    }
}

/// Runs `ops`; `strict` also requires unforced commands from actuators with a max-on budget.
fn check(ops: &[Op], strict: bool) -> Result<(), TestCaseError> {
    let (cfg, actuators) = site();
    let mut controller = Controller::new(&cfg, actuators.clone(), T0);
    let mut relays: Vec<Relay> = actuators.iter().map(|a| Relay::new(a, T0)).collect();
    let mut readings = Readings::new();
    let (mut now, mut next_wake) = (T0, None);
    for op in ops {
        let wanted = now + op.advance_ms;
        now = next_wake.map_or(wanted, |w: i64| wanted.min(w)).max(now);
        report(&mut readings, Metric::Humidity, op.humidity, now);
        report(&mut readings, Metric::Temperature, op.temperature, now);
        match op.manual {
            Manual::Nothing => {}
            Manual::Override {
                actuator,
                on,
                for_s,
            } => {
                let state = if on { On } else { Off };
                let name = &actuators[actuator].name;
                // An interlock conflict is a legitimate refusal.
                let _ = controller.set_override(name, state, now + for_s * SEC, now);
            }
            Manual::Clear(actuator) => {
                controller
                    .clear_override(&actuators[actuator].name)
                    .unwrap();
            }
        }
        let step = controller.step(now, &readings);
        if let Some(wake) = step.next_wake {
            prop_assert!(wake > now, "next_wake {} is not after now {}", wake, now);
        }
        for cmd in &step.commands {
            relays[cmd.actuator].apply(cmd, now)?;
            if cmd.state == Off {
                relays[cmd.actuator].check_budget(now)?;
            }
            // (c), also between two commands of the same step.
            prop_assert!(
                relays[HEATER].state == Off || relays[COOLER].state == Off,
                "heater and cooler both on at {}: {:?}",
                now,
                step.commands
            );
            // (d)
            let input = match cmd.actuator {
                HUMIDIFIER => op.humidity,
                _ => op.temperature,
            };
            let budgeted = relays[cmd.actuator].timing.max_on.is_some();
            if !input.faulty() && (strict || !budgeted) {
                prop_assert!(!cmd.forced, "forced without a faulty input: {:?}", cmd);
            }
        }
        for relay in &relays {
            relay.check_budget(now)?;
        }
        let view = controller.view();
        for (a, relay) in relays.iter().enumerate() {
            prop_assert_eq!(view.actuators[a].state, relay.state, "model out of step");
        }
        next_wake = step.next_wake;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn limits_interlocks_and_safe_states_hold_on_any_sequence(ops in ops(false)) {
        check(&ops, false)?;
    }

    #[test]
    fn no_command_is_forced_while_every_input_is_good(ops in ops(true)) {
        check(&ops, true)?;
    }
}

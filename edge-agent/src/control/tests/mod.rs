//! Controller tests on simulated time: every `now` is a unix-ms value the test chooses; nothing
//! reads a clock or sleeps. Expected instants are written out by hand (UTC strings, or
//! multiples of the period), never computed with the code under test.
//!
//! - `mod.rs`: shared builders (configs, readings, a stepping harness, event filters).
//! - `loops.rs`: each loop kind and its `next_wake`.
//! - `limits.rs`: min on, min off, max on per window.
//! - `interlocks.rs`: heater and cooler never on together.
//! - `faults.rs`: bad inputs force the safe state and raise one alarm per outage.
//! - `manual.rs`: overrides, setpoint changes, memory across restarts.
//! - `settings.rs`: loop settings changed at run time, and kept across restarts;
//!   `settings_refused.rs`: the changes refused.
//! - `props.rs`: random step sequences checked against an independent actuator model.
mod faults;
mod interlocks;
mod limits;
mod loops;
mod manual;
mod props;
mod settings;
mod settings_refused;

use std::collections::BTreeMap;
use std::time::Duration;

use farm_protocol::{EventKind, Metric, SwitchState, UnixMillis};
use jiff::tz::TimeZone;

use super::{
    ActuatorSpec, ActuatorTiming, Command, ControlConfig, Controller, Direction, LoopKind,
    LoopSpec, Observation, Observations, Step,
};

/// The room every test actuator is in.
pub(super) const ROOM: &str = "grow-1";
/// 2024-01-01T00:00:00Z: a whole number of minutes, quarters and days since the epoch.
pub(super) const T0: UnixMillis = 1_704_067_200_000;
pub(super) const SEC: i64 = 1_000;
pub(super) const MIN: i64 = 60 * SEC;
/// `stale_after` of every test loop with an input.
pub(super) const STALE: Duration = Duration::from_secs(60);

/// The latest readings, keyed like the agent's latest state.
pub(super) type Readings = BTreeMap<(String, Metric), Observation>;

impl Observations for Readings {
    fn observe(&self, room: &str, metric: Metric) -> Option<Observation> {
        self.get(&(room.to_owned(), metric)).copied()
    }
}

pub(super) const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub(super) const fn mins(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

/// A UTC instant written as RFC 3339, in unix ms.
pub(super) fn utc(at: &str) -> UnixMillis {
    at.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// The Netherlands: UTC+1 in winter, UTC+2 in summer.
pub(super) fn amsterdam() -> TimeZone {
    TimeZone::get("Europe/Amsterdam")
        .or_else(|_| TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3"))
        .unwrap()
}

pub(super) fn timing(min_on: Duration, min_off: Duration) -> ActuatorTiming {
    ActuatorTiming {
        min_on,
        min_off,
        max_on: None,
    }
}

/// No min on or min off.
pub(super) fn free() -> ActuatorTiming {
    timing(secs(0), secs(0))
}

/// A humidifier (safe state off) with `timing`, on a hysteresis loop holding 88 %RH ± 2, in
/// a controller started at `start`.
pub(super) fn humidifier_rig(timing: ActuatorTiming, start: UnixMillis) -> Rig {
    let loops = vec![hysteresis(
        "humidity",
        0,
        Metric::Humidity,
        88.0,
        4.0,
        Direction::Raise,
    )];
    let humidifier = vec![actuator("humidifier", SwitchState::Off, timing)];
    Rig::new(&config(loops, vec![]), humidifier, start)
}

pub(super) fn actuator(
    name: &str,
    safe_state: SwitchState,
    timing: ActuatorTiming,
) -> ActuatorSpec {
    ActuatorSpec {
        name: name.to_owned(),
        room: ROOM.to_owned(),
        safe_state,
        timing,
    }
}

pub(super) fn config(loops: Vec<LoopSpec>, interlocks: Vec<Vec<usize>>) -> ControlConfig {
    ControlConfig {
        period: secs(10),
        timezone: TimeZone::UTC,
        command_refresh: secs(60),
        loops,
        interlocks,
    }
}

pub(super) fn hysteresis(
    name: &str,
    actuator: usize,
    metric: Metric,
    setpoint: f64,
    band: f64,
    direction: Direction,
) -> LoopSpec {
    LoopSpec {
        name: name.to_owned(),
        actuator,
        kind: LoopKind::Hysteresis {
            metric,
            setpoint,
            band,
            direction,
            stale_after: STALE,
        },
    }
}

/// A temperature PID raising the temperature; `gains` are `(kp, ki, kd)`.
pub(super) fn heat_pid(
    actuator: usize,
    setpoint: f64,
    gains: (f64, f64, f64),
    period: Duration,
) -> LoopSpec {
    LoopSpec {
        name: "heat".to_owned(),
        actuator,
        kind: LoopKind::Pid {
            metric: Metric::Temperature,
            setpoint,
            direction: Direction::Raise,
            kp: gains.0,
            ki: gains.1,
            kd: gains.2,
            period,
            stale_after: STALE,
        },
    }
}

pub(super) fn schedule(name: &str, actuator: usize, kind: LoopKind) -> LoopSpec {
    LoopSpec {
        name: name.to_owned(),
        actuator,
        kind,
    }
}

/// A controller with its readings, stepped at times the test picks.
pub(super) struct Rig {
    pub controller: Controller,
    pub readings: Readings,
}

impl Rig {
    pub(super) fn new(
        config: &ControlConfig,
        actuators: Vec<ActuatorSpec>,
        now: UnixMillis,
    ) -> Rig {
        Rig {
            controller: Controller::new(config, actuators, now),
            readings: Readings::new(),
        }
    }

    /// A healthy reading taken at `ts`.
    pub(super) fn read(&mut self, metric: Metric, value: f64, ts: UnixMillis) {
        self.put(metric, value, ts, None);
    }

    pub(super) fn put(
        &mut self,
        metric: Metric,
        value: f64,
        ts: UnixMillis,
        fault: Option<&'static str>,
    ) {
        let observation = Observation { value, ts, fault };
        self.readings.insert((ROOM.to_owned(), metric), observation);
    }

    pub(super) fn forget(&mut self, metric: Metric) {
        self.readings.remove(&(ROOM.to_owned(), metric));
    }

    pub(super) fn step(&mut self, now: UnixMillis) -> Step {
        self.controller.step(now, &self.readings)
    }

    /// Steps at `now` while the sensors keep reporting the values they have (each reading
    /// taken at `now`).
    pub(super) fn step_fresh(&mut self, now: UnixMillis) -> Step {
        for observation in self.readings.values_mut() {
            observation.ts = now;
        }
        self.step(now)
    }

    /// Steps from `from` to `until` (inclusive) the way the agent does: at every `next_wake`
    /// and at least every `tick`, while the sensors keep reporting the values they have.
    /// Returns every command with the time it was given.
    pub(super) fn run(
        &mut self,
        from: UnixMillis,
        until: UnixMillis,
        tick: i64,
    ) -> Vec<(UnixMillis, Command)> {
        let mut log = Vec::new();
        let mut now = from;
        while now <= until {
            let step = self.step_fresh(now);
            log.extend(step.commands.into_iter().map(|c| (now, c)));
            let next = step.next_wake.map_or(now + tick, |w| w.min(now + tick));
            assert!(next > now, "next_wake {next} is not after now {now}");
            now = next;
        }
        log
    }

    pub(super) fn state(&self, a: usize) -> SwitchState {
        self.controller.view().actuators[a].state
    }
}

/// The switches of a step, in command order.
pub(super) fn switches(step: &Step) -> Vec<(usize, SwitchState)> {
    step.commands
        .iter()
        .map(|c| (c.actuator, c.state))
        .collect()
}

/// The switches of a run, with their times.
pub(super) fn timeline(log: &[(UnixMillis, Command)]) -> Vec<(UnixMillis, usize, SwitchState)> {
    log.iter().map(|(t, c)| (*t, c.actuator, c.state)).collect()
}

/// The `active` flag of every input-fault alarm in a step.
pub(super) fn fault_alarms(step: &Step) -> Vec<bool> {
    step.events
        .iter()
        .filter_map(|e| match e {
            EventKind::Alarm { code, active, .. } if code == "control_input_fault" => Some(*active),
            _ => None,
        })
        .collect()
}

//! The controller: `step(now, observations) -> commands`, pure (no clock, no I/O).
//!
//! Each step, in order:
//! 1. expired manual overrides end;
//! 2. every loop turns its input into a demand, or reports its input faulty (missing, older
//!    than `stale_after`, from a failing source, NaN or outside the metric's physical range);
//!    a fault raises one alarm until good data returns, then one "cleared" alarm;
//! 3. each actuator's wish: its override if it has one; else its safe state if any of its
//!    loops' inputs is faulty (forced: min on/off do not delay it); else on if any loop asks
//!    for on; an actuator without loops keeps its state. A spent max-on budget means off;
//! 4. switches off happen first, then switches on, each only if min on/off and the max-on
//!    budget allow it and (for on) no interlocked actuator is on. Overridden actuators get
//!    first claim in an interlock group, then those already on, then config order.
//!
//! The returned `next_wake` is the latest time the next step must run at for timers, duty
//! cycles and max-on budgets to be exact; the runtime also steps on every reading and every
//! `period`.

use farm_protocol::{EventKind, Severity, SwitchState, UnixMillis};

use super::guard::Guard;
use super::loops::{self, Demand, InputFault, LoopState, Observations, PidGains};
use super::spec::{ActuatorSpec, ControlConfig, LoopKind, LoopSpec};

mod switching;

/// Alarm code of a loop whose input is faulty.
pub const INPUT_FAULT_ALARM: &str = "control_input_fault";

/// A manual override: the actuator is held in `state` until `until` (unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Override {
    /// The state it is held in.
    pub state: SwitchState,
    /// When the override ends, unix ms.
    pub until: UnixMillis,
}

/// Switch an actuator.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// Index of the actuator in the config.
    pub actuator: usize,
    /// The new state.
    pub state: SwitchState,
    /// Why, for the `actuator_change` event.
    pub reason: String,
    /// Whether the switch skipped min on/off (a fault forcing the safe state).
    pub forced: bool,
}

/// What one step decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    /// Switches, offs before ons (so interlocked relays are never on together, even briefly).
    pub commands: Vec<Command>,
    /// Alarms raised or cleared and overrides that expired, to record in the outbox.
    pub events: Vec<EventKind>,
    /// Step again no later than this (see the module docs).
    pub next_wake: Option<UnixMillis>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoopFault {
    pub(crate) message: String,
    pub(crate) alarmed: bool,
}

/// Why an actuator wants what it wants.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cause {
    Override,
    Fault(usize),
    Loop(usize),
    Keep,
    MaxOn,
    Interlock(usize),
}

/// The control loops of one site and their state.
#[derive(Debug, Clone)]
pub struct Controller {
    pub(crate) actuators: Vec<ActuatorSpec>,
    pub(crate) loops: Vec<LoopSpec>,
    pub(crate) interlocks: Vec<Vec<usize>>,
    timezone: jiff::tz::TimeZone,
    started: UnixMillis,
    pub(crate) guards: Vec<Guard>,
    pub(crate) states: Vec<LoopState>,
    pub(crate) faults: Vec<Option<LoopFault>>,
    pub(crate) overrides: Vec<Option<Override>>,
    /// The loops of each actuator.
    loops_of: Vec<Vec<usize>>,
}

fn ms(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The earliest of several optional times.
fn earliest(slot: &mut Option<UnixMillis>, at: Option<UnixMillis>) {
    if let Some(at) = at {
        *slot = Some(slot.map_or(at, |t| t.min(at)));
    }
}

impl Controller {
    /// A controller whose actuators have all been in their safe state since `now`.
    pub fn new(
        config: &ControlConfig,
        actuators: Vec<ActuatorSpec>,
        now: UnixMillis,
    ) -> Controller {
        let mut loops_of = vec![Vec::new(); actuators.len()];
        for (i, l) in config.loops.iter().enumerate() {
            if let Some(list) = loops_of.get_mut(l.actuator) {
                list.push(i);
            }
        }
        Controller {
            guards: actuators
                .iter()
                .map(|a| Guard::new(a.timing, a.safe_state, now))
                .collect(),
            overrides: vec![None; actuators.len()],
            states: vec![LoopState::default(); config.loops.len()],
            faults: vec![None; config.loops.len()],
            loops: config.loops.clone(),
            interlocks: config.interlocks.clone(),
            timezone: config.timezone.clone(),
            started: now,
            actuators,
            loops_of,
        }
    }

    /// Evaluates every loop at `now` and decides the switches (see the module docs).
    pub fn step(&mut self, now: UnixMillis, observations: &impl Observations) -> Step {
        let mut step = Step::default();
        self.expire_overrides(now, &mut step);
        let n = self.actuators.len();
        let mut wants_on: Vec<Option<usize>> = vec![None; n];
        let mut faulted: Vec<Option<usize>> = vec![None; n];
        for i in 0..self.loops.len() {
            let actuator = self.loops[i].actuator;
            match self.evaluate(i, now, observations, &mut step) {
                Some(demand) => {
                    earliest(&mut step.next_wake, demand.next);
                    if demand.on && actuator < n {
                        wants_on[actuator].get_or_insert(i);
                    }
                }
                None if actuator < n => {
                    faulted[actuator].get_or_insert(i);
                }
                None => {}
            }
        }
        let mut wishes: Vec<(SwitchState, Cause)> = (0..n)
            .map(|a| self.wish(a, wants_on[a], faulted[a], now))
            .collect();
        self.overrides_claim_interlocks(&mut wishes);
        self.switch(now, &wishes, &mut step);
        for guard in &self.guards {
            earliest(&mut step.next_wake, guard.stop_deadline(now));
        }
        step
    }

    fn expire_overrides(&mut self, now: UnixMillis, step: &mut Step) {
        for (a, slot) in self.overrides.iter_mut().enumerate() {
            match slot {
                Some(o) if o.until <= now => {
                    *slot = None;
                    step.events.push(EventKind::Override {
                        room: self.actuators[a].room.clone(),
                        actuator: self.actuators[a].name.clone(),
                        state: None,
                        until: None,
                        reason: "expired".into(),
                    });
                }
                Some(o) => earliest(&mut step.next_wake, Some(o.until)),
                None => {}
            }
        }
    }

    /// Runs loop `i`; `None` if its input is faulty (alarms raised and cleared here).
    fn evaluate(
        &mut self,
        i: usize,
        now: UnixMillis,
        observations: &impl Observations,
        step: &mut Step,
    ) -> Option<Demand> {
        let spec = &self.loops[i];
        let room = self
            .actuators
            .get(spec.actuator)
            .map_or("", |a| a.room.as_str());
        let input = loops::input(&spec.kind).map(|(metric, stale_after)| {
            let observed = observations.observe(room, metric);
            (
                metric,
                stale_after,
                loops::check_input(observed, metric, stale_after, now),
            )
        });
        let state = &mut self.states[i];
        let pv = match input {
            None => None,
            Some((_, _, Ok(pv))) => Some(pv),
            Some((metric, stale_after, Err(fault))) => {
                state.reset();
                let in_grace = fault == InputFault::Missing
                    && now.saturating_sub(self.started) <= ms(stale_after);
                if in_grace {
                    earliest(
                        &mut step.next_wake,
                        Some(self.started + ms(stale_after) + 1),
                    );
                }
                self.record_fault(i, fault.describe(metric), !in_grace, step);
                return None;
            }
        };
        if let Some(fault) = self.faults[i].take() {
            if fault.alarmed {
                step.events
                    .push(self.alarm(i, false, "input good again".into()));
            }
        }
        let state = &mut self.states[i];
        let demand = match (&self.loops[i].kind, pv) {
            (
                LoopKind::Hysteresis {
                    setpoint,
                    band,
                    direction,
                    ..
                },
                Some(pv),
            ) => loops::hysteresis(state, pv, *setpoint, *band, *direction),
            (
                LoopKind::Pid {
                    setpoint,
                    direction,
                    kp,
                    ki,
                    kd,
                    period,
                    ..
                },
                Some(pv),
            ) => {
                let gains = PidGains {
                    setpoint: *setpoint,
                    direction: *direction,
                    kp: *kp,
                    ki: *ki,
                    kd: *kd,
                    period: *period,
                };
                loops::pid(state, pv, gains, now)
            }
            (LoopKind::Photoperiod { on_at, on_for }, _) => {
                loops::photoperiod(*on_at, *on_for, now, &self.timezone)
            }
            (LoopKind::Interval { every, on_for }, _) => loops::interval(*every, *on_for, now),
            // A loop with an input always has a value here.
            (_, None) => return None,
        };
        state.pv = pv;
        Some(demand)
    }

    fn record_fault(&mut self, i: usize, message: String, alarmable: bool, step: &mut Step) {
        let raise = match &mut self.faults[i] {
            Some(fault) => {
                fault.message.clone_from(&message);
                let raise = alarmable && !fault.alarmed;
                fault.alarmed |= alarmable;
                raise
            }
            None => {
                self.faults[i] = Some(LoopFault {
                    message: message.clone(),
                    alarmed: alarmable,
                });
                alarmable
            }
        };
        if raise {
            step.events.push(self.alarm(i, true, message));
        }
    }

    fn alarm(&self, i: usize, active: bool, message: String) -> EventKind {
        let spec = &self.loops[i];
        let actuator = self.actuators.get(spec.actuator);
        let message = match actuator {
            Some(a) if active => format!(
                "loop {}: {message}; {} held in its safe state ({})",
                spec.name,
                a.name,
                state_name(a.safe_state)
            ),
            _ => format!("loop {}: {message}", spec.name),
        };
        EventKind::Alarm {
            room: actuator.map(|a| a.room.clone()),
            code: INPUT_FAULT_ALARM.into(),
            severity: Severity::Warning,
            active,
            message,
        }
    }
}

/// `on` / `off`.
pub(crate) fn state_name(state: SwitchState) -> &'static str {
    match state {
        SwitchState::On => "on",
        SwitchState::Off => "off",
    }
}

/// A unix-ms time as RFC 3339 UTC, for messages.
pub(crate) fn format_ms(at: UnixMillis) -> String {
    jiff::Timestamp::from_millisecond(at).map_or_else(|_| at.to_string(), |t| t.to_string())
}

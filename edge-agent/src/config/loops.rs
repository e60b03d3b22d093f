//! `[[loops]]`: schema, checks and the conversion to [`LoopSpec`]. Which keys a loop takes
//! depends on its kind (`hysteresis`, `pid`, `photoperiod`, `interval`); a key that does not
//! belong to the kind is an error, so a `band` on a PID loop never passes silently. Per-kind
//! keys are `Option`s in the schema for that reason; their defaults are applied where the
//! kind is checked (`loop_kinds.rs`).

use std::time::Duration;

use farm_drivers::ActuatorKind;
use serde::Deserialize;

use super::build::{check_name, check_unique, required, required_when};
use super::control::Actuators;
use super::error::Problem;
use super::units::HumanDuration;
use crate::control::{Direction, LoopKind, LoopSpec};

/// Every loop kind, with the kind-specific keys it takes.
const KINDS: [(&str, &[&str]); 4] = [
    (
        "hysteresis",
        &["metric", "setpoint", "band", "direction", "stale_after"],
    ),
    (
        "pid",
        &[
            "metric",
            "setpoint",
            "direction",
            "stale_after",
            "kp",
            "ki",
            "kd",
            "period",
        ],
    ),
    ("photoperiod", &["on_at", "on_for"]),
    ("interval", &["every", "on_for"]),
];
/// Every kind-specific key.
const KIND_KEYS: [&str; 12] = [
    "metric",
    "setpoint",
    "band",
    "direction",
    "stale_after",
    "kp",
    "ki",
    "kd",
    "period",
    "on_at",
    "on_for",
    "every",
];

/// One `[[loops]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table of loop settings ([[loops]])"
)]
pub(super) struct RawLoop {
    /// Unique loop name. Required.
    pub name: Option<String>,
    /// The name of the actuator it drives. Required.
    pub actuator: Option<String>,
    /// `hysteresis`, `pid`, `photoperiod` or `interval`. Required.
    pub kind: Option<String>,
    /// `hysteresis`, `pid`: the input metric. Required.
    pub metric: Option<String>,
    /// `hysteresis`, `pid`: the target, in the metric's unit. Required.
    pub setpoint: Option<f64>,
    /// `hysteresis`: the dead band's full width, in the metric's unit. Required.
    pub band: Option<f64>,
    /// `hysteresis`, `pid`: `raise` or `lower`. Default: from the actuator's device.
    pub direction: Option<String>,
    /// `hysteresis`, `pid`: an input older than this is a fault. Default `control.stale_after`.
    pub stale_after: Option<HumanDuration>,
    /// `pid`: proportional gain, duty per unit of error. Required.
    pub kp: Option<f64>,
    /// `pid`: integral gain, duty per unit of error per second. Default 0.
    pub ki: Option<f64>,
    /// `pid`: derivative gain, duty per unit of change per second. Default 0.
    pub kd: Option<f64>,
    /// `pid`: the duty-cycle period. Default 5m.
    pub period: Option<HumanDuration>,
    /// `photoperiod`: the local time of day it switches on, `"HH:MM"`. Required.
    pub on_at: Option<String>,
    /// `photoperiod`, `interval`: how long it stays on. Required.
    pub on_for: Option<HumanDuration>,
    /// `interval`: the cycle length. Required.
    pub every: Option<HumanDuration>,
}

/// Default `loops[].ki`.
pub(super) const fn default_ki() -> f64 {
    0.0
}

/// Default `loops[].kd`.
pub(super) const fn default_kd() -> f64 {
    0.0
}

/// Default `loops[].period` (PID).
pub(super) const fn default_pid_period() -> Duration {
    Duration::from_secs(5 * 60)
}

/// Default `loops[].direction`: which way the actuator's device moves its metric.
pub(super) const fn default_direction(device: ActuatorKind) -> Direction {
    match device {
        ActuatorKind::Humidifier | ActuatorKind::Heater | ActuatorKind::Lights => Direction::Raise,
        ActuatorKind::FreshAirFan | ActuatorKind::Cooler => Direction::Lower,
    }
}

/// Checks every loop; `stale_after` is `control.stale_after`, the default of the loops'.
pub(super) fn build_loops(
    raw: Vec<(usize, RawLoop)>,
    actuators: &Actuators,
    stale_after: Duration,
    problems: &mut Vec<Problem>,
) -> Vec<LoopSpec> {
    let names = raw
        .iter()
        .filter_map(|(i, l)| Some((*i, l.name.as_deref()?)));
    check_unique("loops", "loop name", names, problems);
    raw.into_iter()
        .filter_map(|(index, raw)| build_loop(index, raw, actuators, stale_after, problems))
        .collect()
}

/// Checks one loop; `None` if a required key is missing or bad, or its actuator unusable.
fn build_loop(
    index: usize,
    raw: RawLoop,
    actuators: &Actuators,
    stale_after: Duration,
    problems: &mut Vec<Problem>,
) -> Option<LoopSpec> {
    let key = format!("loops[{index}]");
    let name = required(format!("{key}.name"), raw.name.clone(), problems);
    let actuator = required(format!("{key}.actuator"), raw.actuator.clone(), problems);
    let kind = required(format!("{key}.kind"), raw.kind.clone(), problems);
    if let Some(name) = &name {
        check_name(&format!("{key}.name"), name, problems);
    }
    let actuator = actuator.and_then(|name| {
        actuators.find(&name).unwrap_or_else(|message| {
            problems.push(Problem::new(format!("{key}.actuator"), message));
            None
        })
    });
    let device = actuator.map(|index| actuators.built[index].device);
    let loop_kind = Kind {
        key: &key,
        name: kind.as_deref()?,
        raw: &raw,
    };
    let kind = loop_kind.build(device, stale_after, problems)?;
    Some(LoopSpec {
        name: name?,
        actuator: actuator?,
        kind,
    })
}

/// One loop's kind-specific keys, being checked (the kinds are in `loop_kinds.rs`).
pub(super) struct Kind<'a> {
    /// `loops[i]`.
    pub key: &'a str,
    /// The kind's name (`"pid"`).
    pub name: &'a str,
    /// The loop as written.
    pub raw: &'a RawLoop,
}

impl Kind<'_> {
    /// The loop kind with its settings; `None` if unknown or incomplete. `device` is the
    /// actuator's (for the default direction), `stale_after` the default input age limit.
    fn build(
        &self,
        device: Option<ActuatorKind>,
        stale_after: Duration,
        problems: &mut Vec<Problem>,
    ) -> Option<LoopKind> {
        let Some((_, allowed)) = KINDS.iter().find(|(name, _)| *name == self.name) else {
            let known: Vec<&str> = KINDS.iter().map(|(name, _)| *name).collect();
            problems.push(Problem::new(
                format!("{}.kind", self.key),
                format!(
                    "unknown loop kind {:?}; known kinds: {}",
                    self.name,
                    known.join(", ")
                ),
            ));
            return None;
        };
        self.reject_keys(allowed, problems);
        match self.name {
            "hysteresis" => self.hysteresis(device, stale_after, problems),
            "pid" => self.pid(device, stale_after, problems),
            "photoperiod" => self.photoperiod(problems),
            _ => self.interval(problems),
        }
    }

    /// Records a problem for each kind-specific key that is set but not in `allowed`.
    fn reject_keys(&self, allowed: &[&str], problems: &mut Vec<Problem>) {
        let raw = self.raw;
        for name in KIND_KEYS.iter().filter(|name| !allowed.contains(name)) {
            let set = match *name {
                "metric" => raw.metric.is_some(),
                "setpoint" => raw.setpoint.is_some(),
                "band" => raw.band.is_some(),
                "direction" => raw.direction.is_some(),
                "stale_after" => raw.stale_after.is_some(),
                "kp" => raw.kp.is_some(),
                "ki" => raw.ki.is_some(),
                "kd" => raw.kd.is_some(),
                "period" => raw.period.is_some(),
                "on_at" => raw.on_at.is_some(),
                "on_for" => raw.on_for.is_some(),
                _ => raw.every.is_some(),
            };
            if set {
                problems.push(Problem::new(
                    self.at(name),
                    format!(
                        "not allowed here: it does not apply to kind {:?}",
                        self.name
                    ),
                ));
            }
        }
    }

    /// A key that this kind requires.
    pub(super) fn required<T>(
        &self,
        name: &str,
        value: Option<T>,
        problems: &mut Vec<Problem>,
    ) -> Option<T> {
        let when = format!("for kind {:?}", self.name);
        required_when(self.at(name), value, &when, problems)
    }

    /// The full path of the loop's key `name`.
    pub(super) fn at(&self, name: &str) -> String {
        format!("{}.{name}", self.key)
    }
}

//! Changes a person makes at run time: setpoints and manual overrides (with an expiry), each
//! returning the event to log, and the [`ControlMemory`] that carries them, and the loop
//! settings changed in `settings.rs`, across restarts.

use std::collections::BTreeMap;
use std::time::Duration;

use farm_protocol::{EventKind, SwitchState, UnixMillis};
use serde::{Deserialize, Serialize};

use super::controller::{format_ms, Controller, Override};
use super::settings::SavedLoopSettings;
use super::spec::LoopKind;

/// The longest manual override: a forgotten override must not run a room for weeks.
pub const MAX_OVERRIDE: Duration = Duration::from_secs(7 * 24 * 3600);

/// A refused change, with what was wrong (the API answers 4xx with this text).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ControlError {
    /// No loop has this name.
    #[error("no loop named {0:?}")]
    UnknownLoop(String),
    /// No actuator has this name.
    #[error("no actuator named {0:?}")]
    UnknownActuator(String),
    /// Schedules have no setpoint.
    #[error("loop {name:?} is a {kind} loop and has no setpoint")]
    NoSetpoint {
        /// The loop.
        name: String,
        /// Its kind.
        kind: &'static str,
    },
    /// The setpoint is NaN or outside the metric's physical range.
    #[error("setpoint {value} is outside the physical range of {metric} ({low} to {high} {unit})")]
    SetpointOutOfRange {
        /// The value asked for.
        value: f64,
        /// The loop's metric.
        metric: &'static str,
        /// Lowest possible value.
        low: f64,
        /// Highest possible value.
        high: f64,
        /// The metric's unit.
        unit: &'static str,
    },
    /// The loop's kind has no such setting (a `band` for a PID loop).
    #[error("loop {name:?} is a {kind} loop and has no setting {setting:?}")]
    NotASetting {
        /// The loop.
        name: String,
        /// The setting asked for (its config key).
        setting: &'static str,
        /// The loop's kind.
        kind: &'static str,
    },
    /// A setting breaks the rules the config file checks it by; nothing was changed.
    #[error("loop {name:?}: {reason}")]
    InvalidSetting {
        /// The loop.
        name: String,
        /// Each broken rule, as `key: what is wrong`, separated by `; `.
        reason: String,
    },
    /// The expiry is not in the future, or too far away.
    #[error(
        "an override must end between now and {} from now; asked for {until}",
        humantime::format_duration(MAX_OVERRIDE)
    )]
    BadExpiry {
        /// The asked expiry, RFC 3339.
        until: String,
    },
    /// Another actuator of the same interlock group is overridden on.
    #[error("{actuator:?} cannot be overridden on while {other:?} (interlocked with it) is overridden on")]
    InterlockConflict {
        /// The actuator asked for.
        actuator: String,
        /// The one holding the interlock.
        other: String,
    },
}

/// Runtime changes worth keeping across a restart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ControlMemory {
    /// Setpoints changed at run time, by loop name.
    pub setpoints: BTreeMap<String, SavedSetpoint>,
    /// Overrides in force, by actuator name.
    pub overrides: BTreeMap<String, Override>,
    /// Loop settings changed at run time, by loop name (absent in files written before
    /// settings could change).
    #[serde(default)]
    pub loops: BTreeMap<String, SavedLoopSettings>,
}

/// A setpoint changed at run time, with the config file's value at that time: if the file's
/// value has changed since, the file wins (someone edited it on purpose).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SavedSetpoint {
    /// The setpoint set at run time.
    pub value: f64,
    /// The config file's setpoint when it was set.
    pub configured: f64,
}

fn setpoint_mut(kind: &mut LoopKind) -> Option<&mut f64> {
    match kind {
        LoopKind::Hysteresis { setpoint, .. } | LoopKind::Pid { setpoint, .. } => Some(setpoint),
        LoopKind::Photoperiod { .. } | LoopKind::Interval { .. } => None,
    }
}

impl Controller {
    /// Changes a loop's setpoint; returns the `setpoint_change` event.
    pub fn set_setpoint(&mut self, name: &str, value: f64) -> Result<EventKind, ControlError> {
        let i = self
            .loops
            .iter()
            .position(|l| l.name == name)
            .ok_or_else(|| ControlError::UnknownLoop(name.to_owned()))?;
        let spec = &mut self.loops[i];
        let kind = spec.kind.name();
        let Some((metric, previous)) = spec.kind.setpoint() else {
            return Err(ControlError::NoSetpoint {
                name: name.to_owned(),
                kind,
            });
        };
        if !metric.is_plausible(value) {
            let (low, high) = metric.physical_range();
            return Err(ControlError::SetpointOutOfRange {
                value,
                metric: metric.name(),
                low,
                high,
                unit: metric.unit(),
            });
        }
        // Every other rule of the config file too (a hysteresis band around the new setpoint
        // must stay inside the physical range, or the loop could never switch back).
        let mut kind = spec.kind.clone();
        if let Some(setpoint) = setpoint_mut(&mut kind) {
            *setpoint = value;
        }
        super::settings::refuse_broken_rules(name, &kind)?;
        spec.kind = kind;
        let room = self.actuators.get(spec.actuator).map(|a| a.room.clone());
        Ok(EventKind::SetpointChange {
            room: room.unwrap_or_default(),
            control_loop: name.to_owned(),
            metric: metric.name().to_owned(),
            setpoint: value,
            previous,
        })
    }

    /// Holds an actuator in `state` until `until`; returns the `override` event. The override
    /// still respects min on/off, the max-on budget and interlocks; it beats loops and faults.
    pub fn set_override(
        &mut self,
        name: &str,
        state: SwitchState,
        until: UnixMillis,
        now: UnixMillis,
    ) -> Result<EventKind, ControlError> {
        let a = self.actuator_index(name)?;
        let max = i64::try_from(MAX_OVERRIDE.as_millis()).unwrap_or(i64::MAX);
        if until <= now || until - now > max {
            return Err(ControlError::BadExpiry {
                until: format_ms(until),
            });
        }
        if state == SwitchState::On {
            let conflict = self
                .interlocks
                .iter()
                .filter(|group| group.contains(&a))
                .flatten()
                .find(|&&m| {
                    m != a && self.overrides[m].is_some_and(|o| o.state == SwitchState::On)
                });
            if let Some(&m) = conflict {
                return Err(ControlError::InterlockConflict {
                    actuator: name.to_owned(),
                    other: self.actuators[m].name.clone(),
                });
            }
        }
        self.overrides[a] = Some(Override { state, until });
        Ok(self.override_event(a, "set"))
    }

    /// Ends an actuator's override; returns the event, or `None` if it had none.
    pub fn clear_override(&mut self, name: &str) -> Result<Option<EventKind>, ControlError> {
        let a = self.actuator_index(name)?;
        Ok(self.overrides[a]
            .take()
            .map(|_| self.override_event(a, "cleared")))
    }

    fn actuator_index(&self, name: &str) -> Result<usize, ControlError> {
        self.actuators
            .iter()
            .position(|a| a.name == name)
            .ok_or_else(|| ControlError::UnknownActuator(name.to_owned()))
    }

    fn override_event(&self, a: usize, reason: &str) -> EventKind {
        let o = self.overrides[a];
        EventKind::Override {
            room: self.actuators[a].room.clone(),
            actuator: self.actuators[a].name.clone(),
            state: o.map(|o| o.state),
            until: o.map(|o| o.until),
            reason: reason.to_owned(),
        }
    }

    /// What to save: runtime setpoints and loop settings (against `configured`, each loop's
    /// kind as the config file has it) and the overrides in force.
    pub fn memory(&self, configured: &[LoopKind]) -> ControlMemory {
        let setpoints = self
            .loops
            .iter()
            .zip(configured)
            .filter_map(|(l, configured)| {
                let (_, value) = l.kind.setpoint()?;
                let (_, configured) = configured.setpoint()?;
                (value != configured).then(|| (l.name.clone(), SavedSetpoint { value, configured }))
            })
            .collect();
        let overrides = self
            .actuators
            .iter()
            .zip(&self.overrides)
            .filter_map(|(a, o)| Some((a.name.clone(), (*o)?)))
            .collect();
        ControlMemory {
            setpoints,
            overrides,
            loops: self.saved_loop_settings(configured),
        }
    }

    /// Applies saved changes at start-up. Unknown names, setpoints and loop settings whose
    /// configured value has changed and expired overrides are skipped; each skip is returned
    /// as a sentence to log.
    pub fn restore(&mut self, memory: &ControlMemory, now: UnixMillis) -> Vec<String> {
        let mut skipped = Vec::new();
        for (name, saved) in &memory.setpoints {
            let Some(l) = self.loops.iter().find(|l| &l.name == name) else {
                skipped.push(format!("setpoint of unknown loop {name:?}"));
                continue;
            };
            if l.kind.setpoint().map(|(_, v)| v) != Some(saved.configured) {
                skipped.push(format!(
                    "setpoint of loop {name:?}: the config file changed it"
                ));
                continue;
            }
            if let Err(e) = self.set_setpoint(name, saved.value) {
                skipped.push(format!("setpoint of loop {name:?}: {e}"));
            }
        }
        self.restore_loop_settings(&memory.loops, &mut skipped);
        for (name, o) in &memory.overrides {
            if let Err(e) = self.set_override(name, o.state, o.until, now) {
                skipped.push(format!("override of {name:?}: {e}"));
            }
        }
        skipped
    }
}

//! Run-time changes of a loop's settings other than its setpoint ([`LoopSettings`]: the band,
//! the PID gains and period, `stale_after`, a schedule's timing), checked with the config
//! file's own rules (`rules.rs`) and returning a `loop_change` event; and the part of
//! [`ControlMemory`](super::ControlMemory) that keeps them across restarts.
//!
//! Settings are named by their config keys; in events, views and the memory their values are
//! numbers, durations (and `on_at`, the time since local midnight) in seconds.
//!
//! What a change does to the loop's running state:
//! - PID `period`: the running duty cycle ends and a new one starts at the next step, as after
//!   an input fault (no derivative from the old cycle; the integral, the load learnt, is kept);
//! - PID gains: used from the next duty cycle on; the integral is kept as a duty, so a new `ki`
//!   does not make the output jump;
//! - hysteresis `band`: the last demand holds until the input leaves the new band;
//! - `stale_after`, photoperiod and interval timing: nothing is kept between steps, so they
//!   apply at the next step (the control thread steps right after a change); min on/off and
//!   the max-on budget still hold.

use std::collections::BTreeMap;
use std::time::Duration;

use farm_protocol::EventKind;
use serde::{Deserialize, Serialize};

use super::controller::Controller;
use super::manual::ControlError;
use super::spec::LoopKind;

/// A change of some of a loop's settings: `None` leaves a setting as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoopSettings {
    /// `hysteresis`: the dead band's full width, in the metric's unit.
    pub band: Option<f64>,
    /// `pid`: proportional gain.
    pub kp: Option<f64>,
    /// `pid`: integral gain.
    pub ki: Option<f64>,
    /// `pid`: derivative gain.
    pub kd: Option<f64>,
    /// `pid`: the duty-cycle period.
    pub period: Option<Duration>,
    /// `hysteresis`, `pid`: an input older than this is a fault.
    pub stale_after: Option<Duration>,
    /// `photoperiod`: the local time of day it switches on, as time since midnight.
    pub on_at: Option<Duration>,
    /// `photoperiod`, `interval`: how long it stays on.
    pub on_for: Option<Duration>,
    /// `interval`: the cycle length.
    pub every: Option<Duration>,
}

impl LoopSettings {
    /// The settings given, by config key, durations in seconds.
    pub fn given(&self) -> Vec<(&'static str, f64)> {
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
        [
            ("band", self.band),
            ("kp", self.kp),
            ("ki", self.ki),
            ("kd", self.kd),
            ("period", secs(self.period)),
            ("stale_after", secs(self.stale_after)),
            ("on_at", secs(self.on_at)),
            ("on_for", secs(self.on_for)),
            ("every", secs(self.every)),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
        .collect()
    }

    /// Whether no setting is given.
    pub fn is_empty(&self) -> bool {
        self.given().is_empty()
    }

    /// Gives one setting by its config key, durations in seconds (as saved in the memory).
    pub fn set(&mut self, key: &str, value: f64) -> Result<(), String> {
        let duration = || {
            Duration::try_from_secs_f64(value)
                .map(Some)
                .map_err(|_| format!("{key}: {value} is not a duration in seconds"))
        };
        match key {
            "band" => self.band = Some(value),
            "kp" => self.kp = Some(value),
            "ki" => self.ki = Some(value),
            "kd" => self.kd = Some(value),
            "period" => self.period = duration()?,
            "stale_after" => self.stale_after = duration()?,
            "on_at" => self.on_at = duration()?,
            "on_for" => self.on_for = duration()?,
            "every" => self.every = duration()?,
            _ => return Err(format!("{key}: not a loop setting")),
        }
        Ok(())
    }
}

/// Sets `slot` to `value` if one is given.
fn give<T: Copy>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

impl LoopKind {
    /// The loop's settings that can change at run time, by config key, durations in seconds.
    pub fn settings(&self) -> BTreeMap<&'static str, f64> {
        let secs = Duration::as_secs_f64;
        let list: Vec<(&'static str, f64)> = match self {
            LoopKind::Hysteresis {
                band, stale_after, ..
            } => vec![("band", *band), ("stale_after", secs(stale_after))],
            LoopKind::Pid {
                kp,
                ki,
                kd,
                period,
                stale_after,
                ..
            } => vec![
                ("kp", *kp),
                ("ki", *ki),
                ("kd", *kd),
                ("period", secs(period)),
                ("stale_after", secs(stale_after)),
            ],
            LoopKind::Photoperiod { on_at, on_for } => {
                vec![("on_at", secs(on_at)), ("on_for", secs(on_for))]
            }
            LoopKind::Interval { every, on_for } => {
                vec![("every", secs(every)), ("on_for", secs(on_for))]
            }
        };
        list.into_iter().collect()
    }

    /// This kind with the given settings changed (those of another kind are ignored).
    fn with(&self, s: &LoopSettings) -> LoopKind {
        let mut kind = self.clone();
        match &mut kind {
            LoopKind::Hysteresis {
                band, stale_after, ..
            } => {
                give(band, s.band);
                give(stale_after, s.stale_after);
            }
            LoopKind::Pid {
                kp,
                ki,
                kd,
                period,
                stale_after,
                ..
            } => {
                give(kp, s.kp);
                give(ki, s.ki);
                give(kd, s.kd);
                give(period, s.period);
                give(stale_after, s.stale_after);
            }
            LoopKind::Photoperiod { on_at, on_for } => {
                give(on_at, s.on_at);
                give(on_for, s.on_for);
            }
            LoopKind::Interval { every, on_for } => {
                give(every, s.every);
                give(on_for, s.on_for);
            }
        }
        kind
    }
}

/// A loop setting changed at run time, with the config file's value at that time: if the
/// file's value has changed since, the file wins (someone edited it on purpose).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SavedSetting {
    /// The value set at run time (durations in seconds).
    pub value: f64,
    /// The config file's value when it was set.
    pub configured: f64,
}

/// One loop's settings changed at run time, by config key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SavedLoopSettings {
    /// By config key (`band`, `on_for`).
    pub settings: BTreeMap<String, SavedSetting>,
}

impl Controller {
    /// Changes some of a loop's settings, all or none; returns the `loop_change` event with
    /// the settings that changed, or `None` if none did. A setting of another kind of loop,
    /// or one that breaks the config file's rules, is refused (see the module docs for what
    /// the change resets).
    pub fn set_loop_settings(
        &mut self,
        name: &str,
        settings: &LoopSettings,
    ) -> Result<Option<EventKind>, ControlError> {
        let i = self
            .loops
            .iter()
            .position(|l| l.name == name)
            .ok_or_else(|| ControlError::UnknownLoop(name.to_owned()))?;
        let old = &self.loops[i].kind;
        let before = old.settings();
        if let Some((setting, _)) = settings
            .given()
            .into_iter()
            .find(|(key, _)| !before.contains_key(key))
        {
            return Err(ControlError::NotASetting {
                name: name.to_owned(),
                setting,
                kind: old.name(),
            });
        }
        let kind = old.with(settings);
        refuse_broken_rules(name, &kind)?;
        let after = kind.settings();
        let changed: Vec<(String, f64, f64)> = after
            .iter()
            .filter_map(|(key, value)| {
                let previous = *before.get(key)?;
                (previous != *value).then(|| ((*key).to_owned(), *value, previous))
            })
            .collect();
        if changed.is_empty() {
            return Ok(None);
        }
        if changed.iter().any(|(key, ..)| key == "period") {
            self.states[i].reset();
        }
        self.loops[i].kind = kind;
        let room = self
            .actuators
            .get(self.loops[i].actuator)
            .map(|a| a.room.clone());
        Ok(Some(EventKind::LoopChange {
            room: room.unwrap_or_default(),
            control_loop: name.to_owned(),
            settings: changed.iter().map(|(k, v, _)| (k.clone(), *v)).collect(),
            previous: changed.into_iter().map(|(k, _, p)| (k, p)).collect(),
        }))
    }

    /// The loop settings that differ from `configured` (each loop's kind as the config file
    /// has it), for the memory.
    pub(crate) fn saved_loop_settings(
        &self,
        configured: &[LoopKind],
    ) -> BTreeMap<String, SavedLoopSettings> {
        self.loops
            .iter()
            .zip(configured)
            .filter_map(|(l, configured)| {
                let file = configured.settings();
                let settings: BTreeMap<String, SavedSetting> = l
                    .kind
                    .settings()
                    .into_iter()
                    .filter_map(|(key, value)| {
                        let configured = *file.get(key)?;
                        let saved = SavedSetting { value, configured };
                        (value != configured).then(|| (key.to_owned(), saved))
                    })
                    .collect();
                (!settings.is_empty()).then(|| (l.name.clone(), SavedLoopSettings { settings }))
            })
            .collect()
    }

    /// Applies saved loop settings at start-up (while the loops are as the config file has
    /// them). A setting the file has changed since is skipped, the rest of its loop applied
    /// together; each skip is added to `skipped` as a sentence to log.
    pub(crate) fn restore_loop_settings(
        &mut self,
        saved: &BTreeMap<String, SavedLoopSettings>,
        skipped: &mut Vec<String>,
    ) {
        for (name, saved) in saved {
            let Some(l) = self.loops.iter().find(|l| &l.name == name) else {
                skipped.push(format!("settings of unknown loop {name:?}"));
                continue;
            };
            let file = l.kind.settings();
            let mut change = LoopSettings::default();
            for (key, setting) in &saved.settings {
                let skip = match file.get(key.as_str()) {
                    None => Some(format!("not a setting of a {} loop", l.kind.name())),
                    Some(&value) if value != setting.configured => {
                        Some("the config file changed it".to_owned())
                    }
                    Some(_) => change.set(key, setting.value).err(),
                };
                if let Some(why) = skip {
                    skipped.push(format!("{key} of loop {name:?}: {why}"));
                }
            }
            if let Err(e) = self.set_loop_settings(name, &change) {
                skipped.push(format!("settings of loop {name:?}: {e}"));
            }
        }
    }
}

/// Refuses `new` (a loop after a change of its settings or setpoint) if it breaks any of the
/// config file's rules. The loop before the change
/// keeps them all (the config file and run-time setpoints are checked by the same rules),
/// so a broken rule is always one the change broke.
pub(super) fn refuse_broken_rules(name: &str, new: &LoopKind) -> Result<(), ControlError> {
    new.check().map_err(|problems| {
        let problems: Vec<String> = problems
            .into_iter()
            .map(|(key, message)| format!("{key}: {message}"))
            .collect();
        ControlError::InvalidSetting {
            name: name.to_owned(),
            reason: problems.join("; "),
        }
    })
}

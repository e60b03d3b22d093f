//! What the controller shows: a serializable snapshot for the API, the panel and the
//! retained room state, and the one-line explanation of a loop's decision.

use std::collections::BTreeMap;
use std::time::Duration;

use farm_protocol::{SwitchState, UnixMillis};
use serde::Serialize;

use super::controller::{Controller, Override};
use super::loops::LoopState;
use super::spec::{Direction, LoopKind, LoopSpec};

/// The controller's state at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ControlView {
    /// Every actuator the controller switches, in config order.
    pub actuators: Vec<ActuatorView>,
    /// Every loop, in config order.
    pub loops: Vec<LoopView>,
}

/// One actuator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActuatorView {
    /// Its name.
    pub name: String,
    /// Its room.
    pub room: String,
    /// The state the controller last commanded.
    pub state: SwitchState,
    /// What the output was last set to: `None` if that switch failed or the output could
    /// not be opened (the agent fills this in; the pure controller assumes success).
    pub output: Option<SwitchState>,
    /// Since when, unix ms.
    pub since: UnixMillis,
    /// Its safe state.
    pub safe_state: SwitchState,
    /// The manual override in force, if any.
    #[serde(rename = "override")]
    pub manual: Option<Override>,
}

/// One loop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoopView {
    /// Its name.
    pub name: String,
    /// Its room.
    pub room: String,
    /// The actuator it drives.
    pub actuator: String,
    /// `hysteresis`, `pid`, `photoperiod` or `interval`.
    pub kind: &'static str,
    /// Its metric, for loops with an input.
    pub metric: Option<&'static str>,
    /// Its setpoint, for loops with one.
    pub setpoint: Option<f64>,
    /// Its other settings that can change at run time (`PUT /api/loops/{name}/settings`),
    /// by config key: `band`, `stale_after` (hysteresis); `kp`, `ki`, `kd`, `period`,
    /// `stale_after` (pid); `on_at`, `on_for` (photoperiod); `every`, `on_for` (interval).
    /// Durations, and `on_at` (the time since local midnight), in seconds.
    pub settings: BTreeMap<&'static str, f64>,
    /// The input at the latest good evaluation.
    pub value: Option<f64>,
    /// PID: the current duty (0–1).
    pub duty: Option<f64>,
    /// Why its input cannot be used, while it cannot.
    pub fault: Option<String>,
    /// Hysteresis: the dead band's full width (the panel's range check; not in the API).
    #[serde(skip)]
    pub band: Option<f64>,
    /// Loops with an input: older input is a fault (the panel's stale check; not in the API).
    #[serde(skip)]
    pub stale_after: Option<Duration>,
}

impl Controller {
    /// A snapshot of actuators and loops.
    pub fn view(&self) -> ControlView {
        let actuators = self
            .actuators
            .iter()
            .zip(&self.guards)
            .zip(&self.overrides)
            .map(|((spec, guard), manual)| ActuatorView {
                name: spec.name.clone(),
                room: spec.room.clone(),
                state: guard.state(),
                output: Some(guard.state()),
                since: guard.since(),
                safe_state: spec.safe_state,
                manual: *manual,
            })
            .collect();
        let loops = self
            .loops
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let actuator = self.actuators.get(spec.actuator);
                let setpoint = spec.kind.setpoint();
                LoopView {
                    name: spec.name.clone(),
                    room: actuator.map(|a| a.room.clone()).unwrap_or_default(),
                    actuator: actuator.map(|a| a.name.clone()).unwrap_or_default(),
                    kind: spec.kind.name(),
                    metric: setpoint.map(|(m, _)| m.name()),
                    setpoint: setpoint.map(|(_, v)| v),
                    settings: spec.kind.settings(),
                    value: self.states[i].pv,
                    duty: matches!(spec.kind, LoopKind::Pid { .. }).then_some(self.states[i].duty),
                    fault: self.faults[i].as_ref().map(|f| f.message.clone()),
                    band: match spec.kind {
                        LoopKind::Hysteresis { band, .. } => Some(band),
                        _ => None,
                    },
                    stale_after: match spec.kind {
                        LoopKind::Hysteresis { stale_after, .. }
                        | LoopKind::Pid { stale_after, .. } => Some(stale_after),
                        _ => None,
                    },
                }
            })
            .collect();
        ControlView { actuators, loops }
    }
}

/// Why a loop asks for what it asks: `loop h (hysteresis): humidity 84.2 < 88`.
pub(crate) fn describe_loop(spec: &LoopSpec, state: &LoopState) -> String {
    let name = &spec.name;
    match (&spec.kind, state.pv) {
        (
            LoopKind::Hysteresis {
                metric,
                setpoint,
                band,
                direction,
                ..
            },
            Some(pv),
        ) => {
            let (low, high) = (setpoint - band / 2.0, setpoint + band / 2.0);
            let side = match (direction, state.on) {
                (Direction::Raise, true) | (Direction::Lower, false) => format!("< {low}"),
                (Direction::Raise, false) | (Direction::Lower, true) => format!("> {high}"),
            };
            format!("loop {name} (hysteresis): {metric} {pv:.1} {side}")
        }
        (
            LoopKind::Pid {
                metric, setpoint, ..
            },
            Some(pv),
        ) => format!(
            "loop {name} (pid): {metric} {pv:.1}, setpoint {setpoint}, duty {:.0}%",
            state.duty * 100.0
        ),
        (kind, _) => format!("loop {name} ({})", kind.name()),
    }
}

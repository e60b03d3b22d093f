//! What the controller is told to do: the loops, the actuators' timing limits and the
//! interlocks, as validated by the config file (`[control]`, `[[loops]]`, `[[actuators]]`).
//! Plain data; nothing here reads a clock or does I/O.

use std::time::Duration;

use farm_protocol::{Metric, SwitchState};

/// `[control]` and `[[loops]]`, validated: the loops, the interlocks and the controller's
/// timing. The actuators' own limits are in each actuator's [`ActuatorTiming`].
#[derive(Debug, Clone, PartialEq)]
pub struct ControlConfig {
    /// How often the loops are evaluated when no reading arrives (readings also wake them).
    pub period: Duration,
    /// The site's time zone, for photoperiods.
    pub timezone: jiff::tz::TimeZone,
    /// How often the current state of every room-node (MQTT) actuator is sent again, so a
    /// node that restarted or missed a command converges.
    pub command_refresh: Duration,
    /// The loops, in config order. Several loops may drive one actuator: it is on when any
    /// of them asks for on (and goes to its safe state when any of their inputs is faulty).
    pub loops: Vec<LoopSpec>,
    /// Groups of actuators (indices into the config's actuators) of which at most one may be
    /// on at any time. Each group has at least two members, all with safe state off.
    pub interlocks: Vec<Vec<usize>>,
}

/// An actuator's switching limits, protecting the equipment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActuatorTiming {
    /// Once on, it stays on at least this long (unless a fault forces the safe state).
    pub min_on: Duration,
    /// Once off, it stays off at least this long (unless a fault forces the safe state).
    pub min_off: Duration,
    /// `(max, window)`: at most `max` of on-time within any `window`. Only for actuators whose
    /// safe state is off; `max` < `window` and `max` ≥ `min_on`.
    pub max_on: Option<(Duration, Duration)>,
}

/// One actuator as the controller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActuatorSpec {
    /// The actuator's unique name.
    pub name: String,
    /// The room it acts on (the room whose readings its loops use).
    pub room: String,
    /// The state at start-up, at shutdown and while one of its loops' inputs is faulty.
    pub safe_state: SwitchState,
    /// Its switching limits.
    pub timing: ActuatorTiming,
}

/// One control loop.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopSpec {
    /// The loop's unique name (used by the API for setpoint changes).
    pub name: String,
    /// The actuator it drives (index into the config's actuators).
    pub actuator: usize,
    /// What it does.
    pub kind: LoopKind,
}

/// Which way an actuator moves its metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// On raises the metric (humidifier, heater): on when below the setpoint.
    Raise,
    /// On lowers the metric (fresh-air fan on CO2, cooler): on when above the setpoint.
    Lower,
}

/// The kinds of loop.
#[derive(Debug, Clone, PartialEq)]
pub enum LoopKind {
    /// On/off around a setpoint with a dead band: for `Raise`, on below
    /// `setpoint − band/2`, off above `setpoint + band/2`, unchanged in between.
    Hysteresis {
        /// The input.
        metric: Metric,
        /// The target, in the metric's unit (changeable at run time).
        setpoint: f64,
        /// The dead band's full width (> 0).
        band: f64,
        /// Which way the actuator moves the metric.
        direction: Direction,
        /// An input older than this is a fault.
        stale_after: Duration,
    },
    /// PID whose output (0–1) is a duty cycle: on for `output × period` at the start of
    /// every period. Anti-windup by conditional integration; derivative on the measurement.
    Pid {
        /// The input.
        metric: Metric,
        /// The target, in the metric's unit (changeable at run time).
        setpoint: f64,
        /// Which way the actuator moves the metric.
        direction: Direction,
        /// Proportional gain: duty per unit of error.
        kp: f64,
        /// Integral gain: duty per unit of error per second.
        ki: f64,
        /// Derivative gain: duty per (unit of the metric per second) of change.
        kd: f64,
        /// The duty-cycle period.
        period: Duration,
        /// An input older than this is a fault.
        stale_after: Duration,
    },
    /// On every day from `on_at` (local time of day in the site's time zone) for `on_for`.
    Photoperiod {
        /// Time since local midnight when it switches on.
        on_at: Duration,
        /// How long it stays on (< 24h; may run past midnight).
        on_for: Duration,
    },
    /// On for `on_for` at the start of every `every` (counted from the unix epoch), e.g.
    /// misting 30s every 15m.
    Interval {
        /// The cycle length.
        every: Duration,
        /// On-time at the start of each cycle (< `every`).
        on_for: Duration,
    },
}

impl LoopKind {
    /// The loop's metric and setpoint, for loops that have them.
    pub fn setpoint(&self) -> Option<(Metric, f64)> {
        match self {
            LoopKind::Hysteresis {
                metric, setpoint, ..
            }
            | LoopKind::Pid {
                metric, setpoint, ..
            } => Some((*metric, *setpoint)),
            LoopKind::Photoperiod { .. } | LoopKind::Interval { .. } => None,
        }
    }

    /// The name of the kind in the config file (`"pid"`).
    pub const fn name(&self) -> &'static str {
        match self {
            LoopKind::Hysteresis { .. } => "hysteresis",
            LoopKind::Pid { .. } => "pid",
            LoopKind::Photoperiod { .. } => "photoperiod",
            LoopKind::Interval { .. } => "interval",
        }
    }
}

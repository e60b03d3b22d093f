//! `[control]` (the controller's timing, the site's time zone, the interlocks): schema,
//! defaults and checks; and the assembly of [`ControlConfig`] with the `[[loops]]`
//! (`loops.rs`). Loops and interlocks name actuators; [`Actuators`] turns a name into the
//! index of that actuator in `Config::actuators`.

use std::time::Duration;

use farm_protocol::SwitchState;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::build::check_duration;
use super::error::Problem;
use super::loops::{build_loops, RawLoop};
use super::settings::ActuatorConfig;
use super::units::HumanDuration;
use crate::control::rules::STALE_AFTER_RANGE;
use crate::control::ControlConfig;

/// Allowed `control.period`.
const PERIOD_RANGE: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(60));
/// Allowed `control.command_refresh`.
const COMMAND_REFRESH_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(3600));

/// `[control]` as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table of control settings ([control])"
)]
pub(super) struct RawControl {
    /// How often the loops are evaluated when no reading arrives. Default 1s.
    #[serde(default = "default_period")]
    pub period: HumanDuration,
    /// The input age limit of hysteresis and PID loops that set none. Default 1m.
    #[serde(default = "default_stale_after")]
    pub stale_after: HumanDuration,
    /// The site's IANA time zone, for photoperiods. Default: the system's zone.
    pub timezone: Option<String>,
    /// How often the state of every room-node (MQTT) actuator is sent again. Default 30s.
    #[serde(default = "default_command_refresh")]
    pub command_refresh: HumanDuration,
    /// Groups of actuator names of which at most one may be on at a time. Default: none.
    #[serde(default)]
    pub interlocks: Vec<Vec<String>>,
}

/// Default `control.period`.
const fn default_period() -> HumanDuration {
    HumanDuration(Duration::from_secs(1))
}

/// Default `control.stale_after`.
const fn default_stale_after() -> HumanDuration {
    HumanDuration(Duration::from_secs(60))
}

/// Default `control.command_refresh`.
const fn default_command_refresh() -> HumanDuration {
    HumanDuration(Duration::from_secs(30))
}

/// The actuators as `[control]` and `[[loops]]` refer to them: by name, stored as an index
/// into the built actuators (which become `Config::actuators`, so the index is not
/// necessarily the one in the file when some could not be built).
#[derive(Debug)]
pub(super) struct Actuators<'a> {
    /// The actuators that could be built, in file order.
    pub built: &'a [ActuatorConfig],
    /// Every actuator name in the file, also of the actuators that could not be built.
    pub names_in_file: Vec<String>,
}

impl Actuators<'_> {
    /// The index in `built` of the actuator named `name`. `Ok(None)` if the file has an
    /// actuator of that name that could not be built (its problems are recorded already);
    /// `Err` with the message for the name's key if the file has none.
    pub fn find(&self, name: &str) -> Result<Option<usize>, String> {
        if let Some(index) = self.built.iter().position(|a| a.name == name) {
            return Ok(Some(index));
        }
        if self.names_in_file.iter().any(|known| known == name) {
            return Ok(None);
        }
        Err(if self.names_in_file.is_empty() {
            format!("unknown actuator {name:?}; there are no [[actuators]]")
        } else {
            format!(
                "unknown actuator {name:?}; the [[actuators]] are: {}",
                self.names_in_file.join(", ")
            )
        })
    }
}

/// Checks `[control]` and the `[[loops]]`; `None` if `[control]` could not be read (its
/// problem is recorded). The loops are checked either way.
pub(super) fn build_control(
    raw: Option<RawControl>,
    loops: Vec<(usize, RawLoop)>,
    actuators: &Actuators,
    problems: &mut Vec<Problem>,
) -> Option<ControlConfig> {
    let stale_after = raw
        .as_ref()
        .map_or(default_stale_after(), |control| control.stale_after);
    let loops = build_loops(loops, actuators, stale_after.0, problems);
    let raw = raw?;
    check_duration("control.period", raw.period.0, PERIOD_RANGE, problems);
    check_duration(
        "control.stale_after",
        raw.stale_after.0,
        STALE_AFTER_RANGE,
        problems,
    );
    let timezone = build_timezone(raw.timezone.as_deref(), problems);
    check_duration(
        "control.command_refresh",
        raw.command_refresh.0,
        COMMAND_REFRESH_RANGE,
        problems,
    );
    let interlocks = build_interlocks(&raw.interlocks, actuators, problems);
    Some(ControlConfig {
        period: raw.period.0,
        timezone,
        command_refresh: raw.command_refresh.0,
        loops,
        interlocks,
    })
}

/// The named IANA zone, or the system's if none is named.
fn build_timezone(name: Option<&str>, problems: &mut Vec<Problem>) -> TimeZone {
    let Some(name) = name else {
        return TimeZone::system();
    };
    TimeZone::get(name).unwrap_or_else(|_| {
        problems.push(Problem::new(
            "control.timezone",
            format!("unknown time zone {name:?}; use an IANA name such as \"Europe/Amsterdam\""),
        ));
        TimeZone::UTC
    })
}

/// Each group: at least two members, each an actuator with safe state off, none twice.
fn build_interlocks(
    groups: &[Vec<String>],
    actuators: &Actuators,
    problems: &mut Vec<Problem>,
) -> Vec<Vec<usize>> {
    let mut built = Vec::with_capacity(groups.len());
    for (g, names) in groups.iter().enumerate() {
        let key = format!("control.interlocks[{g}]");
        if names.len() < 2 {
            problems.push(Problem::new(
                key.as_str(),
                "must list at least two actuators (at most one of them may be on at a time)",
            ));
        }
        let mut members = Vec::with_capacity(names.len());
        for (m, name) in names.iter().enumerate() {
            let item = format!("{key}[{m}]");
            if let Some(first) = names[..m].iter().position(|other| other == name) {
                problems.push(Problem::new(
                    item,
                    format!("duplicate actuator {name:?} (also interlocks[{g}][{first}])"),
                ));
                continue;
            }
            match actuators.find(name) {
                Err(message) => problems.push(Problem::new(item, message)),
                Ok(None) => {}
                Ok(Some(index)) => {
                    if actuators.built[index].safe_state == SwitchState::On {
                        problems.push(Problem::new(
                            item,
                            format!(
                                "{name:?} has safe_state = \"on\"; an interlocked actuator's safe \
                                 state must be off, so that a fault can never put two of them on"
                            ),
                        ));
                    }
                    members.push(index);
                }
            }
        }
        built.push(members);
    }
    built
}

//! `[[actuators]]`: checks beyond the schema and the conversion to [`ActuatorConfig`]. Which
//! keys an actuator takes depends on its kind (`gpio`, `simulated`, `mqtt`); a key that does
//! not belong to the kind is an error. The switching limits (`min_on`, `min_off`, `max_on`)
//! apply to every kind.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use farm_drivers::ActuatorKind;
use farm_protocol::SwitchState;

use super::build::{
    check_duration, check_name, check_unique, report_missing, required, required_when,
};
use super::error::Problem;
use super::raw::RawActuator;
use super::sensors::{check_room, check_topic_level};
use super::settings::{ActuatorConfig, ActuatorOutput};
use crate::control::ActuatorTiming;

/// Default `actuators[].chip`.
const DEFAULT_CHIP: &str = "/dev/gpiochip0";
/// Allowed `actuators[].min_on` and `min_off`.
const MIN_SWITCH_RANGE: (Duration, Duration) = (Duration::ZERO, Duration::from_secs(3600));
/// Longest allowed `actuators[].max_on_period`.
const MAX_ON_PERIOD_MAX: Duration = Duration::from_secs(24 * 3600);
/// Every `kind = "…"` an actuator can have.
const KINDS: &str = "gpio, simulated, mqtt";

/// Checks every actuator; the complete ones are returned with their index in the file.
pub(super) fn build_actuators(
    raw: Vec<(usize, RawActuator)>,
    problems: &mut Vec<Problem>,
) -> Vec<(usize, ActuatorConfig)> {
    let names = raw
        .iter()
        .filter_map(|(i, a)| Some((*i, a.name.as_deref()?)));
    check_unique("actuators", "actuator name", names, problems);
    let built: Vec<(usize, ActuatorConfig)> = raw
        .into_iter()
        .filter_map(|(index, actuator)| Some((index, build_actuator(index, actuator, problems)?)))
        .collect();
    check_shared_lines(&built, problems);
    check_shared_topics(&built, problems);
    built
}

fn build_actuator(
    index: usize,
    raw: RawActuator,
    problems: &mut Vec<Problem>,
) -> Option<ActuatorConfig> {
    let key = format!("actuators[{index}]");
    let name = required(format!("{key}.name"), raw.name.clone(), problems);
    let room = required(format!("{key}.room"), raw.room.clone(), problems);
    let device = required(format!("{key}.device"), raw.device.clone(), problems);
    let kind = required(format!("{key}.kind"), raw.kind.clone(), problems);
    if let Some(name) = &name {
        check_name(&format!("{key}.name"), name, problems);
    }
    if let Some(room) = &room {
        check_room(&format!("{key}.room"), room, problems);
    }
    let device = device.and_then(|d| match d.parse::<ActuatorKind>() {
        Ok(kind) => Some(kind),
        Err(err) => {
            problems.push(Problem::new(format!("{key}.device"), err.to_string()));
            None
        }
    });
    let safe_state = match raw.safe_state.as_str() {
        "off" => Some(SwitchState::Off),
        "on" => Some(SwitchState::On),
        other => {
            problems.push(Problem::new(
                format!("{key}.safe_state"),
                format!("unknown state {other:?}; use \"off\" or \"on\""),
            ));
            None
        }
    };
    let timing = build_timing(&key, &raw, safe_state, problems);
    let output = build_output(&key, kind.as_deref()?, raw, device, problems)?;
    Some(ActuatorConfig {
        name: name?,
        room: room?,
        device: device?,
        safe_state: safe_state?,
        output,
        timing,
    })
}

/// The output of kind `kind` with its settings; `None` if unknown or incomplete.
fn build_output(
    key: &str,
    kind: &str,
    raw: RawActuator,
    device: Option<ActuatorKind>,
    problems: &mut Vec<Problem>,
) -> Option<ActuatorOutput> {
    match kind {
        "simulated" => {
            let keys = ["chip", "line", "active_low", "node", "command"];
            reject_keys(key, kind, &raw, &keys, problems);
            Some(ActuatorOutput::Simulated)
        }
        "gpio" => {
            reject_keys(key, kind, &raw, &["node", "command"], problems);
            let line = required_when(format!("{key}.line"), raw.line, FOR_GPIO, problems)?;
            Some(ActuatorOutput::Gpio {
                chip: raw.chip.unwrap_or_else(|| PathBuf::from(DEFAULT_CHIP)),
                line,
                active_low: raw.active_low,
            })
        }
        "mqtt" => {
            reject_keys(key, kind, &raw, &["chip", "line", "active_low"], problems);
            let node = required_when(format!("{key}.node"), raw.node, FOR_MQTT, problems);
            if let Some(node) = &node {
                check_topic_level(&format!("{key}.node"), "node", node, problems);
            }
            if let Some(command) = &raw.command {
                check_topic_level(&format!("{key}.command"), "command", command, problems);
            }
            let command = raw.command.or_else(|| device.map(|d| d.name().to_owned()));
            Some(ActuatorOutput::Mqtt {
                node: node?,
                command: command?,
            })
        }
        other => {
            problems.push(Problem::new(
                format!("{key}.kind"),
                format!("unknown actuator kind {other:?}; known kinds: {KINDS}"),
            ));
            None
        }
    }
}

/// Ends "required key is missing" for `line`.
const FOR_GPIO: &str = "for kind \"gpio\"";
/// Ends "required key is missing" for `node`.
const FOR_MQTT: &str = "for kind \"mqtt\"";

/// Records a problem for each of `keys` that is set but means nothing for `kind`.
fn reject_keys(
    key: &str,
    kind: &str,
    raw: &RawActuator,
    keys: &[&str],
    problems: &mut Vec<Problem>,
) {
    for name in keys {
        let set = match *name {
            "chip" => raw.chip.is_some(),
            "line" => raw.line.is_some(),
            "active_low" => raw.active_low,
            "node" => raw.node.is_some(),
            "command" => raw.command.is_some(),
            _ => false,
        };
        if set {
            problems.push(Problem::new(
                format!("{key}.{name}"),
                format!("not allowed here: it does not apply to kind {kind:?}"),
            ));
        }
    }
}

/// `min_on`, `min_off` and the on-time budget `max_on` within `max_on_period`.
fn build_timing(
    key: &str,
    raw: &RawActuator,
    safe_state: Option<SwitchState>,
    problems: &mut Vec<Problem>,
) -> ActuatorTiming {
    let (min_on, min_off) = (raw.min_on.0, raw.min_off.0);
    check_duration(&format!("{key}.min_on"), min_on, MIN_SWITCH_RANGE, problems);
    check_duration(
        &format!("{key}.min_off"),
        min_off,
        MIN_SWITCH_RANGE,
        problems,
    );
    let (max_key, period_key) = (format!("{key}.max_on"), format!("{key}.max_on_period"));
    if safe_state == Some(SwitchState::On) && (raw.max_on.is_some() || raw.max_on_period.is_some())
    {
        let at = if raw.max_on.is_some() {
            &max_key
        } else {
            &period_key
        };
        problems.push(Problem::new(
            at.as_str(),
            "not allowed with safe_state = \"on\": an actuator whose safe state is on cannot \
             have an on-time budget (a fault switches it on for as long as the fault lasts)",
        ));
    }
    let max_on = match (raw.max_on, raw.max_on_period) {
        (None, None) => None,
        (Some(_), None) => {
            let when = "(max_on is set; the two go together)";
            report_missing(period_key, when, problems);
            None
        }
        (None, Some(_)) => {
            let when = "(max_on_period is set; the two go together)";
            report_missing(max_key, when, problems);
            None
        }
        (Some(max), Some(period)) => {
            check_budget(&max_key, &period_key, (max.0, period.0), min_on, problems);
            Some((max.0, period.0))
        }
    };
    ActuatorTiming {
        min_on,
        min_off,
        max_on,
    }
}

/// `max_on`: more than 0, less than `max_on_period`, at least `min_on`; the period ≤ 24h.
fn check_budget(
    max_key: &str,
    period_key: &str,
    (max, period): (Duration, Duration),
    min_on: Duration,
    problems: &mut Vec<Problem>,
) {
    let show = humantime::format_duration;
    if max.is_zero() {
        problems.push(Problem::new(max_key, "must be longer than 0s"));
    } else if max >= period {
        problems.push(Problem::new(
            max_key,
            format!(
                "must be shorter than max_on_period ({}), got {}",
                show(period),
                show(max)
            ),
        ));
    } else if max < min_on {
        problems.push(Problem::new(
            max_key,
            format!(
                "must be at least min_on ({}), got {}",
                show(min_on),
                show(max)
            ),
        ));
    }
    if period > MAX_ON_PERIOD_MAX {
        problems.push(Problem::new(
            period_key,
            format!("must be at most 24h, got {}", show(period)),
        ));
    }
}

/// Two relays on one GPIO line would fight: the second claim fails at start-up, so say it now.
fn check_shared_lines(built: &[(usize, ActuatorConfig)], problems: &mut Vec<Problem>) {
    let mut owners: HashMap<(&PathBuf, u32), usize> = HashMap::new();
    for (index, actuator) in built {
        if let ActuatorOutput::Gpio { chip, line, .. } = &actuator.output {
            if let Some(first) = owners.insert((chip, *line), *index) {
                problems.push(Problem::new(
                    format!("actuators[{index}].line"),
                    format!(
                        "line {line} of {} is already used by actuators[{first}]",
                        chip.display()
                    ),
                ));
            }
        }
    }
}

/// Two room-node actuators on one command topic would switch each other.
fn check_shared_topics(built: &[(usize, ActuatorConfig)], problems: &mut Vec<Problem>) {
    let mut owners: HashMap<String, usize> = HashMap::new();
    for (index, actuator) in built {
        if let ActuatorOutput::Mqtt { node, command } = &actuator.output {
            let topic = format!("farm/{}/{node}/cmd/{command}", actuator.room);
            if let Some(first) = owners.get(&topic) {
                problems.push(Problem::new(
                    format!("actuators[{index}].node"),
                    format!("{topic} is already switched by actuators[{first}]"),
                ));
            } else {
                owners.insert(topic, *index);
            }
        }
    }
}

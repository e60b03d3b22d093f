//! `[[actuators]]`: checks beyond the schema and the conversion to [`ActuatorConfig`].

use std::collections::HashMap;
use std::path::PathBuf;

use farm_drivers::ActuatorKind;
use farm_protocol::SwitchState;

use super::build::{check_name, check_unique, required};
use super::error::Problem;
use super::raw::RawActuator;
use super::sensors::check_room;
use super::settings::{ActuatorConfig, ActuatorOutput};

/// Default `actuators[].chip`.
const DEFAULT_CHIP: &str = "/dev/gpiochip0";

/// Checks every actuator; the complete ones are returned.
pub(super) fn build_actuators(
    raw: Vec<(usize, RawActuator)>,
    problems: &mut Vec<Problem>,
) -> Vec<ActuatorConfig> {
    let names = raw
        .iter()
        .filter_map(|(i, a)| Some((*i, a.name.as_deref()?)));
    check_unique("actuators", "actuator name", names, problems);
    let built: Vec<(usize, ActuatorConfig)> = raw
        .into_iter()
        .filter_map(|(index, actuator)| Some((index, build_actuator(index, actuator, problems)?)))
        .collect();
    check_shared_lines(&built, problems);
    built.into_iter().map(|(_, a)| a).collect()
}

fn build_actuator(
    index: usize,
    raw: RawActuator,
    problems: &mut Vec<Problem>,
) -> Option<ActuatorConfig> {
    let key = format!("actuators[{index}]");
    let name = required(format!("{key}.name"), raw.name, problems);
    let room = required(format!("{key}.room"), raw.room, problems);
    let device = required(format!("{key}.device"), raw.device, problems);
    let kind = required(format!("{key}.kind"), raw.kind, problems);
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
    let output = match kind.as_deref()? {
        "simulated" => {
            for (set, name) in [
                (raw.chip.is_some(), "chip"),
                (raw.line.is_some(), "line"),
                (raw.active_low, "active_low"),
            ] {
                if set {
                    problems.push(Problem::new(
                        format!("{key}.{name}"),
                        "not allowed here: it does not apply to kind \"simulated\"",
                    ));
                }
            }
            ActuatorOutput::Simulated
        }
        "gpio" => ActuatorOutput::Gpio {
            chip: raw.chip.unwrap_or_else(|| PathBuf::from(DEFAULT_CHIP)),
            line: required_line(&key, raw.line, problems)?,
            active_low: raw.active_low,
        },
        other => {
            problems.push(Problem::new(
                format!("{key}.kind"),
                format!("unknown actuator kind {other:?}; known kinds: gpio, simulated"),
            ));
            return None;
        }
    };
    Some(ActuatorConfig {
        name: name?,
        room: room?,
        device: device?,
        safe_state: safe_state?,
        output,
    })
}

fn required_line(key: &str, line: Option<u32>, problems: &mut Vec<Problem>) -> Option<u32> {
    if line.is_none() {
        problems.push(Problem::new(
            format!("{key}.line"),
            "required key is missing for kind \"gpio\"",
        ));
    }
    line
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

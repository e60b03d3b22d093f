//! `[control]`, the actuators' timing and `kind = "mqtt"`, and a full valid set of loops:
//! defaults, and what each bad input gets. Bad `[[loops]]` are in `loops.rs`.

use std::time::Duration;

use farm_protocol::Metric;

use super::{only_problem, parse_ok, problems};
use crate::config::ActuatorOutput;
use crate::control::{ActuatorTiming, Direction, LoopKind, LoopSpec};

/// The broker on, so that `mqtt` actuators are allowed.
const MQTT_ON: &str = "[mqtt]\nenabled = true\nallow_anonymous = true\n";

/// An actuator named `name` of `device`, simulated, with `extra` keys.
pub(super) fn actuator(name: &str, device: &str, extra: &str) -> String {
    format!(
        "[[actuators]]\nname = \"{name}\"\nroom = \"r\"\ndevice = \"{device}\"\n\
         kind = \"simulated\"\n{extra}\n"
    )
}

/// A config using every loop kind, every `[control]` key and an mqtt actuator.
fn full() -> String {
    [
        MQTT_ON,
        "[control]\nperiod = \"500ms\"\nstale_after = \"2m\"\ntimezone = \"Europe/Amsterdam\"\n\
         command_refresh = \"10s\"\ninterlocks = [[\"heater\", \"cooler\"]]\n",
        &actuator("humidifier", "humidifier", ""),
        &actuator(
            "fan",
            "fresh_air_fan",
            "min_on = \"2m\"\nmin_off = \"0s\"\n",
        ),
        &actuator(
            "heater",
            "heater",
            "max_on = \"40m\"\nmax_on_period = \"1h\"\n",
        ),
        &actuator("cooler", "cooler", ""),
        &actuator("lights", "lights", "safe_state = \"on\"\n"),
        &actuator("mister", "humidifier", "")
            .replace("\"simulated\"", "\"mqtt\"\nnode = \"esp32-a\""),
        "[[loops]]\nname = \"humidity\"\nactuator = \"humidifier\"\nkind = \"pid\"\n\
         metric = \"humidity\"\nsetpoint = 90\nkp = 0.08\nstale_after = \"30s\"\n",
        "[[loops]]\nname = \"co2\"\nactuator = \"fan\"\nkind = \"hysteresis\"\n\
         metric = \"co2\"\nsetpoint = 850.0\nband = 200.0\n",
        "[[loops]]\nname = \"warm\"\nactuator = \"heater\"\nkind = \"pid\"\n\
         metric = \"temperature\"\nsetpoint = 20.0\ndirection = \"raise\"\nkp = 0.0\n\
         ki = 0.0005\nkd = 0.1\nperiod = \"10m\"\n",
        "[[loops]]\nname = \"cool\"\nactuator = \"cooler\"\nkind = \"hysteresis\"\n\
         metric = \"temperature\"\nsetpoint = 22.0\nband = 1.0\n",
        "[[loops]]\nname = \"day\"\nactuator = \"lights\"\nkind = \"photoperiod\"\n\
         on_at = \"06:30\"\non_for = \"12h\"\n",
        "[[loops]]\nname = \"misting\"\nactuator = \"mister\"\nkind = \"interval\"\n\
         every = \"15m\"\non_for = \"30s\"\n",
    ]
    .concat()
}

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn every_loop_kind_parses_with_its_defaults() {
    let config = parse_ok(&full());
    let names: Vec<&str> = config.actuators.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["humidifier", "fan", "heater", "cooler", "lights", "mister"]
    );
    let spec = |name: &str, actuator: usize, kind: LoopKind| LoopSpec {
        name: name.to_owned(),
        actuator,
        kind,
    };
    let expected = vec![
        spec(
            "humidity",
            0,
            LoopKind::Pid {
                metric: Metric::Humidity,
                setpoint: 90.0,
                direction: Direction::Raise,
                kp: 0.08,
                ki: 0.0,
                kd: 0.0,
                period: secs(300),
                stale_after: secs(30),
            },
        ),
        spec(
            "co2",
            1,
            LoopKind::Hysteresis {
                metric: Metric::Co2,
                setpoint: 850.0,
                band: 200.0,
                direction: Direction::Lower,
                stale_after: secs(120),
            },
        ),
        spec(
            "warm",
            2,
            LoopKind::Pid {
                metric: Metric::Temperature,
                setpoint: 20.0,
                direction: Direction::Raise,
                kp: 0.0,
                ki: 0.0005,
                kd: 0.1,
                period: secs(600),
                stale_after: secs(120),
            },
        ),
        spec(
            "cool",
            3,
            LoopKind::Hysteresis {
                metric: Metric::Temperature,
                setpoint: 22.0,
                band: 1.0,
                direction: Direction::Lower,
                stale_after: secs(120),
            },
        ),
        spec(
            "day",
            4,
            LoopKind::Photoperiod {
                on_at: secs(6 * 3600 + 30 * 60),
                on_for: secs(12 * 3600),
            },
        ),
        spec(
            "misting",
            5,
            LoopKind::Interval {
                every: secs(900),
                on_for: secs(30),
            },
        ),
    ];
    assert_eq!(config.control.loops, expected);
    assert_eq!(config.control.period, Duration::from_millis(500));
    assert_eq!(config.control.command_refresh, secs(10));
    assert_eq!(
        config.control.timezone.iana_name(),
        Some("Europe/Amsterdam")
    );
    assert_eq!(config.control.interlocks, [[2, 3]]);
}

#[test]
fn actuator_timing_defaults_and_budget() {
    let config = parse_ok(&full());
    let timing: Vec<ActuatorTiming> = config.actuators.iter().map(|a| a.timing).collect();
    let default = ActuatorTiming {
        min_on: secs(30),
        min_off: secs(30),
        max_on: None,
    };
    assert_eq!(timing[0], default);
    assert_eq!(
        timing[1],
        ActuatorTiming {
            min_on: secs(120),
            min_off: Duration::ZERO,
            max_on: None
        }
    );
    assert_eq!(
        timing[2],
        ActuatorTiming {
            max_on: Some((secs(2400), secs(3600))),
            ..default
        }
    );
}

#[test]
fn mqtt_actuators_name_their_node_and_default_the_command_to_the_device() {
    let config = parse_ok(&full());
    assert_eq!(
        config.actuators[5].output,
        ActuatorOutput::Mqtt {
            node: "esp32-a".into(),
            command: "humidifier".into()
        }
    );
    let text = format!(
        "{MQTT_ON}{}",
        actuator("m", "lights", "node = \"n1\"\ncommand = \"lamp-2\"\n")
            .replace("\"simulated\"", "\"mqtt\"")
    );
    assert_eq!(
        parse_ok(&text).actuators[0].output,
        ActuatorOutput::Mqtt {
            node: "n1".into(),
            command: "lamp-2".into()
        }
    );
}

#[test]
fn control_defaults_without_the_section() {
    let config = parse_ok("");
    assert_eq!(config.control.period, secs(1));
    assert_eq!(config.control.command_refresh, secs(30));
    assert_eq!(config.control.timezone, jiff::tz::TimeZone::system());
    assert!(config.control.loops.is_empty() && config.control.interlocks.is_empty());
    // A loop without stale_after gets [control] stale_after's default, 1m.
    let text = format!(
        "{}[[loops]]\nname = \"l\"\nactuator = \"fan\"\nkind = \"hysteresis\"\n\
         metric = \"co2\"\nsetpoint = 800\nband = 100\n",
        actuator("fan", "fresh_air_fan", "")
    );
    let config = parse_ok(&text);
    assert!(
        matches!(config.control.loops[0].kind, LoopKind::Hysteresis { stale_after, .. } if stale_after == secs(60))
    );
}

#[test]
fn bad_control_values() {
    let message = only_problem("[control]\ntimezone = \"Mars/Base\"\n", "control.timezone");
    assert_eq!(
        message,
        "unknown time zone \"Mars/Base\"; use an IANA name such as \"Europe/Amsterdam\""
    );
    let text = "[control]\nperiod = \"50ms\"\nstale_after = \"2d\"\ncommand_refresh = \"0s\"\n";
    let lines: Vec<String> = problems(text).iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "control.period: must be between 100ms and 1m, got 50ms",
            "control.stale_after: must be between 1s and 1day, got 2days",
            "control.command_refresh: must be between 1s and 1h, got 0s",
        ]
    );
}

#[test]
fn interlocks_name_two_or_more_distinct_actuators_whose_safe_state_is_off() {
    let actuators = [
        actuator("heater", "heater", ""),
        actuator("cooler", "cooler", ""),
        actuator("lights", "lights", "safe_state = \"on\"\n"),
    ]
    .concat();
    let interlock = |groups: &str| format!("{actuators}[control]\ninterlocks = {groups}\n");
    let message = only_problem(
        &interlock("[[\"heater\", \"coolr\"]]"),
        "control.interlocks[0][1]",
    );
    assert_eq!(
        message,
        "unknown actuator \"coolr\"; the [[actuators]] are: heater, cooler, lights"
    );
    let message = only_problem(&interlock("[[\"heater\"]]"), "control.interlocks[0]");
    assert!(
        message.starts_with("must list at least two actuators"),
        "{message}"
    );
    let message = only_problem(
        &interlock("[[\"heater\", \"cooler\"], [\"cooler\", \"heater\", \"cooler\"]]"),
        "control.interlocks[1][2]",
    );
    assert_eq!(
        message,
        "duplicate actuator \"cooler\" (also interlocks[1][0])"
    );
    let message = only_problem(
        &interlock("[[\"heater\", \"lights\"]]"),
        "control.interlocks[0][1]",
    );
    assert!(
        message.starts_with(
            "\"lights\" has safe_state = \"on\"; an interlocked actuator's safe state must be off"
        ),
        "{message}"
    );
}

#[test]
fn max_on_needs_a_period_it_fits_in_and_a_safe_state_of_off() {
    let heater = |extra: &str| actuator("heater", "heater", extra);
    let message = only_problem(&heater("max_on = \"10m\"\n"), "actuators[0].max_on_period");
    assert!(message.starts_with("required key is missing"), "{message}");
    let message = only_problem(&heater("max_on_period = \"1h\"\n"), "actuators[0].max_on");
    assert!(message.starts_with("required key is missing"), "{message}");
    let message = only_problem(
        &heater("max_on = \"1h\"\nmax_on_period = \"1h\"\n"),
        "actuators[0].max_on",
    );
    assert_eq!(message, "must be shorter than max_on_period (1h), got 1h");
    let message = only_problem(
        &heater("max_on = \"10s\"\nmax_on_period = \"1h\"\n"),
        "actuators[0].max_on",
    );
    assert_eq!(message, "must be at least min_on (30s), got 10s");
    let message = only_problem(
        &heater("max_on = \"0s\"\nmax_on_period = \"1h\"\nmin_on = \"0s\"\n"),
        "actuators[0].max_on",
    );
    assert_eq!(message, "must be longer than 0s");
    let message = only_problem(
        &heater("max_on = \"1h\"\nmax_on_period = \"2d\"\n"),
        "actuators[0].max_on_period",
    );
    assert_eq!(message, "must be at most 24h, got 2days");
    let message = only_problem(
        &heater("safe_state = \"on\"\nmax_on = \"10m\"\nmax_on_period = \"1h\"\n"),
        "actuators[0].max_on",
    );
    assert!(
        message.starts_with("not allowed with safe_state = \"on\": an actuator whose safe state is on cannot have an on-time budget"),
        "{message}"
    );
    let message = only_problem(&heater("min_off = \"2h\"\n"), "actuators[0].min_off");
    assert_eq!(message, "must be between 0s and 1h, got 2h");
}

#[test]
fn mqtt_actuators_need_a_node_and_the_broker() {
    let mqtt =
        |extra: &str| actuator("mister", "humidifier", extra).replace("\"simulated\"", "\"mqtt\"");
    let message = only_problem(&format!("{MQTT_ON}{}", mqtt("")), "actuators[0].node");
    assert_eq!(message, "required key is missing for kind \"mqtt\"");
    let message = only_problem(&mqtt("node = \"n1\"\n"), "actuators[0].kind");
    assert!(message.contains("set [mqtt] enabled = true"), "{message}");
    let message = only_problem(
        &format!("{MQTT_ON}{}", mqtt("node = \"n1\"\nline = 4\n")),
        "actuators[0].line",
    );
    assert_eq!(
        message,
        "not allowed here: it does not apply to kind \"mqtt\""
    );
    let keys: Vec<String> = problems(&format!(
        "{MQTT_ON}{}",
        mqtt("node = \"n/1\"\ncommand = \"+\"\n")
    ))
    .into_iter()
    .map(|p| p.key)
    .collect();
    assert_eq!(keys, ["actuators[0].node", "actuators[0].command"]);
    let twice = format!(
        "{MQTT_ON}{}{}",
        mqtt("node = \"n1\"\n"),
        mqtt("node = \"n1\"\n").replace("\"mister\"", "\"fogger\"")
    );
    let message = only_problem(&twice, "actuators[1].node");
    assert_eq!(
        message,
        "farm/r/n1/cmd/humidifier is already switched by actuators[0]"
    );
}

#[test]
fn node_and_command_only_apply_to_mqtt() {
    let text = actuator("fan", "fresh_air_fan", "node = \"n1\"\nline = 4\n")
        .replace("\"simulated\"", "\"gpio\"");
    let message = only_problem(&text, "actuators[0].node");
    assert_eq!(
        message,
        "not allowed here: it does not apply to kind \"gpio\""
    );
    let message = only_problem(
        &actuator("fan", "fresh_air_fan", "command = \"fan\"\n"),
        "actuators[0].command",
    );
    assert_eq!(
        message,
        "not allowed here: it does not apply to kind \"simulated\""
    );
}

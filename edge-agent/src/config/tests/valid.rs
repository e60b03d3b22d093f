//! `parse` of valid files: the example, defaults, every value set.

use std::path::PathBuf;
use std::time::Duration;

use farm_protocol::Metric;

use super::super::{
    ActuatorOutput, AgentConfig, LogLevel, OutboxSettings, SensorKind, SimulationConfig,
    Synchronous, EXAMPLE,
};
use super::parse_ok;

const CLIMATE: [Metric; 3] = [Metric::Temperature, Metric::Humidity, Metric::Co2];

#[test]
fn example_parses_with_the_demo_rooms_and_sensors() {
    let config = parse_ok(EXAMPLE);
    assert_eq!(config.path, PathBuf::from("config.toml"));
    assert_eq!(config.agent.device_id, "demo-farm-01");
    assert_eq!(config.agent.data_dir, PathBuf::from("./farm-data"));
    let sensors: Vec<(&str, &str, Duration, &[Metric])> = config
        .sensors
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.room.as_str(),
                s.interval,
                s.kind.metrics(),
            )
        })
        .collect();
    assert_eq!(
        sensors,
        vec![
            (
                "fruiting-1-climate",
                "fruiting-1",
                Duration::from_secs(5),
                &CLIMATE[..]
            ),
            (
                "fruiting-1-light",
                "fruiting-1",
                Duration::from_secs(10),
                &[Metric::Light][..]
            ),
            (
                "incubation-1-climate",
                "incubation-1",
                Duration::from_secs(5),
                &CLIMATE[..]
            ),
        ]
    );
    assert!(config.sensors.iter().all(|s| s.kind.name() == "simulated"));
}

#[test]
fn example_shows_the_defaults_where_the_demo_does_not_differ() {
    let config = parse_ok(EXAMPLE);
    assert_eq!(config.agent.log_level, LogLevel::default());
    assert_eq!(config.outbox, OutboxSettings::default());
    assert_eq!(config.simulation, SimulationConfig::default());
}

#[test]
fn empty_file_gets_every_documented_default() {
    let config = parse_ok("");
    assert_eq!(config.agent.device_id, "edge-01");
    assert_eq!(config.agent.data_dir, PathBuf::from("/var/lib/edge-agent"));
    assert_eq!(config.agent.log_level, LogLevel::Info);
    assert_eq!(config.outbox.commit_interval, Duration::from_millis(250));
    assert_eq!(config.outbox.max_bytes, 256 * 1024 * 1024);
    assert_eq!(
        config.outbox.retain_local,
        Duration::from_secs(7 * 24 * 3600)
    );
    assert_eq!(config.outbox.synchronous, Synchronous::Normal);
    assert_eq!(config.simulation.speed, 1.0);
    assert_eq!(config.simulation.seed, 42);
    assert!(config.sensors.is_empty());
    // The Default impls agree with what a missing key gets.
    assert_eq!(config.agent, AgentConfig::default());
    assert_eq!(config.outbox, OutboxSettings::default());
    assert_eq!(config.simulation, SimulationConfig::default());
}

#[test]
fn sensor_defaults_interval_and_metrics() {
    let config = parse_ok("[[sensors]]\nname = \"a\"\nkind = \"simulated\"\nroom = \"r\"\n");
    assert_eq!(config.sensors[0].interval, Duration::from_secs(5));
    assert_eq!(
        config.sensors[0].kind,
        SensorKind::Simulated {
            metrics: CLIMATE.to_vec()
        }
    );
}

#[test]
fn every_value_can_be_set() {
    let config = parse_ok(
        "[agent]\nlog_level = \"trace\"\n\
         [outbox]\ncommit_interval = \"1s\"\nmax_bytes = \"10MB\"\nretain_local = \"1h 30m\"\n\
         synchronous = \"full\"\n\
         [simulation]\nspeed = 60\nseed = 7\n",
    );
    assert_eq!(config.agent.log_level, LogLevel::Trace);
    assert_eq!(config.outbox.commit_interval, Duration::from_secs(1));
    assert_eq!(config.outbox.max_bytes, 10_000_000);
    assert_eq!(config.outbox.retain_local, Duration::from_secs(5400));
    assert_eq!(config.outbox.synchronous, Synchronous::Full);
    assert_eq!(config.simulation.speed, 60.0);
    assert_eq!(config.simulation.seed, 7);
    // A size may also be a bare number of bytes.
    let config = parse_ok("[outbox]\nmax_bytes = 2000000\n");
    assert_eq!(config.outbox.max_bytes, 2_000_000);
}

#[test]
fn example_mentions_every_key() {
    let keys = [
        "device_id",
        "data_dir",
        "log_level",
        "commit_interval",
        "max_bytes",
        "retain_local",
        "synchronous",
        "speed",
        "seed",
        "name",
        "kind",
        "room",
        "interval",
        "metrics",
        "device",
        "safe_state",
        "min_on",
        "min_off",
        "period",
        "stale_after",
        "command_refresh",
        "actuator",
        "metric",
        "setpoint",
        "band",
        "direction",
        "kp",
        "ki",
        "kd",
    ];
    for key in keys {
        assert!(
            EXAMPLE.contains(&format!("\n{key} = ")),
            "example lacks {key}"
        );
    }
}

#[test]
fn the_commented_examples_are_valid_when_uncommented() {
    let uncommented: String = EXAMPLE
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest)
                if rest.starts_with('[')
                    || rest
                        .split_once(" = ")
                        .is_some_and(|(k, _)| !k.contains(' ')) =>
            {
                rest
            }
            _ => line,
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let config = parse_ok(&uncommented);
    let kinds: Vec<&str> = config.sensors.iter().map(|s| s.kind.name()).collect();
    assert!(
        kinds.contains(&"sht4x") && kinds.contains(&"ads1115_moisture"),
        "{kinds:?}"
    );
    let output = |name: &str| {
        config
            .actuators
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.output.clone())
    };
    assert!(matches!(
        output("incubation-1-heater"),
        Some(ActuatorOutput::Gpio {
            line: 17,
            active_low: true,
            ..
        })
    ));
    assert_eq!(
        output("incubation-1-mister"),
        Some(ActuatorOutput::Mqtt {
            node: "esp32-b".into(),
            command: "mister".into()
        })
    );
    let kinds: Vec<&str> = config.control.loops.iter().map(|l| l.kind.name()).collect();
    assert_eq!(
        kinds,
        ["photoperiod", "interval", "pid", "hysteresis", "pid"]
    );
    let index = |name: &str| {
        let found = config.actuators.iter().position(|a| a.name == name);
        found.unwrap_or_else(|| panic!("no actuator {name}"))
    };
    assert_eq!(
        config.control.interlocks,
        [[index("fruiting-1-heater"), index("fruiting-1-cooler")]]
    );
    assert_eq!(
        config.control.timezone.iana_name(),
        Some("Europe/Amsterdam")
    );
}

#[test]
fn example_regulates_fruiting_1() {
    let config = parse_ok(EXAMPLE);
    let loops: Vec<String> = config
        .control
        .loops
        .iter()
        .map(|l| {
            let actuator = &config.actuators[l.actuator].name;
            format!("{} -> {actuator}: {:?}", l.name, l.kind.setpoint())
        })
        .collect();
    assert_eq!(
        loops,
        [
            "fruiting-1-humidity -> fruiting-1-humidifier: Some((Humidity, 90.0))",
            "fruiting-1-co2 -> fruiting-1-fan: Some((Co2, 850.0))",
            "fruiting-1-temperature -> fruiting-1-heater: Some((Temperature, 20.0))",
        ]
    );
    assert_eq!(config.control.period, Duration::from_secs(1));
    assert_eq!(config.control.command_refresh, Duration::from_secs(30));
    assert!(config.control.interlocks.is_empty());
}

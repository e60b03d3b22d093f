//! `parse` of bad files: one test per kind of bad input, each naming the key and message
//! the operator gets, plus the promise that every problem is listed.

use std::path::Path;
use std::time::Duration;

use super::super::{parse, ConfigError};
use super::{only_problem, parse_ok, problems};

#[test]
fn unknown_top_level_key() {
    let message = only_problem("[agnet]\ndevice_id = \"x\"\n", "agnet");
    assert!(
        message.starts_with("unknown key; expected one of `agent`"),
        "{message}"
    );
}

#[test]
fn unknown_key_in_section() {
    let message = only_problem("[agent]\ncolour = \"green\"\n", "agent.colour");
    assert_eq!(
        message,
        "unknown key; expected one of `device_id`, `data_dir`, `log_level`"
    );
}

#[test]
fn unknown_key_in_sensor() {
    let text =
        "[[sensors]]\nname = \"a\"\nkind = \"simulated\"\nroom = \"r\"\nintervall = \"1s\"\n";
    let message = only_problem(text, "sensors[0].intervall");
    assert!(message.starts_with("unknown key"), "{message}");
}

#[test]
fn missing_required_sensor_key() {
    let message = only_problem(
        "[[sensors]]\nname = \"a\"\nroom = \"r\"\n",
        "sensors[0].kind",
    );
    assert_eq!(message, "required key is missing");
}

#[test]
fn wrong_type_integer_duration() {
    let message = only_problem(
        "[outbox]\ncommit_interval = 250\n",
        "outbox.commit_interval",
    );
    assert!(message.contains("invalid type: integer `250`"), "{message}");
    assert!(message.contains("duration string with a unit"), "{message}");
}

#[test]
fn wrong_type_section_and_sensors() {
    let message = only_problem("agent = 5\n", "agent");
    assert!(message.contains("a table of agent settings"), "{message}");
    let message = only_problem("[sensors]\nname = \"a\"\n", "sensors");
    assert!(message.contains("expected an array of tables"), "{message}");
    let text = "[[sensors]]\nname = \"a\"\nkind = \"simulated\"\nroom = \"r\"\nmetrics = [1]\n";
    let message = only_problem(text, "sensors[0].metrics[0]");
    assert!(message.contains("invalid type: integer `1`"), "{message}");
}

#[test]
fn bad_duration() {
    let message = only_problem("[outbox]\nretain_local = \"fast\"\n", "outbox.retain_local");
    assert!(
        message.starts_with("invalid duration \"fast\": "),
        "{message}"
    );
}

#[test]
fn bad_size() {
    let message = only_problem("[outbox]\nmax_bytes = \"12XB\"\n", "outbox.max_bytes");
    assert_eq!(
        message,
        "invalid size \"12XB\": unknown unit XB; use B, KB, KiB, MB, MiB, GB, GiB"
    );
}

#[test]
fn out_of_range_values_are_all_reported() {
    let text = "[outbox]\ncommit_interval = \"11s\"\nmax_bytes = \"512KiB\"\n\
                [simulation]\nspeed = 0\n\
                [[sensors]]\nname = \"a\"\nkind = \"simulated\"\nroom = \"r\"\ninterval = \"50ms\"\n\
                [[sensors]]\nname = \"b\"\nkind = \"simulated\"\nroom = \"r\"\ninterval = \"2h\"\n";
    let found = problems(text);
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec![
            "outbox.commit_interval: must be between 1ms and 10s, got 11s",
            "outbox.max_bytes: must be at least 1MiB, got 512KiB",
            "simulation.speed: must be greater than 0 and at most 10000, got 0",
            "sensors[0].interval: must be between 100ms and 1h, got 50ms",
            "sensors[1].interval: must be between 100ms and 1h, got 2h",
        ]
    );
}

#[test]
fn speed_must_be_finite_and_at_most_10000() {
    for speed in ["nan", "inf", "-1.0", "10000.5"] {
        let text = format!("[simulation]\nspeed = {speed}\n");
        let message = only_problem(&text, "simulation.speed");
        assert!(message.starts_with("must be greater than 0"), "{message}");
    }
    assert_eq!(
        parse_ok("[simulation]\nspeed = 10000\n").simulation.speed,
        10_000.0
    );
    assert_eq!(
        parse_ok("[outbox]\ncommit_interval = \"1ms\"\n")
            .outbox
            .commit_interval,
        Duration::from_millis(1)
    );
}

#[test]
fn duplicate_sensor_names() {
    let sensor = |name: &str| {
        format!("[[sensors]]\nname = \"{name}\"\nkind = \"simulated\"\nroom = \"r\"\n")
    };
    let text = [sensor("a"), sensor("b"), sensor("a"), sensor("b")].concat();
    let lines: Vec<String> = problems(&text).iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec![
            "sensors[2].name: duplicate sensor name \"a\" (also sensors[0])",
            "sensors[3].name: duplicate sensor name \"b\" (also sensors[1])",
        ]
    );
}

#[test]
fn unknown_sensor_kind_names_the_known_kinds() {
    let text = "[[sensors]]\nname = \"a\"\nkind = \"sht99\"\nroom = \"r\"\n";
    let message = only_problem(text, "sensors[0].kind");
    assert_eq!(
        message,
        "unknown sensor kind \"sht99\"; known kinds: simulated, sht4x, sht3x, scd4x, bme280, \
         bh1750, ads1115_moisture, ds18b20"
    );
}

#[test]
fn unknown_duplicate_and_empty_metrics() {
    let base = "[[sensors]]\nname = \"a\"\nkind = \"simulated\"\nroom = \"r\"\n";
    let message = only_problem(
        &format!("{base}metrics = [\"co2\", \"co3\"]\n"),
        "sensors[0].metrics[1]",
    );
    assert!(
        message.starts_with("unknown metric \"co3\"; known metrics: temperature"),
        "{message}"
    );
    let message = only_problem(
        &format!("{base}metrics = [\"co2\", \"light\", \"co2\"]\n"),
        "sensors[0].metrics[2]",
    );
    assert_eq!(message, "duplicate metric \"co2\" (also metrics[0])");
    let message = only_problem(&format!("{base}metrics = []\n"), "sensors[0].metrics");
    assert_eq!(message, "must list at least one metric");
}

#[test]
fn bad_device_id_sensor_name_and_room() {
    let message = only_problem("[agent]\ndevice_id = \"farm 01\"\n", "agent.device_id");
    assert!(message.contains("contains ' '"), "{message}");
    let message = only_problem("[agent]\ndevice_id = \"\"\n", "agent.device_id");
    assert_eq!(message, "must not be empty");
    let long = "x".repeat(65);
    let message = only_problem(
        &format!("[agent]\ndevice_id = \"{long}\"\n"),
        "agent.device_id",
    );
    assert!(message.contains("65 characters long"), "{message}");
    assert_eq!(
        parse_ok(&format!("[agent]\ndevice_id = \"{}\"\n", "x".repeat(64)))
            .agent
            .device_id
            .len(),
        64
    );
    let text = "[[sensors]]\nname = \"a/b\"\nkind = \"simulated\"\nroom = \" \"\n";
    let keys: Vec<String> = problems(text).into_iter().map(|p| p.key).collect();
    assert_eq!(keys, vec!["sensors[0].name", "sensors[0].room"]);
    for room in ["a/b", "fruiting+", "#"] {
        let text = format!("[[sensors]]\nname = \"s\"\nkind = \"simulated\"\nroom = \"{room}\"\n");
        let message = only_problem(&text, "sensors[0].room");
        assert!(
            message.contains("a room is an MQTT topic level"),
            "{room}: {message}"
        );
    }
}

#[test]
fn bad_log_level_synchronous_and_empty_data_dir() {
    let text =
        "[agent]\nlog_level = \"verbose\"\ndata_dir = \"\"\n[outbox]\nsynchronous = \"off\"\n";
    let lines: Vec<String> = problems(text).iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec![
            "agent.data_dir: must not be empty; use e.g. \"/var/lib/edge-agent\" or \"./farm-data\"",
            "agent.log_level: unknown log level \"verbose\"; use one of error, warn, info, debug, trace",
            "outbox.synchronous: unknown synchronous mode \"off\"; use \"normal\" or \"full\"",
        ]
    );
}

#[test]
fn three_problems_in_three_places_are_all_displayed() {
    let text = "[agent]\ncolour = \"green\"\n\
                [outbox]\ncommit_interval = \"fast\"\n\
                [[sensors]]\nname = \"a\"\nkind = \"simulated\"\nroom = \"r\"\n\
                [[sensors]]\nname = \"a\"\nkind = \"simulated\"\nroom = \"r\"\n";
    let err = parse(Path::new("/etc/edge-agent/config.toml"), text).expect_err("three problems");
    let shown = err.to_string();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 3, "{shown}");
    assert!(
        lines[0].starts_with("/etc/edge-agent/config.toml: agent.colour: unknown key"),
        "{shown}"
    );
    assert!(
        lines[1].starts_with(
            "/etc/edge-agent/config.toml: outbox.commit_interval: invalid duration \"fast\": "
        ),
        "{shown}"
    );
    assert_eq!(
        lines[2],
        "/etc/edge-agent/config.toml: sensors[1].name: duplicate sensor name \"a\" (also sensors[0])"
    );
    assert_eq!(err.problems().len(), 3);
}

#[test]
fn one_bad_sensor_does_not_hide_the_others() {
    let text = "[[sensors]]\nname = \"a\"\nkind = \"simulated\"\nroom = \"r\"\ninterval = 5\n\
                [[sensors]]\nname = \"b\"\nkind = \"simulated\"\nroom = \"r\"\nmetrics = [\"co3\"]\n";
    let keys: Vec<String> = problems(text).into_iter().map(|p| p.key).collect();
    assert_eq!(keys, vec!["sensors[0].interval", "sensors[1].metrics[0]"]);
}

#[test]
fn syntax_error_reports_line_and_column() {
    // An unquoted string; the error points at its first character.
    let text = "[agent]\ndevice_id = \"a\"\nlog_level = info\n";
    match parse(Path::new("config.toml"), text) {
        Err(
            err @ ConfigError::Syntax {
                line: 3,
                column: 13,
                ..
            },
        ) => {
            let shown = err.to_string();
            assert!(
                shown.starts_with("config.toml:3:13: TOML syntax error: "),
                "{shown}"
            );
            assert!(!shown.contains('\n'), "{shown}");
        }
        other => panic!("expected a syntax error on line 3, got {other:?}"),
    }
}

#[test]
fn duplicate_toml_key_is_a_syntax_error_with_its_line() {
    let text = "[agent]\ndevice_id = \"a\"\n\ndevice_id = \"b\"\n";
    let err = parse(Path::new("config.toml"), text).expect_err("duplicate key");
    assert!(
        matches!(err, ConfigError::Syntax { line: 4, .. }),
        "{err:?}"
    );
}

#[test]
fn every_bad_key_of_one_table_is_reported() {
    let text = "[agent]\ncolour = \"green\"\ndevice_id = \"a b\"\nlog_level = \"loud\"\n\
                [outbox]\ncommit_interval = 250\nmax_bytes = \"1KiB\"\nsize = 1\n";
    let keys: Vec<String> = problems(text).into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        vec![
            "agent.colour",
            "agent.device_id",
            "agent.log_level",
            "outbox.commit_interval",
            "outbox.size",
            "outbox.max_bytes",
        ]
    );
}

#[test]
fn every_missing_or_bad_required_sensor_key_is_reported_once() {
    let found = problems("[[sensors]]\nname = 5\n");
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec![
            "sensors[0].name: invalid type: integer `5`, expected a string",
            "sensors[0].kind: required key is missing",
            "sensors[0].room: required key is missing",
        ]
    );
}

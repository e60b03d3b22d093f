//! `[panel]`: defaults, the ranges of its durations and counts, `[[panel.users]]` with every
//! bad or missing key named, hashes checked by parsing them, and the commented example in
//! `example.toml` valid once uncommented.

use std::time::Duration;

use super::super::{PanelConfig, PanelUser, EXAMPLE};
use super::{only_problem, parse_ok, problems};

/// A real argon2id hash (of no known password), as `edge-agent mqtt hash-password` prints.
const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$2gdP9fAXlCq9FOSXuzdMqw$M6YQ8dIowZGPH2D7Q8GBLbI1EeXFbaoeCWuQ6rxnK4Q";

fn user(name: &str) -> String {
    user_toml(&format!("{name:?}"))
}

/// A user whose name is the TOML string `name` as written.
fn user_toml(name: &str) -> String {
    format!("[[panel.users]]\nname = {name}\npassword_hash = \"{HASH}\"\n")
}

#[test]
fn the_panel_defaults_to_no_users_12h_sessions_5_failures_15m() {
    let expected = PanelConfig {
        users: Vec::new(),
        session_ttl: Duration::from_secs(12 * 3600),
        max_failures: 5,
        lockout: Duration::from_secs(15 * 60),
    };
    assert_eq!(parse_ok("").panel, expected);
    assert_eq!(parse_ok("[panel]\n").panel, expected);
    assert_eq!(parse_ok(EXAMPLE).panel, expected);
    assert_eq!(PanelConfig::default(), expected);
}

#[test]
fn every_key_is_read() {
    let text = format!(
        "[panel]\nsession_ttl = \"30m\"\nmax_failures = 3\nlockout = \"1h\"\n{}{}",
        user("manager"),
        user("Anna Müller")
    );
    let panel = parse_ok(&text).panel;
    assert_eq!(panel.session_ttl, Duration::from_secs(1800));
    assert_eq!(panel.max_failures, 3);
    assert_eq!(panel.lockout, Duration::from_secs(3600));
    let users = [
        PanelUser {
            name: "manager".into(),
            password_hash: HASH.into(),
        },
        PanelUser {
            name: "Anna Müller".into(),
            password_hash: HASH.into(),
        },
    ];
    assert_eq!(panel.users, users);
}

#[test]
fn the_commented_example_is_valid_once_uncommented() {
    let start = EXAMPLE.find("# [panel]").expect("an example [panel] block");
    let block: String = EXAMPLE[start..]
        .lines()
        .take_while(|line| !line.is_empty())
        .map(|line| {
            line.strip_prefix("# ")
                .unwrap_or(line.trim_start_matches('#'))
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let panel = parse_ok(&block).panel;
    assert_eq!(panel.users.len(), 1);
    assert_eq!(panel.users[0].name, "manager");
    assert_eq!(panel.session_ttl, Duration::from_secs(12 * 3600));
}

#[test]
fn durations_and_counts_are_range_checked() {
    for (text, key, says) in [
        (
            "session_ttl = \"4m\"",
            "panel.session_ttl",
            "between 5m and 30days",
        ),
        (
            "session_ttl = \"31d\"",
            "panel.session_ttl",
            "between 5m and 30days",
        ),
        ("lockout = \"59s\"", "panel.lockout", "between 1m and 1day"),
        ("lockout = \"25h\"", "panel.lockout", "got 1day 1h"),
        (
            "max_failures = 0",
            "panel.max_failures",
            "between 1 and 100, got 0",
        ),
        (
            "max_failures = 101",
            "panel.max_failures",
            "between 1 and 100, got 101",
        ),
    ] {
        let message = only_problem(&format!("[panel]\n{text}\n"), key);
        assert!(message.contains(says), "{text}: {message}");
    }
    for (text, key) in [
        ("session_ttl = 3600", "panel.session_ttl"),
        ("max_failures = -1", "panel.max_failures"),
        ("lockout = \"soon\"", "panel.lockout"),
        ("colour = \"green\"", "panel.colour"),
    ] {
        only_problem(&format!("[panel]\n{text}\n"), key);
    }
    for good in [
        "session_ttl = \"5m\"",
        "session_ttl = \"30d\"",
        "lockout = \"1m\"",
        "lockout = \"24h\"",
        "max_failures = 1",
        "max_failures = 100",
    ] {
        parse_ok(&format!("[panel]\n{good}\n"));
    }
}

#[test]
fn a_bad_name_says_what_is_wrong() {
    let long = format!("\"{}\"", "n".repeat(65));
    for (name, says) in [
        ("\"\"", "must not be empty"),
        ("\"a\\tb\"", "control character"),
        ("\"a\\u007f\"", "control character"),
        ("\" manager\"", "starts or ends with a space"),
        ("\"manager \"", "starts or ends with a space"),
        (&long, "at most 64 are allowed"),
    ] {
        let message = only_problem(&user_toml(name), "panel.users[0].name");
        assert!(message.contains(says), "{name:?}: {message}");
    }
    parse_ok(&user(&"n".repeat(64)));
}

#[test]
fn a_hash_must_parse_as_an_affordable_argon2_hash() {
    for (hash, says) in [
        ("hunter2", "not an argon2 PHC string"),
        ("$argon2id$...", "not an argon2 PHC string"),
        (
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "not an argon2 PHC string",
        ),
        (
            "$pbkdf2-sha256$i=1000$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "is not argon2",
        ),
        ("$argon2id$v=19$m=19456,t=2,p=1$2gdP9fAXlCq9FOSXuzdMqw", "missing"),
        (
            "$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
            "memory cost m=1048576 KiB",
        ),
        (
            "$argon2id$v=19$m=19456,t=50,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
            "time cost t=50",
        ),
    ] {
        let text = format!("[[panel.users]]\nname = \"m\"\npassword_hash = {hash:?}\n");
        let message = only_problem(&text, "panel.users[0].password_hash");
        assert!(message.contains(says), "{hash}: {message}");
        assert!(message.contains("edge-agent mqtt hash-password"), "{message}");
    }
}

#[test]
fn duplicates_missing_and_unknown_keys_are_named() {
    let text = format!("{}{}{}", user("a"), user("b"), user("a"));
    let message = only_problem(&text, "panel.users[2].name");
    assert_eq!(message, "duplicate user \"a\" (also panel.users[0])");

    let found = problems("[[panel.users]]\n[[panel.users]]\nname = \"b\"\n");
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "panel.users[0].name",
            "panel.users[0].password_hash",
            "panel.users[1].password_hash"
        ]
    );
    assert!(found.iter().all(|p| p.message == "required key is missing"));

    let message = only_problem(
        &format!("{}role = \"admin\"\n", user("a")),
        "panel.users[0].role",
    );
    assert!(message.starts_with("unknown key"), "{message}");
    let message = only_problem("panel = 3\n", "panel");
    assert!(message.contains("invalid type"), "{message}");
}

//! `[sync]`: defaults, each bad value with its key, and the token and CA files `load` reads.

use std::fs;
use std::path::Path;
use std::time::Duration;

use super::super::{load, read_token};
use super::{only_problem, parse_ok, problems};

const ENABLED: &str = "[sync]\nenabled = true\nurl = \"https://sync.example.com\"\ntoken_file = \"/etc/edge-agent/token\"\n";

#[test]
fn sync_is_off_by_default_and_defaults_are_documented_values() {
    assert_eq!(parse_ok("").sync, None);
    let sync = parse_ok(ENABLED).sync.expect("enabled");
    assert_eq!(sync.url.as_str(), "https://sync.example.com/");
    assert_eq!(sync.token_file, Path::new("/etc/edge-agent/token"));
    assert_eq!(sync.ca_file, None);
    assert_eq!(sync.batch_readings, 5000);
    assert_eq!(sync.batch_events, 1000);
    assert_eq!(sync.interval, Duration::from_secs(5));
    assert_eq!(sync.timeout, Duration::from_secs(30));
    assert_eq!(sync.max_backoff, Duration::from_secs(300));
    assert_eq!(sync.gzip_level, 1);
}

#[test]
fn batches_go_to_v1_batches_under_the_base_url_keeping_its_path() {
    for (url, expected) in [
        (
            "https://sync.example.com",
            "https://sync.example.com/v1/batches",
        ),
        ("http://10.0.0.5:8080/", "http://10.0.0.5:8080/v1/batches"),
        (
            "https://cloud.example.com/farm/",
            "https://cloud.example.com/farm/v1/batches",
        ),
    ] {
        let text = ENABLED.replace("https://sync.example.com", url);
        let sync = parse_ok(&text).sync.expect("enabled");
        assert_eq!(sync.batches_url().as_str(), expected);
    }
}

#[test]
fn url_and_token_file_are_required_only_when_enabled() {
    assert_eq!(parse_ok("[sync]\nenabled = false\n").sync, None);
    let found = problems("[sync]\nenabled = true\n");
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["sync.url", "sync.token_file"]);
    assert!(found[0]
        .message
        .contains("required key is missing when [sync] enabled = true"));
}

#[test]
fn a_bad_url_says_what_a_good_one_looks_like() {
    for (url, says) in [
        ("sync.example.com", "is not a URL"),
        ("ftp://sync.example.com", "must start with https://"),
        (
            "https://user:pw@sync.example.com",
            "must not hold credentials",
        ),
        ("https://sync.example.com/?x=1", "must not have a query"),
    ] {
        let text = ENABLED.replace("https://sync.example.com", url);
        let message = only_problem(&text, "sync.url");
        assert!(message.contains(says), "{url}: {message}");
        assert!(
            !message.contains("pw"),
            "credentials are not echoed: {message}"
        );
    }
    // A bad URL is reported even while the uplink is off.
    only_problem("[sync]\nurl = \"nowhere\"\n", "sync.url");
}

#[test]
fn each_bad_number_or_duration_gets_its_own_problem() {
    let text = "[sync]\nbatch_readings = 5001\nbatch_events = 0\ninterval = \"10ms\"\ntimeout = \"2h\"\nmax_backoff = \"500ms\"\ngzip_level = 10\ntoken_file = \"\"\n";
    let found = problems(text);
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "sync.batch_readings",
            "sync.batch_events",
            "sync.interval",
            "sync.timeout",
            "sync.max_backoff",
            "sync.gzip_level",
            "sync.token_file"
        ]
    );
    assert_eq!(found[0].message, "must be between 1 and 5000, got 5001");
    assert!(only_problem("[sync]\ninterval = 5\n", "sync.interval").contains("unit"));
    assert!(only_problem("[sync]\nretries = 5\n", "sync.retries").contains("unknown key"));
    assert!(only_problem("[sync]\ngzip_level = -1\n", "sync.gzip_level").contains("invalid"));
}

/// A temp dir with `config.toml` holding `[sync]` (enabled, with `extra` keys) and a data dir.
fn load_with(extra: &str) -> (tempfile::TempDir, Result<super::Config, super::ConfigError>) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let text = format!(
        "[agent]\ndata_dir = '{}'\n[sync]\nenabled = true\nurl = \"https://sync.example.com\"\n{extra}",
        tmp.path().join("data").display()
    );
    let path = tmp.path().join("config.toml");
    fs::write(&path, text).expect("write config");
    let result = load(&path);
    (tmp, result)
}

/// The one problem of a failed `load`, as (key, message).
fn load_problem(extra: &str) -> (String, String) {
    let (_tmp, result) = load_with(extra);
    let err = result.expect_err("expected a problem");
    let found = err.problems();
    assert_eq!(found.len(), 1, "{found:?}");
    (found[0].key.clone(), found[0].message.clone())
}

#[test]
fn load_reads_the_token_file_and_refuses_a_missing_or_empty_one() {
    let secret = tempfile::tempdir().expect("temp dir");
    let token = secret.path().join("token");
    fs::write(&token, "  tok-123\n").expect("write token");
    let (_tmp, result) = load_with(&format!("token_file = '{}'\n", token.display()));
    assert_eq!(
        result.expect("valid").sync.expect("enabled").token_file,
        token
    );
    assert_eq!(read_token(&token).expect("token").expose(), "tok-123");

    let missing = secret.path().join("absent");
    let (key, message) = load_problem(&format!("token_file = '{}'\n", missing.display()));
    assert_eq!(key, "sync.token_file");
    assert!(
        message.contains("cannot read the device token"),
        "{message}"
    );

    let empty = secret.path().join("empty");
    fs::write(&empty, " \n").expect("write empty token");
    let (key, message) = load_problem(&format!("token_file = '{}'\n", empty.display()));
    assert_eq!(key, "sync.token_file");
    assert!(message.contains("is empty"), "{message}");

    let spaced = secret.path().join("spaced");
    fs::write(&spaced, "two words").expect("write token");
    let (_, message) = load_problem(&format!("token_file = '{}'\n", spaced.display()));
    assert!(message.contains("printable ASCII"), "{message}");
    assert!(
        !message.contains("words"),
        "the token is never quoted: {message}"
    );
}

#[test]
fn load_refuses_a_missing_or_bad_ca_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = dir.path().join("token");
    fs::write(&token, "tok").expect("write token");
    let token_key = format!("token_file = '{}'\n", token.display());

    let missing = dir.path().join("ca.pem");
    let (key, message) = load_problem(&format!("{token_key}ca_file = '{}'\n", missing.display()));
    assert_eq!(key, "sync.ca_file");
    assert!(message.contains("cannot read the CA bundle"), "{message}");

    let junk = dir.path().join("junk.pem");
    fs::write(&junk, "not a certificate\n").expect("write junk");
    let (key, message) = load_problem(&format!("{token_key}ca_file = '{}'\n", junk.display()));
    assert_eq!(key, "sync.ca_file");
    assert!(message.contains("no PEM certificate"), "{message}");

    let bad = dir.path().join("bad.pem");
    fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .expect("write bad pem");
    let (key, _) = load_problem(&format!("{token_key}ca_file = '{}'\n", bad.display()));
    assert_eq!(key, "sync.ca_file");
}

#[test]
fn the_token_is_redacted_in_debug_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = dir.path().join("token");
    fs::write(&token, "tok-very-secret").expect("write token");
    let shown = format!("{:?}", read_token(&token).expect("token"));
    assert_eq!(shown, "DeviceToken(<redacted>)");
}

//! Each bad config gets a message naming its key; a minimal config gets the documented
//! defaults.
use std::path::Path;
use std::time::Duration;

use super::*;

const MINIMAL: &str = r#"
[postgres]
url = "postgres://sync@127.0.0.1:5432/farm"

[influxdb]
api = "v1"
url = "http://127.0.0.1:8086"
database = "farm"
"#;

fn parse(text: &str) -> Result<Config, String> {
    Config::parse(Path::new("sync.toml"), text).map_err(|e| e.to_string())
}

#[test]
fn a_minimal_config_gets_the_documented_defaults() {
    let config = parse(MINIMAL).unwrap();
    assert_eq!(config.http.listen.to_string(), "127.0.0.1:8470");
    assert_eq!(config.http.max_body_mib, 16);
    assert_eq!(config.http.max_decompressed_mib, 64);
    assert_eq!(config.http.request_timeout, Duration::from_secs(60));
    assert_eq!(config.postgres.pool_size, 8);
    assert_eq!(config.influxdb.api, InfluxApi::V1);
    assert_eq!(config.influxdb.timeout, Duration::from_secs(30));
}

/// A config with `http` as the body of `[http]`, and `postgres` / `influxdb` replacing the
/// minimal config's lines that start with the same key.
fn with(http: &str, postgres: &str, influxdb: &str) -> String {
    let mut text = format!("[http]\n{http}\n{MINIMAL}");
    for (section, line) in [("[postgres]", postgres), ("[influxdb]", influxdb)] {
        let Some((key, _)) = line.split_once(" = ") else {
            continue;
        };
        let start = text.find(section).unwrap();
        let old = text[start..]
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .map(|l| l.to_owned());
        text = match old {
            Some(old) => text.replacen(&old, line, 1),
            None => text.replacen(section, &format!("{section}\n{line}"), 1),
        };
    }
    text
}

#[test]
fn each_bad_value_is_refused_with_its_key() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("listen = \"nowhere\"", "", "", "http.listen"),
        ("request_timeout = \"soon\"", "", "", "http.request_timeout"),
        ("request_timeout = \"0s\"", "", "", "http.request_timeout"),
        ("max_body_mib = 128", "", "", "http.max_decompressed_mib"),
        ("max_body_mib = 0", "", "", "http.max_decompressed_mib"),
        ("colour = \"red\"", "", "", "http.colour"),
        ("", "url = \"mysql://a@b/c\"", "", "postgres.url"),
        ("", "pool_size = 0", "", "postgres.pool_size"),
        ("", "", "api = \"v3\"", "influxdb.api"),
        ("", "", "url = \"http://127.0.0.1:8086/db\"", "influxdb.url"),
        ("", "", "url = \"ftp://127.0.0.1\"", "influxdb.url"),
        ("", "", "url = \"not a url\"", "influxdb.url"),
        ("", "", "database_x = \"farm\"", "influxdb.database_x"),
        ("", "", "username = \"u\"", "influxdb.password_file"),
        ("", "", "timeout = \"0s\"", "influxdb.timeout"),
    ];
    for (http, postgres, influxdb, key) in cases {
        let text = with(http, postgres, influxdb);
        let error = parse(&text).expect_err(&text);
        assert!(error.contains(key), "{key}: {error}\n---\n{text}");
    }
    let v1_without_db = with("", "", "database = \"farm\"").replace("database = \"farm\"", "");
    let error = parse(&v1_without_db).unwrap_err();
    assert!(error.contains("influxdb.database"), "{error}");
}

#[test]
fn v2_needs_org_bucket_and_token_file() {
    let v2 = MINIMAL
        .replace("api = \"v1\"", "api = \"v2\"")
        .replace("database = \"farm\"", "org = \"acme\"\nbucket = \"farm\"");
    let error = parse(&v2).unwrap_err();
    assert!(error.contains("influxdb.token_file"), "{error}");
    assert!(error.contains("is required with api = \"v2\""), "{error}");
    let complete = v2.replace("bucket = \"farm\"", "bucket = \"farm\"\ntoken_file = \"t\"");
    assert_eq!(parse(&complete).unwrap().influxdb.api, InfluxApi::V2);
}

#[test]
fn a_missing_section_or_file_is_named() {
    let error = parse("[postgres]\nurl = \"postgres://a@b/c\"").unwrap_err();
    assert!(error.contains("influxdb"), "{error}");
    let error = Config::load(Path::new("/nonexistent/sync.toml")).unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/sync.toml"),
        "{error}"
    );
}

//! `[mqtt]` and `[http]`: defaults, and what each bad input gets.

use std::time::Duration;

use super::{only_problem, parse_ok, problems};

#[test]
fn defaults_keep_the_broker_off_and_serve_metrics_on_8080() {
    let config = parse_ok("");
    assert!(!config.mqtt.enabled, "a broker needs users first");
    assert_eq!(config.mqtt.listen.to_string(), "0.0.0.0:1883");
    assert_eq!(config.mqtt.max_payload_bytes, 16 * 1024);
    assert_eq!(config.mqtt.max_connections, 200);
    assert!(
        !config.mqtt.allow_anonymous,
        "anonymous access only when configured"
    );
    assert!(config.mqtt.users.is_empty() && config.mqtt.tls.is_none());
    assert_eq!(config.mqtt.node_timeout, Duration::from_secs(120));
    assert_eq!(config.mqtt.max_clock_skew, Duration::from_secs(300));
    assert_eq!(config.mqtt.max_reading_age, Duration::from_secs(24 * 3600));
    assert_eq!(config.mqtt.state_interval, Duration::from_secs(10));
    assert_eq!(
        config.http.listen.map(|a| a.to_string()).as_deref(),
        Some("0.0.0.0:8080")
    );
    assert_eq!(parse_ok("[http]\nlisten = \"\"\n").http.listen, None);
}

#[test]
fn users_are_names_with_argon2_hashes() {
    let text = "[mqtt]\nenabled = true\n[[mqtt.users]]\nname = \"room-nodes\"\npassword_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA\"\n";
    assert_eq!(parse_ok(text).mqtt.users[0].0, "room-nodes");
    let nobody = only_problem("[mqtt]\nenabled = true\n", "mqtt.users");
    assert!(nobody.contains("no room node could connect"), "{nobody}");
    let both = text.replace("enabled = true", "enabled = true\nallow_anonymous = true");
    assert!(only_problem(&both, "mqtt.allow_anonymous").contains("cannot be combined"));
    let plain = "[[mqtt.users]]\nname = \"n\"\npassword_hash = \"hunter2\"\n";
    let message = only_problem(plain, "mqtt.users[0].password_hash");
    assert!(
        message.contains("edge-agent mqtt hash-password"),
        "{message}"
    );
}

#[test]
fn each_bad_mqtt_key_gets_its_own_problem() {
    let text = "[mqtt]\nlisten = \"everywhere\"\nmax_payload = \"8MiB\"\nmax_connections = 0\ntls_cert = \"/etc/c.pem\"\nnode_timeout = \"0s\"\n";
    let keys: Vec<String> = problems(text).into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        [
            "mqtt.listen",
            "mqtt.tls_key",
            "mqtt.max_payload",
            "mqtt.max_connections",
            "mqtt.node_timeout"
        ]
    );
    assert!(only_problem("[http]\nlisten = \"8080\"\n", "http.listen").contains("not an address"));
}

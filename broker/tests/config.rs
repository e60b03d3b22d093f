//! Config checks, password hashes, and the listener's address handling.

mod common;

use std::net::{SocketAddr, TcpListener};

use farm_broker::{
    hash_password, verify_password, Broker, BrokerConfig, BrokerError, TlsConfig, User,
};

fn start_err(config: BrokerConfig) -> BrokerError {
    match Broker::start(config) {
        Ok(_) => panic!("the broker must refuse this config"),
        Err(e) => e,
    }
}

fn assert_config_field(error: BrokerError, expected: &str) {
    match &error {
        BrokerError::Config { field, .. } => assert_eq!(field, expected, "{error}"),
        other => panic!("expected a config error on {expected}, got {other}"),
    }
    assert!(error.to_string().contains(expected), "{error}");
}

#[test]
fn invalid_password_hash_is_refused_naming_the_user() {
    let mut config = common::config();
    config.users.push(User {
        name: "room2".into(),
        password_hash: "plaintext-password".into(),
    });
    let error = start_err(config);
    assert!(error.to_string().contains("argon2 PHC string"), "{error}");
    assert_config_field(error, "users[1].password_hash");
}

#[test]
fn missing_tls_files_are_refused_naming_the_file() {
    let dir = farm_e2e::temp_dir();
    let config = BrokerConfig {
        tls: Some(TlsConfig {
            cert_path: dir.path().join("missing-cert.pem"),
            key_path: dir.path().join("missing-key.pem"),
        }),
        ..common::config()
    };
    let error = start_err(config);
    assert!(error.to_string().contains("missing-cert.pem"), "{error}");
    assert_config_field(error, "tls.cert_path");
}

#[test]
fn tls_key_file_without_a_key_is_refused() {
    let dir = farm_e2e::temp_dir();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let mut openssl = std::process::Command::new("openssl");
    openssl
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout"])
        .arg(dir.path().join("unused-key.pem"))
        .arg("-out")
        .arg(&cert);
    assert!(common::run(openssl).status.success());
    // A certificate where the key should be.
    std::fs::copy(&cert, &key).expect("copy");
    let error = start_err(BrokerConfig {
        tls: Some(TlsConfig {
            cert_path: cert,
            key_path: key,
        }),
        ..common::config()
    });
    assert_config_field(error, "tls.key_path");
}

#[test]
fn users_and_anonymous_are_exclusive_and_one_is_required() {
    let both = BrokerConfig {
        allow_anonymous: true,
        ..common::config()
    };
    assert_config_field(start_err(both), "allow_anonymous");
    let neither = BrokerConfig {
        users: Vec::new(),
        ..common::config()
    };
    assert_config_field(start_err(neither), "users");
}

#[test]
fn zero_limits_are_refused() {
    let zero_payload = BrokerConfig {
        max_payload_bytes: 0,
        ..common::config()
    };
    assert_config_field(start_err(zero_payload), "max_payload_bytes");
    let tiny_log = BrokerConfig {
        log_segment_bytes: 100,
        ..common::config()
    };
    assert_config_field(start_err(tiny_log), "log_segment_bytes");
}

#[test]
fn hash_password_output_verifies_and_another_password_does_not() {
    let hash = hash_password("correct horse").expect("hash");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(verify_password("correct horse", &hash).expect("valid hash"));
    assert!(!verify_password("battery staple", &hash).expect("valid hash"));
    // A fresh salt each time.
    assert_ne!(hash, hash_password("correct horse").expect("hash"));
    assert!(matches!(
        verify_password("x", "$2b$12$notargon"),
        Err(BrokerError::InvalidHash(_))
    ));
}

#[test]
fn port_zero_reports_distinct_real_ports() {
    let a = common::start();
    let b = common::start();
    assert_ne!(a.local_addr().port(), 0);
    assert_ne!(a.local_addr().port(), b.local_addr().port());
    assert_eq!(
        a.local_addr().ip(),
        SocketAddr::from(([127, 0, 0, 1], 0)).ip()
    );
    assert!(a.is_running() && b.is_running());
    common::MqttClient::logged_in(b.local_addr(), "on-b");
}

#[test]
fn a_port_in_use_is_a_listen_error() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let error = start_err(BrokerConfig {
        listen: addr,
        ..common::config()
    });
    match &error {
        BrokerError::Listen { addr: at, reason } => {
            assert_eq!(*at, addr);
            assert!(reason.contains("in use"), "{error}");
        }
        other => panic!("expected a listen error, got {other}"),
    }
}

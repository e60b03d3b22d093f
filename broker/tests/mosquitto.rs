//! Debian's mosquitto clients (`apt-get install mosquitto-clients openssl`) against the broker.

mod common;

use std::process::Command;

use common::{mosquitto, next_message, run, start, subscribed, PASSWORD};
use farm_broker::{hash_password, Broker, BrokerConfig, TlsConfig, User};

#[test]
fn mosquitto_pub_with_login_delivers_to_a_link() {
    // A hash with the production parameters (m=19 MiB, t=2), as `edge-agent` will write them.
    let broker = Broker::start(BrokerConfig {
        users: vec![User {
            name: common::USER.to_owned(),
            password_hash: hash_password(PASSWORD).expect("hash"),
        }],
        ..common::config()
    })
    .expect("start");
    let mut link = subscribed(&broker, "ingest", "farm/#");
    let mut publish = mosquitto("mosquitto_pub", broker.local_addr(), PASSWORD);
    publish.args(["-q", "1", "-t", "farm/r2/n7/temperature", "-m", "21.4"]);
    let out = run(publish);
    assert!(out.status.success(), "mosquitto_pub failed: {out:?}");
    let message = next_message(&mut link);
    assert_eq!(message.topic, "farm/r2/n7/temperature");
    assert_eq!(message.payload, b"21.4");
}

#[test]
fn mosquitto_pub_with_a_wrong_password_fails() {
    let broker = start();
    let mut publish = mosquitto("mosquitto_pub", broker.local_addr(), "wrong");
    publish.args(["-q", "1", "-t", "farm/r2/n7/temperature", "-m", "21.4"]);
    let out = run(publish);
    assert!(!out.status.success(), "a wrong password must fail: {out:?}");
}

#[test]
fn retained_status_from_a_link_reaches_a_later_mosquitto_sub() {
    let broker = start();
    let mut agent = broker.link("agent-status").expect("link");
    agent
        .publish("farm/agent/status", b"online", true)
        .expect("publish retained");
    // Subscribing only now: what arrives is the retained message.
    let mut subscribe = mosquitto("mosquitto_sub", broker.local_addr(), PASSWORD);
    subscribe.args(["-t", "farm/agent/status", "-C", "1", "-W", "10", "-v"]);
    let out = run(subscribe);
    assert!(out.status.success(), "mosquitto_sub failed: {out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "farm/agent/status online\n"
    );
}

#[test]
fn tls_listener_serves_mosquitto_pub_with_the_servers_ca() {
    let dir = farm_e2e::temp_dir();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let mut openssl = Command::new("openssl");
    openssl
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert);
    let out = run(openssl);
    assert!(out.status.success(), "openssl failed: {out:?}");

    let broker = Broker::start(BrokerConfig {
        tls: Some(TlsConfig {
            cert_path: cert.clone(),
            key_path: key,
        }),
        ..common::config()
    })
    .expect("TLS broker starts");
    let mut link = subscribed(&broker, "ingest", "farm/#");
    let port = broker.local_addr().port().to_string();
    let tls_pub = |host: &str, payload: &str| {
        let mut publish = Command::new("mosquitto_pub");
        publish
            .args(["-h", host, "-p", &port, "-u", common::USER, "-P", PASSWORD])
            .arg("--cafile")
            .arg(&cert)
            .args(["-q", "1", "-t", "farm/r1/n1/humidity", "-m", payload]);
        run(publish)
    };
    // By host name: the certificate is verified against the CA, the message delivered.
    let out = tls_pub("localhost", "91");
    assert!(
        out.status.success(),
        "mosquitto_pub over TLS failed: {out:?}"
    );
    assert_eq!(next_message(&mut link).payload, b"91");

    // By IP address too: mosquitto then sends the IP as SNI, which rumqttd's own TLS
    // (rustls 0.22) refused with a decode_error alert; our front (rustls 0.23) accepts it.
    let out = tls_pub("127.0.0.1", "90");
    assert!(
        out.status.success(),
        "mosquitto_pub by IP over TLS failed: {out:?}"
    );
    assert_eq!(next_message(&mut link).payload, b"90");

    // A client that opens a TCP connection and never starts the handshake blocks nobody.
    let _stalled = std::net::TcpStream::connect(broker.local_addr()).expect("connect");
    let out = tls_pub("localhost", "89");
    assert!(
        out.status.success(),
        "blocked by a stalled TLS client: {out:?}"
    );
    assert_eq!(next_message(&mut link).payload, b"89");

    // Plain MQTT is not spoken on the TLS port.
    let mut plain = mosquitto("mosquitto_pub", broker.local_addr(), PASSWORD);
    plain.args(["-q", "1", "-t", "farm/r1/n1/humidity", "-m", "92"]);
    assert!(
        !run(plain).status.success(),
        "plain MQTT must fail on the TLS port"
    );
}

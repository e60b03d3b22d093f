//! Every bad request to `POST /v1/batches` gets its 4xx with a JSON error code, and nothing
//! is written: no point in InfluxDB, no event, no gap, the watermark unmoved.
#![allow(clippy::unwrap_used)]

mod common;

use common::{gzip, own_batch, post, post_raw};
use farm_e2e::cloud::{Cloud, InfluxApi};
use farm_protocol::Source;

const GZIP: &[(&str, &str)] = &[("content-encoding", "gzip")];

fn json(batch: &farm_protocol::Batch) -> Vec<u8> {
    serde_json::to_vec(batch).unwrap()
}

/// The batch as JSON text with `from` replaced by `to` (for what the types cannot express).
fn edited(from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(json(&own_batch(1, 9))).unwrap();
    assert!(text.contains(from), "{from} not in {text}");
    gzip(text.replacen(from, to, 1).as_bytes())
}

/// What is wrong, the token, the headers, the body, the status and error code expected.
type Case<'a> = (
    &'a str,
    Option<&'a str>,
    &'a [(&'a str, &'a str)],
    Vec<u8>,
    u16,
    &'a str,
);

/// Sends a 100 MB body the way a client does (headers, then the body in 64 KiB writes; with
/// a `Content-Length` or `chunked`) while reading the answer on another thread; returns what
/// came back before the server closed.
fn send_100_mb(addr: &str, token: &str, chunked: bool) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut reader = stream.try_clone().unwrap();
    let answer = std::thread::spawn(move || {
        let mut answer = Vec::new();
        let _ = reader.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    });
    let length = if chunked {
        "Transfer-Encoding: chunked"
    } else {
        "Content-Length: 100000000"
    };
    let head = format!(
        "POST /v1/batches HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Encoding: gzip\r\n{length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut chunk = vec![b'x'; 64 << 10];
    if chunked {
        chunk.splice(0..0, b"10000\r\n".iter().copied());
        chunk.extend_from_slice(b"\r\n");
    }
    let mut sent = 0;
    // The server answers and closes early: a write fails before all is sent.
    while sent < 100_000_000 && stream.write_all(&chunk).is_ok() {
        sent += chunk.len();
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
    answer.join().unwrap()
}

#[tokio::test]
async fn each_bad_batch_gets_its_error_and_nothing_is_written() {
    let cloud = Cloud::start(InfluxApi::V1);
    let other = cloud.provision("acme", "north", "pi-2");
    let good = gzip(&json(&own_batch(1, 9)));
    let mut implausible = own_batch(1, 9);
    implausible.readings[0].value = 140.0;
    let mut outside = own_batch(1, 9);
    outside.readings[0].seq = 10;
    let mut unnamed = own_batch(1, 9);
    unnamed.readings[0].source = Source::Node(String::new());
    let mut too_many = own_batch(1, 5_600);
    too_many.readings.truncate(5_001);
    let too_many = gzip(&json(&too_many));
    // 70 MiB of zeros inflate from a ~70 KiB body: over http.max_decompressed_mib (64).
    let bomb = gzip(&vec![0u8; 70 << 20]);
    let token = cloud.token.as_str();
    let cases: Vec<Case> = vec![
        ("no token", None, GZIP, good.clone(), 401, "unauthorized"),
        (
            "wrong token",
            Some("fdt_0000"),
            GZIP,
            good.clone(),
            401,
            "unauthorized",
        ),
        (
            "another device's token",
            Some(&other),
            GZIP,
            good.clone(),
            403,
            "wrong_device",
        ),
        (
            "malformed gzip",
            Some(token),
            GZIP,
            b"\x1f\x8b\x08\0garbage".to_vec(),
            400,
            "bad_gzip",
        ),
        (
            "plain JSON called gzip",
            Some(token),
            GZIP,
            json(&own_batch(1, 9)),
            400,
            "bad_gzip",
        ),
        (
            "malformed JSON",
            Some(token),
            GZIP,
            gzip(b"{\"schema\": 1, \"device_id\": "),
            400,
            "bad_json",
        ),
        (
            "NaN value",
            Some(token),
            GZIP,
            edited("80.1", "NaN"),
            400,
            "bad_json",
        ),
        (
            "huge number",
            Some(token),
            GZIP,
            edited("80.1", "1e999"),
            400,
            "bad_json",
        ),
        (
            "unknown field",
            Some(token),
            GZIP,
            edited("\"schema\":1", "\"schema\":1,\"x\":2"),
            400,
            "bad_json",
        ),
        (
            "unknown schema",
            Some(token),
            GZIP,
            edited("\"schema\":1", "\"schema\":2"),
            422,
            "unsupported_schema",
        ),
        (
            "no schema",
            Some(token),
            GZIP,
            edited("\"schema\":1,", ""),
            422,
            "unsupported_schema",
        ),
        (
            "implausible value",
            Some(token),
            GZIP,
            gzip(&json(&implausible)),
            422,
            "invalid_batch",
        ),
        (
            "seq outside the range",
            Some(token),
            GZIP,
            gzip(&json(&outside)),
            422,
            "invalid_batch",
        ),
        (
            "empty node name",
            Some(token),
            GZIP,
            gzip(&json(&unnamed)),
            422,
            "invalid_batch",
        ),
        (
            "5,001 readings",
            Some(token),
            GZIP,
            too_many,
            413,
            "too_large",
        ),
        ("gzip bomb", Some(token), GZIP, bomb, 413, "too_large"),
        (
            "brotli",
            Some(token),
            &[("content-encoding", "br")],
            good.clone(),
            415,
            "unsupported_encoding",
        ),
    ];
    for (what, token, headers, body, status, code) in cases {
        let (got, answer) = post_raw(&cloud.addr, token, headers, body).await;
        assert_eq!(got, status, "{what}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{what}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{what}: {answer}");
    }
    // 100 MB as sent: over http.max_body_mib (16), refused while the client is sending.
    for chunked in [false, true] {
        let answer = send_100_mb(&cloud.addr, token, chunked);
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "100 MB, chunked {chunked}: {answer}"
        );
        assert!(answer.contains("\"code\":\"too_large\""), "{answer}");
    }

    assert_eq!(cloud.points("humidity"), 0);
    assert_eq!(cloud.sql("SELECT count(*) FROM device_events"), "0");
    assert_eq!(cloud.sql("SELECT count(*) FROM sync_gaps"), "0");
    assert_eq!(cloud.sql("SELECT max(acked_seq) FROM devices"), "0");
    // The service is still fine: the good batch goes through.
    let (status, answer) = post(&cloud.addr, &cloud.token, &own_batch(1, 9)).await;
    assert_eq!((status, answer), (200, serde_json::json!({"acked_seq": 9})));
    let metrics = farm_e2e::http_request(&cloud.addr, "GET", "/metrics", &[], None).1;
    assert!(
        metrics.contains("farm_sync_batches_rejected_total{code=\"invalid_batch\"} 3"),
        "{metrics}"
    );
}

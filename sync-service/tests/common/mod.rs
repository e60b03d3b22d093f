//! What the sync-service tests share: batches made like the edge makes them, sent gzipped
//! with a device token, and what the service stored.
#![allow(clippy::unwrap_used, dead_code)]

use std::io::Write;

use farm_e2e::cloud::DEVICE;
use farm_protocol::{Batch, Event, EventKind, Metric, Reading, Source, SCHEMA_VERSION};

/// 2024-01-01T00:00:00Z.
pub const T0: i64 = 1_704_067_200_000;

/// A batch of `device` covering `first..=last`: readings at every seq but each tenth, which
/// is an alarm event. Values depend on the seq, so a mix-up shows.
pub fn batch(device: &str, first: u64, last: u64) -> Batch {
    let mut readings = Vec::new();
    let mut events = Vec::new();
    for seq in first..=last {
        let ts = T0 + seq as i64 * 1000;
        if seq % 10 == 0 {
            events.push(Event {
                seq,
                id: uuid::Uuid::from_u128(u128::from(seq) | 0xfeed << 64),
                ts,
                kind: EventKind::Alarm {
                    room: Some("fruiting-1".into()),
                    code: "test".into(),
                    severity: farm_protocol::Severity::Info,
                    active: true,
                    message: format!("event {seq}"),
                },
            });
        } else {
            readings.push(Reading {
                seq,
                ts,
                room: "fruiting-1".into(),
                source: Source::Sensor("sht4x-1".into()),
                metric: Metric::Humidity,
                value: 80.0 + (seq % 100) as f64 / 10.0,
            });
        }
    }
    Batch {
        schema: SCHEMA_VERSION,
        device_id: device.into(),
        first_seq: first,
        last_seq: last,
        readings,
        events,
    }
}

/// The provisioned device's batch.
pub fn own_batch(first: u64, last: u64) -> Batch {
    batch(DEVICE, first, last)
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// POSTs `body` (already encoded) to `/v1/batches` with `token` and `headers`; returns the
/// status and the JSON answer.
pub async fn post_raw(
    addr: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .post(format!("http://{addr}/v1/batches"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, json)
}

/// POSTs `batch` gzipped with `token`, as the edge does.
pub async fn post(addr: &str, token: &str, batch: &Batch) -> (u16, serde_json::Value) {
    let body = gzip(&serde_json::to_vec(batch).unwrap());
    post_raw(addr, Some(token), &[("content-encoding", "gzip")], body).await
}

//! The batch API against real PostgreSQL and InfluxDB: a batch is written once however often
//! it arrives, the watermark and gaps are kept, both InfluxDB APIs work, and the health
//! endpoints tell the truth.
#![allow(clippy::unwrap_used)]

mod common;

use common::{own_batch, post, T0};
use farm_e2e::cloud::{Cloud, InfluxApi, DEVICE, FARM, INFLUX_DB, TENANT};
use farm_e2e::http_request;

/// Readings and events of `own_batch(first, last)`.
fn counts(first: u64, last: u64) -> (u64, u64) {
    let events = (first..=last).filter(|s| s % 10 == 0).count() as u64;
    (last - first + 1 - events, events)
}

async fn a_batch_is_stored_once_however_often_it_arrives(api: InfluxApi) {
    let cloud = Cloud::start(api);
    let batch = own_batch(1, 95);
    let (readings, events) = counts(1, 95);
    for attempt in 0..3 {
        let (status, answer) = post(&cloud.addr, &cloud.token, &batch).await;
        assert_eq!(status, 200, "attempt {attempt}: {answer}");
        assert_eq!(answer, serde_json::json!({"acked_seq": 95}));
        assert_eq!(cloud.points("humidity"), readings, "attempt {attempt}");
        let stored = cloud.sql("SELECT count(*) FROM device_events");
        assert_eq!(stored, events.to_string(), "attempt {attempt}");
    }
    // Tags, field and timestamp as the README's schema says.
    let answer = cloud.influxd.query(
        INFLUX_DB,
        "SELECT value, tenant, farm, device, room, sensor, source FROM humidity \
         WHERE time = 1704067201000ms",
    );
    let row = &answer["results"][0]["series"][0]["values"][0];
    let expected = serde_json::json!([
        T0 + 1000,
        80.1,
        TENANT,
        FARM,
        DEVICE,
        "fruiting-1",
        "sht4x-1",
        "sensor"
    ]);
    assert_eq!(row, &expected, "{answer}");
    let acked = cloud.sql("SELECT acked_seq FROM devices WHERE id = 'pi-1'");
    assert_eq!(acked, "95");
}

#[tokio::test]
async fn v1_a_batch_is_stored_once_however_often_it_arrives() {
    a_batch_is_stored_once_however_often_it_arrives(InfluxApi::V1).await;
}

#[tokio::test]
async fn v2_a_batch_is_stored_once_however_often_it_arrives() {
    a_batch_is_stored_once_however_often_it_arrives(InfluxApi::V2).await;
}

#[tokio::test]
async fn a_gap_is_accepted_and_recorded_and_an_old_batch_does_not_lower_the_watermark() {
    let cloud = Cloud::start(InfluxApi::V1);
    assert_eq!(
        post(&cloud.addr, &cloud.token, &own_batch(1, 20)).await.0,
        200
    );
    // 21..=40 were evicted on the edge before they were synced.
    let (status, answer) = post(&cloud.addr, &cloud.token, &own_batch(41, 60)).await;
    assert_eq!(
        (status, answer),
        (200, serde_json::json!({"acked_seq": 60}))
    );
    let gaps = cloud.sql("SELECT from_seq, to_seq FROM sync_gaps WHERE device_id = 'pi-1'");
    assert_eq!(gaps, "21|40");
    // A late resend of the first batch is stored again (harmlessly) and acked at 60.
    let (status, answer) = post(&cloud.addr, &cloud.token, &own_batch(1, 20)).await;
    assert_eq!(
        (status, answer),
        (200, serde_json::json!({"acked_seq": 60}))
    );
    let (r1, _) = counts(1, 20);
    let (r2, _) = counts(41, 60);
    assert_eq!(cloud.points("humidity"), r1 + r2);
    let metrics = http_request(&cloud.addr, "GET", "/metrics", &[], None).1;
    assert!(
        metrics.contains("farm_sync_batches_accepted_total 3"),
        "{metrics}"
    );
    assert!(metrics.contains("farm_sync_gaps_total 1"), "{metrics}");
}

#[tokio::test]
async fn health_is_up_while_serving_and_ready_says_which_dependency_is_down() {
    let mut cloud = Cloud::start(InfluxApi::V1);
    assert_eq!(
        http_request(&cloud.addr, "GET", "/healthz", &[], None).0,
        200
    );
    let (status, body) = http_request(&cloud.addr, "GET", "/readyz", &[], None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"postgres": "ok", "influxdb": "ok"})
    );
    cloud.influxd.stop();
    let (status, body) = http_request(&cloud.addr, "GET", "/readyz", &[], None);
    assert_eq!(status, 503, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["postgres"], "ok");
    assert_ne!(body["influxdb"], "ok");
    // A batch meanwhile gets 503 and nothing is acknowledged; later it goes through.
    let (status, answer) = post(&cloud.addr, &cloud.token, &own_batch(1, 30)).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], "unavailable");
    assert_eq!(cloud.sql("SELECT acked_seq FROM devices"), "0");
    assert_eq!(cloud.sql("SELECT count(*) FROM device_events"), "0");
    cloud.influxd.start_again();
    let (status, answer) = post(&cloud.addr, &cloud.token, &own_batch(1, 30)).await;
    assert_eq!(
        (status, answer),
        (200, serde_json::json!({"acked_seq": 30}))
    );
    assert_eq!(cloud.points("humidity"), counts(1, 30).0);
    assert_eq!(
        http_request(&cloud.addr, "GET", "/healthz", &[], None).0,
        200
    );
}

#[tokio::test]
async fn provisioning_prints_a_token_once_and_refuses_a_taken_device_id() {
    let cloud = Cloud::start(InfluxApi::V1);
    let token = cloud.provision(TENANT, "south", "pi-2");
    assert!(token.starts_with("fdt_") && token.len() == 68, "{token}");
    assert_ne!(token, cloud.token);
    // Only the hash is stored.
    let stored = cloud.sql("SELECT encode(token_sha256, 'hex') FROM devices WHERE id = 'pi-2'");
    assert_eq!(stored.len(), 64);
    assert!(!cloud.sql("SELECT * FROM devices").contains(&token));
    let (code, stdout, stderr) = cloud.cli(&[
        "provision",
        "--tenant",
        TENANT,
        "--farm",
        FARM,
        "--device",
        "pi-2",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.is_empty(), "no token printed: {stdout}");
    assert!(
        stderr.contains("device \"pi-2\" exists already"),
        "{stderr}"
    );
    let (code, _, stderr) = cloud.cli(&[
        "provision",
        "--tenant",
        "Bad Tenant",
        "--farm",
        FARM,
        "--device",
        "pi-3",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("tenant \"Bad Tenant\""), "{stderr}");
    // The new device's batches are its own.
    let batch = common::batch("pi-2", 1, 5);
    let (status, answer) = post(&cloud.addr, &token, &batch).await;
    assert_eq!((status, answer), (200, serde_json::json!({"acked_seq": 5})));
    let south = cloud.influxd.query(
        INFLUX_DB,
        "SELECT count(value) FROM humidity WHERE farm = 'south'",
    );
    assert_eq!(
        south["results"][0]["series"][0]["values"][0][1], 5,
        "{south}"
    );
}

//! A harvest entered at the edge becomes storefront stock within one sync: the edge-agent's
//! harvest API → outbox → uplink → sync-service (one lot, in the event's transaction) →
//! cloud-api availability, all real processes on one PostgreSQL.

mod common;

use common::{hash, storefront_selling_blue_oyster, Edge, Farm, WAIT};
use farm_e2e::cloud::{Cloud, InfluxApi, FARM};
use farm_e2e::{http_request, wait_until};
use serde_json::Value;

const TOKEN: &str = "panel-token";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn a_harvest_entered_at_the_edge_becomes_storefront_availability() {
    let cloud = Cloud::start(InfluxApi::V1);
    let (storefront, key) = storefront_selling_blue_oyster(&cloud);
    let (status, product) = storefront.get("/v1/products/OYS-BLUE", &key);
    assert_eq!(
        (status, product["status"].as_str()),
        (200, Some("out_of_stock"))
    );

    let mut edge = Edge::new(&cloud);
    edge.http_extra = format!("api_token_hash = \"{}\"", hash(TOKEN));
    edge.extra = "[[products]]\nsku = \"OYS-BLUE\"\nname = \"Blue oyster\"\nunit = \"kg\"\n".into();
    edge.start(&cloud.addr, true, Farm::Running);
    let bearer = format!("Bearer {TOKEN}");
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    // 2,500 g, recorded in grams at the farm; the catalogue sells kilograms.
    let body = r#"{"room": "fruiting-1", "product": "OYS-BLUE", "quantity": 2500, "unit": "g"}"#;
    let (status, answer) = http_request(&edge.http, "POST", "/api/harvests", &headers, Some(body));
    assert_eq!(status, 201, "{answer}");
    let harvest = json(&answer);
    let event_id = harvest["id"].as_str().expect("an event id").to_owned();

    let mut product = Value::Null;
    wait_until("the harvest is available in the storefront", WAIT, || {
        product = storefront.get("/v1/products/OYS-BLUE", &key).1;
        product["available"].as_f64() == Some(2.5)
    });
    assert_eq!(product["status"], "in_stock");
    assert_eq!(product["farms"][0]["farm"], FARM);
    assert_eq!(product["farms"][0]["on_hand"], 2.5);
    // One lot, from that event, with the harvest's lot code.
    let lots = cloud.sql(&format!(
        "SELECT lot_code, quantity, room, best_before - harvested_at FROM lots
         WHERE event_id = '{event_id}'"
    ));
    let lot = harvest["lot"].as_str().expect("a lot code");
    assert_eq!(lots, format!("{lot}|2.500|fruiting-1|7 days"));
    // The farm manager sees it synced.
    wait_until("the edge shows the harvest synced", WAIT, || {
        let list = json(&farm_e2e::http_get(&edge.http, "/api/harvests"));
        list["harvests"][0]["id"] == event_id.as_str() && list["harvests"][0]["status"] == "synced"
    });
    // And the storefront can sell it.
    let (status, held) = storefront.post(
        "/v1/reservations",
        &key,
        "order-1",
        r#"{"items": [{"sku": "OYS-BLUE", "quantity": 1.5}]}"#,
    );
    assert_eq!(status, 201, "{held}");
    let (status, _, sold) = storefront.call(
        "POST",
        &format!(
            "/v1/reservations/{}/commit",
            held["id"].as_str().unwrap_or_default()
        ),
        Some(&key),
        &[],
        None,
    );
    assert_eq!(
        (status, sold["sold"][0]["lot_code"].as_str()),
        (200, Some(lot))
    );
    assert_eq!(
        storefront.get("/v1/products/OYS-BLUE", &key).1["available"],
        1.0
    );
}

//! Harvest events become lots once, in the device's farm and tenant, however often the batch
//! arrives; harvests that cannot become stock are kept with the reason and do not block sync.
#![allow(clippy::unwrap_used)]

mod common;

use common::{post, T0};
use farm_e2e::cloud::{Cloud, InfluxApi, DEVICE};
use farm_protocol::{Batch, Event, EventKind, Harvest, SCHEMA_VERSION};

fn harvest(seq: u64, product: &str, quantity: f64, unit: &str) -> Event {
    Event {
        seq,
        id: uuid::Uuid::from_u128(0xa11 << 64 | u128::from(seq)),
        ts: T0 + seq as i64 * 60_000,
        kind: EventKind::Harvest(Harvest {
            room: "fruiting-1".into(),
            product: product.into(),
            quantity,
            unit: unit.into(),
            lot: format!("L-{seq}"),
        }),
    }
}

#[tokio::test]
async fn a_harvest_becomes_one_lot_however_often_it_arrives() {
    let cloud = Cloud::start(InfluxApi::V1);
    // Another tenant sells the same SKU: the lot must go to the device's own tenant.
    cloud.provision("globex", "east", "pi-9");
    cloud.sql(
        "INSERT INTO products (tenant_id, sku, name, unit, shelf_life_days)
         SELECT id, 'OYSTER', 'Oyster mushrooms ' || slug, 'kg', 7 FROM tenants;
         INSERT INTO products (tenant_id, sku, name, unit, shelf_life_days)
         SELECT id, 'KIT', 'Grow kit', 'each', 90 FROM tenants WHERE slug = 'acme'",
    );
    let events = vec![
        harvest(1, "OYSTER", 12.5, "kg"),
        harvest(2, "OYSTER", 2_500.0, "g"),
        harvest(3, "SHIITAKE", 1.0, "kg"),
        harvest(4, "KIT", 2.0, "kg"),
        harvest(5, "OYSTER", 0.0001, "kg"),
        harvest(6, "KIT", 3.0, "each"),
    ];
    let batch = Batch {
        schema: SCHEMA_VERSION,
        device_id: DEVICE.into(),
        first_seq: 1,
        last_seq: 6,
        readings: Vec::new(),
        events,
    };
    for attempt in 0..3 {
        let (status, answer) = post(&cloud.addr, &cloud.token, &batch).await;
        assert_eq!(status, 200, "attempt {attempt}: {answer}");
    }
    let lots = cloud.sql(
        "SELECT t.slug, f.slug, p.sku, l.lot_code, l.room, l.quantity,
                l.best_before - l.harvested_at, extract(epoch FROM l.harvested_at)::bigint
         FROM lots l JOIN tenants t ON t.id = l.tenant_id JOIN farms f ON f.id = l.farm_id
         JOIN products p ON p.id = l.product_id ORDER BY l.lot_code",
    );
    let t0 = T0 / 1000;
    let expected = [
        format!("acme|north|OYSTER|L-1|fruiting-1|12.500|7 days|{}", t0 + 60),
        format!("acme|north|OYSTER|L-2|fruiting-1|2.500|7 days|{}", t0 + 120),
        format!("acme|north|KIT|L-6|fruiting-1|3.000|90 days|{}", t0 + 360),
    ];
    assert_eq!(lots, expected.join("\n"));
    let issues = cloud.sql(
        "SELECT l.seq, i.reason FROM harvest_issues i
         JOIN device_events l ON l.event_id = i.event_id ORDER BY l.seq",
    );
    let expected = [
        "3|unknown product SKU \"SHIITAKE\" for this tenant",
        "4|unit \"kg\" does not convert to the product's unit \"each\"",
        "5|quantity 0.0001 kg is not a positive amount of kg",
    ];
    assert_eq!(issues, expected.join("\n"));
    let metrics = farm_e2e::http_request(&cloud.addr, "GET", "/metrics", &[], None).1;
    assert!(
        metrics.contains("farm_sync_lots_created_total 3\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("farm_sync_harvest_issues_total 3\n"),
        "{metrics}"
    );
}

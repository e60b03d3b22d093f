//! The admin commands for tenants, farms and products against a real PostgreSQL: happy
//! paths, updates, and a clear error for each kind of bad input.
#![allow(clippy::unwrap_used)]

mod support;

use cloud_api::admin::{self, AdminError, ProductSpec, Upserted};
use support::*;
#[tokio::test]
async fn tenants_and_farms_are_added_listed_and_not_added_twice() {
    let (_postgres, mut db) = database().await;
    let added = ok(
        &mut db,
        &[
            "tenant",
            "add",
            "--tenant",
            "acme",
            "--name",
            "Acme Mushrooms",
        ],
    )
    .await;
    assert_eq!(added.stdout, "");
    assert_eq!(added.stderr, "tenant \"acme\" added\n");
    ok(&mut db, &["tenant", "add", "--tenant", "globex"]).await;
    let north = ["--farm", "north", "--name", "North barn"];
    ok(
        &mut db,
        &[&["farm", "add", "--tenant", "acme"][..], &north].concat(),
    )
    .await;
    ok(
        &mut db,
        &["farm", "add", "--tenant", "acme", "--farm", "south"],
    )
    .await;
    // Farm slugs are per tenant.
    ok(
        &mut db,
        &["farm", "add", "--tenant", "globex", "--farm", "north"],
    )
    .await;

    let tenants = ok(&mut db, &["tenant", "list"]).await;
    assert!(
        tenants.stdout.starts_with("TENANT  NAME"),
        "{}",
        tenants.stdout
    );
    let rows = table_rows(&tenants.stdout);
    assert_eq!(rows.len(), 2, "{}", tenants.stdout);
    assert_eq!(rows[0][..3], ["acme", "Acme Mushrooms", "2"]);
    assert_eq!(rows[1][..3], ["globex", "globex", "1"]);
    assert!(rows[0][3].ends_with('Z'), "{:?}", rows[0]);

    let farms = ok(&mut db, &["farm", "list", "--tenant", "acme"]).await;
    let rows = table_rows(&farms.stdout);
    assert_eq!(rows.len(), 2, "{}", farms.stdout);
    assert_eq!(rows[0][..3], ["north", "North barn", "0"]);
    assert_eq!(rows[1][..3], ["south", "south", "0"]);
    assert_eq!(admin::list_farms(&db, "globex").await.unwrap().len(), 1);

    let (e, message) = fails(&mut db, &["tenant", "add", "--tenant", "acme"]).await;
    assert!(matches!(e, AdminError::Exists(_)), "{e:?}");
    assert_eq!(message, "tenant \"acme\" exists already");
    let args = ["farm", "add", "--tenant", "acme", "--farm", "north"];
    let (e, message) = fails(&mut db, &args).await;
    assert!(matches!(e, AdminError::Exists(_)), "{e:?}");
    assert_eq!(message, "farm \"north\" of tenant \"acme\" exists already");

    let args = ["farm", "add", "--tenant", "nope", "--farm", "x"];
    let (e, message) = fails(&mut db, &args).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");
    assert_eq!(message, "tenant \"nope\" not found");
    let (e, _) = fails(&mut db, &["farm", "list", "--tenant", "nope"]).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");

    let (e, message) = fails(&mut db, &["tenant", "add", "--tenant", "Bad Tenant"]).await;
    assert_eq!(invalid_field(&e), Some("tenant"), "{e:?}");
    assert!(
        message.starts_with("tenant \"Bad Tenant\": use 1-63 lowercase"),
        "{message}"
    );
    let args = ["farm", "add", "--tenant", "acme", "--farm", "_x"];
    let (e, _) = fails(&mut db, &args).await;
    assert_eq!(invalid_field(&e), Some("farm"), "{e:?}");
    let args = ["tenant", "add", "--tenant", "ok", "--name", " "];
    let (e, _) = fails(&mut db, &args).await;
    assert_eq!(invalid_field(&e), Some("name"), "{e:?}");
    // Nothing of the refused commands was stored.
    assert_eq!(admin::list_tenants(&db).await.unwrap().len(), 2);
}

/// `product add` for tenant acme.
fn product_add<'a>(sku: &'a str, name: &'a str, unit: &'a str, days: &'a str) -> Vec<&'a str> {
    vec![
        "product",
        "add",
        "--tenant",
        "acme",
        "--sku",
        sku,
        "--name",
        name,
        "--unit",
        unit,
        "--shelf-life-days",
        days,
    ]
}

#[tokio::test]
async fn products_are_added_then_updated_and_checked_like_the_schema() {
    let (_postgres, mut db) = database().await;
    ok(&mut db, &["tenant", "add", "--tenant", "acme"]).await;
    ok(&mut db, &["tenant", "add", "--tenant", "globex"]).await;
    let mut first = product_add("OYS-500", "Oyster mushrooms", "kg", "7");
    first.extend(["--low-stock-threshold", "2.5"]);
    let out = ok(&mut db, &first).await;
    assert_eq!(out.stderr, "product \"OYS-500\" of tenant \"acme\" added\n");
    ok(&mut db, &product_add("LION-1", "Lion's mane", "each", "5")).await;

    let list = ok(&mut db, &["product", "list", "--tenant", "acme"]).await;
    let rows = table_rows(&list.stdout);
    assert_eq!(rows.len(), 2, "{}", list.stdout);
    assert_eq!(rows[0][..5], ["LION-1", "Lion's mane", "each", "5", "0"]);
    assert_eq!(
        rows[1][..5],
        ["OYS-500", "Oyster mushrooms", "kg", "7", "2.5"]
    );

    // Adding the SKU again updates it; without a threshold the old one stays.
    let again = product_add("OYS-500", "Oyster mushrooms (grey)", "g", "6");
    let out = ok(&mut db, &again).await;
    assert_eq!(
        out.stderr,
        "product \"OYS-500\" of tenant \"acme\" updated\n"
    );
    let products = admin::list_products(&db, "acme").await.unwrap();
    assert_eq!(products.len(), 2);
    let oyster = products.iter().find(|p| p.sku == "OYS-500").unwrap();
    assert_eq!(
        (oyster.name.as_str(), oyster.unit.as_str()),
        ("Oyster mushrooms (grey)", "g")
    );
    assert_eq!(oyster.shelf_life_days, 6);
    assert_eq!(oyster.low_stock_threshold, "2.5");
    let mut threshold = again.clone();
    threshold.extend(["--low-stock-threshold", "0"]);
    ok(&mut db, &threshold).await;
    let products = admin::list_products(&db, "acme").await.unwrap();
    assert_eq!(products[1].low_stock_threshold, "0");

    // Another tenant's catalogue is its own.
    assert!(admin::list_products(&db, "globex")
        .await
        .unwrap()
        .is_empty());
    let spec = ProductSpec {
        sku: "OYS-500".into(),
        name: "Globex oyster".into(),
        unit: "kg".into(),
        shelf_life_days: 3,
        low_stock_threshold: Some("0.125".into()),
    };
    let done = admin::upsert_product(&mut db, "globex", &spec)
        .await
        .unwrap();
    assert_eq!(done, Upserted::Added);
    let acme = admin::list_products(&db, "acme").await.unwrap();
    assert!(acme.iter().all(|p| p.name != "Globex oyster"));
}

#[tokio::test]
async fn bad_products_are_refused_naming_the_field() {
    let (postgres, mut db) = database().await;
    ok(&mut db, &["tenant", "add", "--tenant", "acme"]).await;
    let (e, message) = fails(&mut db, &product_add("OYS-500", "Oyster", "lb", "7")).await;
    assert_eq!(invalid_field(&e), Some("unit"), "{e:?}");
    assert_eq!(message, "unit \"lb\": use kg, g or each");
    let (e, message) = fails(&mut db, &product_add("OYS-500", "Oyster", "kg", "0")).await;
    assert_eq!(invalid_field(&e), Some("shelf_life_days"), "{e:?}");
    assert_eq!(
        message,
        "shelf_life_days 0: use a whole number of days from 1 to 3650"
    );
    for days in ["-3", "3651"] {
        let (e, _) = fails(&mut db, &product_add("OYS-500", "Oyster", "kg", days)).await;
        assert_eq!(invalid_field(&e), Some("shelf_life_days"), "{e:?}");
    }
    let mut negative = product_add("OYS-500", "Oyster", "kg", "7");
    negative.extend(["--low-stock-threshold", "-1"]);
    let (e, message) = fails(&mut db, &negative).await;
    assert_eq!(invalid_field(&e), Some("low_stock_threshold"), "{e:?}");
    assert!(
        message.starts_with("low_stock_threshold \"-1\": use a number ≥ 0"),
        "{message}"
    );
    let (e, _) = fails(&mut db, &product_add("a b", "Oyster", "kg", "7")).await;
    assert_eq!(invalid_field(&e), Some("sku"), "{e:?}");
    let (e, _) = fails(&mut db, &product_add("OYS-500", "", "kg", "7")).await;
    assert_eq!(invalid_field(&e), Some("name"), "{e:?}");
    let mut unknown = product_add("OYS-500", "Oyster", "kg", "7");
    unknown[3] = "nope";
    let (e, message) = fails(&mut db, &unknown).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");
    assert_eq!(message, "tenant \"nope\" not found");
    let (e, _) = fails(&mut db, &["product", "list", "--tenant", "nope"]).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");
    assert!(admin::list_products(&db, "acme").await.unwrap().is_empty());

    // Once a product has lots, its unit stays (the lots are counted in it).
    ok(&mut db, &product_add("OYS-500", "Oyster", "g", "7")).await;
    let device = ["--farm", "north", "--device", "pi-1"];
    ok(
        &mut db,
        &[&["device", "add", "--tenant", "acme"][..], &device].concat(),
    )
    .await;
    postgres.psql(
        DB,
        "INSERT INTO device_events (event_id, device_id, seq, ts, kind, body)
         VALUES ('00000000-0000-0000-0000-000000000001', 'pi-1', 1, now(), 'harvest', '{}');
         INSERT INTO lots (tenant_id, farm_id, product_id, event_id, lot_code, room, quantity,
                           harvested_at, best_before, remaining)
         SELECT t.id, f.id, p.id, '00000000-0000-0000-0000-000000000001', 'L1', 'r1', 5,
                now(), now() + interval '6 days', 5
         FROM tenants t JOIN farms f ON f.tenant_id = t.id JOIN products p ON p.tenant_id = t.id
         WHERE t.slug = 'acme' AND p.sku = 'OYS-500'",
    );
    let (e, message) = fails(&mut db, &product_add("OYS-500", "Oyster", "kg", "7")).await;
    assert_eq!(invalid_field(&e), Some("unit"), "{e:?}");
    assert!(message.contains("has lots counted in g"), "{message}");
    ok(&mut db, &product_add("OYS-500", "Oyster", "g", "8")).await;
}

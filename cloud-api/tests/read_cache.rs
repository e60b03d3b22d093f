//! The availability read cache: repeated reads come from it, and any change to stock, holds
//! or the product, made by this service or anyone else on the database, is seen.

use std::time::Duration;

use farm_e2e::{wait_until, Storefront};

#[test]
fn reads_are_cached_until_a_change_is_heard_from_anywhere() {
    let storefront = Storefront::start("");
    let key = storefront.tenant("acme", &["north"], &[("OYS-1", "kg", 7)]);
    let lot = storefront.add_lot("acme", "north", "OYS-1", 4.0, 0.0);
    let available = || storefront.get("/v1/products/OYS-1", &key).1["available"].clone();
    assert_eq!(available(), 4.0);
    let hits = storefront.metric("farm_api_read_cache_hits_total");
    assert_eq!(available(), 4.0);
    assert_eq!(available(), 4.0);
    assert_eq!(
        storefront.metric("farm_api_read_cache_hits_total"),
        hits + 2.0
    );

    // A change written straight into PostgreSQL (as another instance or a person would).
    let heard = storefront.metric("farm_api_stock_notifications_total");
    storefront.sql(&format!("UPDATE lots SET remaining = 1.5 WHERE id = {lot}"));
    wait_until("the change is heard", Duration::from_secs(10), || {
        storefront.metric("farm_api_stock_notifications_total") > heard
    });
    assert_eq!(available(), 1.5);

    // This service's own hold shows at once in its next read.
    let hold = r#"{"items": [{"sku": "OYS-1", "quantity": 1}]}"#;
    assert_eq!(storefront.post("/v1/reservations", &key, "h", hold).0, 201);
    assert_eq!(available(), 0.5);
}

#[test]
fn nothing_is_served_from_the_cache_while_it_cannot_hear_changes() {
    let mut storefront = Storefront::start("");
    let key = storefront.tenant("acme", &["north"], &[("OYS-1", "kg", 7)]);
    storefront.add_lot("acme", "north", "OYS-1", 4.0, 0.0);
    assert_eq!(storefront.get("/v1/products/OYS-1", &key).0, 200);
    storefront.postgres.as_mut().expect("own PostgreSQL").stop();
    wait_until("the listener is gone", Duration::from_secs(10), || {
        storefront.metric("farm_api_read_cache_live") == 0.0
    });
    // What changes while the listener is away is never hidden behind an old answer.
    storefront
        .postgres
        .as_mut()
        .expect("own PostgreSQL")
        .start_again();
    storefront.sql("UPDATE lots SET remaining = 3");
    wait_until("the listener is back", Duration::from_secs(30), || {
        storefront.metric("farm_api_read_cache_live") == 1.0
    });
    assert_eq!(
        storefront.get("/v1/products/OYS-1", &key).1["available"],
        3.0
    );
}

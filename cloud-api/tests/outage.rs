//! When PostgreSQL is down or slow: `/readyz` says so, requests get 503 (`unavailable`,
//! `timeout`) and nothing half-done is left; service resumes without a restart.

use std::time::Duration;

use farm_e2e::{http_request, wait_until, Storefront};

#[test]
fn postgres_down_gives_503_and_the_service_recovers_by_itself() {
    let mut storefront = Storefront::start("");
    let key = storefront.tenant("acme", &["north"], &[("OYS-1", "kg", 7)]);
    storefront.add_lot("acme", "north", "OYS-1", 2.0, 0.0);
    // A key looked up before the outage stays cached; a read still needs PostgreSQL.
    assert_eq!(storefront.get("/v1/products/OYS-1", &key).0, 200);

    storefront.postgres.as_mut().expect("own PostgreSQL").stop();
    let (status, ready) = http_request(&storefront.addr, "GET", "/readyz", &[], None);
    assert_eq!(status, 503, "{ready}");
    assert!(ready.contains("postgres"), "{ready}");
    // Cached availability is served only while the stock listener is connected: once it
    // has noticed the outage, reads fail too.
    wait_until(
        "reads fail without PostgreSQL",
        Duration::from_secs(10),
        || {
            let (status, body) = storefront.get("/v1/products/OYS-1", &key);
            (status, body["error"]["code"].as_str()) == (503, Some("unavailable"))
        },
    );
    assert_eq!(storefront.metric("farm_api_read_cache_live"), 0.0);
    let hold = r#"{"items": [{"sku": "OYS-1", "quantity": 1}]}"#;
    let (status, body) = storefront.post("/v1/reservations", &key, "during", hold);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("unavailable"))
    );

    storefront
        .postgres
        .as_mut()
        .expect("own PostgreSQL")
        .start_again();
    wait_until("the API serves again", Duration::from_secs(30), || {
        storefront.get("/v1/products/OYS-1", &key).0 == 200
    });
    // The hold tried during the outage left nothing; its key is free for the retry.
    assert_eq!(storefront.sql("SELECT count(*) FROM reservations"), "0");
    assert_eq!(
        storefront.post("/v1/reservations", &key, "during", hold).0,
        201
    );
}

#[test]
fn a_request_stuck_behind_a_lock_times_out_and_holds_nothing() {
    let storefront = Storefront::start("[http]\nrequest_timeout = \"300ms\"\n");
    let key = storefront.tenant("acme", &["north"], &[("OYS-1", "kg", 7)]);
    storefront.add_lot("acme", "north", "OYS-1", 2.0, 0.0);
    let url = storefront
        .postgres
        .as_ref()
        .expect("own PostgreSQL")
        .url("farm");
    std::thread::scope(|scope| {
        // Another session holds the product row for 3 s.
        let locker = scope.spawn(|| {
            let sql = "BEGIN; SELECT 1 FROM products FOR UPDATE; SELECT pg_sleep(3); COMMIT;";
            let output = std::process::Command::new("psql")
                .args(["-X", "-q", "-d", &url, "-c", sql])
                .output()
                .expect("run psql");
            assert!(output.status.success(), "{output:?}");
        });
        wait_until("the product row is locked", Duration::from_secs(10), || {
            storefront.sql(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%'
                 AND state = 'active' AND pid <> pg_backend_pid()",
            ) == "1"
        });
        let hold = r#"{"items": [{"sku": "OYS-1", "quantity": 1}]}"#;
        let (status, body) = storefront.post("/v1/reservations", &key, "stuck", hold);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (503, Some("timeout")),
            "{body}"
        );
        locker.join().expect("the locking session");
    });
    assert_eq!(storefront.sql("SELECT count(*) FROM reservations"), "0");
    assert_eq!(
        storefront.get("/v1/products/OYS-1", &key).1["available"],
        2.0
    );
}

//! The storefront API against a real PostgreSQL: availability, holds, commits (first
//! expired, first out), releases, expiry, adjustments, idempotency, and no oversell under 50
//! concurrent holds.

use std::time::Duration;

use farm_e2e::{header, http_request, wait_until, Storefront};
use serde_json::Value;

const PRODUCTS: &[(&str, &str, u32)] = &[("OYS-1", "kg", 7), ("LION-1", "each", 5)];

fn started() -> (Storefront, String) {
    let storefront = Storefront::start("");
    let key = storefront.tenant("acme", &["north", "south"], PRODUCTS);
    (storefront, key)
}

fn hold(storefront: &Storefront, key: &str, idem: &str, sku: &str, quantity: f64) -> (u16, Value) {
    let body = format!(r#"{{"items": [{{"sku": "{sku}", "quantity": {quantity}}}]}}"#);
    storefront.post("/v1/reservations", key, idem, &body)
}

fn available(storefront: &Storefront, key: &str, sku: &str) -> f64 {
    let (status, body) = storefront.get(&format!("/v1/products/{sku}"), key);
    assert_eq!(status, 200, "{body}");
    body["available"].as_f64().expect("available is a number")
}

#[test]
fn availability_counts_unexpired_lots_less_holds_per_farm() {
    let (storefront, key) = started();
    let (status, body) = storefront.get("/v1/products/OYS-1", &key);
    assert_eq!(status, 200);
    assert_eq!(body["status"], "out_of_stock");
    assert_eq!(body["available"], 0);
    assert_eq!(body["farms"], serde_json::json!([]));

    storefront.add_lot("acme", "north", "OYS-1", 4.0, 1.0);
    storefront.add_lot("acme", "south", "OYS-1", 2.5, 3.0);
    // Harvested 8 days ago with a 7-day shelf life: expired, not counted.
    storefront.add_lot("acme", "north", "OYS-1", 100.0, 8.0);
    let (_, body) = storefront.get("/v1/products/OYS-1", &key);
    assert_eq!(body["available"], 6.5);
    assert_eq!(body["on_hand"], 6.5);
    assert_eq!(body["status"], "in_stock");
    let farms = body["farms"].as_array().unwrap();
    assert_eq!(farms.len(), 2);
    assert_eq!(
        (farms[0]["farm"].as_str(), farms[0]["on_hand"].as_f64()),
        (Some("north"), Some(4.0))
    );
    assert_eq!(
        (farms[1]["farm"].as_str(), farms[1]["on_hand"].as_f64()),
        (Some("south"), Some(2.5))
    );
    // The south lot (3 days old) expires first: 4 days from now.
    let next = body["next_best_before"].as_str().unwrap();
    assert_eq!(next, farms[1]["next_best_before"].as_str().unwrap());
    assert!(next.ends_with("+00:00") || next.ends_with('Z'), "{next}");

    let (status, _) = hold(&storefront, &key, "h1", "OYS-1", 2.0);
    assert_eq!(status, 201);
    let (_, body) = storefront.get("/v1/products/OYS-1", &key);
    assert_eq!(
        (body["available"].as_f64(), body["reserved"].as_f64()),
        (Some(4.5), Some(2.0))
    );

    // Low stock at or below the threshold.
    storefront.admin(&[
        "product",
        "add",
        "--tenant",
        "acme",
        "--sku",
        "OYS-1",
        "--name",
        "Oyster",
        "--unit",
        "kg",
        "--shelf-life-days",
        "7",
        "--low-stock-threshold",
        "5",
    ]);
    // Changed by another process (the admin command): seen once its notification arrives.
    wait_until("the threshold applies", Duration::from_secs(10), || {
        storefront.get("/v1/products/OYS-1", &key).1["status"] == "low_stock"
    });

    // The list has every product, with availability, and `fields=` trims them.
    let (status, body) = storefront.get("/v1/products?fields=sku,available", &key);
    assert_eq!(status, 200);
    assert_eq!(
        body["products"],
        serde_json::json!([{"sku": "LION-1", "available": 0}, {"sku": "OYS-1", "available": 4.5}])
    );
    assert_eq!(body["next_cursor"], Value::Null);

    // The farm's inventory lists its lots with stock left, expired ones marked.
    let (status, body) = storefront.get("/v1/farms/north/inventory", &key);
    assert_eq!(status, 200);
    let lots = body["products"][0]["lots"].as_array().unwrap();
    assert_eq!(lots.len(), 2);
    assert_eq!(lots.iter().filter(|l| l["expired"] == true).count(), 1);
    assert_eq!(body["products"][0]["on_hand"], 4.0);
    assert_eq!(body["products"][0]["expired"], 100.0);
}

#[test]
fn products_page_with_a_cursor() {
    let storefront = Storefront::start("");
    let products: Vec<(String, &str, u32)> =
        (0..7).map(|i| (format!("SKU-{i}"), "kg", 3)).collect();
    let specs: Vec<(&str, &str, u32)> = products
        .iter()
        .map(|(s, u, d)| (s.as_str(), *u, *d))
        .collect();
    let key = storefront.tenant("acme", &["north"], &specs);
    let mut seen = Vec::new();
    let mut path = "/v1/products?limit=3&fields=sku".to_owned();
    loop {
        let (status, body) = storefront.get(&path, &key);
        assert_eq!(status, 200, "{body}");
        let page = body["products"].as_array().unwrap();
        assert!(page.len() <= 3);
        seen.extend(page.iter().map(|p| p["sku"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/products?limit=3&fields=sku&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<String> = products.into_iter().map(|p| p.0).collect();
    assert_eq!(seen, expected);
}

#[test]
fn availability_reads_revalidate_with_etags() {
    let (storefront, key) = started();
    storefront.add_lot("acme", "north", "OYS-1", 3.0, 0.0);
    let (status, head, _) = storefront.call("GET", "/v1/products/OYS-1", Some(&key), &[], None);
    assert_eq!(status, 200);
    let etag = header(&head, "etag").expect("an ETag").to_owned();
    assert_eq!(header(&head, "cache-control"), Some("private, max-age=5"));
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    let if_none_match = [("If-None-Match", etag.as_str())];
    let (status, _, body) = storefront.call(
        "GET",
        "/v1/products/OYS-1",
        Some(&key),
        &if_none_match,
        None,
    );
    assert_eq!((status, body), (304, Value::Null));
    // A hold changes availability, so the same ETag no longer matches.
    assert_eq!(hold(&storefront, &key, "h", "OYS-1", 1.0).0, 201);
    let (status, head, _) = storefront.call(
        "GET",
        "/v1/products/OYS-1",
        Some(&key),
        &if_none_match,
        None,
    );
    assert_eq!(status, 200);
    assert_ne!(header(&head, "etag"), Some(etag.as_str()));
    // Gzip for clients that ask, on bodies of 1 KiB or more (a farm with 6 lots).
    let gzip = [("Accept-Encoding", "gzip")];
    let (status, head, _) = storefront.call("GET", "/v1/products/OYS-1", Some(&key), &gzip, None);
    assert_eq!((status, header(&head, "content-encoding")), (200, None));
    for _ in 0..5 {
        storefront.add_lot("acme", "north", "OYS-1", 1.0, 0.0);
    }
    let inventory = "/v1/farms/north/inventory";
    let (_, head, plain) = storefront.call("GET", inventory, Some(&key), &[], None);
    assert!(plain.to_string().len() > 1024, "{plain}");
    assert_eq!(header(&head, "content-encoding"), None);
    let (status, head, _) = storefront.call("GET", inventory, Some(&key), &gzip, None);
    assert_eq!(
        (status, header(&head, "content-encoding")),
        (200, Some("gzip"))
    );
}

#[test]
fn fifty_concurrent_holds_on_the_last_ten_units_exactly_ten_succeed() {
    let (storefront, key) = started();
    storefront.add_lot("acme", "north", "LION-1", 6.0, 0.0);
    storefront.add_lot("acme", "south", "LION-1", 4.0, 0.0);
    // 50 threads, each with its own connection, released at once.
    let barrier = std::sync::Barrier::new(50);
    let bearer = format!("Bearer {key}");
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..50)
            .map(|i| {
                let (addr, bearer, barrier) = (&storefront.addr, &bearer, &barrier);
                scope.spawn(move || {
                    let idem = format!("race-{i}");
                    let headers = [
                        ("Authorization", bearer.as_str()),
                        ("Content-Type", "application/json"),
                        ("Idempotency-Key", idem.as_str()),
                    ];
                    let body = r#"{"items": [{"sku": "LION-1", "quantity": 1}]}"#;
                    barrier.wait();
                    let (status, body) =
                        http_request(addr, "POST", "/v1/reservations", &headers, Some(body));
                    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let won = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == 409 && b["error"]["code"] == "insufficient_stock")
        .count();
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!((won, refused), (10, 40), "answers: {statuses:?}");
    assert_eq!(available(&storefront, &key, "LION-1"), 0.0);
    let held =
        storefront.sql("SELECT sum(quantity) FROM reservation_items WHERE held_until IS NOT NULL");
    assert_eq!(held, "10.000");
}

#[test]
fn a_commit_sells_first_expired_first_out() {
    let (storefront, key) = started();
    let fresh = storefront.add_lot("acme", "north", "OYS-1", 5.0, 0.0);
    let oldest = storefront.add_lot("acme", "south", "OYS-1", 1.5, 5.0);
    let middle = storefront.add_lot("acme", "north", "OYS-1", 2.0, 2.0);
    let (status, body) = hold(&storefront, &key, "h", "OYS-1", 4.0);
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body["status"], "held");
    let commit = format!("/v1/reservations/{id}/commit");
    let (status, _, body) = storefront.call("POST", &commit, Some(&key), &[], None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "committed");
    let sold: Vec<(i64, f64)> = body["sold"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["lot"].as_i64().unwrap(), s["quantity"].as_f64().unwrap()))
        .collect();
    assert_eq!(sold, vec![(oldest, 1.5), (middle, 2.0), (fresh, 0.5)]);
    let remaining = storefront.sql(&format!(
        "SELECT remaining FROM lots WHERE id IN ({oldest}, {middle}, {fresh}) ORDER BY id"
    ));
    assert_eq!(
        remaining.lines().collect::<Vec<_>>(),
        ["4.500", "0.000", "0.000"]
    );
    assert_eq!(available(&storefront, &key, "OYS-1"), 4.5);
    // Committing again answers the same sale; releasing a sold reservation is refused.
    let (status, _, again) = storefront.call("POST", &commit, Some(&key), &[], None);
    assert_eq!((status, &again["sold"]), (200, &body["sold"]));
    let (status, _, body) = storefront.call(
        "DELETE",
        &format!("/v1/reservations/{id}"),
        Some(&key),
        &[],
        None,
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("reservation_committed"))
    );
    assert_eq!(available(&storefront, &key, "OYS-1"), 4.5);
}

#[test]
fn released_and_expired_holds_stop_counting() {
    let (storefront, key) = started();
    storefront.add_lot("acme", "north", "OYS-1", 3.0, 0.0);
    let (_, body) = hold(&storefront, &key, "a", "OYS-1", 2.0);
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(available(&storefront, &key, "OYS-1"), 1.0);
    let (status, _, body) = storefront.call(
        "DELETE",
        &format!("/v1/reservations/{id}"),
        Some(&key),
        &[],
        None,
    );
    assert_eq!((status, body["status"].as_str()), (200, Some("released")));
    assert_eq!(available(&storefront, &key, "OYS-1"), 3.0);
    let commit = format!("/v1/reservations/{id}/commit");
    let (status, _, body) = storefront.call("POST", &commit, Some(&key), &[], None);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("reservation_released"))
    );

    // A one-second hold: counted, then not, and it can no longer be committed.
    let body = r#"{"items": [{"sku": "OYS-1", "quantity": 3}], "ttl_seconds": 1}"#;
    let (status, held) = storefront.post("/v1/reservations", &key, "b", body);
    assert_eq!(status, 201, "{held}");
    assert_eq!(available(&storefront, &key, "OYS-1"), 0.0);
    wait_until("the hold expires", Duration::from_secs(10), || {
        available(&storefront, &key, "OYS-1") == 3.0
    });
    let id = held["id"].as_str().unwrap();
    let (status, body) = storefront.get(&format!("/v1/reservations/{id}"), &key);
    assert_eq!((status, body["status"].as_str()), (200, Some("expired")));
    let commit = format!("/v1/reservations/{id}/commit");
    let (status, _, body) = storefront.call("POST", &commit, Some(&key), &[], None);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("reservation_expired"))
    );
}

#[test]
fn a_retried_hold_with_the_same_key_holds_once() {
    let (storefront, key) = started();
    storefront.add_lot("acme", "north", "OYS-1", 3.0, 0.0);
    let (first_status, first) = hold(&storefront, &key, "retry-me", "OYS-1", 2.0);
    let (again_status, again) = hold(&storefront, &key, "retry-me", "OYS-1", 2.0);
    assert_eq!((first_status, again_status), (201, 201));
    assert_eq!(first, again);
    assert_eq!(available(&storefront, &key, "OYS-1"), 1.0);
    // The same key for another request is refused and changes nothing.
    let (status, body) = hold(&storefront, &key, "retry-me", "OYS-1", 1.0);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    assert_eq!(available(&storefront, &key, "OYS-1"), 1.0);
    // A refused hold does not use up its key: a retry after stock arrives succeeds.
    let (status, _) = hold(&storefront, &key, "later", "OYS-1", 2.0);
    assert_eq!(status, 409);
    storefront.add_lot("acme", "south", "OYS-1", 1.0, 0.0);
    assert_eq!(hold(&storefront, &key, "later", "OYS-1", 2.0).0, 201);
}

#[test]
fn adjustments_change_a_lot_with_a_reason_and_never_below_zero() {
    let (storefront, key) = started();
    let lot = storefront.add_lot("acme", "north", "OYS-1", 3.0, 0.0);
    let spoil =
        format!(r#"{{"lot": {lot}, "delta": -1.25, "reason": "spoilage", "note": "mould"}}"#);
    let (status, body) = storefront.post("/v1/inventory/adjustments", &key, "s1", &spoil);
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["remaining"].as_f64(), body["reason"].as_str()),
        (Some(1.75), Some("spoilage"))
    );
    // A retry is not applied twice.
    let (status, again) = storefront.post("/v1/inventory/adjustments", &key, "s1", &spoil);
    assert_eq!((status, &again), (201, &body));
    assert_eq!(available(&storefront, &key, "OYS-1"), 1.75);
    let fix = format!(r#"{{"lot": {lot}, "delta": 0.25, "reason": "correction"}}"#);
    assert_eq!(
        storefront
            .post("/v1/inventory/adjustments", &key, "c1", &fix)
            .0,
        201
    );
    assert_eq!(available(&storefront, &key, "OYS-1"), 2.0);
    let too_much = format!(r#"{{"lot": {lot}, "delta": -2.5, "reason": "damage"}}"#);
    let (status, body) = storefront.post("/v1/inventory/adjustments", &key, "d1", &too_much);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("insufficient_stock"))
    );
    assert_eq!(available(&storefront, &key, "OYS-1"), 2.0);
    let recorded = storefront.sql("SELECT reason, delta FROM inventory_adjustments ORDER BY id");
    assert_eq!(recorded, "spoilage|-1.250\ncorrection|0.250");
    // Stock written off under a hold: the hold then cannot be sold.
    let (_, held) = hold(&storefront, &key, "h", "OYS-1", 2.0);
    let all = format!(r#"{{"lot": {lot}, "delta": -2, "reason": "spoilage"}}"#);
    assert_eq!(
        storefront
            .post("/v1/inventory/adjustments", &key, "s2", &all)
            .0,
        201
    );
    let commit = format!("/v1/reservations/{}/commit", held["id"].as_str().unwrap());
    let (status, _, body) = storefront.call("POST", &commit, Some(&key), &[], None);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("insufficient_stock"))
    );
    assert_eq!(storefront.sql("SELECT count(*) FROM sales"), "0");
}

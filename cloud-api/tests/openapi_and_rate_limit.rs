//! The storefront API's surface, against a real PostgreSQL: the rate limit per API key (429
//! `rate_limited` with `Retry-After`, nothing changed, other keys unaffected), and
//! `/openapi.json`, which must document exactly `cloud_api::http::ROUTES`, each served.

use std::collections::BTreeSet;

use cloud_api::http::{OPENAPI, ROUTES};
use farm_e2e::{header, try_http_exchange, Storefront};
use serde_json::Value;

const PRODUCTS: &[(&str, &str, u32)] = &[("OYS-1", "kg", 7), ("LION-1", "each", 5)];
const HOLD: &str = r#"{"items": [{"sku": "OYS-1", "quantity": 1}]}"#;

/// Acme with a lot and a hold: (storefront, key).
fn started(extra: &str) -> (Storefront, String) {
    let sf = Storefront::start(extra);
    let key = sf.tenant("acme", &["north", "south"], PRODUCTS);
    sf.add_lot("acme", "north", "OYS-1", 10.0, 0.0);
    let (status, held) = sf.post("/v1/reservations", &key, "held", HOLD);
    assert_eq!(status, 201, "{held}");
    (sf, key)
}

/// Counts and stock of everything a request could change.
fn rows(sf: &Storefront) -> String {
    sf.sql(
        "SELECT concat_ws(' ', (SELECT count(*) FROM reservations),
             (SELECT count(*) FROM reservation_items), (SELECT count(*) FROM sales),
             (SELECT count(*) FROM inventory_adjustments), (SELECT count(*) FROM idempotency_keys),
             (SELECT string_agg(id || '=' || remaining, ',' ORDER BY id) FROM lots),
             (SELECT string_agg(id || '=' || status, ',' ORDER BY id) FROM reservations))",
    )
}

#[test]
fn the_rate_limit_is_per_key_and_a_limited_request_changes_nothing() {
    let (sf, key) = started("[rate_limit]\nper_second = 1\nburst = 3\n");
    let before = rows(&sf);
    // A new key: a full bucket of 3.
    let fresh = sf.key("acme");
    for i in 0..3 {
        let (status, body) = sf.get("/v1/products", &fresh);
        assert_eq!(status, 200, "request {i}: {body}");
    }
    let headers = [("Idempotency-Key", "limited")];
    let (status, head, body) = sf.call(
        "POST",
        "/v1/reservations",
        Some(&fresh),
        &headers,
        Some(HOLD),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("rate_limited")),
        "{body}"
    );
    let retry_after: u64 = header(&head, "retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a Retry-After in seconds: {head}"));
    // (1 − the fraction of a token left) / 1 per second, rounded up.
    assert_eq!(retry_after, 1, "{head}");
    assert_eq!(rows(&sf), before, "a limited request changed something");
    // Another key of the same tenant has its own bucket.
    let (status, body) = sf.get("/v1/products", &key);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn openapi_documents_exactly_the_routes_and_each_is_live() {
    let (sf, key) = started("");
    let (status, head, text) =
        try_http_exchange(&sf.addr, "GET", "/openapi.json", &[], None).expect("an answer");
    assert_eq!(status, 200);
    assert_eq!(header(&head, "content-type"), Some("application/json"));
    let served: Value = serde_json::from_str(&text).expect("/openapi.json is JSON");
    let built_in: Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
    assert_eq!(served, built_in);
    assert_eq!(served["openapi"], "3.1.0");

    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "patch", "head", "options", "trace",
    ];
    let paths = served["paths"].as_object().expect("paths");
    let mut documented = BTreeSet::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("a path item") {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            documented.insert((method.clone(), path.clone()));
            // Every {parameter} of the path is declared as one.
            for name in path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            {
                let declared = operation["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                assert!(
                    declared,
                    "{method} {path}: {{{name}}} is not a declared parameter"
                );
            }
        }
    }
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&routes).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "in ROUTES but not /openapi.json: {undocumented:?}; the other way: {unserved:?}"
    );

    // Each documented operation is served: no `no_route`, no 405. An unknown reservation id
    // and no Idempotency-Key, so nothing changes.
    let before = (rows(&sf), sf.get("/v1/products", &key));
    for (method, path) in &documented {
        let path = path
            .replace("{sku}", "OYS-1")
            .replace("{farm}", "north")
            .replace("{id}", "6f1c2a64-3b0e-4c59-9d3e-2b7f5a1e0c42");
        let method = method.to_ascii_uppercase();
        let (status, _, answer) = sf.call(&method, &path, Some(&key), &[], None);
        let code = answer["error"]["code"].as_str();
        assert!(
            status != 405 && code != Some("no_route") && code != Some("method_not_allowed"),
            "{method} {path} is documented but answers {status} {answer}"
        );
    }
    assert_eq!((rows(&sf), sf.get("/v1/products", &key)), before);
}

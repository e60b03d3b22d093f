//! Bad input on every route of the storefront API, against a real PostgreSQL: each request
//! is refused with the right status and error code (always a JSON error) and changes nothing
//! (reservations, their items, sales, adjustments, Idempotency-Keys, lots, availability).
//! The cases are tables; the 401 ones are made from `cloud_api::http::ROUTES`, so a new
//! route gets them too. (The rate limit and `/openapi.json`: `openapi_and_rate_limit.rs`.)

use cloud_api::http::ROUTES;
use farm_e2e::{header, try_http_exchange, Storefront};
use serde_json::Value;

const PRODUCTS: &[(&str, &str, u32)] = &[("OYS-1", "kg", 7), ("LION-1", "each", 5)];
const HOLD: &str = r#"{"items": [{"sku": "OYS-1", "quantity": 1}]}"#;
/// In a case's headers: leave this default header out.
const DROP: &str = "<drop>";
/// A key of the right shape that no tenant has.
const UNKNOWN_KEY: &str =
    "Bearer fsk_0000000000000000000000000000000000000000000000000000000000000000";
/// A reservation id that does not exist.
const UUID: &str = "6f1c2a64-3b0e-4c59-9d3e-2b7f5a1e0c42";
/// A good item of a reservation, and a good adjustment of lot `{lot}`.
const ITEM: &str = r#"{"sku": "OYS-1", "quantity": 1}"#;
const SPOIL: &str = r#"{"lot": {lot}, "delta": -1, "reason": "spoilage"}"#;

/// One request and the error it must get.
struct Case {
    method: String,
    path: String,
    /// Replacements of the default headers (the valid key; `Content-Type:
    /// application/json` with a body; a fresh `Idempotency-Key` on a POST); [`DROP`] removes.
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
    expected: (u16, &'static str),
}

fn case(
    method: &str,
    path: &str,
    headers: &[(&'static str, &str)],
    body: Option<&str>,
    expected: (u16, &'static str),
) -> Case {
    let headers = headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
    let (method, path, body) = (method.to_owned(), path.to_owned(), body.map(str::to_owned));
    Case {
        method,
        path,
        headers,
        body,
        expected,
    }
}

/// Counts and stock of everything a request could change, and the availability acme reads.
fn state(sf: &Storefront, key: &str) -> String {
    let rows = sf.sql(
        "SELECT concat_ws(' ', (SELECT count(*) FROM reservations),
             (SELECT count(*) FROM reservation_items), (SELECT count(*) FROM sales),
             (SELECT count(*) FROM inventory_adjustments), (SELECT count(*) FROM idempotency_keys),
             (SELECT string_agg(id || '=' || remaining, ',' ORDER BY id) FROM lots),
             (SELECT string_agg(id || '=' || status, ',' ORDER BY id) FROM reservations))",
    );
    let (status, products) = sf.get("/v1/products?fields=sku,available,reserved", key);
    assert_eq!(status, 200, "{products}");
    format!("{rows} {products}")
}

/// Runs `cases` with `key`; panics listing every case that got another answer (or a 405
/// without `Allow`) or changed something.
fn run(sf: &Storefront, key: &str, cases: &[Case]) {
    let mut before = state(sf, key);
    let mut failures = Vec::new();
    let bearer = format!("Bearer {key}");
    for (i, c) in cases.iter().enumerate() {
        let idem = format!("bad-{i}");
        let mut headers: Vec<(&str, &str)> = vec![("Authorization", &bearer)];
        if c.body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        if c.method == "POST" {
            headers.push(("Idempotency-Key", &idem));
        }
        for (name, value) in &c.headers {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            if value != DROP {
                headers.push((*name, value.as_str()));
            }
        }
        let body = c.body.as_deref();
        let (status, head, text) = try_http_exchange(&sf.addr, &c.method, &c.path, &headers, body)
            .unwrap_or_else(|e| panic!("case {i}: {} {}: {e}", c.method, c.path));
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let code = answer["error"]["code"].as_str().unwrap_or("-");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        let allow = status != 405 || header(&head, "allow").is_some();
        let (method, path, extra) = (&c.method, &c.path, &c.headers);
        let shown = format!(
            "case {i}: {method} {path} {extra:?} {:.120}",
            body.unwrap_or("")
        );
        if (status, code) != c.expected || message.is_empty() || !allow {
            let allow = if allow { "" } else { " without Allow" };
            let (s, code) = c.expected;
            failures.push(format!(
                "{shown}\n    expected {s} {code}, got {status}{allow} {text:.300}"
            ));
        }
        let after = state(sf, key);
        if after != before {
            failures.push(format!(
                "{shown}\n    changed {before}\n         to {after}"
            ));
            before = after;
        }
    }
    let (n, all) = (failures.len(), cases.len());
    assert!(
        failures.is_empty(),
        "{n} of {all} cases failed:\n{}",
        failures.join("\n")
    );
}

/// A valid request per /v1 route of ROUTES, on acme's resources (`held` a reservation,
/// `lot` a lot): (method, path, body).
fn one_per_route(held: &str, lot: i64) -> Vec<(String, String, Option<String>)> {
    ROUTES
        .iter()
        .filter(|(_, route)| route.starts_with("/v1/"))
        .map(|&(method, route)| {
            let path = route
                .replace("{sku}", "OYS-1")
                .replace("{farm}", "north")
                .replace("{id}", held);
            assert!(!path.contains('{'), "no value for a parameter of {route}");
            let body = match (method, route) {
                ("post", "/v1/reservations") => Some(HOLD.to_owned()),
                ("post", "/v1/inventory/adjustments") => {
                    Some(SPOIL.replace("{lot}", &lot.to_string()))
                }
                ("get" | "delete", _) | ("post", "/v1/reservations/{id}/commit") => None,
                _ => panic!("no request for {method} {route}; add one"),
            };
            (method.to_ascii_uppercase(), path, body)
        })
        .collect()
}

const INVALID: (u16, &str) = (422, "invalid");
const BAD_JSON: (u16, &str) = (400, "bad_json");
const BAD_QUERY: (u16, &str) = (400, "bad_query");
const BAD_REQUEST: (u16, &str) = (400, "bad_request");
const NOT_FOUND: (u16, &str) = (404, "not_found");
const NO_ROUTE: (u16, &str) = (404, "no_route");
const NOT_ALLOWED: (u16, &str) = (405, "method_not_allowed");
const MEDIA_TYPE: (u16, &str) = (415, "unsupported_media_type");
const STOCK: (u16, &str) = (409, "insufficient_stock");
const UNAUTHORIZED: (u16, &str) = (401, "unauthorized");
const TOO_LARGE: (u16, &str) = (413, "too_large");

/// Requests without a body: (method, path with `{held}`, `{uuid}` or a `{cursor}` too long
/// to be one, answer).
const QUERIES: &[(&str, &str, (u16, &str))] = &[
    ("GET", "/v1/products?limit=100000", INVALID),
    ("GET", "/v1/products?limit=0", INVALID),
    ("GET", "/v1/products?limit=201", INVALID),
    ("GET", "/v1/products?limit=abc", BAD_QUERY),
    ("GET", "/v1/products?limit=-1", BAD_QUERY),
    ("GET", "/v1/products?limit=1.5", BAD_QUERY),
    ("GET", "/v1/products?limit=4294967296", BAD_QUERY),
    ("GET", "/v1/products?color=blue", BAD_QUERY),
    ("GET", "/v1/products?cursor=zz", BAD_REQUEST),
    ("GET", "/v1/products?cursor=abc", BAD_REQUEST),
    ("GET", "/v1/products?cursor=ff", BAD_REQUEST),
    ("GET", "/v1/products?cursor={cursor}", BAD_REQUEST),
    ("GET", "/v1/products?fields=sku,price", INVALID),
    ("GET", "/v1/products?fields=", INVALID),
    ("GET", "/v1/products?fields=sku,,name", INVALID),
    ("GET", "/v1/products/OYS-1?fields=price", INVALID),
    ("GET", "/v1/products/OYS-1?limit=5", BAD_QUERY),
    ("GET", "/v1/products/NOPE-1", NOT_FOUND),
    ("GET", "/v1/farms/nowhere/inventory", NOT_FOUND),
    ("GET", "/v1/reservations/not-a-uuid", BAD_REQUEST),
    ("GET", "/v1/reservations/123", BAD_REQUEST),
    ("DELETE", "/v1/reservations/not-a-uuid", BAD_REQUEST),
    ("POST", "/v1/reservations/not-a-uuid/commit", BAD_REQUEST),
    ("GET", "/v1/reservations/{uuid}", NOT_FOUND),
    ("DELETE", "/v1/reservations/{uuid}", NOT_FOUND),
    ("POST", "/v1/reservations/{uuid}/commit", NOT_FOUND),
    // A path parameter that is not UTF-8 once decoded.
    ("GET", "/v1/products/%FF", BAD_REQUEST),
    ("GET", "/v1/farms/%FF/inventory", BAD_REQUEST),
    ("GET", "/v1/reservations/%FF", BAD_REQUEST),
    ("DELETE", "/v1/reservations/%FF", BAD_REQUEST),
    ("POST", "/v1/reservations/%FF/commit", BAD_REQUEST),
    ("GET", "/v1/nope", NO_ROUTE),
    ("GET", "/nope", NO_ROUTE),
    ("GET", "/v2/products", NO_ROUTE),
    ("GET", "/v1/products/OYS-1/extra", NO_ROUTE),
    ("PUT", "/v1/products", NOT_ALLOWED),
    ("DELETE", "/v1/products", NOT_ALLOWED),
    ("POST", "/v1/products/OYS-1", NOT_ALLOWED),
    ("PUT", "/v1/farms/north/inventory", NOT_ALLOWED),
    ("GET", "/v1/reservations", NOT_ALLOWED),
    ("PATCH", "/v1/reservations/{held}", NOT_ALLOWED),
    ("GET", "/v1/reservations/{held}/commit", NOT_ALLOWED),
    ("GET", "/v1/inventory/adjustments", NOT_ALLOWED),
    ("POST", "/healthz", NOT_ALLOWED),
];

/// Bodies of POST /v1/reservations, `{item}` a good item, `{many}` 101 of them, `{padding}`
/// 66 KiB.
const HOLDS: &[(&str, (u16, &str))] = &[
    ("{}", INVALID),
    (r#"{"ttl_seconds": 60}"#, INVALID),
    (r#"{"items": [{"sku": "OYS-1"}]}"#, INVALID),
    (r#"{"items": [{"quantity": 1}]}"#, INVALID),
    (
        r#"{"items": [{"sku": "OYS-1", "quantity": 1, "price": 2}]}"#,
        INVALID,
    ),
    (r#"{"items": [{item}], "note": "x"}"#, INVALID),
    (r#"{"items": [{"sku": "OYS-1", "quantity": -1}]}"#, INVALID),
    (r#"{"items": [{"sku": "OYS-1", "quantity": 0}]}"#, INVALID),
    (
        r#"{"items": [{"sku": "OYS-1", "quantity": 1e999}]}"#,
        BAD_JSON,
    ),
    (
        r#"{"items": [{"sku": "OYS-1", "quantity": NaN}]}"#,
        BAD_JSON,
    ),
    (r#"{"items": [{"sku": "OYS-1", "quantity": "1"}]}"#, INVALID),
    (
        r#"{"items": [{"sku": "OYS-1", "quantity": null}]}"#,
        INVALID,
    ),
    (
        r#"{"items": [{"sku": "OYS-1", "quantity": 1.0005}]}"#,
        INVALID,
    ),
    (r#"{"items": [{"sku": "OYS-1", "quantity": 2e9}]}"#, INVALID),
    (
        r#"{"items": [{"sku": "LION-1", "quantity": 1.5}]}"#,
        INVALID,
    ),
    (
        r#"{"items": [{"sku": "LION-1", "quantity": 0.001}]}"#,
        INVALID,
    ),
    (r#"{"items": []}"#, INVALID),
    (
        r#"{"items": [{item}, {"sku": "OYS-1", "quantity": 2}]}"#,
        INVALID,
    ),
    (
        r#"{"items": [{"sku": "NOPE-1", "quantity": 1}]}"#,
        NOT_FOUND,
    ),
    (r#"{"items": [{"sku": "OYS-1", "quantity": 1000}]}"#, STOCK),
    (r#"{"items": [{item}], "ttl_seconds": 0}"#, INVALID),
    (r#"{"items": [{item}], "ttl_seconds": 7201}"#, INVALID),
    (r#"{"items": [{item}], "ttl_seconds": -5}"#, INVALID),
    (r#"{"items": [{item}], "ttl_seconds": 1.5}"#, INVALID),
    (r#"{"items": [{item}], "ttl_seconds": 1e999}"#, BAD_JSON),
    ("[]", INVALID),
    (r#""items""#, INVALID),
    ("", BAD_JSON),
    (r#"{"items": ["#, BAD_JSON),
    (r#"{"items": [{item}]}}"#, BAD_JSON),
    (r#"{"items": [{many}]}"#, INVALID),
    (r#"{"items": [{item}], "x": "{padding}"}"#, TOO_LARGE),
];

/// Bodies of POST /v1/inventory/adjustments, `{lot}` acme's lot (10 left), `{note}` 501
/// characters.
const ADJUSTMENTS: &[(&str, (u16, &str))] = &[
    (
        r#"{"lot": {lot}, "delta": 1, "reason": "spoilage"}"#,
        INVALID,
    ),
    (
        r#"{"lot": {lot}, "delta": 0.5, "reason": "damage"}"#,
        INVALID,
    ),
    (
        r#"{"lot": {lot}, "delta": 0, "reason": "spoilage"}"#,
        INVALID,
    ),
    (
        r#"{"lot": {lot}, "delta": 0, "reason": "correction"}"#,
        INVALID,
    ),
    (
        r#"{"lot": {lot}, "delta": -0.0, "reason": "correction"}"#,
        INVALID,
    ),
    (r#"{"lot": {lot}, "delta": -1, "reason": "theft"}"#, INVALID),
    (
        r#"{"lot": {lot}, "delta": -1, "reason": "Spoilage"}"#,
        INVALID,
    ),
    (r#"{"lot": {lot}, "delta": -1, "reason": ""}"#, INVALID),
    (
        r#"{"lot": {lot}, "delta": -1.0001, "reason": "spoilage"}"#,
        INVALID,
    ),
    (
        r#"{"lot": {lot}, "delta": -2e9, "reason": "correction"}"#,
        INVALID,
    ),
    (
        r#"{"lot": {lot}, "delta": -1e999, "reason": "spoilage"}"#,
        BAD_JSON,
    ),
    (
        r#"{"lot": {lot}, "delta": "-1", "reason": "spoilage"}"#,
        INVALID,
    ),
    (
        r#"{"lot": {lot}, "delta": -11, "reason": "spoilage"}"#,
        STOCK,
    ),
    (
        r#"{"lot": 999999, "delta": -1, "reason": "spoilage"}"#,
        NOT_FOUND,
    ),
    (
        r#"{"lot": "1", "delta": -1, "reason": "spoilage"}"#,
        INVALID,
    ),
    (
        r#"{"lot": 1.5, "delta": -1, "reason": "spoilage"}"#,
        INVALID,
    ),
    (r#"{"delta": -1, "reason": "spoilage"}"#, INVALID),
    (r#"{"lot": {lot}, "reason": "spoilage"}"#, INVALID),
    (r#"{"lot": {lot}, "delta": -1}"#, INVALID),
    (
        r#"{"lot": {lot}, "delta": -1, "reason": "damage", "by": "me"}"#,
        INVALID,
    ),
    (r#"{"lot": {lot}, "delta": -1, "#, BAD_JSON),
    (
        r#"{"lot": {lot}, "delta": -1, "reason": "damage", "note": "{note}"}"#,
        INVALID,
    ),
    (
        r#"{"lot": {lot}, "delta": -1, "reason": "damage", "note": "{padding}"}"#,
        TOO_LARGE,
    ),
];

/// Headers of both POSTs with a good body: content type, Idempotency-Key (`{long}`: 256
/// characters).
const HEADERS: &[(&str, &str, (u16, &str))] = &[
    ("Content-Type", "text/plain", MEDIA_TYPE),
    (
        "Content-Type",
        "application/x-www-form-urlencoded",
        MEDIA_TYPE,
    ),
    ("Content-Type", "application/jsonx", MEDIA_TYPE),
    ("Content-Type", DROP, MEDIA_TYPE),
    ("Idempotency-Key", DROP, (400, "missing_idempotency_key")),
    ("Idempotency-Key", "{long}", BAD_REQUEST),
    ("Idempotency-Key", "two words", BAD_REQUEST),
    ("Idempotency-Key", "", BAD_REQUEST),
];

#[test]
fn bad_requests_are_refused_with_their_code_and_change_nothing() {
    let sf = Storefront::start("");
    let key = sf.tenant("acme", &["north", "south"], PRODUCTS);
    let lot = sf.add_lot("acme", "north", "OYS-1", 10.0, 0.0);
    sf.add_lot("acme", "south", "LION-1", 5.0, 0.0);
    let (status, held) = sf.post("/v1/reservations", &key, "held", HOLD);
    assert_eq!(status, 201, "{held}");
    let held = held["id"].as_str().expect("an id");
    let (long, note, padding) = ("k".repeat(256), "é".repeat(501), "x".repeat(66 << 10));
    let many: Vec<String> = (0..101)
        .map(|i| ITEM.replace("OYS-1", &format!("S-{i}")))
        .collect();
    let fill = |template: &str| {
        (template.replace("{held}", held).replace("{uuid}", UUID))
            .replace("{cursor}", &"00".repeat(129))
            .replace("{lot}", &lot.to_string())
            .replace("{item}", ITEM)
            .replace("{many}", &many.join(","))
            .replace("{long}", &long)
            .replace("{note}", &note)
            .replace("{padding}", &padding)
    };
    let mut cases = Vec::new();

    // No, malformed or unknown credentials on every /v1 route.
    let wrong_scheme = format!("Token {key}");
    let credentials = [
        "Basic YWNtZTpzZWNyZXQ=",
        "Bearer",
        "Bearer  ",
        &wrong_scheme,
    ];
    for (method, path, body) in one_per_route(held, lot) {
        for auth in [DROP, UNKNOWN_KEY].into_iter().chain(credentials) {
            let (headers, body) = ([("Authorization", auth)], body.as_deref());
            cases.push(case(&method, &path, &headers, body, UNAUTHORIZED));
        }
    }
    // Query strings, path parameters, routing.
    for (method, path, expected) in QUERIES {
        cases.push(case(method, &fill(path), &[], None, *expected));
    }
    // A malformed Idempotency-Key, where one is optional.
    for bad in [long.as_str(), "two words", ""] {
        let (path, headers) = (
            fill("/v1/reservations/{held}/commit"),
            [("Idempotency-Key", bad)],
        );
        cases.push(case("POST", &path, &headers, None, BAD_REQUEST));
    }
    // Bodies.
    let posts = HOLDS.iter().map(|b| ("/v1/reservations", b));
    let posts = posts.chain(ADJUSTMENTS.iter().map(|b| ("/v1/inventory/adjustments", b)));
    for (path, (body, expected)) in posts {
        cases.push(case("POST", path, &[], Some(&fill(body)), *expected));
    }
    // Content types and Idempotency-Keys of good bodies.
    let spoil = fill(SPOIL);
    for (path, body) in [
        ("/v1/reservations", HOLD),
        ("/v1/inventory/adjustments", &spoil),
    ] {
        for (name, value, expected) in HEADERS {
            let value = fill(value);
            cases.push(case("POST", path, &[(name, &value)], Some(body), *expected));
        }
    }
    run(&sf, &key, &cases);
}

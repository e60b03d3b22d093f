//! Tenant isolation on every /v1 route of `cloud_api::http::ROUTES`, against a real
//! PostgreSQL: tenant `globex`, with its own key, uses `acme`'s SKUs, farm slugs,
//! reservation ids, lot ids and Idempotency-Keys. What globex lacks answers 404 `not_found`;
//! where both have the same SKU or farm slug, globex sees only its own numbers; nothing of
//! acme's changes. A revoked key gets 401 on every route. Each test is a table over ROUTES, so
//! a new /v1 route without a case fails it.

use std::collections::BTreeSet;
use std::time::Duration;

use cloud_api::http::ROUTES;
use farm_e2e::{wait_until, Storefront};
use serde_json::Value;

/// Both catalogues have OYS-1 and LION-1; each has a SKU of its own.
const ACME: &[(&str, &str, u32)] = &[
    ("OYS-1", "kg", 7),
    ("LION-1", "each", 5),
    ("ACME-ONLY", "kg", 7),
];
const GLOBEX: &[(&str, &str, u32)] = &[
    ("OYS-1", "kg", 7),
    ("LION-1", "each", 5),
    ("GLX-ONLY", "kg", 7),
];
const GLOBEX_SKUS: [&str; 3] = ["GLX-ONLY", "LION-1", "OYS-1"];

/// acme's held reservation (Idempotency-Key `acme-held`) and its adjustment of `{lot}`
/// (`acme-adj`).
const HOLD: &str = r#"{"items": [{"sku": "OYS-1", "quantity": 1}]}"#;
const ADJUST: &str = r#"{"lot": {lot}, "delta": 0.5, "reason": "correction"}"#;

/// acme and globex, both with a farm `north` and one of their own, the same SKUs, lots and
/// a hold; acme also has a sale and an adjustment.
struct World {
    sf: Storefront,
    acme: String,
    globex: String,
    /// acme's held and committed reservations.
    held: String,
    committed: String,
    /// acme's OYS-1 lot on its farm `north`, and globex's.
    acme_lot: i64,
    globex_lot: i64,
}

impl World {
    /// `template` with acme's `{held}`, `{committed}`, `{lot}` and a `{cursor}` after acme's
    /// own SKU.
    fn fill(&self, template: &str) -> String {
        let cursor: String = "ACME-ONLY".bytes().map(|b| format!("{b:02x}")).collect();
        template
            .replace("{held}", &self.held)
            .replace("{committed}", &self.committed)
            .replace("{lot}", &self.acme_lot.to_string())
            .replace("{cursor}", &cursor)
    }
}

fn created((status, body): (u16, Value)) -> String {
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("an id").to_owned()
}

fn world() -> World {
    let sf = Storefront::start("");
    let acme = sf.tenant("acme", &["north", "acme-farm"], ACME);
    let globex = sf.tenant("globex", &["north", "globex-farm"], GLOBEX);
    let acme_lot = sf.add_lot("acme", "north", "OYS-1", 10.0, 1.0);
    sf.add_lot("acme", "acme-farm", "OYS-1", 5.0, 0.0);
    sf.add_lot("acme", "north", "ACME-ONLY", 4.0, 0.0);
    sf.add_lot("acme", "north", "LION-1", 6.0, 0.0);
    let globex_lot = sf.add_lot("globex", "north", "OYS-1", 2.0, 0.0);
    sf.add_lot("globex", "globex-farm", "GLX-ONLY", 1.0, 0.0);
    let held = created(sf.post("/v1/reservations", &acme, "acme-held", HOLD));
    let two = r#"{"items": [{"sku": "OYS-1", "quantity": 2}]}"#;
    let committed = created(sf.post("/v1/reservations", &acme, "acme-sold", two));
    let commit = format!("/v1/reservations/{committed}/commit");
    let (status, _, body) = sf.call("POST", &commit, Some(&acme), &[], None);
    assert_eq!(status, 200, "{body}");
    let adjust = ADJUST.replace("{lot}", &acme_lot.to_string());
    let (status, body) = sf.post("/v1/inventory/adjustments", &acme, "acme-adj", &adjust);
    assert_eq!(status, 201, "{body}");
    let half = r#"{"items": [{"sku": "OYS-1", "quantity": 0.5}]}"#;
    created(sf.post("/v1/reservations", &globex, "globex-held", half));
    World {
        sf,
        acme,
        globex,
        held,
        committed,
        acme_lot,
        globex_lot,
    }
}

/// Rows of one tenant's data that another tenant's requests must never touch.
const ACME_ROWS: &str = "WITH t AS (SELECT id FROM tenants WHERE slug = 'acme')
SELECT concat_ws(' | ',
  (SELECT string_agg(id || '=' || remaining, ',' ORDER BY id) FROM lots
   WHERE tenant_id = (SELECT id FROM t)),
  (SELECT string_agg(id || '=' || status || '@' || coalesce(closed_at::text, '-'), ','
                     ORDER BY id) FROM reservations WHERE tenant_id = (SELECT id FROM t)),
  (SELECT string_agg(i.reservation_id || '/' || i.product_id || '=' || i.quantity || '@'
                     || coalesce(i.held_until::text, '-'), ',' ORDER BY 1)
   FROM reservation_items i JOIN reservations r ON r.id = i.reservation_id
   WHERE r.tenant_id = (SELECT id FROM t)),
  (SELECT count(*) FROM sales s JOIN lots l ON l.id = s.lot_id
   WHERE l.tenant_id = (SELECT id FROM t)),
  (SELECT string_agg(a.id || '=' || a.delta, ',' ORDER BY a.id) FROM inventory_adjustments a
   JOIN lots l ON l.id = a.lot_id WHERE l.tenant_id = (SELECT id FROM t)),
  (SELECT string_agg(key || '=' || status, ',' ORDER BY key) FROM idempotency_keys
   WHERE tenant_id = (SELECT id FROM t)),
  (SELECT string_agg(id || '=' || coalesce(revoked_at::text, '-'), ',' ORDER BY id)
   FROM api_keys WHERE tenant_id = (SELECT id FROM t)))";

/// Rows of one tenant that point at another tenant's: must be 0.
const CROSSED: &str = "SELECT
  (SELECT count(*) FROM sales s JOIN reservations r ON r.id = s.reservation_id
   JOIN lots l ON l.id = s.lot_id WHERE r.tenant_id <> l.tenant_id)
+ (SELECT count(*) FROM reservation_items i JOIN reservations r ON r.id = i.reservation_id
   JOIN products p ON p.id = i.product_id WHERE r.tenant_id <> p.tenant_id)
+ (SELECT count(*) FROM inventory_adjustments a JOIN lots l ON l.id = a.lot_id
   WHERE a.tenant_id <> l.tenant_id)";

/// acme's state: its rows, and what its own key reads (availability, farms, reservations).
fn acme_state(w: &World) -> String {
    let mut state = w.sf.sql(ACME_ROWS);
    for path in [
        "/v1/products".to_owned(),
        "/v1/farms/north/inventory".to_owned(),
        "/v1/farms/acme-farm/inventory".to_owned(),
        format!("/v1/reservations/{}", w.held),
        format!("/v1/reservations/{}", w.committed),
    ] {
        let (status, body) = w.sf.get(&path, &w.acme);
        assert_eq!(status, 200, "acme GET {path}: {body}");
        state.push_str(&format!("\n{path}: {body}"));
    }
    state
}

fn number(value: &Value, field: &str) -> f64 {
    value[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} in {value}"))
}

/// Products of a page, all globex's, with globex's numbers where they are shown.
fn globex_products(_: &World, page: &Value) {
    let products = page["products"].as_array().expect("products");
    for p in products {
        let sku = p["sku"].as_str().expect("sku");
        assert!(GLOBEX_SKUS.contains(&sku), "not globex's: {p}");
        if let Some(farms) = p["farms"].as_array() {
            let slugs: Vec<&str> = farms.iter().filter_map(|f| f["farm"].as_str()).collect();
            let expected: &[&str] = match sku {
                "OYS-1" => &["north"],
                "GLX-ONLY" => &["globex-farm"],
                _ => &[],
            };
            assert_eq!(slugs, expected, "{p}");
            if sku == "OYS-1" {
                assert_eq!(number(&farms[0], "on_hand"), 2.0, "{p}");
            }
        }
        if p.get("on_hand").is_some() {
            let numbers = ["on_hand", "reserved", "available"].map(|f| number(p, f));
            let expected = match sku {
                "OYS-1" => [2.0, 0.5, 1.5],
                "GLX-ONLY" => [1.0, 0.0, 1.0],
                _ => [0.0, 0.0, 0.0],
            };
            assert_eq!(numbers, expected, "globex's numbers of {p}");
        }
    }
}

/// The whole list: exactly globex's products.
fn globex_list(w: &World, page: &Value) {
    globex_products(w, page);
    let skus: Vec<&str> = page["products"]
        .as_array()
        .expect("products")
        .iter()
        .filter_map(|p| p["sku"].as_str())
        .collect();
    assert_eq!(skus, GLOBEX_SKUS, "{page}");
}

fn globex_product(w: &World, product: &Value) {
    globex_products(w, &serde_json::json!({ "products": [product] }));
}

/// globex's farm `north`: only globex's lot.
fn globex_north(w: &World, inventory: &Value) {
    assert_eq!(inventory["farm"], "north");
    let products = inventory["products"].as_array().expect("products");
    let skus: Vec<&str> = products.iter().filter_map(|p| p["sku"].as_str()).collect();
    assert_eq!(skus, ["OYS-1"], "{inventory}");
    assert_eq!(number(&products[0], "on_hand"), 2.0, "{inventory}");
    let lots: Vec<i64> = products[0]["lots"]
        .as_array()
        .expect("lots")
        .iter()
        .filter_map(|l| l["id"].as_i64())
        .collect();
    assert_eq!(lots, [w.globex_lot], "{inventory}");
}

/// A hold of globex's own under acme's Idempotency-Key: a new reservation of globex's, not
/// acme's answer replayed. Released again, so globex's numbers stay put.
fn globex_own_hold(w: &World, reservation: &Value) {
    let id = reservation["id"].as_str().expect("an id");
    assert_ne!(id, w.held, "acme's reservation replayed to globex");
    let path = format!("/v1/reservations/{id}");
    assert_eq!(w.sf.get(&path, &w.globex).0, 200);
    assert_eq!(w.sf.get(&path, &w.acme).0, 404);
    let (status, _, body) = w.sf.call("DELETE", &path, Some(&w.globex), &[], None);
    assert_eq!((status, body["status"].as_str()), (200, Some("released")));
}

/// One request of globex's key and what it must get.
struct Case {
    method: &'static str,
    /// With acme's ids: see [`World::fill`].
    path: &'static str,
    /// Idempotency-Key and JSON body (see [`World::fill`]), for a POST with a body.
    post: Option<(&'static str, &'static str)>,
    status: u16,
    /// More checks on globex's answer.
    check: fn(&World, &Value),
}

fn case(method: &'static str, path: &'static str, status: u16) -> Case {
    let check = |_: &World, _: &Value| {};
    let post = None;
    Case {
        method,
        path,
        post,
        status,
        check,
    }
}

impl Case {
    fn body(self, idempotency_key: &'static str, body: &'static str) -> Case {
        let post = Some((idempotency_key, body));
        Case { post, ..self }
    }

    fn then(self, check: fn(&World, &Value)) -> Case {
        Case { check, ..self }
    }

    /// The error code it must get: `None` for a success.
    fn code(&self) -> Option<&'static str> {
        match self.status {
            404 => Some("not_found"),
            409 => Some("insufficient_stock"),
            _ => None,
        }
    }
}

/// The ROUTES entry (method, template) that `method path` (query aside) is a request of.
fn route_of(method: &str, path: &str) -> Option<(String, &'static str)> {
    let method = method.to_ascii_lowercase();
    let path: Vec<&str> = path.split('?').next().unwrap_or(path).split('/').collect();
    let fits = |route: &str| {
        let route: Vec<&str> = route.split('/').collect();
        route.len() == path.len()
            && (route.iter().zip(&path))
                .all(|(r, p)| r == p || (r.starts_with('{') && !p.is_empty()))
    };
    let &(_, route) = ROUTES.iter().find(|&&(m, r)| m == method && fits(r))?;
    Some((method, route))
}

fn v1_routes() -> BTreeSet<(String, &'static str)> {
    ROUTES
        .iter()
        .filter(|(_, path)| path.starts_with("/v1/"))
        .map(|&(method, path)| (method.to_owned(), path))
        .collect()
}

fn cases() -> Vec<Case> {
    let (r, a) = ("/v1/reservations", "/v1/inventory/adjustments");
    vec![
        case("GET", "/v1/products", 200).then(globex_list),
        case("GET", "/v1/products?limit=1", 200).then(globex_products),
        case("GET", "/v1/products?cursor={cursor}", 200).then(globex_list),
        case("GET", "/v1/products?fields=sku,farms", 200).then(globex_list),
        case("GET", "/v1/products/ACME-ONLY", 404),
        case("GET", "/v1/products/OYS-1", 200).then(globex_product),
        case("GET", "/v1/products/LION-1", 200).then(globex_product),
        case("GET", "/v1/products/OYS-1?fields=sku,farms", 200).then(globex_product),
        case("GET", "/v1/farms/acme-farm/inventory", 404),
        case("GET", "/v1/farms/north/inventory", 200).then(globex_north),
        case("POST", r, 404).body("g1", r#"{"items": [{"sku": "ACME-ONLY", "quantity": 1}]}"#),
        // acme has 12.5 of OYS-1 and 6 of LION-1 available, globex 1.5 and 0.
        case("POST", r, 409).body("g2", r#"{"items": [{"sku": "OYS-1", "quantity": 5}]}"#),
        case("POST", r, 409).body("g3", r#"{"items": [{"sku": "LION-1", "quantity": 1}]}"#),
        // acme's Idempotency-Key with acme's very body: globex's own hold, not a replay.
        case("POST", r, 201)
            .body("acme-held", HOLD)
            .then(globex_own_hold),
        case("GET", "/v1/reservations/{held}", 404),
        case("GET", "/v1/reservations/{committed}", 404),
        case("DELETE", "/v1/reservations/{held}", 404),
        case("DELETE", "/v1/reservations/{committed}", 404),
        case("POST", "/v1/reservations/{held}/commit", 404),
        case("POST", "/v1/reservations/{committed}/commit", 404),
        case("POST", a, 404).body(
            "g4",
            r#"{"lot": {lot}, "delta": 1, "reason": "correction"}"#,
        ),
        case("POST", a, 404).body("g5", r#"{"lot": {lot}, "delta": -1, "reason": "spoilage"}"#),
        case("POST", a, 404).body("g6", r#"{"lot": {lot}, "delta": -10, "reason": "damage"}"#),
        // acme's Idempotency-Key with acme's very body: not acme's answer replayed.
        case("POST", a, 404).body("acme-adj", ADJUST),
    ]
}

#[test]
fn another_tenant_sees_and_changes_nothing_of_acme_on_any_route() {
    let w = world();
    let before = acme_state(&w);
    // acme's own view, as a check of the set-up: 10 + 0.5 + 5 − 2 sold, 1 held.
    let (_, oys) = w.sf.get("/v1/products/OYS-1", &w.acme);
    let numbers = ["on_hand", "reserved", "available"].map(|f| number(&oys, f));
    assert_eq!(numbers, [13.5, 1.0, 12.5], "{oys}");
    let mut exercised = BTreeSet::new();
    for (i, c) in cases().iter().enumerate() {
        let path = w.fill(c.path);
        let body = c.post.map(|(_, body)| w.fill(body));
        let what = format!("case {i}: globex {} {path} {body:?}", c.method);
        let route = route_of(c.method, &path).unwrap_or_else(|| panic!("{what}: no such route"));
        let headers: Vec<(&str, &str)> = c.post.iter().map(|p| ("Idempotency-Key", p.0)).collect();
        let (status, _, answer) =
            w.sf.call(c.method, &path, Some(&w.globex), &headers, body.as_deref());
        let code = answer["error"]["code"].as_str();
        assert_eq!((status, code), (c.status, c.code()), "{what}: {answer}");
        (c.check)(&w, &answer);
        assert_eq!(acme_state(&w), before, "{what} changed acme's state");
        assert_eq!(w.sf.sql(CROSSED), "0", "{what} crossed tenants");
        exercised.insert(route);
    }
    assert_eq!(
        exercised,
        v1_routes(),
        "every /v1 route needs an isolation case"
    );
}

/// One request of acme's per /v1 route, on acme's resources.
fn one_per_route(w: &World) -> Vec<(&'static str, &'static str, String, Option<String>)> {
    ROUTES
        .iter()
        .filter(|(_, route)| route.starts_with("/v1/"))
        .map(|&(method, route)| {
            let path = route
                .replace("{sku}", "OYS-1")
                .replace("{farm}", "north")
                .replace("{id}", &w.held);
            assert!(!path.contains('{'), "no value for a parameter of {route}");
            let body = match (method, route) {
                ("post", "/v1/reservations") => Some(HOLD.to_owned()),
                ("post", "/v1/inventory/adjustments") => Some(w.fill(ADJUST)),
                ("get" | "delete", _) | ("post", "/v1/reservations/{id}/commit") => None,
                _ => panic!("no request for {method} {route}; add one"),
            };
            (method, route, path, body)
        })
        .collect()
}

#[test]
fn a_revoked_key_gets_401_on_every_route_and_changes_nothing() {
    let w = world();
    let doomed = w.sf.key("acme");
    let id = w.sf.sql(&format!(
        "SELECT id FROM api_keys WHERE key_sha256 = sha256('{doomed}'::bytea)"
    ));
    // Used once, so the service has it cached.
    assert_eq!(w.sf.get("/v1/products", &doomed).0, 200);
    // Another tenant cannot revoke it.
    let (code, _, stderr) =
        w.sf.cli(&["key", "revoke", "--tenant", "globex", "--id", &id]);
    assert_ne!(code, Some(0), "globex revoked acme's key: {stderr}");
    let revoked = format!("SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = {id}");
    assert_eq!(w.sf.sql(&revoked), "f");
    assert_eq!(w.sf.get("/v1/products", &doomed).0, 200);

    w.sf.admin(&["key", "revoke", "--tenant", "acme", "--id", &id]);
    assert_eq!(w.sf.sql(&revoked), "t");
    // Refused once its entry in the key cache (http.key_cache_ttl, 10 s) expires.
    wait_until(
        "the revoked key is refused",
        Duration::from_secs(30),
        || w.sf.get("/v1/products", &doomed).0 == 401,
    );
    let before = acme_state(&w);
    let mut exercised = BTreeSet::new();
    for (i, (method, route, path, body)) in one_per_route(&w).into_iter().enumerate() {
        let method = method.to_ascii_uppercase();
        let idem = [("Idempotency-Key", format!("revoked-{i}"))];
        let headers: Vec<(&str, &str)> = idem.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (status, _, answer) =
            w.sf.call(&method, &path, Some(&doomed), &headers, body.as_deref());
        let code = answer["error"]["code"].as_str();
        assert_eq!(
            (status, code),
            (401, Some("unauthorized")),
            "{method} {path}: {answer}"
        );
        assert_eq!(
            acme_state(&w),
            before,
            "{method} {path} with a revoked key changed acme"
        );
        exercised.insert((method.to_ascii_lowercase(), route));
    }
    assert_eq!(exercised, v1_routes());
    // acme's other key still works.
    assert_eq!(w.sf.get("/v1/products", &w.acme).0, 200);
}

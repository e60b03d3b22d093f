//! Harvest entry on the running agent, as the panel and a farm manager use it: a harvest is
//! committed to the outbox before the 201, listed newest first as pending, kept across a
//! restart and shown synced once the uplink's batch is acknowledged; a bad request gets its
//! 4xx and writes nothing.
#![allow(clippy::unwrap_used)]

mod common;
mod sync_service;

use std::path::Path;

use common::{config, start, Agent, PRODUCTS, TOKEN, WAIT};
use farm_e2e::{http_request, temp_dir};
use serde_json::{json, Value};
use sync_service::Service;

const HARVESTS: &str = "/api/harvests";

/// The shared control config (room `fruiting-1`, from its humidifier) with the API token,
/// the products and `sync` as the body of `[sync]` (empty: sync off).
fn start_agent(dir: &Path, sync: &str) -> Agent {
    let hash = farm_broker::hash_password(TOKEN).unwrap();
    let text = format!(
        "{}{PRODUCTS}\n[sync]\n{sync}\n",
        config(&dir.join("data"), Some(&hash), "")
    );
    std::fs::write(dir.join("token"), "device-token\n").unwrap();
    start(dir, &text)
}

/// `POST /api/harvests` with `token` and `content_type`; the status and the JSON body.
fn post(addr: &str, token: Option<&str>, content_type: Option<&str>, body: &str) -> (u16, Value) {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(content_type) = content_type {
        headers.push(("Content-Type", content_type));
    }
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer.as_str()));
    }
    let (status, text) = http_request(addr, "POST", HARVESTS, &headers, Some(body));
    let value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("POST {body}: {status} with a body that is not JSON ({e}): {text:?}")
    });
    (status, value)
}

fn record(addr: &str, body: &str) -> Value {
    let (status, answer) = post(addr, Some(TOKEN), Some("application/json"), body);
    assert_eq!(status, 201, "{body}: {answer}");
    answer
}

/// `GET path` without a token; the status and the JSON body.
fn get(addr: &str, path: &str) -> (u16, Value) {
    let (status, text) = http_request(addr, "GET", path, &[], None);
    (status, serde_json::from_str(&text).unwrap())
}

fn list(addr: &str) -> Vec<Value> {
    let (status, body) = get(addr, HARVESTS);
    assert_eq!(status, 200, "{body}");
    body["harvests"].as_array().unwrap().clone()
}

/// The harvest events in the outbox of `data`, in seq order: seq, id, ts and the JSON body.
/// Read-only, so it may look while the agent runs (WAL: it sees what was committed).
fn stored(data: &Path) -> Vec<(u64, String, i64, Value)> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let db = rusqlite::Connection::open_with_flags(data.join("outbox.sqlite"), flags).unwrap();
    let mut stmt = db
        .prepare("SELECT seq, id, ts, body FROM events WHERE kind = 'harvest' ORDER BY seq")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            let id = uuid::Uuid::from_slice(&r.get::<_, Vec<u8>>(1)?).unwrap();
            let body: String = r.get(3)?;
            Ok((
                r.get(0)?,
                id.to_string(),
                r.get(2)?,
                serde_json::from_str(&body).unwrap(),
            ))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// Today's date in the agent's time zone (the system's), as lot codes carry it.
fn today() -> String {
    jiff::Zoned::now().strftime("%Y%m%d").to_string()
}

#[test]
fn a_harvest_is_committed_listed_kept_across_a_restart_and_synced_once_acked() {
    let dir = temp_dir();
    let mut agent = start_agent(dir.path(), "enabled = false");
    let first = record(
        &agent.http,
        r#"{"room": "fruiting-1", "product": "OYS-BLUE", "quantity": 4.5, "unit": "kg",
            "lot": "2026-11-22-A"}"#,
    );
    assert_eq!(first["lot"], "2026-11-22-A", "{first}");
    assert_eq!(first["status"], "pending", "{first}");
    // Committed before the answer: it is in the file now.
    let committed = stored(&agent.data);
    assert_eq!(committed.len(), 1, "{committed:#?}");
    assert_eq!(committed[0].0, first["seq"].as_u64().unwrap());
    assert_eq!(committed[0].1, first["id"].as_str().unwrap());
    let second = record(
        &agent.http,
        r#"{"room": "fruiting-1", "product": "MICRO-PEA", "quantity": 0.75, "unit": "kg"}"#,
    );
    let lot = second["lot"].as_str().unwrap().to_owned();
    let prefix = format!("fruiting-1-{}-", today());
    let suffix = lot
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("lot {lot}"));
    assert!(
        suffix.len() == 6 && suffix.chars().all(|c| c.is_ascii_hexdigit()),
        "{lot}"
    );
    let seqs = [
        first["seq"].as_u64().unwrap(),
        second["seq"].as_u64().unwrap(),
    ];
    assert!(seqs[0] < seqs[1], "{first} {second}");

    // Newest first, with every field; none synced (sync is off).
    let shown = list(&agent.http);
    let without_ts = |mut v: Value| {
        assert!(v["ts"].as_i64().unwrap() > 1_700_000_000_000, "{v}");
        v.as_object_mut().unwrap().remove("ts");
        v
    };
    let expected = [
        json!({"id": second["id"], "seq": seqs[1], "room": "fruiting-1", "product": "MICRO-PEA",
               "quantity": 0.75, "unit": "kg", "lot": lot, "status": "pending"}),
        json!({"id": first["id"], "seq": seqs[0], "room": "fruiting-1", "product": "OYS-BLUE",
               "quantity": 4.5, "unit": "kg", "lot": "2026-11-22-A", "status": "pending"}),
    ];
    let shown_ts: Vec<i64> = shown.iter().map(|v| v["ts"].as_i64().unwrap()).collect();
    assert_eq!(
        shown
            .clone()
            .into_iter()
            .map(without_ts)
            .collect::<Vec<_>>(),
        expected
    );
    let (status, one) = get(&agent.http, "/api/harvests?limit=1");
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["harvests"].as_array().unwrap().len(), 1, "{one}");
    assert_eq!(one["harvests"][0]["seq"], seqs[1], "{one}");
    agent.stop();

    // In the outbox, as the sync-service will get them.
    let rows = stored(&dir.path().join("data"));
    let fields = |e: &Value| {
        json!({"kind": e["kind"], "room": e["room"], "product": e["product"],
               "quantity": e["quantity"], "unit": e["unit"], "lot": e["lot"]})
    };
    let answers = [(&first, shown_ts[1]), (&second, shown_ts[0])];
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for ((seq, id, ts, _), (answer, shown_ts)) in rows.iter().zip(answers) {
        assert_eq!(*seq, answer["seq"].as_u64().unwrap(), "{rows:#?}");
        assert_eq!(id, answer["id"].as_str().unwrap(), "{rows:#?}");
        assert_eq!(*ts, shown_ts, "{rows:#?}");
    }
    let bodies: Vec<Value> = rows.iter().map(|(_, _, _, body)| fields(body)).collect();
    assert_eq!(
        bodies,
        [
            json!({"kind": "harvest", "room": "fruiting-1", "product": "OYS-BLUE",
                   "quantity": 4.5, "unit": "kg", "lot": "2026-11-22-A"}),
            json!({"kind": "harvest", "room": "fruiting-1", "product": "MICRO-PEA",
                   "quantity": 0.75, "unit": "kg", "lot": lot}),
        ]
    );

    // After a restart, now syncing to a service that acknowledges every batch: still listed,
    // and synced once the service has acknowledged the batch that carried them.
    let service = Service::start(Vec::new());
    let sync = format!(
        "enabled = true\nurl = \"http://{}\"\ntoken_file = \"token\"\ninterval = \"200ms\"",
        service.addr
    );
    let mut agent = start_agent(dir.path(), &sync);
    let seqs_after: Vec<Value> = list(&agent.http).iter().map(|h| h["seq"].clone()).collect();
    assert_eq!(seqs_after, [seqs[1], seqs[0]]);
    farm_e2e::wait_until("both harvests synced", WAIT, || {
        list(&agent.http).iter().all(|h| h["status"] == "synced")
    });
    let sent: Vec<_> = service
        .requests()
        .into_iter()
        .flat_map(|r| r.batch.events)
        .filter(|e| e.kind.name() == "harvest")
        .collect();
    let sent_ids: Vec<String> = sent.iter().map(|e| e.id.to_string()).collect();
    assert_eq!(sent_ids, [rows[0].1.clone(), rows[1].1.clone()]);
    let on_the_wire = serde_json::to_value(&sent[0]).unwrap();
    assert_eq!(fields(&on_the_wire), bodies[0]);
    assert_eq!(on_the_wire["seq"], seqs[0]);
    assert_eq!(on_the_wire["ts"], shown_ts[1]);
    agent.stop();
}

#[test]
fn bad_harvests_get_their_4xx_and_write_nothing() {
    let dir = temp_dir();
    let mut agent = start_agent(dir.path(), "enabled = false");
    let good = r#"{"room": "fruiting-1", "product": "OYS-BLUE", "quantity": 1, "unit": "kg"}"#;
    let json_type = Some("application/json");
    let unauthorized: [(Option<&str>, &str); 2] = [(None, "no token"), (Some("wrong"), "wrong")];
    for (token, what) in unauthorized {
        let (status, answer) = post(&agent.http, token, json_type, good);
        assert_eq!(status, 401, "{what}: {answer}");
        assert_eq!(answer["error"], "missing or wrong bearer token", "{what}");
    }

    let harvest = |room: &str, product: &str, quantity: &str, unit: &str| {
        format!(
            r#"{{"room": "{room}", "product": "{product}", "quantity": {quantity}, "unit": "{unit}"}}"#
        )
    };
    let long_lot = format!(
        r#"{{"room": "fruiting-1", "product": "OYS-BLUE", "quantity": 1, "unit": "kg", "lot": "{}"}}"#,
        "L".repeat(65)
    );
    let refused: Vec<(String, Option<&str>, u16, &str)> = vec![
        (harvest("cellar", "OYS-BLUE", "1", "kg"), json_type, 422, "unknown room \"cellar\"; the rooms are: fruiting-1"),
        (harvest("fruiting-1", "SHIITAKE", "1", "kg"), json_type, 422, "unknown product \"SHIITAKE\""),
        (harvest("fruiting-1", "OYS-BLUE", "3", "each"), json_type, 422, "does not convert to OYS-BLUE's unit \"kg\""),
        (harvest("fruiting-1", "LION-EA", "3", "kg"), json_type, 422, "does not convert to LION-EA's unit \"each\""),
        (harvest("fruiting-1", "OYS-BLUE", "2", "lb"), json_type, 422, "unit: unknown unit \"lb\""),
        (harvest("fruiting-1", "OYS-BLUE", "-1", "kg"), json_type, 422, "quantity must be a number above 0"),
        (harvest("fruiting-1", "OYS-BLUE", "0", "kg"), json_type, 422, "quantity must be a number above 0"),
        (harvest("fruiting-1", "OYS-BLUE", "1000001", "g"), json_type, 422, "at most 1000000"),
        (harvest("fruiting-1", "OYS-BLUE", "\"NaN\"", "kg"), json_type, 422, "invalid type: string \"NaN\""),
        (harvest("fruiting-1", "OYS-BLUE", "NaN", "kg"), json_type, 400, "Failed to parse the request body as JSON"),
        (harvest("fruiting-1", "LION-EA", "2.5", "each"), json_type, 422, "not a whole number of pieces"),
        (long_lot, json_type, 422, "lot: is 65 characters long"),
        (
            r#"{"room": "fruiting-1", "product": "OYS-BLUE", "quantity": 1, "unit": "kg", "price": 3}"#.into(),
            json_type, 422, "unknown field `price`",
        ),
        (r#"{"room": "fruiting-1", "product": "OYS-BLUE", "unit": "kg"}"#.into(), json_type, 422, "missing field `quantity`"),
        (r#"{"room": "fruiting-1", "product": "#.into(), json_type, 400, "Failed to parse the request body as JSON"),
        (good.into(), Some("text/plain"), 415, "Content-Type: application/json"),
        (good.into(), None, 415, "Content-Type: application/json"),
    ];
    for (body, content_type, want, fragment) in refused {
        let (status, answer) = post(&agent.http, Some(TOKEN), content_type, &body);
        assert_eq!(status, want, "{body} ({content_type:?}): {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(fragment),
            "{body}: {error:?} lacks {fragment:?}"
        );
    }
    for (query, fragment) in [
        ("limit=0", "limit must be"),
        ("limit=501", "limit must be"),
        ("room=a", "unknown query parameter"),
    ] {
        let (status, answer) = get(&agent.http, &format!("{HARVESTS}?{query}"));
        assert_eq!(status, 400, "{query}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(fragment),
            "{answer}"
        );
    }

    assert_eq!(list(&agent.http), Vec::<Value>::new());
    agent.stop();
    assert!(stored(&dir.path().join("data")).is_empty());
}

#[test]
fn without_a_token_hash_harvests_are_refused_and_the_list_still_works() {
    let dir = temp_dir();
    let text = format!("{}{PRODUCTS}", config(&dir.path().join("data"), None, ""));
    let mut agent = start(dir.path(), &text);
    let body = r#"{"room": "fruiting-1", "product": "OYS-BLUE", "quantity": 1, "unit": "kg"}"#;
    let (status, answer) = post(&agent.http, Some(TOKEN), Some("application/json"), body);
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("set http.api_token_hash"),
        "{answer}"
    );
    assert_eq!(list(&agent.http), Vec::<Value>::new());
    agent.stop();
    assert!(stored(&dir.path().join("data")).is_empty());
}

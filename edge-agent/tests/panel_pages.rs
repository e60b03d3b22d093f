//! The panel's harvests and system pages on the running agent: a harvest recorded through the
//! form (with the session's CSRF token from the page) is committed before the 303, listed
//! first as pending and turns synced once a sync-service acknowledged it; a bad one gets 422
//! with the form kept and writes nothing, as does one without the token (403); the system
//! page shows the version, the backlog and the outbox against its quota as `/metrics` does.
#![allow(clippy::unwrap_used)]

mod common;
mod sync_service;

use std::path::Path;

use common::panel::{get, post_form, session, start_agent_with, Answer};
use common::{Agent, Node, PRODUCTS, WAIT};
use farm_e2e::{http_get, temp_dir, wait_until};
use serde_json::Value;
use sync_service::Service;

/// An agent with the products, a panel user and `sync` as the body of `[sync]`.
fn start(dir: &Path, sync: &str) -> Agent {
    std::fs::write(dir.join("token"), "device-token\n").unwrap();
    let extra = format!("{PRODUCTS}\n[sync]\n{sync}\n");
    start_agent_with(dir, "max_failures = 20", true, &extra)
}

/// The harvest events in the outbox (read-only, so while the agent runs): seq and body.
fn stored(data: &Path) -> Vec<(u64, Value)> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let db = rusqlite::Connection::open_with_flags(data.join("outbox.sqlite"), flags).unwrap();
    let mut stmt = db
        .prepare("SELECT seq, body FROM events WHERE kind = 'harvest' ORDER BY seq")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            let body: String = r.get(1)?;
            Ok((r.get(0)?, serde_json::from_str(&body).unwrap()))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// `GET /harvests` with the session: the page, which must be 200.
fn harvests_page(agent: &Agent, cookie: &str) -> Answer {
    let page = get(agent, "/harvests", Some(cookie));
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

/// The `<li>` items of the recent-harvests list, in page order.
fn listed(page: &str) -> Vec<String> {
    let Some(start) = page.find("<ol class=\"harvests\">") else {
        return Vec::new();
    };
    let list = &page[start..page[start..].find("</ol>").unwrap() + start];
    list.split("<li ").skip(1).map(str::to_owned).collect()
}

/// Submits the harvest form with the page's token and `fields`.
fn submit(agent: &Agent, cookie: &str, fields: &str) -> Answer {
    let token = harvests_page(agent, cookie).csrf_field();
    post_form(
        agent,
        "/harvests",
        Some(cookie),
        &[],
        &format!("csrf={token}&{fields}"),
    )
}

/// The value of an unlabelled `/metrics` series.
fn metric(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} missing from {metrics}"))
        .parse()
        .unwrap()
}

/// The text of the element with `id` (up to its first `<`).
fn element<'a>(page: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\">");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id} in {page}"))
        + marker.len();
    let rest = &page[start..];
    &rest[..rest.find('<').unwrap()]
}

#[test]
fn a_harvest_from_the_form_is_committed_listed_pending_and_turns_synced() {
    let dir = temp_dir();
    let mut agent = start(dir.path(), "enabled = false");
    let cookie = session(&agent);
    let page = harvests_page(&agent, &cookie);
    for part in [
        "<label for=\"harvest-room\">Room</label>",
        "<option value=\"fruiting-1\">fruiting-1</option>",
        "<label for=\"harvest-product\">Product</label>",
        "<option value=\"OYS-BLUE\">OYS-BLUE — Blue oyster</option>",
        "<option value=\"LION-EA\">LION-EA — Lion&#39;s mane</option>",
        "<label for=\"harvest-quantity\">Quantity</label>",
        "inputmode=\"decimal\"",
        "<option value=\"kg\" selected>kg</option>",
        "<label for=\"harvest-lot\">",
        "No harvests recorded yet.",
    ] {
        assert!(page.body.contains(part), "{part} in {}", page.body);
    }

    // A decimal comma, as a phone keyboard may type it.
    let answer = submit(
        &agent,
        &cookie,
        "room=fruiting-1&product=OYS-BLUE&quantity=4%2C5&unit=kg&lot=A-1",
    );
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.header("Location"), Some("/harvests"));
    // Durable before the redirect: in the file now, as the API writes it.
    let rows = stored(&agent.data);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (seq, body) = &rows[0];
    for (key, want) in [
        ("room", Value::from("fruiting-1")),
        ("product", Value::from("OYS-BLUE")),
        ("quantity", Value::from(4.5)),
        ("unit", Value::from("kg")),
        ("lot", Value::from("A-1")),
    ] {
        assert_eq!(body[key], want, "{key} in {body}");
    }
    let answer = submit(
        &agent,
        &cookie,
        "room=fruiting-1&product=LION-EA&quantity=12&unit=each&lot=",
    );
    assert_eq!(answer.status, 303, "{}", answer.body);
    let rows = stored(&agent.data);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let lot = rows[1].1["lot"].as_str().unwrap().to_owned();
    assert!(lot.starts_with("fruiting-1-"), "a made-up lot: {lot}");

    // Newest first, both pending, as the API lists them.
    let items = listed(&harvests_page(&agent, &cookie).body);
    assert_eq!(items.len(), 2, "{items:#?}");
    assert!(
        items[0].starts_with(&format!("id=\"harvest-{}\"", rows[1].0)),
        "{items:#?}"
    );
    assert!(items[0].contains("<strong>12 each</strong> LION-EA — Lion&#39;s mane"));
    assert!(items[0].contains(&format!("lot {lot}")), "{}", items[0]);
    assert!(
        items[1].starts_with(&format!("id=\"harvest-{seq}\"")),
        "{items:#?}"
    );
    assert!(items[1].contains("<strong>4.5 kg</strong> OYS-BLUE — Blue oyster"));
    assert!(items[1].contains("fruiting-1 · lot A-1 · "), "{}", items[1]);
    for item in &items {
        assert!(item.contains(">pending</span>"), "{item}");
    }
    let api: Value = serde_json::from_str(&http_get(&agent.http, "/api/harvests")).unwrap();
    let statuses: Vec<&str> = api["harvests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pending", "pending"]);
    agent.stop();

    // Restarted against a sync-service that acknowledges every batch: both turn synced.
    let service = Service::start(Vec::new());
    let sync = format!(
        "enabled = true\nurl = \"http://{}\"\ntoken_file = \"token\"\ninterval = \"200ms\"",
        service.addr
    );
    let mut agent = start(dir.path(), &sync);
    let cookie = session(&agent);
    wait_until("both harvests shown synced", WAIT, || {
        let items = listed(&harvests_page(&agent, &cookie).body);
        items.len() == 2 && items.iter().all(|i| i.contains(">synced</span>"))
    });
    agent.stop();
}

#[test]
fn bad_harvests_get_422_with_the_form_kept_and_nothing_is_written() {
    let dir = temp_dir();
    let mut agent = start(dir.path(), "enabled = false");
    let cookie = session(&agent);
    for (fields, message, kept) in [
        (
            "room=fruiting-1&product=SHIITAKE&quantity=2&unit=kg&lot=",
            "Not recorded: unknown product &quot;SHIITAKE&quot;",
            "name=\"quantity\" type=\"text\" inputmode=\"decimal\" autocomplete=\"off\" required value=\"2\"",
        ),
        (
            "room=fruiting-1&product=OYS-BLUE&quantity=-1&unit=kg&lot=%22%3E%3Cscript%3Ex",
            "Not recorded: quantity must be a number above 0",
            "value=\"&quot;&gt;&lt;script&gt;x\"",
        ),
        (
            "room=fruiting-1&product=OYS-BLUE&quantity=lots&unit=g&lot=",
            "Not recorded: quantity must be a number such as 4.5, got &quot;lots&quot;",
            "<option value=\"g\" selected>g</option>",
        ),
        (
            "room=cellar&product=OYS-BLUE&quantity=1&unit=kg&lot=",
            "Not recorded: unknown room &quot;cellar&quot;",
            "<option value=\"OYS-BLUE\" selected>",
        ),
    ] {
        let answer = submit(&agent, &cookie, fields);
        assert_eq!(answer.status, 422, "{fields}: {}", answer.body);
        assert!(answer.body.contains(message), "{message} in {}", answer.body);
        assert!(answer.body.contains("role=\"alert\" id=\"harvest-error\""));
        assert!(answer.body.contains(kept), "{kept} in {}", answer.body);
        assert!(!answer.body.contains("<script"), "{}", answer.body);
    }
    // Without the session's token: refused before anything runs.
    let good = "room=fruiting-1&product=OYS-BLUE&quantity=1&unit=kg&lot=";
    for form in [good.to_owned(), format!("csrf={}&{good}", "0".repeat(64))] {
        let answer = post_form(&agent, "/harvests", Some(&cookie), &[], &form);
        assert_eq!(answer.status, 403, "{form}: {}", answer.body);
    }
    assert!(harvests_page(&agent, &cookie)
        .body
        .contains("No harvests recorded yet."));
    assert!(stored(&agent.data).is_empty());
    agent.stop();
    assert!(stored(&dir.path().join("data")).is_empty());
}

#[test]
fn the_system_page_shows_what_metrics_shows() {
    let dir = temp_dir();
    let mut agent = start(dir.path(), "enabled = false");
    let cookie = session(&agent);
    let node = Node::connect(agent.mqtt_port, "panel-pages-node");
    node.publish_humidity(85.0);
    wait_until("the node listed", WAIT, || {
        get(&agent, "/system", Some(&cookie))
            .body
            .contains("<strong>node-1</strong> in fruiting-1")
    });

    // The figures move (readings are committed), so read /metrics around the page until
    // nothing changed in between.
    let mut checked = false;
    for _ in 0..50 {
        let before = http_get(&agent.http, "/metrics");
        let page = get(&agent, "/system", Some(&cookie));
        let after = http_get(&agent.http, "/metrics");
        assert_eq!(page.status, 200, "{}", page.body);
        let same = |name| metric(&before, name) == metric(&after, name);
        if ![
            "farm_outbox_committed_seq",
            "farm_outbox_acked_seq",
            "farm_outbox_used_bytes",
        ]
        .into_iter()
        .all(same)
        {
            continue;
        }
        let page = page.body;
        let backlog =
            metric(&after, "farm_outbox_committed_seq") - metric(&after, "farm_outbox_acked_seq");
        let shown = format!(
            "{backlog} (committed up to seq {}, acknowledged up to seq {})",
            metric(&after, "farm_outbox_committed_seq"),
            metric(&after, "farm_outbox_acked_seq")
        );
        assert_eq!(element(&page, "sync-backlog"), shown);
        let used = metric(&after, "farm_outbox_used_bytes");
        let max = metric(&after, "farm_outbox_max_bytes");
        assert!(used > 0 && max >= used, "{used} of {max}");
        let quota = format!("<data value=\"{used}\">");
        assert!(page.contains(&quota), "{quota} in {page}");
        let quota = format!("<data value=\"{max}\">");
        assert!(page.contains(&quota), "{quota} in {page}");
        assert_eq!(
            element(&page, "outbox-evicted"),
            metric(&after, "farm_outbox_evicted_total").to_string()
        );
        assert_eq!(element(&page, "agent-version"), env!("CARGO_PKG_VERSION"));
        assert_eq!(metric(&after, "farm_sync_enabled"), 0);
        assert_eq!(
            element(&page, "sync-state"),
            "off (sync is disabled in the config)"
        );
        let clients = metric(&after, "farm_mqtt_connected_clients");
        assert_eq!(
            element(&page, "mqtt-clients"),
            format!("MQTT clients connected: {clients}.")
        );
        assert!(element(&page, "agent-uptime").ends_with(" s"), "{page}");
        checked = true;
        break;
    }
    assert!(checked, "/metrics never held still around the page");
    agent.stop();
}

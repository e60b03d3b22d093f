//! The system page, `GET /system`: the uplink's sync status, the outbox against its quota,
//! evictions, the room nodes heard, the MQTT clients, the agent's version and uptime. It reads
//! the same sources as `/metrics` ([`crate::http::Metrics`]): the numbers agree with it. The
//! figures are read once ([`Figures::read`]); rendering is pure, given `now`.

use std::fmt::Write as _;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use farm_protocol::UnixMillis;

use super::farm::Farm;
use super::format::{age, duration, local_time, percent, size};
use super::html::{escape, page, Nav, Viewer};
use super::pages::SignedIn;
use super::sessions::Session;
use super::state::PanelState;
use crate::outbox::OutboxStats;
use crate::uplink::{SyncSnapshot, SyncState};

/// The agent's version.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything the page shows, read at one moment.
struct Figures {
    sync: SyncSnapshot,
    outbox: OutboxStats,
    /// Items waiting to be synced and the time of the oldest; `None` if unreadable.
    waiting: Option<(u64, Option<UnixMillis>)>,
    /// (room, node, last heard, stale).
    nodes: Vec<(String, String, UnixMillis, bool)>,
    clients: Option<usize>,
    uptime: Duration,
    timezone: jiff::tz::TimeZone,
}

impl Figures {
    async fn read(farm: &Farm, now: Instant) -> Figures {
        let m = &farm.metrics;
        let waiting = match m.outbox.backlog().await {
            Ok(waiting) => Some(waiting),
            Err(e) => {
                tracing::warn!(error = %e, "Outbox backlog unavailable for the system page.");
                None
            }
        };
        let nodes = m
            .nodes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .list()
            .into_iter()
            .map(|(room, node, seen, stale)| (room.to_owned(), node.to_owned(), seen, stale))
            .collect();
        Figures {
            sync: m.sync.snapshot(),
            outbox: m.outbox.stats(),
            waiting,
            nodes,
            clients: m.clients.as_ref().map(|clients| clients()),
            uptime: now.saturating_duration_since(farm.started),
            timezone: farm.harvests.catalogue.timezone.clone(),
        }
    }
}

/// `GET /system`.
pub(super) async fn show(SignedIn(session): SignedIn, State(panel): State<PanelState>) -> Response {
    let Some(farm) = panel.farm() else {
        let main = "<h1 id=\"page-title\">System</h1>\n\
            <p class=\"error\" role=\"alert\">The system status is not available.</p>\n";
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Html(layout(&session, main)),
        )
            .into_response();
    };
    let figures = Figures::read(farm, Instant::now()).await;
    let main = render(&figures, crate::now_ms());
    Html(layout(&session, &main)).into_response()
}

fn layout(session: &Session, main: &str) -> String {
    let viewer = Viewer {
        user: &session.user,
        csrf: &session.csrf,
    };
    page("System", Some((&viewer, Nav::System)), main)
}

/// The page's content at `now` (unix ms).
fn render(f: &Figures, now: UnixMillis) -> String {
    let mut out = String::from("<h1 id=\"page-title\">System</h1>\n");
    sync_section(&mut out, f, now);
    outbox_section(&mut out, f);
    nodes_section(&mut out, f, now);
    section(&mut out, "agent", "Agent");
    fact(&mut out, "agent-version", "Version", VERSION);
    fact(&mut out, "agent-uptime", "Uptime", &duration(f.uptime));
    out.push_str("</dl>\n</section>\n");
    out
}

fn sync_section(out: &mut String, f: &Figures, now: UnixMillis) {
    let s = &f.sync;
    section(out, "sync", "Sync");
    fact(out, "sync-state", "Status", state_text(s.state));
    let backlog = f.outbox.backlog();
    let detail = format!(
        "{backlog} (committed up to seq {}, acknowledged up to seq {})",
        f.outbox.committed_seq, f.outbox.acked_seq
    );
    fact(out, "sync-backlog", "Not yet acknowledged", &detail);
    let oldest = match f.waiting {
        None => "unknown (the outbox could not be read)".to_owned(),
        Some((_, None)) => "nothing waiting".to_owned(),
        Some((_, Some(ts))) => age(ts, now),
    };
    fact(out, "sync-oldest", "Oldest unsynced", &oldest);
    let success = s.last_success_ms.map_or_else(
        || "never".to_owned(),
        |ts| format!("{} ({})", local_time(ts, &f.timezone).0, age(ts, now)),
    );
    fact(out, "sync-success", "Last success", &success);
    let error = match (&s.last_error, s.last_error_kind) {
        (None, _) => "none".to_owned(),
        (Some(text), Some(kind)) => format!("{}: {text}", kind.name()),
        (Some(text), None) => text.clone(),
    };
    fact(out, "sync-error", "Last error", &error);
    let failures = s.consecutive_failures.to_string();
    fact(out, "sync-failures", "Failures in a row", &failures);
    let backoff = s.backoff.map_or_else(|| "—".to_owned(), duration);
    fact(out, "sync-backoff", "Next retry in", &backoff);
    out.push_str("</dl>\n</section>\n");
}

fn outbox_section(out: &mut String, f: &Figures) {
    let o = &f.outbox;
    section(out, "outbox", "Outbox");
    let _ = write!(
        out,
        "<dt>Size</dt>\n<dd id=\"outbox-size\"><data value=\"{used}\">{used_text}</data> of \
         <data value=\"{max}\">{max_text}</data> ({pct} %)<br>\n\
         <meter min=\"0\" max=\"{max}\" high=\"{high}\" value=\"{used}\" \
         aria-label=\"Outbox size against its quota\"></meter></dd>\n",
        used = o.used_bytes,
        max = o.max_bytes,
        high = o.max_bytes / 10 * 9,
        used_text = size(o.used_bytes),
        max_text = size(o.max_bytes),
        pct = percent(o.used_bytes, o.max_bytes),
    );
    let waiting = f
        .waiting
        .map_or_else(|| "unknown".to_owned(), |(n, _)| n.to_string());
    fact(out, "outbox-waiting", "Items waiting to sync", &waiting);
    let evicted = o.evicted.to_string();
    fact(out, "outbox-evicted", "Evicted unsynced (lost)", &evicted);
    let dropped = o.dropped.to_string();
    fact(out, "outbox-dropped", "Dropped (queue full)", &dropped);
    out.push_str("</dl>\n</section>\n");
}

fn nodes_section(out: &mut String, f: &Figures, now: UnixMillis) {
    out.push_str(
        "<section aria-labelledby=\"nodes-title\">\n<h2 id=\"nodes-title\">Room nodes</h2>\n",
    );
    let clients = f.clients.map_or_else(
        || "The MQTT broker is not running.".to_owned(),
        |n| format!("MQTT clients connected: {n}."),
    );
    let _ = writeln!(out, "<p id=\"mqtt-clients\">{}</p>", escape(&clients));
    if f.nodes.is_empty() {
        out.push_str("<p>No room nodes heard since the agent started.</p>\n");
    } else {
        out.push_str("<ul class=\"nodes\">\n");
        for (room, node, seen, stale) in &f.nodes {
            let status = if *stale { "stale" } else { "live" };
            let _ = writeln!(
                out,
                "<li><strong>{}</strong> in {} · last heard {} · \
                 <span class=\"status status-{status}\">{status}</span></li>",
                escape(node),
                escape(room),
                escape(&age(*seen, now)),
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

/// Opens a section with heading `title` and a `<dl>`.
fn section(out: &mut String, id: &str, title: &str) {
    let _ = write!(
        out,
        "<section aria-labelledby=\"{id}-title\">\n<h2 id=\"{id}-title\">{title}</h2>\n\
         <dl class=\"facts\">\n"
    );
}

/// One `<dt>`/`<dd>` pair; `value` is escaped.
fn fact(out: &mut String, id: &str, label: &str, value: &str) {
    let _ = writeln!(
        out,
        "<dt>{label}</dt>\n<dd id=\"{id}\">{}</dd>",
        escape(value)
    );
}

fn state_text(state: SyncState) -> &'static str {
    match state {
        SyncState::Disabled => "off (sync is disabled in the config)",
        SyncState::Idle => "on, idle",
        SyncState::Sending => "on, sending",
        SyncState::BackingOff => "on, waiting to retry",
        SyncState::Stopped => "stopped until the agent restarts",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uplink::ErrorKind;

    fn figures() -> Figures {
        Figures {
            sync: SyncSnapshot::default(),
            outbox: OutboxStats {
                committed_seq: 15,
                acked_seq: 3,
                used_bytes: 1536,
                max_bytes: 64 * 1024 * 1024,
                evicted: 2,
                ..OutboxStats::default()
            },
            waiting: Some((11, Some(1_000))),
            nodes: vec![("fruiting-1".into(), "<n>".into(), 61_000, true)],
            clients: Some(2),
            uptime: Duration::from_secs(3 * 3600 + 60),
            timezone: jiff::tz::TimeZone::UTC,
        }
    }

    #[test]
    fn the_page_shows_sync_outbox_nodes_and_the_agent() {
        let html = render(&figures(), 121_000);
        for part in [
            "<dd id=\"sync-state\">off (sync is disabled in the config)</dd>",
            "<dd id=\"sync-backlog\">12 (committed up to seq 15, acknowledged up to seq 3)</dd>",
            "<dd id=\"sync-oldest\">2 min 0 s ago</dd>",
            "<dd id=\"sync-success\">never</dd>",
            "<dd id=\"sync-error\">none</dd>",
            "<dd id=\"sync-backoff\">—</dd>",
            "<data value=\"1536\">1.5 KiB</data> of <data value=\"67108864\">64.0 MiB</data> (0 %)",
            "<dd id=\"outbox-waiting\">11</dd>",
            "<dd id=\"outbox-evicted\">2</dd>",
            "MQTT clients connected: 2.",
            "<strong>&lt;n&gt;</strong> in fruiting-1 · last heard 1 min 0 s ago",
            "status-stale",
            &format!("<dd id=\"agent-version\">{VERSION}</dd>"),
            "<dd id=\"agent-uptime\">3 h 1 min</dd>",
        ] {
            assert!(html.contains(part), "{part} in {html}");
        }
    }

    #[test]
    fn failures_show_their_kind_text_and_backoff_escaped() {
        let mut f = figures();
        f.sync.state = SyncState::BackingOff;
        f.sync.last_error = Some("HTTP 503 <html>".into());
        f.sync.last_error_kind = Some(ErrorKind::Server);
        f.sync.consecutive_failures = 4;
        f.sync.backoff = Some(Duration::from_secs(90));
        f.sync.last_success_ms = Some(1_700_000_000_000);
        f.waiting = Some((0, None));
        f.nodes.clear();
        f.clients = None;
        let html = render(&f, 1_700_000_060_000);
        for part in [
            "<dd id=\"sync-state\">on, waiting to retry</dd>",
            "<dd id=\"sync-error\">server: HTTP 503 &lt;html&gt;</dd>",
            "<dd id=\"sync-failures\">4</dd>",
            "<dd id=\"sync-backoff\">1 min 30 s</dd>",
            "<dd id=\"sync-success\">2023-11-14 22:13 (1 min 0 s ago)</dd>",
            "<dd id=\"sync-oldest\">nothing waiting</dd>",
            "The MQTT broker is not running.",
            "No room nodes heard since the agent started.",
        ] {
            assert!(html.contains(part), "{part} in {html}");
        }
    }
}

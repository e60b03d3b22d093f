//! `GET /`: the overview, server-rendered so it works without script. Each value the live
//! stream changes carries a `data-*` hook that `assets/panel.js` finds it by: the room
//! section's `data-room`, a reading row's `data-metric`, an actuator's `data-actuator`, an
//! age's `data-ts`, and `data-field` on the value, status, detail, state, override and alarm
//! list. Status is always written out as text, never shown by colour alone.

use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Html;
use farm_protocol::UnixMillis;

use super::html::{escape, page, Nav, Viewer};
use super::overview::{age_text, overview, RoomOverview};
use super::pages::SignedIn;
use super::state::PanelState;

/// `GET /`: every room's readings with their status, its actuators and its alarms.
pub(super) async fn show(
    SignedIn(session): SignedIn,
    State(panel): State<PanelState>,
) -> Html<String> {
    let main = match panel.farm() {
        Some(farm) => {
            let now = crate::now_ms();
            let rooms = overview(&farm.latest.snapshot(), &farm.control.view(), now);
            render(&rooms, now)
        }
        None => "<h1 id=\"page-title\">Overview</h1>\n<p>The farm is not running.</p>\n".into(),
    };
    let viewer = Viewer {
        user: &session.user,
        csrf: &session.csrf,
    };
    Html(page("Overview", Some((&viewer, Nav::Overview)), &main))
}

/// The page's `main`: one section per room.
pub(super) fn render(rooms: &[RoomOverview], now: UnixMillis) -> String {
    let mut out = String::from(
        "<h1 id=\"page-title\">Overview</h1>\n\
         <p class=\"live\" data-field=\"live\" role=\"status\">Values as of page load.</p>\n\
         <div class=\"rooms\" data-overview>\n",
    );
    if rooms.is_empty() {
        out.push_str("<p>No rooms yet: nothing has been measured and no loop is set up.</p>\n");
    }
    for (i, room) in rooms.iter().enumerate() {
        room_section(&mut out, i, room, now);
    }
    out.push_str("</div>\n<script src=\"/assets/panel.js\" defer></script>\n");
    out
}

/// One room's section: readings, actuators and alarms, with the live script's hooks.
pub(super) fn room_section(out: &mut String, i: usize, room: &RoomOverview, now: UnixMillis) {
    let _ = write!(
        out,
        "<section class=\"room\" data-room=\"{name}\" aria-labelledby=\"room-{i}\">\n\
         <h2 id=\"room-{i}\"><a href=\"/rooms/{href}\">{name}</a></h2>\n",
        name = escape(&room.room),
        href = escape(&path_segment(&room.room)),
    );
    if room.readings.is_empty() {
        out.push_str("<p>No readings.</p>\n");
    } else {
        out.push_str(
            "<table class=\"readings\">\n<caption>Readings</caption>\n<thead><tr>\
             <th scope=\"col\">Metric</th><th scope=\"col\">Value</th>\
             <th scope=\"col\">Age</th><th scope=\"col\">Status</th></tr></thead>\n<tbody>\n",
        );
        for r in &room.readings {
            let code = r.status.code();
            let _ = writeln!(
                out,
                "<tr data-metric=\"{metric}\">\
                 <th scope=\"row\">{label}</th>\
                 <td data-field=\"value\">{value}</td>\
                 <td><span data-ts=\"{ts}\">{age}</span></td>\
                 <td><span class=\"status status-{code}\" data-field=\"status\">{status}</span> \
                 <small data-field=\"detail\">{detail}</small></td></tr>",
                metric = r.metric,
                label = r.metric.replace('_', " "),
                value = escape(&r.text),
                ts = r.ts,
                age = age_text(r.ts, now),
                status = r.status.label(),
                detail = escape(&r.detail),
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    if !room.actuators.is_empty() {
        out.push_str("<h3>Actuators</h3>\n<ul class=\"actuators\">\n");
        for a in &room.actuators {
            let _ = writeln!(
                out,
                "<li data-actuator=\"{name}\">{name}: \
                 <span class=\"switch switch-{state}\" data-field=\"state\">{state}</span> \
                 <small data-field=\"override\">{manual}</small></li>",
                name = escape(&a.name),
                state = a.state,
                manual = escape(a.manual.as_deref().unwrap_or_default()),
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h3>Alarms</h3>\n<ul class=\"alarms\" data-field=\"alarms\">\n");
    if room.alarms.is_empty() {
        out.push_str("<li class=\"none\">None</li>\n");
    }
    for alarm in &room.alarms {
        let _ = writeln!(
            out,
            "<li><strong>{}</strong>: {}</li>",
            escape(&alarm.source),
            escape(&alarm.message)
        );
    }
    out.push_str("</ul>\n</section>\n");
}

/// `text` as one URL path segment: everything but unreserved characters percent-encoded.
pub(super) fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::overview::{ActuatorLine, AlarmLine, ReadingLine, Status};
    use super::*;

    #[test]
    fn rooms_are_linked_escaped_and_their_status_is_text() {
        let rooms = vec![RoomOverview {
            room: "fruit <1>/a b".into(),
            readings: vec![ReadingLine {
                metric: "dew_point",
                value: 12.0,
                text: "12.0 °C".into(),
                ts: 1_000,
                status: Status::OutOfRange,
                detail: "target 1 to 2 °C".into(),
            }],
            actuators: vec![ActuatorLine {
                name: "fan\"".into(),
                state: "unknown",
                manual: Some("held on, 9 min left".into()),
            }],
            alarms: vec![AlarmLine {
                source: "l".into(),
                message: "<b>".into(),
            }],
        }];
        let html = render(&rooms, 13_000);
        for part in [
            "data-room=\"fruit &lt;1&gt;/a b\"",
            "<a href=\"/rooms/fruit%20%3C1%3E%2Fa%20b\">fruit &lt;1&gt;/a b</a>",
            "<tr data-metric=\"dew_point\"><th scope=\"row\">dew point</th>",
            "<td data-field=\"value\">12.0 °C</td>",
            "<span data-ts=\"1000\">12 s ago</span>",
            "data-field=\"status\">out of range</span>",
            "<li data-actuator=\"fan&quot;\">",
            "data-field=\"state\">unknown</span>",
            "held on, 9 min left",
            "<strong>l</strong>: &lt;b&gt;",
            "<script src=\"/assets/panel.js\" defer></script>",
        ] {
            assert!(html.contains(part), "{part} in {html}");
        }
        assert!(render(&[], 0).contains("No rooms yet"));
    }
}

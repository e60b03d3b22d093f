//! `GET /rooms/{room}`: one room. Its current readings, actuators and alarms (the overview's
//! section, kept live by the same script), a chart of each metric over the last 24 hours or
//! 7 days from the outbox's local history (`?range=7d`; averaged into at most
//! [`Range::buckets`] slots on the server, with the min–max envelope and the loops' target),
//! and the forms that change it ([`super::room_controls`]): setpoints, loop settings and
//! manual overrides, posted to [`super::room_forms`].

use std::fmt::Write as _;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use farm_protocol::{Metric, UnixMillis};

use super::chart::{self, Chart};
use super::farm::Farm;
use super::html::{escape, page, Nav, Viewer};
use super::overview::{overview, RoomOverview, Rule};
use super::overview_page::room_section;
use super::pages::SignedIn;
use super::room_controls::{self, Problem};
use super::sessions::Session;
use super::state::PanelState;
use crate::control::ControlView;

/// The history a chart covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Range {
    Day,
    Week,
}

impl Range {
    /// From the query string's `range`: `7d` is a week, anything else the last 24 hours.
    fn parse(query: Option<&str>) -> Range {
        let range = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .find(|(key, _)| key == "range")
            .map(|(_, value)| value);
        match range.as_deref() {
            Some("7d") => Range::Week,
            _ => Range::Day,
        }
    }

    const fn millis(self) -> i64 {
        match self {
            Range::Day => 24 * 3_600_000,
            Range::Week => 7 * 24 * 3_600_000,
        }
    }

    /// Points per chart: 5-minute slots over a day, 30-minute slots over a week.
    pub(super) const fn buckets(self) -> usize {
        match self {
            Range::Day => 288,
            Range::Week => 336,
        }
    }

    const fn query(self) -> &'static str {
        match self {
            Range::Day => "24h",
            Range::Week => "7d",
        }
    }

    const fn label(self) -> &'static str {
        match self {
            Range::Day => "last 24 hours",
            Range::Week => "last 7 days",
        }
    }
}

/// `GET /rooms/{room}`.
pub(super) async fn show(
    SignedIn(session): SignedIn,
    State(panel): State<PanelState>,
    Path(room): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let range = Range::parse(query.as_deref());
    render(&session, &panel, &room, range, None).await
}

/// The whole page, with `problem` (a refused change) shown at its form; 404 for a room the
/// farm does not have, 422 when `problem` is given.
pub(super) async fn render(
    session: &Session,
    panel: &PanelState,
    room: &str,
    range: Range,
    problem: Option<&Problem>,
) -> Response {
    let Some(farm) = panel.farm() else {
        return not_found(session, room);
    };
    let now = crate::now_ms();
    let view = farm.control.view();
    let rooms = overview(&farm.latest.snapshot(), &view, now);
    let current = rooms.into_iter().find(|r| r.room == room);
    let known = current.is_some() || farm.harvests.catalogue.rooms.contains(room);
    if !known {
        return not_found(session, room);
    }
    let current = current.unwrap_or_else(|| RoomOverview {
        room: room.to_owned(),
        readings: Vec::new(),
        actuators: Vec::new(),
        alarms: Vec::new(),
    });
    let mut main = format!(
        "<h1 id=\"page-title\">Room {}</h1>\n\
         <p class=\"live\" data-field=\"live\" role=\"status\">Values as of page load.</p>\n\
         <div class=\"rooms\" data-overview=\"room\">\n",
        escape(room)
    );
    room_section(&mut main, 0, &current, now);
    main.push_str("</div>\n");
    history(&mut main, farm, &view, room, range, now).await;
    let controls = room_controls::Controls {
        room,
        view: &view,
        csrf: &session.csrf,
        tz: &farm.harvests.catalogue.timezone,
        now,
        problem,
    };
    controls.render(&mut main);
    main.push_str(
        "<p><a href=\"/\">Back to the overview</a></p>\n\
         <script src=\"/assets/panel.js\" defer></script>\n",
    );
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, layout(session, &format!("Room {room}"), &main)).into_response()
}

/// The charts: one per metric the room has history of, over `range`.
async fn history(
    out: &mut String,
    farm: &Farm,
    view: &ControlView,
    room: &str,
    range: Range,
    now: UnixMillis,
) {
    let from = now.saturating_sub(range.millis());
    let _ = write!(
        out,
        "<section aria-labelledby=\"history-title\">\n\
         <h2 id=\"history-title\">History, {label}</h2>\n\
         <nav class=\"ranges\" aria-label=\"Period\"><ul>\n",
        label = range.label()
    );
    let href = super::overview_page::path_segment(room);
    for other in [Range::Day, Range::Week] {
        let current = if other == range {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<li><a href=\"/rooms/{href}?range={q}#history-title\"{current}>{label}</a></li>",
            q = other.query(),
            label = other.label(),
        );
    }
    out.push_str("</ul></nav>\n");
    let series = match farm
        .history
        .room_series(room, from, now, range.buckets())
        .await
    {
        Ok(series) => series,
        Err(e) => {
            tracing::warn!(error = %e, %room, "Could not read the room's history.");
            out.push_str(
                "<p class=\"error\" role=\"alert\">The history could not be read.</p>\n</section>\n",
            );
            return;
        }
    };
    if series.is_empty() {
        out.push_str("<p>No readings stored for this period.</p>\n");
    }
    for s in &series {
        let label = format!("{}, {}", metric_label(s.metric), range.label());
        let id = format!("chart-{}-{}", s.metric.name(), range.query());
        let chart = Chart {
            id: &id,
            label: &label,
            unit: s.metric.unit(),
            from,
            to: now,
            buckets: &s.buckets,
            target: Rule::new(view, room, s.metric).target,
            tz: &farm.harvests.catalogue.timezone,
        };
        // The caption repeats the chart's own title for the eye only: read once.
        let _ = write!(
            out,
            "<figure class=\"chart\" id=\"{id}\">\n{}\n\
             <figcaption aria-hidden=\"true\">{}</figcaption>\n</figure>\n",
            chart::render(&chart),
            escape(&label)
        );
    }
    out.push_str("</section>\n");
}

/// `dew_point` → `Dew point`.
pub(super) fn metric_label(metric: Metric) -> String {
    let name = metric.name().replace('_', " ");
    let mut chars = name.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn not_found(session: &Session, room: &str) -> Response {
    let text = format!("This farm has no room named “{room}”.");
    missing(session, "No such room", &text, "/")
}

/// 404: a page saying what is missing, with a link to `back`.
pub(super) fn missing(session: &Session, title: &str, text: &str, back: &str) -> Response {
    let main = format!(
        "<h1 id=\"page-title\">{title}</h1>\n<p role=\"alert\">{text}</p>\n\
         <p><a href=\"{back}\">Back</a></p>\n",
        title = escape(title),
        text = escape(text),
        back = escape(back),
    );
    (StatusCode::NOT_FOUND, layout(session, title, &main)).into_response()
}

fn layout(session: &Session, title: &str, main: &str) -> Html<String> {
    let viewer = Viewer {
        user: &session.user,
        csrf: &session.csrf,
    };
    Html(page(title, Some((&viewer, Nav::Overview)), main))
}

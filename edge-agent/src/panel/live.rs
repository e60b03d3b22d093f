//! `GET /events`: the overview, live, as Server-Sent Events, and `GET /assets/panel.js`, the
//! script that applies them to the page.
//!
//! A stream sends an `overview` event at once and then, checking every second, whenever the
//! rooms changed: `{"now": <unix ms>, "rooms": [...]}` with the rooms of
//! [`super::overview::overview`]. A comment keeps an idle connection open every 15 s.
//!
//! # Invariants
//! - Without a live session the answer is 401 (an `EventSource` cannot follow a redirect to
//!   the sign-in form anyway); with no farm, 503.
//! - At most [`MAX_STREAMS`] streams are open at once; one more is answered 503. A stream's
//!   permit is released when the client goes away (its body is dropped).
//! - Every stream ends once [`Streams::end`] is called (the agent's shutdown), so the HTTP
//!   server's graceful shutdown, which waits for every response to finish, does not hang.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::{interval, Interval, MissedTickBehavior};

use super::farm::Farm;
use super::overview::overview;
use super::state::PanelState;

/// The most streams open at once.
pub const MAX_STREAMS: usize = 32;
/// How often a stream looks for changes.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How often an idle stream sends a comment.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);

/// The script, served at `/assets/panel.js`.
const PANEL_JS: &str = include_str!("assets/panel.js");

/// The open streams: their limit, and the signal that ends them all.
pub(super) struct Streams {
    permits: Arc<Semaphore>,
    stop: watch::Sender<bool>,
}

impl Streams {
    /// At most `max` streams at once.
    pub(super) fn new(max: usize) -> Streams {
        Streams {
            permits: Arc::new(Semaphore::new(max)),
            stop: watch::Sender::new(false),
        }
    }

    /// Ends every open stream, and every stream opened from now on at once.
    pub(super) fn end(&self) {
        self.stop.send_replace(true);
    }
}

/// `GET /events`; see the module documentation.
pub(super) async fn events(State(panel): State<PanelState>, headers: HeaderMap) -> Response {
    if panel.session(&headers, Instant::now()).is_none() {
        return (StatusCode::UNAUTHORIZED, "sign in first\n").into_response();
    }
    let Some(farm) = panel.farm().cloned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the farm is not running\n").into_response();
    };
    let streams = panel.streams();
    let Ok(permit) = Arc::clone(&streams.permits).try_acquire_owned() else {
        tracing::info!(
            max = MAX_STREAMS,
            "Panel live stream refused: too many open."
        );
        let retry = [(header::RETRY_AFTER, "10")];
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            retry,
            "too many live streams\n",
        )
            .into_response();
    };
    let mut tick = interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let feed = Feed {
        farm,
        tick,
        last: None,
        stop: streams.stop.subscribe(),
        _permit: permit,
    };
    let stream = futures_util::stream::unfold(feed, next_event);
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE_EVERY))
        .into_response()
}

/// One stream's state.
struct Feed {
    farm: Farm,
    tick: Interval,
    /// The rooms last sent, as JSON.
    last: Option<String>,
    stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
}

/// The next `overview` event: at the next tick at which the rooms differ from the last ones
/// sent; `None` (the end) once the streams are ended.
async fn next_event(mut feed: Feed) -> Option<(Result<Event, Infallible>, Feed)> {
    loop {
        tokio::select! {
            biased;
            _ = feed.stop.wait_for(|stop| *stop) => return None,
            _ = feed.tick.tick() => {}
        }
        let now = crate::now_ms();
        let rooms = overview(&feed.farm.latest.snapshot(), &feed.farm.control.view(), now);
        let json = match serde_json::to_string(&rooms) {
            Ok(json) => json,
            Err(e) => {
                tracing::warn!(error = %e, "Panel live stream ended: overview not serializable.");
                return None;
            }
        };
        if feed.last.as_deref() == Some(json.as_str()) {
            continue;
        }
        let data = format!("{{\"now\":{now},\"rooms\":{json}}}");
        feed.last = Some(json);
        let event = Event::default().event("overview").data(data);
        return Some((Ok(event), feed));
    }
}

/// `GET /assets/panel.js`.
pub(super) async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        PANEL_JS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ending_the_streams_wakes_open_ones_and_ends_later_ones_at_once() {
        let streams = Streams::new(2);
        let mut open = streams.stop.subscribe();
        let waiting = tokio::spawn(async move { open.wait_for(|s| *s).await.is_ok() });
        streams.end();
        assert!(waiting.await.unwrap());
        let mut late = streams.stop.subscribe();
        assert!(late.wait_for(|s| *s).await.is_ok());
    }

    #[test]
    fn the_limit_is_a_semaphore_of_max_permits() {
        let streams = Streams::new(2);
        let a = Arc::clone(&streams.permits).try_acquire_owned().unwrap();
        let _b = Arc::clone(&streams.permits).try_acquire_owned().unwrap();
        assert!(Arc::clone(&streams.permits).try_acquire_owned().is_err());
        drop(a);
        assert!(Arc::clone(&streams.permits).try_acquire_owned().is_ok());
    }

    #[test]
    fn the_script_writes_text_only() {
        assert!(PANEL_JS.contains("EventSource"));
        assert!(PANEL_JS.contains("textContent"));
        assert!(!PANEL_JS.contains("innerHTML"));
    }
}

//! In-process clients ("links"): publish and subscribe without a socket.
//!
//! Invariants:
//! - Links are QoS 0 (rumqttd's local links have no acknowledgements); a publish is handed to
//!   the router's queue, which may block briefly when the router is saturated.
//! - rumqttd stops scheduling a link whose outgoing buffer holds 200 notifications and sends it
//!   `Unschedule`; the link must then say it is ready again, or it never receives anything
//!   more. [`LinkReceiver`] does that, so bursts of any size reach it (up to what the filter's
//!   in-memory log holds).
//! - When the sender and the receiver half are both dropped, the link disconnects, freeing its
//!   connection slot and subscriptions.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use rumqttd::local::{LinkError, LinkRx, LinkTx};
use rumqttd::protocol::{Disconnect, DisconnectReasonCode, Packet, Publish};
use rumqttd::Notification;

use crate::BrokerError;

/// A message delivered to a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The topic it was published to.
    pub topic: String,
    /// The payload, as published.
    pub payload: Vec<u8>,
    /// True when it is a retained message delivered because of a new subscription.
    pub retain: bool,
}

/// An in-process client with the broker: [`Broker::link`](crate::Broker::link) makes one.
/// Use it from one thread, or [`Link::split`] it so one thread receives while others publish.
pub struct Link {
    sender: LinkSender,
    receiver: LinkReceiver,
}

/// The publishing half of a [`Link`]. Clones publish through the same link.
#[derive(Clone)]
pub struct LinkSender {
    shared: Arc<Shared>,
}

/// The receiving half of a [`Link`].
pub struct LinkReceiver {
    rx: LinkRx,
    shared: Arc<Shared>,
}

/// What both halves share; dropping the last half disconnects the link.
struct Shared {
    client_id: String,
    tx: Mutex<LinkTx>,
}

impl Link {
    pub(crate) fn new(client_id: &str, tx: LinkTx, rx: LinkRx) -> Link {
        let shared = Arc::new(Shared {
            client_id: client_id.to_owned(),
            tx: Mutex::new(tx),
        });
        Link {
            sender: LinkSender {
                shared: shared.clone(),
            },
            receiver: LinkReceiver { rx, shared },
        }
    }

    /// The client id given to [`Broker::link`](crate::Broker::link).
    pub fn client_id(&self) -> &str {
        &self.sender.shared.client_id
    }

    /// Subscribes to an MQTT topic filter (`farm/#`, `farm/+/+/telemetry`). It applies to
    /// every message the broker routes after this returns; retained messages that match are
    /// delivered first.
    pub fn subscribe(&mut self, filter: &str) -> Result<(), BrokerError> {
        self.sender.subscribe(filter)
    }

    /// Publishes `payload` to `topic` (QoS 0). With `retain`, the broker keeps it as the
    /// topic's retained message for future subscribers (in memory only); an empty payload
    /// clears the topic's retained message, with or without `retain`.
    pub fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        retain: bool,
    ) -> Result<(), BrokerError> {
        self.sender.publish(topic, payload, retain)
    }

    /// Blocks until the next message for this link's subscriptions. Call it on a dedicated
    /// thread (or `spawn_blocking`), never inside async code.
    pub fn recv(&mut self) -> Result<Message, BrokerError> {
        self.receiver.recv()
    }

    /// Like [`Link::recv`], but gives up after `timeout` with `Ok(None)`.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Message>, BrokerError> {
        self.receiver.recv_timeout(timeout)
    }

    /// Splits the link so one thread receives while others publish.
    pub fn split(self) -> (LinkSender, LinkReceiver) {
        (self.sender, self.receiver)
    }
}

impl LinkSender {
    /// See [`Link::subscribe`].
    pub fn subscribe(&self, filter: &str) -> Result<(), BrokerError> {
        check_filter(filter)?;
        self.with_tx(|tx| tx.subscribe(filter).map(drop).map_err(drop))
    }

    /// See [`Link::publish`].
    pub fn publish(&self, topic: &str, payload: &[u8], retain: bool) -> Result<(), BrokerError> {
        check_topic(topic)?;
        let publish = Publish::new(topic.as_bytes().to_vec(), payload.to_vec(), retain);
        self.with_tx(|tx| {
            block_on(tx.send(Packet::Publish(publish, None)))
                .map(drop)
                .map_err(drop)
        })
    }

    fn with_tx(&self, send: impl FnOnce(&mut LinkTx) -> Result<(), ()>) -> Result<(), BrokerError> {
        let closed = || BrokerError::LinkClosed {
            client_id: self.shared.client_id.clone(),
        };
        let mut tx = self.shared.tx.lock().map_err(|_| closed())?;
        send(&mut tx).map_err(|_| closed())
    }
}

impl LinkReceiver {
    /// See [`Link::recv`].
    pub fn recv(&mut self) -> Result<Message, BrokerError> {
        loop {
            let next = self.rx.recv().map_err(|_| self.closed())?;
            if let Some(message) = self.handle(next)? {
                return Ok(message);
            }
        }
    }

    /// See [`Link::recv_timeout`].
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Message>, BrokerError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.rx.recv_deadline(deadline) {
                Ok(next) => {
                    if let Some(message) = self.handle(next)? {
                        return Ok(Some(message));
                    }
                }
                Err(LinkError::RecvTimeout(flume::RecvTimeoutError::Timeout)) => return Ok(None),
                Err(_) => return Err(self.closed()),
            }
        }
    }

    fn handle(&mut self, next: Option<Notification>) -> Result<Option<Message>, BrokerError> {
        match next {
            Some(Notification::Forward(forward)) => Ok(Some(Message {
                topic: String::from_utf8_lossy(&forward.publish.topic).into_owned(),
                payload: forward.publish.payload.to_vec(),
                retain: forward.publish.retain,
            })),
            // The router paused this link (its buffer was full); ask for more.
            Some(Notification::Unschedule) => {
                self.rx.ready().map_err(|_| self.closed())?;
                Ok(None)
            }
            Some(Notification::Disconnect(..)) => Err(self.closed()),
            // Subscription acknowledgements and the like.
            _ => Ok(None),
        }
    }

    fn closed(&self) -> BrokerError {
        BrokerError::LinkClosed {
            client_id: self.shared.client_id.clone(),
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let disconnect = Disconnect {
            reason_code: DisconnectReasonCode::NormalDisconnection,
        };
        if let Ok(tx) = self.tx.get_mut() {
            // The broker may already be gone or have dropped the link: nothing left to free.
            let _ = block_on(tx.send(Packet::Disconnect(disconnect, None)));
        }
    }
}

/// Checks a link's client id: 1 to 64 of ASCII letters, digits, `-`, `_`, `.`, `:`.
pub(crate) fn check_client_id(client_id: &str) -> Result<(), BrokerError> {
    let ok = (1..=64).contains(&client_id.len())
        && client_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    match ok {
        true => Ok(()),
        false => Err(BrokerError::Link {
            client_id: client_id.to_owned(),
            reason: "a client id is 1 to 64 of ASCII letters, digits, '-', '_', '.', ':'"
                .to_owned(),
        }),
    }
}

fn check_topic(topic: &str) -> Result<(), BrokerError> {
    let reason = if topic.is_empty() {
        "a topic is not empty"
    } else if topic.contains(['+', '#']) {
        "a topic to publish to has no wildcards"
    } else {
        return check_common(topic);
    };
    Err(invalid(topic, reason))
}

fn check_filter(filter: &str) -> Result<(), BrokerError> {
    let levels: Vec<&str> = filter.split('/').collect();
    let last = levels.len() - 1;
    let reason = if filter.is_empty() {
        "a filter is not empty"
    } else if filter.starts_with('$') && !filter.starts_with("$share/") {
        "rumqttd refuses filters starting with '$' (and would drop the link)"
    } else if levels
        .iter()
        .enumerate()
        .any(|(i, level)| level.contains('#') && (i != last || *level != "#"))
    {
        "'#' is only allowed as the whole last level"
    } else if levels
        .iter()
        .any(|level| level.contains('+') && *level != "+")
    {
        "'+' is only allowed as a whole level"
    } else {
        return check_common(filter);
    };
    Err(invalid(filter, reason))
}

fn check_common(topic: &str) -> Result<(), BrokerError> {
    match (topic.contains('\0'), topic.len() > usize::from(u16::MAX)) {
        (true, _) => Err(invalid(topic, "a topic has no NUL character")),
        (_, true) => Err(invalid(topic, "a topic is at most 65535 bytes")),
        _ => Ok(()),
    }
}

fn invalid(topic: &str, reason: &'static str) -> BrokerError {
    BrokerError::Topic {
        topic: topic.to_owned(),
        reason,
    }
}

/// Wakes the blocked thread when the future can make progress.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread. rumqttd's `LinkTx::send` is an `async fn` that
/// never waits, so this returns after one poll; parking covers any other case.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut context = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_follow_mqtt_rules() {
        for good in [
            "farm/#",
            "#",
            "farm/+/+/telemetry",
            "+",
            "farm/r1",
            "$share/g/farm/#",
        ] {
            assert!(check_filter(good).is_ok(), "{good}");
        }
        for bad in ["", "farm/#/x", "farm#", "farm/r+/x", "$SYS/#", "a\0b"] {
            assert!(check_filter(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn topics_have_no_wildcards() {
        assert!(check_topic("farm/agent/status").is_ok());
        for bad in ["", "farm/+", "farm/#"] {
            assert!(check_topic(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn client_ids_are_restricted() {
        assert!(check_client_id("agent-ingest_1.a:b").is_ok());
        for bad in ["", "a/b", "a+b", "$a", "a b", &"x".repeat(65)] {
            assert!(check_client_id(bad).is_err(), "{bad:?}");
        }
    }
}

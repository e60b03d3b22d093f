//! What became of one POST, as data ([`Outcome`]), and how an HTTP answer maps to it
//! ([`classify`], pure). DESIGN.md §3.3: 200 = stored up to `acked_seq`; 413 = split;
//! 401 = the token is refused; any other 4xx = refused for good; 5xx, 429, timeouts and
//! connection errors = try the same batch again later.

use farm_protocol::{BatchAck, Seq};

/// The most of an error answer's text kept for logs and the alarm.
const MAX_MESSAGE: usize = 300;

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 200: the service has stored everything `<= acked_seq`.
    Delivered {
        /// The service's watermark for this device.
        acked_seq: Seq,
    },
    /// Not delivered this time; send the same batch again after a backoff.
    Retry {
        /// Which kind of failure.
        kind: ErrorKind,
        /// What happened, for logs and the status.
        why: String,
    },
    /// 413: too large; send the same range again in smaller batches.
    Split,
    /// 401: the device token was refused; syncing stops.
    Unauthorized {
        /// The service's message.
        message: String,
    },
    /// Another 4xx: the batch is refused for good; syncing stops (nothing is dropped).
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The service's message.
        message: String,
    },
}

/// Failure kinds, the label values of `farm_sync_errors_total{kind="…"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No answer in time.
    Timeout,
    /// No connection (refused, DNS, TLS handshake, reset).
    Connect,
    /// 5xx.
    Server,
    /// 429.
    Throttled,
    /// 200 with a body that is not `{"acked_seq": N}`, or an ack below the batch.
    BadResponse,
    /// 413 (the batch is split).
    TooLarge,
    /// 401.
    Unauthorized,
    /// Another 4xx.
    Rejected,
    /// A local failure: the outbox (reading a batch, recording an ack) or encoding.
    Local,
}

impl ErrorKind {
    /// Every kind, in declaration order (a kind's `as usize` is its index here), the order
    /// /metrics lists them.
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Timeout,
        ErrorKind::Connect,
        ErrorKind::Server,
        ErrorKind::Throttled,
        ErrorKind::BadResponse,
        ErrorKind::TooLarge,
        ErrorKind::Unauthorized,
        ErrorKind::Rejected,
        ErrorKind::Local,
    ];

    /// The label value.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Server => "server",
            ErrorKind::Throttled => "throttled",
            ErrorKind::BadResponse => "bad_response",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Local => "local",
        }
    }
}

/// Maps an HTTP answer (`status` and up to the first bytes of its `body`) to an outcome.
pub fn classify(status: u16, body: &[u8]) -> Outcome {
    match status {
        200 => match serde_json::from_slice::<BatchAck>(body) {
            Ok(ack) => Outcome::Delivered {
                acked_seq: ack.acked_seq,
            },
            Err(err) => Outcome::Retry {
                kind: ErrorKind::BadResponse,
                why: format!("200 without a valid {{\"acked_seq\": N}} body ({err})"),
            },
        },
        413 => Outcome::Split,
        401 => Outcome::Unauthorized {
            message: message(body),
        },
        429 => Outcome::Retry {
            kind: ErrorKind::Throttled,
            why: format!("429 Too Many Requests: {}", message(body)),
        },
        400..=499 => Outcome::Rejected {
            status,
            message: message(body),
        },
        500..=599 => Outcome::Retry {
            kind: ErrorKind::Server,
            why: format!("{status}: {}", message(body)),
        },
        // 1xx/3xx/other 2xx: not what the contract promises; maybe a proxy in between.
        _ => Outcome::Retry {
            kind: ErrorKind::BadResponse,
            why: format!("unexpected status {status}: {}", message(body)),
        },
    }
}

/// The service's error message: the `error` or `message` field of a JSON body, else the
/// body as text; one line, at most [`MAX_MESSAGE`] characters, `"(no message)"` if empty.
pub fn message(body: &[u8]) -> String {
    let json = serde_json::from_slice::<serde_json::Value>(body).ok();
    let field = json.as_ref().and_then(|value| {
        ["error", "message"]
            .iter()
            .find_map(|key| value.get(key).and_then(|v| v.as_str()))
    });
    let text = match field {
        Some(text) => text.to_owned(),
        None => String::from_utf8_lossy(body).into_owned(),
    };
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return "(no message)".to_owned();
    }
    match line.char_indices().nth(MAX_MESSAGE) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_sits_at_its_own_index_in_all() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i, "{kind:?}");
        }
    }

    fn retry_kind(outcome: Outcome) -> ErrorKind {
        match outcome {
            Outcome::Retry { kind, .. } => kind,
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    #[test]
    fn ok_with_an_ack_is_delivered_and_anything_else_is_retried() {
        assert_eq!(
            classify(200, br#"{"acked_seq": 42}"#),
            Outcome::Delivered { acked_seq: 42 }
        );
        for body in [&b""[..], b"{}", b"ok", br#"{"acked_seq": -1}"#] {
            assert_eq!(retry_kind(classify(200, body)), ErrorKind::BadResponse);
        }
        assert_eq!(retry_kind(classify(204, b"")), ErrorKind::BadResponse);
    }

    #[test]
    fn statuses_map_to_the_contract() {
        assert_eq!(classify(413, b"too big"), Outcome::Split);
        assert_eq!(
            classify(401, br#"{"error":"unknown device token"}"#),
            Outcome::Unauthorized {
                message: "unknown device token".into()
            }
        );
        for status in [400, 403, 404, 409, 422] {
            assert!(matches!(
                classify(status, b"no"),
                Outcome::Rejected { status: s, .. } if s == status
            ));
        }
        assert_eq!(retry_kind(classify(429, b"")), ErrorKind::Throttled);
        for status in [500, 502, 503, 504] {
            assert_eq!(retry_kind(classify(status, b"")), ErrorKind::Server);
        }
    }

    #[test]
    fn messages_are_one_short_line() {
        assert_eq!(message(br#"{"message":"schema 2"}"#), "schema 2");
        assert_eq!(
            message(b"<h1>Bad\n  Gateway</h1>\n"),
            "<h1>Bad Gateway</h1>"
        );
        assert_eq!(message(b"  "), "(no message)");
        let long = message("é".repeat(1000).as_bytes());
        assert_eq!(long.chars().count(), MAX_MESSAGE + 1);
    }
}

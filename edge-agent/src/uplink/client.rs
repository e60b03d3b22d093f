//! The HTTP side of the uplink: a reqwest client over rustls (webpki roots plus the optional
//! `ca_file`), the device token as a sensitive `Authorization` header, and one POST of a
//! gzip body turned into an [`Outcome`].

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::{Response, Url};

use super::outcome::{classify, ErrorKind, Outcome};
use crate::config::{read_ca, read_token, SyncConfig};

/// The most of an answer that is read (an ack is tiny; an error page is cut).
const MAX_ANSWER: usize = 64 << 10;
/// The longest a connection attempt may take (less if `sync.timeout` is shorter).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the uplink could not start.
#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    /// `sync.token_file` could not be used (the message names the file, never the token).
    #[error("sync.token_file: {0}")]
    Token(String),
    /// `sync.ca_file` could not be used.
    #[error("sync.ca_file: {0}")]
    Ca(String),
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot set up the sync HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Posts batches to `<url>/v1/batches`. Its `Debug` shows no token (the header is sensitive).
#[derive(Debug, Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    url: Url,
    authorization: HeaderValue,
}

impl SyncClient {
    /// Reads the token (and CA bundle) the config names and builds the client.
    pub fn new(config: &SyncConfig) -> Result<Self, UplinkError> {
        let token = read_token(&config.token_file).map_err(UplinkError::Token)?;
        let mut authorization = HeaderValue::try_from(format!("Bearer {}", token.expose()))
            .map_err(|_| UplinkError::Token("the token is not a valid header value".into()))?;
        authorization.set_sensitive(true);
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(CONNECT_TIMEOUT))
            .user_agent(concat!("edge-agent/", env!("CARGO_PKG_VERSION")))
            // A redirect would turn the POST into a GET (or carry the token elsewhere).
            .redirect(reqwest::redirect::Policy::none());
        if let Some(ca_file) = &config.ca_file {
            for cert in read_ca(ca_file).map_err(UplinkError::Ca)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        Ok(SyncClient {
            http: builder.build()?,
            url: config.batches_url(),
            authorization,
        })
    }

    /// Where batches go.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// POSTs one gzip-compressed JSON batch and says what became of it. Never fails: a
    /// network problem is an [`Outcome::Retry`].
    pub async fn send(&self, body: Vec<u8>) -> Outcome {
        let sent = self
            .http
            .post(self.url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "gzip")
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => return network_error(&err),
        };
        let status = response.status().as_u16();
        match read_capped(response).await {
            Ok(answer) => classify(status, &answer),
            Err(err) => network_error(&err),
        }
    }
}

/// The first [`MAX_ANSWER`] bytes of the answer.
async fn read_capped(mut response: Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut answer = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_ANSWER.saturating_sub(answer.len());
        answer.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if answer.len() >= MAX_ANSWER {
            break;
        }
    }
    Ok(answer)
}

/// A failed exchange: a timeout, or no (complete) connection. The text has the whole cause
/// chain (reqwest's own message is only "error sending request").
fn network_error(err: &reqwest::Error) -> Outcome {
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Connect
    };
    let mut why = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        why.push_str(": ");
        why.push_str(&cause.to_string());
        source = cause.source();
    }
    Outcome::Retry { kind, why }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &std::path::Path, url: &str) -> SyncConfig {
        let token_file = dir.join("token");
        std::fs::write(&token_file, "tok-unit-secret\n").expect("write token");
        SyncConfig {
            url: Url::parse(url).expect("url"),
            token_file,
            ca_file: None,
            batch_readings: 10,
            batch_events: 10,
            interval: Duration::from_secs(1),
            timeout: Duration::from_millis(500),
            max_backoff: Duration::from_secs(1),
            gzip_level: 1,
        }
    }

    #[test]
    fn the_client_debug_output_hides_the_token() {
        let dir = tempfile::tempdir().expect("temp dir");
        let client =
            SyncClient::new(&config(dir.path(), "https://sync.example.com/base/")).expect("client");
        let shown = format!("{client:?}");
        assert!(!shown.contains("tok-unit-secret"), "{shown}");
        assert_eq!(
            client.url().as_str(),
            "https://sync.example.com/base/v1/batches"
        );
    }

    #[test]
    fn a_missing_token_or_ca_file_stops_the_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut bad = config(dir.path(), "https://sync.example.com");
        bad.ca_file = Some(dir.path().join("absent.pem"));
        assert!(matches!(SyncClient::new(&bad), Err(UplinkError::Ca(_))));
        bad.token_file = dir.path().join("absent-token");
        assert!(matches!(SyncClient::new(&bad), Err(UplinkError::Token(_))));
    }

    #[tokio::test]
    async fn a_refused_connection_is_retried_as_a_connect_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Bind and drop: nothing listens on this port any more.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let client = SyncClient::new(&config(dir.path(), &format!("http://127.0.0.1:{port}")))
            .expect("client");
        match client.send(b"x".to_vec()).await {
            Outcome::Retry { kind, why } => {
                assert_eq!(kind, ErrorKind::Connect, "{why}");
                assert!(!why.contains("tok-unit-secret"));
            }
            other => panic!("expected a retry, got {other:?}"),
        }
    }
}

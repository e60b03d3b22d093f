//! A scripted sync-service for the uplink tests: `POST /v1/batches` on a free port, recording
//! every request (headers and the gunzipped batch) and answering each as its script says.
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::VecDeque;
use std::io::Read as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use farm_protocol::Batch;

/// How long a test waits for the agent to do something.
pub const WAIT: Duration = Duration::from_secs(30);

/// How the scripted service answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 `{"acked_seq": <the batch's last_seq>}`.
    Ack,
    /// This status with this body.
    Status(u16, &'static str),
    /// No answer for this long (longer than the agent's timeout), then an ack.
    Hang(Duration),
}

/// One request as the service saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub authorization: Option<String>,
    pub content_encoding: Option<String>,
    pub content_type: Option<String>,
    pub batch: Batch,
}

#[derive(Clone, Default)]
struct Shared {
    script: Arc<Mutex<VecDeque<Reply>>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

/// The scripted sync-service on a free port; answers [`Reply::Ack`] once the script is done.
pub struct Service {
    pub addr: String,
    shared: Shared,
}

impl Service {
    pub fn start(script: Vec<Reply>) -> Service {
        let shared = Shared {
            script: Arc::new(Mutex::new(script.into())),
            ..Shared::default()
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let app = axum::Router::new()
            .route("/v1/batches", axum::routing::post(receive))
            .with_state(shared.clone());
        // The thread ends with the test process.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        Service { addr, shared }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the requests so far; returns them.
    pub fn wait_for(&self, what: &str, done: impl Fn(&[Recorded]) -> bool) -> Vec<Recorded> {
        let deadline = Instant::now() + WAIT;
        loop {
            let requests = self.requests();
            if done(&requests) {
                return requests;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {WAIT:?}: {requests:#?}"
            );
            // Polling what a server thread records: ends as soon as it holds.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("<not text>").to_owned())
    };
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut json)
        .expect("a gzip body");
    let batch: Batch = serde_json::from_slice(&json).expect("a batch");
    let last_seq = batch.last_seq;
    shared.requests.lock().unwrap().push(Recorded {
        authorization: header("authorization"),
        content_encoding: header("content-encoding"),
        content_type: header("content-type"),
        batch,
    });
    let reply = shared.script.lock().unwrap().pop_front();
    let ack = (
        StatusCode::OK,
        [("content-type", "application/json")],
        format!("{{\"acked_seq\":{last_seq}}}"),
    );
    match reply.unwrap_or(Reply::Ack) {
        Reply::Ack => ack.into_response(),
        Reply::Status(code, text) => (StatusCode::from_u16(code).unwrap(), text).into_response(),
        Reply::Hang(wait) => {
            tokio::time::sleep(wait).await;
            ack.into_response()
        }
    }
}

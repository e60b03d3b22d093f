//! A plain TCP proxy on a free port of 127.0.0.1 in front of an HTTP service, for the failures
//! a retrying client must survive: a response lost after the server did the work, and a
//! service that refuses connections. Std threads only.
//!
//! Invariants: bytes are forwarded unchanged in both directions, so keep-alive connections work;
//! when armed with [`FaultProxy::drop_next_response`], the first response bytes the upstream
//! sends afterwards, on whichever connection, are swallowed and both sides of that connection
//! are closed (the server has handled the request, the client never sees the answer), then the
//! proxy is disarmed; while [`FaultProxy::set_refusing`] is on, new connections are accepted and
//! closed at once. Dropping the proxy stops its listener and closes the open connections.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Bytes read from one side before they are written to the other.
const BUFFER_BYTES: usize = 16 * 1024;

/// A TCP proxy that can lose a response or refuse connections. Stops when dropped.
pub struct FaultProxy {
    addr: String,
    shared: Arc<Shared>,
    listener: Option<JoinHandle<()>>,
}

/// What the listener, the connection threads and the test share.
struct Shared {
    upstream: String,
    armed: AtomicBool,
    refusing: AtomicBool,
    stopping: AtomicBool,
    dropped: AtomicU64,
    next_id: AtomicU64,
    /// Both streams of every open connection, to close them when the proxy is dropped.
    open: Mutex<HashMap<u64, (TcpStream, TcpStream)>>,
}

impl FaultProxy {
    /// Listens on a free port of 127.0.0.1 and forwards every connection to `upstream_addr`
    /// (e.g. `127.0.0.1:8086`). A client whose upstream connection fails is closed at once.
    pub fn start(upstream_addr: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address").to_string();
        let shared = Arc::new(Shared {
            upstream: upstream_addr.to_owned(),
            armed: AtomicBool::new(false),
            refusing: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        });
        let thread_shared = Arc::clone(&shared);
        let listener = std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || accept_loop(&listener, &thread_shared))
            .expect("spawn the proxy's listener thread");
        FaultProxy {
            addr,
            shared,
            listener: Some(listener),
        }
    }

    /// The proxy's address, e.g. `127.0.0.1:41234`: give it to the client instead of the
    /// upstream's.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The proxy's base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Arms the proxy: the next response bytes from the upstream, on any connection, are
    /// swallowed and that connection is closed on both sides; then it disarms itself.
    pub fn drop_next_response(&self) {
        self.shared.armed.store(true, Ordering::SeqCst);
    }

    /// Whether the proxy is armed (a response is still to be dropped).
    pub fn is_armed(&self) -> bool {
        self.shared.armed.load(Ordering::SeqCst)
    }

    /// How many responses were dropped so far.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::SeqCst)
    }

    /// While `refusing` is true, new client connections are accepted and closed at once (the
    /// service looks down to the client, without stopping it). Open connections are kept.
    pub fn set_refusing(&self, refusing: bool) {
        self.shared.refusing.store(refusing, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept; it sees `stopping` and ends.
        let _ = TcpStream::connect(&self.addr);
        if let Some(listener) = self.listener.take() {
            let _ = listener.join();
        }
        let open = std::mem::take(&mut *lock(&self.shared.open));
        for (client, upstream) in open.values() {
            let _ = client.shutdown(Shutdown::Both);
            let _ = upstream.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = client else { continue };
        if shared.refusing.load(Ordering::SeqCst) {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(upstream) = TcpStream::connect(&shared.upstream) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = upstream.set_nodelay(true);
        if let Err(e) = start_connection(shared, client, upstream) {
            eprintln!("fault proxy: cannot forward a connection: {e}");
        }
    }
}

/// Registers the connection and starts its two forwarding threads.
fn start_connection(
    shared: &Arc<Shared>,
    client: TcpStream,
    upstream: TcpStream,
) -> std::io::Result<()> {
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    lock(&shared.open).insert(id, (client.try_clone()?, upstream.try_clone()?));
    let requests = (client.try_clone()?, upstream.try_clone()?);
    std::thread::Builder::new()
        .name("fault-proxy-up".into())
        .spawn(move || forward_requests(requests.0, requests.1))?;
    let shared = Arc::clone(shared);
    std::thread::Builder::new()
        .name("fault-proxy-down".into())
        .spawn(move || {
            forward_responses(&shared, upstream, client);
            lock(&shared.open).remove(&id);
        })?;
    Ok(())
}

/// Client → upstream, unchanged. The client's end of sending is passed on as a half-close.
fn forward_requests(mut client: TcpStream, mut upstream: TcpStream) {
    let mut buffer = vec![0; BUFFER_BYTES];
    loop {
        match client.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if upstream.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = upstream.shutdown(Shutdown::Write);
}

/// Upstream → client, unchanged, unless the proxy is armed: then the bytes are swallowed and
/// the connection closed. When the upstream closes, both sides are closed.
fn forward_responses(shared: &Shared, mut upstream: TcpStream, mut client: TcpStream) {
    let mut buffer = vec![0; BUFFER_BYTES];
    loop {
        match upstream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if shared.armed.swap(false, Ordering::SeqCst) {
                    shared.dropped.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                if client.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
}

/// The open-connections map, also after a forwarding thread panicked while holding it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

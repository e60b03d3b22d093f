//! Starting rumqttd: its router, one MQTT 3.1.1 listener on a named thread, links.
//!
//! Invariants:
//! - rumqttd's own `Broker::start` blocks forever while holding the broker, so links could only
//!   be made before it. Instead this module builds the parts `Broker::start` is made of: the
//!   router (`Router::spawn`, its own thread "router-0") and one `Server` run on the thread
//!   "mqtt-broker". The router's sender, kept in [`Broker`], makes links at any time.
//! - With TLS, the public socket belongs to the TLS front (`tls`), bound here before anything
//!   starts; rumqttd listens on a reserved 127.0.0.1 port and the front relays to it.
//! - There is no shutdown in rumqttd 0.20: dropping [`Broker`] does not stop the listener; it
//!   lives until the process ends.
//! - `start` returns only once the listener accepts TCP connections (bounded wait). The one
//!   readiness probe connection makes rumqttd log an error line ("Error while handling MQTT
//!   connect packet … connection closed by peer") at startup: that is the probe.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rumqttd::local::{LinkBuilder, LinkRx, LinkTx};
use rumqttd::protocol::v4::V4;
use rumqttd::{ConnectionSettings, LinkType, Router, RouterConfig, Server, ServerSettings};
use tokio_rustls::rustls::ServerConfig;
use tracing::{error, info};

use crate::auth::{Verifier, LINK_ID_PREFIX};
use crate::link::{check_client_id, Link};
use crate::tls;
use crate::{BrokerConfig, BrokerError};

/// Bytes added to [`BrokerConfig::max_payload_bytes`] for the rest of a PUBLISH packet
/// (topic length, topic, packet id): rumqttd limits whole packets, not payloads.
pub const PACKET_HEADROOM: usize = 256;
/// How long [`Broker::start`] waits for the listener to accept connections.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(5);
/// Time a client has, after the TCP (and TLS) handshake, to send its CONNECT packet.
const CONNECT_TIMEOUT_MS: u16 = 10_000;
/// Publishes the router hands a QoS 0 subscriber per read of its log.
const MAX_OUTGOING_PACKETS: u64 = 200;
/// Name of the thread that runs the listener.
const THREAD_NAME: &str = "mqtt-broker";

type MakeLink = dyn Fn(&str) -> Result<(LinkTx, LinkRx), String> + Send + Sync;

/// The running embedded broker. There is no stop: rumqttd 0.20 has no shutdown, so the
/// listener runs until the process exits, even after this value is dropped.
pub struct Broker {
    local_addr: SocketAddr,
    make_link: Box<MakeLink>,
    thread: JoinHandle<()>,
}

impl Broker {
    /// Validates the config (bad hash strings, TLS files missing or unreadable, zero limits →
    /// [`BrokerError::Config`] naming the field), starts rumqttd with its listener on a thread
    /// named "mqtt-broker", waits until the listener accepts TCP connections (at most
    /// [`LISTEN_TIMEOUT`]) and returns.
    ///
    /// rumqttd binds its listener itself (it can not be given a socket) and does not report
    /// the port. So the address is bound here first, which reports "address in use" precisely,
    /// and released just before rumqttd binds it. With port 0 the free port is released in
    /// TIME_WAIT (one connection closed from the server side), which keeps the kernel from
    /// handing it to other port-0 binds for a minute while rumqttd re-binds it with
    /// SO_REUSEADDR (the technique of Yelp's ephemeral-port-reserve). A process binding that
    /// exact port in the moment between would win; rumqttd's bind then fails, which is logged
    /// and shows in [`Broker::is_running`].
    pub fn start(config: BrokerConfig) -> Result<Broker, BrokerError> {
        config.validate()?;
        let verifier = match config.allow_anonymous {
            true => None,
            false => Some(Verifier::start(&config.users)?),
        };
        // With TLS, the front owns the public address and rumqttd listens on loopback.
        let (front, backend) = match &config.tls {
            None => (None, reserve(config.listen)?),
            Some(tls) => {
                let tls_config = tls::server_config(tls)?;
                let front = bind_front(config.listen)?;
                let backend = reserve(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
                (Some((front, tls_config)), backend)
            }
        };
        let local_addr = match &front {
            Some((front, _)) => front.local_addr().map_err(|e| BrokerError::Listen {
                addr: config.listen,
                reason: e.to_string(),
            })?,
            None => backend,
        };
        let router_tx = Router::new(0, router_config(&config)).spawn();
        let mut settings = server_settings(&config, backend);
        if let Some(verifier) = verifier {
            settings.set_auth_handler(move |client_id, username, password| {
                verifier.check(client_id, username, password)
            });
        }
        let server = Server::new(settings, router_tx.clone(), V4);
        let (failed_tx, failed) = mpsc::channel();
        let thread = thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || {
                let reason = run_listeners(server, front, backend);
                error!(%local_addr, %reason, "MQTT listener stopped");
                let _ = failed_tx.send(reason);
            })
            .map_err(|source| BrokerError::Thread {
                name: THREAD_NAME.to_owned(),
                source,
            })?;
        wait_until_listening(backend, &failed)?;
        info!(%local_addr, tls = config.tls.is_some(), "MQTT broker listening");
        let make_link = Box::new(move |client_id: &str| {
            LinkBuilder::new(client_id, router_tx.clone())
                .build()
                .map(|(tx, rx, _connack)| (tx, rx))
                .map_err(|e| e.to_string())
        });
        Ok(Broker {
            local_addr,
            make_link,
            thread,
        })
    }

    /// The address the listener is bound to: the real port when port 0 was asked.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Network clients connected now: the established TCP connections on the broker's port,
    /// counted from the kernel's tables (`/proc/net/tcp`, `/proc/net/tcp6`). In-process links
    /// are not network clients and are not counted.
    pub fn connected_clients(&self) -> std::io::Result<usize> {
        crate::clients::established_on_port(self.local_addr.port())
    }

    /// False once the listener thread has ended (it only ends on a fatal error, logged).
    pub fn is_running(&self) -> bool {
        !self.thread.is_finished()
    }

    /// Opens an in-process client ("link") with the given client id (letters, digits, `-`,
    /// `_`, `.`, `:`; no `/`, `+`, `#`, `$`). Link ids live in their own namespace: network
    /// clients can not take them. Opening a second link with the same id closes the first.
    /// Links are QoS 0 and count towards [`BrokerConfig::max_connections`].
    pub fn link(&self, client_id: &str) -> Result<Link, BrokerError> {
        check_client_id(client_id)?;
        let (tx, rx) =
            (self.make_link)(&format!("{LINK_ID_PREFIX}{client_id}")).map_err(|reason| {
                BrokerError::Link {
                    client_id: client_id.to_owned(),
                    reason: format!("refused by the broker (too many connections?): {reason}"),
                }
            })?;
        Ok(Link::new(client_id, tx, rx))
    }
}

fn router_config(config: &BrokerConfig) -> RouterConfig {
    RouterConfig {
        max_connections: config.max_connections,
        max_outgoing_packet_count: MAX_OUTGOING_PACKETS,
        max_segment_size: config.log_segment_bytes,
        max_segment_count: config.log_segment_count,
        ..RouterConfig::default()
    }
}

fn server_settings(config: &BrokerConfig, listen: SocketAddr) -> ServerSettings {
    ServerSettings {
        name: THREAD_NAME.to_owned(),
        listen,
        // TLS is terminated by our front (src/tls.rs), never by rumqttd.
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: CONNECT_TIMEOUT_MS,
            max_payload_size: config.max_payload_bytes + PACKET_HEADROOM,
            max_inflight_count: usize::from(config.max_inflight),
            auth: None,
            external_auth: None,
            // false: a publish to a topic nobody subscribed to is dropped. true would give every
            // published topic its own in-memory log (memory per topic instead of per filter).
            dynamic_filters: false,
        },
    }
}

/// Runs rumqttd's listener (and the TLS front, if any) on this thread; returns why they
/// stopped (they only stop on an error).
fn run_listeners(
    mut server: Server<V4>,
    front: Option<(std::net::TcpListener, Arc<ServerConfig>)>,
    backend: SocketAddr,
) -> String {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return format!("creating the tokio runtime: {e}"),
    };
    if let Some((front, tls_config)) = front {
        // Runs on this thread whenever `block_on` below waits.
        let front = {
            let _runtime = runtime.enter();
            match tokio::net::TcpListener::from_std(front) {
                Ok(front) => front,
                Err(e) => return format!("TLS listener: {e}"),
            }
        };
        runtime.spawn(tls::serve(front, tls_config, backend));
    }
    match runtime.block_on(server.start(LinkType::Remote)) {
        Ok(()) => "the listener ended".to_owned(),
        Err(e) => e.to_string(),
    }
}

/// Binds the TLS front's public socket; errors are reported precisely.
fn bind_front(listen: SocketAddr) -> Result<std::net::TcpListener, BrokerError> {
    let failed = |e: std::io::Error| BrokerError::Listen {
        addr: listen,
        reason: e.to_string(),
    };
    let listener = TcpListener::bind(listen).map_err(failed)?;
    listener.set_nonblocking(true).map_err(failed)?;
    Ok(listener)
}

/// The address to hand rumqttd: `listen` itself, or with port 0 a reserved free port.
fn reserve(listen: SocketAddr) -> Result<SocketAddr, BrokerError> {
    let failed = |e: std::io::Error| BrokerError::Listen {
        addr: listen,
        reason: e.to_string(),
    };
    // Binding first reports "address in use" or "permission denied" precisely; rumqttd would
    // only log it.
    let listener = TcpListener::bind(listen).map_err(failed)?;
    if listen.port() != 0 {
        return Ok(listen);
    }
    let addr = listener.local_addr().map_err(failed)?;
    // Close one connection from the server side first so the port sits in TIME_WAIT.
    let client = TcpStream::connect(probe_addr(addr)).map_err(failed)?;
    let (accepted, _) = listener.accept().map_err(failed)?;
    drop(accepted);
    drop(client);
    Ok(addr)
}

/// Where to connect to reach a listener on `addr` (loopback for an unspecified address).
fn probe_addr(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// Waits until a TCP connect to the listener succeeds, or the listener thread reports failure,
/// or [`LISTEN_TIMEOUT`] passes.
fn wait_until_listening(addr: SocketAddr, failed: &Receiver<String>) -> Result<(), BrokerError> {
    let deadline = Instant::now() + LISTEN_TIMEOUT;
    let probe = probe_addr(addr);
    let listen_error = |reason: String| BrokerError::Listen { addr, reason };
    loop {
        let last = match TcpStream::connect_timeout(&probe, Duration::from_millis(250)) {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            return Err(listen_error(format!(
                "not accepting connections after {LISTEN_TIMEOUT:?} (last try: {last})"
            )));
        }
        // Retry after a short pause, or fail as soon as the thread reports why it stopped.
        match failed.recv_timeout(Duration::from_millis(10)) {
            Ok(reason) => return Err(listen_error(reason)),
            Err(RecvTimeoutError::Disconnected) => {
                return Err(listen_error("the listener thread ended".to_owned()))
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

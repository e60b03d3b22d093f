//! The TLS front: terminates TLS (rustls, ring provider) and relays each connection to
//! rumqttd's plain listener on the loopback interface.
//!
//! Why not rumqttd's own TLS: rumqttd 0.20 performs the TLS handshake inside its accept loop,
//! without a timeout, so one client that opens a TCP connection and then stalls (a node losing
//! Wi-Fi mid-handshake) blocks every new connection until it goes away, possibly forever. Here
//! each handshake runs in its own task and is bounded by [`HANDSHAKE_TIMEOUT`]. rumqttd's
//! rustls 0.22 also refused client hellos naming an IP address (mosquitto sends one for
//! `-h 192.168.1.10`); rustls 0.23 accepts them.
//!
//! Invariants: the front owns the public socket (bound before rumqttd starts, so its address
//! and port are known at once); rumqttd listens on 127.0.0.1 only, where logins are still
//! checked. Both run on the "mqtt-broker" thread's runtime.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, warn};

use crate::{BrokerError, TlsConfig};

/// Time a client has to complete the TLS handshake.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Loads the certificate chain and key into a rustls server config; errors name the field.
pub(crate) fn server_config(tls: &TlsConfig) -> Result<Arc<ServerConfig>, BrokerError> {
    let pem = read("tls.cert_path", &tls.cert_path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BrokerError::config("tls.cert_path", format!("bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(BrokerError::config(
            "tls.cert_path",
            format!("{} holds no PEM certificate", tls.cert_path.display()),
        ));
    }
    let pem = read("tls.key_path", &tls.key_path)?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        BrokerError::config(
            "tls.key_path",
            format!(
                "{} holds no usable PEM private key ({e})",
                tls.key_path.display()
            ),
        )
    })?;
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| BrokerError::config("tls", format!("rustls refuses the pair: {e}")))?;
    Ok(Arc::new(config))
}

fn read(field: &str, path: &Path) -> Result<Vec<u8>, BrokerError> {
    std::fs::read(path).map_err(|e| BrokerError::config(field, format!("{}: {e}", path.display())))
}

/// Accepts TLS clients on `listener` forever and relays each to `backend`.
pub(crate) async fn serve(listener: TcpListener, config: Arc<ServerConfig>, backend: SocketAddr) {
    let acceptor = TlsAcceptor::from(config);
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(relay(acceptor.clone(), stream, peer, backend));
            }
            Err(e) => {
                // Out of file descriptors and the like: pause instead of spinning.
                warn!(error = %e, "TLS listener could not accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn relay(acceptor: TlsAcceptor, stream: TcpStream, peer: SocketAddr, backend: SocketAddr) {
    let mut tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => return debug!(%peer, error = %e, "TLS handshake failed"),
        Err(_) => return debug!(%peer, "TLS handshake timed out"),
    };
    let mut plain = match TcpStream::connect(backend).await {
        Ok(plain) => plain,
        Err(e) => return warn!(%peer, error = %e, "MQTT listener unreachable from the TLS front"),
    };
    debug!(%peer, local = ?plain.local_addr().ok(), "TLS client relayed");
    // Ends when either side closes; errors are ordinary disconnects.
    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
}

//! The embedded MQTT broker inside the agent (DESIGN.md §3.1): starts farm-broker from
//! `[mqtt]`, feeds room-node telemetry to the [`Ingest`] on its own thread (the link's receive
//! blocks), and publishes the retained `farm/agent/status` (`online`, then `offline` at
//! shutdown) and `farm/<room>/state`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use farm_broker::{Broker, BrokerConfig, LinkSender, TlsConfig, User};
use serde_json::Value;

use crate::agent::AgentError;
use crate::config::MqttConfig;
use crate::ingest::{Ingest, TELEMETRY_FILTER};

/// The retained topic that says whether the agent is up.
pub const STATUS_TOPIC: &str = "farm/agent/status";

/// The running broker, the agent's publishing link and the ingest thread.
pub struct MqttService {
    broker: Arc<Broker>,
    sender: LinkSender,
    _ingest: JoinHandle<()>,
}

impl MqttService {
    /// Starts the broker, subscribes the ingest and publishes `online`.
    pub fn start(config: &MqttConfig, ingest: Ingest) -> Result<MqttService, AgentError> {
        let broker = Broker::start(broker_config(config))?;
        if config.users.is_empty() && !config.allow_anonymous {
            tracing::warn!(
                "MQTT broker has no users and refuses anonymous clients: no room node can connect."
            );
        }
        let mut link = broker.link("edge-agent-ingest")?;
        link.subscribe(TELEMETRY_FILTER)?;
        let (_, mut receiver) = link.split();
        // rumqttd keeps a bounded log per subscription and skips what a slow reader has not
        // taken in time. So one thread only moves messages off the link into an in-process
        // queue, and another parses and stores them: a burst waits in memory, not lost.
        let (queue, queued) = std::sync::mpsc::channel::<farm_broker::Message>();
        std::thread::Builder::new()
            .name("mqtt-receive".into())
            .spawn(move || loop {
                match receiver.recv() {
                    Ok(message) => {
                        if queue.send(message).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "MQTT ingest stopped: the broker link failed.");
                        return;
                    }
                }
            })
            .map_err(AgentError::Thread)?;
        let thread = std::thread::Builder::new()
            .name("mqtt-ingest".into())
            .spawn(move || {
                for message in queued {
                    ingest.handle(&message.topic, &message.payload);
                }
            })
            .map_err(AgentError::Thread)?;
        let (sender, _) = broker.link("edge-agent")?.split();
        sender.publish(STATUS_TOPIC, b"online", true)?;
        tracing::info!(service = %"MQTT", address = %broker.local_addr(), "Listening.");
        Ok(MqttService {
            broker: Arc::new(broker),
            sender,
            _ingest: thread,
        })
    }

    /// Where the broker listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.broker.local_addr()
    }

    /// Connected network clients (room nodes), for `/metrics`.
    pub fn clients_gauge(&self) -> Arc<dyn Fn() -> usize + Send + Sync> {
        let broker = Arc::clone(&self.broker);
        Arc::new(move || broker.connected_clients().unwrap_or(0))
    }

    /// A publisher for the retained room states (usable from another thread).
    pub fn sender(&self) -> LinkSender {
        self.sender.clone()
    }

    /// Publishes the retained `offline` status (the broker itself runs until the process ends).
    pub fn announce_offline(&self) {
        if let Err(e) = self.sender.publish(STATUS_TOPIC, b"offline", true) {
            tracing::warn!(error = %e, "Could not publish the offline status.");
        }
    }
}

/// Publishes one retained `farm/<room>/state` per room.
pub fn publish_states(sender: &LinkSender, docs: Vec<(String, Value)>) {
    for (room, doc) in docs {
        let topic = format!("farm/{room}/state");
        if let Err(e) = sender.publish(&topic, doc.to_string().as_bytes(), true) {
            tracing::warn!(%topic, error = %e, "Room state not published.");
        }
    }
}

fn broker_config(config: &MqttConfig) -> BrokerConfig {
    BrokerConfig {
        listen: config.listen,
        tls: config.tls.clone().map(|(cert_path, key_path)| TlsConfig {
            cert_path,
            key_path,
        }),
        max_payload_bytes: config.max_payload_bytes,
        max_connections: config.max_connections,
        users: config
            .users
            .iter()
            .map(|(name, password_hash)| User {
                name: name.clone(),
                password_hash: password_hash.clone(),
            })
            .collect(),
        allow_anonymous: config.allow_anonymous,
        ..BrokerConfig::default()
    }
}

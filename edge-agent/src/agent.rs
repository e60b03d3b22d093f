//! `edge-agent run`: opens the outbox, builds the sensors, starts the uplink, samples until
//! told to stop, then flushes the outbox and returns.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use farm_drivers::sim::{RoomParams, SharedFarm, SimError, SimFarm};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use crate::actuators::Actuators;
use crate::config::{ActuatorOutput, Config, SensorKind};
use crate::control::ControlHandle;
use crate::http::Metrics;
use crate::ingest::{Ingest, IngestStats, NodeTracker, TimeLimits};
use crate::mqtt::MqttService;
use crate::outbox::{History, NewEvent, Outbox, OutboxError, OutboxStats, FILE_NAME};
use crate::room_state::room_states;
use crate::state::LatestState;
use crate::uplink::{SyncStatus, Uplink};

/// How often the simulated farm's clock is moved on.
const SIM_TICK: Duration = Duration::from_millis(200);

/// Why the agent could not run.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The data directory could not be created.
    #[error("cannot create data_dir {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A listening socket could not be bound.
    #[error("cannot listen for {what} on {addr}: {source}")]
    Listen {
        /// Which service.
        what: &'static str,
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// A worker thread (sensor bus, MQTT ingest) could not be started.
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
    /// The embedded MQTT broker could not start.
    #[error("MQTT broker: {0}")]
    Broker(#[from] farm_broker::BrokerError),
    /// The outbox could not be opened or flushed.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The simulated farm refused a room.
    #[error("simulated farm: {0}")]
    Simulation(#[from] SimError),
    /// The uplink could not start (token, CA bundle, TLS set-up).
    #[error(transparent)]
    Sync(#[from] crate::uplink::UplinkError),
}

/// What a run did, reported when it stops.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The outbox's counters after the final flush.
    pub outbox: OutboxStats,
    /// (sensor, values read, faults) for every sensor.
    pub sensors: Vec<(String, u64, u64)>,
}

/// Runs the agent until `shutdown` completes, then stops sampling, flushes the outbox and
/// returns what was done. The caller decides what stops it (signals in `main`, tests).
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<RunSummary, AgentError> {
    let started = std::time::Instant::now();
    let data_dir = &config.agent.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|source| AgentError::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    let outbox = Outbox::open(&data_dir.join(FILE_NAME), config.outbox.clone())?;
    // The panel's charts read the history on their own connection, never stalling ingest.
    let history = History::open(&data_dir.join(FILE_NAME))?;
    let sync = Arc::new(SyncStatus::default());
    let uplink = match &config.sync {
        Some(settings) => Some(Uplink::new(
            settings.clone(),
            config.agent.device_id.clone(),
            outbox.clone(),
            Arc::clone(&sync),
        )?),
        None => None,
    };
    let state = LatestState::default();
    let mut tasks = JoinSet::new();
    let ingest = Arc::new(IngestStats::default());
    let nodes = Arc::new(Mutex::new(NodeTracker::default()));
    let http_listener = match config.http.listen {
        Some(addr) => Some(bind("HTTP", addr).await?),
        None => None,
    };

    let farm = simulated_farm(&config)?;
    if let Some(farm) = &farm {
        tasks.spawn(tick_farm(farm.clone(), config.simulation.speed));
    }
    let built =
        crate::sensors::build(&config.sensors, farm.as_ref()).map_err(AgentError::Thread)?;
    let mut counters = Vec::new();
    for sampler in built.samplers {
        counters.push((sampler.name.clone(), Arc::clone(&sampler.counters)));
        tasks.spawn(sampler.run(state.clone(), outbox.clone()));
    }
    if config.sensors.is_empty() {
        tracing::warn!("No sensors configured; the agent has nothing to sample.");
    }
    let mqtt = if config.mqtt.enabled {
        let ingest = Ingest {
            outbox: outbox.clone(),
            state: state.clone(),
            stats: Arc::clone(&ingest),
            nodes: Arc::clone(&nodes),
            limits: TimeLimits {
                max_clock_skew: config.mqtt.max_clock_skew,
                max_age: config.mqtt.max_reading_age,
            },
        };
        let every = (config.mqtt.node_timeout / 4).min(Duration::from_secs(10));
        tasks.spawn(ingest.clone().watch_nodes(config.mqtt.node_timeout, every));
        Some(MqttService::start(&config.mqtt, ingest)?)
    } else {
        None
    };
    let sender = mqtt.as_ref().map(MqttService::sender);
    let (actuators, events) = Actuators::open(
        &config.actuators,
        farm.as_ref(),
        sender.as_ref(),
        crate::now_ms(),
    );
    record(&outbox, events).await;
    let control = Arc::new(
        crate::control::setup::start(&config, actuators, state.clone(), outbox.clone(), data_dir)
            .map_err(AgentError::Thread)?,
    );
    if let Some(sender) = sender {
        tasks.spawn(publish_states(
            sender,
            state.clone(),
            Arc::clone(&control),
            config.mqtt.state_interval,
        ));
    }
    if let Some(uplink) = uplink {
        tasks.spawn(uplink.run());
    }
    let (stop_http, http_stopped) = tokio::sync::watch::channel(false);
    let http = http_listener.map(|listener| {
        let metrics = Metrics {
            outbox: outbox.clone(),
            ingest: Arc::clone(&ingest),
            nodes: Arc::clone(&nodes),
            clients: mqtt.as_ref().map(MqttService::clients_gauge),
            sensors: Arc::new(counters.clone()),
            sync: Arc::clone(&sync),
        };
        let api = crate::api::ApiState {
            control: Arc::clone(&control),
            outbox: outbox.clone(),
            token_hash: config.http.api_token_hash.clone(),
        };
        let harvests = crate::harvest::HarvestState {
            api: api.clone(),
            catalogue: Arc::new(crate::harvest::Catalogue::from_config(&config)),
        };
        let farm = crate::panel::Farm {
            latest: state.clone(),
            control: Arc::clone(&control),
            metrics: metrics.clone(),
            harvests: harvests.clone(),
            history,
            started,
        };
        let panel = crate::panel::PanelState::new(&config.panel, Some(farm));
        let mut stopped = http_stopped.clone();
        let streams = panel.clone();
        let stop = async move {
            let _ = stopped.changed().await;
            // Open panel streams never finish by themselves; graceful shutdown waits for them.
            streams.end_streams();
        };
        tokio::spawn(crate::http::serve(
            listener,
            crate::http::app(metrics)
                .merge(crate::api::router(api))
                .merge(crate::harvest::router(harvests))
                .merge(crate::panel::router(panel)),
            stop,
        ))
    });
    tracing::info!(
        device_id = %config.agent.device_id,
        data_dir = %data_dir.display(),
        sensors = config.sensors.len(),
        "Edge agent running."
    );

    shutdown.await;
    tracing::info!("Shutting down: stopping sensors, flushing the outbox.");
    let _ = stop_http.send(true);
    if let Some(http) = http {
        if let Ok(Err(e)) = http.await {
            tracing::warn!(error = %e, "HTTP server ended with an error.");
        }
    }
    tasks.shutdown().await;
    let stopping = Arc::clone(&control);
    let events = tokio::task::spawn_blocking(move || stopping.stop())
        .await
        .unwrap_or_default();
    record(&outbox, events).await;
    if let Some(mqtt) = &mqtt {
        mqtt.announce_offline();
    }
    for thread in built.threads {
        // A bus thread ends after its current read once its samplers are gone.
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
    let committed = outbox.clone().close().await?;
    let summary = RunSummary {
        outbox: outbox.stats(),
        sensors: counters
            .into_iter()
            .map(|(name, c)| {
                use std::sync::atomic::Ordering::Relaxed;
                (name, c.readings.load(Relaxed), c.faults.load(Relaxed))
            })
            .collect(),
    };
    tracing::info!(
        committed_seq = committed,
        evicted = summary.outbox.evicted,
        dropped = summary.outbox.dropped,
        "Outbox flushed; stopped."
    );
    Ok(summary)
}

/// A simulated farm with one default room per room of a simulated sensor or actuator, or
/// `None` when nothing is simulated.
pub(crate) fn simulated_farm(config: &Config) -> Result<Option<SharedFarm>, SimError> {
    let sensors = config
        .sensors
        .iter()
        .filter(|s| matches!(s.kind, SensorKind::Simulated { .. }));
    let actuators = config
        .actuators
        .iter()
        .filter(|a| a.output == ActuatorOutput::Simulated);
    let rooms: BTreeSet<&str> = sensors
        .map(|s| s.room.as_str())
        .chain(actuators.map(|a| a.room.as_str()))
        .collect();
    if rooms.is_empty() {
        return Ok(None);
    }
    let since_midnight = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() % 86_400);
    let mut farm = SimFarm::new(config.simulation.seed, since_midnight as f64);
    for room in rooms {
        farm.add_room(room, RoomParams::default())?;
    }
    Ok(Some(SharedFarm::new(farm)))
}

/// Moves the simulated clock on by the real time elapsed × `speed`.
async fn tick_farm(farm: SharedFarm, speed: f64) {
    let mut ticker = tokio::time::interval(SIM_TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last = Instant::now();
    loop {
        ticker.tick().await;
        let now = Instant::now();
        farm.advance((now - last).mul_f64(speed));
        last = now;
    }
}

/// Records events (actuator switches, alarms) durably; a failure is logged, not fatal.
async fn record(outbox: &Outbox, events: Vec<NewEvent>) {
    for event in events {
        if let Err(e) = outbox.append_event(event).await {
            tracing::error!(error = %e, "Event not recorded.");
        }
    }
}

/// Binds a listener and logs the address it got (tests ask for port 0 and read it here).
async fn bind(what: &'static str, addr: SocketAddr) -> Result<TcpListener, AgentError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| AgentError::Listen { what, addr, source })?;
    if let Ok(local) = listener.local_addr() {
        tracing::info!(service = %what, address = %local, "Listening.");
    }
    Ok(listener)
}

/// Publishes the retained `farm/<room>/state` of every room every `interval`.
async fn publish_states(
    sender: farm_broker::LinkSender,
    state: LatestState,
    control: Arc<ControlHandle>,
    interval: Duration,
) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        let docs = room_states(&state.snapshot(), &control.view(), crate::now_ms());
        let sender = sender.clone();
        // A link publish may wait on the broker: not on the runtime's thread.
        let _ =
            tokio::task::spawn_blocking(move || crate::mqtt::publish_states(&sender, docs)).await;
    }
}

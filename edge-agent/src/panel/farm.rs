//! [`Farm`]: what the panel's pages show and change, handed over by the agent: readings,
//! the control loops, the outbox and uplink figures, harvests, the readings' history.

use std::sync::Arc;
use std::time::Instant;

use crate::control::ControlHandle;
use crate::harvest::HarvestState;
use crate::http::Metrics;
use crate::outbox::History;
use crate::state::LatestState;

/// The running farm, as the panel sees it. Cheap to clone.
#[derive(Clone)]
pub struct Farm {
    /// The newest reading of every (room, metric).
    pub latest: LatestState,
    /// The control thread: its view, setpoint and override requests.
    pub control: Arc<ControlHandle>,
    /// The `/metrics` sources: outbox, MQTT ingest and room nodes, sensors, uplink status.
    pub metrics: Metrics,
    /// Harvest entry: the catalogue, the rooms and the outbox.
    pub harvests: HarvestState,
    /// The stored readings, for the room charts (its own read-only connection).
    pub history: History,
    /// When the agent started (for the uptime).
    pub started: Instant,
}

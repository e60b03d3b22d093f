//! Building the control thread from the config at start-up: the controller, the saved
//! runtime changes (restored, or skipped with a log line) and the thread.

use std::path::Path;

use super::memory_file::{self, FILE_NAME};
use super::run::{ControlHandle, Parts};
use super::spec::{ActuatorSpec, LoopKind};
use super::Controller;
use crate::actuators::Actuators;
use crate::config::Config;
use crate::outbox::Outbox;
use crate::state::LatestState;

/// Starts the control thread for `config`'s loops and `actuators` (already in their safe
/// state), restoring the setpoints, loop settings and overrides saved in `data_dir`.
pub fn start(
    config: &Config,
    actuators: Actuators,
    state: LatestState,
    outbox: Outbox,
    data_dir: &Path,
) -> std::io::Result<ControlHandle> {
    let now = crate::now_ms();
    let specs = config
        .actuators
        .iter()
        .map(|a| ActuatorSpec {
            name: a.name.clone(),
            room: a.room.clone(),
            safe_state: a.safe_state,
            timing: a.timing,
        })
        .collect();
    let mut controller = Controller::new(&config.control, specs, now);
    let configured: Vec<LoopKind> = config
        .control
        .loops
        .iter()
        .map(|l| l.kind.clone())
        .collect();
    let memory_path = data_dir.join(FILE_NAME);
    match memory_file::load(&memory_path) {
        Ok(memory) => {
            for skipped in controller.restore(&memory, now) {
                tracing::warn!(%skipped, "Saved control change not restored.");
            }
        }
        Err(e) => tracing::warn!(error = %e, "Saved control changes not restored."),
    }
    tracing::info!(
        loops = config.control.loops.len(),
        actuators = config.actuators.len(),
        "Control loops running."
    );
    ControlHandle::start(Parts {
        controller,
        actuators,
        state,
        outbox,
        memory_path,
        configured,
        period: config.control.period,
        command_refresh: config.control.command_refresh,
    })
}

//! The control thread: owns the [`Controller`] and the actuators, steps on every new reading
//! (the latest state wakes it), at every `period` and at the controller's `next_wake`, and
//! applies the commands. It never waits on the outbox (events are queued, not awaited) or on
//! the uplink; runtime changes from the API arrive as messages and are saved before they are
//! answered. At stop it drives every actuator to its safe state.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use farm_protocol::{EventKind, SwitchState, UnixMillis};
use uuid::Uuid;

use super::manual::{ControlError, ControlMemory};
use super::memory_file::{self, MemoryFileError};
use super::settings::LoopSettings;
use super::spec::LoopKind;
use super::view::ControlView;
use super::Controller;
use crate::actuators::Actuators;
use crate::outbox::{NewEvent, Outbox};
use crate::state::LatestState;

/// A change asked for through the API.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Change a loop's setpoint.
    Setpoint {
        /// The loop.
        name: String,
        /// The new setpoint.
        value: f64,
    },
    /// Change some of a loop's other settings (band, gains, timing), all or none.
    LoopSettings {
        /// The loop.
        name: String,
        /// The settings to change.
        settings: LoopSettings,
    },
    /// Hold an actuator in `state` until `until` (unix ms).
    Override {
        /// The actuator.
        name: String,
        /// The state.
        state: SwitchState,
        /// The expiry.
        until: UnixMillis,
    },
    /// End an actuator's override.
    ClearOverride {
        /// The actuator.
        name: String,
    },
}

/// Why a request was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The request itself is wrong (4xx).
    #[error(transparent)]
    Refused(#[from] ControlError),
    /// It could not be saved, so it was not applied (5xx).
    #[error("not applied: could not save it: {0}")]
    NotSaved(#[from] MemoryFileError),
    /// The control thread has stopped.
    #[error("the control loop is not running")]
    Stopped,
}

type Reply = tokio::sync::oneshot::Sender<Result<Vec<EventKind>, RequestError>>;

enum Msg {
    Wake,
    Request(Request, Reply),
    Stop,
}

/// Everything the thread needs.
pub struct Parts {
    /// The controller, with saved changes already restored.
    pub controller: Controller,
    /// The actuators, already in their safe state.
    pub actuators: Actuators,
    /// Where readings come from.
    pub state: LatestState,
    /// Where events go.
    pub outbox: Outbox,
    /// `<data_dir>/control.json`.
    pub memory_path: PathBuf,
    /// Each loop's kind as the config file has it (setpoint and settings), in config order:
    /// what the memory compares run-time values with.
    pub configured: Vec<LoopKind>,
    /// Step at least this often.
    pub period: Duration,
    /// Re-send room-node commands this often.
    pub command_refresh: Duration,
}

/// The running control thread.
pub struct ControlHandle {
    tx: mpsc::Sender<Msg>,
    view: Arc<RwLock<ControlView>>,
    thread: Mutex<Option<JoinHandle<Vec<NewEvent>>>>,
}

impl ControlHandle {
    /// Starts the thread and hooks it to the latest state.
    pub fn start(parts: Parts) -> std::io::Result<ControlHandle> {
        let (tx, rx) = mpsc::channel();
        let pending = Arc::new(AtomicBool::new(false));
        let wake = tx.clone();
        let flag = Arc::clone(&pending);
        parts.state.on_change(move || {
            if !flag.swap(true, Ordering::AcqRel) {
                let _ = wake.send(Msg::Wake);
            }
        });
        let view = Arc::new(RwLock::new(parts.controller.view()));
        let shared = Arc::clone(&view);
        let thread = std::thread::Builder::new()
            .name("control".into())
            .spawn(move || run(parts, &rx, &pending, &shared))?;
        Ok(ControlHandle {
            tx,
            view,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The latest snapshot of actuators and loops.
    pub fn view(&self) -> ControlView {
        self.view.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Carries out a change; returns the events to record.
    pub async fn request(&self, request: Request) -> Result<Vec<EventKind>, RequestError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.tx
            .send(Msg::Request(request, reply))
            .map_err(|_| RequestError::Stopped)?;
        answer.await.map_err(|_| RequestError::Stopped)?
    }

    /// Stops the thread (blocking until it has switched everything to its safe state) and
    /// returns the events of that last switch.
    pub fn stop(&self) -> Vec<NewEvent> {
        let _ = self.tx.send(Msg::Stop);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        match thread.map(JoinHandle::join) {
            Some(Ok(events)) => events,
            Some(Err(_)) => {
                tracing::error!("The control thread panicked; actuators were left to their drop.");
                Vec::new()
            }
            None => Vec::new(),
        }
    }
}

fn run(
    mut parts: Parts,
    rx: &mpsc::Receiver<Msg>,
    pending: &AtomicBool,
    view: &RwLock<ControlView>,
) -> Vec<NewEvent> {
    let mut next_wake: Option<UnixMillis> = None;
    loop {
        let now = crate::now_ms();
        let until_wake = next_wake.map_or(parts.period, |at| {
            Duration::from_millis(u64::try_from(at.saturating_sub(now)).unwrap_or(0))
        });
        match rx.recv_timeout(until_wake.min(parts.period)) {
            Ok(Msg::Wake) => pending.store(false, Ordering::Release),
            Ok(Msg::Request(request, reply)) => {
                let _ = reply.send(handle(&mut parts, request));
            }
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = crate::now_ms();
        let step = parts.controller.step(now, &parts.state);
        for command in &step.commands {
            let (a, state) = (command.actuator, command.state);
            if let Some(event) = parts.actuators.set(a, state, &command.reason, now) {
                record(&parts.outbox, event);
            }
        }
        for kind in step.events {
            record(&parts.outbox, new_event(kind, now));
        }
        parts.actuators.refresh(now, parts.command_refresh);
        next_wake = step.next_wake;
        let mut snapshot = parts.controller.view();
        for (actuator, output) in snapshot.actuators.iter_mut().zip(parts.actuators.states()) {
            actuator.output = output.2;
        }
        *view.write().unwrap_or_else(|p| p.into_inner()) = snapshot;
    }
    parts
        .actuators
        .apply_safe_state("shutdown: safe state", crate::now_ms())
}

/// Applies a change to a copy of the controller, saves it, and only then keeps it.
fn handle(parts: &mut Parts, request: Request) -> Result<Vec<EventKind>, RequestError> {
    let now = crate::now_ms();
    let mut changed = parts.controller.clone();
    let events = match request {
        Request::Setpoint { name, value } => vec![changed.set_setpoint(&name, value)?],
        Request::LoopSettings { name, settings } => changed
            .set_loop_settings(&name, &settings)?
            .into_iter()
            .collect(),
        Request::Override { name, state, until } => {
            vec![changed.set_override(&name, state, until, now)?]
        }
        Request::ClearOverride { name } => changed.clear_override(&name)?.into_iter().collect(),
    };
    let memory: ControlMemory = changed.memory(&parts.configured);
    memory_file::save(&parts.memory_path, &memory)?;
    parts.controller = changed;
    Ok(events)
}

/// Wraps an event kind with a fresh id.
pub(crate) fn new_event(kind: EventKind, ts: UnixMillis) -> NewEvent {
    NewEvent {
        id: Uuid::new_v4(),
        ts,
        kind,
    }
}

/// Queues an event without waiting; a refusal (queue full, outbox closed) is logged.
fn record(outbox: &Outbox, event: NewEvent) {
    if let Err(e) = outbox.record_event(event) {
        tracing::error!(error = %e, "Control event not recorded.");
    }
}

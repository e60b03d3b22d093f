//! The configured actuators and their safe states (DESIGN.md §3.6): every actuator is put in
//! its safe state when the agent starts (which also covers a restart after a crash, when its
//! state is unknown) and when it stops. Each switch is recorded as an `actuator_change` event.
//! An actuator that cannot be opened does not stop the agent: it is left out, logged and
//! alarmed, and sensing and buffering go on.

use farm_drivers::sim::SharedFarm;
use farm_protocol::{EventKind, SwitchState};
use uuid::Uuid;

use crate::config::{ActuatorConfig, ActuatorOutput};
use crate::outbox::NewEvent;

enum Output {
    Simulated(SharedFarm),
    #[cfg(feature = "linux")]
    Gpio(farm_drivers::relay::Relay<linux_embedded_hal::CdevPin>),
}

struct Entry {
    config: ActuatorConfig,
    output: Output,
    state: Option<SwitchState>,
}

/// The actuators that could be opened, each in a known state.
pub struct Actuators {
    entries: Vec<Entry>,
}

impl Actuators {
    /// Opens every actuator and drives it to its safe state. Returns the actuators and the
    /// events to record: one `actuator_change` per actuator switched, one alarm per failure.
    pub fn open(
        configs: &[ActuatorConfig],
        farm: Option<&SharedFarm>,
        now: i64,
    ) -> (Actuators, Vec<NewEvent>) {
        let mut entries = Vec::new();
        let mut events = Vec::new();
        for config in configs {
            match open_output(config, farm) {
                Ok(output) => {
                    let mut entry = Entry {
                        config: config.clone(),
                        output,
                        state: None,
                    };
                    events.push(entry.switch(config.safe_state, "start-up: safe state", now));
                    entries.push(entry);
                }
                Err(message) => {
                    tracing::error!(actuator = %config.name, %message, "Actuator unavailable; running without it.");
                    events.push(alarm(
                        &config.room,
                        format!("actuator {} unavailable: {message}", config.name),
                        now,
                    ));
                }
            }
        }
        (Actuators { entries }, events)
    }

    /// Drives every actuator to its safe state (shutdown); returns the events to record.
    pub fn apply_safe_state(&mut self, reason: &str, now: i64) -> Vec<NewEvent> {
        self.entries
            .iter_mut()
            .map(|entry| entry.switch(entry.config.safe_state, reason, now))
            .collect()
    }

    /// Each actuator's name, room and last known state (`None` after a failed switch).
    pub fn states(&self) -> Vec<(String, String, Option<SwitchState>)> {
        self.entries
            .iter()
            .map(|e| (e.config.name.clone(), e.config.room.clone(), e.state))
            .collect()
    }
}

impl Entry {
    /// Switches the output; returns the `actuator_change` event, or an alarm if it failed.
    fn switch(&mut self, state: SwitchState, reason: &str, now: i64) -> NewEvent {
        let on = state == SwitchState::On;
        let result = match &mut self.output {
            Output::Simulated(farm) => farm
                .set_actuator(&self.config.room, self.config.device, on)
                .map_err(|e| e.to_string()),
            #[cfg(feature = "linux")]
            Output::Gpio(relay) => relay.set(state).map_err(|e| e.to_string()),
        };
        match result {
            Ok(()) => {
                self.state = Some(state);
                tracing::info!(actuator = %self.config.name, ?state, %reason, "Actuator switched.");
                let kind = EventKind::ActuatorChange {
                    room: self.config.room.clone(),
                    actuator: self.config.name.clone(),
                    state,
                    reason: reason.to_owned(),
                };
                NewEvent {
                    id: Uuid::new_v4(),
                    ts: now,
                    kind,
                }
            }
            Err(message) => {
                self.state = None;
                tracing::error!(actuator = %self.config.name, %message, "Actuator did not switch.");
                alarm(
                    &self.config.room,
                    format!("actuator {} did not switch: {message}", self.config.name),
                    now,
                )
            }
        }
    }
}

fn open_output(config: &ActuatorConfig, farm: Option<&SharedFarm>) -> Result<Output, String> {
    match &config.output {
        ActuatorOutput::Simulated => farm
            .cloned()
            .map(Output::Simulated)
            .ok_or_else(|| "no simulated farm".to_owned()),
        #[cfg(feature = "linux")]
        ActuatorOutput::Gpio {
            chip,
            line,
            active_low,
        } => {
            use farm_drivers::relay::{Polarity, Relay};
            let polarity = if *active_low {
                Polarity::ActiveLow
            } else {
                Polarity::ActiveHigh
            };
            let initial_high = polarity.is_high(config.safe_state);
            let pin = farm_drivers::linux::open_relay_pin(chip, *line, "edge-agent", initial_high)
                .map_err(|e| e.to_string())?;
            Relay::new(config.name.clone(), pin, polarity, config.safe_state)
                .map(Output::Gpio)
                .map_err(|e| e.to_string())
        }
        #[cfg(not(feature = "linux"))]
        ActuatorOutput::Gpio { .. } => {
            Err("GPIO needs edge-agent built with the linux feature".to_owned())
        }
    }
}

fn alarm(room: &str, message: String, now: i64) -> NewEvent {
    let kind = EventKind::Alarm {
        room: Some(room.to_owned()),
        code: "actuator_fault".into(),
        severity: farm_protocol::Severity::Critical,
        active: true,
        message,
    };
    NewEvent {
        id: Uuid::new_v4(),
        ts: now,
        kind,
    }
}

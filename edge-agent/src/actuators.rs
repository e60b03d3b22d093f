//! The configured actuators behind one interface (DESIGN.md §3.6): GPIO relays, room-node
//! relays switched over MQTT (`farm/<room>/<node>/cmd/<command>`, payload `on`/`off`) and the
//! simulated farm's devices. Every actuator is put in its safe state when the agent starts
//! (which also covers a restart after a crash, when its state is unknown) and when it stops.
//! Each switch is recorded as an `actuator_change` event. An actuator that cannot be opened
//! does not stop the agent: it is logged and alarmed, and sensing and buffering go on.
//!
//! Room nodes are sent their state again every `command_refresh`, so one that restarted or
//! missed a command converges; node firmware should fall back to its safe state when it
//! hears nothing for several refresh intervals.

use farm_broker::LinkSender;
use farm_drivers::sim::SharedFarm;
use farm_protocol::{EventKind, SwitchState, UnixMillis};
use uuid::Uuid;

use crate::config::{ActuatorConfig, ActuatorOutput};
use crate::outbox::NewEvent;

enum Output {
    Simulated(SharedFarm),
    #[cfg(feature = "linux")]
    Gpio(farm_drivers::relay::Relay<linux_embedded_hal::CdevPin>),
    Mqtt {
        sender: LinkSender,
        topic: String,
        last_sent: UnixMillis,
    },
}

struct Entry {
    config: ActuatorConfig,
    /// `None` if it could not be opened.
    output: Option<Output>,
    state: Option<SwitchState>,
}

/// The configured actuators, in config order, each in a known state (or alarmed).
pub struct Actuators {
    entries: Vec<Entry>,
}

impl Actuators {
    /// Opens every actuator and drives it to its safe state. Returns the actuators and the
    /// events to record: one `actuator_change` per actuator switched, one alarm per failure.
    pub fn open(
        configs: &[ActuatorConfig],
        farm: Option<&SharedFarm>,
        mqtt: Option<&LinkSender>,
        now: UnixMillis,
    ) -> (Actuators, Vec<NewEvent>) {
        let mut entries = Vec::new();
        let mut events = Vec::new();
        for config in configs {
            let mut entry = Entry {
                config: config.clone(),
                output: None,
                state: None,
            };
            match open_output(config, farm, mqtt) {
                Ok(output) => {
                    entry.output = Some(output);
                    events.extend(entry.switch(config.safe_state, "start-up: safe state", now));
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
            entries.push(entry);
        }
        (Actuators { entries }, events)
    }

    /// Switches actuator `index` (config order); returns the event to record, or `None` if
    /// it has no output.
    pub fn set(
        &mut self,
        index: usize,
        state: SwitchState,
        reason: &str,
        now: UnixMillis,
    ) -> Option<NewEvent> {
        self.entries.get_mut(index)?.switch(state, reason, now)
    }

    /// Sends room nodes their current state again if it was last sent `every` ago or more.
    pub fn refresh(&mut self, now: UnixMillis, every: std::time::Duration) {
        let every = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
        for entry in &mut self.entries {
            let state = entry.state;
            if let (Some(Output::Mqtt { last_sent, .. }), Some(state)) = (&entry.output, state) {
                if now.saturating_sub(*last_sent) >= every {
                    if let Err(message) = entry.drive(state, now) {
                        tracing::warn!(actuator = %entry.config.name, %message, "Command not re-sent.");
                    }
                }
            }
        }
    }

    /// Drives every actuator to its safe state (shutdown); returns the events to record.
    pub fn apply_safe_state(&mut self, reason: &str, now: UnixMillis) -> Vec<NewEvent> {
        self.entries
            .iter_mut()
            .filter_map(|entry| entry.switch(entry.config.safe_state, reason, now))
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
    /// Sets the output, without events.
    fn drive(&mut self, state: SwitchState, now: UnixMillis) -> Result<(), String> {
        let on = state == SwitchState::On;
        match self.output.as_mut() {
            None => Err("unavailable".to_owned()),
            Some(Output::Simulated(farm)) => farm
                .set_actuator(&self.config.room, self.config.device, on)
                .map_err(|e| e.to_string()),
            #[cfg(feature = "linux")]
            Some(Output::Gpio(relay)) => relay.set(state).map_err(|e| e.to_string()),
            Some(Output::Mqtt {
                sender,
                topic,
                last_sent,
            }) => {
                let payload: &[u8] = if on { b"on" } else { b"off" };
                sender
                    .publish(topic, payload, false)
                    .map_err(|e| e.to_string())?;
                *last_sent = now;
                Ok(())
            }
        }
    }

    /// Switches the output; returns the `actuator_change` event, or an alarm if it failed,
    /// or `None` if it has no output.
    fn switch(&mut self, state: SwitchState, reason: &str, now: UnixMillis) -> Option<NewEvent> {
        self.output.as_ref()?;
        let result = self.drive(state, now);
        Some(match result {
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
        })
    }
}

fn open_output(
    config: &ActuatorConfig,
    farm: Option<&SharedFarm>,
    mqtt: Option<&LinkSender>,
) -> Result<Output, String> {
    match &config.output {
        ActuatorOutput::Mqtt { node, command } => mqtt
            .map(|sender| Output::Mqtt {
                sender: sender.clone(),
                topic: format!("farm/{}/{node}/cmd/{command}", config.room),
                last_sent: 0,
            })
            .ok_or_else(|| "the MQTT broker is not enabled".to_owned()),
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

fn alarm(room: &str, message: String, now: UnixMillis) -> NewEvent {
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

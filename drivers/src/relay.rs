//! Relays on GPIO output pins, with a declared safe state (DESIGN.md §3.6).
//!
//! # Invariants
//! - The pin is driven to the safe state the moment a [`Relay`] is built ([`Relay::new`]),
//!   before anything else can switch it. That is the startup path, and it also covers a crash:
//!   the restarted process builds its relays again, and each one goes to its safe state first.
//! - Dropping a [`Relay`] drives the safe state again, best effort (the shutdown path; it also
//!   runs while a panic unwinds). A process that is killed or aborts runs no destructor, and
//!   the kernel leaves a released GPIO line where it was: only the next [`Relay::new`] (and the
//!   relay board's own pull resistors) make that case safe.
//! - [`Relay::state`] is what the pin was last driven to, or `None` once a write failed and
//!   the level is unknown. Writes are never skipped because the state looks unchanged, so
//!   calling [`Relay::set`] again re-asserts the level.
//!
//! Nothing here depends on Linux: the pin is any `embedded_hal::digital::OutputPin`, so tests
//! script it with `embedded-hal-mock` and the agent passes a `linux_embedded_hal::CdevPin`.

use embedded_hal::digital::{Error as _, ErrorKind, OutputPin, PinState};
pub use farm_protocol::SwitchState;

/// Which pin level energises the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    /// A high pin switches the load on (most MOSFET and SSR boards).
    ActiveHigh,
    /// A low pin switches the load on (most opto-isolated relay boards sold for the Pi).
    ActiveLow,
}

impl Polarity {
    /// The pin level that puts the relay in `state`: `ActiveLow` inverts.
    pub const fn level(self, state: SwitchState) -> PinState {
        match (self, state) {
            (Polarity::ActiveHigh, SwitchState::On) | (Polarity::ActiveLow, SwitchState::Off) => {
                PinState::High
            }
            (Polarity::ActiveHigh, SwitchState::Off) | (Polarity::ActiveLow, SwitchState::On) => {
                PinState::Low
            }
        }
    }

    /// Whether the pin is high in `state`; the `initial_high` to request a line with, so it
    /// comes up at the safe state's level (see `linux::open_relay_pin`).
    pub const fn is_high(self, state: SwitchState) -> bool {
        matches!(self.level(state), PinState::High)
    }
}

/// A relay's pin could not be driven.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("relay {relay}: cannot switch {wanted:?} (pin {level:?}): {kind:?}: {detail}")]
pub struct RelayError {
    /// The relay's name, as given to [`Relay::new`].
    pub relay: String,
    /// The state that was asked for.
    pub wanted: SwitchState,
    /// The pin level that was being driven.
    pub level: PinState,
    /// The pin error's kind, as embedded-hal classifies it.
    pub kind: ErrorKind,
    /// The pin error itself (its `Debug` form; embedded-hal pin errors need not be `Display`).
    pub detail: String,
}

/// A relay on an output pin. See the module documentation for the safe-state guarantees.
#[derive(Debug)]
pub struct Relay<P: OutputPin> {
    name: String,
    pin: P,
    polarity: Polarity,
    safe_state: SwitchState,
    state: Option<SwitchState>,
}

impl<P: OutputPin> Relay<P> {
    /// Takes the pin and drives it to `safe_state` at once. `name` says which relay in errors,
    /// e.g. `"heater"` or `"heater (gpiochip0 line 17)"`.
    ///
    /// # Errors
    /// The pin cannot be driven. The relay is then dropped, which tries the safe state once
    /// more, and the pin with it; its level is unknown.
    pub fn new(
        name: impl Into<String>,
        pin: P,
        polarity: Polarity,
        safe_state: SwitchState,
    ) -> Result<Self, RelayError> {
        let mut relay = Relay {
            name: name.into(),
            pin,
            polarity,
            safe_state,
            state: None,
        };
        relay.apply_safe_state()?;
        Ok(relay)
    }

    /// Switches the relay. With [`Polarity::ActiveLow`], `On` drives the pin low.
    ///
    /// # Errors
    /// The pin cannot be driven; [`Relay::state`] is `None` afterwards.
    pub fn set(&mut self, state: SwitchState) -> Result<(), RelayError> {
        let level = self.polarity.level(state);
        self.state = None;
        self.pin.set_state(level).map_err(|error| RelayError {
            relay: self.name.clone(),
            wanted: state,
            level,
            kind: error.kind(),
            detail: format!("{error:?}"),
        })?;
        self.state = Some(state);
        Ok(())
    }

    /// Drives the safe state (for stale or failed sensors, and on shutdown).
    ///
    /// # Errors
    /// As [`Relay::set`].
    pub fn apply_safe_state(&mut self) -> Result<(), RelayError> {
        self.set(self.safe_state)
    }

    /// The state the pin was last driven to; `None` after a failed write.
    pub const fn state(&self) -> Option<SwitchState> {
        self.state
    }

    /// The state this relay goes to on startup, shutdown and faults.
    pub const fn safe_state(&self) -> SwitchState {
        self.safe_state
    }

    /// Which pin level energises the relay.
    pub const fn polarity(&self) -> Polarity {
        self.polarity
    }

    /// The name given to [`Relay::new`].
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<P: OutputPin> Drop for Relay<P> {
    /// Drives the safe state, best effort: a destructor cannot report the error, and this
    /// crate does no logging. Call [`Relay::apply_safe_state`] first to see the outcome.
    fn drop(&mut self) {
        let _ = self.apply_safe_state();
    }
}

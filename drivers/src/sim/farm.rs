//! Several named rooms on one simulated clock, and the handle the agent's tasks share.
//!
//! The clock only moves when [`SimFarm::advance`] is called, so a test decides exactly how
//! much simulated time passes; the agent's ticker task advances it in step with real time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{Actuators, InvalidParam, Outside, RoomModel, RoomParams, RoomState, MAX_SUBSTEP};
use crate::ActuatorKind;

const SECONDS_PER_DAY: f64 = 86_400.0;

/// Why a farm operation was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// No room by this name.
    #[error("no simulated room named {0:?}")]
    UnknownRoom(String),
    /// A room by this name already exists.
    #[error("a simulated room named {0:?} already exists")]
    DuplicateRoom(String),
    /// The room's parameters or starting state are invalid.
    #[error("simulated room {room:?}: {source}")]
    InvalidRoom {
        /// The room's name.
        room: String,
        /// What is wrong.
        source: InvalidParam,
    },
}

#[derive(Debug, Clone)]
struct SimRoom {
    model: RoomModel,
    actuators: Actuators,
}

/// Named rooms sharing one simulated clock and one outdoor weather.
#[derive(Debug, Clone)]
pub struct SimFarm {
    seed: u64,
    start_seconds_since_midnight: f64,
    elapsed: Duration,
    rooms: BTreeMap<String, SimRoom>,
}

impl SimFarm {
    /// An empty farm whose clock starts at `start_seconds_since_midnight` (wrapped into one
    /// day; a non-finite value means midnight). `seed` seeds every simulated sensor's noise.
    pub fn new(seed: u64, start_seconds_since_midnight: f64) -> SimFarm {
        let start = if start_seconds_since_midnight.is_finite() {
            start_seconds_since_midnight.rem_euclid(SECONDS_PER_DAY)
        } else {
            0.0
        };
        SimFarm {
            seed,
            start_seconds_since_midnight: start,
            elapsed: Duration::ZERO,
            rooms: BTreeMap::new(),
        }
    }

    /// The seed simulated sensors derive their noise from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Simulated time since the farm was created.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The simulated time of day, seconds since midnight in `0.0..86400.0`.
    pub fn seconds_since_midnight(&self) -> f64 {
        (self.start_seconds_since_midnight + self.elapsed.as_secs_f64()).rem_euclid(SECONDS_PER_DAY)
    }

    /// The weather outside now.
    pub fn outside(&self) -> Outside {
        Outside::at(self.seconds_since_midnight())
    }

    /// Adds a room built like `params`, starting in [`RoomState::default`] with every
    /// actuator off.
    pub fn add_room(
        &mut self,
        name: impl Into<String>,
        params: RoomParams,
    ) -> Result<(), SimError> {
        self.add_room_with_state(name, params, RoomState::default())
    }

    /// Adds a room built like `params`, starting in `state` with every actuator off.
    pub fn add_room_with_state(
        &mut self,
        name: impl Into<String>,
        params: RoomParams,
        state: RoomState,
    ) -> Result<(), SimError> {
        let name = name.into();
        if self.rooms.contains_key(&name) {
            return Err(SimError::DuplicateRoom(name));
        }
        let model = match RoomModel::with_state(params, state) {
            Ok(model) => model,
            Err(source) => return Err(SimError::InvalidRoom { room: name, source }),
        };
        self.rooms.insert(
            name,
            SimRoom {
                model,
                actuators: Actuators::OFF,
            },
        );
        Ok(())
    }

    /// The room called `name`, if there is one.
    pub fn room(&self, name: &str) -> Option<&RoomModel> {
        self.rooms.get(name).map(|room| &room.model)
    }

    /// The names of all rooms, in alphabetical order.
    pub fn room_names(&self) -> impl Iterator<Item = &str> {
        self.rooms.keys().map(String::as_str)
    }

    /// Which actuators of room `name` are on, if there is such a room.
    pub fn actuators(&self, name: &str) -> Option<Actuators> {
        self.rooms.get(name).map(|room| room.actuators)
    }

    /// Sets every actuator of room `name` at once; they stay so until changed.
    pub fn set_actuators(&mut self, name: &str, act: Actuators) -> Result<(), SimError> {
        let room = self
            .rooms
            .get_mut(name)
            .ok_or_else(|| SimError::UnknownRoom(name.to_owned()))?;
        room.actuators = act;
        Ok(())
    }

    /// Switches one actuator of room `name` on or off.
    pub fn set_actuator(
        &mut self,
        name: &str,
        kind: ActuatorKind,
        on: bool,
    ) -> Result<(), SimError> {
        let room = self
            .rooms
            .get_mut(name)
            .ok_or_else(|| SimError::UnknownRoom(name.to_owned()))?;
        room.actuators.set(kind, on);
        Ok(())
    }

    /// Moves the clock forward by `dt`: every room steps with its actuators and the weather
    /// of each moment (re-evaluated at least every [`MAX_SUBSTEP`]). Costs time linear in `dt`.
    pub fn advance(&mut self, dt: Duration) {
        let mut left = dt;
        while !left.is_zero() {
            let chunk = left.min(MAX_SUBSTEP);
            let outside = Outside::at(self.seconds_since_midnight() + chunk.as_secs_f64() / 2.0);
            for room in self.rooms.values_mut() {
                room.model.step(chunk, outside, room.actuators);
            }
            self.elapsed = self.elapsed.saturating_add(chunk);
            left -= chunk;
        }
    }
}

/// A cheap-to-clone handle on one [`SimFarm`], shared by the agent's sampling tasks, its
/// actuator outputs and the ticker task that advances the clock.
///
/// A task that panicked while holding the farm does not take the others down: the lock is
/// recovered and the farm is used as that task left it ([`SimFarm`]'s own methods do not
/// panic halfway).
#[derive(Debug, Clone)]
pub struct SharedFarm {
    farm: Arc<Mutex<SimFarm>>,
}

impl From<SimFarm> for SharedFarm {
    fn from(farm: SimFarm) -> Self {
        SharedFarm::new(farm)
    }
}

impl SharedFarm {
    /// Shares `farm`.
    pub fn new(farm: SimFarm) -> SharedFarm {
        SharedFarm {
            farm: Arc::new(Mutex::new(farm)),
        }
    }

    /// Runs `f` with the farm locked. Keep `f` short: every other user waits for it.
    pub fn with<R>(&self, f: impl FnOnce(&mut SimFarm) -> R) -> R {
        let mut farm = self.farm.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut farm)
    }

    /// See [`SimFarm::advance`].
    pub fn advance(&self, dt: Duration) {
        self.with(|farm| farm.advance(dt));
    }

    /// See [`SimFarm::set_actuators`].
    pub fn set_actuators(&self, room: &str, act: Actuators) -> Result<(), SimError> {
        self.with(|farm| farm.set_actuators(room, act))
    }

    /// See [`SimFarm::set_actuator`].
    pub fn set_actuator(&self, room: &str, kind: ActuatorKind, on: bool) -> Result<(), SimError> {
        self.with(|farm| farm.set_actuator(room, kind, on))
    }

    /// The current conditions of `room`, if there is such a room.
    pub fn room_state(&self, room: &str) -> Option<RoomState> {
        self.with(|farm| farm.room(room).map(RoomModel::state))
    }

    /// See [`SimFarm::seed`].
    pub fn seed(&self) -> u64 {
        self.with(|farm| farm.seed())
    }
}

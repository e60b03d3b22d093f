//! The kinds of actuator a growing room has. Their wire names are the ones used in MQTT
//! command topics (`farm/<room>/<node>/cmd/<actuator>`, DESIGN.md §3.1) and in configuration.

use std::fmt;
use std::str::FromStr;

/// Something the control loops switch on and off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActuatorKind {
    /// Adds water vapour to the air (ultrasonic fogger, evaporative humidifier).
    Humidifier,
    /// Exchanges room air with outside air: lowers CO2, moves temperature and humidity
    /// toward outside conditions.
    FreshAirFan,
    /// Adds heat.
    Heater,
    /// Grow or fruiting lights.
    Lights,
    /// Removes heat (a split unit or chiller); never on together with a heater when the two
    /// are interlocked.
    Cooler,
}

/// A name that is not an actuator kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown actuator {name:?}; known actuators: humidifier, fresh_air_fan, heater, lights, cooler"
)]
pub struct UnknownActuator {
    /// The name that was asked for.
    pub name: String,
}

impl ActuatorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ActuatorKind; 5] = [
        ActuatorKind::Humidifier,
        ActuatorKind::FreshAirFan,
        ActuatorKind::Heater,
        ActuatorKind::Lights,
        ActuatorKind::Cooler,
    ];

    /// The snake_case name (`"fresh_air_fan"`).
    pub const fn name(self) -> &'static str {
        match self {
            ActuatorKind::Humidifier => "humidifier",
            ActuatorKind::FreshAirFan => "fresh_air_fan",
            ActuatorKind::Heater => "heater",
            ActuatorKind::Lights => "lights",
            ActuatorKind::Cooler => "cooler",
        }
    }
}

impl fmt::Display for ActuatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ActuatorKind {
    type Err = UnknownActuator;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ActuatorKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| UnknownActuator {
                name: name.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_names_parse_back() {
        let expected = ["humidifier", "fresh_air_fan", "heater", "lights", "cooler"];
        for (kind, name) in ActuatorKind::ALL.into_iter().zip(expected) {
            assert_eq!(kind.name(), name);
            assert_eq!(kind.to_string(), name);
            assert_eq!(name.parse::<ActuatorKind>(), Ok(kind));
        }
    }

    #[test]
    fn unknown_actuator_is_rejected_with_its_name() {
        let err = "FreshAirFan"
            .parse::<ActuatorKind>()
            .expect_err("CamelCase is not a name");
        assert_eq!(err.name, "FreshAirFan");
        assert!(err.to_string().contains("fresh_air_fan"), "{err}");
    }
}

//! A harvest as the farm manager enters it, checked against what the agent knows (its rooms
//! and `[[products]]`) before anything is written. Pure: the id, time and date come in as
//! arguments.

use std::collections::{BTreeSet, HashMap};

use farm_protocol::Harvest;
use jiff::civil::Date;
use serde::Deserialize;
use uuid::Uuid;

use crate::config::{sku_problem, Config, ProductConfig, Unit};

/// The largest quantity one harvest may have, in its unit.
pub const MAX_QUANTITY: f64 = 1e6;
/// The longest lot code (and room name, when the config names no rooms), in characters.
pub const MAX_TEXT_LEN: usize = 64;
/// Stock is kept to this many decimals of the product's unit in the cloud.
const CLOUD_DECIMALS: f64 = 1000.0;
/// How much of the room name a generated lot code keeps, so the code stays within
/// [`MAX_TEXT_LEN`] (room, `-`, 8 digits of date, `-`, 6 hex digits).
const ROOM_IN_LOT: usize = MAX_TEXT_LEN - 16;

/// The body of `POST /api/harvests`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarvestRequest {
    /// The growing room it came from.
    pub room: String,
    /// The product's SKU.
    pub product: String,
    /// How much, in `unit`.
    pub quantity: f64,
    /// `kg`, `g` or `each`.
    pub unit: String,
    /// The lot code; generated when absent.
    #[serde(default)]
    pub lot: Option<String>,
}

/// What a harvest may refer to: the rooms and products of the config, and the farm's time
/// zone for the date in generated lot codes.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// The rooms of the configured sensors and actuators; empty: any well-formed name.
    pub rooms: BTreeSet<String>,
    /// `[[products]]` by SKU; empty: any well-formed SKU.
    pub products: HashMap<String, ProductConfig>,
    /// `[control] timezone`: lot codes carry the local date.
    pub timezone: jiff::tz::TimeZone,
}

impl Catalogue {
    /// The rooms (of sensors and actuators; loops act through actuators), products and time
    /// zone of `config`.
    pub fn from_config(config: &Config) -> Self {
        let sensors = config.sensors.iter().map(|s| s.room.clone());
        let actuators = config.actuators.iter().map(|a| a.room.clone());
        Catalogue {
            rooms: sensors.chain(actuators).collect(),
            products: config
                .products
                .iter()
                .map(|p| (p.sku.clone(), p.clone()))
                .collect(),
            timezone: config.control.timezone.clone(),
        }
    }

    /// The local date at `ts` (unix ms), for lot codes.
    pub fn date_at(&self, ts: farm_protocol::UnixMillis) -> Date {
        let at = jiff::Timestamp::from_millisecond(ts).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        at.to_zoned(self.timezone.clone()).date()
    }
}

/// Why a harvest was refused. Each is the client's mistake (HTTP 422).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EntryError {
    /// The room is not one of the config's.
    #[error("unknown room {room:?}; the rooms are: {known}")]
    UnknownRoom {
        /// The room asked for.
        room: String,
        /// The configured rooms, comma-separated.
        known: String,
    },
    /// The room (when the config names none) or the lot code is not acceptable text.
    #[error("{key}: {message}")]
    BadText {
        /// `room` or `lot`.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The product is not a well-formed SKU.
    #[error("product: {0}")]
    BadSku(String),
    /// `[[products]]` is not empty and does not have this SKU.
    #[error("unknown product {0:?}; it is not in the agent's [[products]]")]
    UnknownProduct(String),
    /// The quantity is not a positive finite number up to [`MAX_QUANTITY`].
    #[error("quantity must be a number above 0 and at most {MAX_QUANTITY}, got {0}")]
    BadQuantity(f64),
    /// The unit is not `kg`, `g` or `each`.
    #[error("unit: {0}")]
    BadUnit(String),
    /// The unit does not convert to the product's.
    #[error("unit \"{unit}\" does not convert to {product}'s unit \"{product_unit}\" (kg and g convert; each only to each)")]
    UnitMismatch {
        /// The unit given.
        unit: Unit,
        /// The SKU.
        product: String,
        /// The product's unit.
        product_unit: Unit,
    },
    /// A count of pieces with a fraction.
    #[error("quantity {0} each is not a whole number of pieces")]
    NotWhole(f64),
    /// Less than the cloud keeps of the product's unit (it would round to nothing).
    #[error("quantity {quantity} {unit} is less than 0.001 {product_unit}, the smallest amount the cloud stocks")]
    TooSmall {
        /// The quantity given.
        quantity: f64,
        /// Its unit.
        unit: Unit,
        /// The product's unit.
        product_unit: Unit,
    },
}

/// Checks `request` against `catalogue` and makes the harvest, with a lot code
/// `<room>-<YYYYMMDD>-<first 6 hex digits of id>` if none was given (`today` is the local
/// date of the harvest).
pub fn check(
    request: HarvestRequest,
    catalogue: &Catalogue,
    id: Uuid,
    today: Date,
) -> Result<Harvest, EntryError> {
    check_room(&request.room, catalogue)?;
    if let Some(message) = sku_problem(&request.product) {
        return Err(EntryError::BadSku(message));
    }
    let quantity = request.quantity;
    // Written this way round so that NaN fails too.
    if !(quantity > 0.0 && quantity <= MAX_QUANTITY) {
        return Err(EntryError::BadQuantity(quantity));
    }
    let unit: Unit = request.unit.parse().map_err(EntryError::BadUnit)?;
    if unit == Unit::Each && quantity.fract() != 0.0 {
        return Err(EntryError::NotWhole(quantity));
    }
    if !catalogue.products.is_empty() {
        let Some(product) = catalogue.products.get(&request.product) else {
            return Err(EntryError::UnknownProduct(request.product));
        };
        check_unit(quantity, unit, product)?;
    }
    let lot = match request.lot {
        Some(lot) => {
            text_problem(&lot).map_or(Ok(()), |message| {
                Err(EntryError::BadText {
                    key: "lot",
                    message,
                })
            })?;
            lot
        }
        None => generated_lot(&request.room, today, id),
    };
    Ok(Harvest {
        room: request.room,
        product: request.product,
        quantity,
        unit: unit.as_str().to_owned(),
        lot,
    })
}

/// A configured room, or any acceptable name when the config names none.
fn check_room(room: &str, catalogue: &Catalogue) -> Result<(), EntryError> {
    if catalogue.rooms.is_empty() {
        return match text_problem(room) {
            Some(message) => Err(EntryError::BadText {
                key: "room",
                message,
            }),
            None => Ok(()),
        };
    }
    if catalogue.rooms.contains(room) {
        return Ok(());
    }
    let known: Vec<&str> = catalogue.rooms.iter().map(String::as_str).collect();
    Err(EntryError::UnknownRoom {
        room: room.to_owned(),
        known: known.join(", "),
    })
}

/// The unit converts to the product's, and the amount does not round to nothing there.
fn check_unit(quantity: f64, unit: Unit, product: &ProductConfig) -> Result<(), EntryError> {
    let Some(factor) = unit.factor_to(product.unit) else {
        return Err(EntryError::UnitMismatch {
            unit,
            product: product.sku.clone(),
            product_unit: product.unit,
        });
    };
    if (quantity * factor * CLOUD_DECIMALS).round() <= 0.0 {
        return Err(EntryError::TooSmall {
            quantity,
            unit,
            product_unit: product.unit,
        });
    }
    Ok(())
}

/// Why `text` is not an acceptable room name or lot code: 1–64 characters, no control
/// characters, no whitespace at either end.
fn text_problem(text: &str) -> Option<String> {
    let chars = text.chars().count();
    if text.trim().is_empty() {
        Some("must not be empty".to_owned())
    } else if let Some(bad) = text.chars().find(|c| c.is_control()) {
        Some(format!("{text:?} contains the control character {bad:?}"))
    } else if text.trim() != text {
        Some(format!("{text:?} starts or ends with whitespace"))
    } else if chars > MAX_TEXT_LEN {
        Some(format!(
            "is {chars} characters long; at most {MAX_TEXT_LEN} are allowed"
        ))
    } else {
        None
    }
}

/// `<room>-<YYYYMMDD>-<first 6 hex digits of id, upper case>`, the room cut so that the code
/// has at most [`MAX_TEXT_LEN`] characters.
fn generated_lot(room: &str, today: Date, id: Uuid) -> String {
    let room: String = room.chars().take(ROOM_IN_LOT).collect();
    let hex = id.simple().to_string().to_ascii_uppercase();
    let suffix = hex.get(..6).unwrap_or(&hex);
    format!(
        "{}-{:04}{:02}{:02}-{suffix}",
        room.trim_end(),
        today.year(),
        today.month(),
        today.day()
    )
}

#[cfg(test)]
mod tests;

//! Adapters over published embedded-hal 1.0 driver crates, one file per sensor, each
//! implementing [`Sensor`](crate::Sensor). I2C adapters are generic over
//! `embedded_hal::i2c::I2c` and `embedded_hal::delay::DelayNs`, so they run on Linux
//! (`linux-embedded-hal`) and are tested against `embedded-hal-mock`.
//!
//! - `sht4x`, `sht3x`: Sensirion temperature + humidity.
//! - `scd4x`: Sensirion CO2 + temperature + humidity, periodic mode (5 s cadence).
//! - `bme280`: Bosch temperature + humidity + pressure.
//! - `bh1750`: ambient light.
//! - `ads1115`: analog substrate-moisture probes with a two-point calibration.
//! - `ds18b20`: 1-Wire temperature through the kernel's w1 sysfs (no I2C).

pub mod ads1115;
pub mod bh1750;
pub mod bme280;
pub mod ds18b20;
pub mod scd4x;
pub mod sht3x;
pub mod sht4x;

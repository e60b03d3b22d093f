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

use farm_protocol::Metric;

/// The I2C sensors the agent knows, with what each needs beyond its bus and address.
#[derive(Debug, Clone, PartialEq)]
pub enum I2cSensorKind {
    /// Sensirion SHT4x: temperature, humidity.
    Sht4x,
    /// Sensirion SHT3x: temperature, humidity.
    Sht3x,
    /// Sensirion SCD4x: CO2, temperature, humidity (periodic mode, a new value every 5 s).
    Scd4x,
    /// Bosch BME280: temperature, humidity, pressure.
    Bme280,
    /// BH1750: light.
    Bh1750,
    /// One single-ended channel of an ADS1115 wired to an analog substrate-moisture probe.
    Ads1115Moisture {
        /// Input 0–3.
        channel: u8,
        /// The probe's output in dry air, mV (0 % moisture).
        dry_mv: f64,
        /// The probe's output in water-saturated substrate, mV (100 %).
        wet_mv: f64,
    },
}

impl I2cSensorKind {
    /// Every `kind = "…"` name of an I2C sensor in the config file.
    pub const NAMES: [&'static str; 6] = [
        "sht4x",
        "sht3x",
        "scd4x",
        "bme280",
        "bh1750",
        "ads1115_moisture",
    ];

    /// The name in the config file.
    pub const fn name(&self) -> &'static str {
        match self {
            I2cSensorKind::Sht4x => "sht4x",
            I2cSensorKind::Sht3x => "sht3x",
            I2cSensorKind::Scd4x => "scd4x",
            I2cSensorKind::Bme280 => "bme280",
            I2cSensorKind::Bh1750 => "bh1750",
            I2cSensorKind::Ads1115Moisture { .. } => "ads1115_moisture",
        }
    }

    /// The addresses the chip can be strapped to; the first is the default.
    pub const fn addresses(&self) -> &'static [u8] {
        match self {
            I2cSensorKind::Sht4x => &[0x44, 0x45, 0x46],
            I2cSensorKind::Sht3x => &[0x44, 0x45],
            I2cSensorKind::Scd4x => &[0x62],
            I2cSensorKind::Bme280 => &[0x76, 0x77],
            I2cSensorKind::Bh1750 => &[0x23, 0x5c],
            I2cSensorKind::Ads1115Moisture { .. } => &[0x48, 0x49, 0x4a, 0x4b],
        }
    }

    /// What the sensor measures (before derived metrics).
    pub const fn metrics(&self) -> &'static [Metric] {
        match self {
            I2cSensorKind::Sht4x | I2cSensorKind::Sht3x => &[Metric::Temperature, Metric::Humidity],
            I2cSensorKind::Scd4x => &[Metric::Co2, Metric::Temperature, Metric::Humidity],
            I2cSensorKind::Bme280 => &[Metric::Temperature, Metric::Humidity, Metric::Pressure],
            I2cSensorKind::Bh1750 => &[Metric::Light],
            I2cSensorKind::Ads1115Moisture { .. } => &[Metric::Moisture],
        }
    }
}

impl I2cSensorKind {
    /// Builds the adapter for this chip at `address` on `i2c` (initialising the chip where it
    /// needs it, e.g. starting the SCD4x's periodic measurement).
    pub fn build<'a, I2C, D>(
        &self,
        i2c: I2C,
        address: u8,
        delay: D,
    ) -> Result<Box<dyn crate::Sensor + 'a>, crate::SensorError>
    where
        I2C: embedded_hal::i2c::I2c + 'a,
        D: embedded_hal::delay::DelayNs + 'a,
    {
        Ok(match self {
            I2cSensorKind::Sht4x => Box::new(sht4x::Sht4xSensor::new(i2c, address, delay)?),
            I2cSensorKind::Sht3x => Box::new(sht3x::Sht3xSensor::new(i2c, address, delay)?),
            I2cSensorKind::Scd4x => Box::new(scd4x::Scd4xSensor::new(i2c, delay)?),
            I2cSensorKind::Bme280 => Box::new(bme280::Bme280Sensor::new(i2c, address, delay)?),
            I2cSensorKind::Bh1750 => Box::new(bh1750::Bh1750Sensor::new(i2c, address, delay)?),
            I2cSensorKind::Ads1115Moisture {
                channel,
                dry_mv,
                wet_mv,
            } => {
                let calibration = ads1115::MoistureCalibration {
                    dry_mv: *dry_mv,
                    wet_mv: *wet_mv,
                };
                Box::new(ads1115::Ads1115MoistureSensor::new(
                    i2c,
                    address,
                    *channel,
                    calibration,
                    delay,
                )?)
            }
        })
    }
}

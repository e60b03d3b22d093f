//! Sensirion SHT4x (SHT40/41/43/45) temperature and humidity, over the `sht4x` crate.
//!
//! One [`Sensor::read`] is one high-precision single-shot measurement (command `0xFD`): the
//! crate writes the command, waits the datasheet's maximum measurement time, then reads two
//! CRC-protected words. [`Sht4xSensor::new`] does no bus traffic, so a sensor that is missing
//! at start-up shows up as [`SensorError::Absent`] on each read and is picked up by itself once
//! it answers (DESIGN.md §3.6: recover when good readings return).
//!
//! Humidity is converted as the datasheet says, `RH = -6 + 125·raw/65535`, then cropped to
//! 0–100 %RH (the formula can go slightly outside near saturation and in very dry air).

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;
use farm_protocol::Metric;
use sht4x::{Address, Precision, Sht4x};

use crate::i2c::classify;
use crate::{Measurement, Sensor, SensorError};

/// An SHT4x on an I2C bus, read with high precision.
pub struct Sht4xSensor<I2C, D> {
    driver: Sht4x<I2C, D>,
    delay: D,
    address: u8,
}

impl<I2C: I2c, D: DelayNs> Sht4xSensor<I2C, D> {
    /// An SHT4x at `address`: 0x44 for most parts, 0x45 or 0x46 for some order codes (e.g.
    /// SHT40-BD1B). Does no bus traffic: a missing sensor is reported by [`Sensor::read`].
    ///
    /// # Errors
    /// [`SensorError::Absent`] if `address` is not one an SHT4x can have.
    pub fn new(i2c: I2C, address: u8, delay: D) -> Result<Self, SensorError> {
        let device_address = match address {
            0x44 => Address::Address0x44,
            0x45 => Address::Address0x45,
            0x46 => Address::Address0x46,
            other => {
                return Err(SensorError::Absent(format!(
                    "SHT4x cannot be at {other:#04x} (only 0x44, 0x45 or 0x46)"
                )))
            }
        };
        Ok(Sht4xSensor {
            driver: Sht4x::new_with_address(i2c, device_address),
            delay,
            address,
        })
    }

    /// Hands the I2C bus back.
    pub fn destroy(self) -> I2C {
        self.driver.destroy()
    }

    fn what(&self) -> String {
        format!("SHT4x at {:#04x}", self.address)
    }

    fn map_error(&self, error: sht4x::Error<I2C::Error>) -> SensorError {
        match error {
            sht4x::Error::I2c(bus) => classify(&bus, &self.what()),
            sht4x::Error::Crc => SensorError::Crc(format!("{}: measurement", self.what())),
            // The enum is non-exhaustive; a future variant is treated as a transient fault.
            other => SensorError::Bus(format!("{}: {other:?}", self.what())),
        }
    }
}

impl<I2C: I2c, D: DelayNs> Sensor for Sht4xSensor<I2C, D> {
    /// Temperature (°C) and relative humidity (%RH) from one high-precision measurement.
    fn read(&mut self) -> Result<Vec<Measurement>, SensorError> {
        let raw = self
            .driver
            .measure_raw(Precision::High, &mut self.delay)
            .map_err(|e| self.map_error(e))?;
        Ok(vec![
            Measurement::checked(Metric::Temperature, temperature_c(raw.temperature))?,
            Measurement::checked(Metric::Humidity, humidity_percent(raw.humidity))?,
        ])
    }
}

/// Datasheet, conversion of signal output: `T = -45 + 175·raw/65535` °C.
fn temperature_c(raw: u16) -> f64 {
    -45.0 + 175.0 * f64::from(raw) / 65535.0
}

/// Datasheet, conversion of signal output: `RH = -6 + 125·raw/65535` %RH, cropped to 0–100.
fn humidity_percent(raw: u16) -> f64 {
    (-6.0 + 125.0 * f64::from(raw) / 65535.0).clamp(0.0, 100.0)
}

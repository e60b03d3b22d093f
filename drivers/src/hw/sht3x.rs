//! Sensirion SHT3x (SHT30/31/35) temperature and humidity, over the `embedded-sht3x` crate.
//!
//! One [`Sensor::read`] is one single-shot, high-repeatability measurement. The crate only
//! offers the **clock-stretching** variant of that command (`0x2C06`): it writes the command
//! and reads the result in one I2C transaction, and the sensor holds SCL low (up to 15.5 ms)
//! until the result is ready. The no-stretching command `0x2400` is not available through
//! the crate. The bus master must therefore tolerate clock stretching of that length.
//!
//! [`Sht3xSensor::new`] talks to the sensor: the crate's constructor sends a soft reset
//! (`0x30A2`) and waits the datasheet's 1.5 ms, so a missing sensor is reported by `new`.
//! The crate has no way to hand the bus back, so there is no `destroy`.
//!
//! Conversion (datasheet): `T = -45 + 175·raw/65535` °C, `RH = 100·raw/65535` %RH; the crate
//! does it in `f32`, which is exact to well under the sensor's resolution.

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;
use embedded_sht3x::{Repeatability, Sht3x, Temperature};
use farm_protocol::Metric;

use crate::i2c::classify;
use crate::{Measurement, Sensor, SensorError};

/// An SHT3x on an I2C bus, read single-shot with high repeatability.
pub struct Sht3xSensor<I2C, D> {
    driver: Sht3x<I2C, D>,
    address: u8,
}

impl<I2C: I2c, D: DelayNs> Sht3xSensor<I2C, D> {
    /// An SHT3x at `address` (0x44 with ADDR low, 0x45 with ADDR high). Soft-resets the
    /// sensor, which also tells whether it is there.
    ///
    /// # Errors
    /// [`SensorError::Absent`] if `address` is not 0x44 or 0x45 (no bus traffic then) or the
    /// sensor does not acknowledge; [`SensorError::Bus`] on another bus error. The bus handle
    /// is dropped on error (the crate does not return it).
    pub fn new(i2c: I2C, address: u8, delay: D) -> Result<Self, SensorError> {
        let what = describe(address);
        if !matches!(address, 0x44 | 0x45) {
            return Err(SensorError::Absent(format!(
                "{what}: an SHT3x can only be at 0x44 or 0x45"
            )));
        }
        let mut driver = Sht3x::new(i2c, address, delay).map_err(|e| map_error::<I2C>(e, &what))?;
        driver.repeatability = Repeatability::High;
        Ok(Sht3xSensor { driver, address })
    }
}

impl<I2C: I2c, D: DelayNs> Sensor for Sht3xSensor<I2C, D> {
    /// Temperature (°C) and relative humidity (%RH) from one high-repeatability measurement.
    fn read(&mut self) -> Result<Vec<Measurement>, SensorError> {
        let reading = self
            .driver
            .single_measurement()
            .map_err(|e| map_error::<I2C>(e, &describe(self.address)))?;
        Ok(vec![
            Measurement::checked(Metric::Temperature, f64::from(reading.temperature.value()))?,
            Measurement::checked(
                Metric::Humidity,
                f64::from(reading.relative_humidity.value()),
            )?,
        ])
    }
}

fn describe(address: u8) -> String {
    format!("SHT3x at {address:#04x}")
}

fn map_error<I2C: I2c>(error: embedded_sht3x::Error<I2C::Error>, what: &str) -> SensorError {
    match error {
        embedded_sht3x::Error::I2c(bus) => classify(&bus, what),
        embedded_sht3x::Error::BadCrc => SensorError::Crc(format!("{what}: measurement")),
    }
}

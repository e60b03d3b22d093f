//! Sensirion SCD4x (SCD40/41) CO2, temperature and humidity, over the `scd4x` crate, in
//! periodic measurement mode.
//!
//! In periodic mode the sensor measures on its own every 5 s and keeps the latest sample
//! until it is read. [`Scd4xSensor::new`] (and [`Scd4xSensor::restart`]) stop any measurement
//! already running (`0x3F86`, then the datasheet's 500 ms before the next command) and start
//! periodic measurement (`0x21B1`); the first sample is ready about 5 s later.
//!
//! Each [`Sensor::read`] asks for the data-ready status (`0xE4B8`) and, only if a new sample
//! is there, reads it (`0xEC05`); otherwise it answers [`SensorError::NotReady`], which is not
//! a fault. **Read it at intervals of 5 s or more**: faster reads just get `NotReady` in
//! between. If samples stop coming for much longer than 5 s (e.g. the sensor was power-cycled
//! and sits idle), the agent can call [`Scd4xSensor::restart`].
//!
//! Conversion (datasheet): CO2 in ppm as read, `T = -45 + 175·raw/65535` °C,
//! `RH = 100·raw/65535` %RH.

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;
use farm_protocol::Metric;
use scd4x::Scd4x;

use crate::i2c::classify;
use crate::{Measurement, Sensor, SensorError};

/// The SCD4x's fixed I2C address.
pub const SCD4X_ADDRESS: u8 = 0x62;

const WHAT: &str = "SCD4x at 0x62";

/// "No new sample" answers in a row after which the sensor is taken to have stopped
/// measuring (a power cycle leaves it idle, answering "not ready" forever) and its periodic
/// measurement is restarted. Read at the ≥ 5 s interval the config enforces, a running
/// SCD4x has a new sample almost every time.
pub const MAX_NOT_READY: u32 = 4;

/// An SCD4x on an I2C bus, measuring periodically (every 5 s).
pub struct Scd4xSensor<I2C, D> {
    driver: Scd4x<I2C, D>,
    not_ready: u32,
}

impl<I2C: I2c, D: DelayNs> Scd4xSensor<I2C, D> {
    /// An SCD4x at its fixed address [`SCD4X_ADDRESS`], with periodic measurement started
    /// (see [`Scd4xSensor::restart`]). Blocks for about 0.5 s (the stop command's delay).
    ///
    /// # Errors
    /// [`SensorError::Absent`] if the sensor does not acknowledge, [`SensorError::Bus`] on
    /// another bus error. The bus handle is dropped on error.
    pub fn new(i2c: I2C, delay: D) -> Result<Self, SensorError> {
        let mut sensor = Scd4xSensor {
            driver: Scd4x::new(i2c, delay),
            not_ready: 0,
        };
        sensor.restart()?;
        Ok(sensor)
    }

    /// Stops any periodic measurement the sensor is running, waits the 500 ms the datasheet
    /// requires after that command, and starts periodic measurement again. The next sample
    /// is ready about 5 s later.
    ///
    /// # Errors
    /// As [`Scd4xSensor::new`].
    pub fn restart(&mut self) -> Result<(), SensorError> {
        self.driver.stop_periodic_measurement().map_err(map_error)?;
        self.driver.start_periodic_measurement().map_err(map_error)
    }

    /// Hands the I2C bus back. The sensor keeps measuring periodically.
    pub fn destroy(self) -> I2C {
        self.driver.destroy()
    }
}

impl<I2C: I2c, D: DelayNs> Sensor for Scd4xSensor<I2C, D> {
    /// CO2 (ppm), temperature (°C) and relative humidity (%RH) of the latest sample, or
    /// [`SensorError::NotReady`] if there is no sample the previous read did not already take.
    /// After [`MAX_NOT_READY`] of those in a row it restarts periodic measurement and reports
    /// a [`SensorError::Bus`] fault, so a stalled sensor is alarmed rather than waited on.
    fn read(&mut self) -> Result<Vec<Measurement>, SensorError> {
        if !self.driver.data_ready_status().map_err(map_error)? {
            self.not_ready += 1;
            if self.not_ready < MAX_NOT_READY {
                return Err(SensorError::NotReady(format!(
                    "{WHAT}: no new sample yet (one every 5 s)"
                )));
            }
            self.not_ready = 0;
            self.restart()?;
            return Err(SensorError::Bus(format!(
                "{WHAT}: no new sample for {MAX_NOT_READY} reads; restarted periodic measurement"
            )));
        }
        self.not_ready = 0;
        let raw = self.driver.sensor_output().map_err(map_error)?;
        Ok(vec![
            Measurement::checked(Metric::Co2, f64::from(raw.co2))?,
            Measurement::checked(
                Metric::Temperature,
                -45.0 + 175.0 * f64::from(raw.temperature) / 65535.0,
            )?,
            Measurement::checked(Metric::Humidity, 100.0 * f64::from(raw.humidity) / 65535.0)?,
        ])
    }
}

fn map_error<E: embedded_hal::i2c::Error>(error: scd4x::Error<E>) -> SensorError {
    match error {
        scd4x::Error::I2c(bus) => classify(&bus, WHAT),
        scd4x::Error::Crc => SensorError::Crc(format!("{WHAT}: response")),
        // Self-test, "not allowed while measuring" and internal errors: none is expected on
        // the commands used here; report them as a fault worth retrying.
        other => SensorError::Bus(format!("{WHAT}: driver error {other:?}")),
    }
}

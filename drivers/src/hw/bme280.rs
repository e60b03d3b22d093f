//! Bosch BME280 (temperature, humidity, pressure) over I2C, through the `bme280` crate.
//!
//! A BMP280, the same chip without the humidity sensor, answers at the same addresses with
//! chip id 0x58: it is recognised and reports temperature and pressure only.
//!
//! Invariants and why:
//! - Every read re-initialises the chip (chip id, soft reset, calibration, configuration)
//!   before its forced measurement. The configuration lives only in the chip: one that lost
//!   power (a brown-out, a replugged cable) comes back with every measurement "skipped", and
//!   the crate would compensate the skip marker (raw 0x80000) into plausible-looking numbers.
//!   Re-initialising costs about 60 bytes on the bus (~7 ms at 100 kHz) and a 2 ms wait.
//! - Bosch's "weather monitoring" settings: forced mode, ×1 oversampling, IIR filter off. The
//!   filter would make each reading lag the room by many sample periods, and the crate waits
//!   a fixed 40 ms for the measurement, which ×16 pressure oversampling can exceed.
//! - The chip has no checksum, so garbled data is caught only when implausible. The crate
//!   clamps compensated values to −40…85 °C and 300…1100 hPa (as Bosch's reference code
//!   does); a value exactly on one of those bounds is reported as
//!   [`SensorError::Implausible`], not as a reading. Humidity is clamped to 0…100 %RH too,
//!   but 100 %RH is a real reading in a fogged room, so those bounds are kept.

use bme280::i2c::BME280;
use bme280::{Configuration, Error, IIRFilter, Oversampling};
use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;
use farm_protocol::Metric;

use crate::i2c::classify;
use crate::{Measurement, Sensor, SensorError};

/// The addresses the chip can be strapped to (SDO to GND, SDO to VDDIO).
pub const ADDRESSES: [u8; 2] = [0x76, 0x77];

const CHIP_ID_REGISTER: u8 = 0xD0;
const BME280_CHIP_ID: u8 = 0x60;
const BMP280_CHIP_ID: u8 = 0x58;

/// The crate's clamp bounds: a compensated value exactly on one was out of range.
const TEMPERATURE_CLAMP_C: [f32; 2] = [-40.0, 85.0];
const PRESSURE_CLAMP_PA: [f32; 2] = [30_000.0, 110_000.0];

/// Which of the two pin-compatible Bosch chips answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoschChip {
    /// BME280 (chip id 0x60): temperature, humidity, pressure.
    Bme280,
    /// BMP280 (chip id 0x58): temperature and pressure, no humidity.
    Bmp280,
}

impl BoschChip {
    /// The chip's name, for messages.
    pub const fn name(self) -> &'static str {
        match self {
            BoschChip::Bme280 => "BME280",
            BoschChip::Bmp280 => "BMP280",
        }
    }
}

/// A BME280 (or BMP280) on an I2C bus; see the module documentation for how it is driven.
pub struct Bme280Sensor<I2C, D> {
    driver: BME280<I2C>,
    delay: D,
    chip: BoschChip,
    what: String,
}

impl<I2C: I2c, D: DelayNs> Bme280Sensor<I2C, D> {
    /// Identifies and initialises the chip at `address` (0x76 or 0x77): reads its chip id and
    /// calibration and configures it. Fails with [`SensorError::Absent`] when nothing answers
    /// or the chip there is neither a BME280 nor a BMP280, and [`SensorError::Bus`] on a bus
    /// glitch.
    pub fn new(mut i2c: I2C, address: u8, delay: D) -> Result<Self, SensorError> {
        let what = format!("BME280 at {address:#04x}");
        if !ADDRESSES.contains(&address) {
            return Err(SensorError::Absent(format!(
                "{what}: not a BME280 address (0x76 or 0x77)"
            )));
        }
        let chip = identify(&mut i2c, address, &what)?;
        let mut sensor = Bme280Sensor {
            driver: BME280::new(i2c, address),
            delay,
            chip,
            what: format!("{} at {address:#04x}", chip.name()),
        };
        sensor.init()?;
        Ok(sensor)
    }

    /// Which chip answered: a BMP280 reports no humidity.
    pub fn chip(&self) -> BoschChip {
        self.chip
    }

    fn init(&mut self) -> Result<(), SensorError> {
        let config = Configuration::default()
            .with_temperature_oversampling(Oversampling::Oversampling1X)
            .with_pressure_oversampling(Oversampling::Oversampling1X)
            .with_humidity_oversampling(Oversampling::Oversampling1X)
            .with_iir_filter(IIRFilter::Off);
        let result = self.driver.init_with_config(&mut self.delay, config);
        result.map_err(|e| error(&self.what, e))
    }
}

impl<I2C: I2c, D: DelayNs> Sensor for Bme280Sensor<I2C, D> {
    /// Temperature (°C), humidity (%RH, BME280 only) and pressure (hPa), in that order.
    fn read(&mut self) -> Result<Vec<Measurement>, SensorError> {
        self.init()?;
        let result = self.driver.measure(&mut self.delay);
        let m = result.map_err(|e| error(&self.what, e))?;
        let temperature = unclamped(Metric::Temperature, m.temperature, TEMPERATURE_CLAMP_C)?;
        let pressure_pa = unclamped(Metric::Pressure, m.pressure, PRESSURE_CLAMP_PA)?;
        let mut out = vec![Measurement::checked(Metric::Temperature, temperature)?];
        if self.chip == BoschChip::Bme280 {
            let humidity = f64::from(m.humidity);
            out.push(Measurement::checked(Metric::Humidity, humidity)?);
        }
        out.push(Measurement::checked(Metric::Pressure, pressure_pa / 100.0)?);
        Ok(out)
    }
}

/// Reads the chip id register (the crate accepts both chips but does not say which it found).
fn identify<I2C: I2c>(i2c: &mut I2C, address: u8, what: &str) -> Result<BoschChip, SensorError> {
    let mut id = [0u8; 1];
    i2c.write_read(address, &[CHIP_ID_REGISTER], &mut id)
        .map_err(|e| classify(&e, what))?;
    match id[0] {
        BME280_CHIP_ID => Ok(BoschChip::Bme280),
        BMP280_CHIP_ID => Ok(BoschChip::Bmp280),
        other => Err(SensorError::Absent(format!(
            "{what}: the chip there has id {other:#04x}, neither a BME280 (0x60) nor a BMP280 (0x58)"
        ))),
    }
}

/// The value as f64, unless it sits on one of the crate's clamp bounds.
fn unclamped(metric: Metric, value: f32, bounds: [f32; 2]) -> Result<f64, SensorError> {
    if bounds.contains(&value) {
        return Err(SensorError::Implausible {
            metric,
            value: f64::from(value),
        });
    }
    Ok(f64::from(value))
}

fn error<E: embedded_hal::i2c::Error>(what: &str, error: Error<E>) -> SensorError {
    match error {
        Error::Bus(e) => classify(&e, what),
        Error::UnsupportedChip => SensorError::Absent(format!(
            "{what}: the chip id changed to neither a BME280 nor a BMP280"
        )),
        Error::CompensationFailed | Error::InvalidData => {
            SensorError::Bus(format!("{what}: invalid data ({error:?})"))
        }
        Error::NoCalibrationData | Error::Delay => {
            SensorError::Bus(format!("{what}: driver error {error:?}"))
        }
    }
}

//! BH1750 ambient-light sensor over I2C, through the `bh1750` crate.
//!
//! Each read powers the chip on and takes one measurement in one-time high-resolution mode
//! (1 lx resolution, default measurement time); the chip powers itself down afterwards.
//! Lux = raw count / 1.2 (datasheet). The chip has no checksum and no id register: any
//! device that acknowledges at the address is taken for a BH1750.
//!
//! The crate waits 1.2 × the datasheet's *typical* measurement time (144 ms) before reading;
//! the datasheet's *maximum* is 1.5 × typical (180 ms in high-resolution mode), and a read
//! before the end returns the previous result. The delay handed to the crate is therefore
//! stretched by 5/4, so the read comes after the guaranteed maximum.

use bh1750::{Resolution, BH1750};
use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;
use farm_protocol::Metric;

use crate::i2c::classify;
use crate::{Measurement, Sensor, SensorError};

/// The addresses the chip can be strapped to (ADDR low, ADDR high).
pub const ADDRESSES: [u8; 2] = [0x23, 0x5C];

/// A BH1750 on an I2C bus.
pub struct Bh1750Sensor<I2C, D> {
    driver: BH1750<I2C, DatasheetMaxWait<D>>,
    what: String,
}

impl<I2C: I2c, D: DelayNs> Bh1750Sensor<I2C, D> {
    /// The BH1750 at `address` (0x23 or 0x5C). Sends it the power-down command to see that it
    /// answers: fails with [`SensorError::Absent`] when nothing acknowledges (or the address
    /// is not a BH1750's) and [`SensorError::Bus`] on a bus glitch.
    pub fn new(i2c: I2C, address: u8, delay: D) -> Result<Self, SensorError> {
        let what = format!("BH1750 at {address:#04x}");
        if !ADDRESSES.contains(&address) {
            return Err(SensorError::Absent(format!(
                "{what}: not a BH1750 address (0x23 or 0x5C)"
            )));
        }
        let mut driver = BH1750::new_custom_address(i2c, DatasheetMaxWait(delay), address);
        driver.power_down().map_err(|e| error(&what, e))?;
        Ok(Bh1750Sensor { driver, what })
    }
}

impl<I2C: I2c, D: DelayNs> Sensor for Bh1750Sensor<I2C, D> {
    /// Illuminance, lux.
    fn read(&mut self) -> Result<Vec<Measurement>, SensorError> {
        self.driver.power_on().map_err(|e| error(&self.what, e))?;
        let lux = self
            .driver
            .get_one_time_measurement(Resolution::High)
            .map_err(|e| error(&self.what, e))?;
        Ok(vec![Measurement::checked(Metric::Light, f64::from(lux))?])
    }
}

fn error<E: embedded_hal::i2c::Error>(what: &str, error: bh1750::BH1750Error<E>) -> SensorError {
    match error {
        bh1750::BH1750Error::I2C(e) => classify(&e, what),
        // Only from set_measurement_time_register, which is not used.
        bh1750::BH1750Error::MeasurementTimeOutOfRange => {
            SensorError::Bus(format!("{what}: measurement time out of range"))
        }
    }
}

/// Stretches every wait by 5/4 (rounded up): the crate's 1.2 × typical becomes the
/// datasheet's 1.5 × typical maximum.
struct DatasheetMaxWait<D>(D);

const fn stretch(t: u32) -> u32 {
    t.saturating_add(t.div_ceil(4))
}

impl<D: DelayNs> DelayNs for DatasheetMaxWait<D> {
    fn delay_ns(&mut self, ns: u32) {
        self.0.delay_ns(stretch(ns));
    }

    fn delay_us(&mut self, us: u32) {
        self.0.delay_us(stretch(us));
    }

    fn delay_ms(&mut self, ms: u32) {
        self.0.delay_ms(stretch(ms));
    }
}

#[cfg(test)]
mod tests {
    use super::stretch;

    #[test]
    fn waits_are_stretched_to_the_datasheet_maximum() {
        // Datasheet: H-resolution typ 120 ms / max 180 ms; L-resolution typ 16 ms / max 24 ms.
        // The crate waits typ * 12 / 10 in integer milliseconds.
        assert_eq!(stretch(120 * 12 / 10), 180);
        assert_eq!(stretch(16 * 12 / 10), 24);
        assert_eq!(stretch(u32::MAX), u32::MAX);
    }
}

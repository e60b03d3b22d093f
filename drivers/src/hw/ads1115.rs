//! Analog substrate-moisture probes on an ADS1115 ADC over I2C, through the `ads1x1x` crate.
//!
//! One sensor is one single-ended input (AIN0…AIN3 against GND) with its own two-point
//! [`MoistureCalibration`]. Each read is a one-shot conversion at the chip's default
//! 128 samples/s, full-scale range ±4.096 V (covers a 3.3 V probe; 1 LSB = 125 µV,
//! datasheet table 3), comparator disabled. The chip has no checksum.
//!
//! Invariants and why:
//! - The crate's one-shot `read` is non-blocking: the first call starts a conversion, later
//!   calls poll the config register's OS bit and fetch the result once it is done. Polling is
//!   bounded ([`MAX_POLLS`] × [`POLL_INTERVAL_MS`], ~6 conversion times); past that the read
//!   fails with [`SensorError::Bus`] `conversion timed out`.
//! - After a read that gave up (timeout, bus error), the crate still holds the conversion it
//!   started and would hand it to the next read, however old. The next read therefore first
//!   collects and drops it, then converts anew: every reading is from its own conversion.
//! - Every config write carries the whole register (the crate keeps a copy), so the chip's
//!   state never depends on what was written before this process started.

use ads1x1x::channel::{SingleA0, SingleA1, SingleA2, SingleA3};
use ads1x1x::{ic, mode, Ads1x1x, FullScaleRange, TargetAddr};
use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;
use farm_protocol::Metric;

use crate::i2c::classify;
use crate::{Measurement, Sensor, SensorError};

/// Millivolts per count at the ±4.096 V full-scale range (datasheet: FSR / 2^15 = 125 µV).
pub const MV_PER_COUNT: f64 = 0.125;
/// The highest input voltage the chosen range can measure, mV.
pub const FULL_SCALE_MV: f64 = 4096.0;
/// How long to wait between two polls of a running conversion.
pub const POLL_INTERVAL_MS: u32 = 1;
/// How many times to poll before giving up (a conversion takes 7.8 ms at 128 samples/s).
pub const MAX_POLLS: u32 = 50;

type Adc<I2C> = Ads1x1x<I2C, ic::Ads1115, ic::Resolution16Bit, mode::OneShot>;

/// A probe's two-point calibration: its output in dry air (0 %) and in water-saturated
/// substrate (100 %). Capacitive probes read lower when wet, so `dry_mv > wet_mv` is normal;
/// the other direction works too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MoistureCalibration {
    /// The probe's output in dry air, mV (0 % moisture).
    pub dry_mv: f64,
    /// The probe's output in water-saturated substrate, mV (100 % moisture).
    pub wet_mv: f64,
}

impl MoistureCalibration {
    /// Whether the two points make a calibration: both finite, within the ADC's 0…4096 mV,
    /// and different from each other.
    pub fn validate(&self) -> Result<(), String> {
        for (name, mv) in [("dry_mv", self.dry_mv), ("wet_mv", self.wet_mv)] {
            if !(0.0..=FULL_SCALE_MV).contains(&mv) {
                return Err(format!(
                    "{name} = {mv} mV is outside the ADC's range 0..={FULL_SCALE_MV} mV"
                ));
            }
        }
        if self.dry_mv == self.wet_mv {
            return Err(format!(
                "dry_mv and wet_mv are both {} mV: a calibration needs two different points",
                self.dry_mv
            ));
        }
        Ok(())
    }

    /// Moisture, %, for the probe output `mv`: linear between the two points, clamped to
    /// 0…100. NaN (which no sensor hands out) if the calibration does not [`validate`](Self::validate).
    pub fn moisture_pct(&self, mv: f64) -> f64 {
        if self.validate().is_err() {
            return f64::NAN;
        }
        let pct = 100.0 * (mv - self.dry_mv) / (self.wet_mv - self.dry_mv);
        pct.clamp(0.0, 100.0)
    }
}

/// The input a probe is wired to.
#[derive(Debug, Clone, Copy)]
enum Input {
    A0,
    A1,
    A2,
    A3,
}

/// One moisture probe on one single-ended input of an ADS1115.
pub struct Ads1115MoistureSensor<I2C, D> {
    adc: Adc<I2C>,
    delay: D,
    input: Input,
    calibration: MoistureCalibration,
    /// An earlier read gave up on a conversion the crate may still hold.
    unfinished: bool,
    what: String,
}

impl<I2C: I2c, D: DelayNs> Ads1115MoistureSensor<I2C, D> {
    /// The probe on input `channel` (0…3) of the ADS1115 at `address` (0x48…0x4B). Sets the
    /// full-scale range, which also shows that the chip answers: fails with
    /// [`SensorError::Absent`] when nothing acknowledges (or address, channel or calibration
    /// are invalid) and [`SensorError::Bus`] on a bus glitch.
    pub fn new(
        i2c: I2C,
        address: u8,
        channel: u8,
        calibration: MoistureCalibration,
        delay: D,
    ) -> Result<Self, SensorError> {
        let what = format!("ADS1115 at {address:#04x} AIN{channel}");
        let invalid = |why: String| SensorError::Absent(format!("{what}: {why}"));
        let target = match address {
            0x48 => TargetAddr::Gnd,
            0x49 => TargetAddr::Vdd,
            0x4A => TargetAddr::Sda,
            0x4B => TargetAddr::Scl,
            _ => return Err(invalid("not an ADS1115 address (0x48..=0x4B)".into())),
        };
        let input = match channel {
            0 => Input::A0,
            1 => Input::A1,
            2 => Input::A2,
            3 => Input::A3,
            _ => return Err(invalid("no such input (0..=3)".into())),
        };
        calibration
            .validate()
            .map_err(|why| invalid(format!("invalid calibration: {why}")))?;
        let mut adc = Ads1x1x::new_ads1115(i2c, target);
        adc.set_full_scale_range(FullScaleRange::Within4_096V)
            .map_err(|e| error(&what, e))?;
        Ok(Ads1115MoistureSensor {
            adc,
            delay,
            input,
            calibration,
            unfinished: false,
            what,
        })
    }

    /// Hands the bus and the delay back.
    pub fn destroy(self) -> (I2C, D) {
        (self.adc.destroy_ads1115(), self.delay)
    }

    /// One conversion of this read's own: drops a result left over from an earlier read.
    fn convert(&mut self) -> Result<i16, SensorError> {
        if self.unfinished {
            self.poll()?;
        }
        self.poll()
    }

    /// Starts a conversion (or finds one running) and waits for its result.
    fn poll(&mut self) -> Result<i16, SensorError> {
        self.unfinished = true;
        for _ in 0..MAX_POLLS {
            match self.step().map_err(|e| error(&self.what, e))? {
                Some(raw) => {
                    self.unfinished = false;
                    return Ok(raw);
                }
                None => self.delay.delay_ms(POLL_INTERVAL_MS),
            }
        }
        Err(SensorError::Bus(format!(
            "{}: conversion timed out",
            self.what
        )))
    }

    /// One call of the crate's non-blocking read: `None` while the conversion runs.
    fn step(&mut self) -> Result<Option<i16>, ads1x1x::Error<I2C::Error>> {
        let result = match self.input {
            Input::A0 => self.adc.read(SingleA0),
            Input::A1 => self.adc.read(SingleA1),
            Input::A2 => self.adc.read(SingleA2),
            Input::A3 => self.adc.read(SingleA3),
        };
        match result {
            Ok(raw) => Ok(Some(raw)),
            Err(e) => {
                // `nb::Error` is `WouldBlock` or `Other(e)`, and `map` calls its closure only
                // for `Other`; this way this crate needs no dependency on `nb` to tell them apart.
                let mut other = None;
                let _ = e.map(|inner| other = Some(inner));
                other.map_or(Ok(None), Err)
            }
        }
    }
}

impl<I2C: I2c, D: DelayNs> Sensor for Ads1115MoistureSensor<I2C, D> {
    /// Substrate moisture, %.
    fn read(&mut self) -> Result<Vec<Measurement>, SensorError> {
        let raw = self.convert()?;
        let mv = f64::from(raw) * MV_PER_COUNT;
        let pct = self.calibration.moisture_pct(mv);
        Ok(vec![Measurement::checked(Metric::Moisture, pct)?])
    }
}

fn error<E: embedded_hal::i2c::Error>(what: &str, error: ads1x1x::Error<E>) -> SensorError {
    match error {
        ads1x1x::Error::I2C(e) => classify(&e, what),
        // Only from threshold setters, which are not used.
        ads1x1x::Error::InvalidInputData => SensorError::Bus(format!("{what}: invalid input data")),
    }
}

#[cfg(test)]
mod tests {
    use super::MoistureCalibration;

    const CAPACITIVE: MoistureCalibration = MoistureCalibration {
        dry_mv: 2800.0,
        wet_mv: 1200.0,
    };

    #[test]
    fn moisture_is_linear_between_the_points_and_clamped() {
        assert_eq!(CAPACITIVE.moisture_pct(2800.0), 0.0);
        assert_eq!(CAPACITIVE.moisture_pct(1200.0), 100.0);
        assert_eq!(CAPACITIVE.moisture_pct(2000.0), 50.0);
        assert_eq!(CAPACITIVE.moisture_pct(3300.0), 0.0);
        assert_eq!(CAPACITIVE.moisture_pct(-0.125), 100.0);
        assert!(CAPACITIVE.moisture_pct(f64::NAN).is_nan());
    }

    #[test]
    fn a_probe_that_reads_higher_when_wet_works_too() {
        let resistive = MoistureCalibration {
            dry_mv: 500.0,
            wet_mv: 2500.0,
        };
        assert_eq!(resistive.moisture_pct(1000.0), 25.0);
        assert_eq!(resistive.moisture_pct(100.0), 0.0);
        assert_eq!(resistive.moisture_pct(3000.0), 100.0);
    }

    #[test]
    fn a_calibration_needs_two_different_points_within_the_range() {
        assert_eq!(CAPACITIVE.validate(), Ok(()));
        let same = MoistureCalibration {
            dry_mv: 1500.0,
            wet_mv: 1500.0,
        };
        let err = same.validate().unwrap_err();
        assert!(err.contains("two different points"), "{err}");
        assert!(same.moisture_pct(1500.0).is_nan());
        for (dry_mv, wet_mv) in [(f64::NAN, 1.0), (2800.0, -1.0), (5000.0, 1200.0)] {
            let bad = MoistureCalibration { dry_mv, wet_mv };
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}

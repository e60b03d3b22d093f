//! BME280, BH1750 and ADS1115 adapters against scripted I2C transactions (`embedded-hal-mock`),
//! with register contents from the datasheets. (The DS18B20 reader is tested in w1.rs.)
//! None of the I2C chips has a checksum, so there is no CRC case for them.

use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::delay::{CheckedDelay, NoopDelay, Transaction as Wait};
use embedded_hal_mock::eh1::i2c::{Mock, Transaction as T};
use farm_drivers::hw::ads1115::{Ads1115MoistureSensor, MoistureCalibration, MAX_POLLS};
use farm_drivers::hw::bh1750::Bh1750Sensor;
use farm_drivers::hw::bme280::{Bme280Sensor, BoschChip};
use farm_drivers::{Measurement, Sensor, SensorError};
use farm_protocol::Metric;

const NACK: ErrorKind = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);

fn value(readings: &[Measurement], metric: Metric) -> f64 {
    let found = readings.iter().find(|m| m.metric == metric);
    found
        .unwrap_or_else(|| panic!("no {metric} in {readings:?}"))
        .value
}

/// `script` with its last transaction failing with `kind`.
fn fail_last(mut script: Vec<T>, kind: ErrorKind) -> Vec<T> {
    let last = script.pop().map(|t| t.with_error(kind));
    script.extend(last);
    script
}

// ---------------------------------------------------------------------------------------------
// BME280. Trimming values and raw readings: the worked example of the BMP280 datasheet
// (§3.12, same T/P registers and formulas as the BME280): adc_T 519888 -> 25.08 °C,
// adc_P 415148 -> 100653.27 Pa. Humidity trimming is ours, of typical magnitude.

const BME: u8 = 0x76;
const DIG_T1: u16 = 27504;
const DIG_T: [i16; 2] = [26435, -1000];
const DIG_P1: u16 = 36477;
const DIG_P: [i16; 8] = [-10685, 3024, 2855, 140, -7, 15500, -14600, 6000];
/// dig_H1 (u8), H2 (i16), H3 (u8), H4, H5 (12-bit signed), H6 (i8).
const DIG_H: [i16; 6] = [75, 362, 0, 324, 50, 30];
const ADC_T: u32 = 519_888;
const ADC_P: u32 = 415_148;
const ADC_H: u32 = 30_000;

/// Registers 0x88..=0xA1 (BME280 datasheet table 16): T1..P9 little-endian, 0xA0 unused,
/// 0xA1 dig_H1.
fn calibration_0x88() -> Vec<u8> {
    let mut bytes = DIG_T1.to_le_bytes().to_vec();
    DIG_T.iter().for_each(|v| bytes.extend(v.to_le_bytes()));
    bytes.extend(DIG_P1.to_le_bytes());
    DIG_P.iter().for_each(|v| bytes.extend(v.to_le_bytes()));
    bytes.extend([0x00, DIG_H[0] as u8]);
    bytes
}

/// Registers 0xE1..=0xE7: H2 (LE), H3, then H4 = 0xE4[7:0] << 4 | 0xE5[3:0] and
/// H5 = 0xE6[7:0] << 4 | 0xE5[7:4] (12-bit signed), H6.
fn calibration_0xe1() -> Vec<u8> {
    let [_, h2, h3, h4, h5, h6] = DIG_H;
    let [h2_lsb, h2_msb] = h2.to_le_bytes();
    let e5 = ((h5 & 0x0F) << 4 | (h4 & 0x0F)) as u8;
    vec![
        h2_lsb,
        h2_msb,
        h3 as u8,
        (h4 >> 4) as u8,
        e5,
        (h5 >> 4) as u8,
        h6 as u8,
    ]
}

/// Registers 0xF7..=0xFE: press and temp as msb, lsb, xlsb[7:4] (20 bits), hum msb, lsb.
fn raw_data(adc_t: u32) -> Vec<u8> {
    let twenty = |v: u32| [(v >> 12) as u8, (v >> 4) as u8, ((v & 0x0F) << 4) as u8];
    let mut bytes = twenty(ADC_P).to_vec();
    bytes.extend(twenty(adc_t));
    bytes.extend([(ADC_H >> 8) as u8, ADC_H as u8]);
    bytes
}

/// What the `bme280` crate's `init_with_config` does (read from its source): check the id,
/// soft reset (0xB6 to 0xE0), read calibration, then ctrl_hum = 0x01 (osrs_h ×1), ctrl_meas
/// read-modify-write to 0x24 (osrs_t ×1, osrs_p ×1, sleep), config to 0x00 (filter off).
fn bme_init(chip_id: u8) -> Vec<T> {
    vec![
        T::write_read(BME, vec![0xD0], vec![chip_id]),
        T::write(BME, vec![0xE0, 0xB6]),
        T::write_read(BME, vec![0x88], calibration_0x88()),
        T::write_read(BME, vec![0xE1], calibration_0xe1()),
        T::write_read(BME, vec![0xF4], vec![0x00]),
        T::write(BME, vec![0xF2, 0x01]),
        T::write_read(BME, vec![0xF4], vec![0x00]),
        T::write(BME, vec![0xF4, 0x24]),
        T::write_read(BME, vec![0xF5], vec![0x00]),
        T::write(BME, vec![0xF5, 0x00]),
    ]
}

/// `Bme280Sensor::new` (our own id check, then the crate's init) and one read: init again,
/// forced mode (ctrl_meas mode bits 01), then the 8 data bytes.
fn bme_new_and_read(chip_id: u8, data: Vec<u8>) -> Vec<T> {
    let id = T::write_read(BME, vec![0xD0], vec![chip_id]);
    let measure = [
        T::write_read(BME, vec![0xF4], vec![0x24]),
        T::write_read(BME, vec![0xF4], vec![0x24]),
        T::write(BME, vec![0xF4, 0x25]),
        T::write_read(BME, vec![0xF7], data),
    ];
    [
        vec![id],
        bme_init(chip_id),
        bme_init(chip_id),
        measure.to_vec(),
    ]
    .concat()
}

/// BME280 datasheet §4.2.3, compensation formulas in double precision, for t_fine and RH.
fn datasheet_t_fine_and_humidity(adc_t: f64, adc_h: f64) -> (i32, f64) {
    let (t1, [t2, t3]) = (f64::from(DIG_T1), DIG_T.map(f64::from));
    let var1 = (adc_t / 16384.0 - t1 / 1024.0) * t2;
    let var2 = (adc_t / 131072.0 - t1 / 8192.0) * (adc_t / 131072.0 - t1 / 8192.0) * t3;
    let t_fine = (var1 + var2) as i32;
    let [h1, h2, h3, h4, h5, h6] = DIG_H.map(f64::from);
    let mut var_h = f64::from(t_fine) - 76800.0;
    var_h = (adc_h - (h4 * 64.0 + h5 / 16384.0 * var_h))
        * (h2 / 65536.0 * (1.0 + h6 / 67108864.0 * var_h * (1.0 + h3 / 67108864.0 * var_h)));
    var_h *= 1.0 - h1 * var_h / 524288.0;
    (t_fine, var_h.clamp(0.0, 100.0))
}

fn bme(i2c: &Mock) -> Result<Bme280Sensor<Mock, NoopDelay>, SensorError> {
    Bme280Sensor::new(i2c.clone(), BME, NoopDelay::new())
}

#[test]
fn bme280_reports_the_datasheet_example() {
    let mut i2c = Mock::new(&bme_new_and_read(0x60, raw_data(ADC_T)));
    let mut sensor = bme(&i2c).unwrap();
    assert_eq!(sensor.chip(), BoschChip::Bme280);
    let readings = sensor.read().unwrap();
    i2c.done();

    let metrics: Vec<Metric> = readings.iter().map(|m| m.metric).collect();
    assert_eq!(
        metrics,
        [Metric::Temperature, Metric::Humidity, Metric::Pressure]
    );
    let (t_fine, rh) = datasheet_t_fine_and_humidity(f64::from(ADC_T), f64::from(ADC_H));
    assert_eq!(t_fine, 128_422, "the datasheet example's t_fine");
    let t = value(&readings, Metric::Temperature);
    assert!((t - 25.08).abs() < 0.01, "temperature {t}");
    let hpa = value(&readings, Metric::Pressure);
    assert!((hpa * 100.0 - 100_653.27).abs() < 1.0, "pressure {hpa} hPa");
    let humidity = value(&readings, Metric::Humidity);
    assert!(
        (humidity - rh).abs() < 0.1,
        "humidity {humidity}, datasheet {rh}"
    );
}

#[test]
fn a_bmp280_reports_temperature_and_pressure_only() {
    let mut i2c = Mock::new(&bme_new_and_read(0x58, raw_data(ADC_T)));
    let mut sensor = bme(&i2c).unwrap();
    assert_eq!(sensor.chip(), BoschChip::Bmp280);
    let metrics: Vec<Metric> = sensor.read().unwrap().iter().map(|m| m.metric).collect();
    i2c.done();
    assert_eq!(metrics, [Metric::Temperature, Metric::Pressure]);
}

#[test]
fn bme280_absent_or_another_chip_is_absent() {
    let mut i2c = Mock::new(&[T::write_read(BME, vec![0xD0], vec![0]).with_error(NACK)]);
    let err = bme(&i2c).err();
    i2c.done();
    assert!(matches!(err, Some(SensorError::Absent(_))), "{err:?}");

    // 0x61 is a BME680's chip id.
    let mut i2c = Mock::new(&[T::write_read(BME, vec![0xD0], vec![0x61])]);
    let err = bme(&i2c).err();
    i2c.done();
    assert!(
        matches!(&err, Some(SensorError::Absent(m)) if m.contains("0x61")),
        "{err:?}"
    );
}

#[test]
fn bme280_bus_error_mid_read_is_a_bus_fault() {
    let script = bme_new_and_read(0x60, raw_data(ADC_T));
    let mut i2c = Mock::new(&fail_last(script, ErrorKind::ArbitrationLoss));
    let mut sensor = bme(&i2c).unwrap();
    let err = sensor.read().unwrap_err();
    i2c.done();
    assert!(matches!(err, SensorError::Bus(_)), "{err:?}");
}

#[test]
fn bme280_values_clamped_by_the_crate_are_implausible() {
    // adc_T = 0xFFFFF compensates to far above 85 °C, which the crate clamps to 85.0.
    let mut i2c = Mock::new(&bme_new_and_read(0x60, raw_data(0xF_FFFF)));
    let mut sensor = bme(&i2c).unwrap();
    let err = sensor.read().unwrap_err();
    i2c.done();
    assert!(
        matches!(err, SensorError::Implausible { metric: Metric::Temperature, value } if value == 85.0),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// BH1750. Datasheet instruction set: Power Down 0x00, Power On 0x01, One Time H-Resolution
// Mode 0x20; result = two bytes, high first; lux = count / 1.2. H-resolution measurement time
// is at most 180 ms.

const BH: u8 = 0x23;

#[test]
fn bh1750_measures_once_in_high_resolution() {
    let mut i2c = Mock::new(&[
        T::write(BH, vec![0x00]),
        T::write(BH, vec![0x01]),
        T::write(BH, vec![0x20]),
        T::read(BH, vec![0x83, 0x90]),
    ]);
    let mut delay = CheckedDelay::new(&[Wait::delay_ms(180)]);
    let mut sensor = Bh1750Sensor::new(i2c.clone(), BH, delay.clone()).unwrap();
    let readings = sensor.read().unwrap();
    i2c.done();
    delay.done();
    let expected = f64::from(0x8390u16) / 1.2;
    assert_eq!(readings.len(), 1);
    assert!((value(&readings, Metric::Light) - expected).abs() < 0.01);
}

#[test]
fn bh1750_absent_and_bus_errors() {
    let mut i2c = Mock::new(&[T::write(BH, vec![0x00]).with_error(NACK)]);
    let err = Bh1750Sensor::new(i2c.clone(), BH, NoopDelay::new()).err();
    i2c.done();
    assert!(matches!(err, Some(SensorError::Absent(_))), "{err:?}");

    let mut i2c = Mock::new(&[
        T::write(BH, vec![0x00]),
        T::write(BH, vec![0x01]),
        T::write(BH, vec![0x20]),
        T::read(BH, vec![0, 0]).with_error(ErrorKind::Bus),
        // Unplugged after it was found: the next read is absent.
        T::write(BH, vec![0x01]).with_error(NACK),
    ]);
    let mut sensor = Bh1750Sensor::new(i2c.clone(), BH, NoopDelay::new()).unwrap();
    let mid_read = sensor.read().unwrap_err();
    let unplugged = sensor.read().unwrap_err();
    i2c.done();
    assert!(matches!(mid_read, SensorError::Bus(_)), "{mid_read:?}");
    assert!(matches!(unplugged, SensorError::Absent(_)), "{unplugged:?}");
}

// ---------------------------------------------------------------------------------------------
// ADS1115. Datasheet §9.6: conversion register 0x00, config register 0x01, written MSB first.
// Config: OS[15] MUX[14:12] PGA[11:9] MODE[8] DR[7:5] COMP_MODE[4] COMP_POL[3] COMP_LAT[2]
// COMP_QUE[1:0]. Reading OS = 0 means a conversion is running. At PGA ±4.096 V, 1 LSB = 125 µV.

const ADS: u8 = 0x48;
const DRY_WET: MoistureCalibration = MoistureCalibration {
    dry_mv: 2800.0,
    wet_mv: 1200.0,
};

/// PGA 001 (±4.096 V), MODE 1 (single-shot), DR 100 (128 SPS), COMP_QUE 11 (disabled).
fn config(os: u16, mux: u16) -> Vec<u8> {
    let bits = os << 15 | mux << 12 | 0b001 << 9 | 1 << 8 | 0b100 << 5 | 0b11;
    bits.to_be_bytes().to_vec()
}

/// One conversion on `mux` that is busy at the first poll: idle check, start, busy, done,
/// result.
fn conversion(address: u8, mux: u16, idle: Vec<u8>, result: [u8; 2]) -> Vec<T> {
    vec![
        T::write_read(address, vec![0x01], idle),
        T::write(address, [vec![0x01], config(1, mux)].concat()),
        T::write_read(address, vec![0x01], config(0, mux)),
        T::write_read(address, vec![0x01], config(1, mux)),
        T::write_read(address, vec![0x00], result.to_vec()),
    ]
}

/// `new` sets the PGA; the crate writes the whole register, MUX still at its reset value 000.
fn set_range(address: u8) -> T {
    T::write(address, [vec![0x01], config(1, 0b000)].concat())
}

type Ads = Result<Ads1115MoistureSensor<Mock, NoopDelay>, SensorError>;

fn ads(i2c: &Mock, address: u8, channel: u8, cal: MoistureCalibration) -> Ads {
    Ads1115MoistureSensor::new(i2c.clone(), address, channel, cal, NoopDelay::new())
}

fn expected_pct(mv: f64) -> f64 {
    100.0 * (DRY_WET.dry_mv - mv) / (DRY_WET.dry_mv - DRY_WET.wet_mv)
}

#[test]
fn ads1115_converts_one_shot_on_the_channel_asked_for() {
    let mut script = vec![set_range(ADS)];
    script.extend(conversion(ADS, 0b100, config(1, 0b000), [0x40, 0x00]));
    let mut i2c = Mock::new(&script);
    let mut sensor = ads(&i2c, ADS, 0, DRY_WET).unwrap();
    let readings = sensor.read().unwrap();
    i2c.done();
    // 0x4000 = 16384 counts × 0.125 mV = 2048 mV.
    assert_eq!(readings.len(), 1);
    assert!((value(&readings, Metric::Moisture) - expected_pct(2048.0)).abs() < 1e-9);

    // AIN3 (MUX 111) of the chip with ADDR on SCL.
    let mut script = vec![set_range(0x4B)];
    script.extend(conversion(0x4B, 0b111, config(1, 0b000), [0x2E, 0xE0]));
    let mut i2c = Mock::new(&script);
    let mut sensor = ads(&i2c, 0x4B, 3, DRY_WET).unwrap();
    let readings = sensor.read().unwrap();
    i2c.done();
    // 0x2EE0 = 12000 counts = 1500 mV.
    assert!((value(&readings, Metric::Moisture) - expected_pct(1500.0)).abs() < 1e-9);
}

#[test]
fn ads1115_times_out_and_the_next_read_has_a_conversion_of_its_own() {
    let mut script = vec![set_range(ADS)];
    script.extend(conversion(ADS, 0b100, config(1, 0b000), [0; 2])[..2].to_vec());
    for _ in 1..MAX_POLLS {
        script.push(T::write_read(ADS, vec![0x01], config(0, 0b100)));
    }
    // Next read: the late conversion (1000 mV) is collected and dropped; a new one gives 2048.
    script.push(T::write_read(ADS, vec![0x01], config(1, 0b100)));
    script.push(T::write_read(ADS, vec![0x00], vec![0x1F, 0x40]));
    script.extend(conversion(ADS, 0b100, config(1, 0b100), [0x40, 0x00]));
    let mut i2c = Mock::new(&script);
    let mut sensor = ads(&i2c, ADS, 0, DRY_WET).unwrap();
    let timed_out = sensor.read().unwrap_err();
    let next = sensor.read().unwrap();
    i2c.done();
    assert!(
        matches!(&timed_out, SensorError::Bus(m) if m.contains("conversion timed out")),
        "{timed_out:?}"
    );
    assert!((value(&next, Metric::Moisture) - expected_pct(2048.0)).abs() < 1e-9);
}

#[test]
fn ads1115_absent_bad_config_and_bus_errors() {
    let mut i2c = Mock::new(&[set_range(ADS).with_error(NACK)]);
    let err = ads(&i2c, ADS, 0, DRY_WET).err();
    assert!(matches!(err, Some(SensorError::Absent(_))), "{err:?}");
    // Invalid settings are refused before touching the bus.
    let flat = MoistureCalibration {
        dry_mv: 1500.0,
        wet_mv: 1500.0,
    };
    for (address, channel, calibration) in [(0x47, 0, DRY_WET), (ADS, 4, DRY_WET), (ADS, 0, flat)] {
        let result = ads(&i2c, address, channel, calibration);
        assert!(matches!(result, Err(SensorError::Absent(_))));
    }
    i2c.done();

    let mut script = vec![set_range(ADS)];
    let read = conversion(ADS, 0b100, config(1, 0b000), [0x40, 0x00]);
    script.extend(fail_last(read, ErrorKind::Bus));
    let mut i2c = Mock::new(&script);
    let mut sensor = ads(&i2c, ADS, 0, DRY_WET).unwrap();
    let err = sensor.read().unwrap_err();
    i2c.done();
    assert!(matches!(err, SensorError::Bus(_)), "{err:?}");
}

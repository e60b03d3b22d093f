//! The Sensirion adapters (SHT4x, SHT3x, SCD4x) against scripted bus transactions.
//!
//! Everything expected here comes from the Sensirion datasheets, not from the code under test:
//! - CRC-8 over each 16-bit word: polynomial 0x31 (x⁸+x⁵+x⁴+1), initial value 0xFF, MSB
//!   first, no final XOR; example CRC(0xBEEF) = 0x92.
//! - SHT4x: `0xFD` measures T and RH with high precision, at most 8.3 ms;
//!   `T = -45 + 175·raw/65535`, `RH = -6 + 125·raw/65535` cropped to 0–100.
//! - SHT3x: `0x30A2` soft reset (at most 1.5 ms); `0x2C06` single shot, high repeatability,
//!   clock stretching enabled; `T = -45 + 175·raw/65535`, `RH = 100·raw/65535`.
//! - SCD4x at 0x62: `0x3F86` stop periodic measurement (500 ms before the next command),
//!   `0x21B1` start periodic measurement, `0xE4B8` get_data_ready_status (1 ms; no new data
//!   iff the 11 least significant bits are 0), `0xEC05` read_measurement (1 ms; CO2 ppm, T
//!   and RH as SHT3x).

use std::cell::RefCell;
use std::rc::Rc;

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};
use embedded_hal_mock::eh1::i2c::{Mock, Transaction};
use farm_drivers::hw::scd4x::{Scd4xSensor, MAX_NOT_READY};
use farm_drivers::hw::{sht3x::Sht3xSensor, sht4x::Sht4xSensor};
use farm_drivers::{Measurement, Sensor, SensorError};
use farm_protocol::Metric;

const NACK: ErrorKind = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
const US: u64 = 1_000;
const MS: u64 = 1_000 * US;

/// Sensirion CRC-8 as the datasheets define it.
fn crc8(bytes: &[u8]) -> u8 {
    let mut crc = 0xFF_u8;
    for byte in bytes {
        crc ^= byte;
        for _ in 0..8 {
            crc = (crc << 1) ^ if crc & 0x80 != 0 { 0x31 } else { 0 };
        }
    }
    crc
}

/// Words as a Sensirion sensor sends them: MSB, LSB, CRC of the two.
fn words(values: &[u16]) -> Vec<u8> {
    let word = |[msb, lsb]: [u8; 2]| [msb, lsb, crc8(&[msb, lsb])];
    values.iter().flat_map(|v| word(v.to_be_bytes())).collect()
}

fn value_of(readings: &[Measurement], metric: Metric) -> f64 {
    let found = readings.iter().find(|m| m.metric == metric);
    found
        .unwrap_or_else(|| panic!("no {metric:?} in {readings:?}"))
        .value
}

/// The kind of error (`SensorError::kind`), or "ok".
fn kind<T>(result: Result<T, SensorError>) -> &'static str {
    result.map_or_else(|e| e.kind(), |_| "ok")
}

fn assert_close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 0.01, "{actual} != {expected}");
}

/// What happened on the bus and in the delay, in order.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Write(Vec<u8>),
    Read,
    Wait(u64),
}

type Log = Rc<RefCell<Vec<Event>>>;

/// The mock bus, logging every operation. embedded-hal-mock 0.11 panics when an error is
/// scripted inside `transaction()`, so `nack_transactions` answers every transaction with a
/// NACK of the address instead (a sensor unplugged after start-up).
struct Bus {
    mock: Mock,
    log: Log,
    nack_transactions: bool,
}

impl ErrorType for Bus {
    type Error = ErrorKind;
}

impl I2c for Bus {
    fn read(&mut self, address: u8, buffer: &mut [u8]) -> Result<(), ErrorKind> {
        self.log.borrow_mut().push(Event::Read);
        self.mock.read(address, buffer)
    }

    fn write(&mut self, address: u8, bytes: &[u8]) -> Result<(), ErrorKind> {
        self.log.borrow_mut().push(Event::Write(bytes.to_vec()));
        self.mock.write(address, bytes)
    }

    fn transaction(&mut self, address: u8, ops: &mut [Operation<'_>]) -> Result<(), ErrorKind> {
        if self.nack_transactions {
            return Err(NACK);
        }
        for op in ops.iter() {
            self.log.borrow_mut().push(match op {
                Operation::Write(bytes) => Event::Write(bytes.to_vec()),
                Operation::Read(_) => Event::Read,
            });
        }
        self.mock.transaction(address, ops)
    }
}

/// A delay that takes no time and logs how long it was asked to wait.
struct Clock(Log);

impl DelayNs for Clock {
    fn delay_ns(&mut self, ns: u32) {
        self.0.borrow_mut().push(Event::Wait(u64::from(ns)));
    }
}

/// A bus scripted with `expectations`, a clock, the mock (to call `done()` on) and the log.
fn rig(expectations: &[Transaction]) -> (Bus, Clock, Mock, Log) {
    let mock = Mock::new(expectations);
    let log = Log::default();
    let bus = Bus {
        mock: mock.clone(),
        log: log.clone(),
        nack_transactions: false,
    };
    (bus, Clock(log.clone()), mock, log)
}

/// Asserts that at least `at_least_ns` was waited right after the first write of `command`.
fn assert_waits(log: &Log, command: &[u8], at_least_ns: u64) {
    let log = log.borrow();
    let write = Event::Write(command.to_vec());
    let mut waited = 0; // stays 0 if the command was never written
    for event in log.iter().skip_while(|e| **e != write).skip(1) {
        let Event::Wait(ns) = event else { break };
        waited += ns;
    }
    assert!(waited >= at_least_ns, "{waited} ns after {command:02X?}");
}

#[test]
fn crc8_matches_the_datasheet_examples() {
    assert_eq!(crc8(&[0xBE, 0xEF]), 0x92);
    // SCD4x read_measurement example (500 ppm, 25 °C, 37 %RH): words and their CRCs.
    let example = [0x01, 0xF4, 0x33, 0x66, 0x67, 0xA2, 0x5E, 0xB9, 0x3C];
    assert_eq!(words(&[0x01F4, 0x6667, 0x5EB9]), example);
}

// Command codes, from the datasheets.
const SHT4X_MEASURE_HIGH_PRECISION: &[u8] = &[0xFD];
const SHT3X_SOFT_RESET: &[u8] = &[0x30, 0xA2];
const SHT3X_SINGLE_SHOT_HIGH_STRETCHING: &[u8] = &[0x2C, 0x06];
const SCD4X: u8 = 0x62;
const SCD4X_STOP_PERIODIC: &[u8] = &[0x3F, 0x86];
const SCD4X_START_PERIODIC: &[u8] = &[0x21, 0xB1];
const SCD4X_GET_DATA_READY: &[u8] = &[0xE4, 0xB8];
const SCD4X_READ_MEASUREMENT: &[u8] = &[0xEC, 0x05];

/// A command written, then its response read in a separate transfer.
fn command_then_read(address: u8, command: &[u8], response: Vec<u8>) -> Vec<Transaction> {
    vec![
        Transaction::write(address, command.to_vec()),
        Transaction::read(address, response),
    ]
}

fn t_from_raw(raw: u16) -> f64 {
    -45.0 + 175.0 * f64::from(raw) / 65535.0
}

// ---- SHT4x ----

fn sht4x_measurement(address: u8, response: Vec<u8>) -> Vec<Transaction> {
    command_then_read(address, SHT4X_MEASURE_HIGH_PRECISION, response)
}

#[test]
fn sht4x_measures_with_high_precision_and_converts_as_the_datasheet_says() {
    let (t_raw, rh_raw) = (0x6666, 0x8000);
    let (bus, clock, _, log) = rig(&sht4x_measurement(0x44, words(&[t_raw, rh_raw])));
    let mut sensor = Sht4xSensor::new(bus, 0x44, clock).unwrap();
    let readings = sensor.read().unwrap();
    assert_eq!(readings.len(), 2);
    assert_close(value_of(&readings, Metric::Temperature), t_from_raw(t_raw));
    let rh = -6.0 + 125.0 * f64::from(rh_raw) / 65535.0;
    assert_close(value_of(&readings, Metric::Humidity), rh);
    assert_waits(&log, SHT4X_MEASURE_HIGH_PRECISION, 8_300 * US);
    sensor.destroy().mock.done();
}

#[test]
fn sht4x_crops_humidity_to_0_100_percent() {
    let mut script = sht4x_measurement(0x45, words(&[0x6666, 0xFFFF])); // 119 %
    script.extend(sht4x_measurement(0x45, words(&[0x6666, 0x0000]))); // -6 %
    let (bus, clock, _, _) = rig(&script);
    let mut sensor = Sht4xSensor::new(bus, 0x45, clock).unwrap();
    assert_eq!(value_of(&sensor.read().unwrap(), Metric::Humidity), 100.0);
    assert_eq!(value_of(&sensor.read().unwrap(), Metric::Humidity), 0.0);
    sensor.destroy().mock.done();
}

#[test]
fn sht4x_crc_mismatch_is_a_crc_error() {
    let mut response = words(&[0x6666, 0x8000]);
    response[5] ^= 0x01; // the humidity word's CRC
    let (bus, clock, _, _) = rig(&sht4x_measurement(0x44, response));
    let mut sensor = Sht4xSensor::new(bus, 0x44, clock).unwrap();
    assert_eq!(kind(sensor.read()), "crc");
    sensor.destroy().mock.done();
}

#[test]
fn sht4x_nack_of_the_address_is_absent_and_other_bus_errors_are_glitches() {
    let script = sht4x_measurement(0x44, words(&[0x6666, 0x8000]));
    let (bus, clock, _, _) = rig(&[
        script[0].clone().with_error(NACK),
        script[0].clone(),
        script[1].clone().with_error(ErrorKind::ArbitrationLoss),
    ]);
    let mut sensor = Sht4xSensor::new(bus, 0x44, clock).unwrap();
    assert_eq!(kind(sensor.read()), "absent");
    assert_eq!(kind(sensor.read()), "bus");
    sensor.destroy().mock.done();
}

#[test]
fn sht4x_new_does_no_bus_traffic_and_rejects_addresses_it_cannot_have() {
    let (bus, clock, mut mock, _) = rig(&[]);
    assert_eq!(kind(Sht4xSensor::new(bus, 0x40, clock)), "absent");
    mock.done();
    let (bus, clock, _, log) = rig(&[]);
    let sensor = Sht4xSensor::new(bus, 0x46, clock).unwrap();
    assert!(log.borrow().is_empty());
    sensor.destroy().mock.done();
}

#[test]
fn sht4x_temperature_outside_the_physical_range_is_implausible() {
    let (bus, clock, _, _) = rig(&sht4x_measurement(0x44, words(&[0xFFFF, 0x8000]))); // 130 °C
    let mut sensor = Sht4xSensor::new(bus, 0x44, clock).unwrap();
    assert!(matches!(
        sensor.read(),
        Err(SensorError::Implausible { metric: Metric::Temperature, value }) if value > 129.9
    ));
    sensor.destroy().mock.done();
}

// ---- SHT3x ----

/// Soft reset, then one measurement: command and read in one transaction (clock stretching).
fn sht3x_reset_and_measurement(address: u8, response: Vec<u8>) -> Vec<Transaction> {
    vec![
        Transaction::write(address, SHT3X_SOFT_RESET.to_vec()),
        Transaction::transaction_start(address),
        Transaction::write(address, SHT3X_SINGLE_SHOT_HIGH_STRETCHING.to_vec()),
        Transaction::read(address, response),
        Transaction::transaction_end(address),
    ]
}

#[test]
fn sht3x_resets_then_measures_single_shot_with_high_repeatability() {
    let (t_raw, rh_raw) = (0x6666, 0x8000);
    let (bus, clock, mut mock, log) =
        rig(&sht3x_reset_and_measurement(0x45, words(&[t_raw, rh_raw])));
    let mut sensor = Sht3xSensor::new(bus, 0x45, clock).unwrap();
    let readings = sensor.read().unwrap();
    assert_eq!(readings.len(), 2);
    assert_close(value_of(&readings, Metric::Temperature), t_from_raw(t_raw));
    let rh = 100.0 * f64::from(rh_raw) / 65535.0;
    assert_close(value_of(&readings, Metric::Humidity), rh);
    assert_waits(&log, SHT3X_SOFT_RESET, 1_500 * US);
    mock.done();
}

#[test]
fn sht3x_crc_mismatch_is_a_crc_error() {
    let mut response = words(&[0x6666, 0x8000]);
    response[2] ^= 0x01; // the temperature word's CRC
    let (bus, clock, mut mock, _) = rig(&sht3x_reset_and_measurement(0x44, response));
    let mut sensor = Sht3xSensor::new(bus, 0x44, clock).unwrap();
    assert_eq!(kind(sensor.read()), "crc");
    mock.done();
}

#[test]
fn sht3x_is_absent_on_a_nack_at_start_or_later_or_an_address_it_cannot_have() {
    let reset = Transaction::write(0x44, SHT3X_SOFT_RESET.to_vec());
    let (bus, clock, mut mock, _) = rig(&[reset.clone().with_error(NACK)]);
    assert_eq!(kind(Sht3xSensor::new(bus, 0x44, clock)), "absent");
    mock.done();
    let (mut bus, clock, mut mock, _) = rig(&[reset]);
    bus.nack_transactions = true;
    let mut sensor = Sht3xSensor::new(bus, 0x44, clock).unwrap();
    assert_eq!(kind(sensor.read()), "absent");
    mock.done();
    let (bus, clock, mut mock, log) = rig(&[]);
    assert_eq!(kind(Sht3xSensor::new(bus, 0x46, clock)), "absent");
    assert!(
        log.borrow().is_empty(),
        "no bus traffic for an impossible address"
    );
    mock.done();
}

// ---- SCD4x ----

fn scd4x_start() -> Vec<Transaction> {
    vec![
        Transaction::write(SCD4X, SCD4X_STOP_PERIODIC.to_vec()),
        Transaction::write(SCD4X, SCD4X_START_PERIODIC.to_vec()),
    ]
}

fn scd4x_data_ready(status: u16) -> Vec<Transaction> {
    command_then_read(SCD4X, SCD4X_GET_DATA_READY, words(&[status]))
}

fn scd4x_sample(response: Vec<u8>) -> Vec<Transaction> {
    command_then_read(SCD4X, SCD4X_READ_MEASUREMENT, response)
}

#[test]
fn scd4x_new_and_restart_stop_wait_500_ms_then_start_periodic_measurement() {
    let (bus, clock, _, log) = rig(&[scd4x_start(), scd4x_start()].concat());
    let mut sensor = Scd4xSensor::new(bus, clock).unwrap();
    assert_waits(&log, SCD4X_STOP_PERIODIC, 500 * MS);
    log.borrow_mut().clear();
    sensor.restart().unwrap();
    assert_waits(&log, SCD4X_STOP_PERIODIC, 500 * MS);
    sensor.destroy().mock.done();
}

#[test]
fn scd4x_reads_co2_temperature_and_humidity_when_a_sample_is_ready() {
    // The datasheet's read_measurement example: 500 ppm, 25 °C, 37 %RH.
    let (co2, t_raw, rh_raw) = (0x01F4, 0x6667, 0x5EB9);
    let sample = words(&[co2, t_raw, rh_raw]);
    let script = [
        scd4x_start(),
        scd4x_data_ready(0x8006),
        scd4x_sample(sample),
    ];
    let (bus, clock, _, log) = rig(&script.concat());
    let mut sensor = Scd4xSensor::new(bus, clock).unwrap();
    let readings = sensor.read().unwrap();
    assert_eq!(readings.len(), 3);
    assert_close(value_of(&readings, Metric::Co2), f64::from(co2));
    assert_close(value_of(&readings, Metric::Temperature), t_from_raw(t_raw));
    let rh = 100.0 * f64::from(rh_raw) / 65535.0;
    assert_close(value_of(&readings, Metric::Humidity), rh);
    assert_close(value_of(&readings, Metric::Temperature), 25.0); // as the example says
    assert_close(value_of(&readings, Metric::Humidity), 37.0);
    assert_waits(&log, SCD4X_GET_DATA_READY, MS);
    assert_waits(&log, SCD4X_READ_MEASUREMENT, MS);
    sensor.destroy().mock.done();
}

#[test]
fn scd4x_is_not_ready_while_the_low_11_status_bits_are_zero() {
    // 0x8000: high bits set, low 11 bits clear.
    let script = [scd4x_start(), scd4x_data_ready(0x8000), scd4x_data_ready(0)];
    let (bus, clock, _, _) = rig(&script.concat());
    let mut sensor = Scd4xSensor::new(bus, clock).unwrap();
    assert_eq!(kind(sensor.read()), "not_ready");
    assert_eq!(kind(sensor.read()), "not_ready");
    sensor.destroy().mock.done();
}

#[test]
fn a_stalled_scd4x_is_restarted_and_reported_as_a_fault() {
    let stalled = vec![scd4x_data_ready(0); MAX_NOT_READY as usize].concat();
    let script = [scd4x_start(), stalled, scd4x_start(), scd4x_data_ready(0)];
    let (bus, clock, _, _) = rig(&script.concat());
    let mut sensor = Scd4xSensor::new(bus, clock).unwrap();
    for _ in 1..MAX_NOT_READY {
        assert_eq!(kind(sensor.read()), "not_ready");
    }
    assert_eq!(
        kind(sensor.read()),
        "bus",
        "stop + start periodic, then a fault"
    );
    assert_eq!(kind(sensor.read()), "not_ready", "the count starts again");
    sensor.destroy().mock.done();
}

#[test]
fn scd4x_crc_mismatch_is_a_crc_error() {
    let mut sample = words(&[0x01F4, 0x6667, 0x5EB9]);
    sample[5] ^= 0x01; // the temperature word's CRC
    let script = [
        scd4x_start(),
        scd4x_data_ready(0x8006),
        scd4x_sample(sample),
    ];
    let (bus, clock, _, _) = rig(&script.concat());
    let mut sensor = Scd4xSensor::new(bus, clock).unwrap();
    assert_eq!(kind(sensor.read()), "crc");
    sensor.destroy().mock.done();
}

#[test]
fn scd4x_nack_of_the_address_is_absent_at_start_and_later() {
    let stop = Transaction::write(SCD4X, SCD4X_STOP_PERIODIC.to_vec());
    let (bus, clock, mut mock, _) = rig(&[stop.with_error(NACK)]);
    assert_eq!(kind(Scd4xSensor::new(bus, clock)), "absent");
    mock.done();
    let ready = Transaction::write(SCD4X, SCD4X_GET_DATA_READY.to_vec()).with_error(NACK);
    let (bus, clock, _, _) = rig(&[scd4x_start(), vec![ready]].concat());
    let mut sensor = Scd4xSensor::new(bus, clock).unwrap();
    assert_eq!(kind(sensor.read()), "absent");
    sensor.destroy().mock.done();
}

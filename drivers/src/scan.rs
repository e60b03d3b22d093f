//! Which addresses answer on an I2C bus, named after the farm sensors that use them
//! (`edge-agent i2c scan`).
//!
//! # How an address is probed
//! The same way `i2cdetect` does by default ("auto" mode), because neither probe is safe for
//! every chip:
//! - a 1-byte read at 0x30..=0x37 and 0x50..=0x5F, where EEPROMs live: a write, even one
//!   without data, can be taken as the start of a write and corrupt some of them (the AT24RF08
//!   is the known case);
//! - a quick write (the address with the write bit, no data) everywhere else. A read is not
//!   used there because Sensirion sensors (SHT4x, SHT3x) do not acknowledge a read header
//!   until a measurement is ready, so an idle one would look absent.
//!
//! Only 0x08..=0x77 is probed: 0x00..=0x07 and 0x78..=0x7F are reserved by the I2C
//! specification (general call, CBUS, high-speed master codes, 10-bit addressing).
//!
//! A not-acknowledge means nothing is there. Any other error is collected, not listed as a
//! device, so a flaky bus (missing pull-ups, a long cable) shows up instead of passing as an
//! empty one. The rule for "not acknowledged" is [`crate::i2c::classify`]'s, so the scan and
//! the sensors agree on what absent means.

use std::fmt::Write as _;

use embedded_hal::i2c::I2c;

use crate::i2c::classify;
use crate::SensorError;

/// The first address probed.
pub const FIRST_ADDRESS: u8 = 0x08;
/// The last address probed.
pub const LAST_ADDRESS: u8 = 0x77;

/// How an address is probed (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// The address with the write bit and no data.
    QuickWrite,
    /// A read of one byte.
    ReadByte,
}

impl Probe {
    /// The probe `i2cdetect` uses for `address` in its default mode.
    pub const fn for_address(address: u8) -> Probe {
        match address {
            0x30..=0x37 | 0x50..=0x5F => Probe::ReadByte,
            _ => Probe::QuickWrite,
        }
    }
}

/// An address that acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// The 7-bit address.
    pub address: u8,
    /// Farm sensors that use this address; empty when none does.
    pub candidates: &'static [&'static str],
}

/// The outcome of [`scan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanResult {
    /// Addresses that acknowledged, in ascending order.
    pub found: Vec<Found>,
    /// Addresses whose probe failed with something other than a not-acknowledge, with the
    /// error (its `Debug` form), in ascending order. Not in `found`.
    pub errors: Vec<(u8, String)>,
}

/// The farm sensors known to use `address`; empty for any other address.
pub const fn candidates(address: u8) -> &'static [&'static str] {
    match address {
        0x44 | 0x45 => &["SHT4x", "SHT3x"],
        0x46 => &["SHT4x"],
        0x62 => &["SCD4x"],
        0x76 | 0x77 => &["BME280"],
        0x23 | 0x5C => &["BH1750"],
        0x48..=0x4B => &["ADS1115"],
        _ => &[],
    }
}

/// Probes every address from [`FIRST_ADDRESS`] to [`LAST_ADDRESS`] once.
pub fn scan<I2C: I2c>(bus: &mut I2C) -> ScanResult {
    let mut result = ScanResult::default();
    for address in FIRST_ADDRESS..=LAST_ADDRESS {
        let outcome = match Probe::for_address(address) {
            Probe::QuickWrite => bus.write(address, &[]),
            Probe::ReadByte => bus.read(address, &mut [0; 1]),
        };
        match outcome {
            Ok(()) => result.found.push(Found {
                address,
                candidates: candidates(address),
            }),
            Err(error) => match classify(&error, &format!("0x{address:02x}")) {
                SensorError::Absent(_) => {}
                _ => result.errors.push((address, format!("{error:?}"))),
            },
        }
    }
    result
}

/// A table like `i2cdetect`'s (`--` nothing, the address when something answered, `!!` an
/// error), then what answered with the sensors it may be, then the errors.
pub fn format_scan(result: &ScanResult) -> String {
    let mut out = String::from("   ");
    for column in 0..16 {
        let _ = write!(out, "  {column:x}");
    }
    for row in (0..0x80u8).step_by(16) {
        let mut line = format!("{row:02x}:");
        for address in row..row + 16 {
            line.push(' ');
            line.push_str(&cell(result, address));
        }
        let _ = write!(out, "\n{}", line.trim_end());
    }
    out.push('\n');
    if result.found.is_empty() {
        out.push_str("\nNo device answered: check the wiring, the pull-ups and the bus number.\n");
    } else {
        out.push_str("\nAnswered:\n");
        for found in &result.found {
            let names = match found.candidates {
                [] => "unknown device".to_owned(),
                names => names.join(" or "),
            };
            let _ = writeln!(out, "  0x{:02x}  {names}", found.address);
        }
    }
    if !result.errors.is_empty() {
        out.push_str("\nErrors (bus trouble: loose wiring, missing pull-ups, a long cable?):\n");
        for (address, error) in &result.errors {
            let _ = writeln!(out, "  0x{address:02x}  {error}");
        }
    }
    out
}

fn cell(result: &ScanResult, address: u8) -> String {
    if !(FIRST_ADDRESS..=LAST_ADDRESS).contains(&address) {
        "  ".to_owned()
    } else if result.found.iter().any(|found| found.address == address) {
        format!("{address:02x}")
    } else if result.errors.iter().any(|(at, _)| *at == address) {
        "!!".to_owned()
    } else {
        "--".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
    use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction};

    const NACK: ErrorKind = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);

    /// A bus where `answer` decides each address's outcome; probes follow i2cdetect's rule
    /// (read at 0x30-0x37 and 0x50-0x5F, quick write elsewhere), written out independently.
    fn bus(answer: impl Fn(u8) -> Option<ErrorKind>) -> I2cMock {
        let script: Vec<Transaction> = (0x08..=0x77u8)
            .map(|address| {
                let eeprom_range =
                    (0x30..=0x37).contains(&address) || (0x50..=0x5F).contains(&address);
                let probe = if eeprom_range {
                    Transaction::read(address, vec![0x00])
                } else {
                    Transaction::write(address, vec![])
                };
                match answer(address) {
                    Some(kind) => probe.with_error(kind),
                    None => probe,
                }
            })
            .collect();
        I2cMock::new(&script)
    }

    #[test]
    fn devices_that_acknowledge_are_found_with_their_candidates() {
        let mut i2c = bus(|address| match address {
            0x44 | 0x62 | 0x5C => None,
            _ => Some(NACK),
        });
        let result = scan(&mut i2c);
        i2c.done();
        let found: Vec<(u8, &[&str])> = result
            .found
            .iter()
            .map(|f| (f.address, f.candidates))
            .collect();
        assert_eq!(
            found,
            vec![
                (0x44, &["SHT4x", "SHT3x"][..]),
                (0x5C, &["BH1750"][..]),
                (0x62, &["SCD4x"][..]),
            ]
        );
        assert!(result.errors.is_empty(), "{:?}", result.errors);
    }

    #[test]
    fn a_bus_error_is_collected_not_listed_and_an_unknown_nack_is_absent() {
        let mut i2c = bus(|address| match address {
            0x44 => None,
            0x62 => Some(ErrorKind::Bus),
            0x50 => Some(ErrorKind::ArbitrationLoss),
            // How a Linux adapter that cannot tell the phase reports a missing device.
            0x10 => Some(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Unknown)),
            _ => Some(NACK),
        });
        let result = scan(&mut i2c);
        i2c.done();
        assert_eq!(result.found.len(), 1);
        assert_eq!(result.found[0].address, 0x44);
        assert_eq!(
            result.errors,
            vec![
                (0x50, "ArbitrationLoss".to_owned()),
                (0x62, "Bus".to_owned())
            ]
        );
    }

    #[test]
    fn unknown_addresses_have_no_candidates() {
        assert!(candidates(0x10).is_empty());
        assert!(candidates(0x68).is_empty());
        for address in 0x48..=0x4B {
            assert_eq!(candidates(address), ["ADS1115"]);
        }
        assert_eq!(candidates(0x23), ["BH1750"]);
        assert_eq!(candidates(0x45), ["SHT4x", "SHT3x"]);
        assert_eq!(candidates(0x76), ["BME280"]);
        assert_eq!(candidates(0x77), ["BME280"]);
    }

    #[test]
    fn the_table_marks_found_and_failed_addresses_and_names_candidates() {
        let result = ScanResult {
            found: vec![
                Found {
                    address: 0x44,
                    candidates: candidates(0x44),
                },
                Found {
                    address: 0x68,
                    candidates: candidates(0x68),
                },
            ],
            errors: vec![(0x62, "Bus".to_owned())],
        };
        let text = format_scan(&result);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "     0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f"
        );
        assert_eq!(
            lines[1],
            "00:                         -- -- -- -- -- -- -- --"
        );
        assert_eq!(
            lines[5],
            "40: -- -- -- -- 44 -- -- -- -- -- -- -- -- -- -- --"
        );
        assert_eq!(
            lines[7],
            "60: -- -- !! -- -- -- -- -- 68 -- -- -- -- -- -- --"
        );
        assert_eq!(lines[8], "70: -- -- -- -- -- -- -- --");
        assert!(text.contains("  0x44  SHT4x or SHT3x\n"), "{text}");
        assert!(text.contains("  0x68  unknown device\n"), "{text}");
        assert!(text.contains("  0x62  Bus\n"), "{text}");
    }

    #[test]
    fn an_empty_bus_says_nothing_answered() {
        let text = format_scan(&ScanResult::default());
        assert!(text.contains("No device answered"), "{text}");
        assert!(!text.contains("Errors"), "{text}");
    }
}

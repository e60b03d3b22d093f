//! DS18B20 1-Wire temperature probes, read through the Linux kernel's w1 sysfs (`w1-gpio` and
//! `w1_therm` modules), not through embedded-hal.
//!
//! Each probe is a directory `/sys/bus/w1/devices/28-<serial>` (family code 0x28). Reading
//! its `w1_slave` file makes the kernel run a conversion (up to 750 ms at 12 bits) and answer
//! with two lines: the nine scratchpad bytes with the kernel's CRC verdict, then the bytes
//! again with the temperature in m°C:
//!
//! ```text
//! 72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//! 72 01 4b 46 7f ff 0e 10 57 t=23125
//! ```
//!
//! The read blocks for the conversion; call it on a thread of its own.
//!
//! Known bad reads, and what they become:
//! - `crc=… NO` (garbled transfer; typically all `ff` and `t=-62`): [`SensorError::Crc`].
//! - scratchpad `50 05 …`, `t=85000`: the chip's power-on value, seen when the conversion did
//!   not run (brown-out, weak parasite power): [`SensorError::Bus`].
//! - all nine bytes `00`, which passes the CRC (`crc=00 YES`) with `t=0` (a shorted bus or a
//!   missing pull-up): [`SensorError::Bus`].
//! - no such directory or file (unplugged; the kernel removes the directory):
//!   [`SensorError::Absent`]; anything unparsable: [`SensorError::Bus`].

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use farm_protocol::Metric;

use crate::{Measurement, Sensor, SensorError};

/// Where the kernel lists 1-Wire devices.
pub const W1_DEVICES: &str = "/sys/bus/w1/devices";

/// The power-on reset value of the temperature register, m°C.
const POWER_ON_MILLI_C: i64 = 85_000;

/// The directories of the DS18B20s (family code `28-`) under `w1_root` (normally
/// [`W1_DEVICES`]), sorted. Fails if `w1_root` cannot be listed, e.g. because the w1 kernel
/// modules are not loaded.
pub fn discover(w1_root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(w1_root)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with("28-") {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

/// One DS18B20, read through its w1 sysfs directory.
#[derive(Debug, Clone)]
pub struct Ds18b20Sensor {
    path: PathBuf,
    what: String,
}

impl Ds18b20Sensor {
    /// The probe whose directory is `device_dir`, e.g. `/sys/bus/w1/devices/28-0316a279c5ff`.
    /// Touches nothing: a missing probe shows at the first read.
    pub fn new(device_dir: PathBuf) -> Self {
        let name = device_dir.file_name().map_or_else(
            || device_dir.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        Ds18b20Sensor {
            what: format!("DS18B20 {name}"),
            path: device_dir,
        }
    }

    /// The probe's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Sensor for Ds18b20Sensor {
    /// Temperature, °C.
    fn read(&mut self) -> Result<Vec<Measurement>, SensorError> {
        let file = self.path.join("w1_slave");
        let text = std::fs::read_to_string(&file).map_err(|e| match e.kind() {
            ErrorKind::NotFound => {
                SensorError::Absent(format!("{}: no {}", self.what, file.display()))
            }
            _ => SensorError::Bus(format!("{}: reading {}: {e}", self.what, file.display())),
        })?;
        let milli_c = parse_w1_slave(&text).map_err(|fault| fault.into_error(&self.what))?;
        let celsius = milli_c as f64 / 1000.0;
        Ok(vec![Measurement::checked(Metric::Temperature, celsius)?])
    }
}

/// What is wrong with a `w1_slave` text.
#[derive(Debug, PartialEq)]
enum Fault {
    Crc(String),
    PowerOn,
    AllZero,
    Unparsable(String),
}

impl Fault {
    fn into_error(self, what: &str) -> SensorError {
        match self {
            Fault::Crc(line) => {
                SensorError::Crc(format!("{what}: kernel CRC check failed: {line}"))
            }
            Fault::PowerOn => SensorError::Bus(format!(
                "{what}: power-on reset value (85 °C, scratchpad 50 05): the conversion did not run"
            )),
            Fault::AllZero => SensorError::Bus(format!(
                "{what}: all-zero scratchpad (shorted bus or missing pull-up?)"
            )),
            Fault::Unparsable(why) => {
                SensorError::Bus(format!("{what}: unparsable w1_slave: {why}"))
            }
        }
    }
}

/// The temperature in m°C from the two lines of a `w1_slave` file.
fn parse_w1_slave(text: &str) -> Result<i64, Fault> {
    let mut lines = text.lines();
    let (Some(verdict), Some(data)) = (lines.next(), lines.next()) else {
        return Err(Fault::Unparsable(format!(
            "expected two lines, got {text:?}"
        )));
    };
    let verdict = verdict.trim_end();
    if verdict.ends_with(" NO") {
        return Err(Fault::Crc(verdict.to_owned()));
    }
    if !verdict.contains("crc=") || !verdict.ends_with(" YES") {
        return Err(Fault::Unparsable(format!("first line {verdict:?}")));
    }
    let (bytes, t) = data
        .split_once("t=")
        .ok_or_else(|| Fault::Unparsable(format!("no t= in {data:?}")))?;
    let milli_c: i64 = t
        .trim()
        .parse()
        .map_err(|_| Fault::Unparsable(format!("temperature {:?}", t.trim())))?;
    let bytes: Vec<&str> = bytes.split_whitespace().collect();
    if bytes.len() != 9 {
        return Err(Fault::Unparsable(format!(
            "{} scratchpad bytes, not 9",
            bytes.len()
        )));
    }
    if bytes.iter().all(|b| *b == "00") {
        return Err(Fault::AllZero);
    }
    if milli_c == POWER_ON_MILLI_C && bytes[..2] == ["50", "05"] {
        return Err(Fault::PowerOn);
    }
    Ok(milli_c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_temperatures_parse() {
        // Datasheet table 1: -10.125 °C is 0xFF5E (LSB first: 5e ff).
        let text = "5e ff 4b 46 7f ff 02 10 b6 : crc=b6 YES\n5e ff 4b 46 7f ff 02 10 b6 t=-10125\n";
        assert_eq!(parse_w1_slave(text), Ok(-10_125));
    }

    #[test]
    fn a_real_85_degrees_is_not_the_power_on_value() {
        // 85.0625 °C (0x0551): a neighbour of the power-on value, refused only later, by the
        // plausibility check of the metric; the parser refuses the power-on bytes alone.
        let text = "51 05 4b 46 7f ff 0f 10 0a : crc=0a YES\n51 05 4b 46 7f ff 0f 10 0a t=85062\n";
        assert_eq!(parse_w1_slave(text), Ok(85_062));
    }

    #[test]
    fn truncated_text_is_unparsable() {
        for text in ["", "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n", "a\nb\n"] {
            assert!(
                matches!(parse_w1_slave(text), Err(Fault::Unparsable(_))),
                "{text:?}"
            );
        }
    }
}

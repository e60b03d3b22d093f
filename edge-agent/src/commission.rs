//! Commands for technicians commissioning a box: read every configured sensor once
//! (`edge-agent sensors read`) and list what answers on an I2C bus (`edge-agent i2c scan`).

use std::fmt::Write as _;
use std::time::Duration;

use farm_drivers::derived::derive;
use farm_drivers::{Measurement, SensorError};

use crate::agent::simulated_farm;
use crate::config::Config;

/// How long `sensors read` waits for a sensor that has no value yet (an SCD4x needs 5 s
/// after it is started).
const NOT_READY_PATIENCE: Duration = Duration::from_secs(12);

/// One sensor's answer.
pub struct SensorAnswer {
    /// The sensor's name.
    pub name: String,
    /// Its room.
    pub room: String,
    /// Its kind in the config file.
    pub kind: &'static str,
    /// What it read (with derived metrics), or why not.
    pub result: Result<Vec<Measurement>, SensorError>,
}

/// Reads every configured sensor once, in config order.
pub async fn read_all(config: &Config) -> std::io::Result<Vec<SensorAnswer>> {
    let farm = simulated_farm(config).map_err(std::io::Error::other)?;
    let built = crate::sensors::build(&config.sensors, farm.as_ref())?;
    let mut answers = Vec::new();
    for (mut sampler, sensor) in built.samplers.into_iter().zip(&config.sensors) {
        let deadline = tokio::time::Instant::now() + NOT_READY_PATIENCE;
        let result = loop {
            match sampler.reader.read().await {
                Err(SensorError::NotReady(_)) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(mut values) => {
                    values.extend(derive(&values));
                    break Ok(values);
                }
                other => break other,
            }
        };
        answers.push(SensorAnswer {
            name: sensor.name.clone(),
            room: sensor.room.clone(),
            kind: sensor.kind.name(),
            result,
        });
    }
    Ok(answers)
}

/// A table of the answers, one line per sensor.
pub fn format_answers(answers: &[SensorAnswer]) -> String {
    let mut out = String::new();
    for a in answers {
        let _ = write!(out, "{:<24} {:<16} {:<17} ", a.name, a.room, a.kind);
        match &a.result {
            Ok(values) => {
                let values: Vec<String> = values
                    .iter()
                    .map(|m| format!("{}={:.2} {}", m.metric, m.value, m.metric.unit()))
                    .collect();
                let _ = writeln!(out, "ok     {}", values.join("  "));
            }
            Err(e) => {
                let _ = writeln!(out, "FAILED {} ({})", e, e.kind());
            }
        }
    }
    out
}

/// Scans the I2C bus at `path` and describes what answered.
#[cfg(feature = "linux")]
pub fn i2c_scan(path: &std::path::Path) -> Result<String, farm_drivers::linux::HwError> {
    let mut bus = farm_drivers::linux::open_i2c(path)?;
    let result = farm_drivers::scan::scan(&mut bus);
    Ok(farm_drivers::scan::format_scan(&result))
}

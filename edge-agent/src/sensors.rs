//! Turning the configured sensors into [`Sampler`]s: simulated sensors are read in their
//! sampling task; I2C sensors on the thread of their bus (one per `/dev/i2c-N`, which owns the
//! device and shares it between the chips on it); DS18B20s on one 1-Wire thread (the kernel
//! blocks each read for the ~750 ms conversion).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use farm_drivers::bus::{Build, BusHandle};
use farm_drivers::hw::ds18b20::Ds18b20Sensor;
use farm_drivers::hw::I2cSensorKind;
use farm_drivers::sim::{SharedFarm, SimulatedSensor};
use farm_drivers::Sensor;

use crate::config::{SensorConfig, SensorKind};
use crate::fault::FaultTracker;
use crate::sampler::{Reader, Sampler, SensorCounters};

/// The samplers of every configured sensor, in config order, and the bus threads behind them
/// (they end once the samplers are dropped).
pub struct Sensors {
    /// One per configured sensor.
    pub samplers: Vec<Sampler>,
    /// The bus threads.
    pub threads: Vec<JoinHandle<()>>,
}

/// Builds the samplers. `farm` must be `Some` if any sensor is simulated.
pub fn build(configs: &[SensorConfig], farm: Option<&SharedFarm>) -> std::io::Result<Sensors> {
    let mut i2c: BTreeMap<PathBuf, Vec<(usize, u8, I2cSensorKind)>> = BTreeMap::new();
    let mut w1: Vec<(usize, PathBuf)> = Vec::new();
    let mut readers: Vec<Option<Reader>> = Vec::with_capacity(configs.len());
    for (i, config) in configs.iter().enumerate() {
        let direct: Option<Box<dyn Sensor + Send>> = match (&config.kind, farm) {
            (SensorKind::Simulated { metrics }, Some(farm)) => {
                Some(Box::new(SimulatedSensor::new(
                    farm.clone(),
                    config.name.clone(),
                    config.room.clone(),
                    metrics.clone(),
                )))
            }
            (SensorKind::Simulated { .. }, None) => {
                Some(Box::new(Unavailable("no simulated farm")))
            }
            (
                SensorKind::I2c {
                    bus,
                    address,
                    device,
                },
                _,
            ) => {
                i2c.entry(bus.clone())
                    .or_default()
                    .push((i, *address, device.clone()));
                None
            }
            (SensorKind::Ds18b20 { device_dir }, _) => {
                w1.push((i, device_dir.clone()));
                None
            }
        };
        readers.push(direct.map(Reader::Direct));
    }
    let mut threads = Vec::new();
    for (path, sensors) in i2c {
        let name = path.display().to_string();
        let build = i2c_bus(
            path,
            sensors.iter().map(|(_, a, k)| (*a, k.clone())).collect(),
        );
        let (bus, thread) = BusHandle::spawn(&name, build)?;
        threads.push(thread);
        for (index, (i, _, _)) in sensors.iter().enumerate() {
            readers[*i] = Some(Reader::Bus {
                bus: bus.clone(),
                index,
            });
        }
    }
    if !w1.is_empty() {
        let dirs: Vec<PathBuf> = w1.iter().map(|(_, dir)| dir.clone()).collect();
        let build: Build = Box::new(move || {
            dirs.into_iter()
                .map(|dir| Box::new(Ds18b20Sensor::new(dir)) as Box<dyn Sensor>)
                .collect()
        });
        let (bus, thread) = BusHandle::spawn("1-wire", build)?;
        threads.push(thread);
        for (index, (i, _)) in w1.iter().enumerate() {
            readers[*i] = Some(Reader::Bus {
                bus: bus.clone(),
                index,
            });
        }
    }
    let samplers = configs
        .iter()
        .zip(readers)
        .filter_map(|(config, reader)| {
            Some(Sampler {
                name: config.name.clone(),
                room: config.room.clone(),
                interval: config.interval,
                reader: reader?,
                tracker: FaultTracker::new(config.stuck_after),
                counters: Arc::new(SensorCounters::default()),
            })
        })
        .collect();
    Ok(Sensors { samplers, threads })
}

/// A sensor this build cannot read; every read says why.
struct Unavailable(&'static str);

impl Sensor for Unavailable {
    fn read(&mut self) -> Result<Vec<farm_drivers::Measurement>, farm_drivers::SensorError> {
        Err(farm_drivers::SensorError::Absent(self.0.to_owned()))
    }
}

/// The sensors of one I2C bus, built on its thread over one shared `/dev/i2c-N`. The device
/// is opened at the first read and, if that fails, at each later one.
#[cfg(feature = "linux")]
fn i2c_bus(path: PathBuf, sensors: Vec<(u8, I2cSensorKind)>) -> Build {
    use std::cell::RefCell;
    use std::rc::Rc;

    use embedded_hal_bus::i2c::RcDevice;
    use farm_drivers::bus::Reinit;
    use farm_drivers::linux::{delay, open_i2c};
    use farm_drivers::SensorError;

    Box::new(move || {
        let shared: Rc<RefCell<Option<Rc<RefCell<farm_drivers::linux::LinuxI2c>>>>> = Rc::default();
        sensors
            .into_iter()
            .map(|(address, kind)| {
                let (shared, path) = (Rc::clone(&shared), path.clone());
                Box::new(Reinit::new(move || {
                    let device = match &*shared.borrow() {
                        Some(device) => Rc::clone(device),
                        None => Rc::new(RefCell::new(
                            open_i2c(&path).map_err(|e| SensorError::Absent(e.to_string()))?,
                        )),
                    };
                    *shared.borrow_mut() = Some(Rc::clone(&device));
                    kind.build(RcDevice::new(device), address, delay())
                })) as Box<dyn Sensor>
            })
            .collect()
    })
}

/// Without the `linux` feature there is no I2C: every read says so.
#[cfg(not(feature = "linux"))]
fn i2c_bus(_path: PathBuf, sensors: Vec<(u8, I2cSensorKind)>) -> Build {
    Box::new(move || {
        sensors
            .iter()
            .map(|_| {
                Box::new(Unavailable(
                    "I2C needs edge-agent built with the linux feature",
                )) as Box<dyn Sensor>
            })
            .collect()
    })
}

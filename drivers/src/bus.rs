//! One thread per bus: it owns the bus and every sensor on it, and reads them one at a time
//! when asked. Sensors on a bus are built inside the thread (they share the bus through an
//! `Rc`, so they never cross threads); callers only send requests and get answers through a
//! callback, so this crate needs no async runtime.
//!
//! [`Reinit`] wraps a sensor that must be (re)built: at start-up when the device is not there
//! yet, and again after it went absent (a replugged SCD4x must be put back into periodic mode).

use std::sync::mpsc::{channel, Sender};
use std::thread::JoinHandle;

use crate::{Measurement, Sensor, SensorError};

/// Where a read's result goes: called on the bus thread, exactly once.
pub type Reply = Box<dyn FnOnce(Result<Vec<Measurement>, SensorError>) + Send>;

/// Builds the sensors of a bus on its thread, in the order their indexes refer to.
pub type Build = Box<dyn FnOnce() -> Vec<Box<dyn Sensor>> + Send>;

struct Request {
    index: usize,
    reply: Reply,
}

/// The handle to a bus thread. Clones share the thread, which ends when the last handle is
/// dropped (after answering what was already asked).
#[derive(Clone)]
pub struct BusHandle {
    name: String,
    tx: Sender<Request>,
}

impl BusHandle {
    /// Starts the thread for the bus `name` (e.g. `/dev/i2c-1`); `build` runs on it first.
    pub fn spawn(name: &str, build: Build) -> std::io::Result<(BusHandle, JoinHandle<()>)> {
        let (tx, rx) = channel::<Request>();
        let thread = std::thread::Builder::new()
            .name(format!("bus {name}"))
            .spawn(move || {
                let mut sensors = build();
                for Request { index, reply } in rx {
                    let result = match sensors.get_mut(index) {
                        Some(sensor) => sensor.read(),
                        None => Err(SensorError::Absent(format!(
                            "no sensor #{index} on this bus"
                        ))),
                    };
                    reply(result);
                }
            })?;
        Ok((
            BusHandle {
                name: name.to_owned(),
                tx,
            },
            thread,
        ))
    }

    /// Asks the thread to read sensor `index`; `reply` gets the result. Fails only if the
    /// thread is gone (it panicked), in which case `reply` is not called.
    pub fn read(&self, index: usize, reply: Reply) -> Result<(), SensorError> {
        self.tx
            .send(Request { index, reply })
            .map_err(|_| SensorError::Bus(format!("the thread of bus {} has stopped", self.name)))
    }

    /// The bus's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A sensor built on demand: `make` runs at the first read, and again after a read reported
/// the device absent, so a sensor plugged in (or back in) later starts working by itself.
pub struct Reinit {
    make: Box<dyn FnMut() -> Result<Box<dyn Sensor>, SensorError>>,
    sensor: Option<Box<dyn Sensor>>,
}

impl Reinit {
    /// Wraps the constructor `make`.
    pub fn new(make: impl FnMut() -> Result<Box<dyn Sensor>, SensorError> + 'static) -> Self {
        Reinit {
            make: Box::new(make),
            sensor: None,
        }
    }
}

impl Sensor for Reinit {
    fn read(&mut self) -> Result<Vec<Measurement>, SensorError> {
        let sensor = match &mut self.sensor {
            Some(sensor) => sensor,
            None => self.sensor.insert((self.make)()?),
        };
        let result = sensor.read();
        if matches!(result, Err(SensorError::Absent(_))) {
            self.sensor = None;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::sync::mpsc::sync_channel;

    use farm_protocol::Metric;

    use super::*;

    /// Answers with its script, one entry a read.
    struct Scripted(Vec<Result<Vec<Measurement>, SensorError>>);
    impl Sensor for Scripted {
        fn read(&mut self) -> Result<Vec<Measurement>, SensorError> {
            if self.0.is_empty() {
                return Err(SensorError::Bus("script ended".into()));
            }
            self.0.remove(0)
        }
    }

    fn co2(v: f64) -> Vec<Measurement> {
        vec![Measurement {
            metric: Metric::Co2,
            value: v,
        }]
    }

    fn ask(bus: &BusHandle, index: usize) -> Result<Vec<Measurement>, SensorError> {
        let (tx, rx) = sync_channel(1);
        bus.read(index, Box::new(move |r| tx.send(r).unwrap()))
            .unwrap();
        rx.recv().unwrap()
    }

    #[test]
    fn the_thread_reads_the_sensor_asked_for() {
        let build: Build = Box::new(|| {
            vec![
                Box::new(Scripted(vec![Ok(co2(400.0))])) as Box<dyn Sensor>,
                Box::new(Scripted(vec![
                    Ok(co2(900.0)),
                    Err(SensorError::Crc("x".into())),
                ])),
            ]
        });
        let (bus, thread) = BusHandle::spawn("test", build).unwrap();
        assert_eq!(ask(&bus, 1), Ok(co2(900.0)));
        assert_eq!(ask(&bus, 0), Ok(co2(400.0)));
        assert_eq!(ask(&bus, 1), Err(SensorError::Crc("x".into())));
        assert!(matches!(ask(&bus, 7), Err(SensorError::Absent(_))));
        drop(bus);
        thread.join().unwrap();
    }

    #[test]
    fn a_sensor_is_rebuilt_after_it_went_absent() {
        let builds = Rc::new(Cell::new(0));
        let counter = Rc::clone(&builds);
        let mut sensor = Reinit::new(move || {
            counter.set(counter.get() + 1);
            match counter.get() {
                1 => Err(SensorError::Absent("not plugged in".into())),
                2 => Ok(Box::new(Scripted(vec![
                    Ok(co2(500.0)),
                    Err(SensorError::Absent("unplugged".into())),
                ]))),
                _ => Ok(Box::new(Scripted(vec![Ok(co2(600.0))]))),
            }
        });
        assert!(matches!(sensor.read(), Err(SensorError::Absent(_))));
        assert_eq!(sensor.read(), Ok(co2(500.0)));
        assert!(matches!(sensor.read(), Err(SensorError::Absent(_))));
        assert_eq!(builds.get(), 2);
        assert_eq!(sensor.read(), Ok(co2(600.0)), "rebuilt after going absent");
        assert_eq!(builds.get(), 3);
    }
}

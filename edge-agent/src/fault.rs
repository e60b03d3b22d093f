//! Sensor fault tracking, as pure logic (DESIGN.md §3.6): what a read result means for the
//! values, the alarm, and when to read again. No clock, no I/O: the sampler feeds it results
//! and acts on its verdicts.
//!
//! - A bus error, checksum mismatch, absent device, NaN or out-of-range value is a fault.
//! - So is a *stuck* sensor: the same values for `stuck_after` reads in a row (light at
//!   0 lux does not count: a dark room reads 0 all night).
//! - The first fault after good reads raises one alarm; later faults add none; the next good
//!   read clears it.
//! - After `n` faults in a row the next read waits `interval × 2^(n−1)`, at most
//!   `max(interval, 60 s)`.
//! - "No new value yet" (an SCD4x between updates) is neither good nor a fault.

use std::time::Duration;

use farm_drivers::{Measurement, SensorError};
use farm_protocol::Metric;

/// The longest wait between reads of a failing sensor (unless its interval is longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What a read means.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Values to use and store.
    Good(Vec<Measurement>),
    /// A fault: no values; `kind` is `absent`, `bus`, `crc`, `implausible` or `stuck`.
    Fault {
        /// The kind of fault.
        kind: &'static str,
        /// What happened, for logs and the alarm.
        message: String,
    },
    /// Nothing new yet; not a fault.
    Wait,
}

/// A change of the sensor's alarm.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmChange {
    /// The sensor started failing.
    Raise {
        /// The kind of the first fault.
        kind: &'static str,
        /// What happened.
        message: String,
    },
    /// The sensor is good again.
    Clear,
}

/// The fault state of one sensor.
#[derive(Debug, Clone)]
pub struct FaultTracker {
    stuck_after: u32,
    previous: Vec<Measurement>,
    repeats: u32,
    failures: u32,
    alarmed: bool,
}

impl FaultTracker {
    /// A tracker that calls a sensor stuck after `stuck_after` identical reads (0 = never).
    pub fn new(stuck_after: u32) -> Self {
        FaultTracker {
            stuck_after,
            previous: Vec::new(),
            repeats: 0,
            failures: 0,
            alarmed: false,
        }
    }

    /// Judges one read result; returns the verdict and, if the alarm changes, how.
    pub fn observe(
        &mut self,
        result: Result<Vec<Measurement>, SensorError>,
    ) -> (Verdict, Option<AlarmChange>) {
        let verdict = match result {
            Err(e) if !e.is_fault() => return (Verdict::Wait, None),
            Err(e) => Verdict::Fault {
                kind: e.kind(),
                message: e.to_string(),
            },
            Ok(values) => self.check_stuck(values),
        };
        let alarm = match &verdict {
            Verdict::Fault { kind, message } => {
                self.failures += 1;
                (!std::mem::replace(&mut self.alarmed, true)).then(|| AlarmChange::Raise {
                    kind,
                    message: message.clone(),
                })
            }
            Verdict::Good(_) => {
                self.failures = 0;
                std::mem::replace(&mut self.alarmed, false).then_some(AlarmChange::Clear)
            }
            Verdict::Wait => None,
        };
        (verdict, alarm)
    }

    /// How long to wait before the next read.
    pub fn next_delay(&self, interval: Duration) -> Duration {
        if self.failures == 0 {
            return interval;
        }
        let factor = 1u32 << (self.failures - 1).min(16);
        interval
            .saturating_mul(factor)
            .min(interval.max(MAX_BACKOFF))
    }

    /// Faults in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    fn check_stuck(&mut self, values: Vec<Measurement>) -> Verdict {
        let dark = values
            .iter()
            .all(|m| m.metric == Metric::Light && m.value == 0.0);
        let same = !values.is_empty()
            && values.len() == self.previous.len()
            && values
                .iter()
                .zip(&self.previous)
                .all(|(a, b)| a.metric == b.metric && a.value.to_bits() == b.value.to_bits());
        self.repeats = if same && !dark { self.repeats + 1 } else { 0 };
        self.previous = values.clone();
        // `repeats` counts reads equal to the one before: N identical reads are N − 1 repeats.
        if self.stuck_after > 0 && self.repeats + 1 >= self.stuck_after {
            return Verdict::Fault {
                kind: "stuck",
                message: format!("the same values for {} reads in a row", self.repeats + 1),
            };
        }
        Verdict::Good(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(v: f64) -> Result<Vec<Measurement>, SensorError> {
        Ok(vec![Measurement {
            metric: Metric::Temperature,
            value: v,
        }])
    }

    #[test]
    fn one_alarm_for_a_run_of_faults_and_a_clear_on_recovery() {
        let mut t = FaultTracker::new(0);
        assert_eq!(
            t.observe(temp(20.0)),
            (
                Verdict::Good(vec![Measurement {
                    metric: Metric::Temperature,
                    value: 20.0
                }]),
                None
            )
        );
        let (v, a) = t.observe(Err(SensorError::Crc("bad".into())));
        assert!(matches!(v, Verdict::Fault { kind: "crc", .. }));
        assert!(matches!(a, Some(AlarmChange::Raise { kind: "crc", .. })));
        let (v, a) = t.observe(Err(SensorError::Bus("nack".into())));
        assert!(matches!(v, Verdict::Fault { kind: "bus", .. }));
        assert_eq!(a, None, "alarmed once");
        let (v, a) = t.observe(temp(20.5));
        assert!(matches!(v, Verdict::Good(_)));
        assert_eq!(a, Some(AlarmChange::Clear));
        assert_eq!(t.observe(temp(20.6)).1, None);
    }

    #[test]
    fn not_ready_is_neither_good_nor_a_fault() {
        let mut t = FaultTracker::new(3);
        t.observe(Err(SensorError::Absent("gone".into())));
        assert_eq!(
            t.observe(Err(SensorError::NotReady("5 s".into()))),
            (Verdict::Wait, None)
        );
        assert_eq!(
            t.failures(),
            1,
            "waiting does not reset or add to the run of faults"
        );
    }

    #[test]
    fn identical_values_for_n_reads_are_stuck_but_darkness_is_not() {
        let mut t = FaultTracker::new(3);
        assert!(matches!(t.observe(temp(21.0)).0, Verdict::Good(_)));
        assert!(matches!(t.observe(temp(21.0)).0, Verdict::Good(_)));
        let (v, a) = t.observe(temp(21.0));
        assert!(matches!(v, Verdict::Fault { kind: "stuck", .. }), "{v:?}");
        assert!(matches!(a, Some(AlarmChange::Raise { kind: "stuck", .. })));
        assert!(matches!(
            t.observe(temp(21.0)).0,
            Verdict::Fault { kind: "stuck", .. }
        ));
        assert_eq!(t.observe(temp(21.1)).1, Some(AlarmChange::Clear));

        let mut dark = FaultTracker::new(3);
        let zero = || {
            Ok(vec![Measurement {
                metric: Metric::Light,
                value: 0.0,
            }])
        };
        for _ in 0..10 {
            assert!(matches!(dark.observe(zero()).0, Verdict::Good(_)));
        }
        let mut off = FaultTracker::new(0);
        for _ in 0..10 {
            assert!(matches!(off.observe(temp(21.0)).0, Verdict::Good(_)));
        }
    }

    #[test]
    fn reads_back_off_while_failing_and_return_to_the_interval() {
        let mut t = FaultTracker::new(0);
        let interval = Duration::from_secs(5);
        assert_eq!(t.next_delay(interval), interval);
        let mut delays = Vec::new();
        for _ in 0..6 {
            t.observe(Err(SensorError::Bus("x".into())));
            delays.push(t.next_delay(interval).as_secs());
        }
        assert_eq!(delays, vec![5, 10, 20, 40, 60, 60]);
        t.observe(temp(20.0));
        assert_eq!(t.next_delay(interval), interval);
        // A slow sensor is never read more often than its interval.
        let slow = Duration::from_secs(600);
        t.observe(Err(SensorError::Bus("x".into())));
        t.observe(Err(SensorError::Bus("x".into())));
        assert_eq!(t.next_delay(slow), slow);
    }
}

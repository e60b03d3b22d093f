//! The kind-specific checks of `[[loops]]` (`loops.rs` has the schema and the common keys):
//! hysteresis and PID loops (a metric, a setpoint and a direction), photoperiods (a time of
//! day) and intervals.

use std::time::Duration;

use farm_drivers::ActuatorKind;
use farm_protocol::Metric;

use super::build::check_duration;
use super::control::STALE_AFTER_RANGE;
use super::error::Problem;
use super::loops::{default_direction, default_kd, default_ki, default_pid_period, Kind};
use crate::control::{Direction, LoopKind};

/// Allowed `loops[].period` (PID).
const PID_PERIOD_RANGE: (Duration, Duration) = (Duration::from_secs(10), Duration::from_secs(3600));
/// Allowed `loops[].every` (interval).
const EVERY_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(7 * 24 * 3600));
/// A photoperiod's `on_for` is shorter than this.
const DAY: Duration = Duration::from_secs(24 * 3600);

impl Kind<'_> {
    /// A hysteresis loop: a target and a dead band that stays inside the physical range.
    pub(super) fn hysteresis(
        &self,
        device: Option<ActuatorKind>,
        stale_after: Duration,
        problems: &mut Vec<Problem>,
    ) -> Option<LoopKind> {
        let target = self.target(device, stale_after, problems);
        let band = self.required("band", self.raw.band, problems);
        if let Some(band) = band {
            if !(band > 0.0 && band.is_finite()) {
                let message = format!("must be greater than 0, got {band}");
                problems.push(Problem::new(self.at("band"), message));
            } else if let Some((metric, setpoint)) = target.setpoint {
                let (min, max) = metric.physical_range();
                let (low, high) = (setpoint - band / 2.0, setpoint + band / 2.0);
                if low < min || high > max {
                    problems.push(Problem::new(
                        self.at("band"),
                        format!(
                            "setpoint ± band/2 ({low} to {high}) leaves the physical range of \
                             {}, {min} to {max} {}; narrow the band or move the setpoint",
                            metric.name(),
                            metric.unit()
                        ),
                    ));
                }
            }
        }
        let (metric, setpoint) = target.setpoint?;
        Some(LoopKind::Hysteresis {
            metric,
            setpoint,
            band: band?,
            direction: target.direction?,
            stale_after: target.stale_after,
        })
    }

    /// A PID loop: a target, gains that are finite and not negative, and a period.
    pub(super) fn pid(
        &self,
        device: Option<ActuatorKind>,
        stale_after: Duration,
        problems: &mut Vec<Problem>,
    ) -> Option<LoopKind> {
        let target = self.target(device, stale_after, problems);
        let kp = self.required("kp", self.raw.kp, problems);
        let ki = self.raw.ki.unwrap_or(default_ki());
        let kd = self.raw.kd.unwrap_or(default_kd());
        for (name, gain) in [("kp", kp), ("ki", Some(ki)), ("kd", Some(kd))] {
            if let Some(gain) = gain.filter(|gain| !(*gain >= 0.0 && gain.is_finite())) {
                let message = format!("must be a finite number, 0 or more, got {gain}");
                problems.push(Problem::new(self.at(name), message));
            }
        }
        if kp.is_some_and(|kp| kp == 0.0) && ki == 0.0 {
            problems.push(Problem::new(
                self.at("kp"),
                "kp or ki must be greater than 0; with both 0 the loop never switches on",
            ));
        }
        let period = self.raw.period.map_or(default_pid_period(), |p| p.0);
        check_duration(&self.at("period"), period, PID_PERIOD_RANGE, problems);
        let (metric, setpoint) = target.setpoint?;
        Some(LoopKind::Pid {
            metric,
            setpoint,
            direction: target.direction?,
            kp: kp?,
            ki,
            kd,
            period,
            stale_after: target.stale_after,
        })
    }

    /// A photoperiod: a time of day and less than a day of on-time.
    pub(super) fn photoperiod(&self, problems: &mut Vec<Problem>) -> Option<LoopKind> {
        let on_at = self.required("on_at", self.raw.on_at.as_deref(), problems);
        let on_at = on_at.and_then(|text| {
            let parsed = parse_time_of_day(text);
            if parsed.is_none() {
                problems.push(Problem::new(
                    self.at("on_at"),
                    format!(
                        "{text:?} is not a time of day; write 24-hour \"HH:MM\" from \"00:00\" \
                         to \"23:59\", e.g. \"06:30\""
                    ),
                ));
            }
            parsed
        });
        let on_for = self.required("on_for", self.raw.on_for, problems)?.0;
        if on_for.is_zero() || on_for >= DAY {
            problems.push(Problem::new(
                self.at("on_for"),
                format!(
                    "must be longer than 0s and shorter than 24h, got {}",
                    humantime::format_duration(on_for)
                ),
            ));
        }
        Some(LoopKind::Photoperiod {
            on_at: on_at?,
            on_for,
        })
    }

    /// An interval: a cycle of 1s to 7d and less than a cycle of on-time.
    pub(super) fn interval(&self, problems: &mut Vec<Problem>) -> Option<LoopKind> {
        let every = self
            .required("every", self.raw.every, problems)
            .map(|e| e.0);
        if let Some(every) = every {
            check_duration(&self.at("every"), every, EVERY_RANGE, problems);
        }
        let on_for = self.required("on_for", self.raw.on_for, problems)?.0;
        if let Some(every) = every.filter(|every| on_for.is_zero() || on_for >= *every) {
            let show = humantime::format_duration;
            problems.push(Problem::new(
                self.at("on_for"),
                format!(
                    "must be longer than 0s and shorter than every ({}), got {}",
                    show(every),
                    show(on_for)
                ),
            ));
        }
        Some(LoopKind::Interval {
            every: every?,
            on_for,
        })
    }

    /// The keys hysteresis and PID loops share: metric, setpoint, direction, stale_after.
    fn target(
        &self,
        device: Option<ActuatorKind>,
        stale_after: Duration,
        problems: &mut Vec<Problem>,
    ) -> Target {
        let metric = self.required("metric", self.raw.metric.as_deref(), problems);
        let metric = metric.and_then(|name| {
            name.parse::<Metric>()
                .map_err(|err| problems.push(Problem::new(self.at("metric"), err.to_string())))
                .ok()
        });
        let setpoint = self.required("setpoint", self.raw.setpoint, problems);
        let setpoint = match (metric, setpoint) {
            (Some(metric), Some(setpoint)) if !metric.is_plausible(setpoint) => {
                let (min, max) = metric.physical_range();
                problems.push(Problem::new(
                    self.at("setpoint"),
                    format!(
                        "must be within the physical range of {}, {min} to {max} {}, got {setpoint}",
                        metric.name(),
                        metric.unit()
                    ),
                ));
                None
            }
            (Some(metric), Some(setpoint)) => Some((metric, setpoint)),
            _ => None,
        };
        let direction = match self.raw.direction.as_deref() {
            None => device.map(default_direction),
            Some("raise") => Some(Direction::Raise),
            Some("lower") => Some(Direction::Lower),
            Some(other) => {
                problems.push(Problem::new(
                    self.at("direction"),
                    format!("unknown direction {other:?}; use \"raise\" or \"lower\""),
                ));
                None
            }
        };
        let stale_after = match self.raw.stale_after {
            Some(own) => {
                check_duration(&self.at("stale_after"), own.0, STALE_AFTER_RANGE, problems);
                own.0
            }
            None => stale_after,
        };
        Target {
            setpoint,
            direction,
            stale_after,
        }
    }
}

/// The checked keys shared by hysteresis and PID loops; `None` where a key is bad.
struct Target {
    /// The metric and a setpoint inside its physical range.
    setpoint: Option<(Metric, f64)>,
    /// Which way the actuator moves the metric.
    direction: Option<Direction>,
    /// The loop's input age limit.
    stale_after: Duration,
}

/// `"HH:MM"` (24-hour; the hour may have one digit) as time since midnight.
fn parse_time_of_day(text: &str) -> Option<Duration> {
    let (hours, minutes) = text.split_once(':')?;
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&hours.len()) || minutes.len() != 2 || !digits(hours) || !digits(minutes) {
        return None;
    }
    let (hours, minutes): (u64, u64) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then(|| Duration::from_secs(hours * 3600 + minutes * 60))
}

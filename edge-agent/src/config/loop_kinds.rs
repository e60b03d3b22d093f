//! The kind-specific checks of `[[loops]]` (`loops.rs` has the schema and the common keys):
//! hysteresis and PID loops (a metric, a setpoint and a direction), photoperiods (a time of
//! day) and intervals.

use std::time::Duration;

use farm_drivers::ActuatorKind;
use farm_protocol::Metric;

use super::build::check_duration;
use super::error::Problem;
use super::loops::{default_direction, default_kd, default_ki, default_pid_period, Kind};
use crate::control::rules::{
    check_band, check_gain, check_interval_on_for, check_photoperiod_on_for, check_setpoint,
    check_some_gain, EVERY_RANGE, PID_PERIOD_RANGE, STALE_AFTER_RANGE,
};
use crate::control::{Direction, LoopKind};

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
        if let Some(Err(message)) = band.map(|band| check_band(band, target.setpoint)) {
            problems.push(Problem::new(self.at("band"), message));
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
            if let Some(Err(message)) = gain.map(check_gain) {
                problems.push(Problem::new(self.at(name), message));
            }
        }
        if let Some(Err(message)) = kp.map(|kp| check_some_gain(kp, ki)) {
            problems.push(Problem::new(self.at("kp"), message));
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
            parse_time_of_day(text)
                .map_err(|message| problems.push(Problem::new(self.at("on_at"), message)))
                .ok()
        });
        let on_for = self.required("on_for", self.raw.on_for, problems)?.0;
        if let Err(message) = check_photoperiod_on_for(on_for) {
            problems.push(Problem::new(self.at("on_for"), message));
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
        if let Some(Err(message)) = every.map(|every| check_interval_on_for(every, on_for)) {
            problems.push(Problem::new(self.at("on_for"), message));
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
            (Some(metric), Some(setpoint)) => check_setpoint(metric, setpoint)
                .map(|()| (metric, setpoint))
                .map_err(|message| problems.push(Problem::new(self.at("setpoint"), message)))
                .ok(),
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

/// A photoperiod's `on_at` as written, `"HH:MM"` (24-hour; the hour may have one digit), as
/// time since midnight; the error says how to write it. The API's settings route uses it too.
pub fn parse_time_of_day(text: &str) -> Result<Duration, String> {
    parse_hh_mm(text).ok_or_else(|| {
        format!(
            "{text:?} is not a time of day; write 24-hour \"HH:MM\" from \"00:00\" to \
             \"23:59\", e.g. \"06:30\""
        )
    })
}

fn parse_hh_mm(text: &str) -> Option<Duration> {
    let (hours, minutes) = text.split_once(':')?;
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&hours.len()) || minutes.len() != 2 || !digits(hours) || !digits(minutes) {
        return None;
    }
    let (hours, minutes): (u64, u64) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then(|| Duration::from_secs(hours * 3600 + minutes * 60))
}

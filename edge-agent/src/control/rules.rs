//! The rules a loop's settings follow, in one place for the config file (`[[loops]]`, which
//! reports each broken rule against its key) and for run-time changes
//! ([`Controller::set_loop_settings`](super::Controller::set_loop_settings), which refuses
//! them). Each rule returns the message that follows the key: `must be greater than 0, got -1`.

use std::time::Duration;

use farm_protocol::Metric;

use super::spec::LoopKind;

/// Allowed `control.stale_after` and `loops[].stale_after`.
pub const STALE_AFTER_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(24 * 3600));
/// Allowed `loops[].period` (PID).
pub const PID_PERIOD_RANGE: (Duration, Duration) =
    (Duration::from_secs(10), Duration::from_secs(3600));
/// Allowed `loops[].every` (interval).
pub const EVERY_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(7 * 24 * 3600));
/// A photoperiod's `on_for` and `on_at` are shorter than this.
pub const DAY: Duration = Duration::from_secs(24 * 3600);

/// A duration within `min..=max`.
pub fn check_range(value: Duration, (min, max): (Duration, Duration)) -> Result<(), String> {
    if value < min || value > max {
        return Err(format!(
            "must be between {} and {}, got {}",
            humantime::format_duration(min),
            humantime::format_duration(max),
            humantime::format_duration(value)
        ));
    }
    Ok(())
}

/// A setpoint inside its metric's physical range.
pub fn check_setpoint(metric: Metric, setpoint: f64) -> Result<(), String> {
    if metric.is_plausible(setpoint) {
        return Ok(());
    }
    let (min, max) = metric.physical_range();
    Err(format!(
        "must be within the physical range of {}, {min} to {max} {}, got {setpoint}",
        metric.name(),
        metric.unit()
    ))
}

/// A hysteresis band: finite, above 0 and, around the setpoint (when known), inside the
/// metric's physical range.
pub fn check_band(band: f64, target: Option<(Metric, f64)>) -> Result<(), String> {
    if !(band > 0.0 && band.is_finite()) {
        return Err(format!("must be greater than 0, got {band}"));
    }
    let Some((metric, setpoint)) = target else {
        return Ok(());
    };
    let (min, max) = metric.physical_range();
    let (low, high) = (setpoint - band / 2.0, setpoint + band / 2.0);
    if low < min || high > max {
        return Err(format!(
            "setpoint ± band/2 ({low} to {high}) leaves the physical range of {}, {min} to \
             {max} {}; narrow the band or move the setpoint",
            metric.name(),
            metric.unit()
        ));
    }
    Ok(())
}

/// A PID gain: finite and not negative.
pub fn check_gain(gain: f64) -> Result<(), String> {
    if gain >= 0.0 && gain.is_finite() {
        Ok(())
    } else {
        Err(format!("must be a finite number, 0 or more, got {gain}"))
    }
}

/// A PID needs `kp` or `ki` above 0 (reported against `kp`).
pub fn check_some_gain(kp: f64, ki: f64) -> Result<(), String> {
    if kp == 0.0 && ki == 0.0 {
        Err("kp or ki must be greater than 0; with both 0 the loop never switches on".into())
    } else {
        Ok(())
    }
}

/// A photoperiod's start: a whole minute from 00:00 to 23:59 (what `"HH:MM"` can say).
pub fn check_time_of_day(on_at: Duration) -> Result<(), String> {
    if on_at < DAY && on_at.subsec_nanos() == 0 && on_at.as_secs() % 60 == 0 {
        Ok(())
    } else {
        Err(format!(
            "must be a whole minute from 00:00 to 23:59, got {} after midnight",
            humantime::format_duration(on_at)
        ))
    }
}

/// A photoperiod's on-time: longer than 0 and shorter than a day.
pub fn check_photoperiod_on_for(on_for: Duration) -> Result<(), String> {
    if on_for.is_zero() || on_for >= DAY {
        return Err(format!(
            "must be longer than 0s and shorter than 24h, got {}",
            humantime::format_duration(on_for)
        ));
    }
    Ok(())
}

/// An interval's on-time: longer than 0 and shorter than its cycle.
pub fn check_interval_on_for(every: Duration, on_for: Duration) -> Result<(), String> {
    if on_for.is_zero() || on_for >= every {
        let show = humantime::format_duration;
        return Err(format!(
            "must be longer than 0s and shorter than every ({}), got {}",
            show(every),
            show(on_for)
        ));
    }
    Ok(())
}

impl LoopKind {
    /// Checks every rule of a complete loop; the broken ones as `(config key, message)`, in
    /// the kind's key order.
    pub fn check(&self) -> Result<(), Vec<(&'static str, String)>> {
        let checks: Vec<(&'static str, Result<(), String>)> = match self {
            LoopKind::Hysteresis {
                metric,
                setpoint,
                band,
                stale_after,
                ..
            } => {
                let target = metric
                    .is_plausible(*setpoint)
                    .then_some((*metric, *setpoint));
                vec![
                    ("setpoint", check_setpoint(*metric, *setpoint)),
                    ("band", check_band(*band, target)),
                    ("stale_after", check_range(*stale_after, STALE_AFTER_RANGE)),
                ]
            }
            LoopKind::Pid {
                metric,
                setpoint,
                kp,
                ki,
                kd,
                period,
                stale_after,
                ..
            } => vec![
                ("setpoint", check_setpoint(*metric, *setpoint)),
                (
                    "kp",
                    check_gain(*kp).and_then(|()| check_some_gain(*kp, *ki)),
                ),
                ("ki", check_gain(*ki)),
                ("kd", check_gain(*kd)),
                ("period", check_range(*period, PID_PERIOD_RANGE)),
                ("stale_after", check_range(*stale_after, STALE_AFTER_RANGE)),
            ],
            LoopKind::Photoperiod { on_at, on_for } => vec![
                ("on_at", check_time_of_day(*on_at)),
                ("on_for", check_photoperiod_on_for(*on_for)),
            ],
            LoopKind::Interval { every, on_for } => vec![
                ("every", check_range(*every, EVERY_RANGE)),
                ("on_for", check_interval_on_for(*every, *on_for)),
            ],
        };
        let problems: Vec<_> = checks
            .into_iter()
            .filter_map(|(key, result)| result.err().map(|message| (key, message)))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

//! The loop kinds as pure functions of time, their input and their own state: each turns
//! an observation into a demand (on, off, or "my input is faulty").

use std::time::Duration;

use farm_protocol::{Metric, UnixMillis};

use super::spec::{Direction, LoopKind};

/// The latest reading of a metric in a room, as the controller sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// The value, in the metric's unit.
    pub value: f64,
    /// When it was measured, unix ms.
    pub ts: UnixMillis,
    /// Set while its source is failing (`bus`, `stuck`, …): the value must not be used.
    pub fault: Option<&'static str>,
}

/// Where the controller gets its inputs: the agent's latest state, or a map in tests.
pub trait Observations {
    /// The latest reading of `metric` in `room`, if there is one.
    fn observe(&self, room: &str, metric: Metric) -> Option<Observation>;
}

/// Why an input cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum InputFault {
    /// No reading has arrived yet.
    Missing,
    /// The newest reading is older than `stale_after`.
    Stale { age_ms: i64 },
    /// The source reported a fault.
    Source(&'static str),
    /// NaN, infinite, or outside the metric's physical range.
    Implausible(f64),
}

impl InputFault {
    /// A sentence for alarms and logs.
    pub(crate) fn describe(&self, metric: Metric) -> String {
        match self {
            InputFault::Missing => format!("no {metric} reading yet"),
            InputFault::Stale { age_ms } => format!(
                "newest {metric} reading is {} old",
                humantime::format_duration(Duration::from_secs((*age_ms / 1000).max(0) as u64))
            ),
            InputFault::Source(kind) => format!("{metric} sensor fault: {kind}"),
            InputFault::Implausible(v) => format!(
                "{metric} reading {v} is outside {:?} {}",
                metric.physical_range(),
                metric.unit()
            ),
        }
    }
}

/// Checks an input: present, fresh, from a healthy source and physically possible.
pub(crate) fn check_input(
    observation: Option<Observation>,
    metric: Metric,
    stale_after: Duration,
    now: UnixMillis,
) -> Result<f64, InputFault> {
    let obs = observation.ok_or(InputFault::Missing)?;
    let age_ms = now.saturating_sub(obs.ts);
    if age_ms > i64::try_from(stale_after.as_millis()).unwrap_or(i64::MAX) {
        return Err(InputFault::Stale { age_ms });
    }
    if let Some(kind) = obs.fault {
        return Err(InputFault::Source(kind));
    }
    if !metric.is_plausible(obs.value) {
        return Err(InputFault::Implausible(obs.value));
    }
    Ok(obs.value)
}

/// A loop's memory between steps.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LoopState {
    /// Hysteresis: the last demand (inside the band it is kept).
    pub on: bool,
    /// PID: the integral term (a duty, 0–1).
    pub integral: f64,
    /// PID: the measurement at the start of the current cycle.
    pub last_pv: Option<f64>,
    /// PID: when the current duty cycle started.
    pub cycle_start: Option<UnixMillis>,
    /// PID: the current cycle's duty (0–1).
    pub duty: f64,
    /// The input value of the latest evaluation, for messages and the panel.
    pub pv: Option<f64>,
}

impl LoopState {
    /// After a fault: starts afresh on good data (a new duty cycle, no derivative kick from
    /// the pre-fault reading) but keeps the PID integral, the load it has learnt, so the
    /// room does not sag while the integral winds up again.
    pub(crate) fn reset(&mut self) {
        *self = LoopState {
            integral: self.integral,
            ..LoopState::default()
        };
    }
}

/// What a loop asks for now, and when it next wants to be asked again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Demand {
    /// On (`true`) or off.
    pub on: bool,
    /// The loop will change its mind at this time without a new reading (a duty cycle or
    /// schedule edge).
    pub next: Option<UnixMillis>,
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Hysteresis around `setpoint` with a dead band of full width `band`.
pub(crate) fn hysteresis(
    state: &mut LoopState,
    pv: f64,
    setpoint: f64,
    band: f64,
    direction: Direction,
) -> Demand {
    let (low, high) = (setpoint - band / 2.0, setpoint + band / 2.0);
    let on = match direction {
        Direction::Raise if pv < low => true,
        Direction::Raise if pv > high => false,
        Direction::Lower if pv > high => true,
        Direction::Lower if pv < low => false,
        _ => state.on,
    };
    state.on = on;
    Demand { on, next: None }
}

/// The PID settings of a loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PidGains {
    pub setpoint: f64,
    pub direction: Direction,
    pub kp: f64,
    pub ki: f64,
    pub kd: f64,
    pub period: Duration,
}

/// Time-proportioning PID: at the start of each period the output (0–1) is computed and the
/// actuator is on for `output × period`. The integral only grows while the output is not
/// saturated in the direction of the error (anti-windup) and stays within 0–1; the derivative
/// acts on the measurement, so a setpoint change does not kick.
pub(crate) fn pid(state: &mut LoopState, pv: f64, gains: PidGains, now: UnixMillis) -> Demand {
    let period_ms = ms(gains.period).max(1);
    let new_cycle = state
        .cycle_start
        .is_none_or(|start| now >= start.saturating_add(period_ms));
    if new_cycle {
        let dt_s = match state.cycle_start {
            Some(start) => ((now - start) as f64 / 1000.0).max(1e-3),
            None => gains.period.as_secs_f64(),
        };
        let sign = match gains.direction {
            Direction::Raise => 1.0,
            Direction::Lower => -1.0,
        };
        let error = sign * (gains.setpoint - pv);
        let slope = state.last_pv.map_or(0.0, |last| sign * (pv - last) / dt_s);
        let proportional = gains.kp * error;
        let derivative = -gains.kd * slope;
        let integral = (state.integral + gains.ki * error * dt_s).clamp(0.0, 1.0);
        let unclamped = proportional + integral + derivative;
        let winding_up = (unclamped > 1.0 && error > 0.0) || (unclamped < 0.0 && error < 0.0);
        if !winding_up {
            state.integral = integral;
        }
        state.duty = (proportional + state.integral + derivative).clamp(0.0, 1.0);
        if !state.duty.is_finite() {
            state.duty = 0.0;
        }
        state.last_pv = Some(pv);
        state.cycle_start = Some(now);
    }
    let start = state.cycle_start.unwrap_or(now);
    let on_until = start + (state.duty * period_ms as f64).round() as i64;
    let cycle_end = start.saturating_add(period_ms);
    let on = now < on_until;
    Demand {
        on,
        next: Some(if on { on_until } else { cycle_end }),
    }
}

/// On from `on_at` (local wall-clock time of day in `zone`) for `on_for` (0 < on_for < 24 h).
/// Each day's start is found in the zone itself, so it is exact across DST changes; a start
/// in a skipped hour falls at the first instant after the gap.
pub(crate) fn photoperiod(
    on_at: Duration,
    on_for: Duration,
    now: UnixMillis,
    zone: &jiff::tz::TimeZone,
) -> Demand {
    let start_on = |date: jiff::civil::Date| -> Option<UnixMillis> {
        let at = jiff::SignedDuration::try_from(on_at).ok()?;
        let civil = date
            .to_datetime(jiff::civil::Time::midnight())
            .checked_add(at)
            .ok()?;
        let zoned = civil.to_zoned(zone.clone()).ok()?;
        Some(zoned.timestamp().as_millisecond())
    };
    let starts = jiff::Timestamp::from_millisecond(now).ok().and_then(|ts| {
        let today = ts.to_zoned(zone.clone()).date();
        let days = [today.yesterday().ok()?, today, today.tomorrow().ok()?];
        let starts = days.map(start_on);
        Some(starts.into_iter().flatten().collect::<Vec<_>>())
    });
    let starts = starts.unwrap_or_default();
    let last = starts.iter().copied().filter(|&s| s <= now).max();
    let next = starts.iter().copied().filter(|&s| s > now).min();
    match last.map(|start| start.saturating_add(ms(on_for))) {
        Some(end) if now < end => Demand {
            on: true,
            next: Some(end),
        },
        _ => Demand { on: false, next },
    }
}

/// On for `on_for` at the start of every `every`, counted from the unix epoch.
pub(crate) fn interval(every: Duration, on_for: Duration, now: UnixMillis) -> Demand {
    let every = ms(every).max(1);
    cycle(now.rem_euclid(every), ms(on_for), every, now)
}

/// On during the first `on_for` of a cycle of `length`, `phase` ms into it.
fn cycle(phase: i64, on_for: i64, length: i64, now: UnixMillis) -> Demand {
    let on = phase < on_for;
    let next = if on {
        now + (on_for - phase)
    } else {
        now + (length - phase)
    };
    Demand {
        on,
        next: Some(next),
    }
}

/// The loop's input metric and how stale it may be, for loops that read one.
pub(crate) fn input(kind: &LoopKind) -> Option<(Metric, Duration)> {
    match kind {
        LoopKind::Hysteresis {
            metric,
            stale_after,
            ..
        }
        | LoopKind::Pid {
            metric,
            stale_after,
            ..
        } => Some((*metric, *stale_after)),
        LoopKind::Photoperiod { .. } | LoopKind::Interval { .. } => None,
    }
}

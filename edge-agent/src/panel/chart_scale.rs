//! The chart's geometry: round tick values, time ticks in the farm's zone, the mapping from
//! values and times to `viewBox` coordinates, gap detection, and compact path data.

use std::fmt::Write as _;

use farm_protocol::UnixMillis;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{BOTTOM, DAY_MS, HOUR_MS, LEFT, RIGHT, TOP};
use crate::outbox::Bucket;

/// A coordinate with at most one decimal: `12`, `12.5`, `-0.3`.
pub(super) fn num(v: f64) -> String {
    tenths(round_tenths(v))
}

pub(super) fn round_tenths(v: f64) -> i64 {
    (v * 10.0).round() as i64
}

pub(super) fn tenths(t: i64) -> String {
    let sign = if t < 0 { "-" } else { "" };
    let a = t.unsigned_abs();
    if a % 10 == 0 {
        format!("{sign}{}", a / 10)
    } else {
        format!("{sign}{}.{}", a / 10, a % 10)
    }
}

/// SVG path data: absolute moves, then relative lines in exact tenths (no rounding drift).
#[derive(Default)]
pub(super) struct Path {
    pub(super) d: String,
    at: (i64, i64),
    drawing: bool,
}

impl Path {
    pub(super) fn move_to(&mut self, x: f64, y: f64) {
        self.at = (round_tenths(x), round_tenths(y));
        let _ = write!(self.d, "M{} {}", tenths(self.at.0), tenths(self.at.1));
        self.drawing = false;
    }

    pub(super) fn line_to(&mut self, x: f64, y: f64) {
        let to = (round_tenths(x), round_tenths(y));
        let (dx, dy) = (to.0 - self.at.0, to.1 - self.at.1);
        self.d.push(if self.drawing { ' ' } else { 'l' });
        self.d.push_str(&tenths(dx));
        if dy >= 0 {
            self.d.push(' ');
        }
        self.d.push_str(&tenths(dy));
        self.at = to;
        self.drawing = true;
    }

    pub(super) fn close(&mut self) {
        self.d.push('z');
        self.drawing = false;
    }
}

/// Runs of buckets drawn as one line: a new run starts where the step to the next bucket is
/// more than 1.5 times the usual (lower median) step, i.e. where slots are missing, and
/// wherever it is longer than a 24th of the range. A sensor read less often than the slots
/// are wide gives a regular step of several slots, not gaps.
pub(super) fn segments<'b>(buckets: &[&'b Bucket], span: i64) -> Vec<Vec<&'b Bucket>> {
    let mut steps: Vec<i64> = buckets
        .windows(2)
        .map(|w| w[1].start - w[0].start)
        .collect();
    steps.sort_unstable();
    let usual = steps
        .get(steps.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0);
    let longest = (usual as f64 * 1.5).min(span as f64 / 24.0);
    let mut out: Vec<Vec<&Bucket>> = Vec::new();
    let mut previous: Option<i64> = None;
    for b in buckets {
        match (out.last_mut(), previous) {
            (Some(run), Some(p)) if (b.start - p) as f64 <= longest => run.push(b),
            _ => out.push(vec![b]),
        }
        previous = Some(b.start);
    }
    out
}

/// Round values for the y axis, and the decimals they need.
#[derive(Debug, PartialEq)]
pub(super) struct Ticks {
    pub(super) values: Vec<f64>,
    pub(super) decimals: usize,
}

/// 3–5 multiples of a round step (1, 2 or 5 times a power of ten) within `[lo, hi]`: the
/// smallest step giving at most 5; when that gives fewer than 3 inside, the multiples just
/// outside are added (the next smaller step gave more than 5, so this gives 3 or 4). A flat
/// range is widened around its value first.
pub(super) fn nice_ticks(lo: f64, hi: f64) -> Ticks {
    let (lo, hi) = if hi - lo > 1e-9 * lo.abs().max(hi.abs()).max(1.0) {
        (lo, hi)
    } else {
        let magnitude = lo.abs().log10().floor();
        let unit = if magnitude.is_finite() {
            10f64.powf(magnitude - 1.0)
        } else {
            1.0
        };
        (lo - unit, hi + unit)
    };
    let start = (((hi - lo) / 5.0).log10().floor() as i32).clamp(-300, 300) - 1;
    for exp in start..start + 4 {
        for mantissa in [1.0, 2.0, 5.0] {
            let step = mantissa * 10f64.powi(exp);
            let (mut first, mut last) = ((lo / step).ceil(), (hi / step).floor());
            if last - first + 1.0 > 5.0 {
                continue;
            }
            if last - first + 1.0 < 3.0 {
                (first, last) = ((lo / step).floor(), (hi / step).ceil());
            }
            let decimals = usize::try_from(-exp).unwrap_or(0);
            // i × mantissa / 10^-exp: 0.3, not 0.30000000000000004.
            let values = (first as i64..=last as i64)
                .map(|i| match exp {
                    ..0 => i as f64 * mantissa / 10f64.powi(-exp),
                    _ => i as f64 * step,
                })
                .collect();
            return Ticks { values, decimals };
        }
    }
    Ticks {
        values: vec![lo, hi],
        decimals: 2,
    }
}

/// The x axis: where grid lines go and where labels go (times, unix ms).
#[derive(Debug, Default, PartialEq)]
pub(super) struct TimeAxis {
    pub(super) lines: Vec<UnixMillis>,
    pub(super) labels: Vec<(UnixMillis, String)>,
}

/// Up to two days: lines and labels at whole local hours (`06:00`), at most 6. Longer: lines
/// at local midnights, each day labelled in its middle (`Tue`, or `Tue 14` for up to 5 days);
/// beyond 7 days, lines every few days labelled with the date (`14 Nov`).
pub(super) fn time_axis(from: UnixMillis, to: UnixMillis, tz: &TimeZone) -> TimeAxis {
    let span = to.saturating_sub(from).max(1);
    let Ok(first) = Timestamp::from_millisecond(from) else {
        return TimeAxis::default();
    };
    let Ok(start) = first.to_zoned(tz.clone()).start_of_day() else {
        return TimeAxis::default();
    };
    if span <= 2 * DAY_MS {
        hours(start, from, to)
    } else {
        days(start, from, to)
    }
}

fn hours(mut at: jiff::Zoned, from: UnixMillis, to: UnixMillis) -> TimeAxis {
    let span = to.saturating_sub(from).max(1);
    let every = [1, 2, 3, 6, 12, 24]
        .into_iter()
        .find(|h| span / (h * HOUR_MS) <= 6)
        .unwrap_or(24);
    let mut axis = TimeAxis::default();
    // From the midnight before `from`: at most 3 days of hours.
    for _ in 0..80 {
        let ts = at.timestamp().as_millisecond();
        if ts > to {
            break;
        }
        if ts >= from && at.minute() == 0 && i64::from(at.hour()) % every == 0 {
            axis.lines.push(ts);
            axis.labels.push((ts, at.strftime("%H:%M").to_string()));
        }
        at = match at.checked_add(jiff::SignedDuration::from_hours(1)) {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    axis
}

fn days(mut at: jiff::Zoned, from: UnixMillis, to: UnixMillis) -> TimeAxis {
    let count = to.saturating_sub(from) / DAY_MS;
    let every = ((count + 6) / 7).max(1);
    let format = if count > 5 { "%a" } else { "%a %-d" };
    let mut axis = TimeAxis::default();
    // Stops after 400 days: a chart of more than a year gets no further marks.
    for day in 0..400 {
        let Ok(next) = at.tomorrow().and_then(|t| t.start_of_day()) else {
            break;
        };
        let (start, end) = (
            at.timestamp().as_millisecond(),
            next.timestamp().as_millisecond(),
        );
        if start > to {
            break;
        }
        if start >= from && day % every == 0 {
            axis.lines.push(start);
            if every > 1 {
                axis.labels.push((start, at.strftime("%-d %b").to_string()));
            }
        }
        let (shown_from, shown_to) = (start.max(from), end.min(to));
        if every == 1 && shown_to - shown_from >= DAY_MS / 2 {
            let middle = shown_from + (shown_to - shown_from) / 2;
            axis.labels.push((middle, at.strftime(format).to_string()));
        }
        at = next;
    }
    axis
}

/// From values and times to `viewBox` coordinates.
pub(super) struct Scale {
    from: UnixMillis,
    span: f64,
    low: f64,
    high: f64,
}

impl Scale {
    /// The y range covers the data, the band and the ticks, with a little room around.
    pub(super) fn new(from: UnixMillis, to: UnixMillis, ticks: &Ticks, lo: f64, hi: f64) -> Scale {
        let first = ticks.values.first().copied().unwrap_or(lo);
        let last = ticks.values.last().copied().unwrap_or(hi);
        let (low, high) = (lo.min(first), hi.max(last));
        let pad = (high - low) * 0.04;
        Scale {
            from,
            span: to.saturating_sub(from).max(1) as f64,
            low: low - pad,
            high: high + pad,
        }
    }

    pub(super) fn x(&self, ts: UnixMillis) -> f64 {
        let share = (ts.saturating_sub(self.from) as f64 / self.span).clamp(0.0, 1.0);
        LEFT + share * (RIGHT - LEFT)
    }

    pub(super) fn y(&self, v: f64) -> f64 {
        let share = if self.high > self.low {
            (v - self.low) / (self.high - self.low)
        } else {
            0.5
        };
        BOTTOM - share.clamp(0.0, 1.0) * (BOTTOM - TOP)
    }
}

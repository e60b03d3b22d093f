//! One metric's history as an inline SVG chart, rendered on the server: no script, no
//! external resource and no `style` attribute (the panel's CSP is `default-src 'self'`).
//! Pure: the buckets, the range and the time zone come in as arguments.
//!
//! The chart: the loop's target band (shaded), the min–max envelope of every slot (a light
//! area), the slot means (a line, broken where data is missing), 3–5 round values on the y
//! axis with the unit, and local times (a day or two) or days (longer) on the x axis. The
//! drawing has a `viewBox` and `width="100%"`, so it scales to the page (360 px phones
//! included) with its aspect ratio. Colours are presentation attributes on elements with
//! `chart-*` classes, so the stylesheet can override them. Coordinates have one decimal and
//! paths use relative steps: a day of 5-minute slots is about 8 KB.

use std::fmt::Write as _;

use farm_protocol::UnixMillis;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::html::escape;
use crate::outbox::Bucket;
use scale::{nice_ticks, num, segments, time_axis, Path, Scale, Ticks, TimeAxis};

#[path = "chart_scale.rs"]
mod scale;

/// The drawing's size in `viewBox` units: about a phone's width in CSS px, so the 12-unit
/// labels read as about 10 px on a 360 px phone (the chart is 100 % of the page's width).
const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 180.0;
/// The plot area inside it: left of it the y labels, above it the unit, below it the times.
const LEFT: f64 = 40.0;
const RIGHT: f64 = 354.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 156.0;
/// Half the width of the widest time label (`Wed 30`), to keep labels inside the drawing.
const HALF_LABEL: f64 = 22.0;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// What to draw.
pub(super) struct Chart<'a> {
    /// Unique on the page; prefixes the ids of the title and description.
    pub id: &'a str,
    /// The chart's name (`Humidity, last 24 hours`).
    pub label: &'a str,
    /// The metric's unit (`%RH`).
    pub unit: &'a str,
    /// The start of the range, unix ms.
    pub from: UnixMillis,
    /// The end of the range (exclusive), unix ms.
    pub to: UnixMillis,
    /// The non-empty slots, by start (as `History::room_series` gives them).
    pub buckets: &'a [Bucket],
    /// The loops' target band `(low, high)`, if any loop regulates the metric.
    pub target: Option<(f64, f64)>,
    /// The farm's time zone, for the time labels.
    pub tz: &'a TimeZone,
}

/// The chart as an `<svg>` element, or a short paragraph when there are no buckets.
pub(super) fn render(chart: &Chart<'_>) -> String {
    let buckets: Vec<&Bucket> = chart
        .buckets
        .iter()
        .filter(|b| b.min.is_finite() && b.mean.is_finite() && b.max.is_finite())
        .collect();
    if buckets.is_empty() {
        return "<p class=\"chart-empty\">No readings in this period.</p>".to_owned();
    }
    let mut lo = buckets.iter().map(|b| b.min).fold(f64::INFINITY, f64::min);
    let mut hi = buckets
        .iter()
        .map(|b| b.max)
        .fold(f64::NEG_INFINITY, f64::max);
    let target = chart
        .target
        .filter(|(low, high)| low.is_finite() && high.is_finite() && low <= high);
    if let Some((low, high)) = target {
        (lo, hi) = (lo.min(low), hi.max(high));
    }
    let ticks = nice_ticks(lo, hi);
    let scale = Scale::new(chart.from, chart.to, &ticks, lo, hi);
    let id = escape(chart.id);
    let mut out = String::with_capacity(1024 + buckets.len() * 24);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         width=\"100%\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(chart.label),
        escape(&summary(chart, &buckets, target)),
    );
    let times = time_axis(chart.from, chart.to, chart.tz);
    axes(&mut out, &scale, &ticks, &times, chart.unit);
    let (envelope, mean) = lines(&buckets, &scale, chart.to.saturating_sub(chart.from));
    let _ = write!(
        out,
        "<path class=\"chart-range\" fill=\"#a8cdb6\" stroke=\"#a8cdb6\" stroke-linejoin=\"round\" \
         d=\"{}\"/>",
        envelope.d
    );
    // Over the envelope, translucent: where the data is inside the target shows.
    if let Some(target) = target {
        band(&mut out, &scale, target);
    }
    let _ = write!(
        out,
        "<path class=\"chart-mean\" fill=\"none\" stroke=\"#1f5f3a\" stroke-width=\"1.5\" \
         stroke-linejoin=\"round\" stroke-linecap=\"round\" d=\"{}\"/></svg>",
        mean.d
    );
    out
}

/// The min–max envelope (one closed area per run) and the mean line (one subpath per run).
fn lines(buckets: &[&Bucket], scale: &Scale, span: i64) -> (Path, Path) {
    // A bucket is drawn in the middle of its slot: the smallest step between buckets.
    let slot = buckets
        .windows(2)
        .map(|w| w[1].start - w[0].start)
        .min()
        .unwrap_or(0);
    let segments = segments(buckets, span);
    let mut envelope = Path::default();
    let mut mean = Path::default();
    for segment in &segments {
        let xs: Vec<f64> = segment
            .iter()
            .map(|b| scale.x(b.start + slot / 2))
            .collect();
        for (i, (b, x)) in segment.iter().zip(&xs).enumerate() {
            if i == 0 {
                mean.move_to(*x, scale.y(b.mean));
                envelope.move_to(*x, scale.y(b.max));
            } else {
                mean.line_to(*x, scale.y(b.mean));
                envelope.line_to(*x, scale.y(b.max));
            }
        }
        if let ([b], [x]) = (segment.as_slice(), xs.as_slice()) {
            // A zero-length line: a dot, with round caps.
            mean.line_to(*x, scale.y(b.mean));
        }
        for (b, x) in segment.iter().zip(&xs).rev() {
            envelope.line_to(*x, scale.y(b.min));
        }
        envelope.close();
    }
    (envelope, mean)
}

/// The target band `(low, high)` across the plot.
fn band(out: &mut String, scale: &Scale, (low, high): (f64, f64)) {
    let (top, bottom) = (scale.y(high), scale.y(low));
    let _ = write!(
        out,
        "<rect class=\"chart-band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" \
         fill=\"#2e7d32\" fill-opacity=\".12\"/>",
        num(LEFT),
        num(top),
        num(RIGHT - LEFT),
        num((bottom - top).max(0.5)),
    );
}

/// The grid, the y labels with the unit above them, and the time labels.
fn axes(out: &mut String, scale: &Scale, ticks: &Ticks, times: &TimeAxis, unit: &str) {
    let mut grid = String::new();
    for v in &ticks.values {
        let _ = write!(grid, "M{} {}H{}", num(LEFT), num(scale.y(*v)), num(RIGHT));
    }
    for t in &times.lines {
        let x = scale.x(*t);
        let _ = write!(grid, "M{} {}V{}", num(x), num(TOP), num(BOTTOM + 4.0));
    }
    let _ = write!(
        out,
        "<path class=\"chart-grid\" fill=\"none\" stroke=\"#dde3df\" d=\"{grid}\"/>\
         <g class=\"chart-labels\" font-size=\"12\" fill=\"#59615c\">\
         <text x=\"2\" y=\"{}\">{}</text><g text-anchor=\"end\">",
        num(TOP - 8.0),
        escape(unit)
    );
    for v in &ticks.values {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{:.*}</text>",
            num(LEFT - 4.0),
            num(scale.y(*v) + 4.0),
            ticks.decimals,
            v
        );
    }
    out.push_str("</g><g text-anchor=\"middle\">");
    for (t, label) in &times.labels {
        let x = scale.x(*t);
        if x + HALF_LABEL <= WIDTH {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                num(x),
                num(HEIGHT - 6.0),
                escape(label)
            );
        }
    }
    out.push_str("</g></g>");
}

/// `Min 83.2 %RH, mean 87.5 %RH, max 91.7 %RH; last 88.0 %RH (14:35). Target 85–90 %RH.`
fn summary(chart: &Chart<'_>, buckets: &[&Bucket], target: Option<(f64, f64)>) -> String {
    let min = buckets.iter().map(|b| b.min).fold(f64::INFINITY, f64::min);
    let max = buckets
        .iter()
        .map(|b| b.max)
        .fold(f64::NEG_INFINITY, f64::max);
    let count: f64 = buckets.iter().map(|b| f64::from(b.count)).sum();
    let total: f64 = buckets.iter().map(|b| b.mean * f64::from(b.count)).sum();
    let mean = if count > 0.0 { total / count } else { f64::NAN };
    let unit = chart.unit;
    let mut text = format!(
        "Min {} {unit}, mean {} {unit}, max {} {unit}",
        value(min),
        value(mean),
        value(max)
    );
    if let Some(last) = buckets.last() {
        let format = if chart.to - chart.from > 2 * DAY_MS {
            "%a %H:%M"
        } else {
            "%H:%M"
        };
        let _ = write!(
            text,
            "; last {} {unit} ({})",
            value(last.mean),
            local(last.start, chart.tz, format)
        );
    }
    text.push('.');
    if let Some((low, high)) = target {
        let _ = write!(text, " Target {}–{} {unit}.", value(low), value(high));
    }
    text
}

/// A reading as text, with decimals by magnitude: `850`, `87.5`, `0.85`.
fn value(v: f64) -> String {
    let decimals = match v.abs() {
        a if a >= 100.0 => 0,
        a if a >= 1.0 => 1,
        _ => 2,
    };
    format!("{v:.decimals$}")
}

/// The local time of `ts` in `tz` with a `strftime` format.
fn local(ts: UnixMillis, tz: &TimeZone, format: &str) -> String {
    let at = Timestamp::from_millisecond(ts).unwrap_or(Timestamp::UNIX_EPOCH);
    at.to_zoned(tz.clone()).strftime(format).to_string()
}

#[cfg(test)]
#[path = "chart_tests.rs"]
mod tests;

//! A loop's settings form on the room page, and reading it back: one field per setting its
//! kind has (`band`; `kp`, `ki`, `kd`, `period`; `on_at`, `on_for`; `every`; `stale_after`),
//! written as in the config file (`"90s"`, `"12h"`, `"06:30"`), prefilled with the loop's
//! current values. The controller checks the values with the config file's rules and logs
//! only what changed.

use std::fmt::Write as _;
use std::time::Duration;

use farm_protocol::Metric;

use super::html::escape;
use super::overview_page::path_segment;
use super::room_controls::{number_text, Controls};
use super::{format, state::FormFields};
use crate::config::{parse_duration, parse_time_of_day};
use crate::control::{LoopSettings, LoopView};

/// How a setting is written in the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Duration,
    TimeOfDay,
}

/// Every setting: its config key, how it is written, and its label.
const SETTINGS: [(&str, Kind, &str); 9] = [
    ("band", Kind::Number, "Dead band"),
    ("kp", Kind::Number, "Proportional gain (kp)"),
    ("ki", Kind::Number, "Integral gain (ki, per second)"),
    ("kd", Kind::Number, "Derivative gain (kd, seconds)"),
    ("period", Kind::Duration, "Duty-cycle period"),
    ("on_at", Kind::TimeOfDay, "On at (HH:MM)"),
    ("on_for", Kind::Duration, "On for"),
    ("every", Kind::Duration, "Every"),
    ("stale_after", Kind::Duration, "Input stale after"),
];

/// The settings form of loop `l` (article id `id`), if its kind has settings.
pub(super) fn form(controls: &Controls<'_>, out: &mut String, id: &str, l: &LoopView) {
    if l.settings.is_empty() {
        return;
    }
    let form = format!("{id}-settings");
    let action = format!("loops/{}/settings", path_segment(&l.name));
    let unit = l
        .metric
        .and_then(|m| m.parse::<Metric>().ok())
        .map(Metric::unit);
    let _ = writeln!(
        out,
        "<details{open}>\n<summary>Loop settings</summary>",
        open = if controls.refused(&form) { " open" } else { "" }
    );
    controls.open_form(out, &form, &action);
    out.push_str("<fieldset>\n");
    for (key, kind, label) in SETTINGS {
        let Some(&value) = l.settings.get(key) else {
            continue;
        };
        let current = written(kind, value);
        let typed = controls.kept(&form, key).unwrap_or(&current).to_owned();
        let label = match (key, unit) {
            ("band", Some(unit)) => format!("{label} ({unit})"),
            _ => label.to_owned(),
        };
        let mode = if kind == Kind::Number {
            " inputmode=\"decimal\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<div>\n<label for=\"{form}-{key}\">{label}</label>\n\
             <input id=\"{form}-{key}\" name=\"{key}\" type=\"text\"{mode} autocomplete=\"off\" \
             required value=\"{typed}\">\n</div>\n",
            label = escape(&label),
            typed = escape(&typed),
        );
    }
    out.push_str(
        "</fieldset>\n<small>Durations as in the config file: 90s, 15m, 12h.</small>\n\
         <button type=\"submit\">Save settings</button>\n</form>\n</details>\n",
    );
}

/// A setting's current value as the form shows it.
fn written(kind: Kind, value: f64) -> String {
    let duration = Duration::try_from_secs_f64(value).unwrap_or_default();
    match kind {
        Kind::Number => number_text(value),
        Kind::Duration => humantime::format_duration(duration).to_string(),
        Kind::TimeOfDay => {
            let minutes = duration.as_secs() / 60;
            format!("{:02}:{:02}", minutes / 60, minutes % 60)
        }
    }
}

/// The settings in a posted form: every known field that is present, read as the config
/// file reads it. The reason names the field when one cannot be read.
pub(super) fn parse(fields: &FormFields) -> Result<LoopSettings, String> {
    let mut settings = LoopSettings::default();
    for (key, kind, label) in SETTINGS {
        let Some(typed) = fields.get(key) else {
            continue;
        };
        let typed = typed.trim();
        let seconds = match kind {
            Kind::Number => format::decimal(typed)
                .ok_or_else(|| format!("{label} must be a number, got “{typed}”")),
            Kind::Duration => parse_duration(typed)
                .map(|d| d.as_secs_f64())
                .map_err(|e| format!("{label}: {e}")),
            Kind::TimeOfDay => parse_time_of_day(typed)
                .map(|d| d.as_secs_f64())
                .map_err(|e| format!("{label}: {e}")),
        }?;
        settings.set(key, seconds)?;
    }
    if settings.is_empty() {
        return Err("the form had no settings to change".into());
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_values_are_written_as_in_the_config_file() {
        assert_eq!(written(Kind::Number, 4.0), "4");
        assert_eq!(written(Kind::Duration, 90.0), "1m 30s");
        assert_eq!(written(Kind::Duration, 43_200.0), "12h");
        assert_eq!(
            written(Kind::TimeOfDay, 6.0 * 3600.0 + 30.0 * 60.0),
            "06:30"
        );
    }

    #[test]
    fn a_posted_form_is_read_as_the_config_file_reads_it() {
        let fields =
            FormFields::parse(b"csrf=x&band=3%2C5&stale_after=1m+30s&on_at=6%3A05&every=15m");
        let settings = parse(&fields).unwrap();
        assert_eq!(settings.band, Some(3.5));
        assert_eq!(settings.stale_after, Some(Duration::from_secs(90)));
        assert_eq!(settings.on_at, Some(Duration::from_secs(6 * 3600 + 5 * 60)));
        assert_eq!(settings.every, Some(Duration::from_secs(900)));
        assert_eq!(settings.kp, None);
    }

    #[test]
    fn each_unreadable_field_is_named() {
        for (form, needle) in [
            (&b"band=wide"[..], "Dead band must be a number"),
            (b"stale_after=soon", "Input stale after:"),
            (b"on_at=25%3A00", "On at (HH:MM):"),
            (b"csrf=x", "no settings"),
        ] {
            let error = parse(&FormFields::parse(form)).unwrap_err();
            assert!(error.contains(needle), "{error}");
        }
    }
}

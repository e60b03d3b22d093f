//! The room page's forms: each loop's setpoint and settings, and each actuator's manual
//! override (hold on or off for a chosen time, or end the hold). Every form posts to
//! [`super::room_forms`] with the session's CSRF token; a refused change comes back as a
//! [`Problem`] and is shown at its form, with what was typed kept.

use std::fmt::Write as _;

use farm_protocol::{Metric, SwitchState, UnixMillis};

use super::html::{escape, select};
use super::overview_page::path_segment;
use super::{format, CSRF_FIELD};
use crate::control::{ActuatorView, ControlView, LoopView};

/// The hold times offered for a manual override (at most the controller's 7-day limit).
pub(super) const HOLD_TIMES: [(&str, &str); 9] = [
    ("15m", "15 minutes"),
    ("30m", "30 minutes"),
    ("1h", "1 hour"),
    ("2h", "2 hours"),
    ("4h", "4 hours"),
    ("8h", "8 hours"),
    ("24h", "24 hours"),
    ("3d", "3 days"),
    ("7d", "7 days"),
];

/// A change that was refused: which form (its id), why, and the fields as typed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Problem {
    pub form: String,
    pub message: String,
    pub entered: Vec<(String, String)>,
}

impl Problem {
    fn entered(&self, field: &str) -> Option<&str> {
        self.entered
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| value.as_str())
    }
}

/// What the forms are drawn from.
pub(super) struct Controls<'a> {
    pub room: &'a str,
    pub view: &'a ControlView,
    pub csrf: &'a str,
    pub tz: &'a jiff::tz::TimeZone,
    pub now: UnixMillis,
    pub problem: Option<&'a Problem>,
}

impl Controls<'_> {
    /// The loops section and the overrides section.
    pub(super) fn render(&self, out: &mut String) {
        let loops: Vec<_> = self
            .view
            .loops
            .iter()
            .filter(|l| l.room == self.room)
            .collect();
        let actuators: Vec<_> = (self.view.actuators.iter())
            .filter(|a| a.room == self.room)
            .collect();
        out.push_str(
            "<section aria-labelledby=\"loops-title\">\n\
             <h2 id=\"loops-title\">Control loops</h2>\n",
        );
        if loops.is_empty() {
            out.push_str("<p>No control loop acts on this room.</p>\n");
        }
        for l in loops {
            self.control_loop(out, l);
        }
        out.push_str(
            "</section>\n<section aria-labelledby=\"overrides-title\">\n\
             <h2 id=\"overrides-title\">Manual override</h2>\n",
        );
        if actuators.is_empty() {
            out.push_str("<p>This room has no actuators.</p>\n");
        } else {
            out.push_str(
                "<p class=\"hint\">An override holds an actuator on or off whatever its \
                 loops say, until it expires or is ended. Minimum on and off times and \
                 interlocks still apply.</p>\n",
            );
        }
        for a in actuators {
            self.actuator(out, a);
        }
        out.push_str("</section>\n");
    }

    fn control_loop(&self, out: &mut String, l: &LoopView) {
        let id = format!("loop-{}", path_segment(&l.name));
        let metric = l.metric.and_then(|m| m.parse::<Metric>().ok());
        let input = match (&l.fault, metric, l.value) {
            (Some(fault), ..) => format!("input fault: {fault}"),
            (None, Some(metric), Some(value)) => {
                format!("input {}", value_with_unit(metric, value))
            }
            _ => String::new(),
        };
        let _ = write!(
            out,
            "<article class=\"loop\" id=\"{id}\" aria-labelledby=\"{id}-title\">\n\
             <h3 id=\"{id}-title\">{name}</h3>\n\
             <p class=\"meta\">{kind} loop driving {actuator}{sep}{input}</p>\n",
            name = escape(&l.name),
            kind = l.kind,
            actuator = escape(&l.actuator),
            sep = if input.is_empty() { "" } else { " · " },
            input = escape(&input),
        );
        if let (Some(setpoint), Some(metric)) = (l.setpoint, metric) {
            let form = format!("{id}-setpoint");
            let current = number_text(setpoint);
            let value = self.kept(&form, "setpoint").unwrap_or(&current).to_owned();
            let (low, high) = metric.physical_range();
            self.open_form(
                out,
                &form,
                &format!("loops/{}/setpoint", path_segment(&l.name)),
            );
            let _ = write!(
                out,
                "<label for=\"{form}-value\">Setpoint ({unit})</label>\n\
                 <input id=\"{form}-value\" name=\"setpoint\" type=\"text\" inputmode=\"decimal\" \
                 autocomplete=\"off\" required value=\"{value}\" aria-describedby=\"{form}-hint\">\n\
                 <small id=\"{form}-hint\">Now {now}; {low} to {high} {unit}.</small>\n\
                 <button type=\"submit\">Set</button>\n</form>\n",
                unit = escape(metric.unit()),
                value = escape(&value),
                now = escape(&value_with_unit(metric, setpoint)),
                low = number_text(low),
                high = number_text(high),
            );
        }
        super::room_settings::form(self, out, &id, l);
        out.push_str("</article>\n");
    }

    fn actuator(&self, out: &mut String, a: &ActuatorView) {
        let id = format!("actuator-{}", path_segment(&a.name));
        let action = format!("actuators/{}/override", path_segment(&a.name));
        let held = match a.manual {
            Some(o) => {
                let (until, datetime) = format::local_time(o.until, self.tz);
                let left = format::duration(std::time::Duration::from_millis(
                    u64::try_from(o.until.saturating_sub(self.now)).unwrap_or(0),
                ));
                format!(
                    "Held <strong>{}</strong> until <time datetime=\"{datetime}\">{until}</time> \
                     ({left} left).",
                    switch_text(o.state)
                )
            }
            None => "No override: its loops decide.".to_owned(),
        };
        let _ = write!(
            out,
            "<article class=\"actuator\" id=\"{id}\" aria-labelledby=\"{id}-title\">\n\
             <h3 id=\"{id}-title\">{name}</h3>\n\
             <p class=\"meta\" data-field=\"held\">{held} Safe state {safe}.</p>\n",
            name = escape(&a.name),
            safe = switch_text(a.safe_state),
        );
        let form = format!("{id}-hold");
        // Offered first: the state it is not in now.
        let other = match a.state {
            SwitchState::On => "off",
            SwitchState::Off => "on",
        };
        let state = self.kept(&form, "state").unwrap_or(other).to_owned();
        let hold = self.kept(&form, "for").unwrap_or("1h").to_owned();
        self.open_form(out, &form, &action);
        let _ = writeln!(out, "<label for=\"{form}-state\">Hold</label>");
        let states = ["on", "off"].map(|s| (s.to_owned(), s.to_owned()));
        select(
            out,
            &format!("{form}-state"),
            "state",
            states.into_iter(),
            &state,
        );
        let _ = writeln!(out, "<label for=\"{form}-for\">For</label>");
        let times = HOLD_TIMES.map(|(v, l)| (v.to_owned(), l.to_owned()));
        select(out, &format!("{form}-for"), "for", times.into_iter(), &hold);
        out.push_str("<button type=\"submit\">Override</button>\n</form>\n");
        if a.manual.is_some() {
            let form = format!("{id}-end");
            self.open_form(out, &form, &format!("{action}/end"));
            out.push_str("<button type=\"submit\">End override</button>\n</form>\n");
        }
        out.push_str("</article>\n");
    }

    /// A form posting to `/rooms/<room>/<action>`, with the token and, if it is the one that
    /// was refused, the reason.
    pub(super) fn open_form(&self, out: &mut String, form: &str, action: &str) {
        let problem = self.problem.filter(|p| p.form == form);
        if let Some(problem) = problem {
            let _ = writeln!(
                out,
                "<p class=\"error\" role=\"alert\" id=\"{form}-error\">{}</p>",
                escape(&problem.message)
            );
        }
        let described = if problem.is_some() {
            format!(" aria-describedby=\"{form}-error\"")
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<form class=\"inline\" id=\"{form}\" method=\"post\" \
             action=\"/rooms/{room}/{action}\"{described}>\n\
             <input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{csrf}\">\n",
            room = escape(&path_segment(self.room)),
            csrf = escape(self.csrf),
        );
    }

    /// Whether `form` is the one that was refused.
    pub(super) fn refused(&self, form: &str) -> bool {
        self.problem.is_some_and(|p| p.form == form)
    }

    /// What was typed into `field` of `form`, if that form was refused.
    pub(super) fn kept(&self, form: &str, field: &str) -> Option<&str> {
        self.problem
            .filter(|p| p.form == form)
            .and_then(|p| p.entered(field))
    }
}

const fn switch_text(state: SwitchState) -> &'static str {
    match state {
        SwitchState::On => "on",
        SwitchState::Off => "off",
    }
}

/// A number as typed back into a form: no trailing zeros (`91.5`, `90`).
pub(super) fn number_text(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

fn value_with_unit(metric: Metric, value: f64) -> String {
    super::overview::value_text(metric, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_back_without_trailing_zeros() {
        assert_eq!(number_text(91.5), "91.5");
        assert_eq!(number_text(90.0), "90");
        assert_eq!(number_text(0.125), "0.125");
        assert_eq!(number_text(-0.0001), "0");
        assert_eq!(number_text(1200.0), "1200");
    }
}

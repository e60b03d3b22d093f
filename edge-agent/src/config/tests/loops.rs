//! Bad `[[loops]]`: one test per kind of bad input, each naming the key and message the
//! operator gets, plus the promise that every problem is listed.

use super::control::actuator;
use super::{only_problem, parse_ok, problems};

/// Actuators `fan` (fresh_air_fan) and `lights`, then one loop named `l` with `body`.
fn with_loop(body: &str) -> String {
    format!(
        "{}{}[[loops]]\nname = \"l\"\n{body}",
        actuator("fan", "fresh_air_fan", ""),
        actuator("lights", "lights", "")
    )
}

/// A hysteresis loop on `fan` with `extra` keys (and no band unless given).
fn hysteresis(extra: &str) -> String {
    with_loop(&format!(
        "actuator = \"fan\"\nkind = \"hysteresis\"\nmetric = \"co2\"\n{extra}"
    ))
}

fn keys(text: &str) -> Vec<String> {
    problems(text).into_iter().map(|p| p.key).collect()
}

#[test]
fn unknown_loop_kind_names_the_known_kinds() {
    let message = only_problem(
        &with_loop("actuator = \"fan\"\nkind = \"pi\"\n"),
        "loops[0].kind",
    );
    assert_eq!(
        message,
        "unknown loop kind \"pi\"; known kinds: hysteresis, pid, photoperiod, interval"
    );
}

#[test]
fn each_kind_names_its_missing_keys() {
    let found = problems(&with_loop("actuator = \"fan\"\nkind = \"pid\"\n"));
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "loops[0].metric: required key is missing for kind \"pid\"",
            "loops[0].setpoint: required key is missing for kind \"pid\"",
            "loops[0].kp: required key is missing for kind \"pid\"",
        ]
    );
    assert_eq!(
        only_problem(&hysteresis("setpoint = 800\n"), "loops[0].band"),
        "required key is missing for kind \"hysteresis\""
    );
    let photoperiod = with_loop("actuator = \"lights\"\nkind = \"photoperiod\"\n");
    assert_eq!(keys(&photoperiod), ["loops[0].on_at", "loops[0].on_for"]);
    let interval = with_loop("actuator = \"lights\"\nkind = \"interval\"\n");
    assert_eq!(keys(&interval), ["loops[0].every", "loops[0].on_for"]);
    let nothing = with_loop("");
    assert_eq!(keys(&nothing), ["loops[0].actuator", "loops[0].kind"]);
}

#[test]
fn keys_of_another_kind_are_refused_each() {
    let text = with_loop(
        "actuator = \"lights\"\nkind = \"photoperiod\"\non_at = \"06:00\"\non_for = \"12h\"\n\
         setpoint = 20\nevery = \"1h\"\n",
    );
    let found = problems(&text);
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "loops[0].setpoint: not allowed here: it does not apply to kind \"photoperiod\"",
            "loops[0].every: not allowed here: it does not apply to kind \"photoperiod\"",
        ]
    );
    let message = only_problem(
        &hysteresis("setpoint = 800\nband = 100\nkp = 1.0\n"),
        "loops[0].kp",
    );
    assert_eq!(
        message,
        "not allowed here: it does not apply to kind \"hysteresis\""
    );
}

#[test]
fn setpoint_and_band_stay_inside_the_physical_range() {
    let message = only_problem(
        &hysteresis("setpoint = 50000\nband = 100\n"),
        "loops[0].setpoint",
    );
    assert_eq!(
        message,
        "must be within the physical range of co2, 0 to 40000 ppm, got 50000"
    );
    let message = only_problem(
        &hysteresis("setpoint = nan\nband = 100\n"),
        "loops[0].setpoint",
    );
    assert!(message.ends_with("got NaN"), "{message}");
    let message = only_problem(&hysteresis("setpoint = 100\nband = 300\n"), "loops[0].band");
    assert_eq!(
        message,
        "setpoint ± band/2 (-50 to 250) leaves the physical range of co2, 0 to 40000 ppm; \
         narrow the band or move the setpoint"
    );
    for band in ["0", "-5", "inf"] {
        let text = hysteresis(&format!("setpoint = 800\nband = {band}\n"));
        let message = only_problem(&text, "loops[0].band");
        assert!(message.starts_with("must be greater than 0"), "{message}");
    }
}

#[test]
fn unknown_actuator_metric_and_direction() {
    let message = only_problem(
        &hysteresis("setpoint = 800\nband = 100\n").replace("\"fan\"\nkind", "\"van\"\nkind"),
        "loops[0].actuator",
    );
    assert_eq!(
        message,
        "unknown actuator \"van\"; the [[actuators]] are: fan, lights"
    );
    let text = hysteresis("setpoint = 800\nband = 100\n").replace("\"co2\"", "\"co3\"");
    let message = only_problem(&text, "loops[0].metric");
    assert!(message.starts_with("unknown metric \"co3\""), "{message}");
    let message = only_problem(
        &hysteresis("setpoint = 800\nband = 100\ndirection = \"up\"\n"),
        "loops[0].direction",
    );
    assert_eq!(
        message,
        "unknown direction \"up\"; use \"raise\" or \"lower\""
    );
}

#[test]
fn a_loop_on_an_actuator_that_could_not_be_built_adds_no_problem() {
    let text = hysteresis("setpoint = 800\nband = 100\n").replacen("\"simulated\"", "\"relay\"", 1);
    assert_eq!(keys(&text), ["actuators[0].kind"]);
}

#[test]
fn duplicate_loop_names() {
    let text = format!(
        "{}\n[[loops]]\nname = \"l\"\nactuator = \"fan\"\nkind = \"hysteresis\"\n\
         metric = \"co2\"\nsetpoint = 900\nband = 100\n",
        hysteresis("setpoint = 800\nband = 100\n")
    );
    let message = only_problem(&text, "loops[1].name");
    assert_eq!(message, "duplicate loop name \"l\" (also loops[0])");
}

#[test]
fn pid_gains_are_finite_not_negative_and_not_all_zero() {
    let pid = |gains: &str| {
        with_loop(&format!(
            "actuator = \"fan\"\nkind = \"pid\"\nmetric = \"co2\"\nsetpoint = 800\n{gains}"
        ))
    };
    let message = only_problem(&pid("kp = -0.1\n"), "loops[0].kp");
    assert_eq!(message, "must be a finite number, 0 or more, got -0.1");
    let message = only_problem(&pid("kp = 0.1\nkd = inf\n"), "loops[0].kd");
    assert_eq!(message, "must be a finite number, 0 or more, got inf");
    let message = only_problem(&pid("kp = 0.0\nkd = 1.0\n"), "loops[0].kp");
    assert!(
        message.starts_with("kp or ki must be greater than 0"),
        "{message}"
    );
    let message = only_problem(&pid("kp = 1.0\nperiod = \"5s\"\n"), "loops[0].period");
    assert_eq!(message, "must be between 10s and 1h, got 5s");
    let message = only_problem(
        &pid("kp = 1.0\nstale_after = \"0s\"\n"),
        "loops[0].stale_after",
    );
    assert_eq!(message, "must be between 1s and 1day, got 0s");
}

#[test]
fn photoperiods_start_at_a_time_of_day_and_last_less_than_a_day() {
    let photoperiod = |on_at: &str, on_for: &str| {
        with_loop(&format!(
            "actuator = \"lights\"\nkind = \"photoperiod\"\non_at = \"{on_at}\"\n\
             on_for = \"{on_for}\"\n"
        ))
    };
    for on_at in ["25:00", "6am", "12:60", "06:5", ""] {
        let message = only_problem(&photoperiod(on_at, "12h"), "loops[0].on_at");
        assert_eq!(
            message,
            format!(
                "{on_at:?} is not a time of day; write 24-hour \"HH:MM\" from \"00:00\" to \
                 \"23:59\", e.g. \"06:30\""
            )
        );
    }
    parse_ok(&photoperiod("23:59", "23h 59m"));
    parse_ok(&photoperiod("6:00", "1s"));
    for on_for in ["24h", "0s"] {
        let message = only_problem(&photoperiod("06:00", on_for), "loops[0].on_for");
        assert!(
            message.starts_with("must be longer than 0s and shorter than 24h, got"),
            "{message}"
        );
    }
}

#[test]
fn intervals_are_1s_to_7d_and_on_for_fits_in_them() {
    let interval = |every: &str, on_for: &str| {
        with_loop(&format!(
            "actuator = \"lights\"\nkind = \"interval\"\nevery = \"{every}\"\n\
             on_for = \"{on_for}\"\n"
        ))
    };
    let message = only_problem(&interval("15m", "15m"), "loops[0].on_for");
    assert_eq!(
        message,
        "must be longer than 0s and shorter than every (15m), got 15m"
    );
    let message = only_problem(&interval("8d", "1h"), "loops[0].every");
    assert_eq!(message, "must be between 1s and 7days, got 8days");
    let message = only_problem(&interval("500ms", "100ms"), "loops[0].every");
    assert_eq!(message, "must be between 1s and 7days, got 500ms");
}

#[test]
fn every_problem_of_the_loops_and_their_control_is_listed() {
    let text = format!(
        "{}[control]\ntimezone = \"Mars/Base\"\ninterlocks = [[\"fan\"]]\n\
         [[loops]]\nname = \"a b\"\nactuator = \"fan\"\nkind = \"hysteresis\"\n\
         metric = \"humidity\"\nsetpoint = 95\nband = 20\non_for = \"1h\"\n\
         [[loops]]\nname = \"c\"\nactuator = \"lamp\"\nkind = \"photoperiod\"\non_at = \"6am\"\n\
         on_for = \"30h\"\n",
        actuator("fan", "fresh_air_fan", "max_on = \"10m\"\n")
    );
    let lines: Vec<String> = problems(&text).iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "actuators[0].max_on_period: required key is missing (max_on is set; the two go together)",
            "control.timezone: unknown time zone \"Mars/Base\"; use an IANA name such as \"Europe/Amsterdam\"",
            "control.interlocks[0]: must list at least two actuators (at most one of them may be on at a time)",
            "loops[0].name: \"a b\" contains ' '; use only A-Z, a-z, 0-9, '.', '_' and '-'",
            "loops[0].on_for: not allowed here: it does not apply to kind \"hysteresis\"",
            "loops[0].band: setpoint ± band/2 (85 to 105) leaves the physical range of humidity, 0 to 100 %RH; narrow the band or move the setpoint",
            "loops[1].actuator: unknown actuator \"lamp\"; the [[actuators]] are: fan",
            "loops[1].on_at: \"6am\" is not a time of day; write 24-hour \"HH:MM\" from \"00:00\" to \"23:59\", e.g. \"06:30\"",
            "loops[1].on_for: must be longer than 0s and shorter than 24h, got 1day 6h",
        ]
    );
}

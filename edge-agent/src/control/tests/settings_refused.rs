//! Loop settings changes that are refused, whole: a setting of another kind of loop, an
//! unknown loop, and each value the config file would refuse.

use std::collections::BTreeMap;

use super::super::ControlError;
use super::settings::{given, rig, settings_of};
use super::*;

#[test]
fn a_setting_of_another_kind_or_an_unknown_loop_is_refused() {
    let mut rig = rig(T0);
    let wrong = [
        ("humidity", "hysteresis", "kp", given(&[("kp", 0.1)])),
        ("heat", "pid", "band", given(&[("band", 1.0)])),
        ("light", "photoperiod", "every", given(&[("every", 300.0)])),
        ("mist", "interval", "on_at", given(&[("on_at", 300.0)])),
        (
            "mist",
            "interval",
            "stale_after",
            given(&[("on_for", 20.0), ("stale_after", 300.0)]),
        ),
    ];
    for (name, kind, setting, change) in wrong {
        let refused = rig.controller.set_loop_settings(name, &change);
        let expected = ControlError::NotASetting {
            name: name.into(),
            setting,
            kind,
        };
        assert_eq!(refused, Err(expected.clone()));
        let message = expected.to_string();
        assert_eq!(
            message,
            format!("loop {name:?} is a {kind} loop and has no setting {setting:?}")
        );
    }
    let refused = rig.controller.set_loop_settings("co2", &given(&[]));
    assert_eq!(refused, Err(ControlError::UnknownLoop("co2".into())));
    assert_eq!(
        settings_of(&rig, "mist"),
        BTreeMap::from([("every", 900.0), ("on_for", 30.0)])
    );
}

#[test]
fn each_value_the_config_file_would_refuse_is_refused_and_changes_nothing() {
    let mut rig = rig(T0);
    let before = rig.controller.view();
    let (nan, inf, day) = (f64::NAN, f64::INFINITY, 86_400.0);
    let bad = [
        (
            "humidity",
            given(&[("band", 0.0)]),
            "band: must be greater than 0, got 0",
        ),
        (
            "humidity",
            given(&[("band", nan)]),
            "band: must be greater than 0, got NaN",
        ),
        (
            "humidity",
            given(&[("band", inf)]),
            "band: must be greater than 0, got inf",
        ),
        (
            "humidity",
            given(&[("band", 30.0)]),
            "band: setpoint ± band/2 (73 to 103) leaves",
        ),
        (
            "humidity",
            given(&[("stale_after", 0.0)]),
            "stale_after: must be between 1s and 1day, got 0s",
        ),
        (
            "humidity",
            given(&[("band", 3.0), ("stale_after", 2.0 * day)]),
            "stale_after: must be between",
        ),
        (
            "heat",
            given(&[("kp", -0.1)]),
            "kp: must be a finite number, 0 or more, got -0.1",
        ),
        (
            "heat",
            given(&[("ki", nan)]),
            "ki: must be a finite number, 0 or more, got NaN",
        ),
        (
            "heat",
            given(&[("kd", inf)]),
            "kd: must be a finite number, 0 or more, got inf",
        ),
        (
            "heat",
            given(&[("kp", 0.0)]),
            "kp: kp or ki must be greater than 0",
        ),
        (
            "heat",
            given(&[("period", 5.0)]),
            "period: must be between 10s and 1h, got 5s",
        ),
        (
            "heat",
            given(&[("period", 3660.0)]),
            "period: must be between 10s and 1h, got 1h 1m",
        ),
        (
            "light",
            given(&[("on_for", 0.0)]),
            "on_for: must be longer than 0s and shorter than 24h",
        ),
        (
            "light",
            given(&[("on_for", day)]),
            "on_for: must be longer than 0s and shorter than 24h",
        ),
        (
            "light",
            given(&[("on_at", day)]),
            "on_at: must be a whole minute from 00:00 to 23:59",
        ),
        (
            "light",
            given(&[("on_at", 21_630.0)]),
            "on_at: must be a whole minute",
        ),
        (
            "mist",
            given(&[("every", 0.0)]),
            "every: must be between 1s and 7days, got 0s",
        ),
        (
            "mist",
            given(&[("every", 8.0 * day)]),
            "every: must be between 1s and 7days, got 8days",
        ),
        (
            "mist",
            given(&[("on_for", 900.0)]),
            "on_for: must be longer than 0s and shorter than every (15m), got 15m",
        ),
        (
            "mist",
            given(&[("every", 20.0)]),
            "on_for: must be longer than 0s and shorter than every (20s), got 30s",
        ),
    ];
    for (name, change, fragment) in bad {
        let refused = rig.controller.set_loop_settings(name, &change);
        let Err(ControlError::InvalidSetting {
            name: loop_name,
            reason,
        }) = &refused
        else {
            panic!("{name} {change:?}: {refused:?}");
        };
        assert_eq!(loop_name, name);
        assert!(reason.starts_with(fragment), "{name} {change:?}: {reason}");
        let message = refused.unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("loop {name:?}: ")),
            "{message}"
        );
    }
    assert_eq!(rig.controller.view(), before, "nothing changed");
}

//! Figures as the pages show them: ages, durations, sizes and local times. Pure:
//! the time to measure against comes in as an argument. The results are plain text (escape
//! them like any other text when they go into HTML).

use std::time::Duration;

use farm_protocol::UnixMillis;

/// A duration rounded down to its two largest units: `0 s`, `42 s`, `5 min 3 s`,
/// `3 h 12 min`, `2 d 4 h`.
pub(super) fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (days, hours, mins, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) => format!("{mins} min {s} s"),
        (0, _, _) => format!("{hours} h {mins} min"),
        _ => format!("{days} d {hours} h"),
    }
}

/// How long before `now` the time `then` was (both unix ms): `5 min 3 s ago`; `just now`
/// for a time in the future (the clock moved).
pub(super) fn age(then: UnixMillis, now: UnixMillis) -> String {
    let ms = now.saturating_sub(then);
    match u64::try_from(ms) {
        Ok(ms) if ms >= 1000 => format!("{} ago", duration(Duration::from_millis(ms))),
        _ => "just now".to_owned(),
    }
}

/// Bytes in binary units with one decimal above 1 KiB: `512 B`, `1.5 KiB`, `64.0 MiB`.
pub(super) fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// `part` as a whole percentage of `whole` (rounded down; 0 when `whole` is 0).
pub(super) fn percent(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return 0;
    }
    (u128::from(part) * 100 / u128::from(whole)) as u64
}

/// The local time of `ts` (unix ms) in `tz`: (`YYYY-MM-DD HH:MM`, RFC 3339 for `datetime`).
pub(super) fn local_time(ts: UnixMillis, tz: &jiff::tz::TimeZone) -> (String, String) {
    let at = jiff::Timestamp::from_millisecond(ts).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let zoned = at.to_zoned(tz.clone());
    (
        zoned.strftime("%Y-%m-%d %H:%M").to_string(),
        zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
    )
}

/// A number as a person types it into a form: surrounding spaces ignored, a decimal comma
/// taken as a point (`4,5`), NaN and infinities refused.
pub(super) fn decimal(typed: &str) -> Option<f64> {
    let typed = typed.trim();
    let number = if typed.contains('.') {
        typed.to_owned()
    } else {
        typed.replacen(',', ".", 1)
    };
    number.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_take_a_point_or_a_comma_and_refuse_the_rest() {
        assert_eq!(decimal(" 4.5 "), Some(4.5));
        assert_eq!(decimal("4,5"), Some(4.5));
        assert_eq!(decimal("-2"), Some(-2.0));
        for bad in ["", "abc", "NaN", "inf", "1,000.5", "4,5,6"] {
            assert_eq!(decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_keep_their_two_largest_units() {
        let s = Duration::from_secs;
        assert_eq!(duration(Duration::ZERO), "0 s");
        assert_eq!(duration(Duration::from_millis(1999)), "1 s");
        assert_eq!(duration(s(59)), "59 s");
        assert_eq!(duration(s(60)), "1 min 0 s");
        assert_eq!(duration(s(303)), "5 min 3 s");
        assert_eq!(duration(s(3 * 3600 + 12 * 60 + 59)), "3 h 12 min");
        assert_eq!(duration(s(2 * 86_400 + 4 * 3600 + 59 * 60)), "2 d 4 h");
        assert_eq!(duration(s(400 * 86_400)), "400 d 0 h");
    }

    #[test]
    fn ages_count_back_from_now() {
        assert_eq!(age(1_000, 304_000), "5 min 3 s ago");
        assert_eq!(age(1_000, 1_999), "just now");
        assert_eq!(age(5_000, 1_000), "just now", "a time in the future");
        assert_eq!(age(i64::MIN, i64::MAX), "106751991167 d 7 h ago");
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1024), "1.0 KiB");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(64 * 1024 * 1024), "64.0 MiB");
        assert_eq!(size(3 * 1024 * 1024 * 1024 / 2), "1.5 GiB");
        assert_eq!(size(u64::MAX), "16777216.0 TiB");
    }

    #[test]
    fn percentages_round_down_and_survive_zero() {
        assert_eq!(percent(0, 100), 0);
        assert_eq!(percent(999, 1000), 99);
        assert_eq!(percent(1000, 1000), 100);
        assert_eq!(percent(1500, 1000), 150);
        assert_eq!(percent(5, 0), 0);
        assert_eq!(percent(u64::MAX, u64::MAX), 100);
    }

    #[test]
    fn local_times_are_in_the_farm_zone() {
        let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(2));
        let (shown, machine) = local_time(1_700_000_000_000, &tz);
        assert_eq!(shown, "2023-11-15 00:13");
        assert_eq!(machine, "2023-11-15T00:13:20+02:00");
    }
}

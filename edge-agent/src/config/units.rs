//! Values with units, as written in the config file: durations (`"250ms"`, `"7d"`,
//! `"1h 30m"`, parsed by humantime) and byte sizes (`"256MiB"`, `"10MB"`, `"1000000"`).
//!
//! Both newtypes deserialize from strings only, except that a size may also be a bare TOML
//! integer (a number of bytes). A bare number is never a duration: `commit_interval = 250`
//! is rejected because it does not say whether it means milliseconds or seconds.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A duration written the humantime way (`"250ms"`, `"5s"`, `"7d"`, `"1h 30m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HumanDuration(pub(super) Duration);

/// A byte count written with an optional unit (`"64MiB"`, `"10MB"`, `"1000000"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ByteSize(pub(super) u64);

/// The size units understood by [`parse_size`], with their multipliers.
const SIZE_UNITS: [(&str, u64); 7] = [
    ("B", 1),
    ("KB", 1_000),
    ("KiB", 1 << 10),
    ("MB", 1_000_000),
    ("MiB", 1 << 20),
    ("GB", 1_000_000_000),
    ("GiB", 1 << 30),
];

/// Parses a humantime duration, with an error message that names the input (the API's
/// settings route uses it too).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|err| {
        format!("invalid duration {text:?}: {err}; write e.g. \"250ms\", \"5s\", \"1h 30m\"")
    })
}

/// Parses a size: a whole number, optionally followed (after optional spaces) by one of
/// B, KB, KiB, MB, MiB, GB, GiB. Units are case-sensitive: `KB` is 1000 bytes, `KiB` 1024.
pub(super) fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(digits_end);
    let unit = unit.trim_start();
    if digits.is_empty() {
        return Err(format!(
            "invalid size {text:?}: expected a whole number of bytes, optionally with a unit, e.g. \"256MiB\""
        ));
    }
    if unit.starts_with('.') {
        return Err(format!(
            "invalid size {text:?}: fractions are not supported; use a smaller unit, e.g. \"1536MiB\""
        ));
    }
    let multiplier = if unit.is_empty() {
        1
    } else {
        SIZE_UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, multiplier)| *multiplier)
            .ok_or_else(|| {
                format!(
                    "invalid size {text:?}: unknown unit {unit}; use B, KB, KiB, MB, MiB, GB, GiB"
                )
            })?
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| format!("invalid size {text:?}: too large"))
}

/// Formats a byte count the way the config file would write it, for messages.
pub(super) fn format_size(bytes: u64) -> String {
    SIZE_UNITS
        .iter()
        .rev()
        .filter(|(name, _)| name.ends_with("iB"))
        .find(|(_, multiplier)| bytes >= *multiplier && bytes % multiplier == 0)
        .map_or_else(
            || format!("{bytes}B"),
            |(name, multiplier)| format!("{}{name}", bytes / multiplier),
        )
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(DurationVisitor)
    }
}

/// Accepts only strings: a unitless number is ambiguous.
struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = HumanDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration string with a unit, e.g. \"250ms\" or \"5s\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        parse_duration(text).map(HumanDuration).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SizeVisitor)
    }
}

/// Accepts a size string or a non-negative integer number of bytes.
struct SizeVisitor;

impl Visitor<'_> for SizeVisitor {
    type Value = ByteSize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a size such as \"256MiB\" or a number of bytes")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        parse_size(text).map(ByteSize).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, bytes: u64) -> Result<Self::Value, E> {
        Ok(ByteSize(bytes))
    }

    fn visit_i64<E: de::Error>(self, bytes: i64) -> Result<Self::Value, E> {
        u64::try_from(bytes)
            .map(ByteSize)
            .map_err(|_| E::custom(format!("invalid size {bytes}: must not be negative")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_binary_decimal_and_no_unit() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1000000"), Ok(1_000_000));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("3KB"), Ok(3_000));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("7B"), Ok(7));
        assert_eq!(parse_size(" 256 MiB "), Ok(256 << 20));
    }

    #[test]
    fn bad_sizes_say_what_is_wrong() {
        assert_eq!(
            parse_size("12XB"),
            Err("invalid size \"12XB\": unknown unit XB; use B, KB, KiB, MB, MiB, GB, GiB".into())
        );
        assert!(parse_size("256mib").is_err_and(|e| e.contains("unknown unit mib")));
        assert!(parse_size("").is_err_and(|e| e.contains("expected a whole number")));
        assert!(parse_size("MiB").is_err_and(|e| e.contains("expected a whole number")));
        assert!(parse_size("-1MiB").is_err_and(|e| e.contains("expected a whole number")));
        assert!(parse_size("1.5GiB").is_err_and(|e| e.contains("fractions are not supported")));
        assert!(parse_size("99999999999GiB").is_err_and(|e| e.contains("too large")));
        assert!(parse_size("99999999999999999999").is_err_and(|e| e.contains("too large")));
    }

    #[test]
    fn durations_use_humantime() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5_400)));
        let err = parse_duration("fast").expect_err("not a duration");
        assert!(err.starts_with("invalid duration \"fast\": "), "{err}");
    }

    #[test]
    fn sizes_format_in_the_largest_exact_binary_unit() {
        assert_eq!(format_size(256 << 20), "256MiB");
        assert_eq!(format_size(1 << 30), "1GiB");
        assert_eq!(format_size(1_000_000), "1000000B");
        assert_eq!(format_size(0), "0B");
    }

    #[test]
    fn size_deserializes_from_integer_but_duration_does_not() {
        let size = ByteSize::deserialize(toml::Value::Integer(4096)).expect("integer size");
        assert_eq!(size, ByteSize(4096));
        assert!(ByteSize::deserialize(toml::Value::Integer(-1)).is_err());
        let err = HumanDuration::deserialize(toml::Value::Integer(250)).expect_err("bare number");
        assert!(
            err.message().contains("invalid type: integer `250`"),
            "{err}"
        );
    }
}

//! The schema's CHECK rules, checked in Rust first so a mistake gets a message naming the
//! field and the rule instead of a constraint name. Each rule here mirrors one in
//! `migrations/`; the database still enforces them.

use super::AdminError;

/// What a tenant or farm slug must look like (`^[a-z0-9][a-z0-9_-]{0,62}$`).
const SLUG_RULE: &str =
    "use 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit";
/// What a SKU must look like (`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`).
const SKU_RULE: &str = "use 1-64 letters, digits, '.', '-' or '_', starting with a letter or digit";
/// The units a product can be counted in.
pub(crate) const UNITS: [&str; 3] = ["kg", "g", "each"];
/// The shelf life a product may have, in days.
pub(crate) const SHELF_LIFE_DAYS: std::ops::RangeInclusive<i32> = 1..=3650;
/// Digits a quantity may have before the point (NUMERIC(14, 3)).
const QUANTITY_INTEGER_DIGITS: usize = 11;
/// Digits a quantity may have after the point (NUMERIC(14, 3)).
const QUANTITY_DECIMALS: usize = 3;

/// An [`AdminError::Invalid`] for text input `value`.
pub(crate) fn invalid(field: &'static str, value: &str, rule: impl Into<String>) -> AdminError {
    AdminError::Invalid {
        field,
        value: format!("{value:?}"),
        rule: rule.into(),
    }
}

/// A tenant or farm slug.
pub(crate) fn slug(field: &'static str, value: &str) -> Result<(), AdminError> {
    let mut chars = value.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c));
    if first_ok && rest_ok && value.len() <= 63 {
        Ok(())
    } else {
        Err(invalid(field, value, SLUG_RULE))
    }
}

/// A name meant for people (a tenant's, farm's, product's or key's): 1 to `max_chars`
/// characters, not only blanks, no control characters.
pub(crate) fn name(field: &'static str, value: &str, max_chars: usize) -> Result<(), AdminError> {
    let chars = value.chars().count();
    let ok = (1..=max_chars).contains(&chars)
        && !value.trim().is_empty()
        && !value.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        let rule = format!("use 1-{max_chars} characters, not only blanks, no control characters");
        Err(invalid(field, value, rule))
    }
}

/// A device id (the edge's `agent.device_id`): 1-128 printable ASCII characters.
pub(crate) fn device_id(value: &str) -> Result<(), AdminError> {
    let ok = !value.is_empty() && value.len() <= 128 && value.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        let rule = "use 1-128 printable ASCII characters (no spaces)";
        Err(invalid("device", value, rule))
    }
}

/// A product's SKU.
pub(crate) fn sku(value: &str) -> Result<(), AdminError> {
    let mut chars = value.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if first_ok && rest_ok && value.len() <= 64 {
        Ok(())
    } else {
        Err(invalid("sku", value, SKU_RULE))
    }
}

/// A product's unit.
pub(crate) fn unit(value: &str) -> Result<(), AdminError> {
    if UNITS.contains(&value) {
        Ok(())
    } else {
        Err(invalid("unit", value, "use kg, g or each"))
    }
}

/// A product's shelf life in days.
pub(crate) fn shelf_life_days(value: i32) -> Result<(), AdminError> {
    if SHELF_LIFE_DAYS.contains(&value) {
        Ok(())
    } else {
        Err(AdminError::Invalid {
            field: "shelf_life_days",
            value: value.to_string(),
            rule: format!(
                "use a whole number of days from {} to {}",
                SHELF_LIFE_DAYS.start(),
                SHELF_LIFE_DAYS.end()
            ),
        })
    }
}

/// A non-negative quantity in a product's unit, as PostgreSQL's NUMERIC(14, 3) holds it: up
/// to 11 digits, optionally a point and 1-3 more digits (`0`, `2.5`, `12.125`).
pub(crate) fn quantity(field: &'static str, value: &str) -> Result<(), AdminError> {
    let (whole, fraction) = match value.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (value, None),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let whole_ok = (1..=QUANTITY_INTEGER_DIGITS).contains(&whole.len()) && digits(whole);
    let fraction_ok =
        fraction.is_none_or(|f| (1..=QUANTITY_DECIMALS).contains(&f.len()) && digits(f));
    if whole_ok && fraction_ok {
        Ok(())
    } else {
        let rule = "use a number ≥ 0 with at most 11 digits before the point and 3 after \
                    (e.g. 0, 2.5)";
        Err(invalid(field, value, rule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: Result<(), AdminError>) -> Option<&'static str> {
        match result {
            Err(AdminError::Invalid { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn slugs_follow_the_schema_rule() {
        for good in ["acme", "farm-1", "a_b", "9lives", &"a".repeat(63)] {
            assert!(slug("tenant", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Acme",
            "-farm",
            "_farm",
            "farm 1",
            "ünï",
            &"a".repeat(64),
        ] {
            assert_eq!(field_of(slug("farm", bad)), Some("farm"), "{bad}");
        }
    }

    #[test]
    fn the_message_names_the_field_the_value_and_the_rule() {
        let error = slug("tenant", "Bad Tenant").unwrap_err().to_string();
        assert!(
            error.starts_with("tenant \"Bad Tenant\": use 1-63 lowercase"),
            "{error}"
        );
        let error = shelf_life_days(0).unwrap_err().to_string();
        assert_eq!(
            error,
            "shelf_life_days 0: use a whole number of days from 1 to 3650"
        );
    }

    #[test]
    fn skus_follow_the_schema_rule() {
        for good in ["OYS-1", "oyster.500g", "a", "9_x", &"A".repeat(64)] {
            assert!(sku(good).is_ok(), "{good}");
        }
        for bad in ["", ".x", "-x", "a b", "a/b", "é", &"A".repeat(65)] {
            assert_eq!(field_of(sku(bad)), Some("sku"), "{bad}");
        }
    }

    #[test]
    fn units_are_kg_g_or_each() {
        for good in UNITS {
            assert!(unit(good).is_ok());
        }
        for bad in ["", "KG", "lb", "each "] {
            assert_eq!(field_of(unit(bad)), Some("unit"), "{bad}");
        }
    }

    #[test]
    fn shelf_life_is_1_to_3650_days() {
        for good in [1, 7, 3650] {
            assert!(shelf_life_days(good).is_ok());
        }
        for bad in [i32::MIN, -1, 0, 3651] {
            assert_eq!(field_of(shelf_life_days(bad)), Some("shelf_life_days"));
        }
    }

    #[test]
    fn quantities_are_non_negative_decimals_with_3_places() {
        for good in ["0", "2", "2.5", "0.125", "99999999999.999"] {
            assert!(quantity("low_stock_threshold", good).is_ok(), "{good}");
        }
        let bad = [
            "",
            "-1",
            "-0.5",
            "+1",
            ".5",
            "1.",
            "1.2345",
            "1e3",
            "NaN",
            "1 ",
            "1,5",
            "123456789012",
        ];
        for bad in bad {
            let field = field_of(quantity("low_stock_threshold", bad));
            assert_eq!(field, Some("low_stock_threshold"), "{bad}");
        }
    }

    #[test]
    fn names_are_short_printable_text() {
        assert!(name("name", "Acme Mushrooms", 200).is_ok());
        assert!(name("name", &"é".repeat(100), 100).is_ok());
        for bad in ["", "   ", "a\nb", &"x".repeat(101)] {
            assert_eq!(field_of(name("name", bad, 100)), Some("name"), "{bad:?}");
        }
    }

    #[test]
    fn device_ids_are_printable_ascii() {
        assert!(device_id("pi-1").is_ok());
        for bad in ["", "pi 1", "pi\t1", "pï", &"d".repeat(129)] {
            assert_eq!(field_of(device_id(bad)), Some("device"), "{bad:?}");
        }
    }
}

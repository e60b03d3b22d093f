//! `[[products]]`: the farm's catalogue as the edge knows it, so a harvest recorded at the
//! edge names a real SKU in a unit the cloud can convert (DESIGN.md §3.5). Optional: without
//! any entry, harvests may name any well-formed SKU. Schema, checks and typed settings here.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use super::build::required;
use super::error::Problem;

/// The longest SKU.
pub const MAX_SKU_LEN: usize = 64;
/// The longest product name, in characters.
pub const MAX_PRODUCT_NAME_LEN: usize = 128;

/// One `[[products]]` entry as written. Every key is required (checked in
/// [`build_products`], so that every missing one is reported).
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table of product settings ([[products]])"
)]
pub(super) struct RawProduct {
    /// The SKU, as in the tenant's catalogue in the cloud. Required.
    pub sku: Option<String>,
    /// A human-readable name, for the panel. Required.
    pub name: Option<String>,
    /// `kg`, `g` or `each`. Required.
    pub unit: Option<String>,
}

/// One `[[products]]` entry: a product harvests may be recorded for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductConfig {
    /// Unique SKU: 1–64 characters, `[A-Za-z0-9][A-Za-z0-9._-]*`.
    pub sku: String,
    /// A human-readable name: 1–128 characters, no control characters.
    pub name: String,
    /// The unit its stock is counted in.
    pub unit: Unit,
}

/// A unit harvests and stock are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Kilograms.
    Kg,
    /// Grams.
    G,
    /// Pieces (whole numbers only).
    Each,
}

impl Unit {
    /// Every unit.
    pub const ALL: [Unit; 3] = [Unit::Kg, Unit::G, Unit::Each];

    /// The name used in the config file, the API and events (`"kg"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Kg => "kg",
            Unit::G => "g",
            Unit::Each => "each",
        }
    }

    /// How many of `to` one `self` is, if one converts to the other (kg ↔ g; `each` only to
    /// itself), as the cloud converts them.
    pub fn factor_to(self, to: Unit) -> Option<f64> {
        match (self, to) {
            (a, b) if a == b => Some(1.0),
            (Unit::Kg, Unit::G) => Some(1000.0),
            (Unit::G, Unit::Kg) => Some(0.001),
            _ => None,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Unit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Unit::ALL
            .into_iter()
            .find(|unit| unit.as_str() == text)
            .ok_or_else(|| format!("unknown unit {text:?}; expected \"kg\", \"g\" or \"each\""))
    }
}

/// Why `sku` is not a SKU, if it is not: 1–64 characters, `[A-Za-z0-9][A-Za-z0-9._-]*`.
pub fn sku_problem(sku: &str) -> Option<String> {
    let mut chars = sku.chars();
    let Some(first) = chars.next() else {
        return Some("must not be empty".to_owned());
    };
    if !first.is_ascii_alphanumeric() {
        return Some(format!(
            "{sku:?} starts with {first:?}; a SKU starts with A-Z, a-z or 0-9"
        ));
    }
    if let Some(bad) = chars.find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Some(format!(
            "{sku:?} contains {bad:?}; use only A-Z, a-z, 0-9, '.', '_' and '-'"
        ));
    }
    (sku.len() > MAX_SKU_LEN).then(|| {
        format!(
            "{sku:?} is {} characters long; at most {MAX_SKU_LEN} are allowed",
            sku.len()
        )
    })
}

/// Checks every `[[products]]` entry (with its index in the file) and returns those that are
/// complete and valid, in file order. Records a problem for every bad or missing key and for
/// every SKU an earlier entry already has.
pub(super) fn build_products(
    raw: Vec<(usize, RawProduct)>,
    problems: &mut Vec<Problem>,
) -> Vec<ProductConfig> {
    let mut products: Vec<(usize, ProductConfig)> = Vec::new();
    for (index, raw) in raw {
        let key = format!("products[{index}]");
        let sku = required(format!("{key}.sku"), raw.sku, problems);
        let name = required(format!("{key}.name"), raw.name, problems);
        let unit = required(format!("{key}.unit"), raw.unit, problems);
        let sku = sku.filter(|sku| match sku_problem(sku) {
            Some(message) => {
                problems.push(Problem::new(format!("{key}.sku"), message));
                false
            }
            None => true,
        });
        let name = name.filter(|name| match name_problem(name) {
            Some(message) => {
                problems.push(Problem::new(format!("{key}.name"), message));
                false
            }
            None => true,
        });
        let unit = unit.and_then(|unit| {
            unit.parse::<Unit>()
                .map_err(|message| problems.push(Problem::new(format!("{key}.unit"), message)))
                .ok()
        });
        let (Some(sku), Some(name), Some(unit)) = (sku, name, unit) else {
            continue;
        };
        if let Some((first, _)) = products.iter().find(|(_, p)| p.sku == sku) {
            problems.push(Problem::new(
                format!("{key}.sku"),
                format!("duplicate sku {sku:?} (also products[{first}])"),
            ));
            continue;
        }
        products.push((index, ProductConfig { sku, name, unit }));
    }
    products.into_iter().map(|(_, product)| product).collect()
}

/// Why `name` is not a product name, if it is not.
fn name_problem(name: &str) -> Option<String> {
    let chars = name.chars().count();
    if name.trim().is_empty() {
        Some("must not be empty".to_owned())
    } else if let Some(bad) = name.chars().find(|c| c.is_control()) {
        Some(format!("{name:?} contains the control character {bad:?}"))
    } else if chars > MAX_PRODUCT_NAME_LEN {
        Some(format!(
            "is {chars} characters long; at most {MAX_PRODUCT_NAME_LEN} are allowed"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_follow_the_catalogue_rule() {
        for good in ["OYS-BLUE-250", "a", "9.x_y-z", &"A".repeat(64)] {
            assert_eq!(sku_problem(good), None, "{good}");
        }
        for (bad, says) in [
            ("-ABC", "starts with '-'"),
            (".x", "starts with '.'"),
            ("OYS BLUE", "contains ' '"),
            ("OYS/1", "contains '/'"),
            ("Ä1", "starts with 'Ä'"),
            (&"A".repeat(65), "at most 64"),
        ] {
            let message = sku_problem(bad).unwrap_or_default();
            assert!(message.contains(says), "{bad}: {message}");
        }
        assert_eq!(sku_problem(""), Some("must not be empty".to_owned()));
    }

    #[test]
    fn kilograms_and_grams_convert_and_each_only_to_itself() {
        assert_eq!(Unit::Kg.factor_to(Unit::G), Some(1000.0));
        assert_eq!(Unit::G.factor_to(Unit::Kg), Some(0.001));
        assert_eq!(Unit::Each.factor_to(Unit::Each), Some(1.0));
        assert_eq!(Unit::Each.factor_to(Unit::Kg), None);
        assert_eq!(Unit::G.factor_to(Unit::Each), None);
        assert_eq!("each".parse::<Unit>(), Ok(Unit::Each));
        assert!("lb".parse::<Unit>().is_err());
        assert!("KG".parse::<Unit>().is_err());
    }
}

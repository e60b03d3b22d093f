//! Products: a tenant's catalogue (SKU, name, unit, shelf life, low-stock threshold).
//!
//! A product is added or updated by (tenant, SKU). Its unit cannot change once lots exist:
//! their quantities are in the old unit and would be misread.

use tokio_postgres::GenericClient;

use super::{tenant_id, tenant_label, validate, AdminError, UTC_FORMAT};

/// Longest product name, in characters (as the schema checks it).
const MAX_NAME_CHARS: usize = 200;

/// A product to add, or the new values of an existing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSpec {
    /// The SKU: 1-64 letters, digits, `.`, `-` or `_`, starting with a letter or digit.
    pub sku: String,
    /// The name shown to shoppers: 1-200 characters.
    pub name: String,
    /// What quantities count: `kg`, `g` or `each`.
    pub unit: String,
    /// Days from harvest to best-before: 1-3650.
    pub shelf_life_days: i32,
    /// Availability at or below which the product counts as low on stock, in its unit, as a
    /// decimal (`2.5`, at most 3 decimals, ≥ 0). `None`: 0 for a new product, unchanged for
    /// an existing one.
    pub low_stock_threshold: Option<String>,
}

impl ProductSpec {
    /// Checks every field against the schema's rules.
    pub fn validate(&self) -> Result<(), AdminError> {
        validate::sku(&self.sku)?;
        validate::name("name", &self.name, MAX_NAME_CHARS)?;
        validate::unit(&self.unit)?;
        validate::shelf_life_days(self.shelf_life_days)?;
        if let Some(threshold) = &self.low_stock_threshold {
            validate::quantity("low_stock_threshold", threshold)?;
        }
        Ok(())
    }
}

/// Whether [`upsert_product`] added the product or updated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// The tenant had no product with that SKU.
    Added,
    /// The product existed; its values were replaced.
    Updated,
}

/// A product, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The SKU.
    pub sku: String,
    /// The name.
    pub name: String,
    /// `kg`, `g` or `each`.
    pub unit: String,
    /// Days from harvest to best-before.
    pub shelf_life_days: i32,
    /// The low-stock threshold in the product's unit, as a decimal without trailing zeros.
    pub low_stock_threshold: String,
    /// When it was added (RFC 3339, UTC).
    pub created_at: String,
}

/// Adds product `spec.sku` to tenant `tenant`, or updates it if the tenant has it. Refuses
/// an unknown tenant, invalid values, and a unit change of a product that has lots.
pub async fn upsert_product(
    db: &mut impl GenericClient,
    tenant: &str,
    spec: &ProductSpec,
) -> Result<Upserted, AdminError> {
    spec.validate()?;
    let tx = db.transaction().await?;
    let tenant_id = tenant_id(&tx, tenant).await?;
    let existing = tx
        .query_opt(
            "SELECT p.unit, EXISTS (SELECT 1 FROM lots l WHERE l.product_id = p.id)
             FROM products p WHERE p.tenant_id = $1 AND p.sku = $2 FOR UPDATE OF p",
            &[&tenant_id, &spec.sku],
        )
        .await?;
    if let Some(row) = &existing {
        let (unit, has_lots): (String, bool) = (row.get(0), row.get(1));
        if has_lots && unit != spec.unit {
            let rule = format!(
                "product {:?} of {} has lots counted in {unit}, which a new unit would \
                 misread; keep {unit} or add a new SKU",
                spec.sku,
                tenant_label(tenant)
            );
            return Err(validate::invalid("unit", &spec.unit, rule));
        }
    }
    tx.execute(
        "INSERT INTO products (tenant_id, sku, name, unit, shelf_life_days, low_stock_threshold)
         VALUES ($1, $2, $3, $4, $5, COALESCE($6::text::numeric, 0))
         ON CONFLICT (tenant_id, sku) DO UPDATE SET
             name = EXCLUDED.name,
             unit = EXCLUDED.unit,
             shelf_life_days = EXCLUDED.shelf_life_days,
             low_stock_threshold = COALESCE($6::text::numeric, products.low_stock_threshold)",
        &[
            &tenant_id,
            &spec.sku,
            &spec.name,
            &spec.unit,
            &spec.shelf_life_days,
            &spec.low_stock_threshold,
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(if existing.is_some() {
        Upserted::Updated
    } else {
        Upserted::Added
    })
}

/// The products of tenant `tenant`, by SKU.
pub async fn list_products(
    db: &impl GenericClient,
    tenant: &str,
) -> Result<Vec<Product>, AdminError> {
    let tenant_id = tenant_id(db, tenant).await?;
    let rows = db
        .query(
            "SELECT sku, name, unit, shelf_life_days, low_stock_threshold::text,
                    to_char(created_at AT TIME ZONE 'UTC', $2)
             FROM products WHERE tenant_id = $1 ORDER BY sku",
            &[&tenant_id, &UTC_FORMAT],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Product {
            sku: r.get(0),
            name: r.get(1),
            unit: r.get(2),
            shelf_life_days: r.get(3),
            low_stock_threshold: trim_scale(r.get(4)),
            created_at: r.get(5),
        })
        .collect())
}

/// A decimal without trailing zeros after the point (`2.500` → `2.5`, `0.000` → `0`).
fn trim_scale(decimal: String) -> String {
    if !decimal.contains('.') {
        return decimal;
    }
    decimal
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ProductSpec {
        ProductSpec {
            sku: "OYS-500".into(),
            name: "Oyster mushrooms".into(),
            unit: "kg".into(),
            shelf_life_days: 7,
            low_stock_threshold: Some("2.5".into()),
        }
    }

    #[test]
    fn a_spec_is_checked_field_by_field() {
        assert!(spec().validate().is_ok());
        assert!(ProductSpec {
            low_stock_threshold: None,
            ..spec()
        }
        .validate()
        .is_ok());
        let cases = [
            (
                "sku",
                ProductSpec {
                    sku: "a b".into(),
                    ..spec()
                },
            ),
            (
                "name",
                ProductSpec {
                    name: String::new(),
                    ..spec()
                },
            ),
            (
                "unit",
                ProductSpec {
                    unit: "lb".into(),
                    ..spec()
                },
            ),
            (
                "shelf_life_days",
                ProductSpec {
                    shelf_life_days: 0,
                    ..spec()
                },
            ),
            (
                "low_stock_threshold",
                ProductSpec {
                    low_stock_threshold: Some("-1".into()),
                    ..spec()
                },
            ),
        ];
        for (expected, bad) in cases {
            match bad.validate() {
                Err(AdminError::Invalid { field, .. }) => assert_eq!(field, expected),
                other => panic!("{expected}: {other:?}"),
            }
        }
    }

    #[test]
    fn trailing_zeros_are_trimmed() {
        assert_eq!(trim_scale("2.500".into()), "2.5");
        assert_eq!(trim_scale("0.000".into()), "0");
        assert_eq!(trim_scale("10".into()), "10");
        assert_eq!(trim_scale("10.125".into()), "10.125");
    }
}

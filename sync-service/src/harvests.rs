//! Harvest events become lots (DESIGN.md §3.5): in the transaction that stores the event,
//! so a harvest delivered any number of times adds its stock once.
//!
//! A harvest that cannot become a lot is not refused (the batch still succeeds: refusing it
//! would stop the device's sync behind one typo); it is kept in `harvest_issues` with the
//! reason: an unknown SKU for the device's tenant, a unit that does not convert to the
//! product's (kg ↔ g convert; `each` only to `each`), or a quantity that is not positive.

use farm_protocol::{Harvest, UnixMillis};
use tokio_postgres::Transaction;
use uuid::Uuid;

/// What became of a harvest.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A lot of `quantity` in the product's unit.
    Lot {
        /// In the product's unit, to 3 decimals.
        quantity: f64,
    },
    /// No lot; why.
    Issue(String),
}

/// The device's farm and tenant, which own the lot.
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    /// `tenants.id`.
    pub tenant_id: i64,
    /// `farms.id`.
    pub farm_id: i64,
}

/// `quantity` of `from` in `to`, if the units convert.
fn convert(quantity: f64, from: &str, to: &str) -> Option<f64> {
    match (from, to) {
        (a, b) if a == b => Some(quantity),
        ("g", "kg") => Some(quantity / 1000.0),
        ("kg", "g") => Some(quantity * 1000.0),
        _ => None,
    }
}

/// Creates the lot of harvest event `event_id` (taken at `ts`), or records why not.
pub async fn apply(
    tx: &Transaction<'_>,
    owner: Owner,
    event_id: Uuid,
    ts: UnixMillis,
    harvest: &Harvest,
) -> Result<Outcome, tokio_postgres::Error> {
    let outcome = lot_quantity(tx, owner, harvest).await?;
    match &outcome {
        Ok((product_id, shelf_life_days, quantity)) => {
            tx.execute(
                "INSERT INTO lots (tenant_id, farm_id, product_id, event_id, lot_code, room,
                                   quantity, remaining, harvested_at, best_before)
                 VALUES ($1, $2, $3, $4, $5, $6, $7::text::numeric, $7::text::numeric,
                         to_timestamp($8::float8 / 1000),
                         to_timestamp($8::float8 / 1000) + make_interval(days => $9))
                 ON CONFLICT (event_id) DO NOTHING",
                &[
                    &owner.tenant_id,
                    &owner.farm_id,
                    product_id,
                    &event_id,
                    &harvest.lot,
                    &harvest.room,
                    &format!("{quantity:.3}"),
                    &(ts as f64),
                    shelf_life_days,
                ],
            )
            .await?;
        }
        Err(reason) => {
            tx.execute(
                "INSERT INTO harvest_issues (event_id, reason) VALUES ($1, $2)
                 ON CONFLICT (event_id) DO NOTHING",
                &[&event_id, reason],
            )
            .await?;
        }
    }
    Ok(match outcome {
        Ok((_, _, quantity)) => Outcome::Lot { quantity },
        Err(reason) => Outcome::Issue(reason),
    })
}

/// (product id, shelf life in days, quantity in the product's unit), or why there is none.
async fn lot_quantity(
    tx: &Transaction<'_>,
    owner: Owner,
    harvest: &Harvest,
) -> Result<Result<(i64, i32, f64), String>, tokio_postgres::Error> {
    let row = tx
        .query_opt(
            "SELECT id, unit, shelf_life_days FROM products WHERE tenant_id = $1 AND sku = $2",
            &[&owner.tenant_id, &harvest.product],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Err(format!(
            "unknown product SKU {:?} for this tenant",
            harvest.product
        )));
    };
    let (id, unit, shelf_life): (i64, String, i32) = (row.get(0), row.get(1), row.get(2));
    let Some(quantity) = convert(harvest.quantity, &harvest.unit, &unit) else {
        return Ok(Err(format!(
            "unit {:?} does not convert to the product's unit {unit:?}",
            harvest.unit
        )));
    };
    let rounded = (quantity * 1000.0).round() / 1000.0;
    if !(rounded.is_finite() && rounded > 0.0) {
        return Ok(Err(format!(
            "quantity {} {} is not a positive amount of {unit}",
            harvest.quantity, harvest.unit
        )));
    }
    Ok(Ok((id, shelf_life, rounded)))
}

#[cfg(test)]
mod tests {
    use super::convert;

    #[test]
    fn kilograms_and_grams_convert_and_nothing_else_does() {
        assert_eq!(convert(1.5, "kg", "g"), Some(1500.0));
        assert_eq!(convert(250.0, "g", "kg"), Some(0.25));
        assert_eq!(convert(3.0, "each", "each"), Some(3.0));
        assert_eq!(convert(3.0, "each", "kg"), None);
        assert_eq!(convert(3.0, "lb", "kg"), None);
    }
}

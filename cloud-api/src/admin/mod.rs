//! Administration of the cloud inventory: tenants, farms, products, devices and storefront
//! API keys, as library functions over PostgreSQL and as the `cloud-api` CLI subcommands
//! that call them.
//!
//! Every input is checked against the schema's rules before it reaches PostgreSQL, so a
//! mistake names the field and the rule. Secrets (device tokens, API keys) are returned once
//! and stored only as their SHA-256. Everything that reads or changes a tenant's farms,
//! products, devices or keys names the tenant, and touches nothing of another tenant.
//!
//! # Layout
//! - [`tenants`], [`farms`], [`products`], [`devices`], [`keys`]: the operations.
//! - [`cli`]: [`AdminCommand`] (clap) and [`execute`], which runs one and says what to print.
//! - `validate`: the schema's CHECK rules, in Rust; `table`: the list commands' tables.

pub mod cli;
pub mod devices;
pub mod farms;
pub mod keys;
pub mod products;
mod table;
pub mod tenants;
mod validate;

pub use cli::{execute, AdminCommand, Output};
pub use devices::{list_devices, provision_device, DeviceInfo, Provisioned};
pub use farms::{add_farm, list_farms, Farm};
pub use keys::{create_key, list_keys, revoke_key, ApiKey, NewKey, Revoked};
pub use products::{list_products, upsert_product, Product, ProductSpec, Upserted};
pub use tenants::{add_tenant, list_tenants, Tenant};

use crate::secrets::RandomError;

/// Why an administrative operation failed; each message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// What the operation names does not exist, e.g. `tenant "acme"`.
    #[error("{0} not found")]
    NotFound(String),
    /// What the operation would add exists already, e.g. `farm "north" of tenant "acme"`.
    #[error("{0} exists already")]
    Exists(String),
    /// An input breaks a rule of the schema.
    #[error("{field} {value}: {rule}")]
    Invalid {
        /// The input's name (`tenant`, `sku`, `shelf_life_days` …).
        field: &'static str,
        /// The value given, quoted if it is text.
        value: String,
        /// What a valid value looks like.
        rule: String,
    },
    /// No secret could be made.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// PostgreSQL failed or refused a statement.
    #[error("database: {}", describe(.0))]
    Db(#[from] tokio_postgres::Error),
}

/// What PostgreSQL said, for a person: the server's message (tokio-postgres alone prints
/// only "db error"), or the client-side error and its cause.
fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        };
    }
    match std::error::Error::source(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

/// `tenant "slug"`, as errors name a tenant.
fn tenant_label(slug: &str) -> String {
    format!("tenant {slug:?}")
}

/// The id of tenant `slug`, or [`AdminError::NotFound`].
async fn tenant_id(db: &impl tokio_postgres::GenericClient, slug: &str) -> Result<i64, AdminError> {
    validate::slug("tenant", slug)?;
    let row = db
        .query_opt("SELECT id FROM tenants WHERE slug = $1", &[&slug])
        .await?;
    row.map(|r| r.get(0))
        .ok_or_else(|| AdminError::NotFound(tenant_label(slug)))
}

/// `to_char` format of every timestamp shown: RFC 3339 in UTC, to the second.
const UTC_FORMAT: &str = "YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"";

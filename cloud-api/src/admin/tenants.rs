//! Tenants: the companies that own farms, products and storefront keys.

use tokio_postgres::GenericClient;

use super::{tenant_label, validate, AdminError, UTC_FORMAT};

/// Longest display name of a tenant or farm, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 200;

/// A tenant, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// The slug (`tenants.slug`), how every command names it.
    pub slug: String,
    /// The display name.
    pub name: String,
    /// How many farms it has.
    pub farms: i64,
    /// When it was added (RFC 3339, UTC).
    pub created_at: String,
}

/// Adds tenant `slug` with display name `name` (the slug if `None`); refuses a slug in use.
pub async fn add_tenant(
    db: &mut impl GenericClient,
    slug: &str,
    name: Option<&str>,
) -> Result<(), AdminError> {
    validate::slug("tenant", slug)?;
    let name = name.unwrap_or(slug);
    validate::name("name", name, MAX_NAME_CHARS)?;
    let inserted = db
        .execute(
            "INSERT INTO tenants (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING",
            &[&slug, &name],
        )
        .await?;
    if inserted == 0 {
        return Err(AdminError::Exists(tenant_label(slug)));
    }
    Ok(())
}

/// Every tenant, by slug.
pub async fn list_tenants(db: &impl GenericClient) -> Result<Vec<Tenant>, AdminError> {
    let rows = db
        .query(
            "SELECT t.slug, t.name,
                    (SELECT count(*) FROM farms f WHERE f.tenant_id = t.id),
                    to_char(t.created_at AT TIME ZONE 'UTC', $1)
             FROM tenants t ORDER BY t.slug",
            &[&UTC_FORMAT],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Tenant {
            slug: r.get(0),
            name: r.get(1),
            farms: r.get(2),
            created_at: r.get(3),
        })
        .collect())
}

//! Farms: a tenant's sites, each with its edge devices.

use tokio_postgres::GenericClient;

use super::tenants::MAX_NAME_CHARS;
use super::{tenant_id, tenant_label, validate, AdminError, UTC_FORMAT};

/// A farm, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Farm {
    /// The slug (`farms.slug`), unique within its tenant.
    pub slug: String,
    /// The display name.
    pub name: String,
    /// How many devices it has.
    pub devices: i64,
    /// When it was added (RFC 3339, UTC).
    pub created_at: String,
}

/// Adds farm `slug` with display name `name` (the slug if `None`) to tenant `tenant`;
/// refuses an unknown tenant and a slug the tenant uses already.
pub async fn add_farm(
    db: &mut impl GenericClient,
    tenant: &str,
    slug: &str,
    name: Option<&str>,
) -> Result<(), AdminError> {
    validate::slug("tenant", tenant)?;
    validate::slug("farm", slug)?;
    let name = name.unwrap_or(slug);
    validate::name("name", name, MAX_NAME_CHARS)?;
    let tenant_id = tenant_id(&*db, tenant).await?;
    let inserted = db
        .execute(
            "INSERT INTO farms (tenant_id, slug, name) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id, slug) DO NOTHING",
            &[&tenant_id, &slug, &name],
        )
        .await?;
    if inserted == 0 {
        return Err(AdminError::Exists(farm_label(tenant, slug)));
    }
    Ok(())
}

/// The farms of tenant `tenant`, by slug.
pub async fn list_farms(db: &impl GenericClient, tenant: &str) -> Result<Vec<Farm>, AdminError> {
    let tenant_id = tenant_id(db, tenant).await?;
    let rows = db
        .query(
            "SELECT f.slug, f.name,
                    (SELECT count(*) FROM devices d WHERE d.farm_id = f.id),
                    to_char(f.created_at AT TIME ZONE 'UTC', $2)
             FROM farms f WHERE f.tenant_id = $1 ORDER BY f.slug",
            &[&tenant_id, &UTC_FORMAT],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Farm {
            slug: r.get(0),
            name: r.get(1),
            devices: r.get(2),
            created_at: r.get(3),
        })
        .collect())
}

/// `farm "slug" of tenant "tenant"`, as errors name a farm.
fn farm_label(tenant: &str, slug: &str) -> String {
    format!("farm {slug:?} of {}", tenant_label(tenant))
}

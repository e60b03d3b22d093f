//! Devices: a farm's edge agents, each with a token of which only the SHA-256 is stored.

use tokio_postgres::GenericClient;

use super::{tenant_id, validate, AdminError, UTC_FORMAT};
use crate::secrets::{new_secret, secret_hash, DEVICE_TOKEN_PREFIX};

/// A device just provisioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    /// Its token (`fdt_` + 64 hex digits). Stored nowhere: show it once.
    pub token: String,
    /// Whether the tenant was created for it.
    pub created_tenant: bool,
    /// Whether the farm was created for it.
    pub created_farm: bool,
}

/// A device, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The device id (the edge's `agent.device_id`).
    pub id: String,
    /// Its farm's slug.
    pub farm: String,
    /// The highest sequence number sync-service acknowledged.
    pub acked_seq: i64,
    /// When its last batch arrived (RFC 3339, UTC), if one did.
    pub last_batch_at: Option<String>,
    /// When it was provisioned (RFC 3339, UTC).
    pub created_at: String,
}

/// Creates device `device` on farm `farm` of tenant `tenant`, creating the tenant and the
/// farm (named after their slugs) if they do not exist, and returns its token, which is
/// stored nowhere. Refuses a device id in use (by any tenant: ids are global).
pub async fn provision_device(
    db: &mut impl GenericClient,
    tenant: &str,
    farm: &str,
    device: &str,
) -> Result<Provisioned, AdminError> {
    validate::slug("tenant", tenant)?;
    validate::slug("farm", farm)?;
    validate::device_id(device)?;
    let token = new_secret(DEVICE_TOKEN_PREFIX)?;
    let tx = db.transaction().await?;
    let (tenant_id, created_tenant) = insert_or_get(
        &tx,
        "INSERT INTO tenants (slug, name) VALUES ($1, $1) ON CONFLICT (slug) DO NOTHING
         RETURNING id",
        "SELECT id FROM tenants WHERE slug = $1",
        &[&tenant],
    )
    .await?;
    let (farm_id, created_farm) = insert_or_get(
        &tx,
        "INSERT INTO farms (tenant_id, slug, name) VALUES ($1, $2, $2)
         ON CONFLICT (tenant_id, slug) DO NOTHING RETURNING id",
        "SELECT id FROM farms WHERE tenant_id = $1 AND slug = $2",
        &[&tenant_id, &farm],
    )
    .await?;
    let inserted = tx
        .execute(
            "INSERT INTO devices (id, farm_id, token_sha256) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO NOTHING",
            &[&device, &farm_id, &secret_hash(&token).as_slice()],
        )
        .await?;
    if inserted == 0 {
        return Err(AdminError::Exists(format!("device {device:?}")));
    }
    tx.commit().await?;
    Ok(Provisioned {
        token,
        created_tenant,
        created_farm,
    })
}

/// The id a row gets from `insert` (`… ON CONFLICT DO NOTHING RETURNING id`), else the id
/// `select` finds (the row existed); and whether it was inserted.
async fn insert_or_get(
    tx: &tokio_postgres::Transaction<'_>,
    insert: &str,
    select: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<(i64, bool), tokio_postgres::Error> {
    if let Some(row) = tx.query_opt(insert, params).await? {
        return Ok((row.get(0), true));
    }
    Ok((tx.query_one(select, params).await?.get(0), false))
}

/// The devices of tenant `tenant`, by farm and id.
pub async fn list_devices(
    db: &impl GenericClient,
    tenant: &str,
) -> Result<Vec<DeviceInfo>, AdminError> {
    let tenant_id = tenant_id(db, tenant).await?;
    let rows = db
        .query(
            "SELECT d.id, f.slug, d.acked_seq,
                    to_char(d.last_batch_at AT TIME ZONE 'UTC', $2),
                    to_char(d.created_at AT TIME ZONE 'UTC', $2)
             FROM devices d JOIN farms f ON f.id = d.farm_id
             WHERE f.tenant_id = $1 ORDER BY f.slug, d.id",
            &[&tenant_id, &UTC_FORMAT],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| DeviceInfo {
            id: r.get(0),
            farm: r.get(1),
            acked_seq: r.get(2),
            last_batch_at: r.get(3),
            created_at: r.get(4),
        })
        .collect())
}

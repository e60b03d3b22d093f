//! Storefront API keys: made for a tenant, shown once, stored as their SHA-256, revoked by
//! id. A revoked key stays listed, with when it was revoked.

use tokio_postgres::GenericClient;

use super::{tenant_id, tenant_label, validate, AdminError, UTC_FORMAT};
use crate::secrets::{new_secret, secret_hash, STOREFRONT_KEY_PREFIX};

/// Longest key name, in characters (as the schema checks it).
const MAX_NAME_CHARS: usize = 100;

/// A key just created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// Its id (`api_keys.id`), to revoke it by.
    pub id: i64,
    /// The key (`fsk_` + 64 hex digits). Stored nowhere: show it once.
    pub key: String,
}

/// A key, as listed (never the key itself: it is not stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Its id.
    pub id: i64,
    /// What it is for (`webshop`, `pos-1` …).
    pub name: String,
    /// When it was created (RFC 3339, UTC).
    pub created_at: String,
    /// When it was revoked (RFC 3339, UTC), if it was.
    pub revoked_at: Option<String>,
}

/// Whether [`revoke_key`] revoked the key or found it revoked already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// Revoked now.
    Now,
    /// It had been revoked at this time (RFC 3339, UTC); nothing changed.
    Already(String),
}

/// Creates a storefront key named `name` for tenant `tenant`; returns it, once.
pub async fn create_key(
    db: &mut impl GenericClient,
    tenant: &str,
    name: &str,
) -> Result<NewKey, AdminError> {
    validate::name("name", name, MAX_NAME_CHARS)?;
    let tenant_id = tenant_id(&*db, tenant).await?;
    let key = new_secret(STOREFRONT_KEY_PREFIX)?;
    let id = db
        .query_one(
            "INSERT INTO api_keys (tenant_id, name, key_sha256) VALUES ($1, $2, $3) RETURNING id",
            &[&tenant_id, &name, &secret_hash(&key).as_slice()],
        )
        .await?
        .get(0);
    Ok(NewKey { id, key })
}

/// The keys of tenant `tenant`, oldest first, revoked ones included.
pub async fn list_keys(db: &impl GenericClient, tenant: &str) -> Result<Vec<ApiKey>, AdminError> {
    let tenant_id = tenant_id(db, tenant).await?;
    let rows = db
        .query(
            "SELECT id, name, to_char(created_at AT TIME ZONE 'UTC', $2),
                    to_char(revoked_at AT TIME ZONE 'UTC', $2)
             FROM api_keys WHERE tenant_id = $1 ORDER BY id",
            &[&tenant_id, &UTC_FORMAT],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| ApiKey {
            id: r.get(0),
            name: r.get(1),
            created_at: r.get(2),
            revoked_at: r.get(3),
        })
        .collect())
}

/// Revokes key `id` of tenant `tenant`: it stops working (cloud-api may trust a key it
/// looked up for its `key_cache_ttl` more). A key of another tenant is
/// [`AdminError::NotFound`], as is an unknown id.
pub async fn revoke_key(
    db: &mut impl GenericClient,
    tenant: &str,
    id: i64,
) -> Result<Revoked, AdminError> {
    let tx = db.transaction().await?;
    let tenant_id = tenant_id(&tx, tenant).await?;
    let row = tx
        .query_opt(
            "SELECT to_char(revoked_at AT TIME ZONE 'UTC', $3) FROM api_keys
             WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
            &[&id, &tenant_id, &UTC_FORMAT],
        )
        .await?;
    let Some(row) = row else {
        let key = format!("API key {id} of {}", tenant_label(tenant));
        return Err(AdminError::NotFound(key));
    };
    if let Some(at) = row.get::<_, Option<String>>(0) {
        return Ok(Revoked::Already(at));
    }
    tx.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1",
        &[&id],
    )
    .await?;
    tx.commit().await?;
    Ok(Revoked::Now)
}

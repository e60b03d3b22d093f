//! Devices and their tokens: provisioning (a token shown once, only its SHA-256 kept) and
//! looking a device up by the token it presents.
//!
//! Tokens are 32 random bytes (256 bits) from the OS, as 64 hex digits after a `fdt_`
//! prefix. That much entropy needs no slow password hash: SHA-256 makes a leaked table
//! useless and lets the lookup be one indexed query per request.

use sha2::{Digest, Sha256};
use tokio_postgres::GenericClient;

/// Prefix of every device token, so a token is recognisable in a secret scanner.
const TOKEN_PREFIX: &str = "fdt_";

/// The device a request's token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The device id (`agent.device_id` on the edge).
    pub id: String,
    /// Its tenant's slug (an InfluxDB tag).
    pub tenant: String,
    /// Its farm's slug (an InfluxDB tag).
    pub farm: String,
}

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The device id is taken.
    #[error("device {0:?} exists already; pick another id")]
    Exists(String),
    /// An id or slug breaks the schema's rules.
    #[error("{0}")]
    Invalid(String),
    /// The OS random source failed.
    #[error("no randomness for the token: {0}")]
    Random(String),
    /// PostgreSQL failed.
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
}

/// The SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new random token.
fn new_token() -> Result<String, ProvisionError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ProvisionError::Random(e.to_string()))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{TOKEN_PREFIX}{hex}"))
}

/// Whether `slug` is a valid tenant or farm slug (as the schema checks it).
fn valid_slug(slug: &str) -> bool {
    let mut chars = slug.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c));
    first_ok && rest_ok && slug.len() <= 63
}

/// Creates device `device` on farm `farm` of tenant `tenant` (creating the tenant and the
/// farm if they do not exist) and returns its token, which is stored nowhere.
pub async fn provision(
    db: &mut tokio_postgres::Client,
    tenant: &str,
    farm: &str,
    device: &str,
) -> Result<String, ProvisionError> {
    for (what, slug) in [("tenant", tenant), ("farm", farm)] {
        if !valid_slug(slug) {
            return Err(ProvisionError::Invalid(format!(
                "{what} {slug:?}: use 1-63 lowercase letters, digits, '-' or '_', starting \
                 with a letter or digit"
            )));
        }
    }
    let device_ok =
        !device.is_empty() && device.len() <= 128 && device.chars().all(|c| c.is_ascii_graphic());
    if !device_ok {
        let message = format!("device {device:?}: use 1-128 printable ASCII characters");
        return Err(ProvisionError::Invalid(message));
    }
    let token = new_token()?;
    let tx = db.transaction().await?;
    let tenant_id: i64 = tx
        .query_one(
            "INSERT INTO tenants (slug, name) VALUES ($1, $1)
             ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id",
            &[&tenant],
        )
        .await?
        .get(0);
    let farm_id: i64 = tx
        .query_one(
            "INSERT INTO farms (tenant_id, slug, name) VALUES ($1, $2, $2)
             ON CONFLICT (tenant_id, slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id",
            &[&tenant_id, &farm],
        )
        .await?
        .get(0);
    let inserted = tx
        .execute(
            "INSERT INTO devices (id, farm_id, token_sha256) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO NOTHING",
            &[&device, &farm_id, &token_hash(&token).as_slice()],
        )
        .await?;
    if inserted == 0 {
        return Err(ProvisionError::Exists(device.to_owned()));
    }
    tx.commit().await?;
    Ok(token)
}

/// The device whose token is `token`, if any.
pub async fn by_token(
    db: &impl GenericClient,
    token: &str,
) -> Result<Option<Device>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT d.id, t.slug, f.slug FROM devices d
             JOIN farms f ON f.id = d.farm_id JOIN tenants t ON t.id = f.tenant_id
             WHERE d.token_sha256 = $1",
            &[&token_hash(token).as_slice()],
        )
        .await?;
    Ok(row.map(|r| Device {
        id: r.get(0),
        tenant: r.get(1),
        farm: r.get(2),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_hex_and_hash_to_32_bytes() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("fdt_") && a.len() == 4 + 64, "{a}");
        assert!(a[4..].chars().all(|c| c.is_ascii_hexdigit()));
        // SHA-256("abc"), from FIPS 180-2.
        let abc = token_hash("abc");
        assert_eq!(abc[..4], [0xba, 0x78, 0x16, 0xbf]);
    }

    #[test]
    fn slugs_follow_the_schema_rule() {
        for good in ["acme", "farm-1", "a_b", "9lives"] {
            assert!(valid_slug(good), "{good}");
        }
        for bad in ["", "Acme", "-farm", "farm 1", "ünï", &"a".repeat(64)] {
            assert!(!valid_slug(bad), "{bad}");
        }
    }
}

//! Devices and their tokens: looking a device up by the token it presents, and
//! provisioning (a token shown once, only its SHA-256 kept), which lives in
//! [`cloud_api::admin`] and is wrapped here for `sync-service provision`.
//!
//! Tokens are 32 random bytes (256 bits) from the OS, as 64 hex digits after a `fdt_`
//! prefix ([`cloud_api::secrets`]). That much entropy needs no slow password hash: SHA-256
//! makes a leaked table useless and lets the lookup be one indexed query per request.

use tokio_postgres::GenericClient;

/// Why provisioning failed (the admin library's error).
pub use cloud_api::admin::AdminError as ProvisionError;

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

/// The SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> [u8; 32] {
    cloud_api::secrets::secret_hash(token)
}

/// Creates device `device` on farm `farm` of tenant `tenant` (creating the tenant and the
/// farm if they do not exist) and returns its token, which is stored nowhere. See
/// [`cloud_api::admin::provision_device`].
pub async fn provision(
    db: &mut tokio_postgres::Client,
    tenant: &str,
    farm: &str,
    device: &str,
) -> Result<String, ProvisionError> {
    let provisioned = cloud_api::admin::provision_device(db, tenant, farm, device).await?;
    Ok(provisioned.token)
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
    fn the_token_hash_is_sha256() {
        // SHA-256("abc"), from FIPS 180-2.
        let abc = token_hash("abc");
        assert_eq!(abc[..4], [0xba, 0x78, 0x16, 0xbf]);
    }
}

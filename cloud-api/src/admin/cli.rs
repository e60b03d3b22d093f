//! The admin subcommands of `cloud-api` (`tenant`, `farm`, `product`, `device`, `key`) and
//! [`execute`], which runs one and returns what to print.
//!
//! Data goes to stdout (a table, or a new secret alone on its line so a script can capture
//! it); what happened and the one-time-secret warning go to stderr.

use clap::Subcommand;
use tokio_postgres::GenericClient;

use super::keys::Revoked;
use super::products::{ProductSpec, Upserted};
use super::table::table;
use super::{devices, farms, keys, products, tenant_label, tenants, AdminError};

/// An administrative command.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum AdminCommand {
    /// Tenants: the companies that own farms, products and storefront keys.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Farms of a tenant.
    #[command(subcommand)]
    Farm(FarmCommand),
    /// Products of a tenant (its catalogue).
    #[command(subcommand)]
    Product(ProductCommand),
    /// Edge devices of a tenant's farms, with their tokens.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Storefront API keys of a tenant.
    #[command(subcommand)]
    Key(KeyCommand),
}

/// `tenant add|list`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum TenantCommand {
    /// Add a tenant.
    Add {
        /// Its slug: 1-63 lowercase letters, digits, '-' or '_'.
        #[arg(long)]
        tenant: String,
        /// Its display name (default: the slug).
        #[arg(long)]
        name: Option<String>,
    },
    /// List the tenants.
    List,
}

/// `farm add|list`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum FarmCommand {
    /// Add a farm to a tenant.
    Add {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// The farm's slug: 1-63 lowercase letters, digits, '-' or '_'.
        #[arg(long)]
        farm: String,
        /// Its display name (default: the slug).
        #[arg(long)]
        name: Option<String>,
    },
    /// List a tenant's farms.
    List {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
    },
}

/// `product add|list`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ProductCommand {
    /// Add a product, or update the tenant's product with this SKU.
    Add {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// The SKU: 1-64 letters, digits, '.', '-' or '_'.
        #[arg(long)]
        sku: String,
        /// The name shown to shoppers.
        #[arg(long)]
        name: String,
        /// What quantities count: kg, g or each.
        #[arg(long)]
        unit: String,
        /// Days from harvest to best-before (1-3650).
        #[arg(long, allow_negative_numbers = true)]
        shelf_life_days: i32,
        /// Availability at or below which the product is low on stock, in its unit (e.g.
        /// 2.5). Default: 0 for a new product, unchanged for an existing one.
        #[arg(long, allow_hyphen_values = true)]
        low_stock_threshold: Option<String>,
    },
    /// List a tenant's products.
    List {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
    },
}

/// `device add|list`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum DeviceCommand {
    /// Create a device on a farm (creating the tenant and farm if needed) and print its
    /// token, once: only its hash is kept.
    Add {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// The farm's slug.
        #[arg(long)]
        farm: String,
        /// The device id (the edge's `agent.device_id`).
        #[arg(long)]
        device: String,
    },
    /// List a tenant's devices.
    List {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
    },
}

/// `key add|list|revoke`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum KeyCommand {
    /// Create a storefront API key and print it, once: only its hash is kept.
    Add {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// What the key is for (e.g. webshop), 1-100 characters.
        #[arg(long)]
        name: String,
    },
    /// List a tenant's keys (never the keys themselves).
    List {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a key of a tenant by its id.
    Revoke {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// The key's id (from `key add` or `key list`).
        #[arg(long)]
        id: i64,
    },
}

/// What a command has to say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// For stdout: data only, a table or a new secret alone on its line. Ends with a newline
    /// unless empty.
    pub stdout: String,
    /// For stderr: what happened, and that a secret cannot be shown again. Ends with a
    /// newline unless empty.
    pub stderr: String,
}

impl Output {
    fn data(stdout: String) -> Output {
        Output {
            stdout,
            stderr: String::new(),
        }
    }

    fn note(stderr: String) -> Output {
        Output {
            stdout: String::new(),
            stderr: stderr + "\n",
        }
    }
}

/// The warning that goes with a new secret.
const SHOWN_ONCE: &str = "it is not stored and cannot be shown again";

/// Runs `command` against `db`; returns what to print (see [`Output`]). Print `stdout` and
/// `stderr` as they are (`print!`, `eprint!`).
pub async fn execute(
    command: &AdminCommand,
    db: &mut impl GenericClient,
) -> Result<Output, AdminError> {
    match command {
        AdminCommand::Tenant(command) => tenant(command, db).await,
        AdminCommand::Farm(command) => farm(command, db).await,
        AdminCommand::Product(command) => product(command, db).await,
        AdminCommand::Device(command) => device(command, db).await,
        AdminCommand::Key(command) => key(command, db).await,
    }
}

async fn tenant(
    command: &TenantCommand,
    db: &mut impl GenericClient,
) -> Result<Output, AdminError> {
    match command {
        TenantCommand::Add { tenant, name } => {
            tenants::add_tenant(db, tenant, name.as_deref()).await?;
            Ok(Output::note(format!("{} added", tenant_label(tenant))))
        }
        TenantCommand::List => {
            let rows = tenants::list_tenants(&*db)
                .await?
                .into_iter()
                .map(|t| vec![t.slug, t.name, t.farms.to_string(), t.created_at]);
            Ok(Output::data(table(
                &["TENANT", "NAME", "FARMS", "CREATED"],
                rows,
            )))
        }
    }
}

async fn farm(command: &FarmCommand, db: &mut impl GenericClient) -> Result<Output, AdminError> {
    match command {
        FarmCommand::Add { tenant, farm, name } => {
            farms::add_farm(db, tenant, farm, name.as_deref()).await?;
            let what = format!("farm {farm:?} added to {}", tenant_label(tenant));
            Ok(Output::note(what))
        }
        FarmCommand::List { tenant } => {
            let rows = farms::list_farms(&*db, tenant)
                .await?
                .into_iter()
                .map(|f| vec![f.slug, f.name, f.devices.to_string(), f.created_at]);
            Ok(Output::data(table(
                &["FARM", "NAME", "DEVICES", "CREATED"],
                rows,
            )))
        }
    }
}

async fn product(
    command: &ProductCommand,
    db: &mut impl GenericClient,
) -> Result<Output, AdminError> {
    match command {
        ProductCommand::Add {
            tenant,
            sku,
            name,
            unit,
            shelf_life_days,
            low_stock_threshold,
        } => {
            let spec = ProductSpec {
                sku: sku.clone(),
                name: name.clone(),
                unit: unit.clone(),
                shelf_life_days: *shelf_life_days,
                low_stock_threshold: low_stock_threshold.clone(),
            };
            let done = match products::upsert_product(db, tenant, &spec).await? {
                Upserted::Added => "added",
                Upserted::Updated => "updated",
            };
            let what = format!("product {sku:?} of {} {done}", tenant_label(tenant));
            Ok(Output::note(what))
        }
        ProductCommand::List { tenant } => {
            let rows = products::list_products(&*db, tenant)
                .await?
                .into_iter()
                .map(|p| {
                    let days = p.shelf_life_days.to_string();
                    vec![
                        p.sku,
                        p.name,
                        p.unit,
                        days,
                        p.low_stock_threshold,
                        p.created_at,
                    ]
                });
            let header = [
                "SKU",
                "NAME",
                "UNIT",
                "SHELF_LIFE_DAYS",
                "LOW_STOCK",
                "CREATED",
            ];
            Ok(Output::data(table(&header, rows)))
        }
    }
}

async fn device(
    command: &DeviceCommand,
    db: &mut impl GenericClient,
) -> Result<Output, AdminError> {
    match command {
        DeviceCommand::Add {
            tenant,
            farm,
            device,
        } => {
            let new = devices::provision_device(db, tenant, farm, device).await?;
            let created = match (new.created_tenant, new.created_farm) {
                (true, _) => " (tenant and farm created)",
                (false, true) => " (farm created)",
                (false, false) => "",
            };
            let stderr = format!(
                "device {device:?} created on farm {farm:?} of {}{created}; keep the token \
                 above: {SHOWN_ONCE}\n",
                tenant_label(tenant)
            );
            Ok(Output {
                stdout: new.token + "\n",
                stderr,
            })
        }
        DeviceCommand::List { tenant } => {
            let rows = devices::list_devices(&*db, tenant)
                .await?
                .into_iter()
                .map(|d| {
                    let last = d.last_batch_at.unwrap_or_else(|| "-".into());
                    vec![d.id, d.farm, d.acked_seq.to_string(), last, d.created_at]
                });
            let header = ["DEVICE", "FARM", "ACKED_SEQ", "LAST_BATCH", "CREATED"];
            Ok(Output::data(table(&header, rows)))
        }
    }
}

async fn key(command: &KeyCommand, db: &mut impl GenericClient) -> Result<Output, AdminError> {
    match command {
        KeyCommand::Add { tenant, name } => {
            let new = keys::create_key(db, tenant, name).await?;
            let stderr = format!(
                "API key {} ({name:?}) created for {}; keep the key above: {SHOWN_ONCE}\n",
                new.id,
                tenant_label(tenant)
            );
            Ok(Output {
                stdout: new.key + "\n",
                stderr,
            })
        }
        KeyCommand::List { tenant } => {
            let rows = keys::list_keys(&*db, tenant).await?.into_iter().map(|k| {
                let revoked = k.revoked_at.unwrap_or_else(|| "-".into());
                vec![k.id.to_string(), k.name, k.created_at, revoked]
            });
            Ok(Output::data(table(
                &["ID", "NAME", "CREATED", "REVOKED"],
                rows,
            )))
        }
        KeyCommand::Revoke { tenant, id } => {
            let key = format!("API key {id} of {}", tenant_label(tenant));
            Ok(Output::note(
                match keys::revoke_key(db, tenant, *id).await? {
                    Revoked::Now => format!(
                        "{key} revoked; a running cloud-api may accept it until its key cache \
                     entry expires (http.key_cache_ttl)"
                    ),
                    Revoked::Already(at) => format!("{key} was revoked already, at {at}"),
                },
            ))
        }
    }
}

//! `sync-service`: run the batch API, migrate the schema, provision devices.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sync_service::config::Config;

#[derive(Parser)]
#[command(version, about = "Cloud ingest of edge sync batches")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve POST /v1/batches (applies migrations first).
    Run {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Bring the PostgreSQL schema up to date and exit.
    Migrate {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Check the config file and exit (0 if it is usable).
    CheckConfig {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Create a device on a farm (creating the tenant and farm if needed) and print its
    /// token, once: only its hash is kept.
    Provision {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cloud_api::run::init_logging();
    let path = match &cli.command {
        Command::Run { config }
        | Command::Migrate { config }
        | Command::CheckConfig { config }
        | Command::Provision { config, .. } => config.clone(),
    };
    let config = match Config::load(&path) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("sync-service: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match cloud_api::run::runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("sync-service: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::CheckConfig { .. } => Ok(()),
        Command::Run { .. } => {
            let shutdown = {
                let _entered = runtime.enter();
                cloud_api::run::shutdown_signal()
            };
            runtime
                .block_on(sync_service::run::serve(config, shutdown))
                .map_err(|e| e.to_string())
        }
        Command::Migrate { .. } => runtime.block_on(migrate(&config)),
        Command::Provision {
            tenant,
            farm,
            device,
            ..
        } => runtime.block_on(provision(&config, &tenant, &farm, &device)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sync-service: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: &Config) -> Result<(), String> {
    let pool = sync_service::run::pool(&config.postgres.url, 1).map_err(|e| e.to_string())?;
    let applied = sync_service::run::migrate(&pool)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!("sync-service: {} migration(s) applied", applied.len());
    Ok(())
}

async fn provision(config: &Config, tenant: &str, farm: &str, device: &str) -> Result<(), String> {
    let pool = sync_service::run::pool(&config.postgres.url, 1).map_err(|e| e.to_string())?;
    sync_service::run::migrate(&pool)
        .await
        .map_err(|e| e.to_string())?;
    let mut client = pool.get().await.map_err(|e| e.to_string())?;
    let client: &mut tokio_postgres::Client = &mut client;
    let token = sync_service::devices::provision(client, tenant, farm, device)
        .await
        .map_err(|e| e.to_string())?;
    // The token on stdout (and nothing else), so a script can capture it.
    println!("{token}");
    eprintln!(
        "sync-service: device {device:?} created on farm {farm:?} of tenant {tenant:?}; \
         keep the token above: it is not stored and cannot be shown again"
    );
    Ok(())
}

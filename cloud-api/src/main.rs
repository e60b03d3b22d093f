//! `cloud-api`: serve the storefront API, migrate the schema, administer tenants, farms,
//! products, devices and API keys.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cloud_api::admin::AdminCommand;
use cloud_api::config::Config;

#[derive(Parser)]
#[command(version, about = "Storefront inventory API and its administration")]
struct Cli {
    /// The config file.
    #[arg(long, short, global = true, env = "CLOUD_API_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the storefront API (applies migrations first).
    Run,
    /// Bring the PostgreSQL schema up to date and exit.
    Migrate,
    /// Check the config file and exit (0 if it is usable).
    CheckConfig,
    #[command(flatten)]
    Admin(AdminCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cloud_api::run::init_logging();
    let Some(path) = cli.config else {
        eprintln!("cloud-api: give the config file with --config FILE (or CLOUD_API_CONFIG)");
        return ExitCode::from(2);
    };
    let config = match Config::load(&path) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("cloud-api: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match cloud_api::run::runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cloud-api: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::CheckConfig => Ok(()),
        Command::Run => {
            let shutdown = {
                let _entered = runtime.enter();
                cloud_api::run::shutdown_signal()
            };
            runtime
                .block_on(cloud_api::run::serve(config, shutdown))
                .map_err(|e| e.to_string())
        }
        Command::Migrate => runtime.block_on(migrate(&config)),
        Command::Admin(command) => runtime.block_on(admin(&config, &command)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloud-api: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: &Config) -> Result<(), String> {
    let pool = cloud_api::run::pool(&config.postgres.url, 1, None).map_err(|e| e.to_string())?;
    let applied = cloud_api::run::migrate(&pool)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!("cloud-api: {} migration(s) applied", applied.len());
    Ok(())
}

async fn admin(config: &Config, command: &AdminCommand) -> Result<(), String> {
    let pool = cloud_api::run::pool(&config.postgres.url, 1, None).map_err(|e| e.to_string())?;
    cloud_api::run::migrate(&pool)
        .await
        .map_err(|e| e.to_string())?;
    let mut client = pool.get().await.map_err(|e| e.to_string())?;
    let client: &mut tokio_postgres::Client = &mut client;
    let output = cloud_api::admin::execute(command, client)
        .await
        .map_err(|e| e.to_string())?;
    print!("{}", output.stdout);
    eprint!("{}", output.stderr);
    Ok(())
}

//! What the admin tests share: a fresh migrated database and the admin commands run through
//! the same clap parsing `cloud-api` uses.
#![allow(dead_code, clippy::unwrap_used)]

use clap::Parser;
use cloud_api::admin::{self, AdminCommand, AdminError, Output};
use farm_e2e::Postgres;
use tokio_postgres::{Client, NoTls};

/// The database the tests use.
pub const DB: &str = "admin";

/// The admin subcommands at the top level, as `cloud-api` has them.
#[derive(Parser)]
pub struct Cli {
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// A fresh, migrated database and a client connected to it.
pub async fn database() -> (Postgres, Client) {
    let postgres = Postgres::start();
    let url = postgres.create_database(DB);
    let (mut client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    cloud_api::db::migrate(&mut client).await.unwrap();
    (postgres, client)
}

/// Parses `args` as the command line after `cloud-api` and runs the command.
pub async fn run(db: &mut Client, args: &[&str]) -> Result<Output, AdminError> {
    let cli = Cli::try_parse_from(std::iter::once("cloud-api").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    admin::execute(&cli.command, db).await
}

/// [`run`] that must succeed.
pub async fn ok(db: &mut Client, args: &[&str]) -> Output {
    run(db, args)
        .await
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// [`run`] that must fail; returns the error and its message.
pub async fn fails(db: &mut Client, args: &[&str]) -> (AdminError, String) {
    match run(db, args).await {
        Ok(output) => panic!("{args:?} succeeded: {output:?}"),
        Err(e) => {
            let message = e.to_string();
            (e, message)
        }
    }
}

/// The field an [`AdminError::Invalid`] names.
pub fn invalid_field(error: &AdminError) -> Option<&'static str> {
    match error {
        AdminError::Invalid { field, .. } => Some(field),
        _ => None,
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The lines of a table after its header, each split into cells (at runs of 2+ spaces).
pub fn table_rows(stdout: &str) -> Vec<Vec<&str>> {
    stdout
        .lines()
        .skip(1)
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect()
}

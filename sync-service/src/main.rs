//! The cloud sync-service: receives edge batches, writes telemetry to InfluxDB and applies
//! harvest events to inventory.
//!
//! Not built yet (issue 6). The binary says so and exits non-zero rather than pretending to
//! accept batches.

fn main() -> std::process::ExitCode {
    if std::env::args().any(|a| a == "--version" || a == "-V") {
        println!("sync-service {}", env!("CARGO_PKG_VERSION"));
        return std::process::ExitCode::SUCCESS;
    }
    eprintln!("sync-service: not implemented yet; batch ingest arrives with issue 6");
    std::process::ExitCode::from(2)
}

//! The cloud storefront API: product availability and inventory.
//!
//! Not built yet (issue 7). The binary says so and exits non-zero rather than pretending to
//! serve inventory.

fn main() -> std::process::ExitCode {
    if std::env::args().any(|a| a == "--version" || a == "-V") {
        println!("cloud-api {}", env!("CARGO_PKG_VERSION"));
        return std::process::ExitCode::SUCCESS;
    }
    eprintln!("cloud-api: not implemented yet; the storefront API arrives with issue 7");
    std::process::ExitCode::from(2)
}

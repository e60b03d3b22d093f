//! `edge-agent`: the farm edge daemon's command line. See the README for the config file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use edge_agent::config::{self, Config};

/// The farm edge agent: samples sensors and buffers every reading durably for the cloud.
#[derive(Parser)]
#[command(name = "edge-agent", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the agent until SIGTERM or SIGINT, then flush the outbox and exit 0.
    Run {
        /// The config file.
        #[arg(long, short, default_value = "/etc/edge-agent/config.toml")]
        config: PathBuf,
    },
    /// Check a config file; exit non-zero listing every problem with file and key.
    Validate {
        /// The config file.
        #[arg(long, short, default_value = "/etc/edge-agent/config.toml")]
        config: PathBuf,
    },
    /// Print a commented example config with every key and its default.
    GenerateConfig,
    /// Commissioning: sensors.
    #[command(subcommand)]
    Sensors(SensorsCommand),
    /// Commissioning: the I2C bus.
    #[command(subcommand)]
    I2c(I2cCommand),
    /// The embedded MQTT broker.
    #[command(subcommand)]
    Mqtt(MqttCommand),
}

#[derive(Subcommand)]
enum MqttCommand {
    /// Read a password from standard input and print its argon2 hash, for `[[mqtt.users]]`.
    HashPassword,
}

#[derive(Subcommand)]
enum SensorsCommand {
    /// Take one reading from every configured sensor and print it; exit 1 if any failed.
    Read {
        /// The config file.
        #[arg(long, short, default_value = "/etc/edge-agent/config.toml")]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum I2cCommand {
    /// List the addresses that answer on a bus and which known sensors each may be.
    Scan {
        /// The I2C bus device.
        #[arg(long, default_value = "/dev/i2c-1")]
        bus: PathBuf,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::GenerateConfig => {
            print!("{}", config::EXAMPLE);
            ExitCode::SUCCESS
        }
        Command::Validate { config } => match config::load(&config) {
            Ok(cfg) => {
                println!(
                    "{}: ok ({} sensors, data_dir {})",
                    cfg.path.display(),
                    cfg.sensors.len(),
                    cfg.agent.data_dir.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
        Command::Sensors(SensorsCommand::Read { config }) => match config::load(&config) {
            Ok(cfg) => read_sensors(&cfg),
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
        Command::I2c(I2cCommand::Scan { bus }) => scan(&bus),
        Command::Mqtt(MqttCommand::HashPassword) => hash_password(),
        Command::Run { config } => match config::load(&config) {
            Ok(cfg) => run(cfg),
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
    }
}

fn run(config: Config) -> ExitCode {
    init_logging(&config);
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    // Registered now, before anything starts: a signal that arrives during start-up must
    // still stop the agent cleanly (a lazily registered handler left a window for SIGTERM's
    // default action).
    let shutdown = {
        let _entered = runtime.enter();
        shutdown_signal()
    };
    match runtime.block_on(edge_agent::agent::run(config, shutdown)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "Edge agent stopped on an error.");
            eprintln!("edge-agent: {e}");
            ExitCode::FAILURE
        }
    }
}

fn hash_password() -> ExitCode {
    let mut password = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut password) {
        eprintln!("edge-agent: cannot read the password: {e}");
        return ExitCode::FAILURE;
    }
    let password = password.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!("edge-agent: the password is empty");
        return ExitCode::from(2);
    }
    match farm_broker::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("edge-agent: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The single-threaded runtime the commands run on (the outbox and buses have their own
/// threads); `None` after saying why it could not start.
fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| eprintln!("edge-agent: cannot start the runtime: {e}"))
        .ok()
}

fn read_sensors(config: &Config) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(edge_agent::commission::read_all(config)) {
        Ok(answers) => {
            print!("{}", edge_agent::commission::format_answers(&answers));
            if answers.iter().all(|a| a.result.is_ok()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("edge-agent: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "linux")]
fn scan(bus: &std::path::Path) -> ExitCode {
    match edge_agent::commission::i2c_scan(bus) {
        Ok(table) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("edge-agent: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "linux"))]
fn scan(_bus: &std::path::Path) -> ExitCode {
    eprintln!("edge-agent: this build has no I2C support (built without the linux feature)");
    ExitCode::FAILURE
}

/// `RUST_LOG` wins over the config's `log_level`. rumqttd is silenced unless `RUST_LOG` asks
/// for it: it logs routine events (a client leaving, a refused login) as errors; farm-broker
/// logs what matters. Under systemd, journald stamps each line
/// itself, so the agent leaves out its own timestamp and colours.
fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{},rumqttd=off", config.agent.log_level))
    });
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().init();
    } else {
        builder.init();
    }
}

/// Registers for SIGTERM and SIGINT at once (within a runtime); the future completes on the
/// first of them.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let streams = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        match streams {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received."),
                    _ = int.recv() => tracing::info!("SIGINT received."),
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "Cannot listen for signals; stop with SIGKILL.");
                std::future::pending::<()>().await;
            }
        }
    }
}

//! A real PostgreSQL cluster (Debian's `postgresql` package) made by `initdb` in a temp dir and
//! run in the foreground (`postgres -D …`) as a child, on a free port of 127.0.0.1 with its unix
//! socket inside the temp dir; trust authentication for the `postgres` superuser.
//!
//! PostgreSQL refuses to run as root. When the tests run as root (CI, containers), `initdb`,
//! `postgres` and `pg_ctl` run as the `postgres` system user (uid/gid from `/etc/passwd`, set
//! on the child with `CommandExt::uid/gid`, which also drops root's supplementary groups), and
//! the temp dir is chowned to it. `psql` and `pg_isready` connect over TCP as any user.
//!
//! Invariants: the port and the data dir stay the same across [`Postgres::stop`] and
//! [`Postgres::start_again`]; dropping the value shuts the server down immediately
//! (`pg_ctl stop -m immediate`, then SIGKILL if it still runs), also when a test panics.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, temp_dir, Process, TempDir};

/// How long the server may take to accept connections after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a fast shutdown (SIGINT) may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a start on a freshly picked port is tried when the server exits at once.
const START_ATTEMPTS: usize = 3;

/// A running PostgreSQL server on 127.0.0.1 with its cluster in a temp dir. Stopped when
/// dropped.
pub struct Postgres {
    // Declared before `dir`: fields drop in order, so the server ends before its files go.
    process: Option<Process>,
    port: u16,
    bin: PathBuf,
    /// The `postgres` system user's uid and gid when the tests run as root.
    run_as: Option<(u32, u32)>,
    dir: TempDir,
}

impl Postgres {
    /// Runs `initdb` (`-A trust -U postgres --no-sync`, UTF-8, C locale) in a temp dir and
    /// starts the server on a free port with `listen_addresses=127.0.0.1` and `fsync=off`;
    /// waits until it accepts connections. Panics with the server's log if it does not
    /// within 30 s.
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = temp_dir();
        let run_as = run_as_postgres_user(dir.path());
        let data = dir.path().join("data");
        let output = command(&bin, "initdb", run_as, dir.path())
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            .args(["--locale=C"])
            .output()
            .expect("run initdb");
        check(&output, "initdb");
        let mut postgres = Postgres {
            process: None,
            port: 0,
            bin,
            run_as,
            dir,
        };
        for attempt in 1..=START_ATTEMPTS {
            postgres.port = free_port();
            let mut process = postgres.spawn();
            if postgres.wait_until_ready(&mut process, attempt == START_ATTEMPTS) {
                postgres.process = Some(process);
                return postgres;
            }
        }
        unreachable!("the last attempt panics when postgres does not come up")
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The connection URL of database `db`: `postgres://postgres@127.0.0.1:PORT/DB`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// `CREATE DATABASE "name"`; returns its URL (see [`Postgres::url`]).
    pub fn create_database(&self, name: &str) -> String {
        self.psql(
            "postgres",
            &format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\"")),
        );
        self.url(name)
    }

    /// Runs the SQL script `sql` in database `db` with `psql -X -q -A -t -v ON_ERROR_STOP=1`
    /// (the script on stdin, so several statements work; unaligned tuples only, one row a
    /// line, columns separated by `|`, no command tags). Returns stdout trimmed; panics with
    /// stderr if any statement fails.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let mut child = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-U", "postgres"])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-d")
            .arg(db)
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run psql");
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin.write_all(sql.as_bytes()).expect("send SQL to psql");
        drop(stdin);
        let output = child.wait_with_output().expect("wait for psql");
        check(&output, &format!("psql on {db:?} running {sql:?}"));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Stops the server with a fast shutdown (SIGINT: clients are disconnected, data is
    /// checkpointed); waits up to 30 s. Port and data stay for [`Postgres::start_again`];
    /// connections meanwhile are refused.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop(rustix::process::Signal::INT, STOP_TIMEOUT);
        }
    }

    /// Starts the server again after [`Postgres::stop`] on the same port with the same data,
    /// and waits until it accepts connections. Panics with its log if it does not within 30 s.
    pub fn start_again(&mut self) {
        assert!(self.process.is_none(), "postgres is still running");
        let mut process = self.spawn();
        self.wait_until_ready(&mut process, true);
        self.process = Some(process);
    }

    fn spawn(&self) -> Process {
        let mut command = command(&self.bin, "postgres", self.run_as, self.dir.path());
        command
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-k")
            .arg(self.dir.path())
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
            .args(["-c", "synchronous_commit=off"])
            .stdout(Stdio::null());
        Process::spawn("postgres", command)
    }

    /// Polls `pg_isready` until the server accepts connections. Returns false if the process
    /// ended first (unless `last_try`, then it panics with the log, as it does on the timeout).
    fn wait_until_ready(&self, process: &mut Process, last_try: bool) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"])
                .arg("-p")
                .arg(self.port.to_string())
                .status()
                .expect("run pg_isready");
            if ready.success() {
                return true;
            }
            if let Some(status) = process.try_wait() {
                if !last_try {
                    return false;
                }
                process.fail(&format!(
                    "exited with {status} before accepting connections"
                ));
            }
            if Instant::now() >= deadline {
                process.fail(&format!(
                    "not ready on port {} within {START_TIMEOUT:?}",
                    self.port
                ));
            }
            // Polling a starting service: bounded by the deadline, ends as soon as it is up.
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.process.is_some() {
            // What `pg_ctl stop -m immediate` does is SIGQUIT to the postmaster, which takes
            // its backends down too; it waits until the server is gone. Errors are ignored:
            // the process's own drop kills it if it still runs.
            let _ = command(&self.bin, "pg_ctl", self.run_as, self.dir.path())
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .args(["stop", "-m", "immediate", "-w", "-t", "10"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// `bin/program` run in `dir`, as the `postgres` user when `run_as` is set.
fn command(bin: &Path, program: &str, run_as: Option<(u32, u32)>, dir: &Path) -> Command {
    let mut command = Command::new(bin.join(program));
    command.current_dir(dir).env("HOME", dir);
    if let Some((uid, gid)) = run_as {
        command.uid(uid).gid(gid);
    }
    command
}

/// When running as root: the `postgres` user's uid and gid, with `dir` chowned to it.
fn run_as_postgres_user(dir: &Path) -> Option<(u32, u32)> {
    if !rustix::process::geteuid().is_root() {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    let (uid, gid) = passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&"postgres") && fields.len() > 3)
        .and_then(|fields| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
        .expect("running as root needs a `postgres` user: apt-get install postgresql");
    rustix::fs::chown(
        dir,
        Some(rustix::fs::Uid::from_raw(uid)),
        Some(rustix::fs::Gid::from_raw(gid)),
    )
    .expect("chown the temp dir to postgres");
    Some((uid, gid))
}

/// The newest `/usr/lib/postgresql/<version>/bin` with an `initdb`, else `pg_config --bindir`.
fn bin_dir() -> PathBuf {
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin);
    let from_pg_config = || {
        let output = Command::new("pg_config").arg("--bindir").output().ok()?;
        let bin = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        bin.join("initdb").exists().then_some(bin)
    };
    newest
        .or_else(from_pg_config)
        .expect("no PostgreSQL server binaries (initdb): apt-get install postgresql")
}

/// Panics with stdout and stderr unless `output` reports success.
fn check(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed with {}:\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

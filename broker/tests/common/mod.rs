//! Helpers shared by the broker's integration tests: a broker on 127.0.0.1:0 with one user,
//! a rumqttc client driven on the test thread, bounded waits, Debian's mosquitto clients.
#![allow(dead_code)] // each test file uses a different part

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use argon2::password_hash::SaltString;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
use farm_broker::{Broker, BrokerConfig, Link, Message, User};
use rumqttc::{Client, ConnectReturnCode, Connection, Event, Incoming, MqttOptions};

/// The user every test broker knows.
pub const USER: &str = "room1";
/// Its password.
pub const PASSWORD: &str = "s3cret-pass";
/// How long any single expected event may take.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// An argon2id hash with tiny parameters so debug-build tests log in fast; the broker verifies
/// with the parameters in the hash (production hashes come from `hash_password`).
pub fn cheap_hash(password: &str) -> String {
    let params = Params::new(256, 1, 1, None).expect("params");
    let salt = SaltString::from_b64("dGVzdHNhbHR0ZXN0c2FsdA").expect("salt");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .expect("hash")
        .to_string()
}

/// A config listening on 127.0.0.1:0 with [`USER`] / [`PASSWORD`].
pub fn config() -> BrokerConfig {
    BrokerConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        users: vec![User {
            name: USER.to_owned(),
            password_hash: cheap_hash(PASSWORD),
        }],
        ..BrokerConfig::default()
    }
}

/// Starts a broker with [`config`].
pub fn start() -> Broker {
    Broker::start(config()).expect("broker starts")
}

/// A link subscribed to `filter`.
pub fn subscribed(broker: &Broker, client_id: &str, filter: &str) -> Link {
    let mut link = broker.link(client_id).expect("link");
    link.subscribe(filter).expect("subscribe");
    link
}

/// The next message of `link`, or a panic after [`DEADLINE`].
pub fn next_message(link: &mut Link) -> Message {
    link.recv_timeout(DEADLINE)
        .expect("link open")
        .unwrap_or_else(|| panic!("no message within {DEADLINE:?}"))
}

/// A rumqttc client whose event loop the test thread drives.
pub struct MqttClient {
    /// Queues requests; `poll_until` sends them.
    pub client: Client,
    connection: Connection,
}

impl MqttClient {
    /// Starts connecting (the CONNECT goes out on the first poll).
    pub fn new(addr: SocketAddr, client_id: &str, login: Option<(&str, &str)>) -> MqttClient {
        let mut options = MqttOptions::new(client_id, addr.ip().to_string(), addr.port());
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(1024 * 1024, 1024 * 1024);
        if let Some((user, password)) = login {
            options.set_credentials(user, password);
        }
        let (client, connection) = Client::new(options, 16);
        MqttClient { client, connection }
    }

    /// Polls the event loop until `wanted` matches an event (Ok), or the connection fails
    /// (Err with the error); panics after [`DEADLINE`].
    pub fn poll_until(&mut self, wanted: impl Fn(&Event) -> bool) -> Result<Event, String> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.connection.recv_timeout(left) {
                Ok(Ok(event)) if wanted(&event) => return Ok(event),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(format!("{e:?}")),
                Err(e) => panic!("no wanted MQTT event within {DEADLINE:?}: {e:?}"),
            }
        }
    }

    /// Waits for the CONNACK: its return code, or the connection error that came instead.
    pub fn connack(&mut self) -> Result<ConnectReturnCode, String> {
        match self.poll_until(|e| matches!(e, Event::Incoming(Incoming::ConnAck(_))))? {
            Event::Incoming(Incoming::ConnAck(ack)) => Ok(ack.code),
            other => unreachable!("{other:?}"),
        }
    }

    /// Connects with [`USER`] / [`PASSWORD`] and asserts the login is accepted.
    pub fn logged_in(addr: SocketAddr, client_id: &str) -> MqttClient {
        let mut client = MqttClient::new(addr, client_id, Some((USER, PASSWORD)));
        assert_eq!(client.connack(), Ok(ConnectReturnCode::Success));
        client
    }
}

/// Runs a command to completion, killing it after [`DEADLINE`]; panics if it can not start.
pub fn run(mut command: Command) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("start {command:?} (apt-get install mosquitto-clients openssl): {e}")
        });
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("{command:?} still running after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut stdout).expect("stdout");
    }
    if let Some(mut err) = child.stderr.take() {
        err.read_to_end(&mut stderr).expect("stderr");
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

/// `mosquitto_pub`/`mosquitto_sub` arguments to reach `addr` as [`USER`] (`password` given).
pub fn mosquitto(program: &str, addr: SocketAddr, password: &str) -> Command {
    let mut command = Command::new(program);
    command
        .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
        .args(["-u", USER, "-P", password]);
    command
}

/// Asserts that a rumqttc error means the broker closed the connection: end of stream
/// (`ConnectionAborted`), or a reset when the client was still writing.
pub fn assert_closed_by_broker(error: &str) {
    let closed = ["ConnectionAborted", "ConnectionReset", "BrokenPipe"];
    assert!(
        closed.iter().any(|c| error.contains(c)),
        "expected the broker to close the connection, got {error}"
    );
}

//! MQTT login checks: rumqttd's async auth handler, backed by a small pool of argon2 workers.
//!
//! Invariants:
//! - rumqttd runs every network connection of a listener on one current-thread tokio runtime,
//!   so the handler never verifies a hash itself: a slow argon2 run there would stall every
//!   client. It queues the job to [`AUTH_WORKERS`] threads and awaits the answer.
//! - At most [`AUTH_QUEUE`] logins wait; beyond that a login is refused at once, which bounds
//!   the memory (`AUTH_WORKERS` × the hash's memory cost) and CPU a login flood can take.
//! - An unknown user name is verified against a dummy hash, so it costs as much as a wrong
//!   password and timing does not reveal which names exist.
//! - Network clients may not use the client ids of in-process links ([`LINK_ID_PREFIX`]):
//!   rumqttd drops the older connection when a client id is reused, so a client taking the
//!   agent's link id would silently cut the agent's ingest.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::thread;

use tracing::{info, warn};

use crate::password::{verify, DUMMY_HASH};
use crate::{BrokerError, User};

/// Threads verifying password hashes.
pub(crate) const AUTH_WORKERS: usize = 2;
/// Logins that may wait for a worker before new ones are refused.
pub(crate) const AUTH_QUEUE: usize = 32;
/// Prefix of the client ids that in-process links use inside rumqttd.
pub(crate) const LINK_ID_PREFIX: &str = "link:";

struct Job {
    password: String,
    hash: String,
    reply: flume::Sender<bool>,
}

/// Checks logins against the configured users. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Verifier {
    users: Arc<HashMap<String, String>>,
    jobs: flume::Sender<Job>,
}

impl Verifier {
    /// Starts the worker threads. Users must have been validated.
    pub(crate) fn start(users: &[User]) -> Result<Verifier, BrokerError> {
        let users = users
            .iter()
            .map(|u| (u.name.clone(), u.password_hash.clone()))
            .collect();
        let (jobs, queue) = flume::bounded::<Job>(AUTH_QUEUE);
        for i in 0..AUTH_WORKERS {
            let queue = queue.clone();
            let name = format!("mqtt-auth-{i}");
            thread::Builder::new()
                .name(name.clone())
                .spawn(move || {
                    // Ends when the last Verifier (held by the listener) is dropped.
                    for job in queue.iter() {
                        // The login may have given up waiting; nothing to do then.
                        let _ = job.reply.send(verify(&job.password, &job.hash));
                    }
                })
                .map_err(|source| BrokerError::Thread { name, source })?;
        }
        Ok(Verifier {
            users: Arc::new(users),
            jobs,
        })
    }

    /// rumqttd's auth handler: true lets the client in.
    pub(crate) fn check(
        &self,
        client_id: String,
        username: String,
        password: String,
    ) -> impl Future<Output = bool> + Send + 'static {
        let known = self.users.get(&username);
        let hash = known.map_or(DUMMY_HASH, String::as_str).to_owned();
        let known = known.is_some();
        let (reply, answer) = flume::bounded(1);
        let queued = self.jobs.try_send(Job {
            password,
            hash,
            reply,
        });
        async move {
            if queued.is_err() {
                warn!(%client_id, %username, "MQTT login refused: too many logins waiting");
                return false;
            }
            let matches = answer.recv_async().await.unwrap_or(false);
            if client_id.starts_with(LINK_ID_PREFIX) {
                info!(%client_id, %username, "MQTT login refused: client id reserved for in-process links");
                return false;
            }
            let ok = known && matches;
            if !ok {
                info!(%client_id, %username, "MQTT login refused: unknown user or wrong password");
            }
            ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};

    fn cheap_hash(password: &str) -> String {
        let params = Params::new(64, 1, 1, None).expect("params");
        let salt = password_hash::SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").expect("salt");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(password.as_bytes(), &salt)
            .expect("hash")
            .to_string()
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    #[test]
    fn checks_user_password_and_reserved_ids() {
        let verifier = Verifier::start(&[User {
            name: "node".into(),
            password_hash: cheap_hash("secret"),
        }])
        .expect("start");
        let check = |id: &str, user: &str, pass: &str| {
            block_on(verifier.check(id.into(), user.into(), pass.into()))
        };
        assert!(check("esp32-1", "node", "secret"));
        assert!(!check("esp32-1", "node", "wrong"));
        assert!(!check("esp32-1", "nobody", "secret"));
        assert!(!check("link:agent", "node", "secret"));
    }
}

//! `[panel]`: who may sign in to the local control panel and how long sessions and lockouts
//! last. Schema, defaults, checks and typed settings in one place. Without any
//! `[[panel.users]]` the panel answers "no panel users configured" (HTTP 503) instead of a
//! sign-in that can never succeed.

use std::time::Duration;

use argon2::{Algorithm, Params, PasswordHash};
use serde::Deserialize;

use super::build::{check_duration, required};
use super::error::Problem;
use super::units::HumanDuration;

/// The longest panel user name, in characters.
pub const MAX_PANEL_NAME_LEN: usize = 64;
/// Allowed `panel.session_ttl`.
pub const SESSION_TTL_RANGE: (Duration, Duration) = (
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 24 * 3600),
);
/// Allowed `panel.max_failures`.
pub const MAX_FAILURES_RANGE: (u32, u32) = (1, 100);
/// Allowed `panel.lockout`.
pub const LOCKOUT_RANGE: (Duration, Duration) =
    (Duration::from_secs(60), Duration::from_secs(24 * 3600));

/// `[panel]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table of panel settings ([panel])")]
pub(super) struct RawPanel {
    /// `[[panel.users]]`: who may sign in. Default none (the panel then answers 503).
    #[serde(default)]
    pub users: Vec<RawPanelUser>,
    /// How long a sign-in lasts. Default 12h.
    #[serde(default = "default_session_ttl")]
    pub session_ttl: HumanDuration,
    /// Failed sign-ins in a row that lock a name (or a client). Default 5.
    #[serde(default = "default_max_failures")]
    pub max_failures: u32,
    /// How long a locked name or client stays locked. Default 15m.
    #[serde(default = "default_lockout")]
    pub lockout: HumanDuration,
}

/// One `[[panel.users]]` entry as written. Both keys are required (checked in
/// [`build_panel`], so that every missing one is reported).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a user table ([[panel.users]])")]
pub(super) struct RawPanelUser {
    /// The name typed at sign-in. Required.
    pub name: Option<String>,
    /// The argon2 hash of the password (`edge-agent mqtt hash-password`). Required.
    pub password_hash: Option<String>,
}

/// `[panel]`: the local control panel's users, sessions and lockout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelConfig {
    /// Who may sign in, in file order; empty: nobody (the panel answers 503).
    pub users: Vec<PanelUser>,
    /// A session ends this long after its sign-in (5m ..= 30d).
    pub session_ttl: Duration,
    /// This many failed sign-ins in a row lock a name, and as many from one client lock that
    /// client (1 ..= 100).
    pub max_failures: u32,
    /// How long a lock lasts; failures older than this are forgotten (1m ..= 24h).
    pub lockout: Duration,
}

/// One panel user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelUser {
    /// 1–64 characters, no control characters, no leading or trailing space; unique.
    pub name: String,
    /// An argon2 PHC string whose costs a Pi can afford (checked by parsing it).
    pub password_hash: String,
}

/// The documented defaults: no users, 12h sessions, 5 failures, 15m lockout.
impl Default for PanelConfig {
    fn default() -> Self {
        PanelConfig {
            users: Vec::new(),
            session_ttl: default_session_ttl().0,
            max_failures: default_max_failures(),
            lockout: default_lockout().0,
        }
    }
}

/// Checks `[panel]`.
pub(super) fn build_panel(raw: RawPanel, problems: &mut Vec<Problem>) -> PanelConfig {
    check_duration(
        "panel.session_ttl",
        raw.session_ttl.0,
        SESSION_TTL_RANGE,
        problems,
    );
    check_duration("panel.lockout", raw.lockout.0, LOCKOUT_RANGE, problems);
    let (min, max) = MAX_FAILURES_RANGE;
    if !(min..=max).contains(&raw.max_failures) {
        problems.push(Problem::new(
            "panel.max_failures",
            format!("must be between {min} and {max}, got {}", raw.max_failures),
        ));
    }
    let mut users: Vec<(usize, PanelUser)> = Vec::new();
    for (index, user) in raw.users.into_iter().enumerate() {
        let key = format!("panel.users[{index}]");
        let name = required(format!("{key}.name"), user.name, problems);
        let hash = required(format!("{key}.password_hash"), user.password_hash, problems);
        let name = name.filter(|name| match name_problem(name) {
            Some(message) => {
                problems.push(Problem::new(format!("{key}.name"), message));
                false
            }
            None => true,
        });
        let hash = hash.filter(|hash| match hash_problem(hash) {
            Some(message) => {
                problems.push(Problem::new(format!("{key}.password_hash"), message));
                false
            }
            None => true,
        });
        let (Some(name), Some(password_hash)) = (name, hash) else {
            continue;
        };
        if let Some((first, _)) = users.iter().find(|(_, u)| u.name == name) {
            problems.push(Problem::new(
                format!("{key}.name"),
                format!("duplicate user {name:?} (also panel.users[{first}])"),
            ));
            continue;
        }
        users.push((
            index,
            PanelUser {
                name,
                password_hash,
            },
        ));
    }
    PanelConfig {
        users: users.into_iter().map(|(_, user)| user).collect(),
        session_ttl: raw.session_ttl.0,
        max_failures: raw.max_failures,
        lockout: raw.lockout.0,
    }
}

/// Why `name` is not a panel user name, if it is not.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    let chars = name.chars().count();
    if name.is_empty() {
        Some("must not be empty".to_owned())
    } else if let Some(bad) = name.chars().find(|c| c.is_control()) {
        Some(format!("{name:?} contains the control character {bad:?}"))
    } else if name.trim() != name {
        Some(format!("{name:?} starts or ends with a space"))
    } else if chars > MAX_PANEL_NAME_LEN {
        Some(format!(
            "is {chars} characters long; at most {MAX_PANEL_NAME_LEN} are allowed"
        ))
    } else {
        None
    }
}

/// Why `phc` is not a password hash the agent can check, if it is not: it must parse as an
/// argon2 PHC string with a salt, a hash and costs within the broker's limits for a Pi.
fn hash_problem(phc: &str) -> Option<String> {
    const HINT: &str = "make one with `edge-agent mqtt hash-password`";
    let hash = match PasswordHash::new(phc) {
        Ok(hash) => hash,
        Err(e) => {
            return Some(format!(
                "not an argon2 PHC string like \"$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>\" ({e}); {HINT}"
            ))
        }
    };
    if Algorithm::try_from(hash.algorithm).is_err() {
        return Some(format!(
            "algorithm {:?} is not argon2 (argon2id, argon2i or argon2d); {HINT}",
            hash.algorithm.as_str()
        ));
    }
    if hash.salt.is_none() || hash.hash.is_none() {
        return Some(format!("the salt or the hash part is missing; {HINT}"));
    }
    let params = match Params::try_from(&hash) {
        Ok(params) => params,
        Err(e) => return Some(format!("bad argon2 parameters: {e}; {HINT}")),
    };
    if params.m_cost() > farm_broker::MAX_VERIFY_MEMORY_KIB {
        return Some(format!(
            "memory cost m={} KiB is above the {} KiB allowed on a Pi; {HINT}",
            params.m_cost(),
            farm_broker::MAX_VERIFY_MEMORY_KIB
        ));
    }
    if params.t_cost() > farm_broker::MAX_VERIFY_ITERATIONS {
        return Some(format!(
            "time cost t={} is above the {} allowed on a Pi; {HINT}",
            params.t_cost(),
            farm_broker::MAX_VERIFY_ITERATIONS
        ));
    }
    None
}

const fn default_session_ttl() -> HumanDuration {
    HumanDuration(Duration::from_secs(12 * 3600))
}
const fn default_max_failures() -> u32 {
    5
}
const fn default_lockout() -> HumanDuration {
    HumanDuration(Duration::from_secs(15 * 60))
}

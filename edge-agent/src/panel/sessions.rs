//! Panel sessions, in memory (a restart signs everyone out). Pure logic: the caller passes
//! `now` and the random bytes, so tests run on a fake clock.
//!
//! A session is created at sign-in with a 256-bit id (the `farm_session` cookie, hex) and a
//! 256-bit CSRF token, and ends `session_ttl` later, at logout, or when the store is full and
//! it is the oldest. The store keeps the SHA-256 of each id, never the id: a lookup hashes
//! the cookie and finds the hash, so no secret is compared byte by byte and a memory dump
//! holds no usable cookie.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "farm_session";
/// The most sessions kept at once; a farm has a handful of managers and devices.
pub const MAX_SESSIONS: usize = 256;

/// The random bytes a new session is made of.
#[derive(Clone, Copy)]
pub struct Secrets {
    /// The session id (the cookie).
    pub id: [u8; 32],
    /// The CSRF token.
    pub csrf: [u8; 32],
}

impl Secrets {
    /// 512 fresh bits from the OS's random source.
    pub fn from_os() -> Result<Secrets, getrandom::Error> {
        let mut id = [0; 32];
        let mut csrf = [0; 32];
        getrandom::fill(&mut id)?;
        getrandom::fill(&mut csrf)?;
        Ok(Secrets { id, csrf })
    }
}

/// A signed-in manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The SHA-256 of the session id: the store's key.
    pub key: [u8; 32],
    /// The user's name, from `[[panel.users]]`.
    pub user: String,
    /// The token every POST of this session must carry (64 hex digits).
    pub csrf: String,
    /// When it ends.
    pub expires: Instant,
}

/// The sessions, by the SHA-256 of their ids.
#[derive(Debug)]
pub struct Sessions {
    ttl: Duration,
    by_key: HashMap<[u8; 32], Session>,
}

impl Sessions {
    /// An empty store whose sessions last `ttl`.
    pub fn new(ttl: Duration) -> Sessions {
        Sessions {
            ttl,
            by_key: HashMap::new(),
        }
    }

    /// How long a session lasts.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Starts a session for `user` at `now` made of `secrets`; returns the cookie value and
    /// the session. Drops expired sessions first and, when the store is full, the one that
    /// ends soonest.
    pub fn create(&mut self, user: &str, now: Instant, secrets: Secrets) -> (String, Session) {
        self.by_key.retain(|_, s| s.expires > now);
        while self.by_key.len() >= MAX_SESSIONS {
            let Some(oldest) = self
                .by_key
                .values()
                .min_by_key(|s| s.expires)
                .map(|s| s.key)
            else {
                break;
            };
            self.by_key.remove(&oldest);
        }
        let key = digest(&secrets.id);
        let session = Session {
            key,
            user: user.to_owned(),
            csrf: hex(&secrets.csrf),
            expires: now + self.ttl,
        };
        self.by_key.insert(key, session.clone());
        (hex(&secrets.id), session)
    }

    /// The live session whose id is `cookie` (64 hex digits), if any. An expired one is
    /// removed and not returned.
    pub fn get(&mut self, cookie: &str, now: Instant) -> Option<Session> {
        let id = unhex(cookie)?;
        let key = digest(&id);
        let session = self.by_key.get(&key)?;
        if session.expires > now {
            return Some(session.clone());
        }
        self.by_key.remove(&key);
        None
    }

    /// Ends the session with this key (from [`Session::key`]).
    pub fn end(&mut self, key: &[u8; 32]) {
        self.by_key.remove(key);
    }

    /// How many sessions are kept (expired ones included until they are swept).
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

fn digest(id: &[u8; 32]) -> [u8; 32] {
    Sha256::digest(id).into()
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The 32 bytes written as 64 hex digits (either case), or `None`.
fn unhex(text: &str) -> Option<[u8; 32]> {
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0; 32];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        *byte = u8::try_from(high << 4 | low).ok()?;
    }
    Some(out)
}

/// Whether `a` equals `b`, in time that depends only on their lengths.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(12 * 3600);

    fn secrets(n: u8) -> Secrets {
        Secrets {
            id: [n; 32],
            csrf: [n.wrapping_add(100); 32],
        }
    }

    #[test]
    fn a_session_lives_until_its_ttl_is_over() {
        let start = Instant::now();
        let mut sessions = Sessions::new(TTL);
        let (cookie, session) = sessions.create("manager", start, secrets(1));
        assert_eq!(cookie, "01".repeat(32));
        assert_eq!(session.csrf, "65".repeat(32));
        assert_eq!(session.expires, start + TTL);
        let found = sessions.get(&cookie, start + TTL - Duration::from_secs(1));
        assert_eq!(found.as_ref().map(|s| s.user.as_str()), Some("manager"));
        // Upper-case hex is the same id.
        assert!(sessions.get(&cookie.to_uppercase(), start).is_some());
        assert_eq!(sessions.get(&cookie, start + TTL), None);
        assert!(sessions.is_empty(), "an expired session is removed");
        // And stays gone even if the clock were to go back.
        assert_eq!(sessions.get(&cookie, start), None);
    }

    #[test]
    fn only_the_hash_of_the_id_is_kept() {
        let mut sessions = Sessions::new(TTL);
        let (cookie, session) = sessions.create("manager", Instant::now(), secrets(7));
        assert_ne!(session.key, [7; 32]);
        assert_eq!(hex(&session.key).len(), 64);
        assert_ne!(hex(&session.key), cookie);
        assert!(!format!("{sessions:?}").contains(&cookie));
    }

    #[test]
    fn unknown_and_malformed_cookies_find_nothing() {
        let now = Instant::now();
        let mut sessions = Sessions::new(TTL);
        sessions.create("manager", now, secrets(1));
        for bad in [
            "",
            "01",
            &"02".repeat(32),
            &"0g".repeat(32),
            &"01".repeat(33),
            &"é".repeat(32),
        ] {
            assert_eq!(sessions.get(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn logout_ends_only_that_session() {
        let now = Instant::now();
        let mut sessions = Sessions::new(TTL);
        let (a, session_a) = sessions.create("a", now, secrets(1));
        let (b, _) = sessions.create("a", now, secrets(2));
        sessions.end(&session_a.key);
        assert_eq!(sessions.get(&a, now), None);
        assert!(sessions.get(&b, now).is_some());
    }

    #[test]
    fn a_full_store_drops_expired_then_the_oldest() {
        let start = Instant::now();
        let mut sessions = Sessions::new(TTL);
        let mut cookies = Vec::new();
        for n in 0..MAX_SESSIONS {
            let at = start + Duration::from_secs(n as u64);
            let mut s = secrets(0);
            s.id[..8].copy_from_slice(&(n as u64).to_le_bytes());
            cookies.push(sessions.create("m", at, s).0);
        }
        assert_eq!(sessions.len(), MAX_SESSIONS);
        let later = start + Duration::from_secs(MAX_SESSIONS as u64);
        let (newest, _) = sessions.create("m", later, secrets(200));
        assert_eq!(sessions.len(), MAX_SESSIONS);
        assert_eq!(sessions.get(&cookies[0], later), None, "the oldest went");
        assert!(sessions.get(&cookies[1], later).is_some());
        assert!(sessions.get(&newest, later).is_some());
        // Once they have all expired, creating one sweeps them.
        let much_later = later + TTL + Duration::from_secs(1);
        sessions.create("m", much_later, secrets(201));
        assert_eq!(sessions.len(), 1);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", "a"));
        assert!(same_token("", ""));
    }

    #[test]
    fn os_secrets_differ() {
        let a = Secrets::from_os().expect("OS randomness");
        let b = Secrets::from_os().expect("OS randomness");
        assert_ne!(a.id, b.id);
        assert_ne!(a.id, a.csrf);
    }
}

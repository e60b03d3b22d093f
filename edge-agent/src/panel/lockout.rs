//! Failed sign-ins and the locks they set. Pure logic: the caller passes `now`.
//!
//! Failures are counted per user name (any name typed, known or not, so a lock does not tell
//! which names exist) and per client address (IPv6 by its /64), with the same limits:
//! `max_failures` failures in a row lock the name, or the client, for `lockout`. A client
//! locked this way cannot try other names either, which slows guessing one password across
//! many names. A successful sign-in resets its name's count and takes back its own attempt
//! from the client's count. Failures older than `lockout` with none since are forgotten, and
//! a lock that ran out starts the count again.
//!
//! An attempt is counted as a failure *before* its password is checked ([`Attempts::begin`]),
//! so parallel requests cannot check more than `max_failures` passwords per name or client
//! per lock period; a success then takes it back ([`Attempts::succeeded`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The most names (and, separately, clients) tracked; beyond it, unlocked entries are dropped
/// first, then the least recent.
pub const MAX_TRACKED: usize = 4096;

/// `[panel]`'s `max_failures` and `lockout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failures in a row that lock.
    pub max_failures: u32,
    /// How long a lock lasts, and how long failures are remembered.
    pub lockout: Duration,
}

/// A sign-in refused without checking the password, or a failure that set a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    /// When the lock ends.
    pub until: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Counter {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// The failure counts of names and clients.
#[derive(Debug)]
pub struct Attempts {
    limits: Limits,
    names: HashMap<String, Counter>,
    clients: HashMap<IpAddr, Counter>,
}

impl Attempts {
    /// Nothing counted yet.
    pub fn new(limits: Limits) -> Attempts {
        Attempts {
            limits,
            names: HashMap::new(),
            clients: HashMap::new(),
        }
    }

    /// Before a password is checked: refuses if `name` or `client` is locked; otherwise
    /// counts this attempt as a failure of both (locking them if that reaches the limit).
    pub fn begin(&mut self, name: &str, client: IpAddr, now: Instant) -> Result<(), Locked> {
        let client = client_key(client);
        let name_lock = current_lock(&mut self.names, name, now);
        let client_lock = current_lock(&mut self.clients, &client, now);
        if let Some(until) = name_lock.max(client_lock) {
            return Err(Locked { until });
        }
        let limits = self.limits;
        count(&mut self.names, name.to_owned(), now, limits);
        count(&mut self.clients, client, now, limits);
        Ok(())
    }

    /// The password was right: the name starts again from zero, and the client's count
    /// loses this attempt (and the lock, if this attempt set it).
    pub fn succeeded(&mut self, name: &str, client: IpAddr) {
        self.names.remove(name);
        let max = self.limits.max_failures;
        if let Some(counter) = self.clients.get_mut(&client_key(client)) {
            counter.failures = counter.failures.saturating_sub(1);
            if counter.failures < max {
                counter.locked_until = None;
            }
        }
    }

    /// After a wrong password: the lock on `name` or `client`, if there is one now.
    pub fn locked(&self, name: &str, client: IpAddr, now: Instant) -> Option<Locked> {
        let lock_of = |counter: Option<&Counter>| {
            counter
                .and_then(|c| c.locked_until)
                .filter(|until| *until > now)
        };
        let name_lock = lock_of(self.names.get(name));
        let client_lock = lock_of(self.clients.get(&client_key(client)));
        name_lock.max(client_lock).map(|until| Locked { until })
    }

    /// How many names and clients are tracked.
    pub fn tracked(&self) -> (usize, usize) {
        (self.names.len(), self.clients.len())
    }
}

/// The key a client is counted under: an IPv4 address (also when written as IPv4-mapped
/// IPv6), or the /64 network of an IPv6 address (one device may use many addresses in it).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// The end of `key`'s lock if it is locked at `now`. Forgets a lock that ran out and
/// failures older than the lockout period.
fn current_lock<K, Q>(map: &mut HashMap<K, Counter>, key: &Q, now: Instant) -> Option<Instant>
where
    K: std::borrow::Borrow<Q> + Eq + Hash,
    Q: Eq + Hash + ?Sized,
{
    let counter = map.get(key)?;
    match counter.locked_until {
        Some(until) if until > now => Some(until),
        Some(_) => {
            map.remove(key);
            None
        }
        None => None,
    }
}

/// Counts one failure of `key` at `now`; locks it when that reaches the limit.
fn count<K: Eq + Hash + Clone>(
    map: &mut HashMap<K, Counter>,
    key: K,
    now: Instant,
    limits: Limits,
) {
    if !map.contains_key(&key) && map.len() >= MAX_TRACKED {
        make_room(map, now, limits.lockout);
    }
    let counter = map.entry(key).or_insert(Counter {
        failures: 0,
        last: now,
        locked_until: None,
    });
    if now.saturating_duration_since(counter.last) >= limits.lockout {
        counter.failures = 0;
    }
    counter.failures = counter.failures.saturating_add(1);
    counter.last = now;
    if counter.failures >= limits.max_failures {
        counter.locked_until = Some(now + limits.lockout);
    }
}

/// Drops forgotten entries, then unlocked ones, then the least recent, until one fits.
fn make_room<K: Eq + Hash + Clone>(map: &mut HashMap<K, Counter>, now: Instant, lockout: Duration) {
    map.retain(|_, c| match c.locked_until {
        Some(until) => until > now,
        None => now.saturating_duration_since(c.last) < lockout,
    });
    if map.len() >= MAX_TRACKED {
        map.retain(|_, c| c.locked_until.is_some());
    }
    while map.len() >= MAX_TRACKED {
        let Some(oldest) = map
            .iter()
            .min_by_key(|(_, c)| c.last)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        map.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCKOUT: Duration = Duration::from_secs(15 * 60);
    const LIMITS: Limits = Limits {
        max_failures: 3,
        lockout: LOCKOUT,
    };

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    /// One wrong password for `name` from `client` at `now`: whether it is locked after.
    fn fail(a: &mut Attempts, name: &str, client: IpAddr, now: Instant) -> Result<bool, Locked> {
        a.begin(name, client, now)?;
        Ok(a.locked(name, client, now).is_some())
    }

    #[test]
    fn max_failures_in_a_row_lock_the_name_for_the_lockout() {
        let t0 = Instant::now();
        let mut a = Attempts::new(LIMITS);
        let phone = ip("192.168.1.20");
        assert_eq!(fail(&mut a, "manager", phone, t0), Ok(false));
        assert_eq!(fail(&mut a, "manager", phone, t0), Ok(false));
        // The third failure locks, and says so.
        assert_eq!(fail(&mut a, "manager", phone, t0), Ok(true));
        let until = t0 + LOCKOUT;
        assert_eq!(a.locked("manager", phone, t0), Some(Locked { until }));
        // While locked, nothing is checked: not even from another client.
        let laptop = ip("192.168.1.21");
        let almost = t0 + LOCKOUT - Duration::from_secs(1);
        assert_eq!(a.begin("manager", laptop, almost), Err(Locked { until }));
        // Once it runs out, the name has max_failures tries again.
        let after = t0 + LOCKOUT;
        assert_eq!(a.begin("manager", laptop, after), Ok(()));
        assert_eq!(a.locked("manager", laptop, after), None);
    }

    #[test]
    fn a_success_resets_the_names_count() {
        let t0 = Instant::now();
        let mut a = Attempts::new(LIMITS);
        let phone = ip("10.0.0.5");
        fail(&mut a, "manager", phone, t0).expect("not locked");
        fail(&mut a, "manager", phone, t0).expect("not locked");
        a.begin("manager", phone, t0).expect("not locked");
        a.succeeded("manager", phone);
        assert_eq!(a.locked("manager", phone, t0), None);
        // Two more failures do not lock the name: its count started again.
        fail(&mut a, "manager", ip("10.0.0.6"), t0).expect("not locked");
        assert_eq!(fail(&mut a, "manager", ip("10.0.0.7"), t0), Ok(false));
    }

    #[test]
    fn a_client_spraying_names_is_locked_too() {
        let t0 = Instant::now();
        let mut a = Attempts::new(LIMITS);
        let attacker = ip("192.168.1.66");
        assert_eq!(fail(&mut a, "alice", attacker, t0), Ok(false));
        assert_eq!(fail(&mut a, "bob", attacker, t0), Ok(false));
        assert_eq!(fail(&mut a, "carol", attacker, t0), Ok(true));
        let until = t0 + LOCKOUT;
        assert_eq!(a.begin("dave", attacker, t0), Err(Locked { until }));
        // Others are not affected.
        assert_eq!(a.begin("dave", ip("192.168.1.2"), t0), Ok(()));
        // IPv4-mapped IPv6 is the same client; an IPv6 client is counted by its /64.
        let mapped = ip("::ffff:192.168.1.66");
        assert_eq!(a.begin("erin", mapped, t0), Err(Locked { until }));
        for (n, host) in ["2001:db8::1", "2001:db8::2", "2001:db8::3"]
            .iter()
            .enumerate()
        {
            assert_eq!(fail(&mut a, &format!("u{n}"), ip(host), t0), Ok(n == 2));
        }
        assert!(a.begin("x", ip("2001:db8::ffff"), t0).is_err());
        assert!(a.begin("x", ip("2001:db8:0:1::1"), t0).is_ok());
    }

    #[test]
    fn a_success_takes_back_only_its_own_attempt_from_the_client() {
        let t0 = Instant::now();
        let mut a = Attempts::new(LIMITS);
        let phone = ip("10.0.0.5");
        fail(&mut a, "typo", phone, t0).expect("not locked");
        fail(&mut a, "tpyo", phone, t0).expect("not locked");
        // The third attempt reaches the limit before its check, then succeeds.
        a.begin("manager", phone, t0).expect("not locked");
        assert!(a.locked("manager", phone, t0).is_some());
        a.succeeded("manager", phone);
        assert_eq!(a.locked("manager", phone, t0), None);
        // The two failures still count: one more locks the client.
        assert_eq!(fail(&mut a, "x", phone, t0), Ok(true));
    }

    #[test]
    fn old_failures_are_forgotten() {
        let t0 = Instant::now();
        let mut a = Attempts::new(LIMITS);
        let phone = ip("10.0.0.5");
        fail(&mut a, "manager", phone, t0).expect("not locked");
        fail(&mut a, "manager", phone, t0).expect("not locked");
        let later = t0 + LOCKOUT;
        assert_eq!(fail(&mut a, "manager", phone, later), Ok(false));
        assert_eq!(fail(&mut a, "manager", phone, later), Ok(false));
        assert_eq!(fail(&mut a, "manager", phone, later), Ok(true));
    }

    #[test]
    fn parallel_attempts_cannot_pass_the_limit() {
        let t0 = Instant::now();
        let mut a = Attempts::new(LIMITS);
        let phone = ip("10.0.0.5");
        // Three attempts begin before any password check ends: the fourth is refused.
        for _ in 0..3 {
            a.begin("manager", phone, t0).expect("not locked yet");
        }
        assert!(a.begin("manager", phone, t0).is_err());
    }

    #[test]
    fn tracking_is_bounded_and_keeps_locks() {
        let t0 = Instant::now();
        let mut a = Attempts::new(LIMITS);
        for _ in 0..3 {
            let _ = a.begin("target", ip("10.0.0.1"), t0);
        }
        for n in 0..(MAX_TRACKED + 10) {
            let client = IpAddr::V4(std::net::Ipv4Addr::from(0x0b00_0000 + n as u32));
            let _ = a.begin(&format!("name-{n}"), client, t0);
        }
        let (names, clients) = a.tracked();
        assert!(
            names <= MAX_TRACKED && clients <= MAX_TRACKED,
            "{names} {clients}"
        );
        assert!(
            a.begin("target", ip("10.9.9.9"), t0).is_err(),
            "still locked"
        );
    }
}

//! Password hashes: argon2 PHC strings, made by [`hash_password`] and checked at MQTT login.
//!
//! New hashes use argon2id with m = 19 MiB, t = 2, p = 1 (the OWASP minimum): about 50 ms on a
//! desktop core and a few hundred ms on a Raspberry Pi 3/4, paid once per MQTT login.
//! Verification uses the parameters written in each hash; hashes that would cost more than
//! [`MAX_VERIFY_MEMORY_KIB`] of memory or [`MAX_VERIFY_ITERATIONS`] passes are refused when
//! the config is checked, so a config can not make every login exhaust a Pi.

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use password_hash::rand_core::OsRng;
use password_hash::SaltString;

use crate::BrokerError;

/// Memory cost of new hashes, in KiB (19 MiB).
pub const HASH_MEMORY_KIB: u32 = 19 * 1024;
/// Passes (time cost) of new hashes.
pub const HASH_ITERATIONS: u32 = 2;
/// Lanes (parallelism) of new hashes.
pub const HASH_PARALLELISM: u32 = 1;
/// The largest memory cost, in KiB, a configured hash may ask for (64 MiB).
pub const MAX_VERIFY_MEMORY_KIB: u32 = 64 * 1024;
/// The largest time cost a configured hash may ask for.
pub const MAX_VERIFY_ITERATIONS: u32 = 10;

/// A well-formed hash with the parameters of [`hash_password`] whose output is random bytes:
/// no known password matches it. Logins with an unknown user name are checked against it, so
/// they take as long as logins with a known name and a wrong password: timing does not tell
/// which user names exist.
pub(crate) const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$2gdP9fAXlCq9FOSXuzdMqw$M6YQ8dIowZGPH2D7Q8GBLbI1EeXFbaoeCWuQ6rxnK4Q";

/// Hashes `password` for [`crate::User::password_hash`]: an argon2id PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, BrokerError> {
    let params = Params::new(HASH_MEMORY_KIB, HASH_ITERATIONS, HASH_PARALLELISM, None)
        .map_err(|e| BrokerError::Hash(e.to_string()))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::generate(&mut OsRng);
    argon2
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| BrokerError::Hash(e.to_string()))
}

/// Tells whether `password` matches `password_hash` (a PHC string as made by
/// [`hash_password`]). The comparison is constant-time; the cost is that of the hash's own
/// parameters. A hash that can not be read, or that is too costly for a Pi, is an error.
pub fn verify_password(password: &str, password_hash: &str) -> Result<bool, BrokerError> {
    check_hash(password_hash).map_err(BrokerError::InvalidHash)?;
    Ok(verify(password, password_hash))
}

/// Checks that `phc` is an argon2 PHC string this broker can verify; the error says why not.
pub(crate) fn check_hash(phc: &str) -> Result<(), String> {
    let hash = PasswordHash::new(phc).map_err(|e| {
        format!(
            "not an argon2 PHC string like \"$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>\" ({e})"
        )
    })?;
    Algorithm::try_from(hash.algorithm).map_err(|_| {
        format!(
            "algorithm {:?} is not argon2 (argon2id, argon2i or argon2d)",
            hash.algorithm.as_str()
        )
    })?;
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err("the salt or the hash part is missing".to_owned());
    }
    let params = Params::try_from(&hash).map_err(|e| format!("bad argon2 parameters: {e}"))?;
    if params.m_cost() > MAX_VERIFY_MEMORY_KIB {
        return Err(format!(
            "memory cost m={} KiB is above the {MAX_VERIFY_MEMORY_KIB} KiB allowed on a Pi",
            params.m_cost()
        ));
    }
    if params.t_cost() > MAX_VERIFY_ITERATIONS {
        return Err(format!(
            "time cost t={} is above the {MAX_VERIFY_ITERATIONS} allowed on a Pi",
            params.t_cost()
        ));
    }
    Ok(())
}

/// Verifies `password` against a hash that passed [`check_hash`]; false on any mismatch.
pub(crate) fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_is_valid_and_has_the_default_parameters() {
        check_hash(DUMMY_HASH).expect("dummy hash is valid");
        let hash = PasswordHash::new(DUMMY_HASH).expect("parse");
        let params = Params::try_from(&hash).expect("params");
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (HASH_MEMORY_KIB, HASH_ITERATIONS, HASH_PARALLELISM)
        );
        assert!(!verify("", DUMMY_HASH));
    }

    #[test]
    fn costly_and_foreign_hashes_are_refused() {
        let bcrypt = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";
        assert!(check_hash(bcrypt).is_err());
        let huge = "$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A";
        let err = check_hash(huge).expect_err("1 GiB is refused");
        assert!(err.contains("memory cost"), "{err}");
        assert!(check_hash("hunter2").is_err());
    }
}

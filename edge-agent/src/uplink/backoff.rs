//! Retry delays: exponential from [`INITIAL`] doubling per consecutive failure, capped at
//! `max_backoff`, with *equal jitter* — half of the capped delay is fixed, the other half is
//! random. The fixed half keeps a storm of failures from retrying at once (full jitter may
//! pick ~0); the random half spreads a fleet of devices that lost the cloud at the same moment.
//!
//! Pure: the random draw is an argument, so tests need neither sleeping nor a seeded RNG.

use std::time::Duration;

/// The delay ceiling after the first failure.
pub const INITIAL: Duration = Duration::from_secs(1);

/// The backoff policy of the uplink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The largest ceiling (`sync.max_backoff`).
    pub max: Duration,
}

impl Backoff {
    /// The ceiling after `failures` consecutive failures (1 → 1 s, 2 → 2 s, … ≤ `max`).
    pub fn ceiling(self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        INITIAL
            .checked_mul(1 << doublings)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// How long to wait after `failures` consecutive failures, given `unit`, a uniform random
    /// draw from `[0, 1)` (values outside are clamped): between half the ceiling and all of it.
    pub fn delay(self, failures: u32, unit: f64) -> Duration {
        let ceiling = self.ceiling(failures);
        let half = ceiling / 2;
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        half + (ceiling - half).mul_f64(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_MINUTES: Backoff = Backoff {
        max: Duration::from_secs(300),
    };

    #[test]
    fn ceiling_doubles_from_one_second_up_to_the_cap() {
        let ceilings: Vec<u64> = (1..=11)
            .map(|n| FIVE_MINUTES.ceiling(n).as_secs())
            .collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(FIVE_MINUTES.ceiling(u32::MAX), Duration::from_secs(300));
        assert_eq!(
            FIVE_MINUTES.ceiling(0),
            INITIAL,
            "treated as the first failure"
        );
    }

    #[test]
    fn equal_jitter_keeps_half_the_ceiling_and_randomises_the_rest() {
        assert_eq!(FIVE_MINUTES.delay(3, 0.0), Duration::from_secs(2));
        assert_eq!(FIVE_MINUTES.delay(3, 0.5), Duration::from_secs(3));
        let almost = FIVE_MINUTES.delay(3, 0.999_999);
        assert!(almost < Duration::from_secs(4) && almost > Duration::from_millis(3_999));
        assert_eq!(FIVE_MINUTES.delay(20, 0.0), Duration::from_secs(150));
        assert_eq!(FIVE_MINUTES.delay(20, 1.0), Duration::from_secs(300));
    }

    #[test]
    fn a_bad_draw_cannot_escape_the_bounds() {
        for unit in [-1.0, 7.0, f64::NAN, f64::INFINITY] {
            let delay = FIVE_MINUTES.delay(2, unit);
            assert!(delay >= Duration::from_secs(1) && delay <= Duration::from_secs(2));
        }
    }

    #[test]
    fn a_small_cap_wins_from_the_first_failure() {
        let tight = Backoff {
            max: Duration::from_millis(1500),
        };
        assert_eq!(tight.ceiling(1), Duration::from_secs(1));
        assert_eq!(tight.ceiling(2), Duration::from_millis(1500));
        assert_eq!(tight.delay(9, 0.0), Duration::from_millis(750));
    }
}

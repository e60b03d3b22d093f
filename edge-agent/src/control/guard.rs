//! One actuator's switching limits (min on, min off, max on per window) as pure state over
//! unix-ms time.
//!
//! Invariants, given that the owner only switches when [`Guard::may_switch`] says so (or
//! forces the safe state) and calls [`Guard::switch`] at times that never go backwards:
//! - an on period lasts at least `min_on` and an off period at least `min_off`;
//! - within any window of `max_on.1`, the actuator is on for at most `max_on.0`, provided the
//!   owner switches it off no later than [`Guard::stop_deadline`]. Switching on is only allowed
//!   while at least `min_on` of budget is left, so the forced stop never cuts `min_on` short.

use std::collections::VecDeque;

use farm_protocol::{SwitchState, UnixMillis};

use super::spec::ActuatorTiming;

/// Why a switch has to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// `min_on` or `min_off` has not passed yet; it has at this time.
    MinTime(UnixMillis),
    /// Less than `min_on` of the max-on budget is left in the window.
    Budget,
}

/// The switching history of one actuator.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    timing: ActuatorTiming,
    state: SwitchState,
    since: UnixMillis,
    /// Past on periods `(start, end)` that may still overlap the max-on window, oldest first.
    history: VecDeque<(UnixMillis, UnixMillis)>,
}

fn ms(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Guard {
    /// An actuator that has been in `state` since `now` (start-up applies the safe state,
    /// so `min_off` also protects the equipment after a restart).
    pub(crate) fn new(timing: ActuatorTiming, state: SwitchState, now: UnixMillis) -> Guard {
        Guard {
            timing,
            state,
            since: now,
            history: VecDeque::new(),
        }
    }

    /// The current state.
    pub(crate) fn state(&self) -> SwitchState {
        self.state
    }

    /// When the current state began.
    pub(crate) fn since(&self) -> UnixMillis {
        self.since
    }

    /// On-time within the window `(now − window, now]`, ms.
    pub(crate) fn on_time(&self, now: UnixMillis, window: i64) -> i64 {
        let start = now.saturating_sub(window);
        let overlap = |from: UnixMillis, to: UnixMillis| (to.min(now) - from.max(start)).max(0);
        let past: i64 = self.history.iter().map(|&(s, e)| overlap(s, e)).sum();
        let current = match self.state {
            SwitchState::On => overlap(self.since, now),
            SwitchState::Off => 0,
        };
        past + current
    }

    /// Max-on budget left in the window ending now, ms (`None` without a budget).
    fn budget_left(&self, now: UnixMillis) -> Option<i64> {
        let (max, window) = self.timing.max_on?;
        Some(ms(max) - self.on_time(now, ms(window)))
    }

    /// Whether the actuator is on and has used up its max-on budget.
    pub(crate) fn budget_spent(&self, now: UnixMillis) -> bool {
        self.state == SwitchState::On && self.budget_left(now).is_some_and(|left| left <= 0)
    }

    /// The latest time the actuator must be switched off to stay within its budget, while
    /// it is on: a lower bound, exact when no earlier on-time leaves the window meanwhile.
    pub(crate) fn stop_deadline(&self, now: UnixMillis) -> Option<UnixMillis> {
        match self.state {
            SwitchState::On => self.budget_left(now).map(|left| now + left.max(0)),
            SwitchState::Off => None,
        }
    }

    /// Whether switching to `to` is allowed now by the timing limits.
    pub(crate) fn may_switch(&self, to: SwitchState, now: UnixMillis) -> Result<(), Hold> {
        if to == self.state {
            return Ok(());
        }
        let minimum = match self.state {
            SwitchState::On => self.timing.min_on,
            SwitchState::Off => self.timing.min_off,
        };
        let until = self.since.saturating_add(ms(minimum));
        if now < until {
            return Err(Hold::MinTime(until));
        }
        if to == SwitchState::On {
            let needed = ms(self.timing.min_on).max(1);
            if self.budget_left(now).is_some_and(|left| left < needed) {
                return Err(Hold::Budget);
            }
        }
        Ok(())
    }

    /// Records a switch at `now` (no-op if already in `to`).
    pub(crate) fn switch(&mut self, to: SwitchState, now: UnixMillis) {
        if to == self.state {
            return;
        }
        if self.state == SwitchState::On {
            self.history.push_back((self.since, now));
        }
        self.state = to;
        self.since = now;
        if let Some((_, window)) = self.timing.max_on {
            let start = now.saturating_sub(ms(window));
            while self.history.front().is_some_and(|&(_, end)| end <= start) {
                self.history.pop_front();
            }
        } else {
            self.history.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use SwitchState::{Off, On};

    fn timing(min_on: u64, min_off: u64, max_on: Option<(u64, u64)>) -> ActuatorTiming {
        ActuatorTiming {
            min_on: Duration::from_secs(min_on),
            min_off: Duration::from_secs(min_off),
            max_on: max_on.map(|(m, w)| (Duration::from_secs(m), Duration::from_secs(w))),
        }
    }

    #[test]
    fn min_off_holds_from_start_up_and_min_on_after_switching_on() {
        let mut guard = Guard::new(timing(60, 30, None), Off, 0);
        assert_eq!(guard.may_switch(On, 29_999), Err(Hold::MinTime(30_000)));
        assert_eq!(guard.may_switch(On, 30_000), Ok(()));
        guard.switch(On, 30_000);
        assert_eq!(guard.may_switch(Off, 89_999), Err(Hold::MinTime(90_000)));
        assert_eq!(guard.may_switch(Off, 90_000), Ok(()));
        assert_eq!(
            guard.may_switch(On, 31_000),
            Ok(()),
            "staying is always fine"
        );
    }

    #[test]
    fn the_budget_counts_on_time_in_a_sliding_window() {
        // At most 10 min on per hour, min on 1 min.
        let mut guard = Guard::new(timing(60, 0, Some((600, 3600))), Off, 0);
        guard.switch(On, 0);
        assert_eq!(guard.stop_deadline(0), Some(600_000));
        assert!(!guard.budget_spent(599_999));
        assert!(guard.budget_spent(600_000));
        guard.switch(Off, 600_000);
        assert_eq!(guard.on_time(600_000, 3_600_000), 600_000);
        assert_eq!(guard.may_switch(On, 700_000), Err(Hold::Budget));
        // 59 s of budget come back once the first 59 s leave the window: still < min on.
        assert_eq!(guard.may_switch(On, 3_659_000), Err(Hold::Budget));
        assert_eq!(guard.may_switch(On, 3_660_000), Ok(()));
        guard.switch(On, 3_660_000);
        // Old on-time keeps leaving the window while it runs, so the deadline is a bound.
        let deadline = guard.stop_deadline(3_660_000);
        assert_eq!(deadline, Some(3_720_000));
        assert!(
            !guard.budget_spent(3_720_000),
            "more left the window meanwhile"
        );
    }
}

//! Step 3 and 4 of [`Controller::step`](super::Controller::step): what each actuator wishes
//! for, and the switches that min on/off, max on and the interlocks allow.

use farm_protocol::{SwitchState, UnixMillis};

use super::{earliest, format_ms, Cause, Command, Controller, Step};
use crate::control::guard::{Guard, Hold};

impl Controller {
    pub(super) fn wish(
        &self,
        a: usize,
        wants_on: Option<usize>,
        faulted: Option<usize>,
        now: UnixMillis,
    ) -> (SwitchState, Cause) {
        let guard = &self.guards[a];
        let (state, cause) = if let Some(o) = self.overrides[a] {
            (o.state, Cause::Override)
        } else if let Some(i) = faulted {
            (self.actuators[a].safe_state, Cause::Fault(i))
        } else if let Some(i) = wants_on {
            (SwitchState::On, Cause::Loop(i))
        } else if let Some(&i) = self.loops_of[a].first() {
            (SwitchState::Off, Cause::Loop(i))
        } else {
            (guard.state(), Cause::Keep)
        };
        if state == SwitchState::On && guard.budget_spent(now) {
            return (SwitchState::Off, Cause::MaxOn);
        }
        (state, cause)
    }

    /// An actuator overridden on wins its interlock groups: the others are wished off.
    pub(super) fn overrides_claim_interlocks(&self, wishes: &mut [(SwitchState, Cause)]) {
        for group in &self.interlocks {
            let claimant = group
                .iter()
                .copied()
                .find(|&m| self.overrides[m].is_some_and(|o| o.state == SwitchState::On));
            if let Some(claimant) = claimant {
                for &m in group {
                    if m != claimant && self.overrides[m].is_none() {
                        wishes[m] = (SwitchState::Off, Cause::Interlock(claimant));
                    }
                }
            }
        }
    }

    pub(super) fn switch(
        &mut self,
        now: UnixMillis,
        wishes: &[(SwitchState, Cause)],
        step: &mut Step,
    ) {
        let mut post: Vec<SwitchState> = self.guards.iter().map(Guard::state).collect();
        for (a, &(state, cause)) in wishes.iter().enumerate() {
            if state != SwitchState::Off || post[a] != SwitchState::On {
                continue;
            }
            // A fault skips min on; so does a max-on cut-off in the rare case (a reconfigured
            // window) where the budget ran out before min on did.
            let must = matches!(cause, Cause::Fault(_) | Cause::MaxOn);
            let mut forced = matches!(cause, Cause::Fault(_));
            match self.guards[a].may_switch(SwitchState::Off, now) {
                Ok(()) => {}
                Err(_) if must => forced = true,
                Err(Hold::MinTime(at)) => {
                    earliest(&mut step.next_wake, Some(at));
                    continue;
                }
                Err(Hold::Budget) => continue,
            }
            post[a] = SwitchState::Off;
            self.command(a, SwitchState::Off, cause, forced, now, step);
        }
        let mut order: Vec<usize> = (0..wishes.len()).collect();
        order.sort_by_key(|&a| self.overrides[a].is_none());
        for a in order {
            let (state, cause) = wishes[a];
            if state != SwitchState::On || post[a] != SwitchState::Off {
                continue;
            }
            let forced = matches!(cause, Cause::Fault(_));
            match self.guards[a].may_switch(SwitchState::On, now) {
                Ok(()) => {}
                Err(_) if forced => {}
                Err(Hold::MinTime(at)) => {
                    earliest(&mut step.next_wake, Some(at));
                    continue;
                }
                Err(Hold::Budget) => continue,
            }
            let blocked = self
                .interlocks
                .iter()
                .filter(|group| group.contains(&a))
                .any(|group| group.iter().any(|&m| m != a && post[m] == SwitchState::On));
            if blocked && !forced {
                continue;
            }
            post[a] = SwitchState::On;
            self.command(a, SwitchState::On, cause, forced, now, step);
        }
    }

    fn command(
        &mut self,
        a: usize,
        state: SwitchState,
        cause: Cause,
        forced: bool,
        now: UnixMillis,
        step: &mut Step,
    ) {
        self.guards[a].switch(state, now);
        step.commands.push(Command {
            actuator: a,
            state,
            reason: self.reason(a, cause),
            forced,
        });
    }

    fn reason(&self, a: usize, cause: Cause) -> String {
        match cause {
            Cause::Override => match self.overrides[a] {
                Some(o) => format!("manual override until {}", format_ms(o.until)),
                None => "manual override".into(),
            },
            Cause::Fault(i) => match &self.faults[i] {
                Some(f) => format!("safe state: loop {}: {}", self.loops[i].name, f.message),
                None => format!("safe state: loop {}", self.loops[i].name),
            },
            Cause::Loop(i) => crate::control::view::describe_loop(&self.loops[i], &self.states[i]),
            Cause::Keep => "no loop".into(),
            Cause::MaxOn => match self.actuators[a].timing.max_on {
                Some((max, window)) => format!(
                    "max on-time used up ({} per {})",
                    humantime::format_duration(max),
                    humantime::format_duration(window)
                ),
                None => "max on-time used up".into(),
            },
            Cause::Interlock(m) => format!(
                "interlock: {} is on by manual override",
                self.actuators[m].name
            ),
        }
    }
}

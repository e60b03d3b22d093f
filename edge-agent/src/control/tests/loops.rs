//! Each loop kind on its own actuator without timing limits: what it switches, when, and the
//! `next_wake` it asks for.

use farm_protocol::{Metric, SwitchState};

use super::super::LoopKind;
use super::*;
use SwitchState::{Off, On};

#[test]
fn hysteresis_raise_is_on_below_the_band_off_above_and_keeps_its_state_inside() {
    let mut rig = humidifier_rig(free(), T0);
    let at = |rig: &mut Rig, t: i64, value: f64| {
        rig.read(Metric::Humidity, value, T0 + t);
        switches(&rig.step(T0 + t))
    };
    assert_eq!(
        at(&mut rig, 0, 87.0),
        vec![],
        "inside the band from off: stays off"
    );
    assert_eq!(at(&mut rig, 10 * SEC, 85.9), vec![(0, On)], "below 86");
    assert_eq!(at(&mut rig, 20 * SEC, 88.0), vec![], "inside: stays on");
    assert_eq!(at(&mut rig, 30 * SEC, 89.9), vec![], "inside: stays on");
    assert_eq!(at(&mut rig, 40 * SEC, 90.1), vec![(0, Off)], "above 90");
    assert_eq!(at(&mut rig, 50 * SEC, 86.5), vec![], "inside: stays off");
    assert_eq!(at(&mut rig, 60 * SEC, 70.0), vec![(0, On)]);
    assert_eq!(rig.state(0), On);
}

#[test]
fn hysteresis_lower_runs_a_co2_fan_above_the_band() {
    let loops = vec![hysteresis(
        "co2",
        0,
        Metric::Co2,
        1000.0,
        200.0,
        Direction::Lower,
    )];
    let mut rig = Rig::new(
        &config(loops, vec![]),
        vec![actuator("fan", Off, free())],
        T0,
    );
    let at = |rig: &mut Rig, t: i64, ppm: f64| {
        rig.read(Metric::Co2, ppm, T0 + t);
        switches(&rig.step(T0 + t))
    };
    assert_eq!(at(&mut rig, 0, 1050.0), vec![]);
    assert_eq!(at(&mut rig, 10 * SEC, 1150.0), vec![(0, On)], "above 1100");
    assert_eq!(
        at(&mut rig, 20 * SEC, 950.0),
        vec![],
        "inside: keeps blowing"
    );
    assert_eq!(at(&mut rig, 30 * SEC, 850.0), vec![(0, Off)], "below 900");
    assert_eq!(at(&mut rig, 40 * SEC, 1080.0), vec![], "inside: stays off");
}

/// A heater driven by a PID on 20 °C with a 60 s duty-cycle period.
fn heater_rig(gains: (f64, f64, f64)) -> Rig {
    let loops = vec![heat_pid(0, 20.0, gains, secs(60))];
    Rig::new(
        &config(loops, vec![]),
        vec![actuator("heater", Off, free())],
        T0,
    )
}

#[test]
fn pid_runs_longer_for_a_larger_error_for_duty_times_period_then_waits_for_the_next_period() {
    // kp 0.1 per °C: 2 °C short is a 20 % duty (12 s of 60 s), 5 °C short 50 % (30 s).
    for (pv, on_for) in [(18.0, 12 * SEC), (15.0, 30 * SEC)] {
        let mut rig = heater_rig((0.1, 0.0, 0.0));
        rig.read(Metric::Temperature, pv, T0);
        let step = rig.step(T0);
        assert_eq!(switches(&step), vec![(0, On)], "pv {pv}");
        assert_eq!(step.next_wake, Some(T0 + on_for), "duty end, pv {pv}");
        assert_eq!(
            switches(&rig.step(T0 + on_for - 1)),
            vec![],
            "still on, pv {pv}"
        );
        let step = rig.step(T0 + on_for);
        assert_eq!(switches(&step), vec![(0, Off)], "pv {pv}");
        assert_eq!(step.next_wake, Some(T0 + MIN), "cycle end, pv {pv}");
        assert_eq!(
            switches(&rig.step(T0 + MIN - 1)),
            vec![],
            "off until the next period"
        );
        let step = rig.step(T0 + MIN);
        assert_eq!(switches(&step), vec![(0, On)], "next period, pv {pv}");
        assert_eq!(step.next_wake, Some(T0 + MIN + on_for));
    }
}

#[test]
fn pid_integral_lengthens_the_on_time_while_a_steady_offset_remains() {
    // 1 °C short: P = 0.05; the integral adds 0.001 × 1 × 60 s = 0.06 per period.
    let mut rig = heater_rig((0.05, 0.001, 0.0));
    let on = on_times(&mut rig, 6, 19.0);
    let expected = [6_600, 10_200, 13_800, 17_400, 21_000, 24_600];
    for (k, (got, want)) in on.iter().zip(expected).enumerate() {
        assert!(
            (got - want).abs() <= 1,
            "period {k}: on {got} ms, expected {want} ms"
        );
    }
}

/// The heater's on-time in each 60 s period from `T0`, stepping at `next_wake`, at a steady
/// `pv`.
fn on_times(rig: &mut Rig, periods: i64, pv: f64) -> Vec<i64> {
    let end = T0 + periods * MIN;
    let (mut intervals, mut since, mut now) = (Vec::new(), None, T0);
    while now < end {
        rig.read(Metric::Temperature, pv, now);
        let step = rig.step(now);
        for (_, state) in switches(&step) {
            match state {
                On => since = Some(now),
                Off => intervals.push((since.take().unwrap(), now)),
            }
        }
        now = step.next_wake.unwrap();
    }
    intervals.extend(since.map(|s| (s, end)));
    (0..periods)
        .map(|k| {
            let (from, to) = (T0 + k * MIN, T0 + (k + 1) * MIN);
            intervals
                .iter()
                .map(|&(s, e)| (e.min(to) - s.max(from)).max(0))
                .sum()
        })
        .collect()
}

#[test]
fn pid_anti_windup_lets_the_duty_drop_to_zero_soon_after_the_error_flips() {
    // 10 °C short for 30 minutes: saturated at 100 %. An integral that kept growing meanwhile
    // would keep the heater on for many periods after the room overshoots.
    let mut rig = heater_rig((0.2, 0.002, 0.0));
    let cold = on_times(&mut rig, 30, 10.0);
    assert!(cold.iter().all(|&on| on == MIN), "saturated: {cold:?}");
    // The room overshoots to 20.5 °C (error −0.5).
    let mut log = Vec::new();
    let mut now = T0 + 30 * MIN;
    while now < T0 + 40 * MIN {
        rig.read(Metric::Temperature, 20.5, now);
        let step = rig.step(now);
        log.extend(switches(&step).into_iter().map(|(_, s)| (now, s)));
        now = step.next_wake.unwrap().min(now + 10 * SEC);
    }
    let (off_at, _) = log[0];
    assert_eq!(log[0].1, Off);
    assert!(
        off_at <= T0 + 32 * MIN,
        "off {} s after the flip",
        (off_at - T0) / SEC - 1800
    );
    assert_eq!(log.len(), 1, "stays off afterwards: {log:?}");
}

#[test]
fn pid_setpoint_change_causes_no_derivative_kick() {
    // kp 0.1 and a strong derivative (kd 50 duty per °C/s) at a steady 20 °C.
    let mut rig = heater_rig((0.1, 0.0, 50.0));
    rig.read(Metric::Temperature, 20.0, T0);
    assert_eq!(switches(&rig.step(T0)), vec![], "on setpoint: duty 0");
    rig.controller.set_setpoint("heat", 22.0).unwrap();
    // Next period: only P acts, 0.1 × 2 = 20 % → 12 s. On the error, D would add 50 × 2/60.
    rig.read(Metric::Temperature, 20.0, T0 + MIN);
    let step = rig.step(T0 + MIN);
    assert_eq!(switches(&step), vec![(0, On)]);
    assert_eq!(
        step.next_wake,
        Some(T0 + MIN + 12 * SEC),
        "20 % duty, no kick"
    );
    // The derivative does act on the measurement: a falling temperature adds duty.
    let mut rig = heater_rig((0.1, 0.0, 50.0));
    rig.read(Metric::Temperature, 20.0, T0);
    rig.step(T0);
    rig.read(Metric::Temperature, 19.5, T0 + MIN);
    let step = rig.step(T0 + MIN);
    assert_eq!(switches(&step), vec![(0, On)]);
    // P alone: 0.1 × 0.5 = 5 % (3 s); D adds 50 × 0.5/60 ≈ 42 %: about 28 s.
    let on_until = step.next_wake.unwrap() - (T0 + MIN);
    assert!(
        (27 * SEC..=29 * SEC).contains(&on_until),
        "on for {on_until} ms"
    );
}

/// A lamp on a photoperiod in the Netherlands, in a controller started at `start`.
fn lamp(on_at: Duration, on_for: Duration, start: UnixMillis) -> Rig {
    let photoperiod = LoopKind::Photoperiod { on_at, on_for };
    let mut cfg = config(vec![schedule("light", 0, photoperiod)], vec![]);
    cfg.timezone = amsterdam();
    Rig::new(&cfg, vec![actuator("lamp", Off, free())], start)
}

/// [`lamp`] stepped every 10 minutes and at `next_wake`.
fn lamp_log(
    on_at: Duration,
    on_for: Duration,
    from: &str,
    until: &str,
) -> Vec<(i64, usize, SwitchState)> {
    let mut rig = lamp(on_at, on_for, utc(from));
    timeline(&rig.run(utc(from), utc(until), 10 * MIN))
}

#[test]
fn photoperiod_follows_local_time_in_winter_and_in_summer() {
    // 06:00–18:00 local: 05:00–17:00 UTC in January (CET), 04:00–16:00 UTC in July (CEST).
    let winter = lamp_log(
        mins(6 * 60),
        mins(12 * 60),
        "2024-01-15T00:03:00Z",
        "2024-01-16T12:00:00Z",
    );
    let expected = vec![
        (utc("2024-01-15T05:00:00Z"), 0, On),
        (utc("2024-01-15T17:00:00Z"), 0, Off),
        (utc("2024-01-16T05:00:00Z"), 0, On),
    ];
    assert_eq!(winter, expected);
    let summer = lamp_log(
        mins(6 * 60),
        mins(12 * 60),
        "2024-07-15T00:03:00Z",
        "2024-07-16T12:00:00Z",
    );
    let expected = vec![
        (utc("2024-07-15T04:00:00Z"), 0, On),
        (utc("2024-07-15T16:00:00Z"), 0, Off),
        (utc("2024-07-16T04:00:00Z"), 0, On),
    ];
    assert_eq!(summer, expected);
}

#[test]
fn photoperiod_next_wake_is_the_next_edge() {
    let mut rig = lamp(mins(360), mins(720), utc("2024-01-15T01:00:00Z"));
    let step = rig.step(utc("2024-01-15T01:00:00Z"));
    assert_eq!(step.next_wake, Some(utc("2024-01-15T05:00:00Z")));
    let step = rig.step(utc("2024-01-15T05:00:00Z"));
    assert_eq!(step.next_wake, Some(utc("2024-01-15T17:00:00Z")));
}

#[test]
fn photoperiod_window_may_cross_midnight() {
    // 20:00 for 10 h, CET: 19:00 UTC to 05:00 UTC the next day.
    let log = lamp_log(
        mins(20 * 60),
        mins(10 * 60),
        "2024-01-15T12:00:00Z",
        "2024-01-17T12:00:00Z",
    );
    let expected = vec![
        (utc("2024-01-15T19:00:00Z"), 0, On),
        (utc("2024-01-16T05:00:00Z"), 0, Off),
        (utc("2024-01-16T19:00:00Z"), 0, On),
        (utc("2024-01-17T05:00:00Z"), 0, Off),
    ];
    assert_eq!(log, expected);
}

#[test]
fn photoperiod_next_wake_is_exact_across_the_spring_dst_change() {
    // Off at 18:00 CET on Saturday 30 March 2024; clocks go forward that night, so the next
    // 06:00 is 06:00 CEST = 04:00 UTC, not 05:00 UTC.
    let start = utc("2024-03-30T16:00:00Z");
    let mut rig = lamp(mins(360), mins(720), start);
    assert_eq!(switches(&rig.step(start)), vec![(0, On)]);
    let step = rig.step(utc("2024-03-30T17:00:00Z"));
    assert_eq!(switches(&step), vec![(0, Off)]);
    assert_eq!(step.next_wake, Some(utc("2024-03-31T04:00:00Z")));
}

#[test]
fn interval_mists_for_30_s_at_the_start_of_every_quarter_hour() {
    let every_15 = LoopKind::Interval {
        every: mins(15),
        on_for: secs(30),
    };
    let cfg = config(vec![schedule("mist", 0, every_15)], vec![]);
    let mut rig = Rig::new(&cfg, vec![actuator("mister", Off, free())], T0 - MIN);
    let step = rig.step(T0 - 1);
    assert_eq!((switches(&step), step.next_wake), (vec![], Some(T0)));
    let step = rig.step(T0);
    assert_eq!(
        (switches(&step), step.next_wake),
        (vec![(0, On)], Some(T0 + 30 * SEC))
    );
    let step = rig.step(T0 + 30 * SEC);
    assert_eq!(
        (switches(&step), step.next_wake),
        (vec![(0, Off)], Some(T0 + 15 * MIN))
    );
    // Stepped every 7 s and at next_wake for an hour: on exactly in [k·15m, k·15m + 30 s).
    let mut rig = Rig::new(&cfg, vec![actuator("mister", Off, free())], T0 - MIN);
    let mut now = T0 - MIN;
    while now < T0 + 61 * MIN {
        let step = rig.step(now);
        let phase = (now - T0).rem_euclid(15 * MIN);
        assert_eq!(
            rig.state(0) == On,
            phase < 30 * SEC,
            "at T0{:+} ms",
            now - T0
        );
        now = step.next_wake.unwrap().min(now + 7 * SEC);
    }
    let log = timeline(&rig.run(T0 + 61 * MIN, T0 + 91 * MIN, 7 * SEC));
    let expected = vec![
        (T0 + 75 * MIN, 0, On),
        (T0 + 75 * MIN + 30 * SEC, 0, Off),
        (T0 + 90 * MIN, 0, On),
        (T0 + 90 * MIN + 30 * SEC, 0, Off),
    ];
    assert_eq!(log, expected);
}

//! The controller in closed loop with the simulated room of farm-drivers, in simulated time:
//! a mushroom fruiting room held at 85–95 %RH, CO2 < 1000 ppm and 18–22 °C for 24 simulated
//! hours after reaching that band from a dry start within 30 minutes, without wearing out the
//! relays. Prints time in band and switches per hour (`-- --nocapture`).
#![allow(clippy::unwrap_used)]

mod sim_room;

use farm_drivers::sim::RoomState;
use sim_room::HumiditySensor;
use sim_room::{actuators, in_band, Record, Sim, BANDS, HOUR_S, SETTLE_S};

/// The shortest on and off periods between switches, s (the last, open one not counted).
fn shortest_periods(switches: &[(i64, bool)]) -> (i64, i64) {
    let (mut on, mut off) = (i64::MAX, i64::MAX);
    for pair in switches.windows(2) {
        let length = pair[1].0 - pair[0].0;
        if pair[0].1 {
            on = on.min(length);
        } else {
            off = off.min(length);
        }
    }
    (on, off)
}

/// A day after a dry start: the run, when all three first were in band, and the records
/// after the first 30 min and from that first time in band on.
struct Day {
    sim: Sim,
    time_to_band_s: i64,
    settled: Record,
    since_band: Record,
}

impl Day {
    /// Starts at midnight from 16.5 °C, 45 %RH, 800 ppm and runs 30 min + 24 h.
    fn run() -> Day {
        let dry = RoomState {
            temperature_c: 16.5,
            humidity_rh: 45.0,
            co2_ppm: 800.0,
            ..RoomState::default()
        };
        let mut sim = Sim::new(dry);
        let mut time_to_band_s = None;
        let (mut settled, mut since_band) = (Record::default(), Record::default());
        while sim.now_s < SETTLE_S + 24 * HOUR_S {
            sim.tick(HumiditySensor::Working);
            let state = sim.room.state();
            if time_to_band_s.is_none() && in_band(&state) == [true; 3] {
                time_to_band_s = Some(sim.now_s);
            }
            if time_to_band_s.is_some() {
                since_band.add(&state);
            }
            if sim.now_s > SETTLE_S {
                settled.add(&state);
            }
        }
        Day {
            sim,
            time_to_band_s: time_to_band_s.expect("never in band"),
            settled,
            since_band,
        }
    }

    /// Switches per hour of actuator `a` after the first 30 min.
    fn switches_per_hour(&self, a: usize) -> f64 {
        let after = self.sim.switches[a].iter().filter(|s| s.0 > SETTLE_S);
        after.count() as f64 / self.settled.hours()
    }

    fn report(&self) {
        let (settled, since_band) = (&self.settled, &self.since_band);
        println!("Closed loop, 30 m³ fruiting room, start 00:00 at 16.5 °C / 45 %RH / 800 ppm");
        let to_band_min = self.time_to_band_s as f64 / 60.0;
        println!("  time to band (all three): {to_band_min:.1} min");
        println!("  the {:.0} h after the first 30 min:", settled.hours());
        for (i, (metric, low, high)) in BANDS.iter().enumerate() {
            let ((min, max), band) = (settled.range[i], format!("{low}–{high}"));
            let pct = settled.pct(settled.in_band[i]);
            println!("  {metric:<11} {band:>6}: {pct:6.2} % in band, min {min:.1}, max {max:.1}");
        }
        let all = settled.pct(settled.all_in_band);
        let since = since_band.pct(since_band.all_in_band);
        println!("  all three at once: {all:.2} % (from the first time in band on: {since:.2} %)");
        for (a, spec) in actuators().iter().enumerate() {
            let (on, off) = shortest_periods(&self.sim.switches[a]);
            let show = |s: i64| (s < i64::MAX).then(|| format!("{s} s"));
            println!(
                "  {:<13} {:5.1} switches/h, shortest on {}, off {}",
                spec.name,
                self.switches_per_hour(a),
                show(on).unwrap_or("-".into()),
                show(off).unwrap_or("-".into())
            );
        }
    }
}

#[test]
fn a_dry_room_reaches_the_fruiting_band_in_30_minutes_and_stays_there_for_24_hours() {
    let day = Day::run();
    day.report();
    let (settled, since_band) = (&day.settled, &day.since_band);
    assert!(day.time_to_band_s <= SETTLE_S, "{} s", day.time_to_band_s);
    // Measured 99.75 %: humidity dips just below 85 %RH in a few fan runs of the coldest
    // hours; other noise seeds give 99.2–99.9 %. CO2 and temperature never leave their band.
    assert!(settled.pct(settled.all_in_band) >= 99.0);
    assert!(since_band.pct(since_band.all_in_band) >= 99.0);
    for (i, bar) in [99.0, 100.0, 100.0].into_iter().enumerate() {
        assert!(settled.pct(settled.in_band[i]) >= bar, "{:?}", BANDS[i]);
    }
    // At most two switches per duty-cycle period (heater), per fan run (~5 min every ~15 min)
    // or per photoperiod. Measured: humidifier 24.7/h, fan 8.2/h, heater 15.9/h, lights 0.08/h.
    let specs = actuators();
    for (a, limit) in [30.0, 12.0, 24.0, 0.1].into_iter().enumerate() {
        let spec = &specs[a];
        let rate = day.switches_per_hour(a);
        assert!(rate <= limit, "{}: {rate} switches/h", spec.name);
        let (on, off) = shortest_periods(&day.sim.switches[a]);
        let (min_on, min_off) = (spec.timing.min_on, spec.timing.min_off);
        assert!(on >= min_on.as_secs() as i64, "{}: on {on} s", spec.name);
        assert!(
            off >= min_off.as_secs() as i64,
            "{}: off {off} s",
            spec.name
        );
    }
}

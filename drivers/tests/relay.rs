//! A relay drives its pin to the safe state at construction and on drop, inverts for
//! active-low boards, and reports pin errors naming the relay.

use embedded_hal::digital::{ErrorKind, PinState};
use embedded_hal_mock::eh1::digital::{Mock as PinMock, State, Transaction};
use embedded_hal_mock::eh1::MockError;
use farm_drivers::relay::{Polarity, Relay, SwitchState};

fn pin(script: &[Transaction]) -> PinMock {
    PinMock::new(script)
}

#[test]
fn active_high_on_is_high_and_off_is_low() {
    let mut mock = pin(&[
        Transaction::set(State::Low), // safe state Off, at construction
        Transaction::set(State::High),
        Transaction::set(State::Low),
        Transaction::set(State::Low), // drop
    ]);
    let mut relay = Relay::new(
        "heater",
        mock.clone(),
        Polarity::ActiveHigh,
        SwitchState::Off,
    )
    .unwrap();
    assert_eq!(relay.state(), Some(SwitchState::Off));
    relay.set(SwitchState::On).unwrap();
    assert_eq!(relay.state(), Some(SwitchState::On));
    relay.set(SwitchState::Off).unwrap();
    assert_eq!(relay.state(), Some(SwitchState::Off));
    drop(relay);
    mock.done();
}

#[test]
fn active_low_on_is_low_and_off_is_high() {
    let mut mock = pin(&[
        Transaction::set(State::High), // safe state Off, at construction
        Transaction::set(State::Low),
        Transaction::set(State::High),
        Transaction::set(State::High), // drop
    ]);
    let mut relay = Relay::new(
        "humidifier",
        mock.clone(),
        Polarity::ActiveLow,
        SwitchState::Off,
    )
    .unwrap();
    relay.set(SwitchState::On).unwrap();
    relay.set(SwitchState::Off).unwrap();
    drop(relay);
    mock.done();
}

#[test]
fn the_safe_state_is_driven_at_construction_for_every_polarity() {
    let cases = [
        (Polarity::ActiveHigh, SwitchState::Off, State::Low),
        (Polarity::ActiveHigh, SwitchState::On, State::High),
        (Polarity::ActiveLow, SwitchState::Off, State::High),
        (Polarity::ActiveLow, SwitchState::On, State::Low),
    ];
    for (polarity, safe, level) in cases {
        // Construction, then drop: nothing else touches the pin.
        let mut mock = pin(&[Transaction::set(level), Transaction::set(level)]);
        let relay = Relay::new("fan", mock.clone(), polarity, safe).unwrap();
        assert_eq!(relay.state(), Some(safe), "{polarity:?} {safe:?}");
        assert_eq!(relay.safe_state(), safe);
        assert_eq!(
            polarity.is_high(safe),
            level == State::High,
            "{polarity:?} {safe:?}"
        );
        drop(relay);
        mock.done();
    }
}

#[test]
fn drop_drives_the_safe_state_after_the_relay_was_switched() {
    // Safe state On (e.g. a fresh-air fan that must keep running): active-low, so On is low.
    let mut mock = pin(&[
        Transaction::set(State::Low),
        Transaction::set(State::High), // Off
        Transaction::set(State::Low),  // drop: back to On
    ]);
    let mut relay = Relay::new(
        "fresh_air_fan",
        mock.clone(),
        Polarity::ActiveLow,
        SwitchState::On,
    )
    .unwrap();
    relay.set(SwitchState::Off).unwrap();
    drop(relay);
    mock.done();
}

#[test]
fn apply_safe_state_drives_it_on_demand() {
    let mut mock = pin(&[
        Transaction::set(State::Low),
        Transaction::set(State::High),
        Transaction::set(State::Low), // apply_safe_state
        Transaction::set(State::Low), // drop
    ]);
    let mut relay = Relay::new(
        "lights",
        mock.clone(),
        Polarity::ActiveHigh,
        SwitchState::Off,
    )
    .unwrap();
    relay.set(SwitchState::On).unwrap();
    relay.apply_safe_state().unwrap();
    assert_eq!(relay.state(), Some(SwitchState::Off));
    drop(relay);
    mock.done();
}

#[test]
fn a_pin_error_names_the_relay_and_leaves_the_state_unknown() {
    let broken = MockError::Io(std::io::ErrorKind::NotConnected);
    let mut mock = pin(&[
        Transaction::set(State::Low),
        Transaction::set(State::High).with_error(broken),
        Transaction::set(State::Low), // drop still tries the safe state
    ]);
    let mut relay = Relay::new(
        "heater",
        mock.clone(),
        Polarity::ActiveHigh,
        SwitchState::Off,
    )
    .unwrap();
    let error = relay.set(SwitchState::On).unwrap_err();
    assert_eq!(error.relay, "heater");
    assert_eq!(error.wanted, SwitchState::On);
    assert_eq!(error.level, PinState::High);
    assert_eq!(error.kind, ErrorKind::Other);
    assert!(error.detail.contains("NotConnected"), "{error}");
    assert!(error.to_string().starts_with("relay heater: "), "{error}");
    assert_eq!(relay.state(), None);
    drop(relay);
    mock.done();
}

#[test]
fn a_pin_error_at_construction_fails_new() {
    let broken = MockError::Io(std::io::ErrorKind::NotConnected);
    let mut mock = pin(&[
        Transaction::set(State::High).with_error(broken),
        Transaction::set(State::High), // the failed relay is dropped: one more try
    ]);
    let error = Relay::new(
        "heater",
        mock.clone(),
        Polarity::ActiveLow,
        SwitchState::Off,
    )
    .unwrap_err();
    assert_eq!(error.relay, "heater");
    assert_eq!(error.wanted, SwitchState::Off);
    mock.done();
}

//! Real sensors and actuators in the config: defaults, and what each bad input gets.

use std::path::PathBuf;

use farm_drivers::hw::I2cSensorKind;
use farm_drivers::ActuatorKind;
use farm_protocol::SwitchState;

use super::{only_problem, parse_ok, problems};
use crate::config::{ActuatorOutput, SensorKind};

fn sensor(kind: &str, extra: &str) -> String {
    format!("[[sensors]]\nname = \"s\"\nkind = \"{kind}\"\nroom = \"r\"\n{extra}")
}

fn actuator(extra: &str) -> String {
    format!("[[actuators]]\nname = \"fan\"\nroom = \"r\"\ndevice = \"fresh_air_fan\"\n{extra}")
}

#[test]
fn i2c_sensors_default_to_bus_1_and_the_chips_first_address() {
    let config = parse_ok(&sensor("scd4x", ""));
    assert_eq!(
        config.sensors[0].kind,
        SensorKind::I2c {
            bus: PathBuf::from("/dev/i2c-1"),
            address: 0x62,
            device: I2cSensorKind::Scd4x
        }
    );
    assert_eq!(config.sensors[0].stuck_after, 20);
    let config = parse_ok(&sensor(
        "bme280",
        "bus = \"/dev/i2c-3\"\naddress = 0x77\nstuck_after = 0\n",
    ));
    assert_eq!(
        config.sensors[0].kind,
        SensorKind::I2c {
            bus: PathBuf::from("/dev/i2c-3"),
            address: 0x77,
            device: I2cSensorKind::Bme280
        }
    );
    assert_eq!(config.sensors[0].stuck_after, 0);
}

#[test]
fn an_address_the_chip_cannot_have_is_refused_with_the_allowed_ones() {
    let message = only_problem(&sensor("sht4x", "address = 0x76\n"), "sensors[0].address");
    assert_eq!(
        message,
        "0x76 is not an address a sht4x can have; use one of 0x44, 0x45, 0x46"
    );
}

#[test]
fn an_scd4x_is_not_read_faster_than_it_measures() {
    let message = only_problem(
        &sensor("scd4x", "interval = \"2s\"\n"),
        "sensors[0].interval",
    );
    assert!(message.contains("read it at \"5s\" or slower"), "{message}");
    parse_ok(&sensor("scd4x", "interval = \"10s\"\n"));
}

#[test]
fn keys_that_do_not_belong_to_the_kind_are_refused() {
    let message = only_problem(
        &sensor("sht4x", "metrics = [\"co2\"]\n"),
        "sensors[0].metrics",
    );
    assert!(
        message.contains("a real sensor reports what its chip measures"),
        "{message}"
    );
    let message = only_problem(
        &sensor("simulated", "address = 0x44\n"),
        "sensors[0].address",
    );
    assert!(
        message.contains("does not apply to kind \"simulated\""),
        "{message}"
    );
    let message = only_problem(&sensor("bh1750", "channel = 1\n"), "sensors[0].channel");
    assert!(
        message.contains("does not apply to kind \"bh1750\""),
        "{message}"
    );
}

#[test]
fn moisture_probes_need_a_channel_and_two_distinct_calibration_points() {
    let config = parse_ok(&sensor(
        "ads1115_moisture",
        "address = 0x49\nchannel = 2\ndry_mv = 2800.0\nwet_mv = 1200.0\n",
    ));
    let SensorKind::I2c {
        device, address, ..
    } = &config.sensors[0].kind
    else {
        panic!("not I2C")
    };
    assert_eq!(*address, 0x49);
    assert_eq!(
        *device,
        I2cSensorKind::Ads1115Moisture {
            channel: 2,
            dry_mv: 2800.0,
            wet_mv: 1200.0
        }
    );

    let keys: Vec<String> = problems(&sensor("ads1115_moisture", ""))
        .into_iter()
        .map(|p| p.key)
        .collect();
    assert_eq!(
        keys,
        [
            "sensors[0].channel",
            "sensors[0].dry_mv",
            "sensors[0].wet_mv"
        ]
    );
    let message = only_problem(
        &sensor(
            "ads1115_moisture",
            "channel = 4\ndry_mv = 2800.0\nwet_mv = 1200.0\n",
        ),
        "sensors[0].channel",
    );
    assert_eq!(message, "must be 0, 1, 2 or 3");
    let message = only_problem(
        &sensor(
            "ads1115_moisture",
            "channel = 0\ndry_mv = 2000.0\nwet_mv = 2000.0\n",
        ),
        "sensors[0].wet_mv",
    );
    assert!(message.contains("must differ from dry_mv"), "{message}");
}

#[test]
fn ds18b20_needs_a_w1_id_and_finds_it_under_w1_root() {
    let config = parse_ok(&sensor("ds18b20", "device = \"28-0316a279c5ff\"\n"));
    assert_eq!(
        config.sensors[0].kind,
        SensorKind::Ds18b20 {
            device_dir: PathBuf::from("/sys/bus/w1/devices/28-0316a279c5ff")
        }
    );
    let message = only_problem(&sensor("ds18b20", ""), "sensors[0].device");
    assert_eq!(message, "required key is missing");
    let message = only_problem(
        &sensor("ds18b20", "device = \"../../etc\"\n"),
        "sensors[0].device",
    );
    assert!(message.contains("is not a DS18B20 id"), "{message}");
}

#[test]
fn derived_metrics_cannot_be_simulated_directly() {
    let message = only_problem(
        &sensor("simulated", "metrics = [\"vpd\"]\n"),
        "sensors[0].metrics[0]",
    );
    assert!(
        message.contains("derived from temperature and humidity"),
        "{message}"
    );
}

#[test]
fn actuators_take_a_device_a_kind_and_a_safe_state() {
    let config = parse_ok(&actuator("kind = \"gpio\"\nline = 17\nactive_low = true\n"));
    let fan = &config.actuators[0];
    assert_eq!(fan.device, ActuatorKind::FreshAirFan);
    assert_eq!(
        fan.safe_state,
        SwitchState::Off,
        "off unless said otherwise"
    );
    assert_eq!(
        fan.output,
        ActuatorOutput::Gpio {
            chip: PathBuf::from("/dev/gpiochip0"),
            line: 17,
            active_low: true
        }
    );
    let lights = parse_ok(&actuator("kind = \"simulated\"\nsafe_state = \"on\"\n"));
    assert_eq!(lights.actuators[0].safe_state, SwitchState::On);
    assert_eq!(lights.actuators[0].output, ActuatorOutput::Simulated);
}

#[test]
fn each_bad_actuator_key_gets_its_own_problem() {
    assert_eq!(
        only_problem(&actuator("kind = \"gpio\"\n"), "actuators[0].line"),
        "required key is missing for kind \"gpio\""
    );
    let message = only_problem(&actuator("kind = \"relay\"\n"), "actuators[0].kind");
    assert_eq!(
        message,
        "unknown actuator kind \"relay\"; known kinds: gpio, simulated, mqtt"
    );
    let message = only_problem(
        &actuator("kind = \"simulated\"\nsafe_state = \"maybe\"\n"),
        "actuators[0].safe_state",
    );
    assert_eq!(message, "unknown state \"maybe\"; use \"off\" or \"on\"");
    let message = only_problem(
        &actuator("kind = \"simulated\"\nline = 3\n"),
        "actuators[0].line",
    );
    assert!(
        message.contains("does not apply to kind \"simulated\""),
        "{message}"
    );
    let text = actuator("kind = \"simulated\"\n").replace("fresh_air_fan", "sprinkler");
    assert!(only_problem(&text, "actuators[0].device").contains("sprinkler"));
}

#[test]
fn two_relays_on_one_gpio_line_are_refused() {
    let text = format!(
        "{}\n{}",
        actuator("kind = \"gpio\"\nline = 17\n"),
        actuator("kind = \"gpio\"\nline = 17\n").replace("\"fan\"", "\"heater\"")
    );
    let message = only_problem(&text, "actuators[1].line");
    assert_eq!(
        message,
        "line 17 of /dev/gpiochip0 is already used by actuators[0]"
    );
}

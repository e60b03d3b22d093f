//! The DS18B20 reader against a copy of /sys/bus/w1/devices built from tests/fixtures/w1:
//! a good read, a CRC "NO", the power-on value, a shorted bus, a truncated file, a device gone.

use std::path::Path;

use farm_drivers::hw::ds18b20::{discover, Ds18b20Sensor};
use farm_drivers::{Measurement, Sensor, SensorError};
use farm_protocol::Metric;

/// Probe directory, fixture copied to its `w1_slave`, and the kind of fault reading it gives.
const PROBES: [(&str, &str, &str); 5] = [
    ("28-0316a279c5ff", "good_yes", "none"),
    ("28-000000000001", "crc_no", "crc"),
    ("28-000000000002", "power_on_85000", "bus"),
    ("28-000000000003", "all_zero", "bus"),
    ("28-000000000004", "garbage", "bus"),
];

fn w1_tree(root: &Path) -> std::io::Result<()> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/w1");
    // A DS18S20 (family 10) is not a DS18B20.
    let ds18s20 = ("10-000802b4ba0e", "good_yes", "");
    for (dir, fixture, _) in PROBES.into_iter().chain([ds18s20]) {
        std::fs::create_dir_all(root.join(dir))?;
        std::fs::copy(fixtures.join(fixture), root.join(dir).join("w1_slave"))?;
    }
    std::fs::create_dir_all(root.join("w1_bus_master1"))?;
    std::fs::create_dir_all(root.join("28-000000000005")) // no w1_slave
}

#[test]
fn ds18b20_discovers_and_reads_through_w1_sysfs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    w1_tree(root).unwrap();
    let mut expected: Vec<_> = PROBES.iter().map(|(dir, _, _)| root.join(dir)).collect();
    expected.push(root.join("28-000000000005"));
    expected.sort();
    assert_eq!(discover(root).unwrap(), expected);
    assert!(discover(&root.join("no-w1-here")).is_err());

    let read = |dir: &str| Ds18b20Sensor::new(root.join(dir)).read();
    for (dir, fixture, kind) in PROBES {
        match read(dir) {
            Ok(readings) => assert_eq!(kind, "none", "{fixture}: {readings:?}"),
            Err(err) => assert_eq!(err.kind(), kind, "{fixture}: {err:?}"),
        }
    }
    let good = read("28-0316a279c5ff").unwrap();
    let expected = Measurement::checked(Metric::Temperature, 23.125).unwrap();
    assert_eq!(good, [expected]);
    let power_on = read("28-000000000002").unwrap_err();
    assert!(
        power_on.to_string().contains("power-on reset value"),
        "{power_on:?}"
    );
    for missing in ["28-000000000005", "28-00000000ffff"] {
        let err = read(missing).unwrap_err();
        assert!(matches!(err, SensorError::Absent(_)), "{missing}: {err:?}");
    }
}

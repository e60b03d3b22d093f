//! I2C helpers shared by the sensor adapters.

use embedded_hal::i2c::{Error, ErrorKind, NoAcknowledgeSource};

use crate::SensorError;

/// Turns a bus error into a [`SensorError`]: no acknowledge of the address (or of an unknown
/// part of the transfer, which is how Linux reports a missing device) means the sensor is
/// absent; anything else is a bus glitch worth retrying. `what` names the device for the
/// message, e.g. `"SHT4x at 0x44"`.
pub fn classify<E: Error>(error: &E, what: &str) -> SensorError {
    match error.kind() {
        ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address | NoAcknowledgeSource::Unknown) => {
            SensorError::Absent(format!("{what} does not answer (no acknowledge)"))
        }
        kind => SensorError::Bus(format!("{what}: {kind:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(ErrorKind);
    impl Error for E {
        fn kind(&self) -> ErrorKind {
            self.0
        }
    }

    #[test]
    fn a_nack_on_the_address_is_absent_and_anything_else_a_glitch() {
        let absent = classify(
            &E(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)),
            "X",
        );
        assert!(matches!(absent, SensorError::Absent(_)));
        let unknown = classify(
            &E(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Unknown)),
            "X",
        );
        assert!(matches!(unknown, SensorError::Absent(_)));
        let data = classify(&E(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data)), "X");
        assert!(matches!(data, SensorError::Bus(_)));
        assert!(matches!(
            classify(&E(ErrorKind::ArbitrationLoss), "X"),
            SensorError::Bus(_)
        ));
    }
}

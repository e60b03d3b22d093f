//! Opening the real hardware on Linux: I2C buses (`/dev/i2c-N`), relay lines on GPIO chips
//! (`/dev/gpiochipN`) and a sleeping delay, through linux-embedded-hal 0.5.
//!
//! Every error names the device file (and the line), and says what to do about the common
//! causes on a Raspberry Pi: I2C not enabled, the user not in the `i2c`/`gpio` group, a line
//! owned by another process or by a kernel driver.
//!
//! # Not-acknowledge on Linux
//! The Pi's I2C controllers (i2c-bcm2835, and i2c-designware on the Pi 5) report a device that
//! does not acknowledge as `EREMOTEIO`, which linux-embedded-hal 0.5 maps to
//! `ErrorKind::Other`: a missing sensor would look like a bus glitch, and an empty address
//! would fill [`crate::scan`]'s error list. [`LinuxI2c`] reports `EREMOTEIO` as
//! `NoAcknowledge(Unknown)` instead (Linux does not say which phase was refused), which
//! [`crate::i2c::classify`] counts as absent.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};
use linux_embedded_hal::gpio_cdev::{self, Chip, LineRequestFlags};
use linux_embedded_hal::i2cdev::linux::LinuxI2CError;
use linux_embedded_hal::{CdevPin, Delay, I2CError, I2cdev};

/// `EREMOTEIO` on every Linux architecture a Pi runs (asm-generic errno numbers).
const EREMOTEIO: i32 = 121;

/// Opening a device file failed.
#[derive(Debug, thiserror::Error)]
pub enum HwError {
    /// The I2C bus's device file does not exist.
    #[error(
        "{}: no such I2C bus; enable I2C (`raspi-config`, or `dtparam=i2c_arm=on` in \
         /boot/firmware/config.txt, /boot/config.txt before Bookworm, then reboot) and load \
         the i2c-dev module (`modprobe i2c-dev`)",
        .path.display()
    )]
    I2cMissing {
        /// The device file, e.g. `/dev/i2c-1`.
        path: PathBuf,
    },
    /// The I2C bus's device file exists but this user may not open it.
    #[error(
        "{}: permission denied; add the agent's user to the `i2c` group (the group that owns \
         /dev/i2c-* once `dtparam=i2c_arm=on` is set in /boot/config.txt)",
        .path.display()
    )]
    I2cPermission {
        /// The device file.
        path: PathBuf,
    },
    /// The file could not be opened as an I2C bus for another reason (e.g. it is not one).
    #[error("{}: cannot open as an I2C bus: {cause}", .path.display())]
    I2cOpen {
        /// The device file.
        path: PathBuf,
        /// What the kernel said.
        cause: io::Error,
    },
    /// The GPIO chip's device file does not exist.
    #[error(
        "{}: no such GPIO chip; list them with `gpiodetect` or `ls /dev/gpiochip*`",
        .path.display()
    )]
    ChipMissing {
        /// The device file, e.g. `/dev/gpiochip0`.
        path: PathBuf,
    },
    /// The GPIO chip's device file exists but this user may not open it.
    #[error("{}: permission denied; add the agent's user to the `gpio` group", .path.display())]
    ChipPermission {
        /// The device file.
        path: PathBuf,
    },
    /// The file could not be opened as a GPIO chip for another reason (e.g. it is not one).
    #[error("{}: cannot open as a GPIO chip: {cause}", .path.display())]
    ChipOpen {
        /// The device file.
        path: PathBuf,
        /// What gpio-cdev said.
        cause: gpio_cdev::Error,
    },
    /// The chip has no such line.
    #[error(
        "{} line {line}: out of range, the chip has {lines} lines (0..{lines})",
        .path.display()
    )]
    LineOutOfRange {
        /// The chip's device file.
        path: PathBuf,
        /// The line asked for.
        line: u32,
        /// How many lines the chip has.
        lines: u32,
    },
    /// Another process, or a kernel driver (a device-tree overlay, the 1-wire bus…), owns
    /// the line (`EBUSY`).
    #[error(
        "{} line {line}: busy, owned by {consumer:?}; another process or a kernel driver \
         (see `gpioinfo`) has it",
        .path.display()
    )]
    LineBusy {
        /// The chip's device file.
        path: PathBuf,
        /// The line asked for.
        line: u32,
        /// The owner's label, as the kernel reports it (may be empty).
        consumer: String,
    },
    /// Requesting the line as an output failed for another reason.
    #[error("{} line {line}: cannot request it as an output: {cause}", .path.display())]
    LineRequest {
        /// The chip's device file.
        path: PathBuf,
        /// The line asked for.
        line: u32,
        /// What gpio-cdev said.
        cause: gpio_cdev::Error,
    },
}

/// An I2C bus opened by [`open_i2c`]: linux-embedded-hal's [`I2cdev`] with not-acknowledge
/// reported as such (see the module documentation).
pub struct LinuxI2c {
    bus: I2cdev,
    path: PathBuf,
}

impl LinuxI2c {
    /// The device file this bus was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// linux-embedded-hal's bus, without the error mapping.
    pub fn into_inner(self) -> I2cdev {
        self.bus
    }
}

impl ErrorType for LinuxI2c {
    type Error = LinuxI2cError;
}

impl I2c for LinuxI2c {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), Self::Error> {
        I2c::<u8>::transaction(&mut self.bus, address, operations).map_err(LinuxI2cError)
    }
}

/// A transfer on a [`LinuxI2c`] failed.
pub struct LinuxI2cError(I2CError);

impl LinuxI2cError {
    /// The errno the kernel returned, when there is one.
    pub fn errno(&self) -> Option<i32> {
        match self.0.inner() {
            LinuxI2CError::Errno(errno) => Some(*errno),
            LinuxI2CError::Io(error) => error.raw_os_error(),
        }
    }

    /// linux-embedded-hal's error.
    pub fn inner(&self) -> &I2CError {
        &self.0
    }
}

impl From<I2CError> for LinuxI2cError {
    fn from(error: I2CError) -> Self {
        LinuxI2cError(error)
    }
}

impl embedded_hal::i2c::Error for LinuxI2cError {
    fn kind(&self) -> ErrorKind {
        match self.errno() {
            Some(EREMOTEIO) => ErrorKind::NoAcknowledge(NoAcknowledgeSource::Unknown),
            _ => embedded_hal::i2c::Error::kind(&self.0),
        }
    }
}

/// `Bus: Device or resource busy (os error 16)`: the kind, then what the kernel said.
impl fmt::Debug for LinuxI2cError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = embedded_hal::i2c::Error::kind(self);
        write!(f, "{kind:?}: {}", self.0)
    }
}

impl fmt::Display for LinuxI2cError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for LinuxI2cError {}

/// Opens the I2C bus at `path` (e.g. `/dev/i2c-1`, the Pi's header pins 3 and 5).
///
/// # Errors
/// [`HwError::I2cMissing`], [`HwError::I2cPermission`], or [`HwError::I2cOpen`].
pub fn open_i2c(path: &Path) -> Result<LinuxI2c, HwError> {
    let bus = I2cdev::new(path).map_err(|error| {
        let cause = io::Error::from(error);
        let path = path.to_path_buf();
        match cause.kind() {
            io::ErrorKind::NotFound => HwError::I2cMissing { path },
            io::ErrorKind::PermissionDenied => HwError::I2cPermission { path },
            _ => HwError::I2cOpen { path, cause },
        }
    })?;
    Ok(LinuxI2c {
        bus,
        path: path.to_path_buf(),
    })
}

/// Requests `line` of the GPIO chip `chip` (e.g. `/dev/gpiochip0`; on a Pi the line is the
/// BCM GPIO number) as an output labelled `consumer`. The kernel sets the line to
/// `initial_high` in the same request, so it never shows the other level: pass the safe
/// state's level (`Polarity::is_high(safe_state)` in [`crate::relay`]).
///
/// # Errors
/// [`HwError::ChipMissing`], [`HwError::ChipPermission`], [`HwError::ChipOpen`],
/// [`HwError::LineOutOfRange`], [`HwError::LineBusy`] or [`HwError::LineRequest`].
pub fn open_relay_pin(
    chip: &Path,
    line: u32,
    consumer: &str,
    initial_high: bool,
) -> Result<CdevPin, HwError> {
    let path = chip.to_path_buf();
    let mut gpio = Chip::new(chip).map_err(|cause| chip_error(&path, cause))?;
    let lines = gpio.num_lines();
    if line >= lines {
        return Err(HwError::LineOutOfRange { path, line, lines });
    }
    let request_error = |cause| HwError::LineRequest {
        path: path.clone(),
        line,
        cause,
    };
    let handle = gpio.get_line(line).map_err(request_error)?;
    let busy = |info: &gpio_cdev::LineInfo| HwError::LineBusy {
        path: path.clone(),
        line,
        consumer: info.consumer().unwrap_or_default().to_owned(),
    };
    // GPIOLINE_FLAG_KERNEL ("is_kernel") is set while anyone, process or driver, holds it.
    let info = handle.info().map_err(request_error)?;
    if info.is_kernel() {
        return Err(busy(&info));
    }
    let requested = handle
        .request(LineRequestFlags::OUTPUT, u8::from(initial_high), consumer)
        .map_err(|cause| match handle.info() {
            // Taken between the check and the request.
            Ok(info) if info.is_kernel() => busy(&info),
            _ => request_error(cause),
        })?;
    CdevPin::new(requested).map_err(request_error)
}

fn chip_error(path: &Path, cause: gpio_cdev::Error) -> HwError {
    let io_kind = std::error::Error::source(&cause)
        .and_then(|source| source.downcast_ref::<io::Error>())
        .map(io::Error::kind);
    let path = path.to_path_buf();
    match io_kind {
        Some(io::ErrorKind::NotFound) => HwError::ChipMissing { path },
        Some(io::ErrorKind::PermissionDenied) => HwError::ChipPermission { path },
        _ => HwError::ChipOpen { path, cause },
    }
}

/// A delay that sleeps the thread, for drivers that wait on a measurement.
pub const fn delay() -> Delay {
    Delay
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i2c::classify;
    use crate::SensorError;

    fn i2c_error(errno: i32) -> LinuxI2cError {
        LinuxI2cError(I2CError::from(LinuxI2CError::Errno(errno)))
    }

    #[test]
    fn a_missing_i2c_bus_names_the_path_and_how_to_enable_i2c() {
        let Err(error) = open_i2c(Path::new("/dev/i2c-99")) else {
            panic!("/dev/i2c-99 should not exist");
        };
        assert!(matches!(error, HwError::I2cMissing { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.starts_with("/dev/i2c-99: "), "{message}");
        assert!(message.contains("modprobe i2c-dev"), "{message}");
        assert!(message.contains("dtparam=i2c_arm=on"), "{message}");
    }

    #[test]
    fn a_file_that_is_not_an_i2c_bus_names_the_path() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let Err(error) = open_i2c(file.path()) else {
            panic!("a regular file is not an I2C bus");
        };
        assert!(matches!(error, HwError::I2cOpen { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains(&file.path().display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn a_missing_gpio_chip_names_the_path() {
        let Err(error) = open_relay_pin(Path::new("/dev/gpiochip99"), 17, "farm-test", false)
        else {
            panic!("/dev/gpiochip99 should not exist");
        };
        assert!(matches!(error, HwError::ChipMissing { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.starts_with("/dev/gpiochip99: "), "{message}");
        assert!(message.contains("gpiodetect"), "{message}");
    }

    #[test]
    fn a_file_that_is_not_a_gpio_chip_names_the_path() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let Err(error) = open_relay_pin(file.path(), 0, "farm-test", false) else {
            panic!("a regular file is not a GPIO chip");
        };
        assert!(matches!(error, HwError::ChipOpen { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains(&file.path().display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn eremoteio_is_a_nack_so_the_device_counts_as_absent() {
        let nack = i2c_error(EREMOTEIO);
        let expected = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Unknown);
        assert_eq!(embedded_hal::i2c::Error::kind(&nack), expected);
        assert!(matches!(
            classify(&nack, "SHT4x at 0x44"),
            SensorError::Absent(_)
        ));
        let from_io = LinuxI2cError(I2CError::from(LinuxI2CError::Io(
            io::Error::from_raw_os_error(EREMOTEIO),
        )));
        assert_eq!(embedded_hal::i2c::Error::kind(&from_io), expected);
    }

    #[test]
    fn other_errnos_keep_linux_embedded_hal_kinds() {
        // ENXIO: the address phase was not acknowledged; EIO: a bus error; EAGAIN: arbitration.
        let enxio = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
        assert_eq!(embedded_hal::i2c::Error::kind(&i2c_error(6)), enxio);
        assert_eq!(
            embedded_hal::i2c::Error::kind(&i2c_error(5)),
            ErrorKind::Bus
        );
        assert_eq!(
            embedded_hal::i2c::Error::kind(&i2c_error(11)),
            ErrorKind::ArbitrationLoss
        );
        assert!(matches!(classify(&i2c_error(5), "x"), SensorError::Bus(_)));
        let debug = format!("{:?}", i2c_error(16));
        assert!(debug.starts_with("Bus: "), "{debug}");
    }
}

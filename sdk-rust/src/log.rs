//! Log lines, attributed by the host to the operator. Lines longer than WOP_MAX_LOG_BYTES are
//! cut by the host. The macros format like `format!`: `wop::info!("{ns}/{name}: nonce {n}")`.

use crate::abi;
use crate::host;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug = abi::WOP_LOG_DEBUG as isize,
    Info = abi::WOP_LOG_INFO as isize,
    Warn = abi::WOP_LOG_WARN as isize,
    Error = abi::WOP_LOG_ERROR as isize,
}

pub fn write(level: Level, message: &str) {
    host::log(level as i32, message);
}

pub fn debug(message: &str) {
    write(Level::Debug, message)
}
pub fn info(message: &str) {
    write(Level::Info, message)
}
pub fn warn(message: &str) {
    write(Level::Warn, message)
}
pub fn error(message: &str) {
    write(Level::Error, message)
}

#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Debug, &format!($($arg)*)) };
}
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Info, &format!($($arg)*)) };
}
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Warn, &format!($($arg)*)) };
}
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Error, &format!($($arg)*)) };
}

//! Native functions. The reference has one, `clock()`.

use std::sync::OnceLock;
use std::time::Instant;

use crate::object::NativeFn;
use crate::value::Value;

/// The natives every VM defines as globals.
pub(crate) const NATIVES: &[(&str, NativeFn)] = &[("clock", clock)];

/// Seconds since the process started using Lox. The reference returns processor time
/// (`clock()`); programs only subtract two readings, and wall time needs no `unsafe`.
fn clock<'gc>(_args: &[Value<'gc>]) -> Value<'gc> {
    static START: OnceLock<Instant> = OnceLock::new();
    Value::Number(START.get_or_init(Instant::now).elapsed().as_secs_f64())
}

/// Starts the clock, so that the first reading is not zero by construction.
pub(crate) fn start_clock() {
    let _ = clock(&[]);
}

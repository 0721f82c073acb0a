//! Native functions. The reference has one, `clock()`; `expectCollected(value, reason)` is
//! ours, for `--leak-report`.

use std::sync::OnceLock;
use std::time::Instant;

use gc_core::Mutation;

use crate::object::NativeFn;
use crate::value::Value;

/// The natives every VM defines as globals.
pub(crate) const NATIVES: &[(&str, NativeFn)] =
    &[("clock", clock), ("expectCollected", expect_collected)];

/// Seconds since the process started using Lox. The reference returns processor time
/// (`clock()`); programs only subtract two readings, and wall time needs no `unsafe`.
fn clock<'gc>(_mc: &Mutation<'gc>, _args: &[Value<'gc>]) -> Value<'gc> {
    Value::Number(START.get_or_init(Instant::now).elapsed().as_secs_f64())
}

/// Starts the clock, so that the first reading is not zero by construction.
pub(crate) fn start_clock() {
    START.get_or_init(Instant::now);
}

static START: OnceLock<Instant> = OnceLock::new();

/// `expectCollected(value[, reason])`: the program says `value` (an object) should die soon.
/// With `--leak-report`, an object still alive two full collections later is reported with
/// the path that keeps it; without it, nothing happens. Returns nil.
fn expect_collected<'gc>(mc: &Mutation<'gc>, args: &[Value<'gc>]) -> Value<'gc> {
    let reason = match args.get(1) {
        Some(Value::String(s)) => format!("expectCollected: {}", s.as_str()),
        _ => "expectCollected".to_string(),
    };
    match args.first() {
        Some(Value::String(gc)) => mc.watch(*gc, reason),
        Some(Value::Function(gc)) => mc.watch(*gc, reason),
        Some(Value::Native(gc)) => mc.watch(*gc, reason),
        Some(Value::Closure(gc)) => mc.watch(*gc, reason),
        Some(Value::Class(gc)) => mc.watch(*gc, reason),
        Some(Value::Instance(gc)) => mc.watch(*gc, reason),
        Some(Value::BoundMethod(gc)) => mc.watch(*gc, reason),
        Some(Value::Nil | Value::Bool(_) | Value::Number(_)) | None => {}
    }
    Value::Nil
}

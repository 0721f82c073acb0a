//! Values: what the stack, variables, fields and constants hold.

use std::fmt;

use gc_core::{Gc, Trace};

use crate::object::{BoundMethod, Class, Closure, Function, Instance, LoxString, Native};

/// A Lox value: 16 bytes, `Copy`. Each kind of object has its own variant, so a type test
/// is a tag comparison and never reads the object.
// A full-word tag keeps every store to a value word-sized, so that reading a value back right
// after writing it (push, then pop) is forwarded from the store buffer instead of stalling.
#[derive(Clone, Copy, Trace)]
#[repr(u64)]
pub(crate) enum Value<'gc> {
    Nil,
    Bool(bool),
    Number(f64),
    String(Gc<'gc, LoxString<'gc>>),
    Function(Gc<'gc, Function<'gc>>),
    Native(Gc<'gc, Native>),
    Closure(Gc<'gc, Closure<'gc>>),
    Class(Gc<'gc, Class<'gc>>),
    Instance(Gc<'gc, Instance<'gc>>),
    BoundMethod(Gc<'gc, BoundMethod<'gc>>),
}

const _: () = assert!(std::mem::size_of::<Value<'static>>() == 16);

impl<'gc> Value<'gc> {
    /// `nil` and `false` are falsey; everything else is truthy.
    #[inline(always)]
    pub(crate) fn is_falsey(self) -> bool {
        matches!(self, Value::Nil | Value::Bool(false))
    }

    /// Lox equality: numbers by value (so NaN differs from itself), objects by identity
    /// (strings are interned, so identity is content equality).
    #[inline]
    pub(crate) fn equals(self, other: Value<'gc>) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => Gc::ptr_eq(a, b),
            (Value::Function(a), Value::Function(b)) => Gc::ptr_eq(a, b),
            (Value::Native(a), Value::Native(b)) => Gc::ptr_eq(a, b),
            (Value::Closure(a), Value::Closure(b)) => Gc::ptr_eq(a, b),
            (Value::Class(a), Value::Class(b)) => Gc::ptr_eq(a, b),
            (Value::Instance(a), Value::Instance(b)) => Gc::ptr_eq(a, b),
            (Value::BoundMethod(a), Value::BoundMethod(b)) => Gc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => f.write_str(if b { "true" } else { "false" }),
            Value::Number(n) => write_number(f, n),
            Value::String(s) => f.write_str(s.as_str()),
            Value::Function(func) => write_function(f, &func),
            Value::Native(_) => f.write_str("<native fn>"),
            Value::Closure(c) => write_function(f, &c.function),
            Value::Class(c) => f.write_str(c.name.as_str()),
            Value::Instance(i) => write!(f, "{} instance", i.class.name.as_str()),
            Value::BoundMethod(b) => write_function(f, &b.method.function),
        }
    }
}

fn write_function(f: &mut fmt::Formatter<'_>, function: &Function<'_>) -> fmt::Result {
    match function.name {
        Some(name) => write!(f, "<fn {}>", name.as_str()),
        None => f.write_str("<script>"),
    }
}

/// Formats a number as C's `printf("%g")` does (six significant digits, trailing zeros
/// removed, exponent form outside 1e-4..1e6), which is how the reference prints numbers.
pub(crate) fn write_number(out: &mut impl fmt::Write, n: f64) -> fmt::Result {
    if n.is_nan() {
        // glibc prints the sign of a NaN; x86's 0/0 produces a negative one.
        return out.write_str(if n.is_sign_negative() { "-nan" } else { "nan" });
    }
    if n.is_infinite() {
        return out.write_str(if n < 0.0 { "-inf" } else { "inf" });
    }
    const PRECISION: i32 = 6;
    // The exponent after rounding to the precision decides the style, as C specifies.
    let sci = format!("{:.*e}", (PRECISION - 1) as usize, n);
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    if (-4..PRECISION).contains(&exp) {
        let fixed = format!("{:.*}", (PRECISION - 1 - exp) as usize, n);
        out.write_str(strip_zeros(&fixed))
    } else {
        out.write_str(strip_zeros(mantissa))?;
        let sign = if exp < 0 { '-' } else { '+' };
        write!(out, "e{sign}{:02}", exp.abs())
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A number as `%g` prints it.
pub fn number_to_string(n: f64) -> String {
    let mut s = String::new();
    let _ = write_number(&mut s, n);
    s
}

#[cfg(test)]
mod tests {
    use super::number_to_string as g;

    #[test]
    fn percent_g() {
        assert_eq!(g(123.0), "123");
        assert_eq!(g(-0.0), "-0");
        assert_eq!(g(0.0), "0");
        assert_eq!(g(123.456), "123.456");
        assert_eq!(g(1e7), "1e+07");
        assert_eq!(g(1234567.0), "1.23457e+06");
        assert_eq!(g(123456.0), "123456");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.00001), "1e-05");
        assert_eq!(g(1.0 / 3.0), "0.333333");
        assert_eq!(g(2.5), "2.5");
        assert_eq!(g(999999.5), "1e+06");
        assert_eq!(g(1e100), "1e+100");
        assert_eq!(g(-1.5e-10), "-1.5e-10");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(f64::NEG_INFINITY), "-inf");
        assert_eq!(g(f64::NAN), "nan");
        assert_eq!(g(-f64::NAN), "-nan");
    }
}

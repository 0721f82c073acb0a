//! Small formatting helpers shared by the reports.

use std::fmt;
use std::panic::Location;

use serde::{Serialize, Serializer};

/// A source location: where an object was allocated, a handle created, a watch filed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Site {
    /// The file, as the compiler names it (`src/main.rs`).
    pub file: &'static str,
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1.
    pub column: u32,
}

impl Site {
    pub(crate) fn of(location: &'static Location<'static>) -> Site {
        Site { file: location.file(), line: location.line(), column: location.column() }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// JSON: `"src/main.rs:12:5"`.
impl Serialize for Site {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A type name for reports: `std::any::type_name` without the lifetimes (`app::Node<'_>` →
/// `app::Node`, `Vec<Gc<'_, T>>` → `Vec<Gc<T>>`).
pub(crate) fn type_name(name: &str) -> String {
    if !name.contains('\'') {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // Skip the lifetime's name, then a following `, ` or a `, ` before it.
            while chars.peek().is_some_and(|c| c.is_alphanumeric() || *c == '_') {
                chars.next();
            }
            if chars.peek() == Some(&',') {
                chars.next();
                if chars.peek() == Some(&' ') {
                    chars.next();
                }
            } else if out.ends_with(", ") {
                out.truncate(out.len() - 2);
            }
            continue;
        }
        out.push(c);
    }
    // A generic list left empty: `Node<>`.
    out.replace("<>", "")
}

/// `48 B`, `4.1 KiB`, `12.0 MiB`.
pub(crate) struct Bytes(pub(crate) u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0 as f64;
        if self.0 < 1024 {
            write!(f, "{} B", self.0)
        } else if b < 1024.0 * 1024.0 {
            write!(f, "{:.1} KiB", b / 1024.0)
        } else if b < 1024.0 * 1024.0 * 1024.0 {
            write!(f, "{:.1} MiB", b / (1024.0 * 1024.0))
        } else {
            write!(f, "{:.1} GiB", b / (1024.0 * 1024.0 * 1024.0))
        }
    }
}

/// Replaces every `[123]` with `[x]`, for leak signatures: leaks through different elements
/// of the same sequence are the same leak.
pub(crate) fn normalize_indices(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'[' {
            let digits = bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 0 && bytes.get(i + 1 + digits) == Some(&b']') {
                out.push_str("[x]");
                i += digits + 2;
                continue;
            }
        }
        let c = text[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// FNV-1a, 64 bits: a stable hash for signatures (the same on every run and platform).
pub(crate) fn fnv64(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= b as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// FNV-1a as a `Hasher`, for the reports' maps of small keys (SipHash is most of their cost).
#[derive(Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        // A whole word at a time, then mixed (addresses and indices).
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 ^= self.0 >> 29;
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64)
    }
}

/// A `HashMap` with [`Fnv`].
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_lose_their_lifetimes() {
        assert_eq!(type_name("app::Node<'_>"), "app::Node");
        assert_eq!(type_name("app::Pair<'_, u32>"), "app::Pair<u32>");
        assert_eq!(type_name("Vec<gc_core::Gc<'_, app::Node<'_>>>"), "Vec<gc_core::Gc<app::Node>>");
        assert_eq!(type_name("app::Map<u32, 'gc>"), "app::Map<u32>");
        assert_eq!(type_name("str"), "str");
    }

    #[test]
    fn indices_are_normalized() {
        assert_eq!(normalize_indices(".a[3].b[12][value]"), ".a[x].b[x][value]");
        assert_eq!(normalize_indices("[]"), "[]");
    }

    #[test]
    fn sizes_print_in_binary_units() {
        assert_eq!(Bytes(48).to_string(), "48 B");
        assert_eq!(Bytes(4200).to_string(), "4.1 KiB");
        assert_eq!(Bytes(3 << 20).to_string(), "3.0 MiB");
    }
}

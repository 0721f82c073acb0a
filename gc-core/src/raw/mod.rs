//! The unsafe core: the object header word, per-type information, and the layout of an object.
//!
//! Every managed object is laid out as
//!
//! ```text
//! sized T : [header: usize][T, padded to 8 bytes]
//! [T]/str : [header: usize][len: usize][elements, padded to 8 bytes]
//! ```
//!
//! An object is addressed by its *header* (`ObjPtr`). The payload always starts 8 (sized) or 16
//! (slices) bytes after it, so a `Gc<'gc, [T]>` is a thin pointer. Every object size is a multiple
//! of 8, and every object starts on an 8-byte boundary. Types aligned to more than 8 bytes are
//! placed so that the payload is aligned; the gap in front is filled with one-word filler objects,
//! so that a space stays parseable from start to end (HotSpot's filler objects).
//!
//! The header word holds a pointer to the type's `'static` [`TypeInfo`] (aligned to 64, so the
//! low six bits are free for flags), or, during a collection, a forwarding address.

mod header;
mod type_info;

pub(crate) use header::*;
pub(crate) use type_info::*;
pub use type_info::{GcObject, TypeInfo};

//! The heap objects. Every one of them lives in gc-core; none has a destructor, so the
//! collector never has to find them to free them (the nursery is reclaimed wholesale).

use gc_core::{field, Gc, Lock, Mutation, Trace};

use crate::table::Table;
use crate::value::Value;

/// An interned string: its characters (a second object) and their hash, computed once.
///
/// Interning makes content equality identity, so tables compare keys with `Gc::ptr_eq`.
#[derive(Trace)]
pub(crate) struct LoxString<'gc> {
    pub(crate) hash: u32,
    pub(crate) chars: Gc<'gc, str>,
}

impl<'gc> LoxString<'gc> {
    #[inline]
    pub(crate) fn as_str(&self) -> &'gc str {
        self.chars.as_ref()
    }
}

/// FNV-1a, as the reference hashes strings.
pub(crate) fn hash_str(s: &[u8]) -> u32 {
    let mut hash: u32 = 2_166_136_261;
    for &b in s {
        hash ^= b as u32;
        hash = hash.wrapping_mul(16_777_619);
    }
    hash
}

/// A compiled function: its bytecode, line table and constants, all in the heap.
#[derive(Trace)]
pub(crate) struct Function<'gc> {
    pub(crate) arity: u32,
    pub(crate) upvalue_count: u32,
    /// `None` for the top-level script.
    pub(crate) name: Option<Gc<'gc, LoxString<'gc>>>,
    pub(crate) code: Gc<'gc, [u8]>,
    /// The source line of each byte of `code`.
    pub(crate) lines: Gc<'gc, [u32]>,
    pub(crate) constants: Gc<'gc, [Value<'gc>]>,
}

/// A native function. Like the reference's, natives do not check their argument count.
pub(crate) type NativeFn = for<'gc> fn(&[Value<'gc>]) -> Value<'gc>;

#[derive(Trace)]
pub(crate) struct Native {
    #[trace(skip)]
    pub(crate) function: NativeFn,
}

/// A function and the variables it captured.
#[derive(Trace)]
pub(crate) struct Closure<'gc> {
    pub(crate) function: Gc<'gc, Function<'gc>>,
    pub(crate) upvalues: Gc<'gc, [Gc<'gc, Upvalue<'gc>>]>,
}

/// A captured variable: while its frame is live it designates a stack slot; when the frame
/// ends (or the block that declared the variable) the value moves into the upvalue.
#[derive(Trace)]
pub(crate) struct Upvalue<'gc> {
    pub(crate) state: Lock<UpvalueState<'gc>>,
}

#[derive(Clone, Copy, Trace)]
pub(crate) enum UpvalueState<'gc> {
    /// The absolute index of the variable's stack slot.
    Open(usize),
    Closed(Value<'gc>),
}

#[derive(Trace)]
pub(crate) struct Class<'gc> {
    pub(crate) name: Gc<'gc, LoxString<'gc>>,
    pub(crate) methods: Table<'gc>,
    /// The `init` method, cached: calling a class looks it up on every instantiation.
    pub(crate) init: Lock<Option<Gc<'gc, Closure<'gc>>>>,
}

#[derive(Trace)]
pub(crate) struct Instance<'gc> {
    pub(crate) class: Gc<'gc, Class<'gc>>,
    pub(crate) fields: Table<'gc>,
}

/// `receiver.method`, as a value: a new one at every access, like the reference.
#[derive(Trace)]
pub(crate) struct BoundMethod<'gc> {
    pub(crate) receiver: Value<'gc>,
    pub(crate) method: Gc<'gc, Closure<'gc>>,
}

impl<'gc> Instance<'gc> {
    /// Sets a field, growing the instance's table if needed.
    #[inline]
    pub(crate) fn set_field(
        mc: &Mutation<'gc>,
        this: Gc<'gc, Instance<'gc>>,
        name: Gc<'gc, LoxString<'gc>>,
        value: Value<'gc>,
    ) {
        this.fields.set(mc, name, value, |grown| {
            field!(field!(Gc::write(mc, this), Instance, fields), Table, entries).set(grown)
        });
    }
}

impl<'gc> Class<'gc> {
    pub(crate) fn set_method(
        mc: &Mutation<'gc>,
        this: Gc<'gc, Class<'gc>>,
        name: Gc<'gc, LoxString<'gc>>,
        method: Value<'gc>,
    ) {
        this.methods.set(mc, name, method, |grown| {
            field!(field!(Gc::write(mc, this), Class, methods), Table, entries).set(grown)
        });
    }
}

/// The global variables: a table in an object of its own, so that it grows through the
/// same barriered path as every other table.
#[derive(Trace)]
pub(crate) struct Globals<'gc> {
    pub(crate) table: Table<'gc>,
}

impl<'gc> Globals<'gc> {
    /// Returns whether the name was new.
    pub(crate) fn set(
        mc: &Mutation<'gc>,
        this: Gc<'gc, Globals<'gc>>,
        name: Gc<'gc, LoxString<'gc>>,
        value: Value<'gc>,
    ) -> bool {
        this.table.set(mc, name, value, |grown| {
            field!(field!(Gc::write(mc, this), Globals, table), Table, entries).set(grown)
        })
    }
}

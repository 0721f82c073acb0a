//! Tracing: the `Trace` trait every managed type implements, and the `Tracer` it reports to.
//!
//! The collector is precise and moving: it must find every `Gc` pointer in every live object and
//! may rewrite each one in place. `Trace::trace` takes `&mut self` for that reason: during a
//! collection nothing else can observe the heap (collections only run between `mutate` calls),
//! so the collector holds the only access.

use crate::collector::Mode;
use crate::raw::ObjPtr;

/// A type whose `Gc` pointers the collector can find and update.
///
/// Derive it with `#[derive(Trace)]`; implement it by hand only for containers the derive cannot
/// see into.
///
/// # Untraced parts are `'static`
///
/// Some parts of a value are never traced: the keys of a `HashMap` or `BTreeMap`, the elements
/// of a `HashSet`, `BTreeSet` or `BinaryHeap`, hashers, the contents of `Cell`, `RefCell`,
/// `Rc` and `Arc`, the keys of a [`WeakValueTable`](crate::WeakValueTable), the target of a
/// `&'static` reference, fields marked `#[trace(skip)]`, whole types marked
/// `#[trace(require_static)]`. A moving collector cannot rewrite a pointer there (the
/// container gives no `&mut` access to its keys, a shared `Rc` has other owners, a `Cell`
/// bypasses the write barrier), so no `Gc` may be there.
///
/// The type checker enforces it: every such impl requires the untraced part to be `'static`,
/// and a `Gc<'gc, _>` never is (its brand is a fresh lifetime in every `mutate`). A
/// `HashSet<Gc<'gc, T>>` has no `Trace` impl, so every position that needs one refuses it at
/// compile time: the arena root (directly or under `Option`, `Box`, `Lock`, `RefLock`, `Vec`),
/// an allocation, a field of a derived struct or enum, recursive or not, a generic argument.
/// Key a map by a plain value (a number, a string, an interned id) instead, or by identity in
/// an [`EphemeronTable`](crate::EphemeronTable).
///
/// ```compile_fail
/// use std::collections::HashSet;
/// use gc_core::{Arena, Gc, HeapConfig, Rootable};
///
/// // error: `HashSet<Gc<'gc, String>>` is `Trace` only if `Gc<'gc, String>: 'static`.
/// let arena = Arena::<Rootable![HashSet<Gc<'_, String>>]>::new(HeapConfig::default(), |_| {
///     HashSet::new()
/// });
/// ```
///
/// A hand-written impl that skips part of its value must bound that part the same way.
///
/// # Safety
///
/// An implementation must uphold, for every value of the type:
///
/// 1. `trace` calls [`Trace::trace`] on every `Gc` (and every value containing one) that the
///    value owns, each exactly once, and nothing else.
/// 2. It passes the pointers *in place*: the fields themselves, never a copy. The collector
///    records the address of each slot it is shown and rewrites it after `trace` has returned,
///    so the slot must still be there, unmoved, until the collection ends (which it is: the
///    collector holds the only access to the heap).
/// 3. If `NEEDS_TRACE` is `false`, the type holds no `Gc` at all, directly or indirectly (then
///    the collector never calls `trace`). Likewise every part of the value that `trace` skips
///    holds no `Gc`; prove it with a `'static` bound on that part (a `Gc<'gc, _>` is never
///    `'static`), so that the type checker refuses a `Gc` there wherever the type is used. A
///    check in a constant does not do: a constant that nothing reads is never evaluated, and
///    nothing reads `NEEDS_TRACE` of the arena root, for example. See "Untraced parts" above.
/// 4. `trace` does not read through any `Gc` pointer, does not allocate in the heap, and does
///    not move, drop or resize parts of the value. It may panic: a collection whose tracing
///    panics is abandoned and leaves the heap as it was, and the panic propagates.
/// 5. Mutation of any `Gc` the value holds, after the value was allocated in the heap, happens
///    only through the write barrier ([`Gc::write`](crate::Gc::write) and the barrier cells
///    [`Lock`](crate::Lock) and [`RefLock`](crate::RefLock)): plain interior mutability
///    (`Cell`, `RefCell`) around a `Gc` is forbidden, which is why those types implement
///    `Trace` only for `'static` contents.
/// 6. `trace_labeled`, if overridden, visits the same pointers as `trace`, wrapping them in
///    [`Tracer::enter`] / [`Tracer::leave`] pairs.
///
/// A type with a `Drop` impl must additionally never reach another managed object from `drop`:
/// it may already have been freed or moved. The derive refuses a `Drop` impl unless the type
/// opts in with `#[trace(unsafe_drop)]` and implements [`UncheckedDrop`].
pub unsafe trait Trace {
    /// Whether values of this type can hold `Gc` pointers. `false` lets the collector skip
    /// them entirely (strings, numbers, byte buffers).
    const NEEDS_TRACE: bool;

    /// Reports every `Gc` pointer held by `self` to `tracer`, which may rewrite it.
    fn trace(&mut self, tracer: &mut Tracer<'_>);

    /// As `trace`, naming the path to each pointer (field, variant, index) with
    /// [`Tracer::enter`] and [`Tracer::leave`]. Used by the heap verifier's diagnostics and the
    /// leak reports; never by the collections themselves, so it costs nothing on their path.
    fn trace_labeled(&mut self, tracer: &mut Tracer<'_>) {
        self.trace(tracer)
    }
}

/// One step of the path from an object to a pointer it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Label {
    /// A struct field (`"0"`, `"1"`, … for tuple structs).
    Field(&'static str),
    /// An enum variant.
    Variant(&'static str),
    /// An element of a sequence.
    Index(usize),
    /// A value in a map.
    Value,
    /// An element of a set, or of an unordered container.
    Element,
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Field(name) => write!(f, ".{name}"),
            Label::Variant(name) => write!(f, "::{name}"),
            Label::Index(i) => write!(f, "[{i}]"),
            Label::Value => write!(f, "[value]"),
            Label::Element => write!(f, "[element]"),
        }
    }
}

/// The collector's side of tracing: it receives each `Gc` that a [`Trace`] impl reports.
///
/// Only the collector creates tracers; user code receives one in [`Trace::trace`] and passes
/// it on to the `trace` of its fields.
pub struct Tracer<'a> {
    pub(crate) mode: Mode<'a>,
}

impl std::fmt::Debug for Tracer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer").finish_non_exhaustive()
    }
}

impl<'a> Tracer<'a> {
    pub(crate) fn new(mode: Mode<'a>) -> Self {
        Tracer { mode }
    }

    /// Reports one pointer slot.
    #[inline(always)]
    pub(crate) fn visit(&mut self, slot: &mut ObjPtr) {
        self.mode.visit(slot)
    }

    /// Enters a named step of the path to the pointers that follow; pair with [`leave`].
    /// A no-op except when a report or the verifier is tracing.
    ///
    /// [`leave`]: Tracer::leave
    #[inline]
    pub fn enter(&mut self, label: Label) {
        self.mode.enter(label)
    }

    /// Leaves the step entered last.
    #[inline]
    pub fn leave(&mut self) {
        self.mode.leave()
    }

    /// Traces `value` inside a named step: `enter(label)`, `value.trace_labeled`, `leave()`.
    #[inline]
    pub fn labeled<T: Trace + ?Sized>(&mut self, label: Label, value: &mut T) {
        self.enter(label);
        value.trace_labeled(self);
        self.leave();
    }
}

/// The promise behind `#[trace(unsafe_drop)]`: the type's `Drop` impl never reaches a managed
/// object.
///
/// `#[derive(Trace)]` refuses a `Drop` impl on a traced type, because a destructor runs when
/// the collector frees the object, after the objects it points to may have been freed or
/// moved. `#[trace(unsafe_drop)]` lifts the refusal, and requires this trait, so that the
/// promise is made in unsafe code (a crate with `#![forbid(unsafe_code)]` cannot make it).
///
/// ```
/// use gc_core::{Gc, Trace, UncheckedDrop};
///
/// #[derive(Trace)]
/// #[trace(unsafe_drop)]
/// struct File<'gc> {
///     name: Gc<'gc, str>,
///     #[trace(skip)]
///     fd: i32,
/// }
///
/// // SAFETY: `drop` touches only `fd`, never `name`.
/// unsafe impl UncheckedDrop for File<'_> {}
///
/// impl Drop for File<'_> {
///     fn drop(&mut self) {
///         let _closing = self.fd;
///     }
/// }
/// ```
///
/// # Safety
///
/// The type's `Drop` impl (and everything it calls) never dereferences a `Gc`, and never
/// moves one somewhere it could be dereferenced later.
pub unsafe trait UncheckedDrop {}

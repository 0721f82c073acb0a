//! Tables with weak parts, for interpreters: `EphemeronTable` (JavaScript's `WeakMap`, Lua's
//! weak-key tables) and `WeakValueTable` (Lua's weak-value tables, caches, intern tables).
//!
//! Both are plain traceable values: put one in the root, or in an object behind a
//! [`RefLock`](crate::RefLock) (mutating it then goes through the write barrier, as for any
//! object). Collections sweep them: after a collection a table holds no entry whose weak part
//! died, so `len` is exact and every value it returns is live.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hash};
use std::marker::PhantomData;

use crate::collector::weak::Liveness;
use crate::collector::DropPanics;
use crate::gc::{Gc, Invariant};
use crate::identity::AddrHasher;
use crate::mutation::Mutation;
use crate::raw::ObjPtr;
use crate::trace::{Trace, Tracer};

struct Entry<V> {
    key: Option<ObjPtr>,
    value: V,
}

/// A map from objects, by identity, to values, in which an entry lives only as long as its
/// key is reachable from outside the table: a value does not keep its own key alive, even
/// through a chain of other tables (ephemeron semantics, computed to a fixpoint by every
/// collection).
///
/// Keys are compared by identity ([`Gc::identity_hash`]), which survives moving.
///
/// ```
/// use gc_core::{Arena, EphemeronTable, Gc, HeapConfig, RefLock, Rootable};
///
/// type Root = Rootable![(Vec<Gc<'_, str>>, Gc<'_, RefLock<EphemeronTable<'_, str, Gc<'_, str>>>>)];
/// let mut arena = Arena::<Root>::new(HeapConfig::default(), |mc| {
///     (Vec::new(), Gc::new(mc, RefLock::new(EphemeronTable::new())))
/// });
/// arena.mutate_root(|mc, (keys, table)| {
///     let key = mc.alloc_str("key");
///     table.borrow_mut(mc).insert(mc, key, mc.alloc_str("value"));
///     keys.push(key);
/// });
/// arena.collect_full();
/// arena.mutate(|mc, (keys, table)| assert_eq!(&**table.borrow().get(mc, keys[0]).unwrap(), "value"));
/// arena.mutate_root(|_, (keys, _)| keys.clear());
/// arena.collect_full();
/// arena.mutate(|_, (_, table)| assert!(table.borrow().is_empty()));
/// ```
pub struct EphemeronTable<'gc, K: ?Sized + 'gc, V> {
    entries: HashMap<u64, Entry<V>, BuildHasherDefault<AddrHasher>>,
    _marker: PhantomData<(Gc<'gc, K>, Invariant<'gc>)>,
}

impl<'gc, K: ?Sized + 'gc, V> Default for EphemeronTable<'gc, K, V> {
    fn default() -> Self {
        EphemeronTable { entries: HashMap::default(), _marker: PhantomData }
    }
}

impl<'gc, K: ?Sized + 'gc, V> EphemeronTable<'gc, K, V> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value for `key`.
    pub fn get(&self, mc: &Mutation<'gc>, key: Gc<'gc, K>) -> Option<&V> {
        let id = mc.heap().identity(key.ptr, false)?;
        self.entries.get(&id).map(|e| &e.value)
    }

    /// Whether `key` has an entry.
    pub fn contains_key(&self, mc: &Mutation<'gc>, key: Gc<'gc, K>) -> bool {
        self.get(mc, key).is_some()
    }

    /// Sets the value for `key`, returning the old one.
    pub fn insert(&mut self, mc: &Mutation<'gc>, key: Gc<'gc, K>, value: V) -> Option<V> {
        let id = mc.heap().identity(key.ptr, true).expect("assigned on demand");
        self.entries.insert(id, Entry { key: Some(key.ptr), value }).map(|e| e.value)
    }

    /// Removes the entry for `key`.
    pub fn remove(&mut self, mc: &Mutation<'gc>, key: Gc<'gc, K>) -> Option<V> {
        let id = mc.heap().identity(key.ptr, false)?;
        self.entries.remove(&id).map(|e| e.value)
    }

    /// Entries (exact as of the last collection, plus the changes since).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Gc<'gc, K>, &V)> + '_ {
        self.entries.values().filter_map(|e| {
            // SAFETY: a key slot that is set designates a live object (collections sweep the
            // entries whose key died).
            e.key.map(|k| (unsafe { Gc::from_obj(k) }, &e.value))
        })
    }
}

/// # Safety
/// As [`crate::collector::weak::SweepFn`], for `EphemeronTable<K, V>`.
unsafe fn sweep_ephemerons<K: ?Sized, V>(
    table: *mut (),
    live: &dyn Liveness,
    panics: &mut DropPanics,
) {
    // SAFETY: precondition.
    let table = unsafe { &mut *(table as *mut EphemeronTable<'_, K, V>) };
    // The surviving entries are only read here, unless their key moved: a full collection
    // recorded the slots of their values (and keys) by address while tracing, through the
    // `&mut` the table's `trace` handed out, and rewrites them after this sweep. Reborrowing
    // those entries mutably now (as `retain` does with every entry) would invalidate the
    // recorded pointers, and the later rewrite would be undefined behaviour (Miri reports it
    // under Stacked and Tree Borrows). Keys only move in a minor collection, which rewrites
    // its recorded slots before the sweeps.
    let mut dead = Vec::new();
    let mut moved = false;
    for (&id, entry) in &table.entries {
        match entry.key.and_then(|k| live.live(k)) {
            Some(now) => moved |= entry.key != Some(now),
            None => dead.push(id),
        }
    }
    // Every dead entry is unlinked before its value's destructor (user code) runs: a panic
    // there leaves no dead key behind, and the other values are still dropped.
    for id in dead {
        if let Some(entry) = table.entries.remove(&id) {
            panics.catch(|| drop(entry));
        }
    }
    if moved {
        for entry in table.entries.values_mut() {
            entry.key = entry.key.and_then(|k| live.live(k));
        }
    }
}

/// Removes the entries `cleared` picks, running their destructors (user code) under `panics`.
///
/// A destructor may panic in the middle of `retain`. std's map unlinks an entry before it
/// drops it (hashbrown's `erase`: "erase the element from the table first since drop might
/// panic"), so the map is consistent after the panic and `retain` runs again over the rest
/// until it completes: no entry the sweep condemned survives the collection, and none is
/// dropped twice (the tests count the drops). `cleared` reads only the crate's own slot, so
/// calling it again on an entry is harmless.
fn remove_cleared<K, V, S>(
    map: &mut HashMap<K, V, S>,
    cleared: impl Fn(&V) -> bool,
    panics: &mut DropPanics,
) {
    // Each round that panics has removed at least the entry whose destructor panicked.
    while let Err(payload) = DropPanics::catch_result(|| map.retain(|_, v| !cleared(v))) {
        panics.keep(payload);
    }
}

// SAFETY: each value is reported as an ephemeron of its key (traced once the key is live);
// the table registers a sweep that drops the entries whose key died, so no value is left
// holding pointers to freed objects.
unsafe impl<'gc, K: ?Sized + 'gc, V: Trace> Trace for EphemeronTable<'gc, K, V> {
    const NEEDS_TRACE: bool = true;

    fn trace(&mut self, tracer: &mut Tracer<'_>) {
        tracer.register_sweep(self as *mut Self as *mut (), sweep_ephemerons::<K, V>);
        for entry in self.entries.values_mut() {
            tracer.ephemeron(&mut entry.key, &mut entry.value);
        }
    }
}

impl<K: ?Sized, V> Drop for EphemeronTable<'_, K, V> {
    /// The values' destructors are user code, and `HashMap`'s own drop stops at the first one
    /// that panics, leaking the other entries and the table's buffer. Each entry is taken out
    /// and dropped under the catching; the first panic is resumed once all are gone (unless
    /// the thread is already unwinding).
    fn drop(&mut self) {
        let mut panics = DropPanics::default();
        for (_, entry) in self.entries.drain() {
            panics.catch(|| drop(entry));
        }
        if !std::thread::panicking() {
            panics.resume();
        }
    }
}

impl<K: ?Sized, V: fmt::Debug> fmt::Debug for EphemeronTable<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.entries.values().map(|e| (e.key, &e.value))).finish()
    }
}

/// A map from plain keys to objects held weakly: an entry goes when its value dies (a cache,
/// an intern table).
///
/// ```
/// use gc_core::{Arena, Gc, HeapConfig, Rootable, WeakValueTable};
///
/// let mut arena = Arena::<Rootable![(Option<Gc<'_, str>>, WeakValueTable<'_, u32, str>)]>::new(
///     HeapConfig::default(),
///     |_| (None, WeakValueTable::new()),
/// );
/// arena.mutate_root(|mc, (keep, table)| {
///     let a = mc.alloc_str("a");
///     table.insert(1, a);
///     table.insert(2, mc.alloc_str("b"));
///     *keep = Some(a);
/// });
/// arena.collect_minor();
/// arena.mutate(|_, (_, table)| {
///     assert_eq!(table.len(), 1);
///     assert_eq!(&*table.get(&1).unwrap(), "a");
/// });
/// ```
pub struct WeakValueTable<'gc, K, V: ?Sized + 'gc> {
    entries: HashMap<K, Option<ObjPtr>>,
    _marker: PhantomData<(Gc<'gc, V>, Invariant<'gc>)>,
}

impl<'gc, K, V: ?Sized + 'gc> Default for WeakValueTable<'gc, K, V> {
    fn default() -> Self {
        WeakValueTable { entries: HashMap::new(), _marker: PhantomData }
    }
}

impl<'gc, K: Hash + Eq, V: ?Sized + 'gc> WeakValueTable<'gc, K, V> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The object for `key`, if it is still alive.
    pub fn get<Q: ?Sized + Hash + Eq>(&self, key: &Q) -> Option<Gc<'gc, V>>
    where
        K: Borrow<Q>,
    {
        let slot = (*self.entries.get(key)?)?;
        // SAFETY: a set slot designates a live object (collections clear dead ones).
        Some(unsafe { Gc::from_obj(slot) })
    }

    /// Sets the object for `key`, returning the old one.
    pub fn insert(&mut self, key: K, value: Gc<'gc, V>) -> Option<Gc<'gc, V>> {
        let old = self.entries.insert(key, Some(value.ptr))??;
        // SAFETY: as in `get`.
        Some(unsafe { Gc::from_obj(old) })
    }

    /// Removes the entry for `key`.
    pub fn remove<Q: ?Sized + Hash + Eq>(&mut self, key: &Q) -> Option<Gc<'gc, V>>
    where
        K: Borrow<Q>,
    {
        let old = self.entries.remove(key)??;
        // SAFETY: as in `get`.
        Some(unsafe { Gc::from_obj(old) })
    }

    /// Entries (exact as of the last collection, plus the changes since).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, Gc<'gc, V>)> + '_ {
        // SAFETY: as in `get`.
        self.entries.iter().filter_map(|(k, v)| v.map(|v| (k, unsafe { Gc::from_obj(v) })))
    }
}

/// # Safety
/// As [`crate::collector::weak::SweepFn`], for `WeakValueTable<K, V>`.
unsafe fn sweep_weak_values<K, V: ?Sized>(
    table: *mut (),
    _: &dyn Liveness,
    panics: &mut DropPanics,
) {
    // SAFETY: precondition.
    let table = unsafe { &mut *(table as *mut WeakValueTable<'_, K, V>) };
    // The weak slots were cleared or redirected just before the sweeps; the keys' destructors
    // are user code.
    remove_cleared(&mut table.entries, Option::is_none, panics);
}

// SAFETY: keys are `'static` (no `Gc`); each value is reported as a weak slot, and the sweep
// drops the entries whose value died.
unsafe impl<'gc, K: 'static, V: ?Sized + 'gc> Trace for WeakValueTable<'gc, K, V> {
    const NEEDS_TRACE: bool = true;

    fn trace(&mut self, tracer: &mut Tracer<'_>) {
        tracer.register_sweep(self as *mut Self as *mut (), sweep_weak_values::<K, V>);
        for slot in self.entries.values_mut() {
            tracer.visit_weak(slot);
        }
    }
}

impl<K: fmt::Debug, V: ?Sized> fmt::Debug for WeakValueTable<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.entries.iter()).finish()
    }
}

//! `Trace` for the standard library's types.
//!
//! Containers trace their contents. Types with plain interior mutability (`Cell`, `RefCell`)
//! and shared ownership (`Rc`, `Arc`) are traceable only with `'static` contents, which cannot
//! hold a `Gc`: a `Gc` written through them would bypass the write barrier, and a shared `Rc`
//! could not be rewritten in place by a moving collector.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use crate::trace::{Label, Trace, Tracer};

macro_rules! leaf {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: the type holds no `Gc`.
        unsafe impl Trace for $t {
            const NEEDS_TRACE: bool = false;
            #[inline(always)]
            fn trace(&mut self, _: &mut Tracer<'_>) {}
        }
    )*};
}

leaf!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    str,
    String,
    std::num::NonZeroU8,
    std::num::NonZeroU16,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroUsize,
    std::num::NonZeroI32,
    std::num::NonZeroI64,
    std::time::Duration,
    std::time::Instant,
    std::cmp::Ordering,
    std::path::PathBuf,
    std::ffi::OsString,
    std::ffi::CString,
    std::any::TypeId,
);

// SAFETY: a `'static` reference cannot point at a `Gc` (a `Gc` never has the `'static` brand).
unsafe impl<T: ?Sized + 'static> Trace for &'static T {
    const NEEDS_TRACE: bool = false;
    #[inline(always)]
    fn trace(&mut self, _: &mut Tracer<'_>) {}
}

// SAFETY: holds no value.
unsafe impl<T: ?Sized> Trace for PhantomData<T> {
    const NEEDS_TRACE: bool = false;
    #[inline(always)]
    fn trace(&mut self, _: &mut Tracer<'_>) {}
}

// SAFETY: `'static` contents hold no `Gc`, so unbarriered writes through the cell are harmless.
unsafe impl<T: Copy + 'static> Trace for Cell<T> {
    const NEEDS_TRACE: bool = false;
    #[inline(always)]
    fn trace(&mut self, _: &mut Tracer<'_>) {}
}

// SAFETY: as for `Cell`.
unsafe impl<T: ?Sized + 'static> Trace for RefCell<T> {
    const NEEDS_TRACE: bool = false;
    #[inline(always)]
    fn trace(&mut self, _: &mut Tracer<'_>) {}
}

// SAFETY: `'static` contents hold no `Gc`.
unsafe impl<T: ?Sized + 'static> Trace for Rc<T> {
    const NEEDS_TRACE: bool = false;
    #[inline(always)]
    fn trace(&mut self, _: &mut Tracer<'_>) {}
}

// SAFETY: `'static` contents hold no `Gc`.
unsafe impl<T: ?Sized + 'static> Trace for Arc<T> {
    const NEEDS_TRACE: bool = false;
    #[inline(always)]
    fn trace(&mut self, _: &mut Tracer<'_>) {}
}

// SAFETY: traces the boxed value, which the box owns.
unsafe impl<T: ?Sized + Trace> Trace for Box<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&mut self, t: &mut Tracer<'_>) {
        (**self).trace(t)
    }
    fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
        (**self).trace_labeled(t)
    }
}

// SAFETY: traces every element once.
unsafe impl<T: Trace> Trace for [T] {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&mut self, t: &mut Tracer<'_>) {
        if T::NEEDS_TRACE {
            for x in self {
                x.trace(t)
            }
        }
    }
    fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
        if T::NEEDS_TRACE {
            for (i, x) in self.iter_mut().enumerate() {
                t.labeled(Label::Index(i), x)
            }
        }
    }
}

// SAFETY: traces every element once.
unsafe impl<T: Trace, const N: usize> Trace for [T; N] {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&mut self, t: &mut Tracer<'_>) {
        self.as_mut_slice().trace(t)
    }
    fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
        self.as_mut_slice().trace_labeled(t)
    }
}

// SAFETY: traces every element once.
unsafe impl<T: Trace> Trace for Vec<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&mut self, t: &mut Tracer<'_>) {
        self.as_mut_slice().trace(t)
    }
    fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
        self.as_mut_slice().trace_labeled(t)
    }
}

// SAFETY: traces every element once.
unsafe impl<T: Trace> Trace for VecDeque<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&mut self, t: &mut Tracer<'_>) {
        if T::NEEDS_TRACE {
            for x in self.iter_mut() {
                x.trace(t)
            }
        }
    }
    fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
        if T::NEEDS_TRACE {
            for (i, x) in self.iter_mut().enumerate() {
                t.labeled(Label::Index(i), x)
            }
        }
    }
}

// SAFETY: traces every element once.
unsafe impl<T: Trace> Trace for LinkedList<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&mut self, t: &mut Tracer<'_>) {
        if T::NEEDS_TRACE {
            for x in self.iter_mut() {
                x.trace(t)
            }
        }
    }
    fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
        if T::NEEDS_TRACE {
            for (i, x) in self.iter_mut().enumerate() {
                t.labeled(Label::Index(i), x)
            }
        }
    }
}

// SAFETY: traces the value if present.
unsafe impl<T: Trace> Trace for Option<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&mut self, t: &mut Tracer<'_>) {
        if let Some(x) = self {
            x.trace(t)
        }
    }
    fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
        if let Some(x) = self {
            x.trace_labeled(t)
        }
    }
}

// SAFETY: traces whichever value is present.
unsafe impl<T: Trace, E: Trace> Trace for Result<T, E> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE || E::NEEDS_TRACE;
    #[inline]
    fn trace(&mut self, t: &mut Tracer<'_>) {
        match self {
            Ok(x) => x.trace(t),
            Err(e) => e.trace(t),
        }
    }
    fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
        match self {
            Ok(x) => t.labeled(Label::Variant("Ok"), x),
            Err(e) => t.labeled(Label::Variant("Err"), e),
        }
    }
}

/// Keys (and set elements, and heap elements) must not hold `Gc` pointers: their container
/// gives no `&mut` access to them, and rewriting a key after the collector moved its target
/// could not be done without rehashing or reordering. The check fails at compile time.
const fn keys_untraced(key_needs_trace: bool) {
    assert!(
        !key_needs_trace,
        "the keys of a traced HashMap, HashSet, BTreeMap or BTreeSet (and the elements of a \
         BinaryHeap) cannot hold Gc pointers: a moving collector cannot rewrite them in place. \
         Key the map by a plain value (a number, a string, an interned id) instead."
    )
}

// SAFETY: traces every value once; keys hold no `Gc` (checked at compile time), and neither does
// the `'static` hasher.
unsafe impl<K: Trace, V: Trace, S: 'static> Trace for HashMap<K, V, S> {
    const NEEDS_TRACE: bool = {
        keys_untraced(K::NEEDS_TRACE);
        V::NEEDS_TRACE
    };
    fn trace(&mut self, t: &mut Tracer<'_>) {
        if Self::NEEDS_TRACE {
            for v in self.values_mut() {
                v.trace(t)
            }
        }
    }
    fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
        if Self::NEEDS_TRACE {
            for v in self.values_mut() {
                t.labeled(Label::Value, v)
            }
        }
    }
}

// SAFETY: traces every value once; keys hold no `Gc` (checked at compile time).
unsafe impl<K: Trace, V: Trace> Trace for BTreeMap<K, V> {
    const NEEDS_TRACE: bool = {
        keys_untraced(K::NEEDS_TRACE);
        V::NEEDS_TRACE
    };
    fn trace(&mut self, t: &mut Tracer<'_>) {
        if Self::NEEDS_TRACE {
            for v in self.values_mut() {
                v.trace(t)
            }
        }
    }
    fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
        if Self::NEEDS_TRACE {
            for v in self.values_mut() {
                t.labeled(Label::Value, v)
            }
        }
    }
}

macro_rules! untraced_elements {
    ($($container:ident<T $(, $extra:ident: $bound:lifetime)*>),* $(,)?) => {$(
        // SAFETY: the elements hold no `Gc` (checked at compile time).
        unsafe impl<T: Trace $(, $extra: $bound)*> Trace for $container<T $(, $extra)*> {
            const NEEDS_TRACE: bool = {
                keys_untraced(T::NEEDS_TRACE);
                false
            };
            #[inline(always)]
            fn trace(&mut self, _: &mut Tracer<'_>) {}
        }
    )*};
}

// SAFETY (for the sets' hasher): it is `'static`, so it holds no `Gc`.
untraced_elements!(HashSet<T, S: 'static>, BTreeSet<T>, BinaryHeap<T>);

macro_rules! tuple {
    ($(($($name:ident $idx:tt),+)),* $(,)?) => {$(
        // SAFETY: traces every component once.
        unsafe impl<$($name: Trace),+> Trace for ($($name,)+) {
            const NEEDS_TRACE: bool = false $(|| $name::NEEDS_TRACE)+;
            #[inline]
            fn trace(&mut self, t: &mut Tracer<'_>) {
                $(if $name::NEEDS_TRACE { self.$idx.trace(t) })+
            }
            fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
                $(if $name::NEEDS_TRACE { t.labeled(Label::Field(stringify!($idx)), &mut self.$idx) })+
            }
        }
    )*};
}

tuple!(
    (A 0),
    (A 0, B 1),
    (A 0, B 1, C 2),
    (A 0, B 1, C 2, D 3),
    (A 0, B 1, C 2, D 3, E 4),
    (A 0, B 1, C 2, D 3, E 4, F 5),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11),
);

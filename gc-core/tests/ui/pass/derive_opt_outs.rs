// The accepted twins of `drop_without_opt_out`, `field_not_trace` and `skip_non_static_field`:
// `Drop` with `unsafe_drop` or `require_static`, a `'static` untraceable field under `skip`.
use gc_core::{Arena, Gc, HeapConfig, Rootable, Trace};

struct NotTrace(u32);

#[derive(Trace)]
#[trace(unsafe_drop)]
struct Finalized<'gc> {
    target: Gc<'gc, u32>,
    id: u32,
}

// SAFETY: `drop` does not touch `target`.
unsafe impl gc_core::UncheckedDrop for Finalized<'_> {}

impl Drop for Finalized<'_> {
    fn drop(&mut self) {
        // Does not touch `target`: that is the `unsafe_drop` promise.
        assert!(self.id < 10);
    }
}

#[derive(Trace)]
#[trace(require_static)]
struct Static {
    opaque: NotTrace,
}

impl Drop for Static {
    fn drop(&mut self) {
        assert!(self.opaque.0 < 10);
    }
}

#[derive(Trace)]
struct Holder<'gc> {
    traced: Gc<'gc, u32>,
    #[trace(skip)]
    opaque: NotTrace,
}

fn main() {
    let mut arena = Arena::<Rootable![Gc<'_, Holder<'_>>]>::new(HeapConfig::default(), |mc| {
        let traced = Gc::new(mc, 1u32);
        Gc::new(
            mc,
            Finalized {
                target: traced,
                id: 1,
            },
        );
        Gc::new(
            mc,
            Static {
                opaque: NotTrace(2),
            },
        );
        Gc::new(
            mc,
            Holder {
                traced,
                opaque: NotTrace(3),
            },
        )
    });
    arena.collect_full();
    arena.mutate(|_, root| assert_eq!((*root.traced, root.opaque.0), (1, 3)));
}

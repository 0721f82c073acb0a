// Claim: a `Handle` is typed by its `Rootable`: fetching it gives back exactly the type it was
// made for, never another.
use gc_core::{Arena, Gc, Handle, HeapConfig, Rootable};

fn main() {
    let arena = Arena::<Rootable![()]>::new(HeapConfig::default(), |_| ());
    let handle: Handle<Rootable![u32]> = arena.mutate(|mc, _| mc.handle(Gc::new(mc, 7u32)));
    arena.mutate(|mc, _| {
        let text: Gc<'_, String> = mc.fetch(&handle);
        drop(text);
    });
}

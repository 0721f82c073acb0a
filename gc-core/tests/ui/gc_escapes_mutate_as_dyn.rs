// Claim: the brand cannot be erased by hiding a `Gc` inside a trait object: a closure that
// captures a `Gc<'gc, _>` is only `'gc`, and `'gc` outlives nothing outside `mutate`.
use gc_core::{Arena, Gc, HeapConfig, Rootable};

fn main() {
    let arena = Arena::<Rootable![()]>::new(HeapConfig::default(), |_| ());
    let mut outside: Option<Box<dyn Fn() -> u32 + '_>> = None;
    arena.mutate(|mc, _| {
        let gc = Gc::new(mc, 1u32);
        outside = Some(Box::new(move || *gc));
    });
    drop(outside);
}

// Claim: in nested `mutate` calls of two arenas, a `Gc` allocated in one arena cannot be stored
// into the other arena's root.
use gc_core::{Arena, Gc, HeapConfig, Rootable};

fn main() {
    let mut a = Arena::<Rootable![Option<Gc<'_, u32>>]>::new(HeapConfig::default(), |_| None);
    let b = Arena::<Rootable![()]>::new(HeapConfig::default(), |_| ());
    a.mutate_root(|_mc_a, root_a| {
        b.mutate(|mc_b, _| {
            *root_a = Some(Gc::new(mc_b, 1u32));
        });
    });
}

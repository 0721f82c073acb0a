// Claim: the write barrier of one arena cannot be run on an object of another: `Gc::write`
// takes a `Mutation` and a `Gc` of the same brand.
use gc_core::{Arena, Gc, HeapConfig, Lock, Rootable};

type Counter = Rootable![Gc<'_, Lock<u32>>];

fn main() {
    let a = Arena::<Counter>::new(HeapConfig::default(), |mc| Gc::new(mc, Lock::new(0)));
    let b = Arena::<Counter>::new(HeapConfig::default(), |mc| Gc::new(mc, Lock::new(0)));
    a.mutate(|mc_a, _| {
        b.mutate(|_mc_b, root_b| {
            Gc::write(mc_a, *root_b).set(1);
        });
    });
}

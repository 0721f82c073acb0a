// Claim: the `Mutation` handed to `Arena::new`'s root constructor cannot escape it either.
use gc_core::{Arena, HeapConfig, Mutation, Rootable};

fn main() {
    let mut outside: Option<&Mutation<'_>> = None;
    let arena = Arena::<Rootable![()]>::new(HeapConfig::default(), |mc| {
        outside = Some(mc);
    });
    drop((arena, outside));
}

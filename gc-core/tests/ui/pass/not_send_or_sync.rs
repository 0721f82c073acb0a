// Claim: the arena and everything that reaches into it stay on one thread: `Arena`, `Gc` and
// `Handle` are not `Send`, and `Mutation` is not `Sync` (a `&Mutation` shared with a scoped
// thread would allocate concurrently). A compile-fail case would print the private fields that
// make each type `!Send`, so this is checked positively instead: `<T as NotSend<_>>` is
// ambiguous, and fails to compile, exactly when `T: Send`.
use gc_core::{Arena, Gc, Handle, HeapConfig, Mutation, Rootable};

trait NotSend<A> {
    fn check() {}
}
impl<T: ?Sized> NotSend<()> for T {}
impl<T: ?Sized + Send> NotSend<u8> for T {}

trait NotSync<A> {
    fn check() {}
}
impl<T: ?Sized> NotSync<()> for T {}
impl<T: ?Sized + Sync> NotSync<u8> for T {}

type Unit = Rootable![()];

fn branded<'gc>(_: &'gc Mutation<'gc>) {
    <Mutation<'gc> as NotSync<_>>::check();
    <Gc<'gc, u32> as NotSend<_>>::check();
    <Gc<'gc, u32> as NotSync<_>>::check();
}

fn main() {
    <Arena<Unit> as NotSend<_>>::check();
    <Arena<Unit> as NotSync<_>>::check();
    <Handle<Rootable![u32]> as NotSend<_>>::check();
    <Handle<Rootable![u32]> as NotSync<_>>::check();
    let arena = Arena::<Unit>::new(HeapConfig::default(), |_| ());
    arena.mutate(|mc, _| branded(mc));
}

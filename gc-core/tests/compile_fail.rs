//! Compile-time guarantees of the safe API, pinned with trybuild.
//!
//! Every `tests/ui/*.rs` must fail to compile, with the error in its `.stderr` next to it;
//! every `tests/ui/pass/*.rs` is the corrected twin of one or more of them and must compile
//! and run, which shows that the failing cases fail for the reason they claim and not because
//! of a typo. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p gc-core --test compile_fail`, then read them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

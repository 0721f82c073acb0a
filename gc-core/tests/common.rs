//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code)]

use std::cell::Cell;
use std::rc::Rc;

use gc_core::{HeapConfig, HeapConfigBuilder};

/// The configuration the tests run with: verifier on, small spaces so that collections,
/// overflow and block turnover happen often.
pub(crate) fn config() -> HeapConfig {
    builder().build().expect("valid test configuration")
}

/// [`config`]'s settings, to add to.
pub(crate) fn builder() -> HeapConfigBuilder {
    HeapConfig::builder()
        .nursery_size(64 * 1024)
        .block_size(16 * 1024)
        .large_object_threshold(2 * 1024)
        .min_full_heap(256 * 1024)
        .verify(true)
}

/// Counts drops of the values that hold a clone of it.
#[derive(Clone, Default)]
pub(crate) struct DropCounter(pub(crate) Rc<Cell<usize>>);

impl DropCounter {
    pub(crate) fn count(&self) -> usize {
        self.0.get()
    }
    pub(crate) fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }
}

/// Increments its counter when dropped. `'static`, so it can sit in a `#[trace(skip)]` field.
pub(crate) struct DropToken(Rc<Cell<usize>>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

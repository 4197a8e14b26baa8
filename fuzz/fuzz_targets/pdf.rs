//! PDF bytes through the loader, as `lore add` reads a `.pdf` file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lore_ingest::{Kind, LoadOptions, load_bytes};

// No quiet panic hook: libFuzzer's hook aborts on every panic, one the guard catches in a
// third-party parser included. A caught panic is a crash, and so is its internal error.
fuzz_target!(|data: &[u8]| {
    let result = load_bytes(data, "fuzz.pdf", Kind::Pdf, "fuzz", &LoadOptions::default());
    if let Err(err) = result
        && err.reason_code() == "internal"
    {
        panic!("{err:?}");
    }
    let caught = lore_ingest::guard::take_caught();
    assert!(caught.is_empty(), "a parser panicked: {caught:?}");
});

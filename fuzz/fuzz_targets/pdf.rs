//! PDF bytes through the loader, as `lore add` reads a `.pdf` file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lore_ingest::{Kind, LoadOptions, load_bytes};

fuzz_target!(|data: &[u8]| {
    // Panics contained by `lore_ingest::guard` are results, not crashes.
    lore_ingest::guard::install_quiet_panic_hook();
    let _ = load_bytes(data, "fuzz.pdf", Kind::Pdf, "fuzz", &LoadOptions::default());
});

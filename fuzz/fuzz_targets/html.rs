//! HTML bytes through the loader (charset detection, then the HTML reader), as `lore add` reads
//! a `.html` file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lore_ingest::{Kind, LoadOptions, load_bytes};

fuzz_target!(|data: &[u8]| {
    // Panics contained by `lore_ingest::guard` are results, not crashes.
    lore_ingest::guard::install_quiet_panic_hook();
    let _ = load_bytes(data, "fuzz.html", Kind::Html, "fuzz", &LoadOptions::default());
});

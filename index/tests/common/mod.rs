//! Fixtures shared by the library-level tests: the shared test data and library options with
//! the embedding runtime that `scripts/setup.sh` installs.

#![allow(dead_code)]

use lore_index::{EngineOptions, LibraryOptions, default_runtime_dir};

#[path = "../../../tests/src/data_dir.rs"]
mod data_dir;

pub use data_dir::data;

/// Engine options using the installed embedding runtime.
pub fn engine_options() -> EngineOptions {
    let runtime = default_runtime_dir().expect("a home directory");
    assert!(
        runtime.join("ort").is_dir(),
        "no embedding runtime in {}: run scripts/setup.sh",
        runtime.display()
    );
    EngineOptions { runtime_dir: runtime, ..Default::default() }
}

/// Library options with the real engines.
pub fn options() -> LibraryOptions {
    LibraryOptions { engines: Some(engine_options()), ..Default::default() }
}

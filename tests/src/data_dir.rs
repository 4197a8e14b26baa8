//! Where the shared test data is: `../shared/data` beside the workspace (the corpora are not in
//! the repository). The one definition of the `data()` helper: lore-tests has it as a module
//! (`lore_tests::data`), and the integration tests of lore-ingest and lore-index include this
//! file with `#[path = "../../tests/src/data_dir.rs"] mod data_dir;` (or from `tests/common/`).
//! It starts from the including crate's `CARGO_MANIFEST_DIR`, so every crate that includes it
//! sits one level below the workspace root.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The shared test data folder, `../shared/data` from the workspace root.
pub fn data_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir.parent().unwrap_or(crate_dir).join("../shared/data")
}

/// A path inside the shared test data folder; it must exist.
pub fn data(rel: &str) -> PathBuf {
    let p = data_dir().join(rel);
    assert!(p.exists(), "test data {} is missing", p.display());
    p
}

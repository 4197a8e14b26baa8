//! The file layout of a library directory (a "home"): the names of the files and folders lore
//! keeps in it. Everything that opens a part of a library takes its path from here; the binary
//! never joins these names itself (it opens the catalog with [`Catalog::open_home`] and asks
//! [`Library::exists`]).
//!
//! ```text
//! <home>/catalog.sqlite   the catalog, SQLite in WAL mode (the source of truth)
//! <home>/tantivy/         the keyword index
//! <home>/qdrant/          the embedded vector store (unless the vectors are on a Qdrant server)
//! <home>/write.lock       the single-writer lock
//! <home>/vectors.lock     the vector store's writer mark
//! <home>/config.toml      the library's own configuration, optional
//! <home>/ocr/             the text of scanned PDF pages read by OCR, by file hash and page
//! ```
//!
//! [`Catalog::open_home`]: crate::catalog::Catalog::open_home
//! [`Library::exists`]: crate::Library::exists

use std::path::{Path, PathBuf};

/// File name of the catalog inside a library directory.
pub const CATALOG_FILE: &str = "catalog.sqlite";
/// Folder of the embedded Qdrant store inside a library.
pub const VECTOR_DIR: &str = "qdrant";
/// Folder of the tantivy index inside a library.
pub const KEYWORD_DIR: &str = "tantivy";
/// File the single writer of a library holds locked (its pid written in it).
pub const WRITER_LOCK_FILE: &str = "write.lock";
/// File a writer of the embedded vector store holds locked, from before it opens the store until
/// it closes it.
pub const VECTOR_WRITER_FILE: &str = "vectors.lock";
/// The library's own configuration file, read before the user's.
pub const CONFIG_FILE: &str = "config.toml";

/// Folder of the OCR cache inside a library: `<hash>/p<page>-<languages>-<dpi>dpi.txt`, the
/// text of each scanned page read, so an interrupted add resumes without reading them again.
pub const OCR_DIR: &str = "ocr";

/// The OCR cache of the library `home`.
pub fn ocr_dir(home: &Path) -> PathBuf {
    home.join(OCR_DIR)
}

/// The catalog of the library `home`.
pub fn catalog_path(home: &Path) -> PathBuf {
    home.join(CATALOG_FILE)
}

/// The embedded vector store of the library `home`.
pub fn vector_dir(home: &Path) -> PathBuf {
    home.join(VECTOR_DIR)
}

/// The keyword index of the library `home`.
pub fn keyword_dir(home: &Path) -> PathBuf {
    home.join(KEYWORD_DIR)
}

/// The configuration file of the library `home`.
pub fn config_path(home: &Path) -> PathBuf {
    home.join(CONFIG_FILE)
}

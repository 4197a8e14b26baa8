//! The error type of library operations.

use std::path::PathBuf;

use crate::catalog::CatalogError;
use crate::lock::LockError;

/// A failure of a library operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The writer lock could not be taken.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A source could not be loaded.
    #[error(transparent)]
    Ingest(#[from] lore_ingest::IngestError),
    /// The library directory could not be created or read.
    #[error("library directory {path}: {source}")]
    Home {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// There is no library at the path (for readers).
    #[error("no library at {0}; add something first with `lore add PATH`")]
    NoLibrary(PathBuf),
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

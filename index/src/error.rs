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
    /// The embedding model failed.
    #[error(transparent)]
    Embed(#[from] crate::embed::EmbedError),
    /// The vector store failed.
    #[error(transparent)]
    Vector(#[from] crate::vector::VectorError),
    /// The keyword index failed.
    #[error(transparent)]
    Keyword(#[from] crate::keyword::KeywordError),
    /// The library's vectors were made by another model.
    #[error(
        "the library's vectors were made with {stored}, but the configured model is {configured}: run `lore reindex` to rebuild them (or set embedding.model back)"
    )]
    ModelMismatch {
        /// The model recorded in the catalog.
        stored: String,
        /// The model configured now.
        configured: String,
    },
    /// The derived indexes are missing or out of step with the catalog.
    #[error("the search indexes are missing or incomplete ({0}): run `lore reindex`")]
    NeedsReindex(String),
    /// There is no library at the path (for readers).
    #[error("no library at {0}; add something first with `lore add PATH`")]
    NoLibrary(PathBuf),
}

impl Error {
    /// Whether the disk holding the library is full (or too full to write safely): a batch
    /// stops at this error rather than failing every item that follows.
    pub fn is_disk_full(&self) -> bool {
        match self {
            Error::Catalog(CatalogError::DiskFull(_)) => true,
            Error::Vector(crate::vector::VectorError::DiskFull { .. }) => true,
            Error::Home { source, .. } => io_full(source),
            other => {
                let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(other);
                while let Some(e) = cause {
                    if e.downcast_ref::<std::io::Error>().is_some_and(io_full)
                        || e.to_string().contains("No space left on device")
                    {
                        return true;
                    }
                    cause = e.source();
                }
                false
            }
        }
    }
}

impl Error {
    /// Whether every item of a batch that follows would fail alike: the disk is full
    /// ([`Error::is_disk_full`]), or the Qdrant server holding the vectors cannot be reached,
    /// refused a request or failed it after its retries. A batch (`add`, `sync`) stops at this
    /// error with it alone, rather than failing each file in turn; what is not committed stays
    /// journalled for the next writer.
    pub fn stops_batch(&self) -> bool {
        self.is_disk_full() || matches!(self, Error::Vector(crate::vector::VectorError::Server { .. }))
    }
}

fn io_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28)
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

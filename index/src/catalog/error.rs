//! Errors of the catalog.

use std::path::PathBuf;

/// A failure of the SQLite catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The database could not be opened.
    #[error("cannot open the library catalog {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The catalog was written by a newer lore.
    #[error(
        "the library catalog has schema version {found}, newer than this lore understands ({supported}); upgrade lore"
    )]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// The catalog was written by an older lore and could not be upgraded.
    #[error(
        "the library catalog has schema version {found}, older than this lore's, and could not be upgraded ({reason}); run `lore sync` with write access to the library"
    )]
    TooOld {
        /// Version in the file.
        found: i64,
        /// Why the upgrade failed.
        reason: String,
    },
    /// A query failed.
    #[error("library catalog: {0}")]
    Sql(#[from] rusqlite::Error),
    /// Stored JSON could not be read.
    #[error("library catalog holds malformed data: {0}")]
    Json(#[from] serde_json::Error),
    /// The disk is full.
    #[error("the disk holding the library is full: {0}")]
    DiskFull(String),
    /// No document matches.
    #[error("no document matches {0:?}")]
    NotFound(String),
}

impl CatalogError {
    /// Maps SQLite's "disk full" to [`CatalogError::DiskFull`].
    pub(crate) fn classify(err: rusqlite::Error) -> CatalogError {
        if let rusqlite::Error::SqliteFailure(e, msg) = &err
            && e.code == rusqlite::ErrorCode::DiskFull
        {
            return CatalogError::DiskFull(msg.clone().unwrap_or_else(|| e.to_string()));
        }
        CatalogError::Sql(err)
    }
}

/// Result with [`CatalogError`].
pub type Result<T> = std::result::Result<T, CatalogError>;

//! Errors of loading and chunking sources.

use std::path::PathBuf;

/// Why a source could not be turned into a document. Every variant names the item, so its
/// `Display` is the one line a user sees.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The path could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is empty.
    #[error("{item}: empty file")]
    Empty {
        /// The file or URL.
        item: String,
    },
    /// The file type is not one lore reads.
    #[error("{item}: unsupported file type{}", detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Unsupported {
        /// The file or URL.
        item: String,
        /// What was found instead, when known.
        detail: Option<String>,
    },
    /// The file is larger than the configured limit for its kind.
    #[error("{item}: too large ({size_mb:.1} MB, the limit is {limit_mb} MB; raise ingest.max_{kind}_mb)")]
    TooLarge {
        /// The file or URL.
        item: String,
        /// Its size in MB.
        size_mb: f64,
        /// The limit in MB.
        limit_mb: u64,
        /// The kind whose limit applies.
        kind: &'static str,
    },
    /// The document is encrypted and cannot be read without a password.
    #[error("{item}: encrypted, cannot read it without its password")]
    Encrypted {
        /// The file or URL.
        item: String,
    },
    /// The document parsed but holds no text (e.g. a scanned PDF without a text layer).
    #[error("{item}: no text found{}", hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    NoText {
        /// The file or URL.
        item: String,
        /// A hint, e.g. "scanned pages without a text layer; OCR it first".
        hint: Option<String>,
    },
    /// The file is damaged or not what its name says.
    #[error("{item}: not a valid {format} file: {reason}")]
    Corrupt {
        /// The file or URL.
        item: String,
        /// The expected format, e.g. "PDF".
        format: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The text could not be chunked.
    #[error("{item}: cannot split into chunks: {reason}")]
    Chunking {
        /// The document.
        item: String,
        /// What went wrong.
        reason: String,
    },
    /// The tokenizer used to size chunks could not be loaded.
    #[error("cannot load tokenizer {path}: {reason}")]
    Tokenizer {
        /// Where it was looked for.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl IngestError {
    /// A short machine-readable name of the failure, for JSON output and tallies.
    pub fn reason_code(&self) -> &'static str {
        match self {
            IngestError::Io { .. } => "unreadable",
            IngestError::Empty { .. } => "empty",
            IngestError::Unsupported { .. } => "unsupported",
            IngestError::TooLarge { .. } => "too_large",
            IngestError::Encrypted { .. } => "encrypted",
            IngestError::NoText { .. } => "no_text",
            IngestError::Corrupt { .. } => "corrupt",
            IngestError::Chunking { .. } => "chunking",
            IngestError::Tokenizer { .. } => "tokenizer",
        }
    }
}

/// Result with [`IngestError`].
pub type Result<T> = std::result::Result<T, IngestError>;

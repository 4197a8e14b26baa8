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
    /// Reading a scanned page by OCR failed (a program failed or overran its time).
    #[error("{item}: OCR failed: {reason}")]
    Ocr {
        /// The file.
        item: String,
        /// What went wrong, naming the page and the program.
        reason: String,
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
    /// A third-party parser panicked on the input (see [`crate::guard::catch`]): a bug in the
    /// parser or a case lore does not handle, not (only) a damaged file. The one line shown asks
    /// for a report; the panic's message and place are kept in `panic`.
    #[error(
        "{item}: internal error while reading it ({parser}): please report it (--verbose shows the details)"
    )]
    Internal {
        /// The file or URL.
        item: String,
        /// What panicked, e.g. "PDF parser", "text splitter".
        parser: &'static str,
        /// The panic's message and the place it was raised.
        panic: String,
    },
    /// The text could not be chunked.
    #[error("{item}: cannot split into chunks: {reason}")]
    Chunking {
        /// The document.
        item: String,
        /// What went wrong.
        reason: String,
    },
    /// The input is not an http(s) URL.
    #[error("not a web address: {item} (lore adds http and https URLs)")]
    NotWebUrl {
        /// The input as given.
        item: String,
    },
    /// The server answered with an error status.
    #[error("{url}: HTTP {status}{}", if reason.is_empty() { String::new() } else { format!(" {reason}") })]
    HttpStatus {
        /// The URL requested.
        url: String,
        /// The status code, e.g. 404.
        status: u16,
        /// The status's reason phrase, e.g. "Not Found".
        reason: String,
    },
    /// No complete response within the time limit.
    #[error("{url}: no response within {secs} s")]
    Timeout {
        /// The URL requested.
        url: String,
        /// The limit in seconds.
        secs: f64,
    },
    /// Redirects that loop, never end, or lead off the web.
    #[error("{url}: {reason}")]
    Redirect {
        /// The URL requested.
        url: String,
        /// What went wrong, e.g. "redirect loop at https://x/a".
        reason: String,
    },
    /// A link or a redirect that a document or a server chose (not the user) leads to a
    /// loopback, private, link-local or unspecified address; refused unless `web.allow_private`.
    #[error("{url}: refused {}: {address} is a {kind} address, chosen by {}, not by you (set web.allow_private = true to allow it)",
        redirect.as_ref().map(|t| format!("the redirect to {t}")).unwrap_or_else(|| "it".into()),
        if redirect.is_some() { "the server" } else { "a link" })]
    PrivateAddress {
        /// The URL requested.
        url: String,
        /// The redirect's target, when a redirect led there.
        redirect: Option<String>,
        /// The address refused.
        address: String,
        /// Its kind: loopback, private, link-local, unspecified, ...
        kind: &'static str,
    },
    /// The server could not be reached, the connection broke, or the answer was unreadable.
    #[error("{url}: {reason}")]
    Network {
        /// The URL requested.
        url: String,
        /// What went wrong, e.g. "cannot connect (connection refused)".
        reason: String,
    },
    /// A download was larger than its limit; it was stopped there.
    #[error("{url}: too large ({}{})",
        size_mb.map(|s| format!("{s:.1} MB, the limit is {limit_mb} MB"))
            .unwrap_or_else(|| format!("over the {limit_mb} MB limit")),
        setting.map(|s| format!("; raise {s}")).unwrap_or_default())]
    DownloadTooLarge {
        /// The URL requested.
        url: String,
        /// Its size in MB when the server said it.
        size_mb: Option<f64>,
        /// The limit in MB.
        limit_mb: u64,
        /// The setting that raises the limit, when there is one.
        setting: Option<&'static str>,
    },
    /// A document fetched as a feed is not one (an HTML page, an empty or unknown document).
    #[error("{url}: not a feed ({reason})")]
    NotAFeed {
        /// The feed's URL.
        url: String,
        /// What was found instead.
        reason: String,
    },
    /// A feed whose XML or JSON is broken.
    #[error("{url}: malformed feed: {reason}")]
    MalformedFeed {
        /// The feed's URL.
        url: String,
        /// A short reason from the parser.
        reason: String,
    },
    /// The HTTP client could not be set up.
    #[error("cannot start the HTTP client: {reason}")]
    HttpClient {
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
            IngestError::Ocr { .. } => "ocr",
            IngestError::Internal { .. } => "internal",
            IngestError::Chunking { .. } => "chunking",
            IngestError::Tokenizer { .. } => "tokenizer",
            IngestError::NotWebUrl { .. } => "not_web_url",
            IngestError::HttpStatus { .. } => "http_status",
            IngestError::Timeout { .. } => "timeout",
            IngestError::Redirect { .. } => "redirect",
            IngestError::Network { .. } => "network",
            IngestError::PrivateAddress { .. } => "private_address",
            IngestError::DownloadTooLarge { .. } => "too_large",
            IngestError::NotAFeed { .. } => "not_a_feed",
            IngestError::MalformedFeed { .. } => "malformed_feed",
            IngestError::HttpClient { .. } => "http_client",
        }
    }
}

/// Result with [`IngestError`].
pub type Result<T> = std::result::Result<T, IngestError>;

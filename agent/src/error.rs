//! Errors of the agent.

use std::time::Duration;

/// What can go wrong while answering.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The chat endpoint could not be reached (connection refused, DNS, TLS, connect timeout).
    #[error("chat model at {url} is unreachable: {reason}")]
    Unreachable {
        /// The endpoint's base URL.
        url: String,
        /// Why, in a few words.
        reason: String,
    },
    /// The endpoint answered with an error status (after retries where they apply).
    #[error("chat model at {url} answered {status}: {message}")]
    Status {
        /// The endpoint's base URL.
        url: String,
        /// HTTP status code.
        status: u16,
        /// The error message of the response, shortened.
        message: String,
    },
    /// The answer stopped arriving.
    #[error("chat model at {url} sent nothing for {}s", .idle.as_secs())]
    Stalled {
        /// The endpoint's base URL.
        url: String,
        /// How long it was silent.
        idle: Duration,
    },
    /// The stream carried something that is not a chat completion chunk.
    #[error("chat model at {url} sent a malformed stream: {reason}")]
    Malformed {
        /// The endpoint's base URL.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The configuration is unusable.
    #[error("chat model configuration: {0}")]
    Config(String),
    /// The answer was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The library could not be searched or read.
    #[error(transparent)]
    Index(#[from] lore_index::Error),
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] lore_index::catalog::CatalogError),
    /// The catalog holding the conversations could not be opened.
    #[error("cannot open {}", .path.display())]
    Conversations {
        /// The catalog file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: lore_index::catalog::CatalogError,
    },
    /// A question was to continue a conversation that does not exist.
    #[error("no conversation {0}")]
    NoConversation(i64),
    /// A whole-document or chapter question named a part its document does not have: the
    /// message names the document and the chapters it has.
    #[error("{0}")]
    NoScope(String),
    /// A blocking task failed.
    #[error("background task failed: {0}")]
    Task(String),
}

impl AgentError {
    /// True when the chat model could not be used at all, so answering should fall back to
    /// the extractive mode.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, AgentError::Unreachable { .. })
    }
}

/// Result with [`AgentError`].
pub type Result<T, E = AgentError> = std::result::Result<T, E>;

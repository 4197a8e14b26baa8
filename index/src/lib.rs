//! The lore library: the SQLite catalog (source of truth), embeddings, the vector store, the
//! keyword index and hybrid search over them. Nothing here prints or asks the user anything.
//!
//! The public surface is [`Library`] (one handle on a library directory, `library/`), the
//! [`catalog`] it keeps, the [`layout`] of its directory, and the measuring APIs [`eval`] and
//! [`bench`]; the engines, vector and keyword modules are private, and the items callers use
//! are re-exported here.

pub mod bench;
pub mod catalog;
pub mod eval;
pub mod layout;

mod embed;
mod engines;
mod error;
mod evidence;
mod exact;
mod fusion;
mod keyword;
mod library;
mod lock;
mod model_choice;
mod private;
mod search;
mod vector;
mod watch;

// A library: opening it, adding to it, what its operations report.
pub use library::{
    AddEvent, AddReport, Consistency, ItemOutcome, Library, LibraryOptions, ReindexReport, RemovedPath,
};
// Keeping it in step with its source roots (`lore sync`, `sync --watch`).
pub use library::sync::{ChangeKind, ForgetReport, SyncChange, SyncReport, find_roots};
pub use watch::{RootWatcher, WatchError};
// Web pages and feeds.
pub use library::feeds::{FeedEvent, FeedReport, RefreshReport};
// Related reading.
pub use library::related::{ChunkPair, PairEnd, RelatedDoc, RelatedMethod, RelatedOptions};
// Searching it.
pub use fusion::{FusionConfig, FusionMethod};
pub use search::{Mode, SearchConfig, SearchHit, SearchRequest};
// What the agent checks answers and passages with.
pub use evidence::{cosine_scale, embed_texts, uncovered_languages, vectors_judge};
pub use exact::ExactTerms;
pub use lore_ingest::query_language;
// The derived indexes opened together, and what the catalog records of them.
pub use engines::{
    EngineOptions, Engines, META_BACKEND, META_DIM, META_MODEL, PassageContext, VectorHold, WaitNotice,
    epoch_of,
};
// The embedding model.
pub use embed::{
    CosineScale, EmbedConfig, EmbedError, EmbedStats, Embedder, ModelSummary, default_runtime_dir,
    hf_cache_dir, installed_tokenizer, passage_stats, supported_models,
};
pub use model_choice::{META_MODEL_CHOICE, MULTILINGUAL_MODEL, ModelChoice, choose_model, locale_language};
// The keyword index (tantivy).
pub use keyword::{
    KeywordConfig, KeywordDoc, KeywordError, KeywordFilter, KeywordHit, KeywordIndex, KeywordRanking,
    KeywordSnippet, RankedChunk,
};
// The vector stores (embedded qdrant-edge, or a Qdrant server).
pub use vector::{
    EdgeOptions, EdgeStore, ServerOptions, ServerStore, VectorError, VectorFilter, VectorHit, VectorPoint,
    VectorStore, point_uuid, run_blocking,
};
// Errors.
pub use error::{Error, Result};
pub use lock::LockError;
// A library is its owner's alone (Unix modes); the notice of a library made private.
pub use private::{DIR_MODE, FILE_MODE, Tightened};
// The retry policy lore's network clients share (lore-ingest's `retry`).
pub use lore_ingest::retry::{RetryPolicy, parse_retry_after};
// The one redaction of credentials in messages (lore-ingest's `redact`).
pub use lore_ingest::redact::{HIDDEN, Redactor, redact_url, redact_urls};

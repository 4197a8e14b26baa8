//! The lore library: the SQLite catalog (source of truth), embeddings, the vector store, the
//! keyword index and hybrid search over them. Nothing here prints or asks the user anything.

pub mod bench;
pub mod catalog;
pub mod embed;
pub mod engines;
pub mod error;
pub mod eval;
pub mod evidence;
pub mod exact;
pub mod feeds;
pub mod fusion;
pub mod keyword;
pub mod library;
pub mod lock;
pub mod related;
pub mod search;
pub mod sync;
pub mod vector;
pub mod watch;

pub use engines::EngineOptions;
pub use error::{Error, Result};
pub use library::{AddEvent, AddReport, Consistency, ItemOutcome, Library, LibraryOptions, ReindexReport};
pub use related::{RelatedDoc, RelatedMethod, RelatedOptions};
pub use search::{Mode, SearchConfig, SearchHit, SearchRequest};
pub use sync::{ChangeKind, ForgetReport, SyncChange, SyncReport};

// The retry policy lore's network clients share (lore-ingest's `retry`).
pub use lore_ingest::retry::{RetryPolicy, parse_retry_after};

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
pub mod fusion;
pub mod keyword;
pub mod layout;
pub mod library;
pub mod lock;
pub mod search;
pub mod vector;
pub mod watch;

// The library's submodules, at the paths they had before they moved under `library/`.
pub use library::{feeds, related, sync};

// Query-language detection, for callers that do not depend on lore-ingest (the agent).
pub use lore_ingest::query_language;

pub use engines::EngineOptions;
pub use error::{Error, Result};
pub use library::related::{RelatedDoc, RelatedMethod, RelatedOptions};
pub use library::sync::{ChangeKind, ForgetReport, SyncChange, SyncReport};
pub use library::{AddEvent, AddReport, Consistency, ItemOutcome, Library, LibraryOptions, ReindexReport};
pub use search::{Mode, SearchConfig, SearchHit, SearchRequest};

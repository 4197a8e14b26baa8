//! The lore library: the SQLite catalog (source of truth), embeddings, the vector store, the
//! keyword index and hybrid search over them. Nothing here prints or asks the user anything.

pub mod catalog;
pub mod embed;
pub mod engines;
pub mod error;
pub mod eval;
pub mod fusion;
pub mod keyword;
pub mod library;
pub mod lock;
pub mod search;
pub mod vector;

pub use engines::EngineOptions;
pub use error::{Error, Result};
pub use library::{AddEvent, AddReport, Consistency, ItemOutcome, Library, LibraryOptions, ReindexReport};
pub use search::{Mode, SearchConfig, SearchHit, SearchRequest};

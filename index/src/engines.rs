//! The derived indexes of a library and the model that feeds them: the embedder, the vector
//! store and the keyword index, opened together.

mod reader;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reader::ReaderVectors;
pub use reader::VectorHold;

use crate::catalog::{Catalog, DocSummary, StoredChunk};
use crate::embed::{EmbedConfig, Embedder};
use crate::error::{Error, Result};
use crate::keyword::{KeywordConfig, KeywordDoc, KeywordIndex};
use crate::layout;
use crate::lock::VectorWriterMark;
use crate::vector::{EdgeOptions, EdgeStore, ServerOptions, ServerStore};
use crate::vector::{VectorError, VectorPoint, VectorStore};

/// Catalog metadata key of the embedding model the vectors were made with.
pub const META_MODEL: &str = "embedding.model";
/// Chunks embedded between progress reports.
const EMBED_SLICE: usize = 128;
/// Catalog metadata key of the vector dimension.
pub const META_DIM: &str = "embedding.dim";
/// Catalog metadata key of the vector store the indexes were built in (see
/// [`EngineOptions::vector_backend`]). Libraries built before it was recorded used qdrant-edge.
pub const META_BACKEND: &str = "vectors.backend";
/// The [`META_BACKEND`] of the embedded store.
const EDGE_BACKEND: &str = "qdrant-edge";
/// Catalog metadata key of the keyword index's layout (see [`KeywordIndex::layout`]) once it
/// holds every chunk of the catalog.
pub const META_KEYWORD_LAYOUT: &str = "keyword.layout";

/// What context is embedded with a chunk's text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PassageContext {
    /// The document title and the heading path.
    Full,
    /// The heading path only: the default. On the Python FAQ dev set, adding the document title
    /// (the same for every section of a page) lowered dense nDCG@10 from 0.871 to 0.859.
    #[default]
    Headings,
    /// The chunk's text alone.
    None,
}

impl std::str::FromStr for PassageContext {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Ok(PassageContext::Full),
            "headings" => Ok(PassageContext::Headings),
            "none" => Ok(PassageContext::None),
            other => Err(format!("unknown passage context {other:?} (full, headings or none)")),
        }
    }
}

/// How to open the engines.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// What context is embedded with each chunk.
    pub passage_context: PassageContext,
    /// The embedding model.
    pub embed: EmbedConfig,
    /// Where ONNX Runtime and cached models live.
    pub runtime_dir: PathBuf,
    /// The keyword index.
    pub keyword: KeywordConfig,
    /// The embedded vector store.
    pub edge: EdgeOptions,
    /// A Qdrant server or cluster to keep the vectors in instead of the embedded store.
    pub server: Option<ServerOptions>,
    /// Readers search a point-in-time copy of the embedded vector store, taken when they open
    /// and renewed by [`Engines::refresh_snapshot`]; they never open the live store. For a
    /// long-lived reader that searches often (the terminal UI). Readers without it open the live
    /// store for each search only, which never locks a writer out either.
    pub snapshot_reader: bool,
    /// Told, once, when a writer has waited a noticeable time for searches that are reading the
    /// embedded vector store.
    pub wait_notice: Option<WaitNotice>,
}

/// A callback for a one-line notice (the library crates print nothing themselves).
#[derive(Clone)]
pub struct WaitNotice(pub Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for WaitNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WaitNotice")
    }
}

impl EngineOptions {
    /// Names the vector store the options select, as the catalog records it: `qdrant-edge`, or
    /// `qdrant collection NAME` for a server (the collection, not the URL: the same cluster may
    /// be reached by several).
    pub fn vector_backend(&self) -> String {
        match &self.server {
            Some(server) => format!("qdrant collection {}", server.collection),
            None => EDGE_BACKEND.to_string(),
        }
    }
}

/// Opens a vector store for vectors of dimension `dim`. One that holds vectors of another
/// dimension (another model's) is opened as it is: the catalog's model check then asks for
/// `lore reindex`, which recreates it with the right dimension.
fn open_any_dim<S>(
    dim: usize,
    open: impl Fn(usize) -> std::result::Result<S, VectorError>,
) -> std::result::Result<S, VectorError> {
    match open(dim) {
        Err(VectorError::DimensionMismatch { stored, .. }) => open(stored),
        other => other,
    }
}

/// The catalog's visibility sequence, or 0 when the catalog cannot be read (every document
/// made visible is then left out of a snapshot's results rather than shown half).
fn visible_seq_of(home: &Path) -> i64 {
    Catalog::open_read_only_home(home).and_then(|c| c.visible_seq()).unwrap_or(0)
}

/// Copies taken of the live vector store before a reader gives up.
const COPY_ATTEMPTS: usize = 20;

/// A point-in-time copy of the embedded store at `dir` in a temporary directory, opened. The
/// writer changes the store's files as it goes, so a copy can catch them half-written (or miss
/// a file that vanished while it was copied) and fail to open; the next one, taken a moment
/// later, opens.
fn copy_of_live_store(
    dir: &Path,
    options: &EdgeOptions,
) -> std::result::Result<(tempfile::TempDir, EdgeStore), VectorError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let tmp =
            tempfile::tempdir().map_err(|source| VectorError::Io { path: std::env::temp_dir(), source })?;
        match EdgeStore::open_copy(dir, &layout::vector_dir(tmp.path()), options.clone()) {
            Ok(v) => return Ok((tmp, v)),
            Err(e @ VectorError::DiskFull { .. }) => return Err(e),
            Err(e) if attempt >= COPY_ATTEMPTS => return Err(e),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(25 * attempt as u64)),
        }
    }
}

/// How long a writer waits for searches that hold the embedded vector store before giving up.
/// A search holds it only while it reads it (milliseconds), so this is reached only when a
/// reader is stopped in the middle of one.
const READER_WAIT: Duration = Duration::from_secs(120);

/// Waiting that earns a notice.
const NOTICE_AFTER: Duration = Duration::from_secs(1);

/// Opens the embedded store of the library `home` for writing. First it marks the store as
/// wanted (see [`VectorWriterMark`]): readers that start from then on search a copy. A search
/// that opened the store before the mark still holds it for the rest of that search; the
/// writer, which already holds the library's writer lock, waits for it rather than fail.
fn open_edge_waiting_for_readers(
    home: &Path,
    dim: usize,
    options: &EngineOptions,
) -> Result<(VectorWriterMark, EdgeStore)> {
    let started = Instant::now();
    let mark = VectorWriterMark::acquire(home, READER_WAIT)?;
    let dir = layout::vector_dir(home);
    let mut noticed = false;
    loop {
        match open_any_dim(dim, |d| EdgeStore::open(&dir, d, options.edge.clone())) {
            Err(VectorError::Locked { .. }) if started.elapsed() < READER_WAIT => {
                if !noticed && started.elapsed() >= NOTICE_AFTER {
                    noticed = true;
                    if let Some(notice) = &options.wait_notice {
                        (notice.0)("waiting for a search to finish reading the vector store");
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(store) => return Ok((mark, store)),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Whether indexes recorded as built in `recorded` (`None`: nothing recorded) can serve a
/// library configured for `configured`; `model_recorded` tells whether any indexes were built.
fn check_backend(recorded: Option<&str>, model_recorded: bool, configured: &str) -> Result<()> {
    let built_in = match recorded {
        Some(b) => b,
        None if model_recorded => EDGE_BACKEND,
        None => return Ok(()),
    };
    if built_in == configured {
        Ok(())
    } else {
        Err(Error::NeedsReindex(format!(
            "they were built in {built_in}, but the configured vector store is {configured}"
        )))
    }
}

/// The embedder and the two derived indexes.
pub struct Engines {
    /// The embedding model.
    pub embedder: Arc<Embedder>,
    /// The vector store.
    pub vectors: Box<dyn VectorStore>,
    /// The keyword index.
    pub keyword: KeywordIndex,
    /// What context is embedded with each chunk.
    pub passage_context: PassageContext,
    /// A reader's embedded vector store (the same as `vectors`), opened per search.
    reader: Option<ReaderVectors>,
    /// A writer's mark on the embedded vector store, released after the store is closed
    /// (fields drop in order).
    _writer_mark: Option<VectorWriterMark>,
    /// The vector store in use, as [`META_BACKEND`] records it.
    backend: String,
    /// The keyword index was recreated in a new layout and must be filled from the catalog.
    keyword_stale: AtomicBool,
}

impl std::fmt::Debug for Engines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engines").field("model", &self.embedder.model_name()).finish_non_exhaustive()
    }
}

/// Seconds since the epoch of an RFC 3339 or `YYYY-MM-DD` date.
pub fn epoch_of(date: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(date) {
        return Some(t.timestamp());
    }
    let day = date.get(..10)?;
    let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

/// ONNX Runtime threads of a searching process. A hybrid search embeds its one short query
/// while the keyword search runs on another thread; with the model on every core the two
/// contend. At 100,000 chunks on 2 cores, hybrid p50 11.4 ms with one thread, 12.9 ms with two
/// (query embedding alone 8.0 ms and 5.4 ms).
pub const QUERY_EMBED_THREADS: usize = 1;

impl Engines {
    /// Loads the embedding model.
    pub fn embedder(options: &EngineOptions) -> Result<Arc<Embedder>> {
        Ok(Arc::new(Embedder::new(&options.embed, &options.runtime_dir)?))
    }

    /// Loads the embedding model for a process that searches: unless `embedding.threads` is
    /// set, it runs on [`QUERY_EMBED_THREADS`] thread.
    pub fn query_embedder(options: &EngineOptions) -> Result<Arc<Embedder>> {
        let mut embed = options.embed.clone();
        embed.threads = embed.threads.or(Some(QUERY_EMBED_THREADS));
        Ok(Arc::new(Embedder::new(&embed, &options.runtime_dir)?))
    }

    /// Opens the engines of the library at `home` for writing.
    /// With [`EngineOptions::server`] set, the vectors are in that Qdrant server's collection.
    pub fn open_writer(home: &Path, embedder: Arc<Embedder>, options: &EngineOptions) -> Result<Engines> {
        let dim = embedder.dim();
        let (vectors, mark): (Box<dyn VectorStore>, _) = match &options.server {
            Some(server) => (Box::new(ServerStore::open_writer(server, dim)?), None),
            None => {
                let (mark, store) = open_edge_waiting_for_readers(home, dim, options)?;
                (Box::new(store), Some(mark))
            }
        };
        let keyword = KeywordIndex::open(&layout::keyword_dir(home), &options.keyword)?;
        let keyword_stale = AtomicBool::new(keyword.was_recreated());
        Ok(Engines {
            embedder,
            vectors,
            keyword,
            passage_context: options.passage_context,
            reader: None,
            _writer_mark: mark,
            backend: options.vector_backend(),
            keyword_stale,
        })
    }

    /// Opens the engines of the library at `home` for searching. The embedded vector store is
    /// not held open: each search opens it and closes it again (see [`VectorHold`]), or reads a
    /// point-in-time copy while a writer has it, or always with
    /// [`EngineOptions::snapshot_reader`]; so a reader never locks a writer out however long it
    /// lives. A Qdrant server serves readers and a writer at once.
    pub fn open_reader(home: &Path, embedder: Arc<Embedder>, options: &EngineOptions) -> Result<Engines> {
        let keyword = KeywordIndex::open_reader(&layout::keyword_dir(home), &options.keyword)?;
        let (vectors, reader): (Box<dyn VectorStore>, _) = match &options.server {
            Some(server) => (Box::new(ServerStore::open(server, embedder.dim())?), None),
            None => {
                let dir = layout::vector_dir(home);
                let store = ReaderVectors::new(
                    home,
                    &dir,
                    embedder.dim(),
                    options.edge.clone(),
                    options.snapshot_reader,
                );
                if options.snapshot_reader {
                    // The copy is taken now, so that the first search does not wait for it.
                    drop(store.hold()?);
                }
                (Box::new(store.clone()), Some(store))
            }
        };
        Ok(Engines {
            embedder,
            vectors,
            keyword,
            passage_context: options.passage_context,
            reader,
            _writer_mark: None,
            backend: options.vector_backend(),
            keyword_stale: AtomicBool::new(false),
        })
    }

    /// Keeps a reader's vector store open (or its copy) until the hold is dropped, for an
    /// operation that reads it many times (related documents). Writers and stores other than
    /// the embedded one need no hold: this is then a no-op.
    pub fn hold_vectors(&self) -> Result<VectorHold<'_>> {
        match &self.reader {
            Some(r) => Ok(r.hold()?),
            None => Ok(VectorHold::none()),
        }
    }

    /// For a reader that searches a point-in-time copy ([`EngineOptions::snapshot_reader`]):
    /// when documents became visible since it was taken, takes a new one in the background;
    /// searches go to the old one until the new one is complete. Nothing for other readers.
    pub fn refresh_snapshot(&self) {
        if let Some(r) = &self.reader {
            r.refresh();
        }
    }

    /// When a reader searches a point-in-time copy of the vector store, the catalog's
    /// visibility sequence when it was taken: documents made visible since may have other
    /// chunks in the copy than in the catalog.
    pub(crate) fn snapshot_seq(&self) -> Option<i64> {
        self.reader.as_ref().and_then(ReaderVectors::snapshot_seq)
    }

    /// The text embedded for a chunk: its document title and heading path give the passage the
    /// context a reader would have.
    pub fn passage_text(context: PassageContext, title: &str, chunk: &StoredChunk) -> String {
        let title = if context == PassageContext::Full { title } else { "" };
        let heading = if context == PassageContext::None { String::new() } else { chunk.heading() };
        match (title.is_empty(), heading.is_empty()) {
            (false, false) => format!("{title} > {heading}\n{}", chunk.text),
            (false, true) => format!("{title}\n{}", chunk.text),
            (true, false) => format!("{heading}\n{}", chunk.text),
            (true, true) => chunk.text.clone(),
        }
    }

    /// Embeds a document's chunks and writes them to both indexes, replacing whatever they held
    /// for the document, reporting `(chunks embedded, chunks)` as it goes. The keyword index is
    /// not committed here.
    pub fn index_document(
        &self,
        doc: &DocSummary,
        chunks: &[StoredChunk],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<()> {
        let texts: Vec<String> =
            chunks.iter().map(|c| Self::passage_text(self.passage_context, &doc.title, c)).collect();
        let mut vectors = Vec::with_capacity(texts.len());
        for slice in texts.chunks(EMBED_SLICE) {
            vectors.extend(self.embedder.embed_passages(slice)?);
            progress(vectors.len(), texts.len());
        }
        self.write_document(doc, chunks, vectors)
    }

    /// The first phase of an add: writes a document's chunks to the keyword index, replacing
    /// whatever both indexes held for it (its old vectors are dropped: the catalog records its
    /// chunks as awaiting vectors, which [`Engines::embed_and_upsert`] makes later). No commit.
    pub fn write_keywords(&self, doc: &DocSummary, chunks: &[StoredChunk]) -> Result<()> {
        self.vectors.delete_doc(doc.id)?;
        self.keyword.delete_doc(doc.id)?;
        self.keyword.add(&keyword_docs(doc, chunks))?;
        Ok(())
    }

    /// The second phase of an add: embeds chunks of one document and writes their vectors to
    /// the vector store (upserts: the document's other points stay), reporting `(chunks
    /// embedded, chunks)`. No flush.
    pub fn embed_and_upsert(
        &self,
        doc: &DocSummary,
        chunks: &[StoredChunk],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<()> {
        let mut done = 0;
        for slice in chunks.chunks(EMBED_SLICE) {
            let texts: Vec<String> =
                slice.iter().map(|c| Self::passage_text(self.passage_context, &doc.title, c)).collect();
            let vectors = self.embedder.embed_passages(&texts)?;
            self.vectors.upsert(&vector_points(doc, slice, vectors))?;
            done += slice.len();
            progress(done, chunks.len());
        }
        Ok(())
    }

    /// Writes a document's chunks with their vectors to both indexes (no commit).
    pub fn write_document(
        &self,
        doc: &DocSummary,
        chunks: &[StoredChunk],
        vectors: Vec<Vec<f32>>,
    ) -> Result<()> {
        self.vectors.delete_doc(doc.id)?;
        self.keyword.delete_doc(doc.id)?;
        self.vectors.upsert(&vector_points(doc, chunks, vectors))?;
        self.keyword.add(&keyword_docs(doc, chunks))?;
        Ok(())
    }

    /// Fills the keyword index from the catalog alone when it was recreated in a new layout (an
    /// index written by an older lore, or with another configured analyzer) or never recorded
    /// as complete in this layout; then records its layout. Fast next to a full reindex: nothing
    /// is embedded. Documents being removed are left out; documents being indexed are added, as
    /// the journal's repair would.
    pub fn refill_keyword_if_stale(&self, catalog: &Catalog) -> Result<()> {
        let layout = self.keyword.layout();
        let recorded = catalog.meta_get(META_KEYWORD_LAYOUT)?;
        if !self.keyword_stale.load(Ordering::Relaxed) && recorded.as_deref() == Some(layout.as_str()) {
            return Ok(());
        }
        if !self.keyword.is_writable() {
            return Ok(());
        }
        self.keyword.clear()?;
        let removing: Vec<i64> = catalog
            .journal()?
            .into_iter()
            .filter(|e| e.op == crate::catalog::JournalOp::Delete)
            .map(|e| e.doc_id)
            .collect();
        for id in catalog.all_doc_ids()? {
            if removing.contains(&id) {
                continue;
            }
            let Some(doc) = catalog.get(id)? else { continue };
            let chunks = catalog.chunks_of(id, 0, usize::MAX >> 1)?;
            self.keyword.add(&keyword_docs(&doc, &chunks))?;
        }
        self.keyword.commit()?;
        catalog.meta_set(META_KEYWORD_LAYOUT, &layout)?;
        self.keyword_stale.store(false, Ordering::Relaxed);
        Ok(())
    }

    /// Removes a document from both indexes (no commit).
    pub fn remove_document(&self, doc_id: i64) -> Result<()> {
        self.vectors.delete_doc(doc_id)?;
        self.keyword.delete_doc(doc_id)?;
        Ok(())
    }

    /// Makes the writes so far durable and visible: flushes the vector store, commits the
    /// keyword index.
    pub fn commit(&self) -> Result<()> {
        self.vectors.flush()?;
        self.keyword.commit()?;
        Ok(())
    }

    /// Checks that the catalog's recorded vector store is the one in use (a library whose
    /// indexes were built in another asks for `lore reindex`). Reads only.
    pub fn check_backend(&self, catalog: &Catalog) -> Result<()> {
        let recorded = catalog.meta_get(META_BACKEND)?;
        check_backend(recorded.as_deref(), catalog.meta_get(META_MODEL)?.is_some(), &self.backend)
    }

    /// Records in the catalog that the indexes are built in the vector store in use, and the
    /// keyword index in its layout (after a rebuild of them).
    pub fn record_backend(&self, catalog: &Catalog) -> Result<()> {
        catalog.meta_set(META_BACKEND, &self.backend)?;
        if self.keyword.is_writable() {
            catalog.meta_set(META_KEYWORD_LAYOUT, &self.keyword.layout())?;
            self.keyword_stale.store(false, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Checks that the catalog's recorded model and vector store match the engines; records
    /// them when the catalog has none yet. Then fills a keyword index recreated in a new layout
    /// from the catalog (see [`Engines::refill_keyword_if_stale`]).
    pub fn check_model(&self, catalog: &Catalog) -> Result<()> {
        self.check_backend(catalog)?;
        if let Some(problem) = self.vectors.layout_problem() {
            return Err(Error::NeedsReindex(problem));
        }
        if catalog.meta_get(META_BACKEND)?.is_none() {
            self.record_backend(catalog)?;
        }
        let name = self.embedder.model_name().to_string();
        let dim = self.embedder.dim();
        let stored = self.vectors.dim();
        match (catalog.meta_get(META_MODEL)?, catalog.meta_get(META_DIM)?) {
            (Some(m), Some(d)) if m == name && d == dim.to_string() => {}
            (Some(m), d) => {
                return Err(Error::ModelMismatch {
                    stored: format!("{m} ({}-d)", d.unwrap_or_default()),
                    configured: format!("{name} ({dim}-d)"),
                });
            }
            (None, _) if stored == dim => {
                catalog.meta_set(META_MODEL, &name)?;
                catalog.meta_set(META_DIM, &dim.to_string())?;
            }
            (None, _) => {}
        }
        if stored != dim {
            // A store this library did not fill: another model's, or another library's collection.
            return Err(Error::NeedsReindex(format!(
                "the vector store holds {stored}-dimensional vectors, but {name} makes {dim}-dimensional \
                 ones; if another library uses it, configure another collection"
            )));
        }
        self.refill_keyword_if_stale(catalog)
    }
}

/// The language of a chunk: the catalog's, else detected now (chunks stored before languages
/// were), else the document's.
fn chunk_language(doc: &DocSummary, chunk: &StoredChunk) -> Option<String> {
    chunk.language.clone().or_else(|| lore_ingest::chunk_language(&chunk.text, doc.language.as_deref()))
}

/// A document's chunks with their vectors as the vector store takes them.
fn vector_points(doc: &DocSummary, chunks: &[StoredChunk], vectors: Vec<Vec<f32>>) -> Vec<VectorPoint> {
    let published = doc.published.as_deref().and_then(epoch_of);
    let added = epoch_of(&doc.added_at).unwrap_or(0);
    chunks
        .iter()
        .zip(vectors)
        .map(|(c, vector)| VectorPoint {
            chunk_id: c.id,
            doc_id: doc.id,
            ordinal: i64::from(c.ordinal),
            vector,
            kind: doc.kind.clone(),
            tags: doc.tags.clone(),
            published,
            added,
            lang: chunk_language(doc, c),
        })
        .collect()
}

/// A document's chunks as the keyword index takes them.
fn keyword_docs(doc: &DocSummary, chunks: &[StoredChunk]) -> Vec<KeywordDoc> {
    let published = doc.published.as_deref().and_then(epoch_of);
    let added = epoch_of(&doc.added_at).unwrap_or(0);
    chunks
        .iter()
        .map(|c| KeywordDoc {
            chunk_id: c.id,
            doc_id: doc.id,
            title: doc.title.clone(),
            heading_path: c.heading_path.clone(),
            text: c.text.clone(),
            kind: doc.kind.clone(),
            tags: doc.tags.clone(),
            lang: chunk_language(doc, c),
            published,
            added,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_check_asks_for_a_reindex_after_a_switch() {
        let server = "qdrant collection lore";
        // A new library: nothing built yet, any store will do.
        assert!(check_backend(None, false, server).is_ok());
        assert!(check_backend(None, false, EDGE_BACKEND).is_ok());
        // Built before the store was recorded: that was the embedded one.
        assert!(check_backend(None, true, EDGE_BACKEND).is_ok());
        let err = check_backend(None, true, server).unwrap_err();
        assert!(matches!(err, Error::NeedsReindex(_)), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("qdrant-edge") && text.contains(server) && text.contains("lore reindex"),
            "{text}"
        );
        assert!(check_backend(Some(server), true, server).is_ok());
        assert!(check_backend(Some(server), true, EDGE_BACKEND).is_err());
        assert!(check_backend(Some(server), true, "qdrant collection other").is_err());
    }

    #[test]
    fn the_backend_name_follows_the_options() {
        let mut options = EngineOptions::default();
        assert_eq!(options.vector_backend(), "qdrant-edge");
        options.server = Some(ServerOptions { collection: "books".into(), ..Default::default() });
        assert_eq!(options.vector_backend(), "qdrant collection books");
    }
}

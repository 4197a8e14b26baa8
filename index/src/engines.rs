//! The derived indexes of a library and the model that feeds them: the embedder, the vector
//! store and the keyword index, opened together.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalog::{Catalog, DocSummary, StoredChunk};
use crate::embed::{EmbedConfig, Embedder};
use crate::error::{Error, Result};
use crate::keyword::{KeywordConfig, KeywordDoc, KeywordIndex};
use crate::vector::{EdgeOptions, EdgeStore};
use crate::vector::{VectorPoint, VectorStore};

/// Folder of the embedded Qdrant store inside a library.
pub const VECTOR_DIR: &str = "qdrant";
/// Folder of the tantivy index inside a library.
pub const KEYWORD_DIR: &str = "tantivy";
/// Catalog metadata key of the embedding model the vectors were made with.
pub const META_MODEL: &str = "embedding.model";
/// Chunks embedded between progress reports.
const EMBED_SLICE: usize = 128;
/// Catalog metadata key of the vector dimension.
pub const META_DIM: &str = "embedding.dim";

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
    /// A temporary copy of the vector store that a reader searches while a writer holds it.
    _snapshot: Option<tempfile::TempDir>,
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

impl Engines {
    /// Loads the embedding model.
    pub fn embedder(options: &EngineOptions) -> Result<Arc<Embedder>> {
        Ok(Arc::new(Embedder::new(&options.embed, &options.runtime_dir)?))
    }

    /// Opens the engines of the library at `home` for writing.
    pub fn open_writer(home: &Path, embedder: Arc<Embedder>, options: &EngineOptions) -> Result<Engines> {
        let vectors = EdgeStore::open(&home.join(VECTOR_DIR), embedder.dim(), options.edge.clone())?;
        let keyword = KeywordIndex::open(&home.join(KEYWORD_DIR), &options.keyword)?;
        Ok(Engines {
            embedder,
            vectors: Box::new(vectors),
            keyword,
            passage_context: options.passage_context,
            _snapshot: None,
        })
    }

    /// Opens the engines of the library at `home` for searching. When a writer holds the vector
    /// store, the reader searches a point-in-time copy of it instead of waiting.
    pub fn open_reader(home: &Path, embedder: Arc<Embedder>, options: &EngineOptions) -> Result<Engines> {
        let keyword = KeywordIndex::open_reader(&home.join(KEYWORD_DIR), &options.keyword)?;
        let dir = home.join(VECTOR_DIR);
        match EdgeStore::open(&dir, embedder.dim(), options.edge.clone()) {
            Ok(v) => Ok(Engines {
                embedder,
                vectors: Box::new(v),
                keyword,
                passage_context: options.passage_context,
                _snapshot: None,
            }),
            Err(crate::vector::VectorError::Locked { .. }) => {
                let tmp = tempfile::tempdir()
                    .map_err(|source| Error::Home { path: std::env::temp_dir(), source })?;
                let copy = tmp.path().join(VECTOR_DIR);
                let v = EdgeStore::open_copy(&dir, &copy, options.edge.clone())?;
                Ok(Engines {
                    embedder,
                    vectors: Box::new(v),
                    keyword,
                    passage_context: options.passage_context,
                    _snapshot: Some(tmp),
                })
            }
            Err(e) => Err(e.into()),
        }
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

    /// Writes a document's chunks with their vectors to both indexes (no commit).
    pub fn write_document(
        &self,
        doc: &DocSummary,
        chunks: &[StoredChunk],
        vectors: Vec<Vec<f32>>,
    ) -> Result<()> {
        let published = doc.published.as_deref().and_then(epoch_of);
        let added = epoch_of(&doc.added_at).unwrap_or(0);
        self.vectors.delete_doc(doc.id)?;
        self.keyword.delete_doc(doc.id)?;
        let points: Vec<VectorPoint> = chunks
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
                lang: doc.language.clone(),
            })
            .collect();
        self.vectors.upsert(&points)?;
        let kdocs: Vec<KeywordDoc> = chunks
            .iter()
            .map(|c| KeywordDoc {
                chunk_id: c.id,
                doc_id: doc.id,
                title: doc.title.clone(),
                heading_path: c.heading_path.clone(),
                text: c.text.clone(),
                kind: doc.kind.clone(),
                tags: doc.tags.clone(),
                lang: doc.language.clone(),
                published,
                added,
            })
            .collect();
        self.keyword.add(&kdocs)?;
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

    /// Checks that the catalog's recorded model matches the embedder; records it when the
    /// catalog has none yet.
    pub fn check_model(&self, catalog: &Catalog) -> Result<()> {
        let name = self.embedder.model_name().to_string();
        let dim = self.embedder.dim();
        match (catalog.meta_get(META_MODEL)?, catalog.meta_get(META_DIM)?) {
            (Some(m), Some(d)) if m == name && d == dim.to_string() => Ok(()),
            (Some(m), d) => Err(Error::ModelMismatch {
                stored: format!("{m} ({}-d)", d.unwrap_or_default()),
                configured: format!("{name} ({dim}-d)"),
            }),
            (None, _) => {
                catalog.meta_set(META_MODEL, &name)?;
                catalog.meta_set(META_DIM, &dim.to_string())?;
                Ok(())
            }
        }
    }
}

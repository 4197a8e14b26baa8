//! Vector stores: dense vectors of chunks with the payload lore filters on.
//!
//! [`VectorStore`] is the one interface. [`EdgeStore`] implements it with Qdrant's embedded
//! engine (qdrant-edge) in a directory; [`ServerStore`] with a Qdrant server or cluster over gRPC
//! (qdrant-client). Both lay out their collection the same way ([`schema`]). The trait is
//! synchronous: from async code, call it through [`run_blocking`], which moves the call onto
//! tokio's blocking pool.
//!
//! Points are keyed by [`point_uuid`]`(doc_id, ordinal)`, so writing a chunk twice replaces it;
//! the catalog's chunk id travels in the payload and is what searches return.

mod edge;
mod prefetch;
mod schema;
mod server;

use std::sync::Arc;

use uuid::Uuid;

pub use edge::{EdgeOptions, EdgeStore};
pub use server::{ServerOptions, ServerStore};

/// Errors of the vector stores.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// Another store handle (this process or another) has the store open for writing.
    #[error(
        "vector store {} is in use by another lore process (a writer, or a search still reading it)",
        .path.display()
    )]
    Locked {
        /// The store directory.
        path: std::path::PathBuf,
    },
    /// The store holds vectors of another dimension (another embedding model).
    #[error("vector store holds {stored}-dimensional vectors, not {wanted}: run `lore reindex`")]
    DimensionMismatch {
        /// Dimension of the stored vectors.
        stored: usize,
        /// Dimension asked for.
        wanted: usize,
    },
    /// A vector given to the store has the wrong length.
    #[error("vector of length {got} given to a store of dimension {expected}")]
    BadVector {
        /// The store's dimension.
        expected: usize,
        /// The vector's length.
        got: usize,
    },
    /// The store's files could not be read or written.
    #[error("vector store {}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Too little free space to write safely: the embedded engine writes through memory maps,
    /// and a write into a map on a full disk kills the process instead of failing.
    #[error(
        "the disk holding the library is full: {:.1} MB free at {}, the vector store needs {} MB to write safely; free some space and run the command again",
        *.free as f64 / 1048576.0, .path.display(), .needed.div_ceil(1 << 20)
    )]
    DiskFull {
        /// The store directory.
        path: std::path::PathBuf,
        /// Bytes free there.
        free: u64,
        /// Bytes the write needs, margin included.
        needed: u64,
    },
    /// The engine reported an error.
    #[error("vector store: {0}")]
    Engine(String),
    /// The Qdrant server could not be reached, or refused or failed a request.
    #[error("Qdrant server {url}: {message}")]
    Server {
        /// The server's URL (without any user name or password).
        url: String,
        /// What was asked and what went wrong.
        message: String,
    },
    /// A blocking task did not finish (panicked or was cancelled).
    #[error("vector store task failed: {0}")]
    Task(String),
}

/// One chunk's vector and the metadata searches filter on.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorPoint {
    /// The catalog's chunk id.
    pub chunk_id: i64,
    /// The catalog's document id.
    pub doc_id: i64,
    /// The chunk's position in its document.
    pub ordinal: i64,
    /// The vector; must have the store's dimension.
    pub vector: Vec<f32>,
    /// Document kind (`pdf`, `epub`, `html`, ...).
    pub kind: String,
    /// Tags of the document.
    pub tags: Vec<String>,
    /// Publication time, seconds since the Unix epoch (UTC).
    pub published: Option<i64>,
    /// Time the document was added, seconds since the Unix epoch (UTC).
    pub added: i64,
    /// Language code (`en`, `de`, ...), if known.
    pub lang: Option<String>,
}

/// Restrictions on a search. Each non-empty list keeps the points that match one of its values;
/// the fields combine with AND. An empty filter keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VectorFilter {
    /// Document kinds.
    pub kinds: Vec<String>,
    /// Tags: a point matches when it has at least one of them.
    pub tags: Vec<String>,
    /// Document ids.
    pub doc_ids: Vec<i64>,
    /// Earliest publication time (inclusive), seconds since the epoch. Points without a
    /// publication time are left out when either bound is set.
    pub date_from: Option<i64>,
    /// Latest publication time (inclusive), seconds since the epoch.
    pub date_to: Option<i64>,
    /// Language code.
    pub lang: Option<String>,
}

impl VectorFilter {
    /// True when the filter keeps every point.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
            && self.tags.is_empty()
            && self.doc_ids.is_empty()
            && self.date_from.is_none()
            && self.date_to.is_none()
            && self.lang.is_none()
    }
}

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VectorHit {
    /// The catalog's chunk id.
    pub chunk_id: i64,
    /// The chunk's document.
    pub doc_id: i64,
    /// Cosine similarity to the query (higher is closer).
    pub score: f32,
}

/// A store of chunk vectors. All methods take `&self`; implementations serialise their writes.
pub trait VectorStore: Send + Sync {
    /// Short name of the backend, for messages (`qdrant-edge`, `qdrant`).
    fn backend(&self) -> &'static str;
    /// Dimension of the stored vectors.
    fn dim(&self) -> usize;
    /// Inserts or replaces points (keyed by document id and ordinal).
    fn upsert(&self, points: &[VectorPoint]) -> Result<(), VectorError>;
    /// Removes every point of a document.
    fn delete_doc(&self, doc_id: i64) -> Result<(), VectorError>;
    /// Removes the points of these chunk ids (unknown ids are ignored).
    fn delete_points(&self, chunk_ids: &[i64]) -> Result<(), VectorError>;
    /// The `k` points closest to `query` among those `filter` keeps, best first.
    fn search(&self, query: &[f32], k: usize, filter: &VectorFilter) -> Result<Vec<VectorHit>, VectorError>;
    /// Number of points.
    fn count(&self) -> Result<u64, VectorError>;
    /// Chunk ids of all points, ascending (for consistency checks against the catalog).
    fn all_ids(&self) -> Result<Vec<i64>, VectorError>;
    /// The stored vectors of a document's chunks as `(chunk id, vector)`, in chunk order (for
    /// related documents). A backend that cannot return stored vectors says so with an error.
    fn doc_vectors(&self, doc_id: i64) -> Result<Vec<(i64, Vec<f32>)>, VectorError> {
        let _ = doc_id;
        Err(VectorError::Engine(format!("{} cannot return stored vectors", self.backend())))
    }
    /// Makes every write so far durable.
    fn flush(&self) -> Result<(), VectorError>;
    /// Builds the search index (HNSW) over the points written so far. Slow: run it in the
    /// background. Searches work before it, by brute force.
    fn optimize(&self) -> Result<(), VectorError>;
    /// Points not yet in the search index (searched by brute force until [`VectorStore::optimize`]).
    /// Backends that index as they write report 0.
    fn unindexed(&self) -> Result<u64, VectorError> {
        Ok(0)
    }
    /// Points kept in a layout older than the one the store now creates, which
    /// [`VectorStore::optimize`] moves them out of. Backends without layouts report 0.
    fn outdated(&self) -> Result<u64, VectorError> {
        Ok(0)
    }
    /// Removes every point, keeping the dimension.
    fn clear(&self) -> Result<(), VectorError> {
        self.recreate(self.dim())
    }
    /// Removes every point and starts over with vectors of dimension `dim`.
    fn recreate(&self, dim: usize) -> Result<(), VectorError>;
    /// Why the store cannot serve the library until [`VectorStore::recreate`] rebuilds it, when
    /// it cannot: a server collection laid out otherwise than lore lays it out (another program
    /// recreated it). `None` by default.
    fn layout_problem(&self) -> Option<String> {
        None
    }
}

/// Runs `f` on a store on tokio's blocking pool: the async form of every [`VectorStore`] call,
/// e.g. `run_blocking(&store, move |s| s.upsert(&points)).await`.
pub async fn run_blocking<T, F>(store: &Arc<dyn VectorStore>, f: F) -> Result<T, VectorError>
where
    T: Send + 'static,
    F: FnOnce(&dyn VectorStore) -> Result<T, VectorError> + Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| VectorError::Task(e.to_string()))?
}

/// Namespace of the chunk point ids (a fixed random UUID; changing it orphans every stored point).
const CHUNK_NAMESPACE: Uuid = Uuid::from_u128(0xfa39_271b_f54d_49f7_809f_89aa_ac73_3300);

/// The point id of a chunk: UUID v5 of a fixed namespace and `"doc_id:ordinal"`.
pub fn point_uuid(doc_id: i64, ordinal: i64) -> Uuid {
    Uuid::new_v5(&CHUNK_NAMESPACE, format!("{doc_id}:{ordinal}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_ids_are_deterministic_and_distinct() {
        assert_eq!(point_uuid(7, 3), point_uuid(7, 3));
        assert_ne!(point_uuid(7, 3), point_uuid(7, 4));
        assert_ne!(point_uuid(7, 3), point_uuid(73, 0));
        assert_eq!(point_uuid(1, 0).get_version_num(), 5);
        // Pinned (values from Python's uuid.uuid5): stored points are found again only while
        // this mapping stays the same.
        assert_eq!(point_uuid(1, 0).to_string(), "b32c1c0a-38ab-5c63-a458-2d564de2387e");
        assert_eq!(point_uuid(42, 7).to_string(), "3c82a864-8f30-5749-b8a2-23bbb3a7da86");
    }

    #[test]
    fn empty_filter_is_empty() {
        assert!(VectorFilter::default().is_empty());
        assert!(!VectorFilter { lang: Some("en".into()), ..Default::default() }.is_empty());
    }
}

//! [`VectorStore`] on a Qdrant server or cluster, through qdrant-client (gRPC).
//!
//! The collection has the layout of the embedded store (see [`super::schema`]): one named dense
//! vector with cosine distance, the same payload fields and payload indexes, and point ids
//! [`point_uuid`]`(doc_id, ordinal)`. A collection of another dimension is
//! [`VectorError::DimensionMismatch`]; [`VectorStore::recreate`] drops and recreates it.
//!
//! Writes are sent in batches ([`ServerOptions::batch_size`] points per request) with `wait`
//! set, so a write is applied (and durable on the server) when the call returns:
//! [`flush`](VectorStore::flush) has nothing left to do, and [`optimize`](VectorStore::optimize)
//! neither, as the server builds its HNSW index by itself. Requests that fail with a transient
//! status (unavailable, deadline exceeded, resource exhausted, aborted, a connection that could
//! not be made, a client-side timeout) are retried with exponential backoff and jitter, then
//! reported as [`VectorError::Server`]. Every request lore makes is idempotent, so a retry of one
//! that reached the server is harmless.
//!
//! The trait is synchronous and qdrant-client is async: a store owns a small tokio runtime, runs
//! each request on it and waits for the answer. Callers in async code go through
//! [`super::run_blocking`] (tokio's blocking pool), as for the embedded store, so that no
//! executor thread waits on the network.
//!
//! The API key is sent as a request header and never appears in an error or in `Debug` output.
//! `https://` URLs use TLS (rustls with the system's root certificates).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use lore_ingest::redact::{HIDDEN, Redactor, redact_url};
use lore_ingest::retry::RetryPolicy;
use qdrant_client::qdrant::r#match::MatchValue;
use qdrant_client::qdrant::value::Kind;
use qdrant_client::qdrant::vector_output::Vector;
use qdrant_client::qdrant::{
    CollectionExistsRequest, CollectionInfo, CollectionStatus, Condition, CountPoints, CreateCollection,
    CreateFieldIndexCollection, DeleteCollection, DeletePoints, Distance, FieldType, Filter,
    GetCollectionInfoRequest, PointId, PointStruct, PointsSelector, Query, QueryPoints, Range,
    RepeatedIntegers, RepeatedStrings, ScrollPoints, UpsertPoints, Value, VectorParams, VectorParamsMap,
    Vectors, VectorsConfig, vectors_config,
};
use qdrant_client::{Qdrant, QdrantError};
use tonic::Code;

use super::schema::{
    ADDED, CHUNK_ID, DOC_ID, ID_BATCH, INDEXES, IndexType, KIND, LANG, ORDINAL, PUBLISHED, TAGS,
    UPSERT_BATCH, VECTOR,
};
use super::{VectorError, VectorFilter, VectorHit, VectorPoint, VectorStore, point_uuid};

/// Default gRPC endpoint of a local Qdrant server.
pub const DEFAULT_URL: &str = "http://localhost:6334";
/// Default collection name.
pub const DEFAULT_COLLECTION: &str = "lore";
/// The store's retries: waits from 100 ms doubling up to 5 s, a server's `retry-after` honoured
/// up to 30 s. The count is [`ServerOptions::retries`]; what is retried is judged on gRPC codes
/// ([`is_transient`]), not on HTTP statuses.
const RETRY: RetryPolicy = RetryPolicy {
    max_retries: 4,
    base_delay: Duration::from_millis(100),
    max_delay: Duration::from_secs(5),
    max_retry_after: Duration::from_secs(30),
    retry_statuses: &[],
};
/// Longest wait for a connection to be made.
const CONNECT_TIMEOUT_MAX: Duration = Duration::from_secs(10);
/// What an upsert request is called in errors.
const WRITING: &str = "writing points";
/// What a delete request is called in errors.
const DELETING: &str = "deleting points";
/// Worker threads of a store's runtime (the work is waiting on the network).
const WORKER_THREADS: usize = 2;

/// Where and how to reach the Qdrant server.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// gRPC endpoint, `http://host:6334` or `https://host:6334` (TLS).
    pub url: String,
    /// API key, sent with every request.
    pub api_key: Option<String>,
    /// Collection holding the library's vectors (one collection per library).
    pub collection: String,
    /// Time limit of one request (and of making a connection, up to 10 s).
    pub timeout: Duration,
    /// Points per upsert request.
    pub batch_size: usize,
    /// Retries of a request that failed with a transient error (4 by default).
    pub retries: u32,
    /// Shards of a collection lore creates; `None`: the server's default (one per node).
    pub shards: Option<u32>,
    /// Copies of each shard in a collection lore creates, on different nodes; `None`: the
    /// server's default (1).
    pub replication_factor: Option<u32>,
    /// Copies of a shard that must have applied a write before the server answers, in a
    /// collection lore creates; `None`: the server's default (1).
    pub write_consistency_factor: Option<u32>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            url: DEFAULT_URL.into(),
            api_key: None,
            collection: DEFAULT_COLLECTION.into(),
            timeout: Duration::from_secs(30),
            batch_size: UPSERT_BATCH,
            retries: RETRY.max_retries,
            shards: None,
            replication_factor: None,
            write_consistency_factor: None,
        }
    }
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("url", &redact_url(&self.url))
            .field("api_key", &self.api_key.as_ref().map(|_| HIDDEN))
            .field("collection", &self.collection)
            .field("timeout", &self.timeout)
            .field("batch_size", &self.batch_size)
            .field("retries", &self.retries)
            .field("shards", &self.shards)
            .field("replication_factor", &self.replication_factor)
            .field("write_consistency_factor", &self.write_consistency_factor)
            .finish()
    }
}

/// A client and the runtime its requests run on.
struct Connection {
    client: Qdrant,
    /// `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    options: ServerOptions,
}

impl Connection {
    fn new(options: &ServerOptions) -> Result<Connection, VectorError> {
        let mut options = options.clone();
        options.batch_size = options.batch_size.max(1);
        let fail = |message: String| VectorError::Server { url: redact_url(&options.url), message };
        if !(options.url.starts_with("http://") || options.url.starts_with("https://")) {
            return Err(fail("the URL must start with http:// or https://".into()));
        }
        if options.collection.trim().is_empty() {
            return Err(fail("no collection name given".into()));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("lore-qdrant")
            .enable_all()
            .build()
            .map_err(|e| VectorError::Task(format!("cannot start the Qdrant client's runtime: {e}")))?;
        let mut config = Qdrant::from_url(&options.url)
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(CONNECT_TIMEOUT_MAX))
            .api_key(options.api_key.clone())
            // The version check prints to stdout; a version mismatch shows in the requests.
            .skip_compatibility_check();
        config.set_check_connection(false);
        let client = config.build().map_err(|e| fail(scrub(&e.to_string(), &options)))?;
        Ok(Connection { client, runtime: Some(runtime), options })
    }

    /// Runs a request on the runtime, retrying transient failures, and waits for the outcome.
    /// It never enters the runtime from the calling thread, so it works from any thread.
    fn call<T, F, Fut>(&self, what: &str, request: F) -> Result<T, VectorError>
    where
        T: Send + 'static,
        F: Fn(Qdrant) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, QdrantError>> + Send + 'static,
    {
        let runtime = self.runtime.as_ref().ok_or_else(|| VectorError::Task("the store is closed".into()))?;
        let client = self.client.clone();
        let retries = self.options.retries;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = tx.send(with_retries(retries, || request(client.clone())).await);
        });
        match rx.recv() {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(failure)) => Err(self.error(what, &failure)),
            Err(_) => Err(VectorError::Task(format!("the Qdrant request ({what}) ended without an answer"))),
        }
    }

    /// The error of a failed request: what was asked, why it failed and how often it was tried.
    fn error(&self, what: &str, failure: &Failure) -> VectorError {
        let (code, detail) = describe(&failure.error);
        let mut message = match code {
            Some(Code::Unauthenticated | Code::PermissionDenied) => format!(
                "{what}: the server refused the request ({detail}): {}",
                if self.options.api_key.is_some() { "check the API key" } else { "it needs an API key" }
            ),
            Some(Code::Internal) if is_write(what) && detail.starts_with("a node of the cluster") => format!(
                "{what}: {detail}; fewer copies of a shard are running than the collection's \
                 write_consistency_factor asks for: run it again once the node is back"
            ),
            _ if failure.attempts > 1 => format!("{what}: {detail} (tried {} times)", failure.attempts),
            _ => format!("{what}: {detail}"),
        };
        if self.options.url.trim_end_matches('/').ends_with(":6333") {
            message.push_str(" (6333 is Qdrant's REST port; lore speaks gRPC, by default on port 6334)");
        }
        VectorError::Server { url: redact_url(&self.options.url), message: scrub(&message, &self.options) }
    }

    fn collection(&self) -> String {
        self.options.collection.clone()
    }

    fn exists(&self) -> Result<bool, VectorError> {
        let request = CollectionExistsRequest { collection_name: self.collection() };
        self.call("checking the collection", move |c| {
            let request = request.clone();
            async move { c.collection_exists(request).await }
        })
    }

    fn info(&self) -> Result<CollectionInfo, VectorError> {
        let request = GetCollectionInfoRequest { collection_name: self.collection() };
        let info = self.call("reading the collection", move |c| {
            let request = request.clone();
            async move { c.collection_info(request).await }
        })?;
        info.result.ok_or_else(|| self.engine("the server sent no collection info"))
    }

    /// What the server holds under the collection's name. The payload indexes of a collection
    /// in lore's layout are completed.
    fn found(&self) -> Result<Found, VectorError> {
        if !self.exists()? {
            return Ok(Found::Nothing);
        }
        let info = self.info()?;
        let vectors = info.config.and_then(|c| c.params).and_then(|p| p.vectors_config);
        match layout_of(vectors.as_ref()) {
            Ok(dim) => {
                self.create_indexes(|field| info.payload_schema.contains_key(field))?;
                Ok(Found::Lore(dim))
            }
            Err(other) => Ok(Found::Other(other)),
        }
    }

    /// What is wrong with a collection laid out as `found` describes.
    fn foreign_layout(&self, found: &str) -> String {
        format!(
            "collection '{}' holds {found}, not lore's '{VECTOR}' vectors with cosine distance (recreated by another program?)",
            self.options.collection
        )
    }

    /// The error of a collection laid out as `found` describes.
    fn foreign_error(&self, found: &str) -> VectorError {
        self.engine(&format!(
            "{}: run `lore reindex` to recreate it, or configure another collection if it is not this library's",
            self.foreign_layout(found)
        ))
    }

    /// Creates the collection for vectors of dimension `dim` with its payload indexes. When
    /// another process created it meanwhile, its dimension is checked instead.
    fn create(&self, dim: usize) -> Result<(), VectorError> {
        let request = create_collection_request(&self.options, dim);
        let created = self.call("creating the collection", move |c| {
            let request = request.clone();
            async move {
                match c.create_collection(request).await {
                    Ok(_) => Ok(true),
                    Err(e) if code_of(&e) == Some(Code::AlreadyExists) => Ok(false),
                    Err(e) => Err(e),
                }
            }
        })?;
        if !created {
            return match self.found()? {
                Found::Lore(stored) if stored != dim => {
                    Err(VectorError::DimensionMismatch { stored, wanted: dim })
                }
                Found::Other(found) => Err(self.foreign_error(&found)),
                Found::Lore(_) | Found::Nothing => Ok(()),
            };
        }
        self.create_indexes(|_| false)
    }

    /// Creates the payload indexes `has` says are missing.
    fn create_indexes(&self, has: impl Fn(&str) -> bool) -> Result<(), VectorError> {
        for (field, index) in INDEXES {
            if has(field) {
                continue;
            }
            let request = CreateFieldIndexCollection {
                collection_name: self.collection(),
                wait: Some(true),
                field_name: field.to_string(),
                field_type: Some(field_type(index) as i32),
                ..Default::default()
            };
            self.call(&format!("indexing the payload field '{field}'"), move |c| {
                let request = request.clone();
                async move { c.create_field_index(request).await }
            })?;
        }
        Ok(())
    }

    fn drop_collection(&self) -> Result<(), VectorError> {
        let request = DeleteCollection { collection_name: self.collection(), ..Default::default() };
        self.call("deleting the collection", move |c| {
            let request = request.clone();
            async move {
                match c.delete_collection(request).await {
                    Ok(_) => Ok(()),
                    Err(e) if code_of(&e) == Some(Code::NotFound) => Ok(()),
                    Err(e) => Err(e),
                }
            }
        })
    }

    fn delete(&self, filter: Filter) -> Result<(), VectorError> {
        let request = delete_request(&self.options.collection, filter);
        self.call(DELETING, move |c| {
            let request = request.clone();
            async move { c.delete_points(request).await }
        })?;
        Ok(())
    }

    fn engine(&self, message: &str) -> VectorError {
        VectorError::Server { url: redact_url(&self.options.url), message: scrub(message, &self.options) }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Does not wait for the workers, so a store may also be dropped inside async code.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// What a server holds under a collection's name.
enum Found {
    /// No collection.
    Nothing,
    /// A collection in lore's layout, of this dimension.
    Lore(usize),
    /// A collection laid out otherwise, as described.
    Other(String),
}

/// The Qdrant server vector store. See the module docs.
pub struct ServerStore {
    connection: Connection,
    dim: AtomicUsize,
    /// The layout of a collection not in lore's, as [`ServerStore::open_writer`] found it, until
    /// [`VectorStore::recreate`].
    foreign: Mutex<Option<String>>,
    /// Held by writes and by recreate.
    writes: Mutex<()>,
}

impl std::fmt::Debug for ServerStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerStore")
            .field("options", &self.connection.options)
            .field("dim", &self.dim())
            .finish()
    }
}

impl ServerStore {
    /// Connects to the server and opens the collection, creating it (with its payload indexes)
    /// for vectors of dimension `dim` when there is none. A collection of another dimension is
    /// [`VectorError::DimensionMismatch`]; one laid out otherwise (no `dense` vector with cosine
    /// distance: another program recreated it) is [`VectorError::Server`] asking for `lore
    /// reindex`, as is a server that cannot be reached once the retries are spent.
    pub fn open(options: &ServerOptions, dim: usize) -> Result<ServerStore, VectorError> {
        if dim == 0 {
            return Err(VectorError::BadVector { expected: 1, got: 0 });
        }
        let connection = Connection::new(options)?;
        match connection.found()? {
            Found::Lore(stored) if stored != dim => {
                return Err(VectorError::DimensionMismatch { stored, wanted: dim });
            }
            Found::Lore(_) => {}
            Found::Other(found) => return Err(connection.foreign_error(&found)),
            Found::Nothing => connection.create(dim)?,
        }
        Ok(ServerStore::with(connection, dim, None))
    }

    /// Opens the collection for a writer, which may rebuild it: as [`ServerStore::open`], but a
    /// collection of another dimension is opened with its dimension, and one laid out otherwise
    /// as it is, [`VectorStore::layout_problem`] saying how. The library's checks then ask for
    /// `lore reindex`, whose [`VectorStore::recreate`] makes the collection lore's again; until
    /// then every request on such a collection fails with that error.
    pub fn open_writer(options: &ServerOptions, dim: usize) -> Result<ServerStore, VectorError> {
        if dim == 0 {
            return Err(VectorError::BadVector { expected: 1, got: 0 });
        }
        let connection = Connection::new(options)?;
        Ok(match connection.found()? {
            Found::Lore(stored) => ServerStore::with(connection, stored, None),
            Found::Other(found) => ServerStore::with(connection, dim, Some(found)),
            Found::Nothing => {
                connection.create(dim)?;
                ServerStore::with(connection, dim, None)
            }
        })
    }

    fn with(connection: Connection, dim: usize, foreign: Option<String>) -> ServerStore {
        ServerStore {
            connection,
            dim: AtomicUsize::new(dim),
            foreign: Mutex::new(foreign),
            writes: Mutex::new(()),
        }
    }

    /// Fails while the collection is laid out otherwise than lore lays it out.
    fn check_layout(&self) -> Result<(), VectorError> {
        match self.foreign.lock().unwrap_or_else(PoisonError::into_inner).as_deref() {
            Some(found) => Err(self.connection.foreign_error(found)),
            None => Ok(()),
        }
    }

    /// True when the server has the collection.
    pub fn exists(options: &ServerOptions) -> Result<bool, VectorError> {
        Connection::new(options)?.exists()
    }

    /// Whether the server is optimizing the collection (building its HNSW index or merging
    /// segments, which it does by itself after writes): its status is yellow.
    pub fn optimizing(options: &ServerOptions) -> Result<bool, VectorError> {
        Ok(Connection::new(options)?.info()?.status == CollectionStatus::Yellow as i32)
    }

    /// Deletes the collection (nothing if there is none).
    pub fn remove(options: &ServerOptions) -> Result<(), VectorError> {
        Connection::new(options)?.drop_collection()
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &ServerOptions {
        &self.connection.options
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        self.writes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl VectorStore for ServerStore {
    fn backend(&self) -> &'static str {
        "qdrant"
    }

    fn dim(&self) -> usize {
        self.dim.load(Ordering::Acquire)
    }

    fn upsert(&self, points: &[VectorPoint]) -> Result<(), VectorError> {
        let dim = self.dim();
        if let Some(bad) = points.iter().find(|p| p.vector.len() != dim) {
            return Err(VectorError::BadVector { expected: dim, got: bad.vector.len() });
        }
        self.check_layout()?;
        let _writes = self.lock();
        let c = &self.connection;
        for request in upsert_requests(&c.options.collection, points, c.options.batch_size) {
            c.call(WRITING, move |client| {
                let request = request.clone();
                async move { client.upsert_points(request).await }
            })?;
        }
        Ok(())
    }

    fn delete_doc(&self, doc_id: i64) -> Result<(), VectorError> {
        self.check_layout()?;
        let _writes = self.lock();
        self.connection.delete(Filter::must([integers(DOC_ID, vec![doc_id])]))
    }

    fn delete_points(&self, chunk_ids: &[i64]) -> Result<(), VectorError> {
        self.check_layout()?;
        let _writes = self.lock();
        for batch in chunk_ids.chunks(ID_BATCH) {
            self.connection.delete(Filter::must([integers(CHUNK_ID, batch.to_vec())]))?;
        }
        Ok(())
    }

    fn search(&self, query: &[f32], k: usize, filter: &VectorFilter) -> Result<Vec<VectorHit>, VectorError> {
        let dim = self.dim();
        if query.len() != dim {
            return Err(VectorError::BadVector { expected: dim, got: query.len() });
        }
        if k == 0 {
            return Ok(Vec::new());
        }
        self.check_layout()?;
        let request = query_request(&self.connection.options.collection, query, k, filter);
        let response = self.connection.call("searching", move |c| {
            let request = request.clone();
            async move { c.query(request).await }
        })?;
        response
            .result
            .iter()
            .map(|p| match (int_field(&p.payload, CHUNK_ID), int_field(&p.payload, DOC_ID)) {
                (Some(chunk_id), Some(doc_id)) => Ok(VectorHit { chunk_id, doc_id, score: p.score }),
                _ => Err(self.connection.engine(&no_chunk_id(p.id.as_ref()))),
            })
            .collect()
    }

    fn count(&self) -> Result<u64, VectorError> {
        let request = CountPoints {
            collection_name: self.connection.collection(),
            exact: Some(true),
            ..Default::default()
        };
        let response = self.connection.call("counting points", move |c| {
            let request = request.clone();
            async move { c.count(request).await }
        })?;
        Ok(response.result.map(|r| r.count).unwrap_or(0))
    }

    fn all_ids(&self) -> Result<Vec<i64>, VectorError> {
        let mut ids = Vec::new();
        let mut offset: Option<PointId> = None;
        loop {
            let request = ScrollPoints {
                collection_name: self.connection.collection(),
                offset: offset.take(),
                limit: Some(ID_BATCH as u32),
                with_payload: Some(vec![CHUNK_ID].into()),
                with_vectors: Some(false.into()),
                ..Default::default()
            };
            let page = self.connection.call("listing points", move |c| {
                let request = request.clone();
                async move { c.scroll(request).await }
            })?;
            for point in &page.result {
                match int_field(&point.payload, CHUNK_ID) {
                    Some(id) => ids.push(id),
                    None => return Err(self.connection.engine(&no_chunk_id(point.id.as_ref()))),
                }
            }
            match page.next_page_offset {
                Some(next) => offset = Some(next),
                None => break,
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    fn doc_vectors(&self, doc_id: i64) -> Result<Vec<(i64, Vec<f32>)>, VectorError> {
        let mut out: Vec<(i64, i64, Vec<f32>)> = Vec::new();
        let mut offset: Option<PointId> = None;
        loop {
            let request = ScrollPoints {
                collection_name: self.connection.collection(),
                filter: Some(Filter::must([integers(DOC_ID, vec![doc_id])])),
                offset: offset.take(),
                limit: Some(ID_BATCH as u32),
                with_payload: Some(vec![CHUNK_ID, ORDINAL].into()),
                with_vectors: Some(true.into()),
                ..Default::default()
            };
            let page = self.connection.call("reading a document's vectors", move |c| {
                let request = request.clone();
                async move { c.scroll(request).await }
            })?;
            for point in page.result {
                let chunk_id = int_field(&point.payload, CHUNK_ID);
                let ordinal = int_field(&point.payload, ORDINAL);
                let vector = point.vectors.as_ref().and_then(|v| v.get_vector_by_name(VECTOR));
                match (chunk_id, ordinal, vector) {
                    (Some(c), Some(o), Some(Vector::Dense(dense))) => out.push((o, c, dense.data)),
                    _ => {
                        return Err(self.connection.engine(&format!(
                            "point {:?} lacks its chunk id, ordinal or dense vector",
                            point.id
                        )));
                    }
                }
            }
            match page.next_page_offset {
                Some(next) => offset = Some(next),
                None => break,
            }
        }
        out.sort_by_key(|(o, _, _)| *o);
        Ok(out.into_iter().map(|(_, c, v)| (c, v)).collect())
    }

    /// Nothing to do: every write waited until the server had applied it.
    fn flush(&self) -> Result<(), VectorError> {
        Ok(())
    }

    /// Nothing to do: the server's optimizer builds the HNSW index in the background.
    fn optimize(&self) -> Result<(), VectorError> {
        Ok(())
    }

    fn recreate(&self, dim: usize) -> Result<(), VectorError> {
        if dim == 0 {
            return Err(VectorError::BadVector { expected: 1, got: 0 });
        }
        let _writes = self.lock();
        self.connection.drop_collection()?;
        self.connection.create(dim)?;
        self.dim.store(dim, Ordering::Release);
        *self.foreign.lock().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(())
    }

    fn layout_problem(&self) -> Option<String> {
        let foreign = self.foreign.lock().unwrap_or_else(PoisonError::into_inner);
        foreign.as_deref().map(|found| {
            let layout = self.connection.foreign_layout(found);
            format!("{layout}; if it is not this library's, configure another collection instead")
        })
    }
}

/// A request that failed for good.
#[derive(Debug)]
struct Failure {
    error: QdrantError,
    /// How many times it was sent.
    attempts: u32,
}

/// Runs `attempt` until it succeeds, fails with an error that is not transient, or has been
/// retried `retries` times, waiting between tries the [`RETRY`] backoff, or longer when the
/// server asked for it.
async fn with_retries<T, Fut>(retries: u32, mut attempt: impl FnMut() -> Fut) -> Result<T, Failure>
where
    Fut: Future<Output = Result<T, QdrantError>>,
{
    let policy = RetryPolicy { max_retries: retries, ..RETRY };
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) => {
                if !policy.allows_retry(attempts - 1) || !is_transient(&error) {
                    return Err(Failure { error, attempts });
                }
                // The backoff, unless the server asked for a longer wait.
                let wait = policy.backoff(attempts).max(retry_after(&error).unwrap_or_default());
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Whether the request described as `what` writes to the collection.
fn is_write(what: &str) -> bool {
    what == WRITING || what == DELETING
}

/// The gRPC status code of an error that has one.
fn code_of(error: &QdrantError) -> Option<Code> {
    match error {
        QdrantError::ResponseError { status } | QdrantError::ResourceExhaustedError { status, .. } => {
            Some(status.code())
        }
        _ => None,
    }
}

/// Whether a failed request may succeed when sent again.
fn is_transient(error: &QdrantError) -> bool {
    match error {
        QdrantError::ResponseError { status } | QdrantError::ResourceExhaustedError { status, .. } => {
            is_transient_status(status.code(), status.message())
        }
        _ => false,
    }
}

/// Transient statuses: the server is unavailable, overloaded, timed out or aborted the
/// operation; the connection could not be made, or broke under a request (a server that
/// stopped); the client's time limit ran out.
fn is_transient_status(code: Code, message: &str) -> bool {
    match code {
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted => true,
        // How tonic reports a connection that broke while a request was on it.
        Code::Unknown => message.starts_with("transport error"),
        // How qdrant-client reports a connection that could not be made.
        Code::Internal => message.starts_with("Failed to connect"),
        // How tonic reports the client's own time limit.
        Code::Cancelled => message.contains("Timeout expired"),
        _ => false,
    }
}

/// The wait a server asked for with `retry-after`, at most [`RETRY`]'s `max_retry_after`.
fn retry_after(error: &QdrantError) -> Option<Duration> {
    match error {
        QdrantError::ResourceExhaustedError { retry_after_seconds, .. } => {
            Some(RETRY.retry_after(Duration::from_secs(*retry_after_seconds)))
        }
        _ => None,
    }
}

/// The status code (if any) and a one-line description of an error.
fn describe(error: &QdrantError) -> (Option<Code>, String) {
    match error {
        QdrantError::ResponseError { status } | QdrantError::ResourceExhaustedError { status, .. } => {
            let message = status.message();
            // A node of a cluster that could not reach another is checked first: its message
            // names the other node's failure, not this connection's.
            let detail = if let Some(detail) = unreachable_node(message) {
                detail
            } else if message.contains("ConnectionRefused") || message.contains("Connection refused") {
                "cannot connect: connection refused".to_string()
            } else if message.contains("dns error") || message.contains("failed to lookup") {
                "cannot connect: unknown host".to_string()
            } else if message.starts_with("Failed to connect") {
                format!("cannot connect: {}", one_line(message))
            } else if message.contains("Timeout expired") {
                "no answer within the time limit".to_string()
            } else if message.starts_with("transport error") {
                "the connection broke".to_string()
            } else {
                format!("{:?}: {}", status.code(), one_line(message))
            };
            (Some(status.code()), detail)
        }
        other => (None, one_line(&other.to_string())),
    }
}

/// What a node of a cluster reports when it could not reach another node holding a shard the
/// request needed: the other node's address and how many shards failed, in one line. `None`
/// for any other message (among them the client's own failures to connect, which start with
/// `Failed to connect`).
fn unreachable_node(message: &str) -> Option<String> {
    // A "Service internal error" is the answer of the node lore reached: a failure to connect
    // inside it is that node's, to another one.
    if !message.starts_with("Service internal error") {
        return None;
    }
    let lower = message.to_lowercase();
    let peer_failure = ["failed to connect", "connection refused", "connectionrefused", "transport error"]
        .iter()
        .any(|m| lower.contains(m));
    if !peer_failure {
        return None;
    }
    let named = message
        .split_once("Failed to connect to ")
        .and_then(|(_, after)| after.split([',', ' ', '"', '\'']).next())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .or_else(|| first_url(message));
    let shards = message
        .find(" shards failed to apply operation")
        .and_then(|end| message[..end].rsplit(": ").next())
        .map(|counts| format!(": {counts} shards failed to apply the operation"))
        .unwrap_or_default();
    Some(match named {
        Some(node) => format!("a node of the cluster could not reach another node ({node}){shards}"),
        None => format!("a node of the cluster could not reach another node{shards}"),
    })
}

/// The first `http://` or `https://` URL in `text`.
fn first_url(text: &str) -> Option<String> {
    let at = text.find("http://").or_else(|| text.find("https://"))?;
    let url: String = text[at..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '"' | '\'' | ')'))
        .collect();
    Some(url)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` with the API key and the credentials of every URL in it (the server's own, in a
/// transport error) hidden.
fn scrub(text: &str, options: &ServerOptions) -> String {
    Redactor::new().with_secret(options.api_key.as_deref()).with_url(Some(&options.url)).redact(text)
}

fn no_chunk_id(id: Option<&PointId>) -> String {
    format!("point {id:?} has no chunk id in its payload")
}

fn field_type(index: IndexType) -> FieldType {
    match index {
        IndexType::Integer => FieldType::Integer,
        IndexType::Keyword => FieldType::Keyword,
    }
}

/// The dimension of lore's named vector in a collection's vector configuration.
/// The dimension of a collection's vectors in lore's layout (a vector named [`VECTOR`] with
/// cosine distance, beside any others), or what the collection holds instead.
fn layout_of(config: Option<&VectorsConfig>) -> Result<usize, String> {
    let params = match config.and_then(|c| c.config.as_ref()) {
        None => return Err("no dense vectors".into()),
        Some(vectors_config::Config::Params(p)) => {
            return Err(format!("one unnamed vector of {} dimensions", p.size));
        }
        Some(vectors_config::Config::ParamsMap(map)) => match map.map.get(VECTOR) {
            Some(p) => p,
            None if map.map.is_empty() => return Err("no dense vectors".into()),
            None => {
                let mut names: Vec<&str> = map.map.keys().map(String::as_str).collect();
                names.sort_unstable();
                return Err(format!(
                    "vectors named {}",
                    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
                ));
            }
        },
    };
    if params.distance != Distance::Cosine as i32 {
        let distance = Distance::try_from(params.distance).map(|d| d.as_str_name()).unwrap_or("an unknown");
        return Err(format!("'{VECTOR}' vectors with {distance} distance"));
    }
    Ok(params.size as usize)
}

/// The request creating the collection of `options` for vectors of dimension `dim`, with its
/// shards, replicas and write consistency when they are set.
fn create_collection_request(options: &ServerOptions, dim: usize) -> CreateCollection {
    let params = VectorParams { size: dim as u64, distance: Distance::Cosine as i32, ..Default::default() };
    CreateCollection {
        collection_name: options.collection.clone(),
        shard_number: options.shards,
        replication_factor: options.replication_factor,
        write_consistency_factor: options.write_consistency_factor,
        vectors_config: Some(VectorsConfig {
            config: Some(vectors_config::Config::ParamsMap(VectorParamsMap {
                map: HashMap::from([(VECTOR.to_string(), params)]),
            })),
        }),
        ..Default::default()
    }
}

fn int_field(payload: &HashMap<String, Value>, field: &str) -> Option<i64> {
    payload.get(field).and_then(Value::as_integer)
}

fn null() -> Value {
    Value { kind: Some(Kind::NullValue(0)) }
}

/// The payload of a point (see [`super::schema`] for the fields and their types).
fn payload(p: &VectorPoint) -> HashMap<String, Value> {
    HashMap::from([
        (CHUNK_ID.to_string(), Value::from(p.chunk_id)),
        (DOC_ID.to_string(), Value::from(p.doc_id)),
        (ORDINAL.to_string(), Value::from(p.ordinal)),
        (KIND.to_string(), Value::from(p.kind.clone())),
        (TAGS.to_string(), Value::from(p.tags.clone())),
        (PUBLISHED.to_string(), p.published.map(Value::from).unwrap_or_else(null)),
        (ADDED.to_string(), Value::from(p.added)),
        (LANG.to_string(), p.lang.clone().map(Value::from).unwrap_or_else(null)),
    ])
}

fn to_point(p: &VectorPoint) -> PointStruct {
    PointStruct {
        id: Some(PointId::from(point_uuid(p.doc_id, p.ordinal).to_string())),
        payload: payload(p),
        vectors: Some(Vectors::from(HashMap::from([(VECTOR.to_string(), p.vector.clone())]))),
    }
}

/// The upsert requests writing `points`, `batch` points each, each waiting until it is applied.
fn upsert_requests<'a>(
    collection: &'a str,
    points: &'a [VectorPoint],
    batch: usize,
) -> impl Iterator<Item = UpsertPoints> + 'a {
    points.chunks(batch.max(1)).map(move |chunk| UpsertPoints {
        collection_name: collection.to_string(),
        wait: Some(true),
        points: chunk.iter().map(to_point).collect(),
        ..Default::default()
    })
}

fn delete_request(collection: &str, filter: Filter) -> DeletePoints {
    DeletePoints {
        collection_name: collection.to_string(),
        wait: Some(true),
        points: Some(PointsSelector::from(filter)),
        ..Default::default()
    }
}

fn query_request(collection: &str, query: &[f32], k: usize, filter: &VectorFilter) -> QueryPoints {
    QueryPoints {
        collection_name: collection.to_string(),
        query: Some(Query::from(query.to_vec())),
        using: Some(VECTOR.to_string()),
        filter: to_filter(filter),
        limit: Some(k as u64),
        with_payload: Some(vec![CHUNK_ID, DOC_ID].into()),
        ..Default::default()
    }
}

/// A field matching any of some integers.
fn integers(field: &str, values: Vec<i64>) -> Condition {
    Condition::matches(field, MatchValue::Integers(RepeatedIntegers { integers: values }))
}

/// A field matching any of some keywords (always exact matches, whatever the strings hold).
fn keywords(field: &str, values: Vec<String>) -> Condition {
    Condition::matches(field, MatchValue::Keywords(RepeatedStrings { strings: values }))
}

/// The server filter for a [`VectorFilter`]; `None` when it keeps everything.
fn to_filter(f: &VectorFilter) -> Option<Filter> {
    let mut must = Vec::new();
    if !f.kinds.is_empty() {
        must.push(keywords(KIND, f.kinds.clone()));
    }
    if !f.tags.is_empty() {
        must.push(keywords(TAGS, f.tags.clone()));
    }
    if !f.doc_ids.is_empty() {
        must.push(integers(DOC_ID, f.doc_ids.clone()));
    }
    if f.date_from.is_some() || f.date_to.is_some() {
        // Seconds fit an f64 exactly for any date within ±285 million years.
        let range = Range {
            gte: f.date_from.map(|t| t as f64),
            lte: f.date_to.map(|t| t as f64),
            ..Default::default()
        };
        must.push(Condition::range(PUBLISHED, range));
    }
    if let Some(lang) = &f.lang {
        must.push(Condition::matches(LANG, MatchValue::Keyword(lang.clone())));
    }
    (!must.is_empty()).then(|| Filter::must(must))
}

#[cfg(test)]
mod tests {
    use super::*;
    use qdrant_client::qdrant::condition::ConditionOneOf;
    use qdrant_client::qdrant::points_selector::PointsSelectorOneOf;
    use qdrant_client::qdrant::vectors::VectorsOptions;
    use tonic::Status;

    fn point(chunk_id: i64, doc_id: i64, ordinal: i64) -> VectorPoint {
        VectorPoint {
            chunk_id,
            doc_id,
            ordinal,
            vector: vec![1.0, 0.0, 0.5],
            kind: "pdf".into(),
            tags: vec!["machine learning".into(), "cs".into()],
            published: Some(1_500_000_000),
            added: 1_700_000_000,
            lang: None,
        }
    }

    /// The field condition of a filter's only `must` condition.
    fn single(filter: VectorFilter) -> qdrant_client::qdrant::FieldCondition {
        let f = to_filter(&filter).expect("a filter");
        assert!(f.should.is_empty() && f.must_not.is_empty() && f.min_should.is_none());
        assert_eq!(f.must.len(), 1, "{f:?}");
        match f.must.into_iter().next().and_then(|c| c.condition_one_of) {
            Some(ConditionOneOf::Field(field)) => field,
            other => panic!("not a field condition: {other:?}"),
        }
    }

    fn match_of(c: &qdrant_client::qdrant::FieldCondition) -> MatchValue {
        c.r#match.clone().and_then(|m| m.match_value).expect("a match")
    }

    #[test]
    fn empty_filter_is_no_filter() {
        assert_eq!(to_filter(&VectorFilter::default()), None);
    }

    #[test]
    fn each_filter_field_becomes_its_condition() {
        let c = single(VectorFilter { kinds: vec!["pdf".into(), "html".into()], ..Default::default() });
        assert_eq!(c.key, KIND);
        assert_eq!(
            match_of(&c),
            MatchValue::Keywords(RepeatedStrings { strings: vec!["pdf".into(), "html".into()] })
        );

        // A tag with a space is still an exact keyword, not a full-text match.
        let c = single(VectorFilter { tags: vec!["machine learning".into()], ..Default::default() });
        assert_eq!(c.key, TAGS);
        assert_eq!(
            match_of(&c),
            MatchValue::Keywords(RepeatedStrings { strings: vec!["machine learning".into()] })
        );

        let c = single(VectorFilter { doc_ids: vec![3, 9], ..Default::default() });
        assert_eq!(c.key, DOC_ID);
        assert_eq!(match_of(&c), MatchValue::Integers(RepeatedIntegers { integers: vec![3, 9] }));

        let c = single(VectorFilter { lang: Some("de".into()), ..Default::default() });
        assert_eq!(c.key, LANG);
        assert_eq!(match_of(&c), MatchValue::Keyword("de".into()));

        let c = single(VectorFilter { date_from: Some(100), ..Default::default() });
        assert_eq!(c.key, PUBLISHED);
        assert_eq!(c.range, Some(Range { gte: Some(100.0), ..Default::default() }));
        let c = single(VectorFilter { date_to: Some(200), ..Default::default() });
        assert_eq!(c.range, Some(Range { lte: Some(200.0), ..Default::default() }));
        let c = single(VectorFilter { date_from: Some(100), date_to: Some(200), ..Default::default() });
        assert_eq!(c.range, Some(Range { gte: Some(100.0), lte: Some(200.0), ..Default::default() }));
    }

    #[test]
    fn filter_fields_combine_with_and() {
        let f = VectorFilter {
            kinds: vec!["pdf".into()],
            tags: vec!["cs".into()],
            doc_ids: vec![1],
            date_from: Some(0),
            date_to: Some(10),
            lang: Some("en".into()),
        };
        let filter = to_filter(&f).unwrap();
        assert_eq!(filter.must.len(), 5);
        assert!(filter.should.is_empty());
        let keys: Vec<String> = filter
            .must
            .iter()
            .map(|c| match &c.condition_one_of {
                Some(ConditionOneOf::Field(field)) => field.key.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(keys, vec![KIND, TAGS, DOC_ID, PUBLISHED, LANG]);
    }

    #[test]
    fn payload_holds_every_field_with_its_type() {
        let mut p = point(11, 2, 3);
        let payload = payload(&p);
        let mut keys: Vec<&str> = payload.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut fields = crate::vector::schema::FIELDS.to_vec();
        fields.sort_unstable();
        assert_eq!(keys, fields);
        assert_eq!(payload[CHUNK_ID].as_integer(), Some(11));
        assert_eq!(payload[DOC_ID].as_integer(), Some(2));
        assert_eq!(payload[ORDINAL].as_integer(), Some(3));
        assert_eq!(payload[KIND].as_str().map(String::as_str), Some("pdf"));
        let tags: Vec<&str> =
            payload[TAGS].as_list().unwrap().iter().filter_map(|v| v.as_str()).map(String::as_str).collect();
        assert_eq!(tags, vec!["machine learning", "cs"]);
        assert_eq!(payload[PUBLISHED].as_integer(), Some(1_500_000_000));
        assert_eq!(payload[ADDED].as_integer(), Some(1_700_000_000));
        assert!(payload[LANG].is_null());
        p.published = None;
        p.lang = Some("en".into());
        let payload = super::payload(&p);
        assert!(payload[PUBLISHED].is_null());
        assert_eq!(payload[LANG].as_str().map(String::as_str), Some("en"));
    }

    #[test]
    fn points_are_keyed_by_document_and_ordinal_with_the_named_vector() {
        let p = point(11, 2, 3);
        let s = to_point(&p);
        assert_eq!(s.id, Some(PointId::from(point_uuid(2, 3).to_string())));
        match s.vectors.and_then(|v| v.vectors_options) {
            Some(VectorsOptions::Vectors(named)) => {
                assert_eq!(named.vectors.len(), 1);
                let v = &named.vectors[VECTOR];
                #[allow(deprecated)]
                let data = match &v.vector {
                    Some(qdrant_client::qdrant::vector::Vector::Dense(d)) => d.data.clone(),
                    _ => v.data.clone(),
                };
                assert_eq!(data, p.vector);
            }
            other => panic!("not named vectors: {other:?}"),
        }
    }

    #[test]
    fn upserts_are_split_into_waiting_batches() {
        let points: Vec<VectorPoint> = (0..600).map(|i| point(i, i / 10, i % 10)).collect();
        let requests: Vec<UpsertPoints> = upsert_requests("c", &points, 256).collect();
        assert_eq!(requests.iter().map(|r| r.points.len()).collect::<Vec<_>>(), vec![256, 256, 88]);
        assert!(requests.iter().all(|r| r.wait == Some(true) && r.collection_name == "c"));
        let ids: Vec<Option<PointId>> =
            requests.iter().flat_map(|r| r.points.iter().map(|p| p.id.clone())).collect();
        let expected: Vec<Option<PointId>> =
            points.iter().map(|p| Some(PointId::from(point_uuid(p.doc_id, p.ordinal).to_string()))).collect();
        assert_eq!(ids, expected);
        assert_eq!(upsert_requests("c", &points[..256], 256).count(), 1);
        assert_eq!(upsert_requests("c", &[], 256).count(), 0);
        // A batch size of zero is taken as one.
        assert_eq!(upsert_requests("c", &points[..3], 0).count(), 3);
    }

    #[test]
    fn deletes_wait_and_select_by_filter() {
        let filter = Filter::must([integers(DOC_ID, vec![4])]);
        let request = delete_request("c", filter.clone());
        assert_eq!(request.wait, Some(true));
        assert_eq!(
            request.points.and_then(|p| p.points_selector_one_of),
            Some(PointsSelectorOneOf::Filter(filter))
        );
    }

    #[test]
    fn searches_use_the_named_vector_and_return_ids_only() {
        let f = VectorFilter { lang: Some("en".into()), ..Default::default() };
        let q = query_request("c", &[0.5, 0.5], 7, &f);
        assert_eq!(q.using.as_deref(), Some(VECTOR));
        assert_eq!(q.limit, Some(7));
        assert_eq!(q.filter, to_filter(&f));
        assert_eq!(q.query, Some(Query::from(vec![0.5, 0.5])));
        assert_eq!(q.with_payload, Some(vec![CHUNK_ID, DOC_ID].into()));
        assert!(q.with_vectors.is_none());
    }

    #[test]
    fn the_collection_has_one_named_cosine_vector() {
        let options = ServerOptions { collection: "c".into(), ..Default::default() };
        let request = create_collection_request(&options, 384);
        assert_eq!(request.collection_name, "c");
        assert_eq!(layout_of(request.vectors_config.as_ref()), Ok(384));
        // Without settings, the server chooses shards and replicas.
        assert_eq!(
            (request.shard_number, request.replication_factor, request.write_consistency_factor),
            (None, None, None)
        );
        match request.vectors_config.and_then(|v| v.config) {
            Some(vectors_config::Config::ParamsMap(map)) => {
                assert_eq!(map.map[VECTOR].distance, Distance::Cosine as i32);
            }
            other => panic!("{other:?}"),
        }
        // A collection with one unnamed vector was not made by lore.
        let unnamed = VectorsConfig {
            config: Some(vectors_config::Config::Params(VectorParams { size: 384, ..Default::default() })),
        };
        assert_eq!(layout_of(Some(&unnamed)), Err("one unnamed vector of 384 dimensions".into()));
        assert_eq!(layout_of(None), Err("no dense vectors".into()));
        // Nor one whose vector has another name or distance.
        let named = |name: &str, distance: Distance| VectorsConfig {
            config: Some(vectors_config::Config::ParamsMap(VectorParamsMap {
                map: HashMap::from([(
                    name.to_string(),
                    VectorParams { size: 384, distance: distance as i32, ..Default::default() },
                )]),
            })),
        };
        assert_eq!(layout_of(Some(&named("text", Distance::Cosine))), Err("vectors named 'text'".into()));
        assert_eq!(
            layout_of(Some(&named(VECTOR, Distance::Dot))),
            Err("'dense' vectors with Dot distance".into())
        );
        assert_eq!(layout_of(Some(&named(VECTOR, Distance::Cosine))), Ok(384));
    }

    #[test]
    fn a_new_collection_gets_the_configured_shards_and_replicas() {
        let options = ServerOptions {
            shards: Some(3),
            replication_factor: Some(2),
            write_consistency_factor: Some(1),
            ..Default::default()
        };
        let request = create_collection_request(&options, 384);
        assert_eq!(request.shard_number, Some(3));
        assert_eq!(request.replication_factor, Some(2));
        assert_eq!(request.write_consistency_factor, Some(1));
    }

    #[test]
    fn transient_statuses_are_retried_and_others_are_not() {
        for code in [Code::Unavailable, Code::DeadlineExceeded, Code::ResourceExhausted, Code::Aborted] {
            assert!(is_transient_status(code, ""), "{code:?}");
            assert!(is_transient(&QdrantError::from(Status::new(code, "x"))), "{code:?}");
        }
        for code in [
            Code::InvalidArgument,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::FailedPrecondition,
            Code::Unimplemented,
            Code::Unknown,
            Code::DataLoss,
        ] {
            assert!(!is_transient_status(code, "x"), "{code:?}");
        }
        assert!(is_transient_status(Code::Internal, "Failed to connect to http://x:1/: refused"));
        assert!(!is_transient_status(Code::Internal, "segment is broken"));
        assert!(is_transient_status(Code::Cancelled, "Timeout expired"));
        // A connection that broke under a request (the server was killed).
        assert!(is_transient_status(Code::Unknown, "transport error"));
        assert!(!is_transient_status(Code::Cancelled, "cancelled by the caller"));
        assert!(!is_transient(&QdrantError::ConversionError("x".into())));
    }

    #[test]
    fn a_server_asking_to_wait_is_heard_within_bounds() {
        let mut status = Status::resource_exhausted("slow down");
        status.metadata_mut().insert("retry-after", "3".parse().unwrap());
        let error = QdrantError::from(status);
        assert_eq!(retry_after(&error), Some(Duration::from_secs(3)));
        let mut status = Status::resource_exhausted("slow down");
        status.metadata_mut().insert("retry-after", "86400".parse().unwrap());
        assert_eq!(retry_after(&QdrantError::from(status)), Some(RETRY.max_retry_after));
        assert_eq!(retry_after(&QdrantError::from(Status::unavailable("x"))), None);
    }

    #[test]
    fn backoff_doubles_within_bounds() {
        let (base, max) = (RETRY.base_delay, RETRY.max_delay);
        assert_eq!((base, max), (Duration::from_millis(100), Duration::from_secs(5)));
        for attempt in 1..40 {
            let ceiling = base.saturating_mul(1 << (attempt - 1).min(16)).min(max);
            for jitter in [0.0, 0.25, 0.5, 0.999_999] {
                let d = RETRY.backoff_with(attempt, jitter);
                assert!(d <= ceiling && d >= ceiling / 2, "attempt {attempt} jitter {jitter}: {d:?}");
                assert!(d >= base / 2 && d <= max);
            }
        }
        assert_eq!(RETRY.backoff_with(1, 0.0), base);
        assert_eq!(RETRY.backoff_with(2, 0.0), base * 2);
        assert_eq!(RETRY.backoff_with(100, 0.0), max);
        // Out-of-range jitter is clamped.
        assert_eq!(RETRY.backoff_with(1, 7.0), base / 2);
        let samples: std::collections::HashSet<_> = (0..100).map(|_| RETRY.backoff(4)).collect();
        assert!(samples.len() > 1, "jitter is not random");
    }

    #[test]
    fn retries_stop_on_success_on_a_lasting_error_and_after_the_limit() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let calls = std::cell::Cell::new(0u32);
        // Two transient failures, then success.
        let result = runtime.block_on(with_retries(4, || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { if n < 3 { Err(QdrantError::from(Status::unavailable("down"))) } else { Ok(n) } }
        }));
        assert_eq!(result.unwrap(), 3);
        // A lasting error is not retried.
        calls.set(0);
        let result: Result<(), Failure> = runtime.block_on(with_retries(4, || {
            calls.set(calls.get() + 1);
            async { Err(QdrantError::from(Status::invalid_argument("bad dimension"))) }
        }));
        assert_eq!(result.unwrap_err().attempts, 1);
        assert_eq!(calls.get(), 1);
        // A transient error is retried `retries` times, then reported.
        calls.set(0);
        let result: Result<(), Failure> = runtime.block_on(with_retries(2, || {
            calls.set(calls.get() + 1);
            async { Err(QdrantError::from(Status::aborted("conflict"))) }
        }));
        let failure = result.unwrap_err();
        assert_eq!((failure.attempts, calls.get()), (3, 3));
        assert_eq!(code_of(&failure.error), Some(Code::Aborted));
    }

    #[test]
    fn debug_output_and_errors_hide_the_api_key() {
        let options = ServerOptions {
            url: "https://user:pw-5ecret@qdrant.example:6334".into(),
            api_key: Some("s3cret-key-value".into()),
            ..Default::default()
        };
        let shown = format!("{options:?}");
        assert!(!shown.contains("s3cret-key-value"), "{shown}");
        assert!(!shown.contains("pw-5ecret"), "{shown}");
        assert!(shown.contains(HIDDEN) && shown.contains("qdrant.example:6334"), "{shown}");
        assert_eq!(
            scrub("Unauthenticated: bad key s3cret-key-value", &options),
            "Unauthenticated: bad key <hidden>"
        );
        // The server's password, in a URL of a transport error or alone, is hidden too.
        assert_eq!(
            scrub(
                "error trying to connect to https://user:pw-5ecret@qdrant.example:6334 (pw-5ecret)",
                &options
            ),
            "error trying to connect to https://<hidden>@qdrant.example:6334 (<hidden>)"
        );
        let connection = Connection::new(&options).unwrap();
        let error = connection.error(
            "writing points",
            &Failure {
                error: QdrantError::from(Status::unauthenticated("key s3cret-key-value is wrong")),
                attempts: 1,
            },
        );
        let text = error.to_string();
        assert!(!text.contains("s3cret-key-value") && text.contains("check the API key"), "{text}");
        let store_debug = format!("{:?}", connection.options);
        assert!(!store_debug.contains("s3cret"), "{store_debug}");
    }

    #[test]
    fn bad_urls_and_names_are_refused_before_connecting() {
        for url in ["localhost:6334", "grpc://host:6334", ""] {
            let options = ServerOptions { url: url.into(), ..Default::default() };
            let err = ServerStore::open(&options, 3).unwrap_err();
            assert!(err.to_string().contains("http:// or https://"), "{url}: {err}");
        }
        let options = ServerOptions { collection: " ".into(), ..Default::default() };
        assert!(ServerStore::open(&options, 3).unwrap_err().to_string().contains("collection"));
        assert!(matches!(
            ServerStore::open(&ServerOptions::default(), 0),
            Err(VectorError::BadVector { .. })
        ));
    }

    /// A port on this machine that nothing listens on.
    fn unused_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    /// Opens a store in a thread; the answer must come well before `limit` (no hang).
    fn open_with_limit(options: ServerOptions, limit: Duration) -> Result<ServerStore, VectorError> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(ServerStore::open(&options, 3));
        });
        rx.recv_timeout(limit).expect("opening a store on a closed port hung")
    }

    #[test]
    fn a_refused_connection_is_a_clear_error_not_a_hang() {
        for scheme in ["http", "https"] {
            let options = ServerOptions {
                url: format!("{scheme}://127.0.0.1:{}", unused_port()),
                api_key: Some("k3y-that-must-not-show".into()),
                timeout: Duration::from_secs(2),
                retries: 2,
                ..Default::default()
            };
            let err = open_with_limit(options, Duration::from_secs(60)).unwrap_err();
            let text = err.to_string();
            eprintln!("{text}");
            assert!(matches!(err, VectorError::Server { .. }), "{text}");
            assert!(text.contains("127.0.0.1"), "{text}");
            assert!(text.contains("connection refused"), "{text}");
            assert!(text.contains("tried 3 times"), "{text}");
            assert!(!text.contains("k3y-that-must-not-show"), "{text}");
        }
    }

    #[test]
    fn a_server_that_never_answers_is_a_clear_error_not_a_hang() {
        // Accepts connections and keeps them open without a word, for at most a minute.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            let mut held = Vec::new();
            while start.elapsed() < Duration::from_secs(60) {
                match listener.accept() {
                    Ok((socket, _)) => held.push(socket),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        let options = ServerOptions {
            url: format!("http://127.0.0.1:{port}"),
            timeout: Duration::from_secs(1),
            retries: 1,
            ..Default::default()
        };
        let err = open_with_limit(options, Duration::from_secs(50)).unwrap_err();
        let text = err.to_string();
        eprintln!("{text}");
        assert!(matches!(err, VectorError::Server { .. }), "{text}");
        assert!(text.contains("time limit"), "{text}");
        assert!(text.contains("tried 2 times"), "{text}");
    }

    #[test]
    fn a_node_of_a_cluster_that_cannot_reach_another_is_told_apart_from_this_connection() {
        // As Qdrant 1.18's node answers a delete while another node holding a replica is down.
        let from_node = "Service internal error: 2 out of 3 shards failed to apply operation. First error \
            captured: Service internal error: Tonic status error: code: 'The service is currently unavailable', \
            message: \"Failed to connect to http://127.0.0.1:7441/, error: transport error\"";
        assert_eq!(
            unreachable_node(from_node).as_deref(),
            Some(
                "a node of the cluster could not reach another node (http://127.0.0.1:7441/): \
                 2 out of 3 shards failed to apply the operation"
            )
        );
        let refused = format!("{from_node} Connection refused (os error 111)");
        let options = ServerOptions { url: "http://127.0.0.1:7434".into(), ..Default::default() };
        let connection = Connection::new(&options).unwrap();
        for message in [from_node.to_string(), refused] {
            let failure = Failure { error: QdrantError::from(Status::internal(message)), attempts: 1 };
            let text = connection.error(DELETING, &failure).to_string();
            assert!(!text.contains("cannot connect"), "{text}");
            assert!(text.contains("could not reach another node (http://127.0.0.1:7441/)"), "{text}");
            assert!(
                text.contains("write_consistency_factor") && text.contains("once the node is back"),
                "{text}"
            );
            assert_eq!(text.lines().count(), 1, "{text}");
            // A search is not a write: no word of write consistency.
            let text = connection.error("searching", &failure).to_string();
            assert!(text.contains("could not reach another node") && !text.contains("write_"), "{text}");
        }
        // The client's own failure to connect stays what it was.
        let own = "Failed to connect to http://127.0.0.1:7434/: Connection refused (os error 111)";
        assert_eq!(unreachable_node(own), None);
        let failure = Failure { error: QdrantError::from(Status::internal(own)), attempts: 3 };
        let text = connection.error(WRITING, &failure).to_string();
        assert!(text.contains("cannot connect: connection refused (tried 3 times)"), "{text}");
        assert_eq!(unreachable_node("Service internal error: segment is broken"), None);
        // A node's answer naming no address still tells a peer's failure from this connection.
        let unnamed = "Service internal error: 1 out of 3 shards failed to apply operation. First error \
            captured: Service internal error: transport error: Connection refused (os error 111)";
        assert_eq!(
            unreachable_node(unnamed).as_deref(),
            Some(
                "a node of the cluster could not reach another node: 1 out of 3 shards failed to apply the operation"
            )
        );
        let failure = Failure { error: QdrantError::from(Status::internal(unnamed)), attempts: 1 };
        let text = connection.error(DELETING, &failure).to_string();
        assert!(!text.contains("cannot connect") && text.contains("once the node is back"), "{text}");
    }

    #[test]
    fn the_rest_port_gets_a_hint() {
        let options = ServerOptions { url: "http://127.0.0.1:6333".into(), ..Default::default() };
        let connection = Connection::new(&options).unwrap();
        let failure = Failure { error: QdrantError::from(Status::unknown("h2 protocol error")), attempts: 1 };
        let text = connection.error("searching", &failure).to_string();
        assert!(text.contains("REST port") && text.contains("6334"), "{text}");
        let options = ServerOptions { url: "http://127.0.0.1:6334".into(), ..Default::default() };
        let text = Connection::new(&options).unwrap().error("searching", &failure).to_string();
        assert!(!text.contains("REST port"), "{text}");
    }

    #[test]
    fn a_store_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<ServerStore>();
    }
}

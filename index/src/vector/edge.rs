//! [`VectorStore`] on qdrant-edge: Qdrant's engine embedded in the process, stored in a directory.
//!
//! One handle per directory: the engine's write-ahead log takes a file lock, so a second open (in
//! this process or another) fails with [`VectorError::Locked`]. Within a handle, searches run
//! alongside writes; writes, [`flush`](VectorStore::flush) and [`optimize`](VectorStore::optimize)
//! are serialised as the engine requires (its flush must not overlap an update or an optimisation).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};

use qdrant_edge::external::serde_json::{Value, json};
use qdrant_edge::{
    Condition, CountRequest, CreateIndex, Distance, EdgeConfig, EdgeShard, EdgeVectorParamsBuilder,
    FieldCondition, FieldIndexOperations, Filter, HnswIndexConfig, JsonPath, Match, NamedQuery,
    OperationError, PayloadFieldSchema, PayloadSchemaType, PointId, PointInsertOperations, PointOperations,
    PointStruct, PointStructPersisted, QueryEnum, QueryRequest, Range, ScoringQuery, ScrollRequest,
    UpdateOperation, Vector, VectorInternal, Vectors, WithPayloadInterface, WithVector,
};

use super::{VectorError, VectorFilter, VectorHit, VectorPoint, VectorStore, point_uuid};

/// Name of the dense vector in the collection.
const VECTOR: &str = "dense";
/// Payload fields.
const CHUNK_ID: &str = "chunk_id";
const DOC_ID: &str = "doc_id";
const ORDINAL: &str = "ordinal";
const KIND: &str = "kind";
const TAGS: &str = "tags";
const PUBLISHED: &str = "published";
const ADDED: &str = "added";
const LANG: &str = "lang";
/// Indexed payload fields and their index types.
const INDEXES: [(&str, PayloadSchemaType); 7] = [
    (CHUNK_ID, PayloadSchemaType::Integer),
    (DOC_ID, PayloadSchemaType::Integer),
    (KIND, PayloadSchemaType::Keyword),
    (TAGS, PayloadSchemaType::Keyword),
    (PUBLISHED, PayloadSchemaType::Integer),
    (ADDED, PayloadSchemaType::Integer),
    (LANG, PayloadSchemaType::Keyword),
];
/// Points per engine update: keeps each write-ahead-log record well below a log segment.
const UPSERT_BATCH: usize = 256;
/// Ids per delete-by-filter and per scroll page.
const ID_BATCH: usize = 1024;
/// The engine's configuration file, present once a store has been created.
const CONFIG_FILE: &str = "edge_config.json";

/// Tuning of an [`EdgeStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeOptions {
    /// Threads [`optimize`](VectorStore::optimize) may use to build the HNSW index.
    pub indexing_threads: usize,
}

impl Default for EdgeOptions {
    /// Half the cores, at least one, so that an optimisation leaves room for the rest of lore.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        EdgeOptions { indexing_threads: (cores / 2).max(1) }
    }
}

/// The qdrant-edge vector store. See the module docs for its concurrency rules.
pub struct EdgeStore {
    path: PathBuf,
    options: EdgeOptions,
    /// `None` only after a failed [`VectorStore::recreate`].
    shard: RwLock<Option<Open>>,
    /// Held by updates and flushes.
    writes: Mutex<()>,
    /// Held by optimisations and flushes.
    optimizing: Mutex<()>,
}

struct Open {
    shard: EdgeShard,
    dim: usize,
}

impl std::fmt::Debug for EdgeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeStore").field("path", &self.path).field("options", &self.options).finish()
    }
}

impl EdgeStore {
    /// Opens the store in `path`, creating it (and the directory) for vectors of dimension `dim`
    /// when there is none. An existing store of another dimension is
    /// [`VectorError::DimensionMismatch`]; one open elsewhere is [`VectorError::Locked`].
    pub fn open(path: &Path, dim: usize, options: EdgeOptions) -> Result<EdgeStore, VectorError> {
        if dim == 0 {
            return Err(VectorError::BadVector { expected: 1, got: 0 });
        }
        let open = if exists(path) {
            let shard = load(path)?;
            let stored = stored_dim(&shard)?;
            if stored != dim {
                return Err(VectorError::DimensionMismatch { stored, wanted: dim });
            }
            Open { shard, dim }
        } else {
            create(path, dim, &options)?
        };
        Ok(EdgeStore {
            path: path.to_path_buf(),
            options,
            shard: RwLock::new(Some(open)),
            writes: Mutex::new(()),
            optimizing: Mutex::new(()),
        })
    }

    /// True when `path` holds a store.
    pub fn exists(path: &Path) -> bool {
        exists(path)
    }

    /// Deletes the store in `path` (nothing if there is none). It must not be open.
    pub fn remove(path: &Path) -> Result<(), VectorError> {
        match std::fs::remove_dir_all(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(VectorError::Io { path: path.to_path_buf(), source: e }),
        }
    }

    /// Copies the store in `src` into `dest` (which must not exist) and opens the copy: a
    /// point-in-time view for a reader while a writer holds `src`. Call it between the writer's
    /// flushes; a copy taken during a write may miss that write or fail to open.
    pub fn open_copy(src: &Path, dest: &Path, options: EdgeOptions) -> Result<EdgeStore, VectorError> {
        if !exists(src) {
            return Err(VectorError::Engine(format!("no vector store in {}", src.display())));
        }
        copy_dir(src, dest, &[Path::new("wal")])?;
        let shard = load(dest)?;
        let dim = stored_dim(&shard)?;
        Ok(EdgeStore {
            path: dest.to_path_buf(),
            options,
            shard: RwLock::new(Some(Open { shard, dim })),
            writes: Mutex::new(()),
            optimizing: Mutex::new(()),
        })
    }

    /// The store directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of HNSW-indexed vectors (equal to [`VectorStore::count`] after an optimisation).
    pub fn indexed_count(&self) -> Result<u64, VectorError> {
        let guard = self.read()?;
        Ok(open(&guard)?.shard.info().indexed_vectors_count as u64)
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Option<Open>>, VectorError> {
        Ok(self.shard.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn update(&self, operation: UpdateOperation) -> Result<(), VectorError> {
        let _writes = lock(&self.writes);
        let guard = self.read()?;
        open(&guard)?.shard.update(operation).map_err(engine)
    }
}

impl Drop for EdgeStore {
    fn drop(&mut self) {
        // The engine flushes when dropped; make sure no flush panic escapes a drop.
        if let Some(open) = self.shard.get_mut().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(open)));
        }
    }
}

impl VectorStore for EdgeStore {
    fn backend(&self) -> &'static str {
        "qdrant-edge"
    }

    fn dim(&self) -> usize {
        self.read().ok().and_then(|g| g.as_ref().map(|o| o.dim)).unwrap_or(0)
    }

    fn upsert(&self, points: &[VectorPoint]) -> Result<(), VectorError> {
        let dim = self.dim();
        if let Some(bad) = points.iter().find(|p| p.vector.len() != dim) {
            return Err(VectorError::BadVector { expected: dim, got: bad.vector.len() });
        }
        for batch in points.chunks(UPSERT_BATCH) {
            let list: Vec<PointStructPersisted> = batch.iter().map(to_point).collect();
            self.update(UpdateOperation::PointOperation(PointOperations::UpsertPoints(
                PointInsertOperations::PointsList(list),
            )))?;
        }
        Ok(())
    }

    fn delete_doc(&self, doc_id: i64) -> Result<(), VectorError> {
        let filter = Filter::new_must(field_match(DOC_ID, Match::from(doc_id))?);
        self.update(UpdateOperation::PointOperation(PointOperations::DeletePointsByFilter(filter)))
    }

    fn delete_points(&self, chunk_ids: &[i64]) -> Result<(), VectorError> {
        for batch in chunk_ids.chunks(ID_BATCH) {
            let filter = Filter::new_must(field_match(CHUNK_ID, Match::from(batch.to_vec()))?);
            self.update(UpdateOperation::PointOperation(PointOperations::DeletePointsByFilter(filter)))?;
        }
        Ok(())
    }

    fn search(&self, query: &[f32], k: usize, filter: &VectorFilter) -> Result<Vec<VectorHit>, VectorError> {
        let guard = self.read()?;
        let open = open(&guard)?;
        if query.len() != open.dim {
            return Err(VectorError::BadVector { expected: open.dim, got: query.len() });
        }
        if k == 0 {
            return Ok(Vec::new());
        }
        let request = QueryRequest {
            prefetches: Vec::new(),
            query: Some(ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery::new(
                VectorInternal::Dense(query.to_vec()),
                VECTOR,
            )))),
            filter: to_filter(filter)?,
            score_threshold: None,
            limit: k,
            offset: 0,
            params: None,
            with_vector: WithVector::Bool(false),
            with_payload: WithPayloadInterface::Fields(vec![path(CHUNK_ID)?, path(DOC_ID)?]),
        };
        let points = open.shard.query(request).map_err(engine)?;
        points
            .into_iter()
            .map(|p| {
                let payload = p.payload.as_ref().map(|pl| &pl.0);
                let chunk_id = payload.and_then(|pl| pl.get(CHUNK_ID)).and_then(Value::as_i64);
                let doc_id = payload.and_then(|pl| pl.get(DOC_ID)).and_then(Value::as_i64);
                match (chunk_id, doc_id) {
                    (Some(chunk_id), Some(doc_id)) => Ok(VectorHit { chunk_id, doc_id, score: p.score }),
                    _ => Err(VectorError::Engine(format!("point {} has no chunk id in its payload", p.id))),
                }
            })
            .collect()
    }

    fn count(&self) -> Result<u64, VectorError> {
        let guard = self.read()?;
        let n = open(&guard)?.shard.count(CountRequest { filter: None, exact: true }).map_err(engine)?;
        Ok(n as u64)
    }

    fn all_ids(&self) -> Result<Vec<i64>, VectorError> {
        let guard = self.read()?;
        let shard = &open(&guard)?.shard;
        let mut ids = Vec::new();
        let mut offset: Option<PointId> = None;
        loop {
            let request = ScrollRequest {
                offset,
                limit: Some(ID_BATCH),
                filter: None,
                with_payload: Some(WithPayloadInterface::Fields(vec![path(CHUNK_ID)?])),
                with_vector: WithVector::Bool(false),
                order_by: None,
            };
            let (records, next) = shard.scroll(request).map_err(engine)?;
            for record in &records {
                let id = record.payload.as_ref().and_then(|pl| pl.0.get(CHUNK_ID)).and_then(Value::as_i64);
                match id {
                    Some(id) => ids.push(id),
                    None => {
                        return Err(VectorError::Engine(format!(
                            "point {} has no chunk id in its payload",
                            record.id
                        )));
                    }
                }
            }
            match next {
                Some(next) => offset = Some(next),
                None => break,
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    fn flush(&self) -> Result<(), VectorError> {
        let _writes = lock(&self.writes);
        let _optimizing = lock(&self.optimizing);
        let guard = self.read()?;
        let shard = &open(&guard)?.shard;
        // The engine's flush panics instead of returning errors; the locks above rule out the
        // contention it panics on, and this turns anything else into an error.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shard.flush()))
            .map_err(|_| VectorError::Engine("flush failed (see the engine's panic message)".into()))
    }

    fn optimize(&self) -> Result<(), VectorError> {
        let _optimizing = lock(&self.optimizing);
        let guard = self.read()?;
        open(&guard)?.shard.optimize().map_err(engine)?;
        Ok(())
    }

    fn recreate(&self, dim: usize) -> Result<(), VectorError> {
        if dim == 0 {
            return Err(VectorError::BadVector { expected: 1, got: 0 });
        }
        let _writes = lock(&self.writes);
        let _optimizing = lock(&self.optimizing);
        let mut guard = self.shard.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = guard.take() {
            // Closing releases the write-ahead-log lock before the files go.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(old)));
        }
        EdgeStore::remove(&self.path)?;
        *guard = Some(create(&self.path, dim, &self.options)?);
        Ok(())
    }
}

fn lock(mutex: &Mutex<()>) -> MutexGuard<'_, ()> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn open<'a>(guard: &'a RwLockReadGuard<'_, Option<Open>>) -> Result<&'a Open, VectorError> {
    guard.as_ref().ok_or_else(|| VectorError::Engine("vector store is closed after a failed recreate".into()))
}

fn exists(path: &Path) -> bool {
    path.join(CONFIG_FILE).is_file()
        || std::fs::read_dir(path.join("segments")).is_ok_and(|mut entries| entries.next().is_some())
}

fn create(path: &Path, dim: usize, options: &EdgeOptions) -> Result<Open, VectorError> {
    std::fs::create_dir_all(path).map_err(|e| VectorError::Io { path: path.to_path_buf(), source: e })?;
    let hnsw =
        HnswIndexConfig { max_indexing_threads: options.indexing_threads.max(1), ..Default::default() };
    let config = EdgeConfig::builder()
        .vector(VECTOR, EdgeVectorParamsBuilder::new(dim, Distance::Cosine).build())
        .hnsw_config(hnsw)
        .build();
    let shard = EdgeShard::new(path, config).map_err(|e| open_error(path, e))?;
    for (field, schema) in INDEXES {
        shard
            .update(UpdateOperation::FieldIndexOperation(FieldIndexOperations::CreateIndex(CreateIndex {
                field_name: self::path(field)?,
                field_schema: Some(PayloadFieldSchema::FieldType(schema)),
            })))
            .map_err(engine)?;
    }
    Ok(Open { shard, dim })
}

fn load(path: &Path) -> Result<EdgeShard, VectorError> {
    EdgeShard::load(path, None).map_err(|e| open_error(path, e))
}

fn open_error(path: &Path, e: OperationError) -> VectorError {
    let text = e.to_string();
    if text.contains("WouldBlock") { VectorError::Locked { path: path.to_path_buf() } } else { engine(e) }
}

fn stored_dim(shard: &EdgeShard) -> Result<usize, VectorError> {
    shard
        .config()
        .vectors
        .get(VECTOR)
        .map(|v| v.size)
        .ok_or_else(|| VectorError::Engine(format!("store has no '{VECTOR}' vector")))
}

fn engine(e: OperationError) -> VectorError {
    VectorError::Engine(e.to_string().replace('\n', " "))
}

fn path(field: &str) -> Result<JsonPath, VectorError> {
    field.parse().map_err(|()| VectorError::Engine(format!("bad payload field name '{field}'")))
}

fn field_match(field: &str, value: Match) -> Result<Condition, VectorError> {
    Ok(Condition::Field(FieldCondition::new_match(path(field)?, value)))
}

fn to_point(p: &VectorPoint) -> PointStructPersisted {
    let payload = json!({
        CHUNK_ID: p.chunk_id,
        DOC_ID: p.doc_id,
        ORDINAL: p.ordinal,
        KIND: p.kind,
        TAGS: p.tags,
        PUBLISHED: p.published,
        ADDED: p.added,
        LANG: p.lang,
    });
    let vectors = Vectors::new_named([(VECTOR, Vector::new_dense(p.vector.clone()))]);
    PointStruct::new(PointId::Uuid(point_uuid(p.doc_id, p.ordinal)), vectors, payload).into()
}

/// The engine filter for a [`VectorFilter`]; `None` when it keeps everything.
fn to_filter(f: &VectorFilter) -> Result<Option<Filter>, VectorError> {
    let mut must = Vec::new();
    if !f.kinds.is_empty() {
        must.push(field_match(KIND, Match::from(f.kinds.clone()))?);
    }
    if !f.tags.is_empty() {
        must.push(field_match(TAGS, Match::from(f.tags.clone()))?);
    }
    if !f.doc_ids.is_empty() {
        must.push(field_match(DOC_ID, Match::from(f.doc_ids.clone()))?);
    }
    if f.date_from.is_some() || f.date_to.is_some() {
        // Seconds fit an f64 exactly for any date within ±285 million years.
        let range = Range {
            gte: f.date_from.map(|t| (t as f64).into()),
            lte: f.date_to.map(|t| (t as f64).into()),
            lt: None,
            gt: None,
        };
        must.push(Condition::Field(FieldCondition::new_range(path(PUBLISHED)?, range)));
    }
    if let Some(lang) = &f.lang {
        must.push(field_match(LANG, Match::from(lang.clone()))?);
    }
    Ok((!must.is_empty()).then(|| Filter { must: Some(must), ..Filter::new() }))
}

/// Copies a directory tree, leaving out the top-level entries in `skip`.
fn copy_dir(src: &Path, dest: &Path, skip: &[&Path]) -> Result<(), VectorError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| VectorError::Io { path, source }
    };
    if dest.exists() {
        return Err(VectorError::Io {
            path: dest.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "destination exists"),
        });
    }
    std::fs::create_dir_all(dest).map_err(io(dest))?;
    for entry in std::fs::read_dir(src).map_err(io(src))? {
        let entry = entry.map_err(io(src))?;
        let name = entry.file_name();
        if skip.iter().any(|s| s.as_os_str() == name) {
            continue;
        }
        let from = entry.path();
        let to = dest.join(&name);
        let kind = entry.file_type().map_err(io(&from))?;
        if kind.is_dir() {
            copy_dir(&from, &to, &[])?;
        } else if kind.is_file() {
            std::fs::copy(&from, &to).map_err(io(&from))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_filter_is_no_filter() {
        assert!(to_filter(&VectorFilter::default()).unwrap().is_none());
        let f = VectorFilter {
            kinds: vec!["pdf".into()],
            date_from: Some(0),
            lang: Some("en".into()),
            ..Default::default()
        };
        let filter = to_filter(&f).unwrap().unwrap();
        assert_eq!(filter.must.map(|m| m.len()), Some(3));
    }

    #[test]
    fn payload_holds_every_field() {
        let p = VectorPoint {
            chunk_id: 11,
            doc_id: 2,
            ordinal: 3,
            vector: vec![1.0, 0.0],
            kind: "pdf".into(),
            tags: vec!["a".into()],
            published: None,
            added: 1_700_000_000,
            lang: Some("en".into()),
        };
        let point = to_point(&p);
        let payload = point.payload.unwrap();
        assert_eq!(payload.0.get(CHUNK_ID), Some(&json!(11)));
        assert_eq!(payload.0.get(PUBLISHED), Some(&Value::Null));
        assert_eq!(payload.0.get(TAGS), Some(&json!(["a"])));
        assert_eq!(point.id, PointId::Uuid(point_uuid(2, 3)));
    }
}

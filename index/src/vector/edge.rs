//! [`VectorStore`] on qdrant-edge: Qdrant's engine embedded in the process, stored in a directory.
//!
//! Layout: the store directory holds `CURRENT`, naming the generation directory (`g1`, `g2`,
//! ...) that holds the engine's files. [`VectorStore::recreate`] and [`EdgeStore::compact`]
//! build the next generation beside the live one and switch `CURRENT` with an atomic rename, so
//! a crash at any point leaves one complete store; leftovers are removed by the next open.
//!
//! One handle per directory: the engine's write-ahead log takes a file lock, so a second open (in
//! this process or another) fails with [`VectorError::Locked`]. Within a handle, searches run
//! alongside writes; writes, [`flush`](VectorStore::flush) and [`optimize`](VectorStore::optimize)
//! are serialised as the engine requires (its flush must not overlap an update or an optimisation).
//!
//! Durability: a write is on disk after [`flush`](VectorStore::flush) and not before. This engine
//! version (0.7) does not replay its write-ahead log on open, so unflushed writes are lost in a
//! crash, and it never truncates the log either: every open removes the log files the engine
//! left behind (all closed ones but the newest, see `trim_wal`), and [`EdgeStore::compact`]
//! and [`VectorStore::recreate`] start a fresh log.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};

use qdrant_edge::external::serde_json::{Value, json};
use qdrant_edge::{
    Condition, CountRequest, CreateIndex, Distance, EdgeConfig, EdgeOptimizersConfig, EdgeShard,
    EdgeVectorParamsBuilder, FieldCondition, FieldIndexOperations, Filter, HnswIndexConfig, JsonPath, Match,
    NamedQuery, OperationError, PayloadFieldSchema, PayloadSchemaType, PointId, PointInsertOperations,
    PointOperations, PointStruct, PointStructPersisted, QuantizationSearchParams, QueryEnum, QueryRequest,
    Range, ScoringQuery, ScrollRequest, SearchParams, UpdateOperation, Vector, VectorInternal,
    VectorStorageDatatype, VectorStructInternal, VectorStructPersisted, Vectors, WalOptions,
    WithPayloadInterface, WithVector,
};

use super::schema::{
    ADDED, CHUNK_ID, DOC_ID, ID_BATCH, INDEXES, IndexType, KIND, LANG, ORDINAL, PUBLISHED, TAGS,
    UPSERT_BATCH, VECTOR,
};
use super::{VectorError, VectorFilter, VectorHit, VectorPoint, VectorStore, point_uuid};

/// The file naming the live generation.
const CURRENT: &str = "CURRENT";
/// The engine's configuration file, present once a generation has been created.
const CONFIG_FILE: &str = "edge_config.json";
/// The engine's write-ahead-log directory.
const WAL_DIR: &str = "wal";
/// Size of one write-ahead-log file (the engine's default is 32 MiB, allocated up front).
const WAL_SEGMENT_BYTES: usize = 8 * 1024 * 1024;
/// Free space kept in hand below every write. The engine writes its log and storage through
/// memory maps of sparse files: a write into a map when the disk is full kills the process
/// (SIGBUS) instead of failing, so the store refuses to write with less than this free (a new
/// log segment and the pages a write touches in every storage file fit in it).
const MIN_FREE_BYTES: u64 = 32 * 1024 * 1024;
/// In stores of the earlier layout (see [`VECTOR_DATATYPE`]), candidates taken from the
/// one-byte copies of the vectors per result asked for, before they are re-scored with the full
/// vectors (2 found 95.1 % of the exact ten nearest in `dense_quality_on_the_python_faq`, 3 found
/// 97.5 %).
const OVERSAMPLING: f64 = 3.0;
/// Bytes a point may take on disk beyond its vector (payload, log entry, index pages).
const POINT_OVERHEAD_BYTES: u64 = 2048;

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

/// The qdrant-edge vector store. See the module docs for its layout and concurrency rules.
pub struct EdgeStore {
    path: PathBuf,
    options: EdgeOptions,
    /// `None` only after a failed [`VectorStore::recreate`] or [`EdgeStore::compact`].
    shard: RwLock<Option<Open>>,
    /// Held by updates and flushes.
    writes: Mutex<()>,
    /// Held by optimisations and flushes.
    optimizing: Mutex<()>,
}

/// An open generation.
struct Open {
    shard: EdgeShard,
    dim: usize,
    generation: u64,
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
        let open = match current_generation(path)? {
            Some(generation) => {
                let open = load(path, generation)?;
                if open.dim != dim {
                    return Err(VectorError::DimensionMismatch { stored: open.dim, wanted: dim });
                }
                open
            }
            None => {
                let open = create(path, 1, dim, &options)?;
                set_current(path, 1)?;
                open
            }
        };
        // Holding the live generation's lock, nothing else writes here: clear what an
        // interrupted recreate or compaction left.
        remove_other_generations(path, open.generation);
        Ok(EdgeStore::with(path, options, open))
    }

    fn with(path: &Path, options: EdgeOptions, open: Open) -> EdgeStore {
        EdgeStore {
            path: path.to_path_buf(),
            options,
            shard: RwLock::new(Some(open)),
            writes: Mutex::new(()),
            optimizing: Mutex::new(()),
        }
    }

    /// True when `path` holds a store.
    pub fn exists(path: &Path) -> bool {
        current_generation(path).is_ok_and(|g| g.is_some())
    }

    /// Deletes the store in `path` (nothing if there is none). It must not be open.
    pub fn remove(path: &Path) -> Result<(), VectorError> {
        remove_dir(path)
    }

    /// Copies the store in `src` into `dest` (which must not exist) and opens the copy: a
    /// point-in-time view for a reader while a writer holds `src`. It holds what the writer had
    /// flushed; a copy taken during a flush may fail to open (then try again).
    pub fn open_copy(src: &Path, dest: &Path, options: EdgeOptions) -> Result<EdgeStore, VectorError> {
        let generation = current_generation(src)?
            .ok_or_else(|| VectorError::Engine(format!("no vector store in {}", src.display())))?;
        if dest.exists() {
            return Err(VectorError::Io {
                path: dest.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "destination exists"),
            });
        }
        copy_dir(&generation_dir(src, generation), &generation_dir(dest, generation), &[Path::new(WAL_DIR)])?;
        set_current(dest, generation)?;
        let open = load(dest, generation)?;
        Ok(EdgeStore::with(dest, options, open))
    }

    /// The store directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of HNSW-indexed vectors (equal to [`VectorStore::count`] after an optimisation).
    pub fn indexed_count(&self) -> Result<u64, VectorError> {
        let guard = self.read();
        Ok(open(&guard)?.shard.info().indexed_vectors_count as u64)
    }

    /// Bytes of the write-ahead log, which grows with every write until the store is opened
    /// again or [`EdgeStore::compact`]ed.
    pub fn wal_bytes(&self) -> u64 {
        let guard = self.read();
        guard.as_ref().map(|o| dir_size(&generation_dir(&self.path, o.generation).join(WAL_DIR))).unwrap_or(0)
    }

    /// Bytes of the whole store directory.
    pub fn disk_bytes(&self) -> u64 {
        dir_size(&self.path)
    }

    /// Copies every point into a fresh generation with an empty write-ahead log and switches
    /// to it. Writes wait meanwhile; searches wait only for the switch. The HNSW index is not
    /// carried over: run [`optimize`](VectorStore::optimize) afterwards.
    pub fn compact(&self) -> Result<(), VectorError> {
        let _writes = lock(&self.writes);
        let _optimizing = lock(&self.optimizing);
        let (fresh, old_generation) = {
            let guard = self.read();
            let old = open(&guard)?;
            let fresh = create(&self.path, old.generation + 1, old.dim, &self.options)?;
            if let Err(e) = copy_points(&old.shard, &fresh.shard) {
                let generation = fresh.generation;
                close(fresh);
                let _ = remove_dir(&generation_dir(&self.path, generation));
                return Err(e);
            }
            (fresh, old.generation)
        };
        self.switch(fresh, old_generation)
    }

    /// Makes `fresh` the live generation and removes `old_generation`. `fresh` stays open
    /// throughout, so no other opener can take the store between the switch and its use here.
    fn switch(&self, fresh: Open, old_generation: u64) -> Result<(), VectorError> {
        let generation = fresh.generation;
        let discard = |fresh: Open| {
            close(fresh);
            let _ = remove_dir(&generation_dir(&self.path, generation));
        };
        // Durable before it goes live: a crash after the switch finds it complete.
        if let Err(e) = flush_shard(&fresh.shard) {
            discard(fresh);
            return Err(e);
        }
        if let Err(e) = set_current(&self.path, generation) {
            discard(fresh);
            return Err(e);
        }
        let old = self.shard.write().unwrap_or_else(PoisonError::into_inner).replace(fresh);
        if let Some(old) = old {
            close(old);
        }
        let _ = remove_dir(&generation_dir(&self.path, old_generation));
        Ok(())
    }

    fn read(&self) -> RwLockReadGuard<'_, Option<Open>> {
        self.shard.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies one update, `points` points of dimension `dim` (0 for a deletion), after making
    /// sure the disk has room for it.
    fn update(&self, operation: UpdateOperation, points: usize) -> Result<(), VectorError> {
        let _writes = lock(&self.writes);
        let guard = self.read();
        let open = open(&guard)?;
        let bytes = points as u64 * (open.dim as u64 * 4 + POINT_OVERHEAD_BYTES);
        // The log entry, the vector storage and the payload each hold a copy.
        ensure_space(&self.path, bytes.saturating_mul(3))?;
        open.shard.update(operation).map_err(engine)
    }
}

impl Drop for EdgeStore {
    fn drop(&mut self) {
        if let Some(open) = self.shard.get_mut().unwrap_or_else(PoisonError::into_inner).take() {
            close(open);
        }
    }
}

impl VectorStore for EdgeStore {
    fn backend(&self) -> &'static str {
        "qdrant-edge"
    }

    fn dim(&self) -> usize {
        self.read().as_ref().map(|o| o.dim).unwrap_or(0)
    }

    fn upsert(&self, points: &[VectorPoint]) -> Result<(), VectorError> {
        let dim = self.dim();
        if let Some(bad) = points.iter().find(|p| p.vector.len() != dim) {
            return Err(VectorError::BadVector { expected: dim, got: bad.vector.len() });
        }
        for batch in points.chunks(UPSERT_BATCH) {
            let list: Vec<PointStructPersisted> = batch.iter().map(to_point).collect();
            self.update(
                UpdateOperation::PointOperation(PointOperations::UpsertPoints(
                    PointInsertOperations::PointsList(list),
                )),
                batch.len(),
            )?;
        }
        Ok(())
    }

    fn delete_doc(&self, doc_id: i64) -> Result<(), VectorError> {
        let filter = Filter::new_must(field_match(DOC_ID, Match::from(doc_id))?);
        self.update(UpdateOperation::PointOperation(PointOperations::DeletePointsByFilter(filter)), 0)
    }

    fn delete_points(&self, chunk_ids: &[i64]) -> Result<(), VectorError> {
        for batch in chunk_ids.chunks(ID_BATCH) {
            let filter = Filter::new_must(field_match(CHUNK_ID, Match::from(batch.to_vec()))?);
            self.update(UpdateOperation::PointOperation(PointOperations::DeletePointsByFilter(filter)), 0)?;
        }
        Ok(())
    }

    fn search(&self, query: &[f32], k: usize, filter: &VectorFilter) -> Result<Vec<VectorHit>, VectorError> {
        let guard = self.read();
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
            params: Some(search_params()),
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
        let guard = self.read();
        let n = open(&guard)?.shard.count(CountRequest { filter: None, exact: true }).map_err(engine)?;
        Ok(n as u64)
    }

    fn all_ids(&self) -> Result<Vec<i64>, VectorError> {
        let guard = self.read();
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

    fn doc_vectors(&self, doc_id: i64) -> Result<Vec<(i64, Vec<f32>)>, VectorError> {
        let guard = self.read();
        let shard = &open(&guard)?.shard;
        let mut out: Vec<(i64, i64, Vec<f32>)> = Vec::new();
        let mut offset: Option<PointId> = None;
        loop {
            let request = ScrollRequest {
                offset,
                limit: Some(ID_BATCH),
                filter: Some(Filter::new_must(field_match(DOC_ID, Match::from(doc_id))?)),
                with_payload: Some(WithPayloadInterface::Fields(vec![path(CHUNK_ID)?, path(ORDINAL)?])),
                with_vector: WithVector::Bool(true),
                order_by: None,
            };
            let (records, next) = shard.scroll(request).map_err(engine)?;
            for record in records {
                let payload = record.payload.as_ref().map(|pl| &pl.0);
                let chunk_id = payload.and_then(|pl| pl.get(CHUNK_ID)).and_then(Value::as_i64);
                let ordinal = payload.and_then(|pl| pl.get(ORDINAL)).and_then(Value::as_i64);
                let vector = match record.vector {
                    Some(VectorStructInternal::Named(mut named)) => match named.remove(VECTOR) {
                        Some(VectorInternal::Dense(v)) => Some(v),
                        _ => None,
                    },
                    Some(VectorStructInternal::Single(v)) => Some(v),
                    _ => None,
                };
                match (chunk_id, ordinal, vector) {
                    (Some(c), Some(o), Some(v)) => out.push((o, c, v)),
                    _ => {
                        return Err(VectorError::Engine(format!(
                            "point {} has no chunk id or vector",
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
        out.sort_by_key(|(o, _, _)| *o);
        Ok(out.into_iter().map(|(_, c, v)| (c, v)).collect())
    }

    fn flush(&self) -> Result<(), VectorError> {
        let _writes = lock(&self.writes);
        let _optimizing = lock(&self.optimizing);
        let guard = self.read();
        let open = open(&guard)?;
        ensure_space(&self.path, 0)?;
        flush_shard(&open.shard).map_err(|e| disk_full_or(&self.path, e))
    }

    fn unindexed(&self) -> Result<u64, VectorError> {
        Ok(self.count()?.saturating_sub(self.indexed_count()?))
    }

    fn outdated(&self) -> Result<u64, VectorError> {
        let layout = layout_of(&open(&self.read())?.shard);
        if layout == Layout::HalfInMemory { Ok(0) } else { self.count() }
    }

    fn optimize(&self) -> Result<(), VectorError> {
        // A store of the earlier layout is copied into the current one first (the vectors are
        // copied, not embedded again), and the index is then built over the copy.
        if layout_of(&open(&self.read())?.shard) != Layout::HalfInMemory {
            self.compact()?;
        }
        let _optimizing = lock(&self.optimizing);
        let guard = self.read();
        open(&guard)?.shard.optimize().map_err(engine)?;
        Ok(())
    }

    fn recreate(&self, dim: usize) -> Result<(), VectorError> {
        if dim == 0 {
            return Err(VectorError::BadVector { expected: 1, got: 0 });
        }
        let _writes = lock(&self.writes);
        let _optimizing = lock(&self.optimizing);
        let old_generation = open(&self.read())?.generation;
        let fresh = create(&self.path, old_generation + 1, dim, &self.options)?;
        self.switch(fresh, old_generation)
    }
}

fn lock(mutex: &Mutex<()>) -> MutexGuard<'_, ()> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn open<'a>(guard: &'a RwLockReadGuard<'_, Option<Open>>) -> Result<&'a Open, VectorError> {
    guard.as_ref().ok_or_else(closed)
}

fn closed() -> VectorError {
    VectorError::Engine("vector store is closed after a failed recreate or compaction".into())
}

/// Flushes a shard. The engine's flush panics instead of returning errors; callers hold the
/// locks that rule out the contention it panics on, and this turns anything else (a full disk)
/// into an error, without the panic's message on the terminal.
fn flush_shard(shard: &EdgeShard) -> Result<(), VectorError> {
    lore_ingest::guard::quietly(|| shard.flush())
        .map_err(|msg| VectorError::Engine(format!("flush failed: {msg}")))
}

/// Flushes and closes a shard; the engine's flush-on-drop panics rather than erring, and no
/// panic may escape from here (nor print).
fn close(open: Open) {
    let _ = lore_ingest::guard::quietly(move || drop(open));
}

/// Fails with [`VectorError::DiskFull`] unless the disk holding `path` (or its nearest existing
/// parent) has [`MIN_FREE_BYTES`] free beyond `bytes`. A disk whose free space cannot be read
/// is let through.
fn ensure_space(path: &Path, bytes: u64) -> Result<(), VectorError> {
    let existing = path.ancestors().find(|p| p.exists()).unwrap_or(path);
    let Ok(free) = fs4::available_space(existing) else { return Ok(()) };
    let needed = MIN_FREE_BYTES.saturating_add(bytes);
    if free < needed {
        return Err(VectorError::DiskFull { path: path.to_path_buf(), free, needed });
    }
    Ok(())
}

/// A failed write's error, as [`VectorError::DiskFull`] when the disk filled up under it.
fn disk_full_or(path: &Path, e: VectorError) -> VectorError {
    let text = e.to_string();
    if text.contains("No space left on device") || text.contains("os error 28") {
        let free = fs4::available_space(path).unwrap_or(0);
        return VectorError::DiskFull { path: path.to_path_buf(), free, needed: MIN_FREE_BYTES };
    }
    e
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => dir_size(&e.path()),
                    _ => e.metadata().map(|m| m.len()).unwrap_or(0),
                })
                .sum()
        })
        .unwrap_or(0)
}

fn remove_dir(path: &Path) -> Result<(), VectorError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(VectorError::Io { path: path.to_path_buf(), source: e }),
    }
}

fn generation_dir(path: &Path, generation: u64) -> PathBuf {
    path.join(format!("g{generation}"))
}

/// The live generation named by `CURRENT`, if there is a store.
fn current_generation(path: &Path) -> Result<Option<u64>, VectorError> {
    let file = path.join(CURRENT);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(VectorError::Io { path: file, source: e }),
    };
    let generation = text.trim().strip_prefix('g').and_then(|n| n.parse::<u64>().ok()).ok_or_else(|| {
        VectorError::Engine(format!("{} does not name a generation: {text:?}", file.display()))
    })?;
    if !generation_dir(path, generation).join(CONFIG_FILE).is_file() {
        return Err(VectorError::Engine(format!(
            "{} names g{generation}, which is missing or incomplete",
            file.display()
        )));
    }
    Ok(Some(generation))
}

/// Points `CURRENT` at `generation`, atomically and durably.
fn set_current(path: &Path, generation: u64) -> Result<(), VectorError> {
    use std::io::Write;
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| VectorError::Io { path: p, source }
    };
    let tmp = path.join("CURRENT.tmp");
    let mut file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(format!("g{generation}\n").as_bytes()).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path.join(CURRENT)).map_err(io(path))?;
    if let Ok(dir) = std::fs::File::open(path) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Removes generation directories other than `keep` (left by an interrupted switch).
fn remove_other_generations(path: &Path, keep: u64) {
    let Ok(entries) = std::fs::read_dir(path) else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let is_generation = name
            .to_str()
            .and_then(|n| n.strip_prefix('g'))
            .is_some_and(|n| n.parse::<u64>().is_ok_and(|g| g != keep));
        if is_generation {
            let _ = remove_dir(&entry.path());
        }
    }
}

/// Creates generation `generation` of the store in `path`.
fn create(path: &Path, generation: u64, dim: usize, options: &EdgeOptions) -> Result<Open, VectorError> {
    create_with(path, generation, dim, options, Layout::HalfInMemory)
}

/// Creates generation `generation` of the store in `path` with the vectors kept as `layout`
/// says (the earlier layout only for tests of the move away from it).
fn create_with(
    path: &Path,
    generation: u64,
    dim: usize,
    options: &EdgeOptions,
    layout: Layout,
) -> Result<Open, VectorError> {
    let dir = generation_dir(path, generation);
    // A half-built generation of an earlier attempt is garbage.
    remove_dir(&dir)?;
    ensure_space(path, 0)?;
    std::fs::create_dir_all(&dir).map_err(|e| VectorError::Io { path: dir.clone(), source: e })?;
    let hnsw =
        HnswIndexConfig { max_indexing_threads: options.indexing_threads.max(1), ..Default::default() };
    let wal = WalOptions { segment_capacity: WAL_SEGMENT_BYTES, ..WalOptions::default() };
    let vector = match layout {
        Layout::HalfInMemory => EdgeVectorParamsBuilder::new(dim, Distance::Cosine)
            .on_disk(false)
            .datatype(VECTOR_DATATYPE)
            .build(),
        Layout::FullOnDisk => EdgeVectorParamsBuilder::new(dim, Distance::Cosine)
            .on_disk(true)
            .quantization_config(int8_in_memory()?)
            .build(),
    };
    let optimizers =
        EdgeOptimizersConfig { indexing_threshold: Some(INDEXING_THRESHOLD_KB), ..Default::default() };
    let config = EdgeConfig::builder()
        .vector(VECTOR, vector)
        .hnsw_config(hnsw)
        .optimizers(optimizers)
        .wal_options(wal)
        .build();
    let shard = EdgeShard::new(&dir, config).map_err(|e| open_error(path, e))?;
    for (field, index) in INDEXES {
        shard
            .update(UpdateOperation::FieldIndexOperation(FieldIndexOperations::CreateIndex(CreateIndex {
                field_name: self::path(field)?,
                field_schema: Some(PayloadFieldSchema::FieldType(schema_type(index))),
            })))
            .map_err(engine)?;
    }
    Ok(Open { shard, dim, generation })
}

/// How a new store keeps its vectors: in memory, two bytes per dimension (IEEE half precision),
/// and the HNSW index walks them directly. A search reads no vector from disk, so the first
/// search of a question does not wait for one, and a process holds half of what full `f32`
/// vectors take (75 MB at 100,000 chunks of 384 dimensions).
///
/// Stores created before kept the full vectors in a file and a one-byte copy of each in memory
/// (int8 scalar quantization): a search walked the copies and re-scored the best candidates with
/// the full vectors read from disk, 150 random page reads per search, about 10 ms when the page
/// cache did not hold them. They keep that layout, searched with [`search_params`], until
/// [`VectorStore::optimize`] (`lore optimize`, also started after a large `lore add`) copies
/// them into the current one. Over 10,000 real embeddings of the Python FAQ answers and moved
/// copies, the ten nearest found agree with an exact search for 99.8 % (the earlier layout:
/// 97.5 %; see `dense_quality_on_the_python_faq` in `index/tests/engines_vector.rs`).
const VECTOR_DATATYPE: VectorStorageDatatype = VectorStorageDatatype::Float16;

/// How a generation keeps its vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// In memory as [`VECTOR_DATATYPE`], walked directly by the HNSW index: what a store is
    /// created with.
    HalfInMemory,
    /// The full `f32` vectors in a file and a one-byte copy in memory ([`int8_in_memory`]): the
    /// layout of stores created before. [`VectorStore::optimize`] moves such a store to
    /// [`Layout::HalfInMemory`].
    FullOnDisk,
}

/// The layout of an open generation.
fn layout_of(shard: &EdgeShard) -> Layout {
    let config = shard.config();
    let half = config
        .vectors
        .get(VECTOR)
        .is_some_and(|v| v.datatype == Some(VECTOR_DATATYPE) && v.on_disk != Some(true));
    if half { Layout::HalfInMemory } else { Layout::FullOnDisk }
}

/// One byte per dimension (scaled to the 99th percentile of the values), kept in memory: the
/// search copies of [`Layout::FullOnDisk`].
fn int8_in_memory() -> Result<qdrant_edge::QuantizationConfig, VectorError> {
    let config = json!({ "scalar": { "type": "int8", "quantile": 0.99, "always_ram": true } });
    qdrant_edge::external::serde_json::from_value(config)
        .map_err(|e| VectorError::Engine(format!("quantization settings: {e}")))
}

/// Vector bytes (in KB) above which an optimisation builds the HNSW index of a segment; below
/// it, searches compare the query with every vector. Half the engine's default (10,000 KB), so
/// that the index is built from the same number of chunks (about 6,500) as with `f32` vectors.
const INDEXING_THRESHOLD_KB: usize = 5_000;

/// How a search uses the one-byte copies in a store of the earlier layout: it takes
/// [`OVERSAMPLING`] times as many candidates from them as asked for and re-scores those with the
/// full vectors. A store without such copies ignores these settings.
fn search_params() -> SearchParams {
    SearchParams {
        quantization: Some(QuantizationSearchParams {
            ignore: false,
            rescore: Some(true),
            oversampling: Some(OVERSAMPLING),
        }),
        ..SearchParams::default()
    }
}

/// The engine's index type of each indexed payload field.
fn schema_type(index: IndexType) -> PayloadSchemaType {
    match index {
        IndexType::Integer => PayloadSchemaType::Integer,
        IndexType::Keyword => PayloadSchemaType::Keyword,
    }
}

fn load(path: &Path, generation: u64) -> Result<Open, VectorError> {
    // Opening maps the storage files and may write to them.
    ensure_space(path, 0)?;
    // The engine panics on some inconsistent files (a copy taken while a writer changed them).
    let dir = generation_dir(path, generation);
    trim_wal(&dir.join(WAL_DIR));
    let shard = lore_ingest::guard::quietly(|| EdgeShard::load(&dir, None))
        .map_err(|msg| VectorError::Engine(format!("cannot open {}: {msg}", dir.display())))?
        .map_err(|e| open_error(path, e))?;
    let dim = stored_dim(&shard)?;
    super::prefetch::prefetch_segments(&dir);
    Ok(Open { shard, dim, generation })
}

/// Removes the write-ahead log's closed files but the newest, when no open handle holds the log.
///
/// This engine version writes every update to its log but never reads the log back nor
/// truncates it, and opening the store reads every file of it into memory: left alone, the log
/// grows by every vector ever written, on disk and in the memory of every process that opens
/// the library (190 MB of a 100,000-chunk library's 620 MB). Log entries are numbered
/// on from the newest closed file, and the storage ignores an update numbered below the version
/// it holds, so that file stays; the files before it are never needed again. The
/// directory's lock, the one the engine takes, is held while removing, so a log in use is left
/// as it is.
fn trim_wal(wal: &Path) {
    let Ok(dir) = std::fs::File::open(wal) else { return };
    if dir.try_lock().is_err() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(wal) else { return };
    let mut closed: Vec<(u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let start = e.file_name().to_str()?.strip_prefix("closed-")?.parse::<u64>().ok()?;
            Some((start, e.path()))
        })
        .collect();
    closed.sort_unstable();
    closed.pop();
    // A file left behind is removed at a later open; the log stays contiguous either way, as
    // the oldest go first.
    for (_, file) in closed {
        if std::fs::remove_file(&file).is_err() {
            break;
        }
    }
}

/// Copies every point (vector and payload) from one shard to another, then flushes the target.
fn copy_points(from: &EdgeShard, to: &EdgeShard) -> Result<(), VectorError> {
    let mut offset: Option<PointId> = None;
    loop {
        let request = ScrollRequest {
            offset,
            limit: Some(UPSERT_BATCH),
            filter: None,
            with_payload: Some(WithPayloadInterface::Bool(true)),
            with_vector: WithVector::Bool(true),
            order_by: None,
        };
        let (records, next) = from.scroll(request).map_err(engine)?;
        let points: Vec<PointStructPersisted> = records
            .into_iter()
            .filter_map(|r| {
                Some(PointStructPersisted {
                    id: r.id,
                    vector: VectorStructPersisted::from(r.vector?),
                    payload: r.payload,
                })
            })
            .collect();
        if !points.is_empty() {
            to.update(UpdateOperation::PointOperation(PointOperations::UpsertPoints(
                PointInsertOperations::PointsList(points),
            )))
            .map_err(engine)?;
        }
        match next {
            Some(next) => offset = Some(next),
            None => break,
        }
    }
    let count = |shard: &EdgeShard| shard.count(CountRequest { filter: None, exact: true }).map_err(engine);
    let (copied, original) = (count(to)?, count(from)?);
    if copied != original {
        return Err(VectorError::Engine(format!("copied {copied} of {original} points")));
    }
    Ok(())
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

    /// A point of `dim` dimensions pointing mostly along axis `i % dim`.
    fn axis_point(i: i64, dim: usize) -> VectorPoint {
        let mut vector: Vec<f32> = (0..dim).map(|d| ((i as f32) * 0.7 + d as f32).sin() * 0.1).collect();
        vector[i as usize % dim] += 1.0;
        VectorPoint {
            chunk_id: i,
            doc_id: i / 4,
            ordinal: i % 4,
            vector,
            kind: "pdf".into(),
            tags: vec![],
            published: None,
            added: 1_700_000_000,
            lang: None,
        }
    }

    #[test]
    fn optimize_moves_a_store_of_the_earlier_layout_into_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors");
        let dim = 16;
        let points: Vec<VectorPoint> = (0..300).map(|i| axis_point(i, dim)).collect();
        {
            // A store as earlier versions created it.
            std::fs::create_dir_all(&path).unwrap();
            let open = create_with(&path, 1, dim, &EdgeOptions::default(), Layout::FullOnDisk).unwrap();
            set_current(&path, 1).unwrap();
            let store = EdgeStore::with(&path, EdgeOptions::default(), open);
            store.upsert(&points).unwrap();
            store.flush().unwrap();
        }
        let store = EdgeStore::open(&path, dim, EdgeOptions::default()).unwrap();
        assert_eq!(layout_of(&open(&store.read()).unwrap().shard), Layout::FullOnDisk);
        assert_eq!(store.outdated().unwrap(), 300);
        let query = axis_point(7, dim).vector;
        let before: Vec<i64> =
            store.search(&query, 5, &VectorFilter::default()).unwrap().iter().map(|h| h.chunk_id).collect();
        assert_eq!(before[0], 7);

        store.optimize().unwrap();
        assert_eq!(layout_of(&open(&store.read()).unwrap().shard), Layout::HalfInMemory);
        assert_eq!(store.outdated().unwrap(), 0);
        assert_eq!(store.count().unwrap(), 300);
        assert_eq!(store.all_ids().unwrap(), (0..300).collect::<Vec<i64>>());
        let after: Vec<i64> =
            store.search(&query, 5, &VectorFilter::default()).unwrap().iter().map(|h| h.chunk_id).collect();
        assert_eq!(after, before);
        drop(store);

        // The move survives reopening, and a new store starts in the current layout.
        let store = EdgeStore::open(&path, dim, EdgeOptions::default()).unwrap();
        assert_eq!(layout_of(&open(&store.read()).unwrap().shard), Layout::HalfInMemory);
        assert_eq!(store.count().unwrap(), 300);
        let fresh = EdgeStore::open(&dir.path().join("fresh"), dim, EdgeOptions::default()).unwrap();
        assert_eq!(fresh.outdated().unwrap(), 0);
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
        let mut keys: Vec<&str> = payload.0.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut fields = crate::vector::schema::FIELDS.to_vec();
        fields.sort_unstable();
        assert_eq!(keys, fields);
    }
}

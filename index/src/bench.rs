//! Measurements behind `lore bench`: ingest throughput split into its stages, a library grown to
//! a given number of chunks from already-embedded ones, search latency percentiles and the
//! process's memory. Nothing here prints; the figures are returned as plain structs.
//!
//! A [`BenchLibrary`] is a real library (catalog, tantivy, embedded Qdrant or a Qdrant server) in
//! a directory of its own, written through the same public steps as `lore add`: [`Catalog::begin_upsert`], the
//! embedder, [`Engines::write_document`], [`Engines::commit`] and [`Catalog::finish`], so each
//! stage can be timed on its own. [`BenchLibrary::grow_to`] then copies the ingested documents,
//! their chunks and their vectors under new document ids until the library holds the number of
//! chunks asked for, without running the model again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lore_ingest::{Chunk, ChunkConfig, Chunker, Document, LoadOptions};
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, FileStat, NewDocument, StoredChunk, Upsert};
use crate::embed::Embedder;
use crate::engines::{EngineOptions, Engines};
use crate::error::{Error, Result};
use crate::library::Library;
use crate::search::{Mode, SearchConfig, SearchRequest};

/// Chunks embedded per call of the model, as [`Engines::index_document`] slices them.
const EMBED_SLICE: usize = 128;
/// Chunks written to the indexes between commits, as `lore add` commits them.
const COMMIT_EVERY_CHUNKS: usize = 2000;
/// Length of the deterministic perturbation added to a copied vector (before it is normalised
/// again): copies stay near their original (cosine about 0.995) without being exact duplicates,
/// which a real library does not hold and which would make the HNSW graph degenerate.
const COPY_NOISE: f32 = 0.1;

/// Seconds in a duration.
fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Ingest throughput and where its time went. The stages add up to `total_s`; model loading is
/// counted apart.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IngestFigures {
    /// Files tried.
    pub files: usize,
    /// Documents written.
    pub documents: usize,
    /// Files that could not be loaded or held no text.
    pub failed: usize,
    /// Chunks written.
    pub chunks: usize,
    /// Bytes of the source files read.
    pub bytes: u64,
    /// Loading the embedding model (once, before the first file).
    pub model_load_s: f64,
    /// Reading and parsing the files into documents.
    pub parse_s: f64,
    /// Splitting documents into chunks.
    pub chunk_s: f64,
    /// Inside the embedding model (tokenising and running it).
    pub embed_s: f64,
    /// Writing to the catalog, tantivy and Qdrant, commits included.
    pub index_s: f64,
    /// Of `index_s`: the catalog (SQLite) writes and reads.
    pub catalog_s: f64,
    /// Of `index_s`: the vector store and keyword index writes and their commits.
    pub engines_s: f64,
    /// The four stages together.
    pub total_s: f64,
}

impl IngestFigures {
    /// Documents per second of `total_s`.
    pub fn docs_per_s(&self) -> f64 {
        per_s(self.documents as f64, self.total_s)
    }

    /// Chunks per second of `total_s`.
    pub fn chunks_per_s(&self) -> f64 {
        per_s(self.chunks as f64, self.total_s)
    }

    /// Megabytes (10^6 bytes) of source per second of `total_s`.
    pub fn mb_per_s(&self) -> f64 {
        per_s(self.bytes as f64 / 1e6, self.total_s)
    }

    /// The share of `total_s` spent inside the embedding model, from 0 to 1.
    pub fn embed_share(&self) -> f64 {
        if self.total_s > 0.0 { self.embed_s / self.total_s } else { 0.0 }
    }
}

fn per_s(n: f64, s: f64) -> f64 {
    if s > 0.0 { n / s } else { 0.0 }
}

/// What growing a library by copies took.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GrowFigures {
    /// Chunks the library holds now.
    pub chunks: usize,
    /// Documents the library holds now.
    pub documents: usize,
    /// Chunks written by this call.
    pub written: usize,
    /// Seconds this call took.
    pub seconds: f64,
}

/// Progress of a long step: `(done, total)` in files or chunks.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

/// An ingested document kept for copying: its text, chunks and vectors.
struct Seed {
    doc: Document,
    chunks: Vec<Chunk>,
    vectors: Vec<Vec<f32>>,
}

/// A library built for measuring. See the module docs.
pub struct BenchLibrary {
    home: PathBuf,
    options: EngineOptions,
    embedder: Arc<Embedder>,
    catalog: Catalog,
    chunker: Chunker,
    seeds: Vec<Seed>,
    copies: u64,
    next_seed: usize,
    chunks: usize,
    documents: usize,
    /// Seconds the embedding model took to load.
    model_load_s: f64,
}

impl std::fmt::Debug for BenchLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BenchLibrary").field("home", &self.home).field("chunks", &self.chunks).finish()
    }
}

/// Open engines with the documents written since their last commit.
struct Writer<'a> {
    engines: Engines,
    catalog: &'a mut Catalog,
    pending: Vec<i64>,
    pending_chunks: usize,
}

impl Writer<'_> {
    /// Commits every [`COMMIT_EVERY_CHUNKS`] chunks (or now, with `force`); returns the seconds
    /// the engines' commit took and the seconds the catalog's journal took.
    fn commit(&mut self, force: bool) -> Result<(f64, f64)> {
        if self.pending.is_empty() || (!force && self.pending_chunks < COMMIT_EVERY_CHUNKS) {
            return Ok((0.0, 0.0));
        }
        let t = Instant::now();
        self.engines.commit()?;
        let engines_s = secs(t.elapsed());
        let t = Instant::now();
        for id in std::mem::take(&mut self.pending) {
            self.catalog.finish(id)?;
        }
        self.pending_chunks = 0;
        Ok((engines_s, secs(t.elapsed())))
    }
}

impl BenchLibrary {
    /// Creates an empty library in `home` (which should be empty) with the engines of
    /// `options`; the embedding model is loaded here and its chunker sizes chunks in its tokens.
    /// The vectors go to the embedded store, or to the Qdrant server of `options.server` (in its
    /// collection, which the caller chooses apart from any library's: [`BenchLibrary::create`]
    /// writes into it).
    pub fn create(home: &Path, options: &EngineOptions, chunk: ChunkConfig) -> Result<BenchLibrary> {
        std::fs::create_dir_all(home).map_err(|source| Error::Home { path: home.to_path_buf(), source })?;
        let options = EngineOptions { snapshot_reader: false, ..options.clone() };
        let catalog = Catalog::open_home(home)?;
        let t = Instant::now();
        let embedder = Engines::embedder(&options)?;
        let model_load_s = secs(t.elapsed());
        let chunker = Chunker::from_tokenizer_file(&embedder.tokenizer_json_path(), chunk)?;
        let lib = BenchLibrary {
            home: home.to_path_buf(),
            options,
            embedder,
            catalog,
            chunker,
            seeds: Vec::new(),
            copies: 0,
            next_seed: 0,
            chunks: 0,
            documents: 0,
            model_load_s,
        };
        // Records the model and the layouts in the catalog, as a writer's first open does.
        lib.open_engines()?.check_model(&lib.catalog)?;
        Ok(lib)
    }

    /// The library directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Chunks in the library.
    pub fn chunks(&self) -> usize {
        self.chunks
    }

    /// Documents in the library.
    pub fn documents(&self) -> usize {
        self.documents
    }

    /// The engine options the library is written with.
    pub fn engine_options(&self) -> &EngineOptions {
        &self.options
    }

    fn open_engines(&self) -> Result<Engines> {
        Engines::open_writer(&self.home, self.embedder.clone(), &self.options)
    }

    /// Ingests `files` one by one through the stages of `lore add`, timing each, reporting
    /// `(files done, files)`. A file that fails to load is counted and skipped. The documents
    /// are kept (with their vectors) for [`BenchLibrary::grow_to`].
    pub fn ingest(
        &mut self,
        files: &[PathBuf],
        load: &LoadOptions,
        progress: Progress<'_>,
    ) -> Result<IngestFigures> {
        let mut f =
            IngestFigures { files: files.len(), model_load_s: self.model_load_s, ..Default::default() };
        let mut seeds = Vec::new();
        {
            let mut w = Writer {
                engines: Engines::open_writer(&self.home, self.embedder.clone(), &self.options)?,
                catalog: &mut self.catalog,
                pending: Vec::new(),
                pending_chunks: 0,
            };
            progress(0, files.len());
            for (i, path) in files.iter().enumerate() {
                if let Some(seed) = ingest_one(&mut w, &self.chunker, path, load, &mut f)? {
                    seeds.push(seed);
                }
                let (e, c) = w.commit(false)?;
                f.engines_s += e;
                f.catalog_s += c;
                progress(i + 1, files.len());
            }
            let (e, c) = w.commit(true)?;
            f.engines_s += e;
            f.catalog_s += c;
        }
        f.index_s = f.catalog_s + f.engines_s;
        f.total_s = f.parse_s + f.chunk_s + f.embed_s + f.index_s;
        self.chunks += f.chunks;
        self.documents += f.documents;
        self.seeds.extend(seeds);
        Ok(f)
    }

    /// Copies the ingested documents, with their chunks and vectors, under new document ids
    /// until the library holds `target` chunks (the last copy is cut to fit), reporting
    /// `(chunks, target)`. Nothing is embedded. A library already that large is left alone.
    pub fn grow_to(&mut self, target: usize, progress: Progress<'_>) -> Result<GrowFigures> {
        let started = Instant::now();
        let before = self.chunks;
        if self.seeds.iter().all(|s| s.chunks.is_empty()) || self.chunks >= target {
            return Ok(GrowFigures {
                chunks: self.chunks,
                documents: self.documents,
                written: 0,
                seconds: 0.0,
            });
        }
        let mut w = Writer {
            engines: Engines::open_writer(&self.home, self.embedder.clone(), &self.options)?,
            catalog: &mut self.catalog,
            pending: Vec::new(),
            pending_chunks: 0,
        };
        let mut last_report = Instant::now();
        progress(self.chunks, target);
        while self.chunks < target {
            if self.next_seed == 0 {
                self.copies += 1;
            }
            let seed = &self.seeds[self.next_seed];
            self.next_seed = (self.next_seed + 1) % self.seeds.len();
            let n = seed.chunks.len().min(target - self.chunks);
            if n == 0 {
                continue;
            }
            let mut doc = seed.doc.clone();
            doc.source = format!("{}#bench-copy-{}", seed.doc.source, self.copies);
            let chunks = &seed.chunks[..n];
            let vectors: Vec<Vec<f32>> = seed.vectors[..n]
                .iter()
                .enumerate()
                .map(|(i, v)| perturbed(v, self.copies.wrapping_mul(1_000_003).wrapping_add(i as u64)))
                .collect();
            let new = NewDocument { doc: &doc, chunks, tags: &[], root_id: None, file: None };
            let id = match w.catalog.begin_upsert(&new)? {
                Upsert::Added(id) | Upsert::Replaced(id) => id,
                Upsert::Unchanged(_) => continue,
            };
            let Some(summary) = w.catalog.get(id)? else { continue };
            let stored = w.catalog.chunks_of(id, 0, usize::MAX >> 1)?;
            w.engines.write_document(&summary, &stored, vectors)?;
            w.pending.push(id);
            w.pending_chunks += stored.len();
            self.chunks += stored.len();
            self.documents += 1;
            w.commit(false)?;
            if last_report.elapsed() > Duration::from_millis(500) {
                progress(self.chunks, target);
                last_report = Instant::now();
            }
        }
        w.commit(true)?;
        progress(self.chunks, target);
        Ok(GrowFigures {
            chunks: self.chunks,
            documents: self.documents,
            written: self.chunks - before,
            seconds: secs(started.elapsed()),
        })
    }

    /// Vectors the embedded store searches by brute force (outside its HNSW index).
    pub fn unindexed(&self) -> Result<u64> {
        Ok(self.open_engines()?.vectors.unindexed()?)
    }

    /// Builds the vector store's HNSW index, as `lore optimize` does; returns the seconds taken.
    pub fn optimize(&self) -> Result<f64> {
        let t = Instant::now();
        let engines = self.open_engines()?;
        engines.vectors.optimize()?;
        engines.vectors.flush()?;
        Ok(secs(t.elapsed()))
    }
}

/// Runs one file through parse, chunk, catalog, embed and index, adding each stage's time.
fn ingest_one(
    w: &mut Writer<'_>,
    chunker: &Chunker,
    path: &Path,
    load: &LoadOptions,
    f: &mut IngestFigures,
) -> Result<Option<Seed>> {
    let t = Instant::now();
    let loaded = lore_ingest::read_file(path, load).and_then(|source| Ok((source.load(load)?, source)));
    f.parse_s += secs(t.elapsed());
    let (doc, source) = match loaded {
        Ok(v) => v,
        Err(_) => {
            f.failed += 1;
            return Ok(None);
        }
    };
    f.bytes += source.bytes.len() as u64;
    let t = Instant::now();
    let chunks = chunker.chunk(&doc);
    f.chunk_s += secs(t.elapsed());
    let chunks = match chunks {
        Ok(c) if !c.is_empty() => c,
        _ => {
            f.failed += 1;
            return Ok(None);
        }
    };

    let t = Instant::now();
    let new = NewDocument {
        doc: &doc,
        chunks: &chunks,
        tags: &[],
        root_id: None,
        file: FileStat::of(&source.meta),
    };
    let id = match w.catalog.begin_upsert(&new)? {
        Upsert::Added(id) | Upsert::Replaced(id) => id,
        // The same file reached twice (a link): nothing more to write.
        Upsert::Unchanged(_) => {
            f.catalog_s += secs(t.elapsed());
            return Ok(None);
        }
    };
    let summary = w.catalog.get(id)?;
    let stored = w.catalog.chunks_of(id, 0, usize::MAX >> 1)?;
    f.catalog_s += secs(t.elapsed());
    let Some(summary) = summary else { return Ok(None) };

    let t = Instant::now();
    let texts: Vec<String> = stored
        .iter()
        .map(|c: &StoredChunk| Engines::passage_text(w.engines.passage_context, &summary.title, c))
        .collect();
    let mut vectors = Vec::with_capacity(texts.len());
    for slice in texts.chunks(EMBED_SLICE) {
        vectors.extend(w.engines.embedder.embed_passages(slice)?);
    }
    f.embed_s += secs(t.elapsed());

    let t = Instant::now();
    w.engines.write_document(&summary, &stored, vectors.clone())?;
    f.engines_s += secs(t.elapsed());
    w.pending.push(id);
    w.pending_chunks += stored.len();
    f.documents += 1;
    f.chunks += stored.len();
    Ok(Some(Seed { doc, chunks, vectors }))
}

/// `v` plus a small pseudo-random offset of length [`COPY_NOISE`] drawn from `seed`, normalised
/// again.
fn perturbed(v: &[f32], seed: u64) -> Vec<f32> {
    if v.is_empty() {
        return Vec::new();
    }
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    // Uniform in [-a, a] per dimension has a length of about a * sqrt(dim / 3).
    let a = COPY_NOISE * (3.0 / v.len() as f32).sqrt();
    let mut out: Vec<f32> = v
        .iter()
        .map(|x| {
            let u = (splitmix64(&mut state) >> 40) as f32 / (1u64 << 24) as f32;
            x + a * (2.0 * u - 1.0)
        })
        .collect();
    let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        out.iter_mut().for_each(|x| *x /= norm);
    }
    out
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Latency percentiles of one kind of search.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LatencyFigures {
    /// `keyword`, `vector`, `hybrid`, or `embed-query` (the query embedding alone).
    pub mode: String,
    /// Timed runs.
    pub runs: usize,
    /// Median, in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile, in milliseconds.
    pub p95_ms: f64,
    /// 99th percentile, in milliseconds.
    pub p99_ms: f64,
    /// Mean, in milliseconds.
    pub mean_ms: f64,
    /// Slowest run, in milliseconds.
    pub max_ms: f64,
    /// Mean number of hits returned.
    pub hits_mean: f64,
}

impl LatencyFigures {
    /// The figures of `samples` (milliseconds, any order) for `mode`, with the hits counted.
    pub fn of(mode: &str, samples: &[f64], hits: usize) -> LatencyFigures {
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        LatencyFigures {
            mode: mode.to_string(),
            runs: n,
            p50_ms: percentile(&s, 50.0),
            p95_ms: percentile(&s, 95.0),
            p99_ms: percentile(&s, 99.0),
            mean_ms: if n > 0 { s.iter().sum::<f64>() / n as f64 } else { 0.0 },
            max_ms: s.last().copied().unwrap_or(0.0),
            hits_mean: if n > 0 { hits as f64 / n as f64 } else { 0.0 },
        }
    }
}

/// The `p`th percentile (0 to 100) of sorted samples, by the nearest-rank method: the smallest
/// sample at or above which `p` percent of them lie. 0 for no samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Times `runs` searches of `library` in `mode` (after `warmup` untimed ones), cycling through
/// `queries`; each is timed from the query text to the resolved hits, the query embedding
/// included. `k` hits are asked for.
pub fn time_searches(
    library: &Library,
    cfg: &SearchConfig,
    queries: &[String],
    mode: Mode,
    k: usize,
    warmup: usize,
    runs: usize,
) -> Result<LatencyFigures> {
    let mut samples = Vec::with_capacity(runs);
    let mut hits = 0usize;
    if queries.is_empty() {
        return Ok(LatencyFigures::of(mode.as_str(), &samples, 0));
    }
    for i in 0..warmup + runs {
        let query = queries[i % queries.len()].clone();
        let req = SearchRequest { query, k, mode, filter: Default::default() };
        let t = Instant::now();
        let found = library.search(cfg, &req)?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if i >= warmup {
            samples.push(ms);
            hits += found.len();
        }
    }
    Ok(LatencyFigures::of(mode.as_str(), &samples, hits))
}

/// Times the query embedding alone (the model run inside vector and hybrid searches), as
/// [`time_searches`] does.
pub fn time_query_embedding(
    library: &Library,
    queries: &[String],
    warmup: usize,
    runs: usize,
) -> Result<LatencyFigures> {
    let engines = library.engines()?;
    let mut samples = Vec::with_capacity(runs);
    if queries.is_empty() {
        return Ok(LatencyFigures::of("embed-query", &samples, 0));
    }
    for i in 0..warmup + runs {
        let query = &queries[i % queries.len()];
        let t = Instant::now();
        engines.embedder.embed_query(query)?;
        if i >= warmup {
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok(LatencyFigures::of("embed-query", &samples, 0))
}

/// A figure of `/proc/self/status` in bytes (`VmHWM`, `VmRSS`, ...), where there is one.
fn proc_status_bytes(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.strip_prefix(key).is_some_and(|r| r.starts_with(':')))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The process's peak resident memory so far (`VmHWM`), in bytes; `None` off Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_bytes("VmHWM")
}

/// The process's resident memory now (`VmRSS`), in bytes; `None` off Linux.
pub fn rss_bytes() -> Option<u64> {
    proc_status_bytes("VmRSS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&s, 50.0), 50.0);
        assert_eq!(percentile(&s, 95.0), 95.0);
        assert_eq!(percentile(&s, 99.0), 99.0);
        assert_eq!(percentile(&s, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
        let f = LatencyFigures::of("hybrid", &[3.0, 1.0, 2.0], 30);
        assert_eq!((f.p50_ms, f.max_ms, f.mean_ms, f.hits_mean), (2.0, 3.0, 2.0, 10.0));
    }

    #[test]
    fn copies_stay_near_their_vector_without_repeating_it() {
        let v: Vec<f32> = (0..384).map(|i| ((i % 7) as f32 - 3.0) / 10.0).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let v: Vec<f32> = v.iter().map(|x| x / norm).collect();
        let a = perturbed(&v, 1);
        let b = perturbed(&v, 2);
        let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>();
        assert!((dot(&a, &a) - 1.0).abs() < 1e-4);
        assert!(dot(&a, &v) > 0.99 && dot(&a, &v) < 0.9999, "{}", dot(&a, &v));
        assert!(dot(&a, &b) < 0.9999);
        assert_eq!(perturbed(&v, 1), a);
    }

    #[test]
    fn memory_figures_are_read_on_linux() {
        if cfg!(target_os = "linux") {
            // Resident memory first: the high-water mark read after it is at least as high,
            // while other test threads allocate.
            let now = rss_bytes().unwrap();
            let peak = peak_rss_bytes().unwrap();
            assert!(peak >= now && now > 0);
        }
    }
}

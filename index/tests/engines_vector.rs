//! Vector store tests particular to qdrant-edge: persistence, locking, copies for readers,
//! optimisation, compaction, and dense retrieval quality on the Python FAQ set with the real
//! embedder. CRUD and filters, which every backend shares, are in `vector_backends.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod engines_support;
mod vector_support;

use std::path::Path;
use std::sync::Arc;

use lore_index::{
    EdgeOptions, EdgeStore, VectorError, VectorFilter, VectorPoint, VectorStore, point_uuid, run_blocking,
};
use vector_support::{DIM, axis, clustered, hit_ids, point, sample};

fn open(path: &Path) -> EdgeStore {
    EdgeStore::open(path, DIM, EdgeOptions::default()).unwrap()
}

#[test]
fn persists_across_reopen_and_checks_the_dimension() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors");
    assert!(!EdgeStore::exists(&path));
    {
        let store = open(&path);
        store.upsert(&sample()).unwrap();
        store.flush().unwrap();
        store.delete_doc(3).unwrap();
    }
    assert!(EdgeStore::exists(&path));
    {
        let store = open(&path);
        assert_eq!(store.all_ids().unwrap(), vec![101, 102, 103, 201, 202]);
        let f = VectorFilter { tags: vec!["web".into()], ..Default::default() };
        assert_eq!(hit_ids(&store, &axis(0, 0.0), 1, &f), vec![202]);
    }
    let err = EdgeStore::open(&path, DIM * 2, EdgeOptions::default()).unwrap_err();
    assert!(
        matches!(err, VectorError::DimensionMismatch { stored: DIM, wanted } if wanted == DIM * 2),
        "{err}"
    );
    assert!(err.to_string().contains("lore reindex"));
    // Recreating with the new dimension starts over.
    let store = open(&path);
    store.recreate(DIM * 2).unwrap();
    assert_eq!(store.dim(), DIM * 2);
    assert_eq!(store.count().unwrap(), 0);
    store.upsert(&[point(1, 1, 0, vec![0.5; DIM * 2])]).unwrap();
    drop(store);
    let store = EdgeStore::open(&path, DIM * 2, EdgeOptions::default()).unwrap();
    assert_eq!(store.all_ids().unwrap(), vec![1]);
    EdgeStore::remove(&path).unwrap();
    assert!(!EdgeStore::exists(&path));
}

#[test]
fn a_second_opener_gets_locked_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors");
    let first = open(&path);
    first.upsert(&sample()).unwrap();
    let second = EdgeStore::open(&path, DIM, EdgeOptions::default());
    let err = second.unwrap_err();
    assert!(matches!(err, VectorError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("in use by another lore process"), "{err}");
    // The failed open left the store intact.
    assert_eq!(first.count().unwrap(), 6);
    drop(first);
    let reopened = open(&path);
    assert_eq!(reopened.count().unwrap(), 6);
}

#[test]
fn a_copy_serves_reads_while_the_writer_holds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors");
    let writer = open(&path);
    writer.upsert(&sample()).unwrap();
    writer.flush().unwrap();
    let copy = EdgeStore::open_copy(&path, &dir.path().join("reader"), EdgeOptions::default()).unwrap();
    assert_eq!(copy.count().unwrap(), 6);
    assert_eq!(hit_ids(&copy, &axis(3, 0.0), 1, &VectorFilter::default()), vec![301]);
    // The copy is a point in time: later writes do not show, and the copy's own writes stay there.
    writer.delete_doc(3).unwrap();
    writer.flush().unwrap();
    assert_eq!(copy.count().unwrap(), 6);
    copy.upsert(&[point(900, 9, 0, axis(7, 0.0))]).unwrap();
    assert_eq!(writer.count().unwrap(), 5);
    assert!(EdgeStore::open_copy(&path, &dir.path().join("reader"), EdgeOptions::default()).is_err());
}

#[test]
fn optimize_keeps_results_and_writes_during_it_land() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(&dir.path().join("vectors")));
    let points: Vec<VectorPoint> = (0..2000)
        .map(|i| {
            let v: Vec<f32> = (0..DIM).map(|d| (i as f32 * 0.37 + d as f32 * 1.3).sin()).collect();
            point(i as i64, (i / 10) as i64, (i % 10) as i64, v)
        })
        .collect();
    store.upsert(&points).unwrap();
    let q = points[1234].vector.clone();
    let before = hit_ids(store.as_ref(), &q, 5, &VectorFilter::default());
    let optimizer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || store.optimize())
    };
    store.upsert(&[point(5000, 500, 0, axis(4, 0.0))]).unwrap();
    optimizer.join().unwrap().unwrap();
    store.flush().unwrap();
    assert_eq!(store.count().unwrap(), 2001);
    let after = hit_ids(store.as_ref(), &q, 5, &VectorFilter::default());
    assert_eq!(before[0], after[0]);
    assert_eq!(hit_ids(store.as_ref(), &axis(4, 0.0), 1, &VectorFilter::default()), vec![5000]);
}

#[test]
fn async_calls_run_on_the_blocking_pool() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn VectorStore> = Arc::new(open(&dir.path().join("vectors")));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let points = sample();
    runtime.block_on(run_blocking(&store, move |s| s.upsert(&points))).unwrap();
    let n = runtime.block_on(run_blocking(&store, |s| s.count())).unwrap();
    assert_eq!(n, 6);
}

#[test]
fn point_ids_come_from_document_and_ordinal() {
    assert_eq!(point_uuid(1, 0).to_string(), "b32c1c0a-38ab-5c63-a458-2d564de2387e");
}

/// Dense retrieval on the Python FAQ through the real embedder and the edge store.
/// Needs the embedding runtime (scripts/setup-embedding.sh); fails without it.
#[test]
fn dense_quality_on_the_python_faq() {
    use lore_index::{EmbedConfig, Embedder, default_runtime_dir};
    let set = engines_support::pyfaq();
    let runtime = default_runtime_dir().expect("no home directory");
    let embedder = Embedder::new(&EmbedConfig { threads: Some(2), ..EmbedConfig::default() }, &runtime)
        .unwrap_or_else(|e| panic!("{e} (run scripts/setup-embedding.sh first)"));
    let texts: Vec<String> = set.corpus.iter().map(|(_, title, text)| format!("{title}\n{text}")).collect();
    let start = std::time::Instant::now();
    let vectors = embedder.embed_passages(&texts).unwrap();
    let secs = start.elapsed().as_secs_f64();
    eprintln!("embedded {} FAQ answers in {secs:.1} s ({:.1}/s)", texts.len(), texts.len() as f64 / secs);
    let dir = tempfile::tempdir().unwrap();
    let store = EdgeStore::open(&dir.path().join("vectors"), embedder.dim(), EdgeOptions::default()).unwrap();
    let points: Vec<VectorPoint> = vectors
        .into_iter()
        .enumerate()
        .map(|(i, v)| VectorPoint { kind: "html".into(), ..point(i as i64, i as i64, 0, v) })
        .collect();
    store.upsert(&points).unwrap();
    let mut total = 0.0;
    for (qid, text) in &set.queries {
        let q = embedder.embed_query(text).unwrap();
        let hits = store.search(&q, 10, &VectorFilter::default()).unwrap();
        let ranked: Vec<String> = hits.iter().map(|h| set.corpus[h.chunk_id as usize].0.clone()).collect();
        total += engines_support::ndcg_at(10, &ranked, &set.qrels[qid]);
    }
    let ndcg = total / set.queries.len() as f64;
    eprintln!("dense nDCG@10 on pyfaq: {ndcg:.3} (all-MiniLM-L6-v2 fp32 reference: 0.864)");
    assert!(ndcg > 0.80, "nDCG@10 {ndcg:.3}");

    // Large enough for an HNSW index over the vectors: moved copies of every
    // answer, then the index built. Its results must be those of an exact search.
    let n = set.corpus.len();
    let copies = 10_000 / n;
    let mut all: Vec<(i64, Vec<f32>)> = points.iter().map(|p| (p.chunk_id, p.vector.clone())).collect();
    for c in 1..=copies {
        let moved: Vec<VectorPoint> = points
            .iter()
            .map(|p| {
                let id = (c * n) as i64 + p.chunk_id;
                let v: Vec<f32> = p
                    .vector
                    .iter()
                    .enumerate()
                    .map(|(d, x)| x + 0.02 * ((id as f32) * 0.37 + d as f32).sin())
                    .collect();
                all.push((id, v.clone()));
                VectorPoint { vector: v, ..point(id, id, 0, vec![]) }
            })
            .collect();
        store.upsert(&moved).unwrap();
    }
    store.optimize().unwrap();
    assert_eq!(store.indexed_count().unwrap(), all.len() as u64, "every vector in the HNSW index");
    let unit = |v: &[f32]| {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect::<Vec<f32>>()
    };
    let all: Vec<(i64, Vec<f32>)> = all.into_iter().map(|(id, v)| (id, unit(&v))).collect();
    let (mut found, mut wanted) = (0usize, 0usize);
    for (_, text) in &set.queries {
        let q = unit(&embedder.embed_query(text).unwrap());
        let mut exact: Vec<(f32, i64)> =
            all.iter().map(|(id, v)| (v.iter().zip(&q).map(|(a, b)| a * b).sum(), *id)).collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0));
        let exact: std::collections::HashSet<i64> = exact.iter().take(10).map(|(_, id)| *id).collect();
        let hits = store.search(&q, 10, &VectorFilter::default()).unwrap();
        found += hits.iter().filter(|h| exact.contains(&h.chunk_id)).count();
        wanted += exact.len();
    }
    let recall = found as f64 / wanted as f64;
    eprintln!(
        "{} vectors, HNSW over half-precision vectors: recall@10 against exact search {recall:.3}",
        store.count().unwrap()
    );
    assert!(recall >= 0.97, "recall@10 {recall:.3}");
}

fn median_search_ms(store: &dyn VectorStore, queries: &[Vec<f32>], filter: &VectorFilter) -> f64 {
    let mut times: Vec<f64> = queries
        .iter()
        .map(|q| {
            let t = std::time::Instant::now();
            store.search(q, 10, filter).unwrap();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Figures for the report: `cargo test -p lore-index --test engines_vector figures -- --ignored --nocapture`
/// (`LORE_FIGURES_N` sets the number of 384-d points, default 20000).
#[test]
#[ignore = "measurement without a target: prints the vector store's timings (-- --ignored --nocapture)"]
fn figures() {
    let n: usize = std::env::var("LORE_FIGURES_N").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let dim = 384;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors");
    let store = EdgeStore::open(&path, dim, EdgeOptions::default()).unwrap();
    let points = clustered(n, dim);
    let queries: Vec<Vec<f32>> = points.iter().step_by(n / 50).map(|p| p.vector.clone()).collect();
    let t = std::time::Instant::now();
    store.upsert(&points).unwrap();
    let upsert = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    store.flush().unwrap();
    let flush = t.elapsed().as_secs_f64();
    eprintln!("{n} x {dim}: upsert {:.0} points/s, flush {flush:.2} s", n as f64 / upsert);
    eprintln!(
        "on disk: total {:.1} MB, of which wal {:.1} MB",
        store.disk_bytes() as f64 / 1e6,
        store.wal_bytes() as f64 / 1e6
    );
    let by_doc = VectorFilter { doc_ids: vec![7], ..Default::default() };
    eprintln!(
        "search p50 before optimize: {:.2} ms, filtered by doc {:.2} ms",
        median_search_ms(&store, &queries, &VectorFilter::default()),
        median_search_ms(&store, &queries, &by_doc)
    );
    let t = std::time::Instant::now();
    let copy = EdgeStore::open_copy(&path, &dir.path().join("copy"), EdgeOptions::default()).unwrap();
    eprintln!(
        "open_copy while the writer holds the store: {:.2} s ({} points)",
        t.elapsed().as_secs_f64(),
        copy.count().unwrap()
    );
    drop(copy);
    let t = std::time::Instant::now();
    store.optimize().unwrap();
    eprintln!(
        "optimize ({} indexing threads): {:.1} s, {} of {n} vectors in HNSW",
        EdgeOptions::default().indexing_threads,
        t.elapsed().as_secs_f64(),
        store.indexed_count().unwrap()
    );
    eprintln!(
        "search p50 after optimize: {:.2} ms, filtered by doc {:.2} ms",
        median_search_ms(&store, &queries, &VectorFilter::default()),
        median_search_ms(&store, &queries, &by_doc)
    );
    // The write-ahead log is never truncated by this engine version: rewrite everything once.
    store.upsert(&points).unwrap();
    store.flush().unwrap();
    eprintln!("after rewriting every point once: wal {:.1} MB", store.wal_bytes() as f64 / 1e6);
    let t = std::time::Instant::now();
    store.compact().unwrap();
    eprintln!(
        "compact: {:.1} s, wal {:.1} MB, store {:.1} MB",
        t.elapsed().as_secs_f64(),
        store.wal_bytes() as f64 / 1e6,
        store.disk_bytes() as f64 / 1e6
    );
    drop(store);
    let t = std::time::Instant::now();
    let store = EdgeStore::open(&path, dim, EdgeOptions::default()).unwrap();
    eprintln!("reopen: {:.2} s, {} points", t.elapsed().as_secs_f64(), store.count().unwrap());
}

/// What survives a crash: a child process writes, flushes, writes more and aborts.
/// The test runs itself again as that child (`LORE_CRASH_CHILD` names the store's folder).
#[test]
fn crash_keeps_what_was_flushed() {
    if let Ok(path) = std::env::var("LORE_CRASH_CHILD") {
        let store = EdgeStore::open(Path::new(&path), DIM, EdgeOptions::default()).unwrap();
        let points: Vec<VectorPoint> =
            (0..2000).map(|i| point(i, i / 10, i % 10, axis(i as usize, 0.1))).collect();
        store.upsert(&points[..1000]).unwrap();
        store.flush().unwrap();
        store.upsert(&points[1000..]).unwrap();
        store.delete_doc(0).unwrap();
        std::process::abort();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_keeps_what_was_flushed", "--nocapture"])
        .env("LORE_CRASH_CHILD", &path)
        .status()
        .unwrap();
    assert!(!status.success());
    let store = EdgeStore::open(&path, DIM, EdgeOptions::default()).unwrap();
    let ids = store.all_ids().unwrap();
    eprintln!(
        "after abort: {} points (1000 flushed, 1000 more and a delete of 10 unflushed); doc 0 present: {}",
        ids.len(),
        ids.contains(&0)
    );
    assert!(ids.len() >= 1000);
    // The store takes writes again after the crash.
    store.upsert(&[point(5000, 500, 0, axis(1, 0.0))]).unwrap();
    store.flush().unwrap();
}

/// Rewrites `points` until the log is more than `times` its size at the start (a fresh log's
/// preallocated files); returns that size.
fn grow_log(store: &EdgeStore, points: &[VectorPoint], times: u64) -> u64 {
    let fresh_wal = store.wal_bytes();
    for _ in 0..100 {
        store.upsert(points).unwrap();
        if store.wal_bytes() > times * fresh_wal {
            break;
        }
    }
    fresh_wal
}

/// The engine never truncates its write-ahead log and reads all of it on open; lore removes
/// the closed log files but the newest at each open. What was written stays, and writes after
/// the trim (numbered on from the newest file) are applied, not ignored as old.
#[test]
fn reopening_trims_the_log_and_keeps_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors");
    let store = open(&path);
    let points = clustered(3000, DIM);
    let fresh_wal = grow_log(&store, &points, 3);
    store.flush().unwrap();
    let grown = store.wal_bytes();
    assert!(grown > 3 * fresh_wal, "{grown} <= 3 x {fresh_wal}");
    let ids = store.all_ids().unwrap();
    let q = points[777].vector.clone();
    let before = store.search(&q, 5, &VectorFilter::default()).unwrap();
    drop(store);

    let store = open(&path);
    let trimmed = store.wal_bytes();
    assert!(trimmed < grown / 2, "log {trimmed} bytes after reopening, {grown} before");
    assert_eq!(store.all_ids().unwrap(), ids);
    assert_eq!(store.search(&q, 5, &VectorFilter::default()).unwrap(), before);
    // A point moved and a document removed after the trim.
    let moved = VectorPoint { vector: axis(3, 0.0), ..points[777].clone() };
    store.upsert(std::slice::from_ref(&moved)).unwrap();
    store.delete_doc(0).unwrap();
    store.flush().unwrap();
    drop(store);

    let store = open(&path);
    assert_eq!(store.all_ids().unwrap().len(), ids.len() - 20);
    let nearest = store.search(&axis(3, 0.0), 1, &VectorFilter::default()).unwrap();
    assert_eq!(nearest[0].chunk_id, moved.chunk_id);
    assert!(nearest[0].score > 0.999, "{}", nearest[0].score);
    // Open twice, the second is refused and leaves the first's log alone.
    let before_second = store.wal_bytes();
    assert!(matches!(EdgeStore::open(&path, DIM, EdgeOptions::default()), Err(VectorError::Locked { .. })));
    assert_eq!(store.wal_bytes(), before_second);
}

#[test]
fn compaction_keeps_points_and_starts_a_fresh_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors");
    let store = open(&path);
    let points = clustered(3000, DIM);
    let fresh_wal = grow_log(&store, &points, 2);
    store.delete_doc(0).unwrap();
    store.flush().unwrap();
    let ids = store.all_ids().unwrap();
    assert_eq!(ids.len(), 2980);
    let q = points[777].vector.clone();
    let before = store.search(&q, 5, &VectorFilter::default()).unwrap();
    let wal_before = store.wal_bytes();
    store.compact().unwrap();
    assert_eq!(store.all_ids().unwrap(), ids);
    let after = store.search(&q, 5, &VectorFilter::default()).unwrap();
    assert_eq!(before, after);
    assert!(wal_before > 2 * fresh_wal, "{wal_before}");
    assert!(store.wal_bytes() <= fresh_wal, "{} > {fresh_wal}", store.wal_bytes());
    // Filters still work: the payload indexes come along.
    let f = VectorFilter { doc_ids: vec![5], ..Default::default() };
    assert_eq!(store.search(&q, 50, &f).unwrap().len(), 20);
    drop(store);
    let store = open(&path);
    assert_eq!(store.all_ids().unwrap(), ids);
    let generations: Vec<String> = std::fs::read_dir(&path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('g'))
        .collect();
    assert_eq!(generations, vec!["g2".to_string()]);
}

#[test]
fn leftovers_of_an_interrupted_switch_are_cleared_and_a_broken_pointer_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors");
    drop(open(&path));
    // A generation built but never switched to.
    std::fs::create_dir_all(path.join("g2").join("segments")).unwrap();
    std::fs::write(path.join("g2").join("junk"), b"x").unwrap();
    let store = open(&path);
    assert!(!path.join("g2").exists());
    assert_eq!(store.count().unwrap(), 0);
    drop(store);
    // CURRENT naming a missing generation is reported, never replaced by an empty store.
    std::fs::write(path.join("CURRENT"), "g9\n").unwrap();
    let err = EdgeStore::open(&path, DIM, EdgeOptions::default()).unwrap_err();
    assert!(err.to_string().contains("g9"), "{err}");
}

#[test]
fn the_store_can_be_shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<EdgeStore>();
    send_sync::<Arc<dyn VectorStore>>();
}

//! Every vector backend against the same CRUD and filter suite: qdrant-edge always, a Qdrant
//! server only when `QDRANT_URL` points at one (e.g. `QDRANT_URL=http://localhost:6334`, with
//! `QDRANT_API_KEY` if it wants a key); without one each server test says it skipped, and fails
//! when `LORE_REQUIRE` names `qdrant`. Each server test works in a collection of its own, named
//! for the test and the run, and deletes it afterwards. Also: switching backend asks for
//! `lore reindex`, which rebuilds into the configured one (needs the embedding runtime).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod vector_support;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use lore_index::{
    EdgeOptions, EdgeStore, ServerOptions, ServerStore, VectorError, VectorFilter, VectorStore, run_blocking,
};
use lore_index::{
    EngineOptions, Error, Library, LibraryOptions, META_BACKEND, Mode, SearchConfig, SearchRequest,
};
use vector_support::{DIM, axis, clustered, hit_ids, sample, suite};

#[test]
fn edge_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = EdgeStore::open(&dir.path().join("vectors"), DIM, EdgeOptions::default()).unwrap();
    assert_eq!(store.backend(), "qdrant-edge");
    suite(&store);
}

/// A collection on the server for one test, deleted when dropped (also when the test fails).
struct Collection {
    options: ServerOptions,
}

impl Drop for Collection {
    fn drop(&mut self) {
        if let Err(e) = ServerStore::remove(&self.options) {
            eprintln!("could not delete test collection {}: {e}", self.options.collection);
        }
    }
}

/// The server named by `QDRANT_URL` with a fresh collection for `test`, or `None` (and a line
/// on stderr, shown even when the output is captured) when there is no server to test against.
fn server(test: &str) -> Option<Collection> {
    let Some(url) = std::env::var("QDRANT_URL").ok().filter(|u| !u.trim().is_empty()) else {
        let required = std::env::var("LORE_REQUIRE")
            .is_ok_and(|v| v.split(',').any(|w| w.trim().eq_ignore_ascii_case("qdrant")));
        assert!(
            !required,
            "{test}: a Qdrant server is required here (LORE_REQUIRE) but QDRANT_URL is not set"
        );
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: QDRANT_URL is not set (no Qdrant server on this machine; \
             LORE_REQUIRE=qdrant makes this a failure)"
        );
        return None;
    };
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let options = ServerOptions {
        url,
        api_key: std::env::var("QDRANT_API_KEY").ok().filter(|k| !k.is_empty()),
        collection: format!("lore_test_{test}_{}_{run}", std::process::id()),
        timeout: Duration::from_secs(30),
        ..Default::default()
    };
    Some(Collection { options })
}

#[test]
fn server_passes_the_suite() {
    let Some(c) = server("server_passes_the_suite") else { return };
    let store = ServerStore::open(&c.options, DIM).unwrap();
    assert_eq!(store.backend(), "qdrant");
    suite(&store);
}

#[test]
fn server_batches_writes_of_any_size() {
    let Some(mut c) = server("server_batches_writes_of_any_size") else { return };
    c.options.batch_size = 7;
    let store = ServerStore::open(&c.options, DIM).unwrap();
    let points = clustered(100, DIM);
    store.upsert(&points).unwrap();
    assert_eq!(store.count().unwrap(), 100);
    assert_eq!(store.all_ids().unwrap(), (0..100).collect::<Vec<i64>>());
}

#[test]
fn server_collection_persists_and_checks_the_dimension() {
    let Some(c) = server("server_collection_persists_and_checks_the_dimension") else { return };
    assert!(!ServerStore::exists(&c.options).unwrap());
    {
        let store = ServerStore::open(&c.options, DIM).unwrap();
        store.upsert(&sample()).unwrap();
        store.delete_doc(3).unwrap();
    }
    assert!(ServerStore::exists(&c.options).unwrap());
    let store = ServerStore::open(&c.options, DIM).unwrap();
    assert_eq!(store.all_ids().unwrap(), vec![101, 102, 103, 201, 202]);
    let f = VectorFilter { tags: vec!["web".into()], ..Default::default() };
    assert_eq!(hit_ids(&store, &axis(0, 0.0), 1, &f), vec![202]);

    let err = ServerStore::open(&c.options, DIM * 2).unwrap_err();
    assert!(
        matches!(err, VectorError::DimensionMismatch { stored: DIM, wanted } if wanted == DIM * 2),
        "{err}"
    );
    assert!(err.to_string().contains("lore reindex"));
    // Recreating with the new dimension starts over.
    store.recreate(DIM * 2).unwrap();
    assert_eq!(store.dim(), DIM * 2);
    assert_eq!(store.count().unwrap(), 0);
    let reopened = ServerStore::open(&c.options, DIM * 2).unwrap();
    assert_eq!(reopened.dim(), DIM * 2);
    ServerStore::remove(&c.options).unwrap();
    assert!(!ServerStore::exists(&c.options).unwrap());
}

#[test]
fn server_serves_a_reader_beside_a_writer_and_async_callers() {
    let Some(c) = server("server_serves_a_reader_beside_a_writer_and_async_callers") else { return };
    let writer = ServerStore::open(&c.options, DIM).unwrap();
    let reader: Arc<dyn VectorStore> = Arc::new(ServerStore::open(&c.options, DIM).unwrap());
    writer.upsert(&sample()).unwrap();
    // Writes wait until applied: the other handle sees them at once.
    assert_eq!(reader.count().unwrap(), 6);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let n = runtime.block_on(run_blocking(&reader, |s| s.count())).unwrap();
    assert_eq!(n, 6);
    let ids = runtime
        .block_on(run_blocking(&reader, |s| s.search(&axis(3, 0.0), 1, &VectorFilter::default())))
        .unwrap();
    assert_eq!(ids[0].chunk_id, 301);
    // Dropping a store inside async code does not panic.
    runtime.block_on(async move { drop(reader) });
}

fn engine_options(runtime: &Path, server: Option<ServerOptions>) -> EngineOptions {
    EngineOptions { runtime_dir: runtime.to_path_buf(), server, ..Default::default() }
}

fn library_options(engines: EngineOptions) -> LibraryOptions {
    LibraryOptions { engines: Some(engines), ..Default::default() }
}

fn runtime_dir() -> std::path::PathBuf {
    let runtime = lore_index::default_runtime_dir().expect("a home directory");
    assert!(
        runtime.join("ort").is_dir(),
        "no embedding runtime in {}: run scripts/setup.sh",
        runtime.display()
    );
    runtime
}

fn write_note(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("note.md");
    std::fs::write(
        &file,
        "# Tail calls\n\nA tail call is a call in tail position; Scheme requires proper tail calls.\n\n\
         # Closures\n\nA closure captures the variables of its defining environment.\n",
    )
    .unwrap();
    file
}

fn search(lib: &Library, query: &str) -> lore_index::Result<Vec<lore_index::SearchHit>> {
    let req = SearchRequest { query: query.into(), k: 3, mode: Mode::Vector, filter: Default::default() };
    lib.search(&SearchConfig::default(), &req)
}

/// A library whose indexes were built in another vector store asks for `lore reindex` (writers
/// and readers alike), and the reindex rebuilds into the configured store and records it.
#[test]
fn a_switch_of_vector_backend_asks_for_reindex() {
    let runtime = runtime_dir();
    let home = tempfile::tempdir().unwrap();
    let note = write_note(home.path());
    let edge = engine_options(&runtime, None);
    {
        let mut lib = Library::open_writer(home.path(), library_options(edge.clone())).unwrap();
        lib.add_paths(&[note], &[], &mut |_| {}).unwrap();
        assert_eq!(lib.catalog().meta_get(META_BACKEND).unwrap().as_deref(), Some("qdrant-edge"));
        assert!(!search(&lib, "proper tail calls").unwrap().is_empty());
        // As if the indexes had been built in a server's collection.
        lib.catalog().meta_set(META_BACKEND, "qdrant collection elsewhere").unwrap();
    }
    let reader = Library::open_reader(home.path(), Some(&edge)).unwrap();
    let err = search(&reader, "proper tail calls").unwrap_err();
    assert!(matches!(err, Error::NeedsReindex(_)), "{err}");
    let text = err.to_string();
    assert!(text.contains("qdrant collection elsewhere") && text.contains("qdrant-edge"), "{text}");
    assert!(text.contains("lore reindex"), "{text}");
    drop(reader);

    let mut lib = Library::open_writer(home.path(), library_options(edge.clone())).unwrap();
    assert!(matches!(search(&lib, "proper tail calls"), Err(Error::NeedsReindex(_))));
    let report = lib.reindex(&mut |_, _| {}).unwrap();
    assert!(report.chunks > 0);
    assert_eq!(lib.catalog().meta_get(META_BACKEND).unwrap().as_deref(), Some("qdrant-edge"));
    assert!(!search(&lib, "proper tail calls").unwrap().is_empty());
    drop(lib);
    let reader = Library::open_reader(home.path(), Some(&edge)).unwrap();
    assert!(!search(&reader, "proper tail calls").unwrap().is_empty());
}

/// A library on a server: built, searched by a reader, and rebuilt from the catalog alone after
/// a switch from the embedded store.
#[test]
fn a_library_moves_to_a_server_with_reindex() {
    let Some(c) = server("a_library_moves_to_a_server_with_reindex") else { return };
    let runtime = runtime_dir();
    let home = tempfile::tempdir().unwrap();
    let note = write_note(home.path());
    let edge = engine_options(&runtime, None);
    let on_server = engine_options(&runtime, Some(c.options.clone()));
    {
        let mut lib = Library::open_writer(home.path(), library_options(edge)).unwrap();
        lib.add_paths(&[note], &[], &mut |_| {}).unwrap();
    }
    let mut lib = Library::open_writer(home.path(), library_options(on_server.clone())).unwrap();
    let err = search(&lib, "proper tail calls").unwrap_err();
    assert!(matches!(err, Error::NeedsReindex(_)), "{err}");
    lib.reindex(&mut |_, _| {}).unwrap();
    let c2 = lib.consistency().unwrap();
    assert!(c2.agrees() && !c2.catalog.is_empty());
    let top = search(&lib, "proper tail calls").unwrap();
    assert!(top[0].chunk.text.contains("tail"), "{:?}", top[0].chunk.text);
    // A reader searches the server while the writer is open.
    let reader = Library::open_reader(home.path(), Some(&on_server)).unwrap();
    assert_eq!(search(&reader, "proper tail calls").unwrap()[0].chunk.id, top[0].chunk.id);
}

/// Vectors of another dimension (another model's) do not keep the library from opening for
/// `lore reindex`, which rebuilds them with the configured model's dimension.
#[test]
fn reindex_rebuilds_vectors_of_another_dimension() {
    use lore_index::META_DIM;
    use lore_index::layout::VECTOR_DIR;
    let runtime = runtime_dir();
    let home = tempfile::tempdir().unwrap();
    let note = write_note(home.path());
    let edge = engine_options(&runtime, None);
    {
        let mut lib = Library::open_writer(home.path(), library_options(edge.clone())).unwrap();
        lib.add_paths(&[note], &[], &mut |_| {}).unwrap();
        // As if an 8-dimensional model had made the vectors.
        lib.catalog().meta_set(META_DIM, &DIM.to_string()).unwrap();
    }
    let store_dir = home.path().join(VECTOR_DIR);
    EdgeStore::remove(&store_dir).unwrap();
    {
        let store = EdgeStore::open(&store_dir, DIM, EdgeOptions::default()).unwrap();
        store.upsert(&sample()).unwrap();
        store.flush().unwrap();
    }
    let mut lib = Library::open_writer(home.path(), library_options(edge.clone())).unwrap();
    let err = search(&lib, "proper tail calls").unwrap_err();
    assert!(matches!(err, Error::ModelMismatch { .. }), "{err}");
    // The store was opened as it is, not emptied.
    assert_eq!(lib.consistency().unwrap().vectors.len(), sample().len());
    lib.reindex(&mut |_, _| {}).unwrap();
    assert!(lib.consistency().unwrap().agrees());
    assert!(!search(&lib, "proper tail calls").unwrap().is_empty());
}

/// A new library whose vector store already holds vectors of another dimension (a collection
/// another library or model filled) refuses to write into it and asks for `lore reindex`.
#[test]
fn a_new_library_on_a_foreign_store_asks_for_reindex() {
    use lore_index::META_MODEL;
    use lore_index::layout::VECTOR_DIR;
    let runtime = runtime_dir();
    let home = tempfile::tempdir().unwrap();
    let note = write_note(home.path());
    {
        let store = EdgeStore::open(&home.path().join(VECTOR_DIR), DIM, EdgeOptions::default()).unwrap();
        store.upsert(&sample()).unwrap();
        store.flush().unwrap();
    }
    let edge = engine_options(&runtime, None);
    let mut lib = Library::open_writer(home.path(), library_options(edge)).unwrap();
    let err = lib.add_paths(std::slice::from_ref(&note), &[], &mut |_| {}).unwrap_err();
    assert!(matches!(err, Error::NeedsReindex(_)), "{err}");
    assert!(err.to_string().contains(&format!("{DIM}-dimensional")), "{err}");
    assert_eq!(lib.catalog().meta_get(META_MODEL).unwrap(), None, "nothing recorded for a store not filled");
    lib.reindex(&mut |_, _| {}).unwrap();
    lib.add_paths(&[note], &[], &mut |_| {}).unwrap();
    assert!(lib.consistency().unwrap().agrees());
    assert!(!search(&lib, "proper tail calls").unwrap().is_empty());
}

//! The library with its real engines: indexing, search, reindex and repair after an interrupted
//! ingest, on real documents. Needs the embedding runtime that `scripts/setup.sh` installs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use lore_index::catalog::{Catalog, NewDocument};
use lore_index::{Library, Mode, SearchConfig, SearchRequest};
use lore_ingest::{ChunkConfig, Chunker, LoadOptions};

mod common;

use common::{data, options};

fn faq_files() -> Vec<PathBuf> {
    ["programming.html", "design.html"]
        .iter()
        .map(|f| data(&format!("docs/html/python3.11-faq/{f}")))
        .collect()
}

/// The catalog, the vector store and the keyword index hold the same, non-empty set of chunks.
fn assert_in_step(lib: &Library) -> lore_index::Consistency {
    let c = lib.consistency().unwrap();
    let (catalog, vectors, keyword) = (c.catalog.len(), c.vectors.len(), c.keyword.len());
    assert!(c.agrees() && catalog > 0, "catalog {catalog} vectors {vectors} keyword {keyword}");
    c
}

fn top_source(lib: &Library, query: &str, mode: Mode) -> String {
    let req = SearchRequest { query: query.into(), k: 5, mode, filter: Default::default() };
    let hits = lib.search(&SearchConfig::default(), &req).unwrap();
    assert!(!hits.is_empty(), "no hits for {query:?} in {mode:?}");
    hits[0].source.clone()
}

#[test]
fn add_search_reindex_and_remove_keep_the_stores_in_step() {
    let home = tempfile::tempdir().unwrap();
    let mut lib = Library::open_writer(home.path(), options()).unwrap();
    let report = lib.add_paths(&faq_files(), &["faq".into()], &mut |_| {}).unwrap();
    assert_eq!(report.added, 2, "{report:?}");
    let c = assert_in_step(&lib);

    let q = "How do I write a function with output parameters (call by reference)?";
    for mode in Mode::ALL {
        assert!(top_source(&lib, q, mode).ends_with("programming.html"), "{mode:?}");
    }

    let before: Vec<i64> = {
        let req = SearchRequest { query: q.into(), k: 5, mode: Mode::Hybrid, filter: Default::default() };
        lib.search(&SearchConfig::default(), &req).unwrap().iter().map(|h| h.chunk.id).collect()
    };
    let r = lib.reindex(&mut |_, _| {}).unwrap();
    assert_eq!(r.chunks, c.catalog.len());
    assert!(lib.consistency().unwrap().agrees());
    let after: Vec<i64> = {
        let req = SearchRequest { query: q.into(), k: 5, mode: Mode::Hybrid, filter: Default::default() };
        lib.search(&SearchConfig::default(), &req).unwrap().iter().map(|h| h.chunk.id).collect()
    };
    assert_eq!(before, after, "reindex rebuilds the same indexes");

    let id = lib.resolve("Programming FAQ").unwrap()[0].id;
    lib.remove(id).unwrap();
    let c = lib.consistency().unwrap();
    assert!(c.agrees());
    assert!(!top_source(&lib, q, Mode::Keyword).ends_with("programming.html"));
}

#[test]
fn an_interrupted_ingest_is_repaired_on_open() {
    let home = tempfile::tempdir().unwrap();
    {
        // A writer that stopped after the catalog transaction, before any index write.
        let mut lib = Library::open_writer(home.path(), options()).unwrap();
        lib.add_paths(&faq_files()[1..], &[], &mut |_| {}).unwrap();
    }
    {
        let mut cat = Catalog::open(&home.path().join("catalog.sqlite")).unwrap();
        let doc = lore_ingest::load_path(&faq_files()[0], &LoadOptions::default()).unwrap();
        let chunks = Chunker::estimated(ChunkConfig::default()).chunk(&doc).unwrap();
        let new = NewDocument { doc: &doc, chunks: &chunks, tags: &[], root_id: None, file: None };
        cat.begin_upsert(&new).unwrap();
        assert_eq!(cat.journal().unwrap().len(), 1);
        // And a removal that stopped after the journal entry.
        let other = cat.resolve("Design and History FAQ").unwrap()[0].id;
        cat.begin_remove(other).unwrap();
    }
    let mut lib = Library::open_writer(home.path(), options()).unwrap();
    assert!(lib.catalog().journal().unwrap().is_empty());
    assert_eq!(lib.catalog().counts().unwrap().0, 1, "the removal was completed");
    let q = "How do I write a function with output parameters (call by reference)?";
    // Opening repairs the first phase: the document is searchable by keywords, its chunks await
    // vectors, which the next add or sync (here called directly) makes.
    let pending = lib.vectors_pending().unwrap();
    assert!(pending > 0, "the repaired document awaits its vectors");
    assert!(lib.consistency().unwrap().in_step());
    assert!(top_source(&lib, q, Mode::Keyword).ends_with("programming.html"));
    assert_eq!(lib.embed_pending(&mut |_, _| {}).unwrap() as u64, pending);
    assert_in_step(&lib);
    assert!(
        top_source(&lib, q, Mode::Vector).ends_with("programming.html"),
        "the repaired document is searchable"
    );
}

#[test]
fn a_library_indexed_with_another_model_asks_for_reindex() {
    let home = tempfile::tempdir().unwrap();
    {
        let mut lib = Library::open_writer(home.path(), options()).unwrap();
        lib.add_paths(&faq_files()[1..], &[], &mut |_| {}).unwrap();
    }
    Catalog::open(&home.path().join("catalog.sqlite"))
        .unwrap()
        .meta_set("embedding.model", "SomeOtherModel")
        .unwrap();
    let mut lib = Library::open_writer(home.path(), options()).unwrap();
    let err = lib.add_paths(&faq_files()[..1], &[], &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("lore reindex"), "{err}");
    lib.reindex(&mut |_, _| {}).unwrap();
    lib.add_paths(&faq_files()[..1], &[], &mut |_| {}).unwrap();
    assert!(lib.consistency().unwrap().agrees());
}

//! The stores check of the crash and concurrency tests compares content, not ids alone: a chunk
//! whose text in the keyword index is not the catalog's, or whose vector is another chunk's, is
//! reported although every id is where it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lore_index::catalog::Catalog;
use lore_index::{EdgeOptions, EdgeStore, KeywordConfig, KeywordDoc, KeywordIndex, VectorPoint, VectorStore};
use lore_tests::Lore;
use lore_tests::corpus::write_notes;
use lore_tests::rng::Rng;
use lore_tests::stores::{MIN_COSINE, StoreView};

#[test]
fn a_wrong_text_or_vector_under_the_right_id_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes");
    write_notes(&notes, 6, 0, &mut Rng::new(3));
    let lore = Lore::new();
    lore.run(&["add", notes.to_str().unwrap()]).ok();
    let view = StoreView::read(lore.home());
    view.check_exact().expect("a fresh library is consistent");
    let lowest = view.lowest_cosine();
    assert!(lowest >= MIN_COSINE, "lowest cosine {lowest}");
    eprintln!("lowest cosine of a stored vector with a fresh embedding: {lowest:.5}");

    let catalog = Catalog::open_read_only_home(lore.home()).unwrap();
    let ids = catalog.all_chunk_ids().unwrap();
    let (a, b) = (ids[0], ids[1]);
    let chunk = catalog.chunk(a).unwrap().unwrap();
    let doc = catalog.get(chunk.doc_id).unwrap().unwrap();
    drop(catalog);

    // The keyword index holds chunk `a` with another text.
    let keyword =
        KeywordIndex::open(&lore.home().join(lore_index::layout::KEYWORD_DIR), &KeywordConfig::default())
            .unwrap();
    keyword
        .add(&[KeywordDoc {
            chunk_id: a,
            doc_id: chunk.doc_id,
            title: doc.title.clone(),
            heading_path: chunk.heading_path.clone(),
            text: format!("{} (altered)", chunk.text),
            kind: doc.kind.clone(),
            tags: vec![],
            lang: chunk.language.clone(),
            published: None,
            added: 0,
        }])
        .unwrap();
    keyword.commit().unwrap();
    drop(keyword);
    let view = StoreView::read(lore.home());
    let err = view.check_exact().expect_err("an altered text is found");
    assert!(err.contains("1 chunks hold another text in the keyword index"), "{err}");
    assert_eq!(view.keyword, view.catalog_ids(), "the ids alone agree");

    // And the vector store holds chunk `b`'s vector under chunk `a`'s id.
    let b_vector = view.vector_values[&b].clone();
    let vectors = EdgeStore::open(
        &lore.home().join(lore_index::layout::VECTOR_DIR),
        b_vector.len(),
        EdgeOptions::default(),
    )
    .unwrap();
    vectors
        .upsert(&[VectorPoint {
            chunk_id: a,
            doc_id: chunk.doc_id,
            ordinal: i64::from(chunk.ordinal),
            vector: b_vector,
            kind: doc.kind.clone(),
            tags: vec![],
            published: None,
            added: 0,
            lang: None,
        }])
        .unwrap();
    vectors.flush().unwrap();
    drop(vectors);
    let view = StoreView::read(lore.home());
    let err = view.check_exact().expect_err("a swapped vector is found");
    assert!(err.contains("1 chunks have a vector that is not the embedding of their text"), "{err}");
    assert_eq!(view.vectors, view.catalog_ids(), "the ids alone agree");
}

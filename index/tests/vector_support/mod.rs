//! Shared vector store fixtures and the backend-agnostic CRUD and filter suite: every
//! [`VectorStore`] must pass [`suite`].

#![allow(dead_code)]

use lore_index::{VectorError, VectorFilter, VectorPoint, VectorStore};

/// Dimension of the test vectors.
pub const DIM: usize = 8;

/// A unit vector along axis `i`, tilted a little towards axis `i + 1`.
pub fn axis(i: usize, tilt: f32) -> Vec<f32> {
    let mut v = vec![0.0; DIM];
    v[i % DIM] = 1.0;
    v[(i + 1) % DIM] = tilt;
    v
}

pub fn point(chunk_id: i64, doc_id: i64, ordinal: i64, vector: Vec<f32>) -> VectorPoint {
    VectorPoint {
        chunk_id,
        doc_id,
        ordinal,
        vector,
        kind: "markdown".into(),
        tags: vec![],
        published: None,
        added: 1_700_000_000,
        lang: Some("en".into()),
    }
}

/// Six chunks over three documents with varied metadata.
pub fn sample() -> Vec<VectorPoint> {
    let mut points = vec![
        point(101, 1, 0, axis(0, 0.0)),
        point(102, 1, 1, axis(0, 0.3)),
        point(103, 1, 2, axis(1, 0.0)),
        point(201, 2, 0, axis(2, 0.0)),
        point(202, 2, 1, axis(0, 0.6)),
        point(301, 3, 0, axis(3, 0.0)),
    ];
    for p in &mut points[..3] {
        p.kind = "pdf".into();
        p.tags = vec!["lisp".into(), "cs".into()];
        p.published = Some(1_500_000_000);
    }
    for p in &mut points[3..5] {
        p.kind = "html".into();
        // A tag with a space must still match exactly.
        p.tags = vec!["web".into(), "open web".into()];
        p.published = Some(1_600_000_000);
        p.lang = Some("de".into());
    }
    points[5].tags = vec!["cs".into()];
    points[5].lang = None;
    points
}

/// Clustered vectors of dimension `dim`, deterministic.
pub fn clustered(n: usize, dim: usize) -> Vec<VectorPoint> {
    (0..n)
        .map(|i| {
            let centre = i % 50;
            let v: Vec<f32> = (0..dim)
                .map(|d| ((centre * 31 + d * 7) as f32).sin() + 0.3 * ((i * 13 + d * 3) as f32).cos())
                .collect();
            point(i as i64, (i / 20) as i64, (i % 20) as i64, v)
        })
        .collect()
}

pub fn hit_ids(store: &dyn VectorStore, query: &[f32], k: usize, filter: &VectorFilter) -> Vec<i64> {
    store.search(query, k, filter).unwrap().iter().map(|h| h.chunk_id).collect()
}

/// The whole suite; the store must have dimension [`DIM`]. It is left empty.
pub fn suite(store: &dyn VectorStore) {
    upsert_search_replace_and_delete(store);
    filters_are_applied_in_the_engine(store);
    rejects_vectors_of_the_wrong_length(store);
    store.clear().unwrap();
}

/// Upserts, searches, replaces a point, deletes by chunk and by document, clears.
pub fn upsert_search_replace_and_delete(store: &dyn VectorStore) {
    store.clear().unwrap();
    assert_eq!(store.dim(), DIM);
    assert_eq!(store.count().unwrap(), 0);
    assert!(store.all_ids().unwrap().is_empty());
    store.upsert(&sample()).unwrap();
    store.flush().unwrap();
    assert_eq!(store.count().unwrap(), 6);
    assert_eq!(store.all_ids().unwrap(), vec![101, 102, 103, 201, 202, 301]);

    let hits = store.search(&axis(0, 0.0), 3, &VectorFilter::default()).unwrap();
    assert_eq!(hits.iter().map(|h| h.chunk_id).collect::<Vec<_>>(), vec![101, 102, 202]);
    assert!((hits[0].score - 1.0).abs() < 1e-5, "{hits:?}");
    assert!(hits[0].score > hits[1].score && hits[1].score > hits[2].score);
    assert_eq!(hits[0].doc_id, 1);

    // A document's stored vectors, in chunk order, as written (up to the store's precision).
    let stored = store.doc_vectors(1).unwrap();
    assert_eq!(stored.iter().map(|(c, _)| *c).collect::<Vec<_>>(), vec![101, 102, 103]);
    for ((_, got), written) in stored.iter().zip(&sample()[..3]) {
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let dot: f32 = got.iter().zip(&written.vector).map(|(a, b)| a * b).sum();
        let cosine = dot / (norm(got) * norm(&written.vector));
        assert!(cosine > 0.999, "chunk {} came back at cosine {cosine}", written.chunk_id);
    }
    assert!(store.doc_vectors(42).unwrap().is_empty());

    // The same (document, ordinal) is the same point: a new chunk id replaces the old one.
    store.upsert(&[point(111, 1, 0, axis(5, 0.0))]).unwrap();
    assert_eq!(store.count().unwrap(), 6);
    assert_eq!(store.all_ids().unwrap(), vec![102, 103, 111, 201, 202, 301]);
    assert_eq!(hit_ids(store, &axis(5, 0.0), 1, &VectorFilter::default()), vec![111]);

    store.delete_points(&[102, 999]).unwrap();
    assert_eq!(store.all_ids().unwrap(), vec![103, 111, 201, 202, 301]);
    store.delete_doc(2).unwrap();
    assert_eq!(store.all_ids().unwrap(), vec![103, 111, 301]);
    store.delete_doc(42).unwrap();
    store.delete_points(&[]).unwrap();
    assert_eq!(store.count().unwrap(), 3);
    store.optimize().unwrap();
    assert_eq!(hit_ids(store, &axis(3, 0.0), 1, &VectorFilter::default()), vec![301]);

    store.clear().unwrap();
    assert_eq!(store.count().unwrap(), 0);
    assert_eq!(store.dim(), DIM);
    store.upsert(&sample()).unwrap();
    assert_eq!(store.count().unwrap(), 6);

    // More points than one write batch, and more ids than one scroll page.
    store.clear().unwrap();
    let many = clustered(2500, DIM);
    store.upsert(&many).unwrap();
    assert_eq!(store.count().unwrap(), 2500);
    assert_eq!(store.all_ids().unwrap(), (0..2500).collect::<Vec<i64>>());
    let doomed: Vec<i64> = (0..1500).collect();
    store.delete_points(&doomed).unwrap();
    assert_eq!(store.count().unwrap(), 1000);
}

/// Every filter field, alone and combined, is applied before the top k is taken.
pub fn filters_are_applied_in_the_engine(store: &dyn VectorStore) {
    store.clear().unwrap();
    store.upsert(&sample()).unwrap();
    let q = axis(0, 0.0);
    let search = |f: VectorFilter| {
        let mut ids = hit_ids(store, &q, 10, &f);
        ids.sort();
        ids
    };
    assert_eq!(search(VectorFilter::default()).len(), 6);
    assert_eq!(search(VectorFilter { kinds: vec!["html".into()], ..Default::default() }), vec![201, 202]);
    assert_eq!(
        search(VectorFilter { kinds: vec!["html".into(), "markdown".into()], ..Default::default() }),
        vec![201, 202, 301]
    );
    assert_eq!(
        search(VectorFilter { tags: vec!["cs".into()], ..Default::default() }),
        vec![101, 102, 103, 301]
    );
    assert_eq!(
        search(VectorFilter { tags: vec!["web".into(), "lisp".into()], ..Default::default() }).len(),
        5
    );
    assert_eq!(search(VectorFilter { tags: vec!["open web".into()], ..Default::default() }), vec![201, 202]);
    assert!(search(VectorFilter { tags: vec!["open".into()], ..Default::default() }).is_empty());
    assert_eq!(search(VectorFilter { doc_ids: vec![1, 3], ..Default::default() }), vec![101, 102, 103, 301]);
    assert_eq!(search(VectorFilter { lang: Some("de".into()), ..Default::default() }), vec![201, 202]);
    assert_eq!(search(VectorFilter { date_from: Some(1_550_000_000), ..Default::default() }), vec![201, 202]);
    assert_eq!(
        search(VectorFilter { date_to: Some(1_550_000_000), ..Default::default() }),
        vec![101, 102, 103]
    );
    assert_eq!(
        search(VectorFilter {
            date_from: Some(1_500_000_000),
            date_to: Some(1_600_000_000),
            ..Default::default()
        }),
        vec![101, 102, 103, 201, 202]
    );
    assert_eq!(
        search(VectorFilter { kinds: vec!["pdf".into()], tags: vec!["web".into()], ..Default::default() }),
        Vec::<i64>::new()
    );
    // The filter is applied before the top k is taken: chunk 202 comes back with k = 1 though
    // two chunks of another document are closer to the query.
    assert_eq!(hit_ids(store, &q, 1, &VectorFilter { doc_ids: vec![2], ..Default::default() }), vec![202]);
}

/// Vectors and queries of another length are refused; k = 0 finds nothing.
pub fn rejects_vectors_of_the_wrong_length(store: &dyn VectorStore) {
    store.clear().unwrap();
    let err = store.upsert(&[point(1, 1, 0, vec![1.0; DIM + 1])]).unwrap_err();
    assert!(matches!(err, VectorError::BadVector { expected: DIM, got } if got == DIM + 1), "{err}");
    assert!(matches!(
        store.search(&[1.0; 3], 5, &VectorFilter::default()),
        Err(VectorError::BadVector { .. })
    ));
    assert_eq!(store.count().unwrap(), 0);
    assert!(store.search(&axis(0, 0.0), 0, &VectorFilter::default()).unwrap().is_empty());
}

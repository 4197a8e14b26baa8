use lore_ingest::{Chunk, Document, Kind, Section};

use super::*;

pub(super) fn doc(source: &str, hash: &str, paras: &[&str]) -> (Document, Vec<Chunk>) {
    let sections: Vec<Section> = paras.iter().map(|p| Section::new(vec![format!("H {p}")], *p)).collect();
    let chunks = sections
        .iter()
        .enumerate()
        .map(|(i, s)| Chunk {
            ordinal: i as u32,
            section: i as u32,
            text: s.text.clone(),
            heading_path: s.heading_path.clone(),
            anchor: None,
            page_start: None,
            page_end: None,
            char_start: 0,
            char_end: s.text.len(),
            tokens: 3,
            language: None,
            line_start: Some(i as u32 + 1),
            line_end: Some(i as u32 + 1),
            ocr: false,
        })
        .collect();
    let d = Document {
        source: source.into(),
        url: None,
        kind: Kind::Text,
        title: format!("Title of {source}"),
        authors: vec!["A. Author".into()],
        language: Some("en".into()),
        published: None,
        hash: hash.into(),
        byte_len: 10,
        page_count: None,
        site: None,
        sections,
    };
    (d, chunks)
}

pub(super) fn add(cat: &mut Catalog, d: &(Document, Vec<Chunk>), tags: &[String]) -> Upsert {
    let new = NewDocument { doc: &d.0, chunks: &d.1, tags, root_id: None, file: None };
    let out = cat.begin_upsert(&new).unwrap();
    cat.finish(out.doc_id()).unwrap();
    out
}

#[test]
fn add_unchanged_changed_and_remove() {
    let mut cat = Catalog::open_in_memory().unwrap();
    let a = doc("/a.txt", "h1", &["one", "two", "three"]);
    let Upsert::Added(id) = add(&mut cat, &a, &["x".into()]) else { panic!("not added") };
    assert_eq!(add(&mut cat, &a, &["y".into()]), Upsert::Unchanged(id));
    assert_eq!(cat.tags_of(id).unwrap(), vec!["x", "y"]);
    assert_eq!(cat.counts().unwrap(), (1, 3));

    let a2 = doc("/a.txt", "h2", &["uno"]);
    assert_eq!(add(&mut cat, &a2, &[]), Upsert::Replaced(id));
    let chunks = cat.chunks_of(id, 0, 10).unwrap();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].text, "uno");
    assert_eq!(chunks[0].id, chunk_id(id, 0));
    assert_eq!(doc_of_chunk(chunks[0].id), id);
    assert_eq!(cat.chunk(chunks[0].id).unwrap().map(|c| c.text), Some("uno".to_string()));
    assert!(cat.chunk(chunk_id(id, 1)).unwrap().is_none(), "the replaced version's chunk is gone");

    let listed = cat.list(&ListFilter::default()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].chunks, 1);
    assert_eq!(listed[0].tags, vec!["x", "y"]);

    cat.begin_remove(id).unwrap();
    assert!(cat.list(&ListFilter::default()).unwrap().is_empty(), "a document being removed is not listed");
    assert_eq!(cat.journal().unwrap()[0].op, JournalOp::Delete);
    cat.finish_remove(id).unwrap();
    assert_eq!(cat.counts().unwrap(), (0, 0));
    assert!(cat.journal().unwrap().is_empty());
}

#[test]
fn unfinished_upsert_stays_in_the_journal_and_is_redone() {
    let mut cat = Catalog::open_in_memory().unwrap();
    let a = doc("/a.txt", "h1", &["one"]);
    let new = NewDocument { doc: &a.0, chunks: &a.1, tags: &[], root_id: None, file: None };
    let id = cat.begin_upsert(&new).unwrap().doc_id();
    assert_eq!(
        cat.journal().unwrap(),
        vec![JournalEntry {
            doc_id: id,
            op: JournalOp::Index,
            started_at: cat.journal().unwrap()[0].started_at.clone()
        }]
    );
    // The same content again is not "unchanged" while the first attempt is unfinished.
    assert_eq!(cat.begin_upsert(&new).unwrap(), Upsert::Replaced(id));
    cat.finish(id).unwrap();
    assert!(cat.journal().unwrap().is_empty());
}

#[test]
fn resolve_by_id_title_and_source() {
    let mut cat = Catalog::open_in_memory().unwrap();
    let id = add(&mut cat, &doc("/books/kafka.txt", "k", &["gregor"]), &[]).doc_id();
    add(&mut cat, &doc("/books/other.txt", "o", &["x"]), &[]);
    assert_eq!(cat.resolve(&id.to_string()).unwrap()[0].id, id);
    assert_eq!(cat.resolve("/books/kafka.txt").unwrap()[0].id, id);
    assert_eq!(cat.resolve("title of /books/kafka.txt").unwrap()[0].id, id);
    assert_eq!(cat.resolve("kafka").unwrap().len(), 1);
    assert_eq!(cat.resolve("Title of").unwrap().len(), 2);
    assert!(cat.resolve("nothing like it").unwrap().is_empty());
}

#[test]
fn reopening_a_file_keeps_data_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    {
        let mut cat = Catalog::open(&path).unwrap();
        add(&mut cat, &doc("/a", "h", &["p"]), &[]);
        cat.meta_set("embedding.model", "m").unwrap();
    }
    let cat = Catalog::open(&path).unwrap();
    assert_eq!(cat.counts().unwrap(), (1, 1));
    assert_eq!(cat.meta_get("embedding.model").unwrap().as_deref(), Some("m"));
    let ro = Catalog::open_read_only(&path).unwrap();
    assert_eq!(ro.counts().unwrap(), (1, 1));
}

#[test]
fn a_reader_upgrades_a_catalog_written_by_an_older_lore() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    {
        // The schema as lore wrote it before feeds and chunk languages (version 3), with a document.
        let conn = rusqlite::Connection::open(&path).unwrap();
        for (i, sql) in schema::MIGRATIONS.iter().take(3).enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", i as i64 + 1).unwrap();
        }
        conn.execute(
            "INSERT INTO documents(source, kind, title, hash, byte_len, added_at, updated_at)
             VALUES ('/a.txt', 'text', 'A', 'h', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
    }
    let cat = Catalog::open_read_only(&path).unwrap();
    let docs = cat.list(&ListFilter::default()).unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].site, None);
    assert!(cat.feeds().unwrap().is_empty());
    // Its chunks have no source lines; new ones keep theirs.
    drop(cat);
    let mut cat = Catalog::open(&path).unwrap();
    cat.conn
        .execute(
            "INSERT INTO chunks(id, doc_id, ordinal, section, text, heading_path, char_start, char_end, tokens)
             VALUES (1, 1, 0, 0, 'old', '[]', 0, 3, 1)",
            [],
        )
        .unwrap();
    assert_eq!(
        cat.chunk(1).unwrap().map(|c| (c.line_start, c.line_end, c.lines())),
        Some((None, None, None))
    );
    let id = add(&mut cat, &doc("/b.txt", "h", &["one", "two"]), &[]).doc_id();
    let chunks = cat.chunks_of(id, 0, 10).unwrap();
    assert_eq!(chunks[1].lines().as_deref(), Some("line 2"));
    assert_eq!(chunks[1].location().as_deref(), Some("line 2"));
}

#[test]
fn documents_made_visible_after_a_reader_looked_are_named() {
    let mut cat = Catalog::open_in_memory().unwrap();
    let a = add(&mut cat, &doc("/a.txt", "h1", &["one"]), &[]).doc_id();
    let before = cat.visible_seq().unwrap();
    assert!(cat.visible_after(before).unwrap().is_empty());
    // A replacement, and a new document, made visible after the reader noted `before`.
    add(&mut cat, &doc("/a.txt", "h2", &["uno", "dos"]), &[]);
    let b = add(&mut cat, &doc("/b.txt", "h3", &["two"]), &[]).doc_id();
    assert_eq!(cat.visible_after(before).unwrap(), [a, b].into_iter().collect());
    let now = cat.visible_seq().unwrap();
    assert_eq!(now, before + 2);
    assert!(cat.visible_after(now).unwrap().is_empty());
    // An unchanged document is not made visible again.
    add(&mut cat, &doc("/b.txt", "h3", &["two"]), &[]);
    assert_eq!(cat.visible_seq().unwrap(), now);
    let chunks = cat.read_consistent(|c| c.chunks_of(a, 0, 10)).unwrap();
    assert_eq!(chunks.len(), 2);
}

#[test]
fn processes_creating_one_catalog_at_once_all_open_it() {
    for _ in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.sqlite");
        let barrier = std::sync::Barrier::new(4);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|i| {
                    let (path, barrier) = (&path, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        if i % 2 == 0 {
                            Catalog::open(path).map(|_| ())
                        } else {
                            // A reader finds the file the first writer has just created.
                            loop {
                                if path.exists() {
                                    break Catalog::open_read_only(path).map(|_| ());
                                }
                                std::thread::yield_now();
                            }
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap().unwrap();
            }
        });
        assert_eq!(Catalog::open(&path).unwrap().counts().unwrap(), (0, 0));
    }
}

#[test]
fn chunk_languages_count_each_chunk_by_its_own_language_else_its_documents() {
    let mut cat = Catalog::open_in_memory().unwrap();
    let en = doc("/en.txt", "h1", &["one", "two"]);
    let mut zh = doc("/zh.txt", "h2", &["一", "二", "三"]);
    zh.0.language = Some("zh".into());
    zh.1[2].language = Some("en".into());
    add(&mut cat, &en, &[]);
    add(&mut cat, &zh, &[]);
    let langs = cat.chunk_languages().unwrap();
    assert_eq!(langs, vec![(Some("en".to_string()), 3), (Some("zh".to_string()), 2)]);
}

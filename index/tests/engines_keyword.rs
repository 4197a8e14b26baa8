//! Keyword index tests: add, search, delete, filters, snippets, reopen, locking, odd queries,
//! and BM25 quality on the Python FAQ retrieval set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod engines_support;

use lore_index::{KeywordConfig, KeywordDoc, KeywordError, KeywordFilter, KeywordIndex};

fn doc(chunk_id: i64, doc_id: i64, title: &str, headings: &[&str], text: &str) -> KeywordDoc {
    KeywordDoc {
        chunk_id,
        doc_id,
        title: title.into(),
        heading_path: headings.iter().map(|h| h.to_string()).collect(),
        text: text.into(),
        kind: "markdown".into(),
        tags: vec![],
        lang: Some("en".into()),
        published: None,
        added: 1_700_000_000,
    }
}

/// A small library: SICP passages, a cookbook, a history note.
fn sample() -> Vec<KeywordDoc> {
    let mut docs = vec![
        doc(
            1,
            10,
            "Structure and Interpretation of Computer Programs",
            &["1 Building Abstractions with Procedures", "1.2 Procedures and the Processes They Generate"],
            "A recursive process builds up a chain of deferred operations. An iterative process keeps its \
             state in a fixed number of variables, so a tail-recursive procedure runs in constant space.",
        ),
        doc(
            2,
            10,
            "Structure and Interpretation of Computer Programs",
            &["3 Modularity, Objects, and State", "3.5 Streams"],
            "Streams are delayed lists. With delayed evaluation we can represent very long sequences \
             without computing all the elements.",
        ),
        doc(
            3,
            20,
            "The Bread Book",
            &["Baking"],
            "Bake the loaf at 220 degrees until the crust is brown. Knead the dough again after it rises.",
        ),
        doc(
            4,
            30,
            "Notes on Westphalia",
            &["History"],
            "The treaties were signed in 1648 and ended the Thirty Years' War in the Holy Roman Empire.",
        ),
    ];
    docs[0].tags = vec!["lisp".into(), "cs".into()];
    docs[1].tags = vec!["lisp".into()];
    docs[2].kind = "html".into();
    docs[2].tags = vec!["food".into()];
    docs[2].published = Some(1_600_000_000);
    docs[3].kind = "pdf".into();
    docs[3].published = Some(1_500_000_000);
    docs[3].lang = Some("de".into());
    docs
}

fn open_sample() -> (tempfile::TempDir, KeywordIndex) {
    let dir = tempfile::tempdir().unwrap();
    let index = KeywordIndex::open(&dir.path().join("kw"), &KeywordConfig::default()).unwrap();
    index.add(&sample()).unwrap();
    index.commit().unwrap();
    (dir, index)
}

fn ids(hits: &[lore_index::KeywordHit]) -> Vec<i64> {
    hits.iter().map(|h| h.chunk_id).collect()
}

#[test]
fn finds_chunks_by_stemmed_words_with_highlighted_snippets() {
    let (_dir, index) = open_sample();
    assert_eq!(index.count().unwrap(), 4);
    // "processes" and "recursion" do not appear as such: stemming matches "process", "recursive" does not
    // share a stem with "recursion", but "iterative process" does.
    let hits = index.search("iterative processes", 10, &KeywordFilter::default()).unwrap();
    assert_eq!(hits.first().map(|h| h.chunk_id), Some(1), "{hits:?}");
    let snippet = &hits[0].snippet;
    assert!(!snippet.highlights.is_empty());
    for range in &snippet.highlights {
        let word = snippet.text[range.clone()].to_lowercase();
        assert!(word.starts_with("iterat") || word.starts_with("process"), "{word}");
    }
    let marked = snippet.marked();
    assert!(marked.contains("**iterative**") && marked.contains("**process**"), "{marked}");
}

#[test]
fn title_and_heading_matches_rank_and_snippet_falls_back_to_the_text_start() {
    let (_dir, index) = open_sample();
    // "Westphalia" is only in a title.
    let hits = index.search("westphalia", 5, &KeywordFilter::default()).unwrap();
    assert_eq!(ids(&hits), vec![4]);
    assert!(hits[0].snippet.highlights.is_empty());
    assert!(hits[0].snippet.text.starts_with("The treaties were signed"), "{:?}", hits[0].snippet);
    // "Streams" is in the heading and the text of chunk 2 only.
    let hits = index.search("streams", 5, &KeywordFilter::default()).unwrap();
    assert_eq!(ids(&hits), vec![2]);
}

#[test]
fn filters_restrict_results() {
    let (_dir, index) = open_sample();
    // "the" appears in every chunk.
    let all = index.search("the", 10, &KeywordFilter::default()).unwrap();
    assert_eq!(all.len(), 4);
    let search = |f: KeywordFilter| {
        let mut got = ids(&index.search("the", 10, &f).unwrap());
        got.sort();
        got
    };
    assert_eq!(
        search(KeywordFilter { kinds: vec!["pdf".into(), "html".into()], ..Default::default() }),
        vec![3, 4]
    );
    assert_eq!(search(KeywordFilter { tags: vec!["lisp".into()], ..Default::default() }), vec![1, 2]);
    assert_eq!(
        search(KeywordFilter { tags: vec!["cs".into(), "food".into()], ..Default::default() }),
        vec![1, 3]
    );
    assert_eq!(search(KeywordFilter { doc_ids: vec![10], ..Default::default() }), vec![1, 2]);
    assert_eq!(search(KeywordFilter { lang: Some("de".into()), ..Default::default() }), vec![4]);
    // Dates: only chunks with a publication date pass a date filter.
    assert_eq!(search(KeywordFilter { date_from: Some(1_550_000_000), ..Default::default() }), vec![3]);
    assert_eq!(search(KeywordFilter { date_to: Some(1_550_000_000), ..Default::default() }), vec![4]);
    assert_eq!(
        search(KeywordFilter {
            date_from: Some(1_500_000_000),
            date_to: Some(1_600_000_000),
            ..Default::default()
        }),
        vec![3, 4]
    );
    assert_eq!(
        search(KeywordFilter { kinds: vec!["pdf".into()], tags: vec!["lisp".into()], ..Default::default() }),
        Vec::<i64>::new()
    );
    // Filters do not change scores.
    let filtered =
        index.search("the", 10, &KeywordFilter { doc_ids: vec![30], ..Default::default() }).unwrap();
    let unfiltered = all.iter().find(|h| h.chunk_id == 4).unwrap();
    assert!((filtered[0].score - unfiltered.score).abs() < 1e-5);
}

#[test]
fn deletes_by_document_and_by_chunk_and_replaces_on_add() {
    let (_dir, index) = open_sample();
    index.delete_doc(10).unwrap();
    // Not visible before the commit.
    assert_eq!(index.count().unwrap(), 4);
    index.commit().unwrap();
    assert_eq!(index.all_ids().unwrap(), vec![3, 4]);
    index.delete_chunks(&[3, 999]).unwrap();
    index.commit().unwrap();
    assert_eq!(index.all_ids().unwrap(), vec![4]);
    // Adding an existing chunk id replaces it.
    index.add(&[doc(4, 30, "Notes", &[], "Completely new words about zeppelins.")]).unwrap();
    index.commit().unwrap();
    assert_eq!(index.all_ids().unwrap(), vec![4]);
    assert!(index.search("treaties", 5, &KeywordFilter::default()).unwrap().is_empty());
    assert_eq!(ids(&index.search("zeppelin", 5, &KeywordFilter::default()).unwrap()), vec![4]);
    // Rolled-back changes never show.
    index.add(&[doc(5, 40, "Draft", &[], "zeppelin draft")]).unwrap();
    index.rollback().unwrap();
    index.commit().unwrap();
    assert_eq!(index.all_ids().unwrap(), vec![4]);
    index.clear().unwrap();
    assert_eq!(index.count().unwrap(), 0);
}

#[test]
fn any_text_is_a_valid_query() {
    let (_dir, index) = open_sample();
    let odd = [
        "C++ \"unclosed",
        "AND OR",
        "NOT",
        "((()",
        "title:",
        "nosuchfield:value",
        "*",
        "-",
        "+ + +",
        "a:b:c \\",
        "published:[2020 TO",
        "~~~ ^^^ 2^",
        "🙂 émigré «quotes»",
        "",
        "   ",
    ];
    for q in odd {
        let result = index.search(q, 5, &KeywordFilter::default());
        assert!(result.is_ok(), "{q:?}: {result:?}");
    }
    // Malformed input still finds what its words say.
    let hits = index.search("bread \"crust", 5, &KeywordFilter::default()).unwrap();
    assert_eq!(hits.first().map(|h| h.chunk_id), Some(3));
    // Query syntax works where it parses.
    let hits = index.search("\"delayed lists\"", 5, &KeywordFilter::default()).unwrap();
    assert_eq!(ids(&hits), vec![2]);
    let hits = index.search("process -iterative", 5, &KeywordFilter::default()).unwrap();
    assert!(hits.is_empty(), "{hits:?}");
    assert!(index.search("process", 0, &KeywordFilter::default()).unwrap().is_empty());
}

/// A query excluding a phrase (`python -"tail call"`) over enough documents that the phrase's
/// scorer is asked to seek after it ran out: the search answers, and answers right.
#[test]
fn a_query_excluding_a_phrase_answers_right() {
    let dir = tempfile::tempdir().unwrap();
    let index = KeywordIndex::open(&dir.path().join("kw"), &KeywordConfig::default()).unwrap();
    let words =
        ["git", "rev", "parse", "symbolic", "full", "name", "tail", "call", "python", "ref", "branch"];
    let mut x: u64 = 7;
    let mut docs = Vec::new();
    for id in 0..400i64 {
        let mut t = String::new();
        for _ in 0..30 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            t.push_str(words[(x >> 33) as usize % words.len()]);
            t.push(' ');
        }
        if id % 7 == 0 {
            t.push_str(" --symbolic-full-name ");
        }
        if id % 11 == 0 {
            t.push_str(" tail call ");
        }
        docs.push(doc(id, id, "t", &[], &t));
    }
    index.add(&docs).unwrap();
    index.commit().unwrap();
    // Whether a text holds a phrase the way the analyser sees it: hyphens split words.
    let holds = |d: &KeywordDoc, p: &str| {
        let words: Vec<&str> =
            d.text.split(|c: char| c.is_whitespace() || c == '-').filter(|w| !w.is_empty()).collect();
        format!(" {} ", words.join(" ")).contains(&format!(" {p} "))
    };
    for (q, with, without) in [
        ("python -\"tail call\"", "python", "tail call"),
        ("branch -\"symbolic full\"", "branch", "symbolic full"),
        ("ref -\"full name\"", "ref", "full name"),
    ] {
        let mut got: Vec<i64> =
            index.search(q, 1000, &KeywordFilter::default()).unwrap().iter().map(|h| h.chunk_id).collect();
        got.sort_unstable();
        let want: Vec<i64> =
            docs.iter().filter(|d| holds(d, with) && !holds(d, without)).map(|d| d.chunk_id).collect();
        assert!(!want.is_empty(), "{q}");
        assert_eq!(got, want, "{q}");
    }
}

#[test]
fn reopens_with_committed_data_and_locks_a_second_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kw");
    {
        let index = KeywordIndex::open(&path, &KeywordConfig::default()).unwrap();
        index.add(&sample()).unwrap();
        index.commit().unwrap();
        index.add(&[doc(9, 90, "Uncommitted", &[], "lost words")]).unwrap();
        let second = KeywordIndex::open(&path, &KeywordConfig::default());
        assert!(matches!(second, Err(KeywordError::Locked { .. })), "{second:?}");
        assert!(second.unwrap_err().to_string().contains("one writer at a time"));
        // A reader opens alongside the writer and cannot write.
        let reader = KeywordIndex::open_reader(&path, &KeywordConfig::default()).unwrap();
        assert_eq!(reader.count().unwrap(), 4);
        assert!(matches!(reader.add(&sample()), Err(KeywordError::ReadOnly)));
    }
    let index = KeywordIndex::open(&path, &KeywordConfig::default()).unwrap();
    assert_eq!(index.all_ids().unwrap(), vec![1, 2, 3, 4]);
    assert_eq!(index.search("lost", 5, &KeywordFilter::default()).unwrap(), vec![]);
    assert!(!index.was_recreated());
    // Another analyzer: a reader searches the index as it was built, a writer recreates it
    // empty and says so, for its owner to fill from the catalog.
    drop(index);
    let german = KeywordConfig { analyzer: "de_stem".into(), ..KeywordConfig::default() };
    let reader = KeywordIndex::open_reader(&path, &german).unwrap();
    assert_eq!(reader.count().unwrap(), 4);
    assert!(reader.layout().starts_with("chunk-language groups: en_stem,"), "{}", reader.layout());
    drop(reader);
    let index = KeywordIndex::open(&path, &german).unwrap();
    assert!(index.was_recreated());
    assert_eq!(index.count().unwrap(), 0);
    assert_eq!(index.layout(), KeywordIndex::layout_for(&german));
    drop(index);
    assert!(!KeywordIndex::open(&path, &german).unwrap().was_recreated());
    let err = KeywordIndex::open(&path, &KeywordConfig { analyzer: "klingon".into(), ..Default::default() });
    assert!(matches!(err, Err(KeywordError::UnknownAnalyzer(_))));
}

#[test]
fn a_reader_sees_a_writers_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kw");
    let writer = KeywordIndex::open(&path, &KeywordConfig::default()).unwrap();
    writer.commit().unwrap();
    let reader = KeywordIndex::open_reader(&path, &KeywordConfig::default()).unwrap();
    assert_eq!(reader.count().unwrap(), 0);
    writer.add(&sample()).unwrap();
    writer.commit().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while reader.count().unwrap() != 4 {
        assert!(std::time::Instant::now() < deadline, "reader never saw the commit");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn other_languages_get_their_stemmer() {
    // German stemming maps "Haus" and "Häuser" to one stem only with the German stemmer: text
    // in German gets it by its language, text of unknown language by the configuration.
    let german = |lang: Option<&str>| KeywordDoc {
        lang: lang.map(str::to_string),
        ..doc(1, 1, "Handbuch", &[], "Die Häuser wurden gebaut.")
    };
    for (analyzer, lang) in [("en_stem", Some("de")), ("de_stem", None)] {
        let dir = tempfile::tempdir().unwrap();
        let config = KeywordConfig { analyzer: analyzer.into(), ..KeywordConfig::default() };
        let index = KeywordIndex::open(&dir.path().join("kw"), &config).unwrap();
        index.add(&[german(lang)]).unwrap();
        index.commit().unwrap();
        let hits = index.search("haus", 5, &KeywordFilter::default()).unwrap();
        assert_eq!(ids(&hits), vec![1], "{analyzer} {lang:?}: {hits:?}");
    }
    // Text in English is stemmed as English whatever the configuration.
    let dir = tempfile::tempdir().unwrap();
    let config = KeywordConfig { analyzer: "de_stem".into(), ..KeywordConfig::default() };
    let index = KeywordIndex::open(&dir.path().join("kw"), &config).unwrap();
    index.add(&[doc(2, 2, "Notes", &[], "The processes were running.")]).unwrap();
    index.commit().unwrap();
    assert_eq!(ids(&index.search("process runs", 5, &KeywordFilter::default()).unwrap()), vec![2]);
}

#[test]
fn bm25_quality_on_the_python_faq() {
    let set = engines_support::pyfaq();
    let dir = tempfile::tempdir().unwrap();
    let index = KeywordIndex::open(&dir.path().join("kw"), &KeywordConfig::default()).unwrap();
    let docs: Vec<KeywordDoc> = set
        .corpus
        .iter()
        .enumerate()
        .map(|(i, (_, title, text))| KeywordDoc {
            chunk_id: i as i64,
            doc_id: i as i64,
            title: title.clone(),
            text: text.clone(),
            kind: "html".into(),
            ..KeywordDoc::default()
        })
        .collect();
    index.add(&docs).unwrap();
    index.commit().unwrap();
    assert_eq!(index.count().unwrap(), set.corpus.len() as u64);
    let mut total = 0.0;
    for (qid, text) in &set.queries {
        let hits = index.search(text, 10, &KeywordFilter::default()).unwrap();
        let ranked: Vec<String> = hits.iter().map(|h| set.corpus[h.chunk_id as usize].0.clone()).collect();
        total += engines_support::ndcg_at(10, &ranked, &set.qrels[qid]);
    }
    let ndcg = total / set.queries.len() as f64;
    eprintln!("keyword nDCG@10 on pyfaq: {ndcg:.3} (textbook BM25: 0.672)");
    assert!(ndcg > 0.62, "nDCG@10 {ndcg:.3}");
}

#[test]
#[ignore = "measurement without a target: prints nDCG@10 of BM25 variants (-- --ignored --nocapture)"]
fn bm25_variants_on_the_python_faq() {
    let set = engines_support::pyfaq();
    for (label, analyzer, with_title, title_boost) in [
        ("en_stem, title x2", "en_stem", true, 2.0),
        ("en_stem, title x1.5", "en_stem", true, 1.5),
        ("en_stem, title x1", "en_stem", true, 1.0),
        ("en_stem, no title", "en_stem", false, 1.0),
        ("default, no title", "default", false, 1.0),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = KeywordConfig { analyzer: analyzer.into(), title_boost, ..KeywordConfig::default() };
        let index = KeywordIndex::open(&dir.path().join("kw"), &config).unwrap();
        let docs: Vec<KeywordDoc> = set
            .corpus
            .iter()
            .enumerate()
            .map(|(i, (_, title, text))| KeywordDoc {
                chunk_id: i as i64,
                doc_id: i as i64,
                title: if with_title { title.clone() } else { String::new() },
                text: text.clone(),
                ..KeywordDoc::default()
            })
            .collect();
        index.add(&docs).unwrap();
        index.commit().unwrap();
        let mut total = 0.0;
        for (qid, text) in &set.queries {
            let hits = index.search(text, 10, &KeywordFilter::default()).unwrap();
            let ranked: Vec<String> =
                hits.iter().map(|h| set.corpus[h.chunk_id as usize].0.clone()).collect();
            total += engines_support::ndcg_at(10, &ranked, &set.qrels[qid]);
        }
        eprintln!("{label}: {:.3}", total / set.queries.len() as f64);
    }
}

#[test]
fn the_index_can_be_shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<KeywordIndex>();
}

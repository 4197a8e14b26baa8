//! Related documents with the real engines: Python FAQ pages are nearer to each other than to
//! Moby-Dick, the vectors read back from the store are the ones embedded, and (ignored by
//! default) the aggregation methods measured on the dev sets. Needs the embedding runtime that
//! `scripts/setup.sh` installs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use lore_index::eval::Dataset;
use lore_index::{Engines, Library, RelatedMethod, RelatedOptions};
use lore_ingest::{Document, Kind, Section};

mod common;

use common::{data, engine_options, options};

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn faq_pages_are_related_to_each_other_before_unrelated_documents() {
    let home = tempfile::tempdir().unwrap();
    let mut lib = Library::open_writer(home.path(), options()).unwrap();
    let mut files: Vec<PathBuf> = ["gui.html", "installed.html", "windows.html", "extending.html"]
        .iter()
        .map(|f| data(&format!("docs/html/python3.11-faq/{f}")))
        .collect();
    files.extend([111, 117, 120, 122].iter().map(|n| data(&format!("docs/text/moby-dick/chapter_{n}.txt"))));
    let report = lib.add_paths(&files, &[], &mut |_| {}).unwrap();
    assert_eq!(report.added, 8, "{report:?}");
    let gui = lib.resolve("Graphic User Interface FAQ").unwrap()[0].clone();

    // The vectors read back from the store are those of the chunks' passages.
    let stored = lib.doc_vectors(gui.id).unwrap();
    let chunks = lib.catalog().chunks_of(gui.id, 0, 100).unwrap();
    assert_eq!(
        stored.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        chunks.iter().map(|c| c.id).collect::<Vec<_>>()
    );
    let embedder = Engines::embedder(&engine_options()).unwrap();
    let context = lore_index::PassageContext::default();
    let texts: Vec<String> = chunks.iter().map(|c| Engines::passage_text(context, &gui.title, c)).collect();
    for ((_, s), e) in stored.iter().zip(embedder.embed_passages(&texts).unwrap()) {
        assert!(dot(s, &e) > 0.999, "stored vector differs from a fresh embedding: {}", dot(s, &e));
    }

    for method in RelatedMethod::ALL {
        let related = lib.related(gui.id, &RelatedOptions { k: 10, method, pairs: 2 }).unwrap();
        let sources: Vec<&str> = related.iter().map(|r| r.source.as_str()).collect();
        assert!(!sources.iter().any(|s| s.ends_with("gui.html")), "{method:?}: itself is left out");
        if method == RelatedMethod::default() {
            assert_eq!(related.len(), 7, "{method:?}: every other document: {sources:?}");
        }
        assert!(
            sources.len() >= 3 && sources[..3].iter().all(|s| s.contains("python3.11-faq")),
            "{method:?}: FAQ pages first: {sources:?}"
        );
        assert!(related.windows(2).all(|w| w[0].score >= w[1].score), "{method:?}: best first");
        let first = &related[0];
        assert!(!first.pairs.is_empty() && first.pairs.len() <= 2);
        assert!(
            first
                .pairs
                .iter()
                .all(|p| p.from.chunk_id >> 24 == gui.id && p.to.chunk_id >> 24 == first.doc_id)
        );
        assert!(first.pairs.windows(2).all(|w| w[0].similarity >= w[1].similarity));
    }
}

/// Precision at 5 and average precision at 10 of one ranked list against a label.
fn precision(ranked: &[&str], label: &str, relevant: usize) -> (f64, f64) {
    let p5 = ranked.iter().take(5).filter(|l| **l == label).count() as f64 / 5.0;
    let (mut hits, mut sum) = (0usize, 0.0);
    for (i, l) in ranked.iter().take(10).enumerate() {
        if *l == label {
            hits += 1;
            sum += hits as f64 / (i + 1) as f64;
        }
    }
    (p5, sum / relevant.clamp(1, 10) as f64)
}

/// Runs every method over the queries and prints P@5, MAP@10 and time per query; returns the
/// MAP@10 of each method.
fn measure(
    lib: &Library,
    name: &str,
    queries: &[i64],
    labels: &HashMap<i64, String>,
) -> Vec<(RelatedMethod, f64)> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for l in labels.values() {
        *count.entry(l.as_str()).or_default() += 1;
    }
    let mut out = Vec::new();
    for method in RelatedMethod::ALL {
        let (mut p5, mut map) = (0.0, 0.0);
        let started = Instant::now();
        for &q in queries {
            let related = lib.related(q, &RelatedOptions { k: 10, method, pairs: 0 }).unwrap();
            let ranked: Vec<&str> =
                related.iter().map(|r| labels.get(&r.doc_id).map(String::as_str).unwrap_or("")).collect();
            let label = labels[&q].as_str();
            let (p, ap) = precision(&ranked, label, count[label] - 1);
            p5 += p;
            map += ap;
        }
        let n = queries.len() as f64;
        let ms = started.elapsed().as_secs_f64() * 1000.0 / n;
        println!(
            "{name}: {method:?}: P@5 {:.3} MAP@10 {:.3} ({ms:.0} ms/query, {} queries)",
            p5 / n,
            map / n,
            queries.len()
        );
        out.push((method, map / n));
    }
    out
}

/// The aggregation methods on two dev sets where relatedness is known:
/// - the Python FAQ sections of eval/pyfaq as documents, related when from the same FAQ page;
/// - whole documents (set `LORE_RELATED_LIBRARY` to a library built from ../shared/data/docs):
///   Python FAQ pages, Debian Reference pages and Moby-Dick chapters, related within each.
#[test]
#[ignore = "measurement: cargo test -p lore-index --test related -- --ignored --nocapture"]
fn related_methods_on_dev_sets() {
    let home = tempfile::tempdir().unwrap();
    let mut lib = Library::open_writer(home.path(), options()).unwrap();
    let ds = Dataset::load(&data("eval/pyfaq")).unwrap();
    let mut labels = HashMap::new();
    for d in &ds.corpus {
        let doc = Document {
            source: format!("beir:{}", d.id),
            url: None,
            kind: Kind::Text,
            title: d.id.clone(),
            authors: Vec::new(),
            language: None,
            published: None,
            hash: lore_ingest::hash::content_hash(d.text.as_bytes()),
            byte_len: d.text.len() as u64,
            page_count: None,
            site: None,
            sections: vec![Section::new(Vec::new(), d.text.clone())],
        };
        let id = match lib.add_document(&doc, &[], None, None).unwrap() {
            lore_index::ItemOutcome::Added { doc_id, .. } | lore_index::ItemOutcome::Unchanged { doc_id } => {
                doc_id
            }
            other => panic!("{other:?}"),
        };
        labels.insert(id, d.title.clone());
    }
    lib.embed_pending(&mut |_, _| {}).unwrap();
    let queries: Vec<i64> = labels.keys().copied().collect();
    let sections = measure(&lib, "pyfaq sections", &queries, &labels);
    let best = sections.iter().map(|(_, m)| *m).fold(0.0, f64::max);
    let default = sections.iter().find(|(m, _)| *m == RelatedMethod::default()).unwrap().1;
    assert!(default >= best - 0.05, "the default is within 0.05 MAP of the best: {sections:?}");

    let Some(dir) = std::env::var_os("LORE_RELATED_LIBRARY") else {
        println!("documents: set LORE_RELATED_LIBRARY to a library of ../shared/data/docs to measure");
        return;
    };
    let lib = Library::open_reader(Path::new(&dir), Some(&engine_options())).unwrap();
    let mut labels = HashMap::new();
    let mut queries = Vec::new();
    for d in lib.catalog().list(&Default::default()).unwrap() {
        let label = if d.source.contains("python3.11-faq") {
            "pyfaq"
        } else if d.source.contains("debian-reference") {
            "debian"
        } else if d.source.contains("moby-dick") {
            "moby"
        } else {
            "other"
        };
        let query = match label {
            "pyfaq" | "debian" => true,
            "moby" => d.source.ends_with("0.txt") || d.source.ends_with("5.txt"),
            _ => false,
        };
        if query {
            queries.push(d.id);
        }
        labels.insert(d.id, if label == "other" { d.source.clone() } else { label.to_string() });
    }
    queries.sort_unstable();
    measure(&lib, "documents", &queries, &labels);
}

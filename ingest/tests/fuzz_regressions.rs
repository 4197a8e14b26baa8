//! Replays the fuzz corpus's minimal reproducers (`tests/fuzz_regressions/<target>/`, described
//! in the README there) through the entry points of the fuzz targets: `pdf`, `epub`, `html` and
//! `markdown` through `load_bytes`, `feed` through `parse_feed` and `item_document` for every
//! item; every document that loads is then chunked (the `chunker` target's path).
//!
//! Each file must end as `expected.tsv` says: loaded (`ok`) or an error with a named reason code.
//! No panic may escape, and a third-party parser's panic caught by the guard (the `internal`
//! reason, or a page lost while the rest loads) is accepted only where `expected.tsv` lists it
//! with the place it is raised: a new parser panic, a panic in lore's own code (never caught),
//! or a listed one that no longer happens all fail the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use lore_ingest::web::{item_document, parse_feed};
use lore_ingest::{ChunkConfig, Chunker, Kind, LoadOptions, load_bytes};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_regressions");
const FEED_URL: &str = "https://example.com/blog/feed.xml";

/// What replaying one file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    /// `ok`, or the reason code of the error.
    code: String,
    /// The places of the parser panics the guard caught on the way.
    panics: Vec<String>,
}

/// What `expected.tsv` says of one file: its reason code, and where a parser is known to panic.
#[derive(Debug, Clone)]
struct Expected {
    code: String,
    panic_at: Option<String>,
}

/// The reason code of `result`, chunking a loaded document as `lore add` does.
fn code_of(result: lore_ingest::Result<lore_ingest::Document>) -> String {
    match result.and_then(|doc| Chunker::estimated(ChunkConfig::default()).chunk(&doc)) {
        Ok(_) => "ok".to_string(),
        Err(err) => {
            let shown = err.to_string();
            assert!(!shown.contains('\n'), "{shown:?}: more than one line");
            err.reason_code().to_string()
        }
    }
}

/// Replays one file of `target`'s corpus.
fn replay(target: &str, bytes: &[u8], name: &str) -> String {
    let kind = match target {
        "pdf" => Kind::Pdf,
        "epub" => Kind::Epub,
        "html" => Kind::Html,
        "markdown" => Kind::Markdown,
        "feed" => {
            let feed = match parse_feed(bytes, FEED_URL) {
                Ok(feed) => feed,
                Err(err) => return err.reason_code().to_string(),
            };
            // The feed's code, unless one of its items fails.
            let mut code = "ok".to_string();
            for item in &feed.items {
                let _ = item.needs_full_text();
                let item_code = code_of(item_document(&feed, FEED_URL, item, None));
                if item_code != "ok" && code == "ok" {
                    code = item_code;
                }
            }
            return code;
        }
        other => panic!("{other}: not a fuzz target with a corpus here"),
    };
    code_of(load_bytes(bytes, name, kind, "fuzz", &LoadOptions::default()))
}

fn read_expected() -> BTreeMap<String, Expected> {
    let text = std::fs::read_to_string(Path::new(CORPUS).join("expected.tsv")).unwrap();
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert!((2..=3).contains(&fields.len()), "expected.tsv: {line:?}");
        let expected =
            Expected { code: fields[1].to_string(), panic_at: fields.get(2).map(|p| p.to_string()) };
        assert!(
            out.insert(fields[0].to_string(), expected).is_none(),
            "expected.tsv lists {} twice",
            fields[0]
        );
    }
    out
}

#[test]
fn every_reproducer_ends_as_expected_without_an_escaped_panic() {
    lore_ingest::guard::install_quiet_panic_hook();
    lore_ingest::guard::take_caught();
    let expected = read_expected();
    let mut seen: BTreeMap<String, Outcome> = BTreeMap::new();
    for target in ["pdf", "epub", "html", "feed", "markdown"] {
        let mut files: Vec<_> =
            std::fs::read_dir(Path::new(CORPUS).join(target)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        assert!(!files.is_empty(), "no reproducers for {target}");
        for path in files {
            let key = format!("{target}/{}", path.file_name().unwrap().to_string_lossy());
            let bytes = std::fs::read(&path).unwrap();
            let replayed = catch_unwind(AssertUnwindSafe(|| replay(target, &bytes, &key)));
            let caught = lore_ingest::guard::take_caught();
            let code = replayed.unwrap_or_else(|_| panic!("{key}: a panic escaped the loaders"));
            let panics =
                caught.iter().map(|c| c.place.clone().unwrap_or_else(|| c.message.clone())).collect();
            seen.insert(key, Outcome { code, panics });
        }
    }

    let table: String = seen
        .iter()
        .map(|(k, o)| match o.panics.first() {
            Some(at) => format!("{k}\t{}\t{at}\n", o.code),
            None => format!("{k}\t{}\n", o.code),
        })
        .collect();
    let mut wrong = Vec::new();
    for (key, outcome) in &seen {
        let Some(want) = expected.get(key) else {
            wrong.push(format!("{key}: not in expected.tsv"));
            continue;
        };
        if outcome.code != want.code {
            wrong.push(format!("{key}: {} instead of {}", outcome.code, want.code));
        }
        match &want.panic_at {
            None if !outcome.panics.is_empty() => {
                wrong.push(format!("{key}: a parser panicked at {:?}", outcome.panics))
            }
            Some(at)
                if outcome.panics.is_empty()
                    || !outcome.panics.iter().all(|p| p.starts_with(at.as_str())) =>
            {
                wrong.push(format!("{key}: expected a parser panic at {at}, saw {:?}", outcome.panics))
            }
            _ => {}
        }
        if outcome.code == "internal" && want.panic_at.is_none() {
            wrong.push(format!("{key}: an internal error not listed as a known parser panic"));
        }
    }
    for key in expected.keys().filter(|k| !seen.contains_key(*k)) {
        wrong.push(format!("{key}: listed in expected.tsv, but not in the corpus"));
    }
    assert!(wrong.is_empty(), "{}\n\nwhat each file gave:\n{table}", wrong.join("\n"));
    let internal = seen.values().filter(|o| o.code == "internal").count();
    let panicked = seen.values().filter(|o| !o.panics.is_empty()).count();
    println!(
        "{} reproducers; {panicked} with a known parser panic, {internal} of them internal errors",
        seen.len()
    );
}

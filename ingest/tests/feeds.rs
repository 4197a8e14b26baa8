//! Every feed fixture under `shared/data/docs/feeds` (feed-rs's, the rss and atom_syndication
//! crates', trafilatura's): the well-formed ones parse to items that each have a title, a link
//! or text, and agree with feed-rs's expected parses (`*.serde.json`) on item count, titles and
//! dates; the broken ones and the XML documents that are not feeds fail with one clear line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::data_dir;
use lore_ingest::web::{ParsedFeed, parse_feed};

fn feeds_dir() -> PathBuf {
    data_dir().join("docs/feeds")
}

fn fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![feeds_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if !path.to_string_lossy().ends_with(".serde.json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn rel(path: &Path) -> String {
    path.strip_prefix(feeds_dir()).unwrap().to_string_lossy().into_owned()
}

/// The fixtures that are not feeds, with the reason code they must fail with. feed-rs's own
/// tests expect `rss_2.0_invalid_1.xml` (a truncated document) to fail; its `xml/` fixtures are
/// XML samples for its XML reader (a book catalogue), not feeds.
fn expected_failure(rel: &str) -> Option<&'static str> {
    match rel {
        "feed-rs-3.0.0-fixture/rss2/rss_2.0_invalid_1.xml" => Some("malformed_feed"),
        r if r.starts_with("feed-rs-3.0.0-fixture/xml/") => Some("not_a_feed"),
        _ => None,
    }
}

/// Fixtures of the rss and atom_syndication crates that test one element in isolation: their
/// items hold only that element (a category, a guid, an enclosure, an extension, a source, a
/// non-text content, Dublin Core elements, which feed-rs reads only for the creator and date),
/// so no title, link or text.
const ELEMENT_TESTS: &[&str] = &[
    "atom_syndication-0.12.10/content_src.xml",
    "atom_syndication-0.12.10/content_text_other.xml",
    "atom_syndication-0.12.10/extension.xml",
    "atom_syndication-0.12.10/source.xml",
    "rss-2.1.2/category.xml",
    "rss-2.1.2/dublincore.xml",
    "rss-2.1.2/dublincore_altprefix.xml",
    "rss-2.1.2/enclosure.xml",
    "rss-2.1.2/extension.xml",
    "rss-2.1.2/guid.xml",
    "rss-2.1.2/source.xml",
    "rss-2.1.2/verify_write_format.xml",
];

fn url_for(rel: &str) -> String {
    format!("https://feeds.example.org/{rel}")
}

/// Compares a parse with feed-rs's expected parse: item count, titles (plain-text ones exactly,
/// others present when expected), and dates (published, else updated).
fn compare_with_expected(rel: &str, got: &ParsedFeed, expected: &serde_json::Value) {
    let entries = expected["entries"].as_array().unwrap();
    assert_eq!(got.items.len(), entries.len(), "{rel}: item count");
    for (i, (item, want)) in got.items.iter().zip(entries).enumerate() {
        let title = &want["title"];
        if let Some(content) = title["content"].as_str() {
            let plain = title["content_type"].as_str() == Some("text/plain");
            let want_title = content.split_whitespace().collect::<Vec<_>>().join(" ");
            if plain {
                assert_eq!(item.title, want_title, "{rel} item {i}: title");
            } else if !want_title.is_empty() {
                assert!(!item.title.is_empty(), "{rel} item {i}: title lost");
            }
        }
        let want_date = want["published"].as_str().or(want["updated"].as_str());
        match (item.published.as_deref(), want_date) {
            (Some(g), Some(w)) => {
                let g = chrono::DateTime::parse_from_rfc3339(g).unwrap();
                let w = chrono::DateTime::parse_from_rfc3339(w).unwrap();
                assert_eq!(g.timestamp(), w.timestamp(), "{rel} item {i}: date");
            }
            (None, None) => {}
            (g, w) => panic!("{rel} item {i}: date {g:?}, expected {w:?}"),
        }
    }
}

#[test]
fn every_fixture_parses_or_fails_clearly() {
    let files = fixtures();
    assert!(files.len() > 100, "found {} fixtures", files.len());
    let mut parsed = 0;
    let mut compared = 0;
    let mut items = 0;
    let mut untitled = Vec::new();
    let mut failed = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for path in &files {
        let rel = rel(path);
        let url = url_for(&rel);
        let bytes = std::fs::read(path).unwrap();
        let result = parse_feed(&bytes, &url);
        match (expected_failure(&rel), result) {
            (Some(code), Err(e)) => {
                assert_eq!(e.reason_code(), code, "{rel}: {e}");
                let line = e.to_string();
                assert!(line.starts_with(&format!("{url}: ")) && !line.contains('\n'), "{line}");
                failed.push(line);
            }
            (Some(_), Ok(f)) => {
                problems.push(format!("{rel}: parsed to {} items, expected a failure", f.items.len()))
            }
            (None, Err(e)) => problems.push(format!("{rel}: {e}")),
            (None, Ok(feed)) => {
                parsed += 1;
                items += feed.items.len();
                for (i, item) in feed.items.iter().enumerate() {
                    assert!(!item.key.is_empty(), "{rel} item {i}: no key");
                    assert_eq!(item.hash.len(), 64);
                    let has_text = item.content_html.is_some() || item.summary_html.is_some();
                    let empty = item.title.is_empty() && item.link.is_none() && !has_text;
                    if empty && !ELEMENT_TESTS.contains(&rel.as_str()) {
                        problems.push(format!("{rel} item {i}: no title, link or text"));
                    }
                    if !empty && ELEMENT_TESTS.contains(&rel.as_str()) {
                        problems.push(format!("{rel} item {i}: listed as an element test, yet has content"));
                    }
                    if let Some(link) = &item.link {
                        assert!(url::Url::parse(link).is_ok(), "{rel} item {i}: link {link} is not absolute");
                    }
                    if item.title.is_empty() {
                        untitled.push(format!("{rel} #{i}"));
                    }
                }
                let keys: std::collections::HashSet<&str> =
                    feed.items.iter().map(|i| i.key.as_str()).collect();
                if keys.len() < feed.items.len() {
                    println!("note: {rel}: {} items share keys", feed.items.len() - keys.len());
                }
                if let Some(exp) = serde_path(path).filter(|p| p.exists()) {
                    let value: serde_json::Value =
                        serde_json::from_str(&std::fs::read_to_string(&exp).unwrap()).unwrap();
                    compare_with_expected(&rel, &feed, &value);
                    compared += 1;
                }
            }
        }
    }
    for line in &failed {
        println!("expected failure: {line}");
    }
    println!("untitled items ({}): {}", untitled.len(), untitled.join(", "));
    println!(
        "parsed {parsed} feeds ({items} items, {compared} checked against feed-rs's expected parses), \
         failed {} as expected",
        failed.len()
    );
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert_eq!(failed.len(), 4);
    assert!(compared >= 70, "compared {compared}");
}

/// `x.xml` -> `x.serde.json`, `x.json` -> `x.serde.json`.
fn serde_path(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".xml").or_else(|| name.strip_suffix(".json"))?;
    Some(path.with_file_name(format!("{stem}.serde.json")))
}

#[test]
fn parsing_twice_gives_the_same_keys_and_hashes() {
    for path in fixtures() {
        let rel = rel(&path);
        if expected_failure(&rel).is_some() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let a = parse_feed(&bytes, &url_for(&rel)).unwrap();
        let b = parse_feed(&bytes, &url_for(&rel)).unwrap();
        assert_eq!(a, b, "{rel}");
    }
}

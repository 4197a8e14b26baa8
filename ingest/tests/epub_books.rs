//! EPUB loading on real books (EPUB 2 with NCX, EPUB 3 with nav, a UTF-16 OPF, three languages of
//! one manual) and on broken or hostile archives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/src/data_dir.rs"]
mod data_dir;

use std::io::{Cursor, Write};

use data_dir::data;
use lore_ingest::{Document, IngestError};

fn load(rel: &str) -> Document {
    let bytes = std::fs::read(data(&format!("docs/{rel}"))).unwrap();
    lore_ingest::epub::load(&bytes, rel).unwrap()
}

fn paths(doc: &Document) -> Vec<String> {
    doc.sections.iter().map(|s| s.heading_path.join(" > ")).collect()
}

/// Builds an EPUB (or any zip) from `(name, content)` pairs, stored without compression.
fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in files {
        w.start_file(*name, opts).unwrap();
        w.write_all(content).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const CONTAINER: &[u8] = br#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;

const OPF: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Tiny</dc:title><dc:identifier id="id">x</dc:identifier>
<dc:language>fr-FR</dc:language><dc:creator>A. Author</dc:creator><dc:date>2001-02-03</dc:date></metadata>
<manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>
<item id="c2" href="c2.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>"#;

fn tiny_epub(c1: &[u8], c2: &[u8]) -> Vec<u8> {
    zip_of(&[
        ("mimetype", b"application/epub+zip"),
        ("META-INF/container.xml", CONTAINER),
        ("OEBPS/content.opf", OPF),
        ("OEBPS/c1.xhtml", c1),
        ("OEBPS/c2.xhtml", c2),
    ])
}

fn assert_corrupt(err: IngestError, what: &str) {
    match &err {
        IngestError::Corrupt { format, .. } => assert_eq!(*format, "EPUB", "{what}: {err}"),
        other => panic!("{what}: expected a corrupt EPUB error, got {other:?}"),
    }
    assert!(!err.to_string().contains('\n'), "{what}: one-line message: {err}");
}

#[test]
fn metamorphosis_chapters_are_titled_in_spine_order() {
    let doc = load("epub/Metamorphosis-jackson.epub");
    assert_eq!(doc.title, "Metamorphosis");
    assert_eq!(doc.authors, vec!["Franz Kafka"]);
    assert_eq!(doc.language.as_deref(), Some("en"));
    let chapters: Vec<&lore_ingest::Section> = doc
        .sections
        .iter()
        .filter(|s| s.heading_path.first().is_some_and(|t| t.starts_with("CHAPTER")))
        .collect();
    let titles: Vec<String> = chapters.iter().map(|s| s.heading_path.join(" > ")).collect();
    assert_eq!(titles, vec!["CHAPTER I", "CHAPTER II", "CHAPTER III"]);
    assert_eq!(chapters[0].anchor.as_deref(), Some("OEBPS/chapter-001-chapter-i.html"));
    assert!(
        chapters[0].text.starts_with("One morning, when Gregor Samsa woke from troubled dreams"),
        "{}",
        &chapters[0].text[..200]
    );
    // The chapter heading is the section's title, not repeated in its text.
    assert!(!chapters[1].text.starts_with("CHAPTER"));
    // Front matter from the TOC comes first, in spine order.
    let all = paths(&doc);
    let copyright = all.iter().position(|p| p == "Copyright").unwrap();
    let first_chapter = all.iter().position(|p| p == "CHAPTER I").unwrap();
    assert!(copyright < first_chapter);
    assert!(doc.text_len() > 100_000);
}

#[test]
fn book_with_utf16_opf_loads_its_chapters() {
    let bytes = std::fs::read(data("docs/epub/book2.epub")).unwrap();
    match lore_ingest::epub::load(&bytes, "book2.epub") {
        Ok(doc) => {
            assert_eq!(doc.title, "Metamorphosis");
            let all = paths(&doc);
            for t in ["CHAPTER I", "CHAPTER II", "CHAPTER III"] {
                assert!(all.iter().any(|p| p == t), "{t} missing from {all:?}");
            }
        }
        Err(e) => assert_corrupt(e, "book2.epub"),
    }
}

#[test]
fn epub3_nav_titles_fragments_and_sub_headings() {
    let doc = load("epub/fatbf.epub");
    assert_eq!(doc.title, "Fundamental Accessibility Tests: Basic Functionality");
    assert_eq!(doc.authors, vec!["DAISY Consortium"]);
    let s = doc
        .sections
        .iter()
        .find(|s| s.heading_path == ["Navigation Tests", "Navigate content by pages"])
        .unwrap();
    assert_eq!(s.anchor.as_deref(), Some("EPUB/xhtml/Basic-functionality-tests.xhtml#nav-110"));
    assert!(!s.text.is_empty());
    assert!(paths(&doc).contains(&"Introduction > About this Document".to_string()));
}

#[test]
fn ncx_nesting_gives_heading_paths() {
    let doc = load("epub/calibre-quick-start-eng.epub");
    assert_eq!(doc.title, "Quick Start Guide");
    assert_eq!(doc.authors, vec!["John Schember"]);
    let s =
        doc.sections.iter().find(|s| s.heading_path.last().is_some_and(|t| t == "2.1: Background")).unwrap();
    assert_eq!(s.heading_path, vec!["Common Tasks", "Task 2: Conversion", "2.1: Background"]);
    assert_eq!(s.anchor.as_deref(), Some("text/task_2_conversion.xhtml#task2.1"));
}

#[test]
fn live_manual_in_three_languages() {
    let en = load("epub/live-manual.en.epub");
    let de = load("multilingual/live-manual.de.epub");
    let ja = load("multilingual/live-manual.ja.epub");
    assert_eq!(en.language.as_deref(), Some("en"));
    assert_eq!(de.language.as_deref(), Some("de"));
    assert_eq!(ja.language.as_deref(), Some("ja"));
    assert_eq!(en.title, "Live Systems Manual");
    let terms =
        en.sections.iter().find(|s| s.anchor.as_deref() == Some("OEBPS/about-manual.xhtml#o12")).unwrap();
    assert_eq!(terms.heading_path, vec!["1. About this manual", "1.2 Terms"]);
    assert!(terms.text.contains("Live system"), "{}", terms.text);
    for doc in [&en, &de, &ja] {
        assert!(doc.sections.len() > 100, "{}: {} sections", doc.title, doc.sections.len());
        let ja_terms =
            doc.sections.iter().find(|s| s.anchor.as_deref() == Some("OEBPS/about-manual.xhtml#o12"));
        assert!(ja_terms.is_some(), "{}: no section at the Terms anchor", doc.title);
    }
    assert!(
        ja.sections.iter().any(|s| s.text.contains("ライブシステム") || s.text.contains("Live システム"))
    );
}

/// Two labels that name one heading: the same words apart from case, punctuation and a leading
/// section number.
fn same_heading(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let all: String = s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        all.trim_start_matches(|c: char| c.is_ascii_digit()).to_string()
    };
    norm(a) == norm(b)
}

#[test]
fn heading_paths_name_each_heading_once() {
    let books = [
        "epub/Metamorphosis-jackson.epub",
        "epub/book2.epub",
        "epub/calibre-quick-start-eng.epub",
        "epub/fatbf.epub",
        "epub/live-manual.en.epub",
        "multilingual/live-manual.de.epub",
        "multilingual/live-manual.ja.epub",
    ];
    for book in books {
        let doc = load(book);
        for s in &doc.sections {
            let p = &s.heading_path;
            assert!(!p.windows(2).any(|w| same_heading(&w[0], &w[1])), "{book}: a heading repeats in {p:?}");
            assert!(
                p.len() < 2 || !same_heading(&p[0], &doc.title),
                "{book}: the title {:?} heads {p:?}",
                doc.title
            );
        }
    }
    // The Japanese manual's chapters keep their numbered titles once, under no book title.
    let ja = load("multilingual/live-manual.ja.epub");
    let proxy = ja
        .sections
        .iter()
        .find(|s| s.heading_path.last().is_some_and(|h| h == "8.4.2 APTでのプロキシの利用"));
    assert_eq!(
        proxy.map(|s| s.heading_path.clone()).unwrap_or_default(),
        vec!["8. インストールするパッケージの独自化", "8.4 ビルド時のAPT設定", "8.4.2 APTでのプロキシの利用"]
    );
}

#[test]
fn metadata_and_untitled_chapters_of_a_built_book() {
    let c1 = b"<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title/></head>\
        <body><h1>Opening</h1><p>First <a id=\"n1\"/>paragraph.</p><ul><li>one</li><li>two</li></ul></body></html>";
    let c2 = b"<html><body><p>Second file, no heading.</p><table><tr><td>a</td><td>b</td></tr></table></body></html>";
    let doc = lore_ingest::epub::load(&tiny_epub(c1, c2), "tiny.epub").unwrap();
    assert_eq!(doc.title, "Tiny");
    assert_eq!(doc.authors, vec!["A. Author"]);
    assert_eq!(doc.language.as_deref(), Some("fr"));
    assert_eq!(doc.published.as_deref(), Some("2001-02-03"));
    assert_eq!(doc.sections.len(), 2);
    assert_eq!(doc.sections[0].heading_path, vec!["Opening"]);
    assert_eq!(doc.sections[0].text, "First paragraph.\n\n- one\n- two");
    assert_eq!(doc.sections[1].heading_path, vec!["Opening"], "a file outside the TOC inherits");
    assert_eq!(doc.sections[1].text, "Second file, no heading.\n\na | b");
    assert_eq!(doc.sections[1].anchor.as_deref(), Some("OEBPS/c2.xhtml"));
}

#[test]
fn deeply_nested_chapter_loads() {
    let n = 100_000;
    let deep =
        format!("<html><body>{}<p>Deep inside.</p>{}</body></html>", "<div>".repeat(n), "</div>".repeat(n));
    let doc = lore_ingest::epub::load(&tiny_epub(deep.as_bytes(), b"<p>x</p>"), "deep.epub").unwrap();
    assert!(doc.sections.iter().any(|s| s.text.contains("Deep inside.")));
}

#[test]
fn broken_archives_are_corrupt_errors() {
    let good = std::fs::read(data("docs/epub/Metamorphosis-jackson.epub")).unwrap();
    assert_corrupt(lore_ingest::epub::load(&good[..good.len() / 2], "half.epub").unwrap_err(), "truncated");
    let junk: Vec<u8> = (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    assert_corrupt(lore_ingest::epub::load(&junk, "junk.epub").unwrap_err(), "random bytes");
    let no_opf = zip_of(&[("mimetype", b"application/epub+zip"), ("OEBPS/c1.xhtml", b"<p>hi</p>")]);
    assert_corrupt(lore_ingest::epub::load(&no_opf, "noopf.epub").unwrap_err(), "no OPF");
    let missing_opf = zip_of(&[("mimetype", b"application/epub+zip"), ("META-INF/container.xml", CONTAINER)]);
    assert_corrupt(
        lore_ingest::epub::load(&missing_opf, "missing.epub").unwrap_err(),
        "container names a missing OPF",
    );
    let bad_opf =
        zip_of(&[("META-INF/container.xml", CONTAINER), ("OEBPS/content.opf", b"<package><<<\xff\xfe")]);
    assert!(lore_ingest::epub::load(&bad_opf, "badopf.epub").is_err());
    assert_eq!(lore_ingest::epub::load(b"", "empty.epub").unwrap_err().reason_code(), "empty");
}

/// Damaged copies of a real book load or fail with a named reason: no panic escapes, and no
/// parser panics (which the guard would turn into an internal error) on any of them.
#[test]
fn damaged_copies_never_panic() {
    lore_ingest::guard::install_quiet_panic_hook();
    lore_ingest::guard::take_caught();
    let good = std::fs::read(data("docs/epub/Metamorphosis-jackson.epub")).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for round in 0..60 {
        let mut bytes = good.clone();
        for _ in 0..(1 + round % 8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state as usize) % bytes.len();
            bytes[at] = (state >> 32) as u8;
        }
        let outcome = lore_ingest::epub::load(&bytes, "damaged.epub");
        let caught = lore_ingest::guard::take_caught();
        assert!(caught.is_empty(), "round {round}: a parser panicked: {caught:?}");
        if let Err(err) = outcome {
            assert_ne!(err.reason_code(), "internal", "round {round}: {err}");
            assert!(err.to_string().starts_with("damaged.epub: "), "round {round}: {err}");
        }
    }
}

#[test]
fn zip_bomb_is_refused() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflate = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    w.start_file("META-INF/container.xml", deflate).unwrap();
    w.write_all(CONTAINER).unwrap();
    w.start_file("OEBPS/bomb.xhtml", deflate).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..260 {
        w.write_all(&zeros).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    assert!(bytes.len() < 2 << 20, "compressed to {} bytes", bytes.len());
    let err = lore_ingest::epub::load(&bytes, "bomb.epub").unwrap_err();
    assert_corrupt(err, "zip bomb");
}

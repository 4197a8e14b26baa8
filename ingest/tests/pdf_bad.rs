//! Broken, encrypted, odd and hostile PDFs: every file either loads with text or fails with an
//! error that names the file and a reason; nothing panics and nothing hangs. A panic of a
//! third-party parser that the guard caught (an internal error, for the file or one of its
//! pages) is a failure unless the file is listed in [`KNOWN_PARSER_PANICS`].
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lore_ingest::{IngestError, LoadOptions, load_path};

const BAD_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/bad/pdf-pypdf-tests");
const GOOD_PDF: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/docs/pdf/R-data.pdf");

/// Files of the pypdf set on which a third-party parser is known to panic, with where it panics
/// (the start of the caught panic's place). Each such panic loses a page, or the file when it is
/// the only page; lore's guard turns it into an internal error.
const KNOWN_PARSER_PANICS: &[(&str, &str)] = &[("issue-301.pdf", "pdf-extract-0.12.1/src/lib.rs")];

#[derive(Debug, Default)]
struct Tally {
    /// Files on which a parser panicked (caught by the guard), with the panics' details.
    panicked: Vec<(String, Vec<String>)>,
    loaded: Vec<String>,
    encrypted: Vec<String>,
    no_text: Vec<String>,
    corrupt: Vec<String>,
    other: Vec<String>,
}

/// Loads `path`, checking the outcome's shape, and files it in the tally.
fn check(path: &Path, tally: &mut Tally) -> Duration {
    let shown = path.display().to_string();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(|| load_path(path, &LoadOptions::default()));
    let took = started.elapsed();
    let caught = lore_ingest::guard::take_caught();
    if !caught.is_empty() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        tally.panicked.push((name, caught.iter().map(|c| c.detail()).collect()));
    }
    match outcome {
        Err(_) => panic!("{shown}: the loader panicked"),
        Ok(Ok(doc)) => {
            assert!(doc.has_text(), "{shown}: loaded without text");
            assert!(doc.page_count.is_some_and(|n| n >= 1), "{shown}: no page count");
            assert!(!doc.title.is_empty(), "{shown}: no title");
            for s in &doc.sections {
                assert_eq!(s.pages.first().map(|m| m.offset), Some(0), "{shown}: first page mark");
            }
            tally.loaded.push(name);
        }
        Ok(Err(err)) => {
            let message = err.to_string();
            assert!(message.starts_with(&format!("{shown}: ")), "error does not name the file: {message}");
            let reason = &message[shown.len() + 2..];
            assert!(reason.len() > 5, "{message}: no reason");
            assert!(!message.contains('\n'), "{message:?}: more than one line");
            match err {
                IngestError::Encrypted { .. } => tally.encrypted.push(name),
                IngestError::NoText { .. } => tally.no_text.push(format!("{name} ({reason})")),
                IngestError::Corrupt { format, .. } => {
                    assert_eq!(format, "PDF");
                    tally.corrupt.push(format!("{name} ({reason})"));
                }
                IngestError::Internal { parser, .. } => {
                    assert_eq!(parser, "PDF parser");
                    assert!(
                        tally.panicked.last().is_some_and(|(n, _)| *n == name),
                        "{message}: an internal error without a caught panic"
                    );
                    tally.other.push(format!("{name} ({reason})"));
                }
                _ => tally.other.push(format!("{name} ({reason})")),
            }
        }
    }
    took
}

#[test]
fn every_file_of_the_pypdf_test_set_loads_or_fails_cleanly() {
    lore_ingest::guard::install_quiet_panic_hook();
    lore_ingest::guard::take_caught();
    let mut files: Vec<PathBuf> = std::fs::read_dir(BAD_DIR)
        .unwrap_or_else(|e| panic!("{BAD_DIR}: {e}"))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 72);
    let mut tally = Tally::default();
    let started = Instant::now();
    let mut slowest = (Duration::ZERO, String::new());
    for path in &files {
        let took = check(path, &mut tally);
        if took > slowest.0 {
            slowest = (took, path.display().to_string());
        }
    }
    let total = started.elapsed();
    println!(
        "loaded {}, encrypted {}, no text {}, corrupt {}, other {}; {:.1} s for the folder, slowest {:.1} s ({})",
        tally.loaded.len(),
        tally.encrypted.len(),
        tally.no_text.len(),
        tally.corrupt.len(),
        tally.other.len(),
        total.as_secs_f64(),
        slowest.0.as_secs_f64(),
        slowest.1
    );
    println!("encrypted: {:?}", tally.encrypted);
    println!("no text: {:#?}", tally.no_text);
    println!("corrupt: {:#?}", tally.corrupt);
    println!("other: {:#?}", tally.other);
    println!("parser panics: {:#?}", tally.panicked);

    // Every caught parser panic is a known one, at the place it is known to happen.
    let panicked: Vec<&str> = tally.panicked.iter().map(|(n, _)| n.as_str()).collect();
    let known: Vec<&str> = KNOWN_PARSER_PANICS.iter().map(|(n, _)| *n).collect();
    assert_eq!(panicked, known, "files on which a parser panicked: {:#?}", tally.panicked);
    for ((name, details), (_, place)) in tally.panicked.iter().zip(KNOWN_PARSER_PANICS) {
        assert!(details.iter().all(|d| d.contains(&format!("(at {place}"))), "{name}: {details:?}");
    }

    // Files that open with the empty password load; those that need a user password do not.
    for name in ["r2-empty-password.pdf", "r4-owner-password.pdf", "crazyones.pdf", "unencrypted.pdf"] {
        assert!(tally.loaded.iter().any(|n| n == name), "{name} should load");
    }
    for name in ["r2-user-password.pdf", "r3-user-password.pdf", "r4-user-password.pdf"] {
        assert!(tally.encrypted.iter().any(|n| n == name), "{name} should be reported encrypted");
    }
    // Scanned pages (images, no text layer) are read by OCR: these tiny images hold no words.
    // Without tesseract the hint says how to install it.
    for name in ["imagemagick-CCITTFaxDecode.pdf", "imagemagick-lzw.pdf"] {
        let entry = tally
            .no_text
            .iter()
            .find(|n| n.starts_with(name))
            .unwrap_or_else(|| panic!("{name}: not no-text"));
        assert!(
            entry.contains("OCR found no words on its scanned page")
                || entry.contains("tesseract is not installed"),
            "{entry}"
        );
    }
    // Cross-reference tables lopdf cannot read are rebuilt by scanning for objects.
    for name in ["toy.pdf", "selenium-pypdf-issue-177.pdf"] {
        assert!(tally.loaded.iter().any(|n| n == name), "{name} should load after repair");
    }
    assert!(tally.loaded.len() >= 50, "only {} of 72 loaded", tally.loaded.len());
    assert!(total < Duration::from_secs(300), "the folder took {total:?}");
}

/// Deterministic pseudo-random bytes (xorshift64).
fn noise(len: usize, mut state: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

#[test]
fn empty_truncated_and_random_files_fail_cleanly() {
    lore_ingest::guard::install_quiet_panic_hook();
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(GOOD_PDF).unwrap();
    let mut with_header = b"%PDF-1.5\n".to_vec();
    with_header.extend(noise(50_000, 7));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.pdf", Vec::new(), "empty"),
        ("truncated.pdf", good[..good.len() * 3 / 10].to_vec(), ""),
        ("random.pdf", noise(100_000, 42), "corrupt"),
        ("random-with-header.pdf", with_header, "corrupt"),
        ("text.pdf", b"just some text, not a PDF at all\n".to_vec(), "corrupt"),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let shown = path.display().to_string();
        lore_ingest::guard::take_caught();
        let outcome = std::panic::catch_unwind(|| load_path(&path, &LoadOptions::default()));
        let result = outcome.unwrap_or_else(|_| panic!("{shown}: the loader panicked"));
        let caught = lore_ingest::guard::take_caught();
        assert!(caught.is_empty(), "{shown}: a parser panicked: {caught:?}");
        match result {
            Ok(doc) => {
                // A truncated file may still yield its first pages; then it must have text.
                assert!(expected.is_empty(), "{shown}: loaded, expected {expected}");
                assert!(doc.has_text());
                println!("{name}: loaded {} sections", doc.sections.len());
            }
            Err(err) => {
                let message = err.to_string();
                println!("{message}");
                assert!(message.starts_with(&format!("{shown}: ")), "{message}");
                if !expected.is_empty() {
                    assert_eq!(err.reason_code(), expected, "{message}");
                }
            }
        }
        // The loader itself, without the size checks in front of it.
        let direct = std::panic::catch_unwind(|| lore_ingest::pdf::load(&bytes, name));
        let direct = direct.unwrap_or_else(|_| panic!("{name}: pdf::load panicked"));
        if let Err(err) = direct {
            assert!(err.to_string().starts_with(&format!("{name}: ")));
        }
    }
}

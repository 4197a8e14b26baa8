//! `lore add` over the shared documents folder: every PDF, EPUB, HTML and text document is added,
//! unsupported files are reported as skipped, and a second add adds nothing.
//!
//! Embedding the whole folder (about 8,000 chunks) takes over 20 minutes on two cores, so CI adds
//! a copy of the folder that keeps its layout, every subfolder and every kind of file, and leaves
//! out most of the long books and chapters; `LORE_ADD_DOCS_FULL=1` adds the whole folder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lore_tests::rng::env_flag;
use lore_tests::{Lore, data};

/// Long documents left out of the CI copy: the second copy of *Metamorphosis*, the longest PDFs
/// and FAQ pages, and the translated manuals (the multilingual tests add those).
const LEFT_OUT: &[&str] = &[
    "epub/Metamorphosis-jackson.epub",
    "epub/live-manual.en.epub",
    "pdf/R-intro.pdf",
    "pdf/debian-reference.en.pdf",
    "html/python3.11-faq/programming.html",
    "html/python3.11-faq/design.html",
    "html/python3.11-faq/library.html",
    "multilingual/live-manual.de.epub",
    "multilingual/live-manual.ja.epub",
];

/// Subfolders of which the CI copy keeps only the `n` smallest files.
const THINNED: &[(&str, usize)] = &[("text/moby-dick", 6), ("html/debian-reference", 3)];

/// The folder to add: the shared docs folder itself, or (in CI) a copy of part of it in `tmp`.
fn docs_folder(tmp: &Path) -> PathBuf {
    let docs = data("docs");
    if env_flag("LORE_ADD_DOCS_FULL") {
        return docs;
    }
    let mut files: Vec<(String, u64, PathBuf)> = Vec::new();
    let mut stack = vec![docs.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(&docs).unwrap().to_string_lossy().replace('\\', "/");
                files.push((rel, std::fs::metadata(&path).unwrap().len(), path));
            }
        }
    }
    let mut kept: Vec<&(String, u64, PathBuf)> =
        files.iter().filter(|(rel, _, _)| !LEFT_OUT.contains(&rel.as_str())).collect();
    for (folder, n) in THINNED {
        let mut inside: Vec<&(String, u64, PathBuf)> =
            kept.iter().copied().filter(|(rel, _, _)| rel.starts_with(&format!("{folder}/"))).collect();
        inside.sort_by_key(|(rel, len, _)| (*len, rel.clone()));
        let dropped: Vec<String> = inside.iter().skip(*n).map(|(rel, _, _)| rel.clone()).collect();
        kept.retain(|(rel, _, _)| !dropped.contains(rel));
    }
    let copy = tmp.join("docs");
    for (rel, _, path) in kept {
        let target = copy.join(rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(path, &target).unwrap();
    }
    copy
}

/// The kind lore gives a file, by its extension, or `None` for files lore skips.
fn kind_of(path: &Path) -> Option<&'static str> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("pdf") => Some("pdf"),
        Some("epub") => Some("epub"),
        Some("html" | "htm") => Some("html"),
        Some("txt") => Some("text"),
        Some("md") => Some("markdown"),
        _ => None,
    }
}

/// Counts the files under `docs` that lore reads, by extension, walking the tree independently of
/// lore's own folder walker; files with the same content count once.
fn expected_documents(docs: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![docs.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Some(kind) = kind_of(&path) else { continue };
            // A file with the content of one already counted is kept once, as another path.
            if seen.insert((kind, std::fs::read(&path).unwrap())) {
                *counts.entry(kind.to_string()).or_insert(0) += 1;
            }
        }
    }
    counts
}

#[test]
fn adds_every_document_of_the_docs_folder_once() {
    let lore = Lore::new();
    let tmp = tempfile::tempdir().unwrap();
    let docs_dir = docs_folder(tmp.path());
    let first = lore.run(&["add", docs_dir.to_str().unwrap()]).ok();
    assert!(first.stdout.contains("Skipped"), "unsupported files are reported:\n{}", first.stdout);
    // The one page without text is a JavaScript redirect: it is named, with the reason.
    let errors: Vec<&str> = first.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "only the redirect page fails:\n{}", first.stderr);
    assert!(errors[0].contains("google_meta_refresh.html: no text"), "{}", errors[0]);

    let expected = expected_documents(&docs_dir);
    let listed = lore.docs();
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for d in &listed {
        *by_kind.entry(d["kind"].as_str().unwrap().to_string()).or_insert(0) += 1;
        assert!(d["chunks"].as_u64().unwrap() > 0, "no chunks for {}", d["source"]);
        assert!(!d["title"].as_str().unwrap().trim().is_empty(), "no title for {}", d["source"]);
    }
    let mut expected = expected;
    *expected.get_mut("html").unwrap() -= 1;
    assert_eq!(by_kind, expected, "documents by kind");
    let full = env_flag("LORE_ADD_DOCS_FULL");
    let (pdfs, epubs, pages) = if full { (4, 5, 50) } else { (2, 3, 30) };
    assert!(
        expected["pdf"] >= pdfs
            && expected["epub"] >= epubs
            && expected["html"] >= pages
            && expected["text"] >= 5,
        "{expected:?}"
    );

    let second = lore.run(&["add", docs_dir.to_str().unwrap()]).ok();
    assert!(second.stdout.contains("Nothing new"), "second add says so:\n{}", second.stdout);
    assert_eq!(lore.docs().len(), listed.len());
}

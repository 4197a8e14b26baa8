//! `lore add` over the shared documents folder: every PDF, EPUB, HTML and text document is added,
//! unsupported files are reported as skipped, and a second add adds nothing.

use std::collections::BTreeMap;

use lore_tests::{Lore, data};

/// Counts the files under `docs` that lore reads, by extension, walking the tree independently of
/// lore's own folder walker.
fn expected_documents() -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    let mut stack = vec![data("docs")];
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
            let kind = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref()
            {
                Some("pdf") => "pdf",
                Some("epub") => "epub",
                Some("html" | "htm") => "html",
                Some("txt") => "text",
                Some("md") => "markdown",
                _ => continue,
            };
            *counts.entry(kind.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn adds_every_document_of_the_docs_folder_once() {
    let lore = Lore::new();
    let docs_dir = data("docs");
    let first = lore.run(&["add", docs_dir.to_str().unwrap()]).ok();
    assert!(first.stdout.contains("Skipped"), "unsupported files are reported:\n{}", first.stdout);
    // The one page without text is a JavaScript redirect: it is named, with the reason.
    let errors: Vec<&str> = first.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "only the redirect page fails:\n{}", first.stderr);
    assert!(errors[0].contains("google_meta_refresh.html: no text"), "{}", errors[0]);

    let expected = expected_documents();
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
    assert!(expected["pdf"] == 4 && expected["epub"] >= 5 && expected["html"] >= 50, "{expected:?}");

    let second = lore.run(&["add", docs_dir.to_str().unwrap()]).ok();
    assert!(second.stdout.contains("Nothing new"), "second add says so:\n{}", second.stdout);
    assert_eq!(lore.docs().len(), listed.len());
}

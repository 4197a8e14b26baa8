//! Command-line behaviour of the `lore` binary that needs no documents.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn lore(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lore")).args(args).env("LORE_HOME", home).output().unwrap()
}

#[test]
fn ls_on_an_empty_library_says_so() {
    let home = tempfile::tempdir().unwrap();
    let out = lore(home.path(), &["ls"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("The library is empty"));
    let out = lore(home.path(), &["ls", "--json"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
}

#[test]
fn add_of_nothing_readable_fails_with_one_line_per_item() {
    let home = tempfile::tempdir().unwrap();
    let out = lore(home.path(), &["add", "/nonexistent/book.pdf"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("/nonexistent/book.pdf"), "{err}");
}

#[test]
fn show_of_an_unknown_document_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let doc = home.path().join("note.md");
    std::fs::write(&doc, "# A note\n\nSome words about lore.").unwrap();
    assert!(lore(home.path(), &["add", doc.to_str().unwrap()]).status.success());
    let out = lore(home.path(), &["show", "no such thing"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no document matches"));
}

/// A PDF on which pdf-extract panics (from the fuzz corpus) is one error line naming it as an
/// internal error to report, not a damaged file; `--verbose` adds the panic's message and place
/// on a note line; the panic itself is never printed by the default hook.
#[test]
fn a_parser_panic_is_an_internal_error_and_verbose_shows_it() {
    let home = tempfile::tempdir().unwrap();
    let pdf = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ingest/tests/fuzz_regressions/pdf/missing-object-reference.pdf"
    );
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("parser-panics.pdf");
    std::fs::copy(pdf, &file).unwrap();
    let file = file.to_str().unwrap();

    // A new library: the file is read twice (sampled for its language, then added), its panic
    // shown once.
    let out = lore(home.path(), &["--verbose", "add", file]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{err}");
    let notes: Vec<&str> = err.lines().filter(|l| l.starts_with("note:") && l.contains("panicked")).collect();
    assert_eq!(notes.len(), 1, "{err}");
    assert!(
        notes[0].starts_with(&format!(
            "note: {file}: the PDF parser panicked: missing object reference: ObjectNotFound("
        )) && notes[0].contains("(at pdf-extract-0.12.1/src/lib.rs:177:"),
        "{err}"
    );

    let out = lore(home.path(), &["add", file]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked at"), "the hook printed the panic:\n{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(
        lines,
        [format!(
            "error: {file}: internal error while reading it (PDF parser): please report it (--verbose shows the details)"
        )],
        "{err}"
    );
    assert!(!err.lines().any(|l| l.starts_with("note:") && l.contains("panicked")), "{err}");
}
